//! The experiment report: `report.md` with its tables, `results.csv` and `results.json`, beside
//! the figures the analyses wrote. Statements in the report are computed from the numbers (which
//! row wins, by how much); what they mean at this data size is for the reader.

use std::fmt::Write as _;
use std::path::Path;

use crate::corpus::Corpus;
use crate::error::Result;
use crate::io::json::write_json;
use crate::model::ModelKind;
use crate::study::analyses::{Extras, HiddenSummary};
use crate::study::claims::{self, Cut};
use crate::study::experiment::{Experiment, Group, Row, csv};
use crate::study::hidden::LayerScore;
use crate::study::seeds::{Stat, Summary, summarise};
use crate::study::vowels::{VOWEL_FORMANTS, VowelReport};

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

/// PER at the default decoding settings / at the best point of the decoding grid.
fn per_of(r: &Summary) -> String {
    let per = r.per.as_ref().map_or("-".into(), Stat::pct);
    match &r.per_tuned {
        Some(t) => format!("{per} / {}", t.pct()),
        None => per,
    }
}

fn kept_of(r: &Summary) -> String {
    if r.kept.is_empty() {
        return "-".into();
    }
    r.kept
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn suffix_table(rows: &[&Summary]) -> String {
    let mut s = String::from(
        "| run | classifier | fed from | model | parameters | seeds | state acc % | 39-phone acc % | PER % (default / grid) | epoch kept | train s |\n|---|---|---|---|---:|---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | `{}` | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
            r.run,
            r.kind.name().to_uppercase(),
            r.from,
            r.spec,
            r.params,
            r.seeds_text(),
            r.state_accuracy.pct(),
            r.phone_accuracy.pct(),
            per_of(r),
            kept_of(r),
            r.train_seconds.mean
        );
    }
    s
}

fn depth_table(runs: &[Summary]) -> String {
    let mut s = String::from(
        "| hidden layers L | deep net | parameters | state acc % | 39-phone acc % | PER % (default / grid) | matched 1-layer net | parameters | state acc % | 39-phone acc % | PER % (default / grid) |\n|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|\n",
    );
    for d in runs.iter().filter(|r| r.group == Group::Deep) {
        let sh = runs
            .iter()
            .find(|r| r.group == Group::Shallow && r.layers == d.layers);
        let shallow = sh.map_or("| – | – | – | – | – |".to_string(), |s| {
            format!(
                "| {} | {} | {} | {} | {} |",
                s.spec,
                s.params,
                s.state_accuracy.pct(),
                s.phone_accuracy.pct(),
                per_of(s)
            )
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} {}",
            d.layers,
            d.spec,
            d.params,
            d.state_accuracy.pct(),
            d.phone_accuracy.pct(),
            per_of(d),
            shallow
        );
    }
    for w in runs.iter().filter(|r| r.group == Group::Wide) {
        let _ = writeln!(
            s,
            "| 1 (much wider) | {} | {} | {} | {} | {} | | | | | |",
            w.spec,
            w.params,
            w.state_accuracy.pct(),
            w.phone_accuracy.pct(),
            per_of(w),
        );
    }
    s
}

fn curve_table(runs: &[Summary]) -> String {
    let mut s = String::from(
        "| share of training speakers | training frames (mean) | deep net | state acc % | 39-phone acc % | matched 1-layer net | state acc % | 39-phone acc % | deep − shallow (state acc, points) |\n|---:|---:|---|---:|---:|---|---:|---:|---:|\n",
    );
    for d in runs.iter().filter(|r| r.group == Group::CurveDeep) {
        let sh = runs
            .iter()
            .find(|r| r.group == Group::CurveShallow && r.fraction == d.fraction);
        let _ = writeln!(
            s,
            "| {:.0} % | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
            100.0 * d.fraction,
            d.train_frames.mean,
            d.spec,
            d.state_accuracy.pct(),
            d.phone_accuracy.pct(),
            sh.map_or("–".into(), |s| s.spec.clone()),
            sh.map_or("–".into(), |s| s.state_accuracy.pct()),
            sh.map_or("–".into(), |s| s.phone_accuracy.pct()),
            sh.map_or("–".into(), |s| format!(
                "{:+.1}",
                100.0 * (d.state_accuracy.mean - s.state_accuracy.mean)
            )),
        );
    }
    s
}

/// How many of the matched pairs the deep net wins, by mean and by more than both sds.
fn wins_sentence(runs: &[Summary], deep: Group, shallow: Group, what: &str) -> Option<String> {
    let pairs: Vec<(&Summary, &Summary)> = runs
        .iter()
        .filter(|d| d.group == deep)
        .filter_map(|d| {
            runs.iter()
                .find(|s| s.group == shallow && s.layers == d.layers && s.fraction == d.fraction)
                .map(|s| (d, s))
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let by_mean = pairs
        .iter()
        .filter(|(d, s)| d.state_accuracy.mean > s.state_accuracy.mean)
        .count();
    let clear = pairs
        .iter()
        .filter(|(d, s)| {
            d.state_accuracy.mean - s.state_accuracy.mean
                > d.state_accuracy.sd + s.state_accuracy.sd
        })
        .count();
    let n = pairs[0].0.seeds.len();
    Some(format!(
        "The deep net's mean tied-state accuracy is above its matched one-hidden-layer net's in {by_mean} of {} {what}; \
         by more than the two standard deviations added, in {clear}{}.",
        pairs.len(),
        if n > 1 {
            format!(" (n = {n} seeds each)")
        } else {
            " (one seed each: no spread to compare with)".to_string()
        }
    ))
}

/// Sentences every speaker of `corpus` says, with their text where the corpus has it.
fn common_sentences(corpus: &Corpus) -> Vec<(String, Option<String>)> {
    let speakers = corpus.speakers();
    corpus
        .sentences()
        .into_iter()
        .filter(|s| {
            speakers.iter().all(|sp| {
                corpus
                    .utterances
                    .iter()
                    .any(|u| u.speaker == *sp && u.sentence == *s)
            })
        })
        .map(|s| {
            let text = corpus
                .utterances
                .iter()
                .find(|u| u.sentence == s && u.text.is_some())
                .and_then(|u| u.text.clone());
            (s.to_string(), text)
        })
        .collect()
}

fn quoted(sentences: &[(String, Option<String>)]) -> String {
    sentences
        .iter()
        .map(|(id, text)| match text {
            Some(t) => format!("`{id}` (\"{}\")", t.trim()),
            None => format!("`{id}`"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the corpus is: synthetic (the embedded demo corpus) or not, its size and its sentences.
fn corpus_paragraph(corpus: &Corpus) -> String {
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let demo = canon(&corpus.root).is_some_and(|r| Some(r) == canon(&Corpus::demo_dir()));
    let common = common_sentences(corpus);
    let mut s = String::new();
    if demo {
        let _ = writeln!(
            s,
            "**Synthetic speech.** The corpus is asrpipe's embedded demo corpus (`{}`): its \
             speakers are speech synthesisers with altered duration, pitch and vocal-tract warp \
             (see its README.md), not people. The numbers below show the tool at work on it; they \
             say nothing of how well a recogniser hears people.\n",
            corpus.root.display()
        );
    }
    let _ = writeln!(
        s,
        "Corpus `{}`: {} speakers, {} utterances, {} distinct sentences; said by every speaker: {}.\n",
        corpus.root.display(),
        corpus.speakers().len(),
        corpus.utterances.len(),
        corpus.sentences().len(),
        if common.is_empty() {
            "none".to_string()
        } else {
            quoted(&common)
        }
    );
    s
}

fn layer_row(md: &mut String, network: &str, s: &LayerScore) {
    let _ = writeln!(
        md,
        "| {network} | {} | {} | {} | {} ± {} | {} | {} | {} | {} |",
        if s.layer == 0 {
            "input".to_string()
        } else {
            s.layer.to_string()
        },
        s.dim,
        pct(s.speaker_knn.accuracy),
        pct(s.speaker_knn.chance),
        pct(s.speaker_knn.chance_sd),
        pct(s.speaker_probe.accuracy),
        pct(s.speaker_probe.chance),
        s.phone_knn.as_ref().map_or("-".into(), |p| pct(p.accuracy)),
        s.phone_knn.as_ref().map_or("-".into(), |p| pct(p.chance)),
    );
}

fn hidden_section(h: &HiddenSummary, corpus: &Corpus) -> String {
    let o = &h.options;
    let mut md = format!(
        "## Hidden layers by speaker: `{}` (pipeline `{}`)\n\n",
        h.run, h.pipeline
    );
    let texts: Vec<(String, Option<String>)> = o
        .sentences
        .iter()
        .flatten()
        .map(|id| {
            let text = corpus
                .utterances
                .iter()
                .find(|u| u.sentence.eq_ignore_ascii_case(id) && u.text.is_some())
                .and_then(|u| u.text.clone());
            (id.clone(), text)
        })
        .collect();
    let scored = h.scores.first();
    let _ = writeln!(
        md,
        "Activations of `{}` for the sentences {} said by {} speakers ({} labelled frames). Per \
         layer, three measures, each beside its chance level, which is computed, not assumed:\n\n\
         - **speaker k-NN**: {}-NN speaker identification where every frame's candidates are the \
         frames of the *other* sentence(s){}, so that every speaker offers the same text \
         ({} frames have candidates). Chance: the expected accuracy of the same vote when the \
         neighbours are drawn at random from each frame's candidates (exact, hypergeometric), \
         ± its standard deviation over frames taken as independent.\n\
         - **speaker probe**: multinomial logistic regression on standardised activations (L2 \
         {}, {} full-batch gradient steps), trained on all but one sentence and tested on the \
         held-out one, each in turn ({} test frames). Chance: always guessing the most frequent \
         speaker of the test frames.\n\
         - **phone k-NN**: {}-NN 39-phone identification with candidates from other \
         utterances (higher = more phonetic); chance as for the speaker k-NN.\n\n\
         Rows *random start* are the same network shape at its initial weights (seed {}, the \
         training seed) with the same input normalisation: what the layers do before training.\n",
        h.run,
        quoted(&texts),
        h.speakers,
        scored.map_or(0, |s| s
            .phone_knn
            .as_ref()
            .map_or(s.speaker_knn.scored, |p| p.scored)),
        o.k,
        if o.same_phone {
            " of the same phone"
        } else {
            ""
        },
        scored.map_or(0, |s| s.speaker_knn.scored),
        o.probe.l2,
        o.probe.iterations,
        scored.map_or(0, |s| s.speaker_probe.tested),
        o.k,
        h.control_seed,
    );
    md.push_str(
        "| network | layer | units | speaker k-NN % | chance % | speaker probe % | chance % | phone k-NN % | chance % |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for s in &h.scores {
        layer_row(&mut md, "trained", s);
    }
    for s in &h.control {
        layer_row(&mut md, "random start", s);
    }
    md.push('\n');
    md
}

fn vowel_section(run: &str, v: &VowelReport) -> String {
    let mut md = String::from("## Vowels layer by layer (the articulation claim)\n\n");
    let counts: Vec<String> = VOWEL_FORMANTS
        .iter()
        .zip(&v.frames)
        .map(|(f, n)| format!("{} {n}", f.0))
        .collect();
    let _ = writeln!(
        md,
        "Vowel frames of the test speakers ({}) through `{run}`: {}-NN vowel identification with \
         candidates from other utterances, beside its chance level (computed from the candidates, \
         as for the phone k-NN) and the same network at its random start (seed {}). `vowels.png` \
         sets each layer's t-SNE map beside the F1/F2 places of the vowels (Hillenbrand et al. \
         1995).\n",
        counts.join(", "),
        v.k,
        v.control_seed
    );
    md.push_str("| layer | units | vowel k-NN % | chance % | random start % |\n|---:|---:|---:|---:|---:|\n");
    for s in &v.scores {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} ± {} | {} |",
            if s.layer == 0 {
                "input".to_string()
            } else {
                s.layer.to_string()
            },
            s.dim,
            pct(s.trained.accuracy),
            pct(s.trained.chance),
            pct(s.trained.chance_sd),
            pct(s.random_start.accuracy)
        );
    }
    md.push('\n');
    md
}

/// The note on the two PERs (default settings and the tuning grid's best, and where that was
/// chosen), when any run was decoded over the grid.
fn per_note(runs: &[Summary]) -> Option<String> {
    if !runs.iter().any(|r| r.per_tuned.is_some()) {
        return None;
    }
    let test_chosen = runs
        .iter()
        .any(|r| r.per_tuned.is_some() && r.tuned_on != Some(crate::corpus::Split::Dev));
    let mut md = String::new();
    let _ = writeln!(
        md,
        "PER is given twice. *Default*: decoded with the same settings for every model, fixed \
         before any result (the pipeline's `hmm.decode`). *Grid*: at the best of the `hmm.tune` \
         grid of acoustic scales and insertion penalties for that model, so that a GMM's peaked \
         likelihoods and a DNN's flatter hybrid scores are each weighed against the phone \
         bigram at their own best balance (`tuning.tsv` in each run directory). {}\n",
        if test_chosen {
            "This corpus has no dev speakers, so the grid point is the best on the test \
             speakers themselves: optimistic, as Kaldi's published TIMIT figures are."
        } else {
            "The grid point is chosen on the dev speakers and scored on test."
        }
    );
    Some(md)
}

/// The lecture's claims one by one, judged from the runs and analyses (see
/// [`crate::study::claims`] for the rules), and the PER anchors.
fn claims_section(
    exp: &Experiment,
    runs: &[Summary],
    extras: &Extras,
    train_frames: usize,
) -> String {
    // What each listed run's DNN reads: the planned pipelines hold the learned front ends.
    let plan = exp.plan().unwrap_or_default();
    let cut = |r: &Summary| {
        let front = plan
            .iter()
            .find(|p| p.run == r.run)
            .and_then(|p| p.pipeline.classifier.as_ref())
            .and_then(|c| c.dnn.as_ref())
            .map(|d| &d.front);
        Cut::of(&r.from, front)
    };
    let mut md = String::from("## Claim by claim\n\n");
    let _ = writeln!(md, "{}\n", claims::RULE);
    if let Some(note) = per_note(runs) {
        md.push_str(&note);
    }
    let mut n = 0;
    let mut heading = |md: &mut String, title: &str| {
        n += 1;
        let _ = writeln!(md, "### {n}. {title}\n");
    };
    let suffix = claims::suffix_pairs(runs, &cut);
    if !suffix.is_empty() {
        heading(&mut md, "A learned suffix beats the production line");
        md.push_str(
            "Each DNN replaces every box after the stage it reads; B is the GMM with the best \
             mean 39-phone accuracy among the listed runs.\n\n",
        );
        md.push_str(&claims::pair_table(&suffix));
    }
    let depth = claims::depth_pairs(runs);
    if !depth.is_empty() {
        heading(
            &mut md,
            "Deep beats shallow at equal parameters, and beats a much wider layer",
        );
        md.push_str(&claims::pair_table(&depth));
    }
    if let Some(c) = claims::curve_claim(runs) {
        heading(
            &mut md,
            "The deep − shallow gap grows as the training data shrink",
        );
        md.push_str(&c);
        md.push('\n');
    }
    for h in &extras.hidden {
        if let Some(c) = claims::hidden_claim(&h.scores, &h.control) {
            heading(
                &mut md,
                &format!(
                    "Hidden layers: speaker measures fall, phone measures rise (`{}`, `{}`)",
                    h.run, h.pipeline
                ),
            );
            let _ = writeln!(
                md,
                "Frame scores of one network (seed {}) over the frames of the analysed sentences; \
                 noise: twice the binomial standard error of the difference, frames taken as \
                 independent (neighbouring frames are not, so this rule is lenient). The random \
                 start is the same network shape before training.\n",
                h.control_seed
            );
            md.push_str(&c);
        }
    }
    if let Some((run, v)) = &extras.vowels
        && let Some(c) = claims::vowel_claim(v)
    {
        heading(
            &mut md,
            &format!("Vowels separate layer by layer (`{run}`)"),
        );
        md.push_str(&c);
    }
    let fronts = claims::front_pairs(runs, &cut);
    if !fronts.is_empty() {
        heading(
            &mut md,
            "Learned filters: a constrained front end matches the fixed one",
        );
        md.push_str(
            "The filter plots (`filters-*.png`) show what the filters became; here, what they \
             are worth. A within-noise verdict against the fixed chain is what the claim \
             (learned filters do as well as mel) predicts.\n\n",
        );
        md.push_str(&claims::pair_table(&fronts));
    }
    if runs.iter().any(|r| r.per.is_some()) {
        heading(
            &mut md,
            "Phone error rate beside published full-TIMIT systems",
        );
        md.push_str(&claims::anchor_section(runs, train_frames));
    }
    md
}

/// The runs whose seeds all gave the same scores, and why: a "± 0.0" there is exact, not a small
/// spread, and the claims' noise then comes from the other arm alone.
fn repeated_seeds(runs: &[Summary]) -> String {
    // The mean of equal values can differ from them in the last bit, so "no spread" is a bound.
    let none = |s: &Stat| s.sd < 1e-12;
    let exact = |s: &Option<Stat>| s.as_ref().is_none_or(none);
    let same: Vec<&Summary> = runs
        .iter()
        .filter(|r| {
            r.seeds.len() > 1 && none(&r.state_accuracy) && none(&r.phone_accuracy) && exact(&r.per)
        })
        .collect();
    if same.is_empty() {
        return String::new();
    }
    let names: Vec<String> = same.iter().map(|r| format!("`{}`", r.run)).collect();
    let why = if same.iter().all(|r| r.kind == ModelKind::Gmm) {
        "a GMM initialised by splitting (`init: split`, the default: HTK's mixing up from one \
         Gaussian per state, the heaviest Gaussian split along its widest dimension) makes no \
         random choice, so its seeds repeat one model"
    } else {
        "their training made no random choice that changed the scores"
    };
    format!(
        "Every seed of {} gave the same scores: {why}. Their ± 0.0 is exact, and in the claims \
         the noise then comes from the other run's seeds alone.\n\n",
        names.join(", ")
    )
}

/// The result tables: production line vs learned suffixes, deep vs shallow, learning curves
/// (each where the experiment has such runs).
fn tables_section(runs: &[Summary]) -> String {
    let mut md = String::new();
    let suffix: Vec<&Summary> = runs.iter().filter(|r| r.group == Group::Suffix).collect();
    if !suffix.is_empty() {
        md.push_str("## Production line vs learned suffixes\n\n");
        md.push_str(
            "The GMM sits at the end of the hand-crafted chain; each DNN replaces every box after the stage it is fed from.\n\n",
        );
        md.push_str(&suffix_table(&suffix));
        if let Some(best) = suffix
            .iter()
            .max_by(|a, b| a.phone_accuracy.mean.total_cmp(&b.phone_accuracy.mean))
        {
            let _ = writeln!(
                md,
                "\nBest mean 39-phone frame accuracy: **{}** ({} %).\n",
                best.run,
                best.phone_accuracy.pct()
            );
        }
    }

    if runs.iter().any(|r| r.group == Group::Deep) {
        md.push_str("## Deep and thin vs shallow and fat, at equal parameters\n\n");
        md.push_str(&depth_table(runs));
        if let Some(w) = wins_sentence(runs, Group::Deep, Group::Shallow, "sizes") {
            let _ = writeln!(md, "\n{w}\n");
        }
    }

    if runs.iter().any(|r| r.group == Group::CurveDeep) {
        md.push_str("## Learning curves: does depth need less data?\n\n");
        md.push_str(
            "The same deep net and its matched one-hidden-layer net, trained on shares of the \
             training speakers (whole speakers, drawn with each seed, genders in proportion); \
             tied-state targets and test speakers are the same for every point. See \
             `learning-curve.png`.\n\n",
        );
        md.push_str(&curve_table(runs));
        if let Some(w) = wins_sentence(
            runs,
            Group::CurveDeep,
            Group::CurveShallow,
            "training-data sizes",
        ) {
            let _ = writeln!(md, "\n{w}\n");
        }
    }
    md
}

/// Write report.md, results.csv and results.json into `out`.
pub fn write(
    out: &Path,
    exp: &Experiment,
    corpus: &Corpus,
    rows: &[Row],
    extras: &Extras,
) -> Result<()> {
    let mut md = format!("# {}\n\n", exp.name);
    md.push_str(&corpus_paragraph(corpus));
    if !exp.description.is_empty() {
        let _ = writeln!(md, "{}\n", exp.description.trim());
    }
    let first = rows.first().map(|r| &r.result);
    let _ = writeln!(
        md,
        "Targets: {} tied states (decision tree on MFCC + Δ + ΔΔ of the training \
         split), {} training frames, {} test frames. Accuracies are per frame on the test speakers.\n",
        first.map_or(0, |r| r.about.tied_states),
        first.map_or(0, |r| r.about.train_frames),
        first.map_or(0, |r| r.test_frames),
    );

    let runs = summarise(rows);
    if runs.iter().any(|r| r.seeds.len() > 1) {
        md.push_str(
            "Runs trained once per seed show the mean ± the sample standard deviation over \
             their seeds (n and the seeds in the table); `results.csv` has one row per seed.\n\n",
        );
        md.push_str(&repeated_seeds(&runs));
    }
    md.push_str(&claims_section(
        exp,
        &runs,
        extras,
        first.map_or(0, |r| r.about.train_frames),
    ));
    md.push_str(&tables_section(&runs));
    for h in &extras.hidden {
        md.push_str(&hidden_section(h, corpus));
    }

    if let Some((run, v)) = &extras.vowels {
        md.push_str(&vowel_section(run, v));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_report_says_its_speech_is_synthetic_and_names_its_sentences() {
        let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
        let p = corpus_paragraph(&corpus);
        assert!(p.starts_with("**Synthetic speech.**"), "{p}");
        assert!(p.contains("`sa1` (\"She had your dark suit in greasy wash water all year.\")"));
        assert!(p.contains("`sa2`"));
        assert!(!p.contains("TIMIT"));
    }

    #[test]
    fn a_real_corpus_is_not_called_synthetic() {
        let Some(dir) = std::env::var_os("ASRPIPE_TIMIT_SAMPLE") else {
            return;
        };
        let corpus = Corpus::open(Path::new(&dir)).unwrap();
        let p = corpus_paragraph(&corpus);
        assert!(!p.contains("Synthetic"), "{p}");
        assert!(p.contains("`sa1`") && p.contains("`sa2`"), "{p}");
    }

    fn summary(run: &str, kind: ModelKind, accuracies: &[f64]) -> Summary {
        let stat = Stat::of(accuracies).unwrap();
        Summary {
            run: run.into(),
            group: Group::Suffix,
            layers: 0,
            fraction: 1.0,
            kind,
            from: "dct".into(),
            spec: String::new(),
            params: 0,
            seeds: (1..=accuracies.len() as u64).collect(),
            kept: Vec::new(),
            state_accuracy: stat,
            phone_accuracy: stat,
            per: None,
            per_tuned: None,
            tuned_on: None,
            train_frames: stat,
            train_seconds: stat,
        }
    }

    #[test]
    fn runs_whose_seeds_repeat_one_model_are_named_with_the_reason() {
        let gmm = summary("gmm-mfcc", ModelKind::Gmm, &[0.1, 0.1, 0.1]);
        let dnn = summary("dnn-log", ModelKind::Dnn, &[0.5, 0.52, 0.49]);
        let one = summary("gmm-once", ModelKind::Gmm, &[0.5]);
        let text = repeated_seeds(&[gmm.clone(), dnn.clone(), one]);
        assert!(
            text.starts_with("Every seed of `gmm-mfcc` gave the same scores: a GMM"),
            "{text}"
        );
        assert!(
            !text.contains("dnn-log") && !text.contains("gmm-once"),
            "{text}"
        );
        let same_dnn = summary("dnn-same", ModelKind::Dnn, &[0.5, 0.5]);
        let text = repeated_seeds(&[gmm, same_dnn]);
        assert!(text.contains("`gmm-mfcc`, `dnn-same`") && text.contains("no random choice that"));
        assert_eq!(repeated_seeds(&[dnn]), "");
    }
}
