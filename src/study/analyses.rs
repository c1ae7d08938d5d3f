//! The figures and analyses an experiment asks for, from its finished runs: accuracy vs
//! parameters, hidden layers by speaker, first-layer filters, the GMM's confusions.

use std::path::Path;

use crate::corpus::Split;
use crate::error::{Error, Result};
use crate::study::experiment::{AlignmentPlot, Experiment, Group, Row};
use crate::study::filters::first_layer_filters;
use crate::study::hidden::{HiddenOptions, LayerScore, hidden_layers};
use crate::train::align::{align_corpus, plot_alignment, utt_path};
use crate::train::{Env, Trained};
use crate::viz;

/// Everything the report shows besides the run table.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// (figure file, caption) in the order they appear.
    pub figures: Vec<(String, String)>,
    /// The hidden-layer analysis, when the experiment asks for it.
    pub hidden: Option<HiddenSummary>,
    /// Paragraphs added at the end of the report.
    pub notes: Vec<String>,
}

/// What the report needs of the hidden-layer analysis.
#[derive(Debug, Clone)]
pub struct HiddenSummary {
    /// The run whose network was analysed.
    pub run: String,
    /// The settings it ran with.
    pub options: HiddenOptions,
    /// Speakers who say the analysed sentences.
    pub speakers: usize,
    /// The speakers drawn in the maps.
    pub shown: Vec<String>,
    /// Scores of the trained network, per layer.
    pub scores: Vec<LayerScore>,
    /// Scores of the same network at its random start.
    pub control: Vec<LayerScore>,
    /// Seed of that start.
    pub control_seed: u64,
}

/// The figures and analyses an experiment asks for, from its finished runs in `out/runs/`:
/// accuracy vs parameters, hidden layers by speaker, first-layer filters, the GMM's confusions.
pub fn analyses(env: &Env, exp: &Experiment, out: &Path, rows: &[Row]) -> Result<Extras> {
    let mut extras = Extras::default();
    let load = |name: &str| Trained::load(&out.join("runs").join(name).join("model"));

    if rows.iter().any(|r| r.group == Group::Deep) {
        let series = |g: Group, label: &str| {
            let mut pts: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| {
                    r.group == g || (g == Group::Shallow && r.group == Group::Deep && r.layers == 1)
                })
                .map(|r| {
                    (
                        r.result.about.params as f64,
                        100.0 * r.result.state_accuracy,
                    )
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            viz::Series::new(label, pts)
        };
        let mut all = vec![
            series(Group::Deep, "deep: L hidden layers"),
            series(Group::Shallow, "one hidden layer, same parameters"),
        ];
        let gmms: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r.result.about.kind == crate::model::ModelKind::Gmm)
            .map(|r| {
                (
                    r.result.about.params as f64,
                    100.0 * r.result.state_accuracy,
                )
            })
            .collect();
        if !gmms.is_empty() {
            all.push(viz::Series::new("GMM", gmms));
        }
        for ext in ["png", "svg"] {
            viz::accuracy_vs_params(
                &out.join(format!("accuracy-vs-params.{ext}")),
                &all,
                "Deep vs shallow at equal parameters",
                "tied-state frame accuracy (%)",
            )?;
        }
        extras.figures.push((
            "accuracy-vs-params.png".into(),
            "Tied-state frame accuracy against parameter count: deep nets and one-hidden-layer nets of the same size.".into(),
        ));
    }

    if let Some(h) = &exp.hidden {
        let trained = load(&h.run)?;
        let mut opts = h.options();
        let rep = hidden_layers(env, &trained, &opts, &out.join("hidden"))?;
        // The report names the sentences analysed, chosen from the corpus when none were given.
        opts.sentences = Some(rep.sentences.clone());
        extras.figures.push((
            "hidden-tsne.png".into(),
            format!(
                "t-SNE of `{}` through `{}` for {} of the {} speakers, one colour per speaker, \
                 circles women, triangles men, layer by layer; each panel's scores are over all \
                 speakers, with their chance levels.",
                rep.sentences[0],
                h.run,
                rep.shown.len(),
                rep.speakers.len()
            ),
        ));
        extras.figures.push((
            "hidden-pca.png".into(),
            "The same frames projected on their first two principal components.".to_string(),
        ));
        extras.hidden = Some(HiddenSummary {
            run: h.run.clone(),
            speakers: rep.speakers.len(),
            shown: rep.shown,
            scores: rep.scores,
            control: rep.control,
            control_seed: rep.control_seed,
            options: opts,
        });
    }

    if let Some(f) = &exp.filters {
        let trained = load(&f.run)?;
        for ext in ["png", "svg"] {
            first_layer_filters(&trained, &out.join(format!("filters.{ext}")))?;
        }
        extras.figures.push((
            "filters.png".into(),
            format!("What `{}` learns from the power spectrogram: first-layer weights as frequency responses, beside the mel filter bank.", f.run),
        ));
    }

    if let Some(a) = &exp.alignment {
        let (figure, note) = alignment(env, &load(&a.run)?, a, out)?;
        extras.figures.push(figure);
        extras.notes.push(note);
    }

    if let Some(g) = rows
        .iter()
        .find(|r| r.result.about.kind == crate::model::ModelKind::Gmm)
    {
        let png = format!("runs/{}/confusion.png", g.result.name);
        if out.join(&png).is_file() {
            extras.figures.push((
                png,
                format!(
                    "39-phone confusions of `{}` (rows: reference, normalised).",
                    g.result.name
                ),
            ));
        }
    }
    Ok(extras)
}

/// Align the test speakers with `trained` into `out/alignment/`, and draw one of their
/// utterances with its hand and automatic boundaries (`out/alignment.png`): the figure with its
/// caption, and a paragraph with the agreement over all test utterances.
fn alignment(
    env: &Env,
    trained: &Trained,
    a: &AlignmentPlot,
    out: &Path,
) -> Result<((String, String), String)> {
    let test = env.utterances(Split::Test);
    let utt = match &a.utterance {
        Some(id) => test.iter().find(|u| &u.id == id).ok_or_else(|| {
            Error::invalid(format!(
                "alignment.utterance: `{id}` is not a test utterance"
            ))
        })?,
        None => test
            .first()
            .ok_or_else(|| Error::invalid("alignment: the corpus has no test utterances"))?,
    };
    let dir = out.join("alignment");
    let summary = align_corpus(env, trained, &test, &trained.pipeline.hmm.align, &dir)?;
    plot_alignment(
        utt,
        &utt_path(&dir, &utt.id, "phn")?,
        &out.join("alignment.png"),
    )?;
    let agreement = match &summary.boundaries {
        Some(b) => format!(
            "{:.1} % of the {} phone boundaries lie within 20 ms of the hand boundaries ({:.1} % \
             within 10 ms, {:.1} % within 40 ms; mean error {:.1} ms, median {:.1} ms)",
            b.within_20ms,
            b.boundaries,
            b.within_10ms,
            b.within_40ms,
            b.mean_abs_ms,
            b.median_abs_ms
        ),
        None => "no boundary could be compared with hand boundaries".to_string(),
    };
    let figure = (
        "alignment.png".to_string(),
        format!(
            "Forced alignment of test utterance `{}` (a speaker never trained on) with `{}`: \
             log-mel spectrogram, the hand phone boundaries above, the automatic ones below.",
            utt.id, a.run
        ),
    );
    let note = format!(
        "**Forced alignment.** `{}` aligned {} of the {} test utterances to their phone \
         transcripts (files in `alignment/`); {agreement}.",
        a.run, summary.aligned, summary.utterances
    );
    Ok((figure, note))
}
