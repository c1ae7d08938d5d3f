//! The experiment report: `report.md` with its tables, `results.csv` and `results.json`, beside
//! the figures the analyses wrote. Statements in the report are computed from the numbers (which
//! row wins, by how much); what they mean at this data size is for the reader.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::Result;
use crate::io::json::write_json;
use crate::study::analyses::Extras;
use crate::study::experiment::{Experiment, Group, Row, csv};

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn suffix_table(rows: &[&Row]) -> String {
    let mut s = String::from(
        "| run | classifier | fed from | model | parameters | state acc % | 39-phone acc % | PER % | train s |\n|---|---|---|---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let (x, a) = (&r.result, &r.result.about);
        let _ = writeln!(
            s,
            "| {} | {} | `{}` | {} | {} | {} | {} | {} | {:.1} |",
            x.name,
            a.kind.name().to_uppercase(),
            a.from,
            a.spec,
            a.params,
            pct(x.state_accuracy),
            pct(x.phone_accuracy),
            x.per.map_or("-".into(), pct),
            a.train_seconds
        );
    }
    s
}

fn depth_table(rows: &[Row]) -> String {
    let mut s = String::from(
        "| hidden layers L | deep net | parameters | state acc % | 39-phone acc % | matched 1-layer net | parameters | state acc % | 39-phone acc % |\n|---:|---|---:|---:|---:|---|---:|---:|---:|\n",
    );
    for d in rows.iter().filter(|r| r.group == Group::Deep) {
        let sh = rows
            .iter()
            .find(|r| r.group == Group::Shallow && r.layers == d.layers);
        let (da, dr) = (&d.result.about, &d.result);
        let shallow = sh.map_or("| – | – | – | – |".to_string(), |s| {
            format!(
                "| {} | {} | {} | {} |",
                s.result.about.spec,
                s.result.about.params,
                pct(s.result.state_accuracy),
                pct(s.result.phone_accuracy)
            )
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} {}",
            d.layers,
            da.spec,
            da.params,
            pct(dr.state_accuracy),
            pct(dr.phone_accuracy),
            shallow
        );
    }
    s
}

/// Write report.md, results.csv and results.json into `out`.
pub fn write(
    out: &Path,
    exp: &Experiment,
    corpus: &str,
    rows: &[Row],
    extras: &Extras,
) -> Result<()> {
    let mut md = format!("# {}\n\n", exp.name);
    if !exp.description.is_empty() {
        let _ = writeln!(md, "{}\n", exp.description.trim());
    }
    let first = rows.first().map(|r| &r.result);
    let _ = writeln!(
        md,
        "Corpus: `{corpus}`. Targets: {} tied states (decision tree on MFCC + Δ + ΔΔ of the training \
         split), {} training frames, {} test frames. Accuracies are per frame on the test speakers.\n",
        first.map_or(0, |r| r.about.tied_states),
        first.map_or(0, |r| r.about.train_frames),
        first.map_or(0, |r| r.test_frames),
    );

    let suffix: Vec<&Row> = rows.iter().filter(|r| r.group == Group::Suffix).collect();
    if !suffix.is_empty() {
        md.push_str("## Production line vs learned suffixes\n\n");
        md.push_str(
            "The GMM sits at the end of the hand-crafted chain; each DNN replaces every box after the stage it is fed from.\n\n",
        );
        md.push_str(&suffix_table(&suffix));
        if let Some(best) = suffix
            .iter()
            .max_by(|a, b| a.result.phone_accuracy.total_cmp(&b.result.phone_accuracy))
        {
            let _ = writeln!(
                md,
                "\nBest 39-phone frame accuracy: **{}** ({} %).\n",
                best.result.name,
                pct(best.result.phone_accuracy)
            );
        }
    }

    if rows.iter().any(|r| r.group == Group::Deep) {
        md.push_str("## Deep and thin vs shallow and fat, at equal parameters\n\n");
        md.push_str(&depth_table(rows));
        let wins = rows
            .iter()
            .filter(|d| d.group == Group::Deep)
            .filter_map(|d| {
                rows.iter()
                    .find(|s| s.group == Group::Shallow && s.layers == d.layers)
                    .map(|s| (d, s))
            })
            .map(|(d, s)| d.result.state_accuracy > s.result.state_accuracy)
            .collect::<Vec<_>>();
        if !wins.is_empty() {
            let _ = writeln!(
                md,
                "\nThe deep net beats its matched one-hidden-layer net on tied-state accuracy in {} of {} sizes.\n",
                wins.iter().filter(|w| **w).count(),
                wins.len()
            );
        }
    }

    if let Some((run, k, scores)) = &extras.hidden {
        md.push_str("## Hidden layers by speaker\n\n");
        let _ = writeln!(
            md,
            "Activations of `{run}` for the sentences every speaker says (TIMIT's SA1 and SA2). \
             Per layer, {k}-NN over all their labelled frames, each frame's neighbours taken only from \
             *other* utterances (frames of the same utterance share input samples): speaker \
             identification among frames of the same phone (chance ≈ 1 / speakers; lower = speakers \
             more mixed) and 39-phone identification among all frames (higher = more phonetic).\n"
        );
        md.push_str("| layer | units | speaker k-NN % | phone k-NN % |\n|---:|---:|---:|---:|\n");
        for s in scores {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                if s.layer == 0 {
                    "input".to_string()
                } else {
                    s.layer.to_string()
                },
                s.dim,
                pct(s.speaker_knn),
                pct(s.phone_knn)
            );
        }
        md.push('\n');
    }

    if !extras.figures.is_empty() {
        md.push_str("## Figures\n\n");
        for (file, caption) in &extras.figures {
            let _ = writeln!(md, "![{caption}]({file})\n\n*{caption}*\n");
        }
    }
    for n in &extras.notes {
        let _ = writeln!(md, "{n}\n");
    }

    crate::io::atomic::write_bytes(&out.join("report.md"), md.as_bytes())?;
    crate::io::atomic::write_bytes(&out.join("results.csv"), csv(rows).as_bytes())?;
    write_json(&out.join("results.json"), &rows)
}
