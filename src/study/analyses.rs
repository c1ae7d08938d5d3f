//! The figures and analyses an experiment asks for, from its finished runs: accuracy vs
//! parameters, hidden layers by speaker, first-layer filters, the GMM's confusions.

use std::path::Path;

use crate::corpus::Split;
use crate::error::{Error, Result};
use crate::model::ModelKind;
use crate::study::experiment::{
    AlignmentPlot, Experiment, FilterPlot, Group, HiddenPlot, Row, VowelPlot,
};
use crate::study::filters::first_layer_filters;
use crate::study::hidden::{HiddenOptions, LayerScore, hidden_layers};
use crate::study::seeds::{Summary, summarise};
use crate::study::vowels::{VowelOptions, VowelReport, vowel_maps};
use crate::train::align::{align_corpus, plot_alignment, utt_path};
use crate::train::{Env, Trained};
use crate::viz;

/// Everything the report shows besides the run table.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// (figure file, caption) in the order they appear.
    pub figures: Vec<(String, String)>,
    /// The hidden-layer analyses the experiment asks for, one per run analysed.
    pub hidden: Vec<HiddenSummary>,
    /// The vowel analysis (run name and its report), when the experiment asks for it.
    pub vowels: Option<(String, VowelReport)>,
    /// Paragraphs added at the end of the report.
    pub notes: Vec<String>,
}

/// What the report needs of the hidden-layer analysis.
#[derive(Debug, Clone)]
pub struct HiddenSummary {
    /// The run whose network was analysed.
    pub run: String,
    /// The name of its pipeline (e.g. with speaker or global CMVN).
    pub pipeline: String,
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
    // A run named in the experiment is analysed through its first seed's model.
    let dir_of = |run: &str| {
        rows.iter()
            .find(|r| r.run == run)
            .map_or(run.to_string(), |r| r.result.name.clone())
    };
    let load = |run: &str| Trained::load(&out.join("runs").join(dir_of(run)).join("model"));
    let runs = summarise(rows);

    if runs.iter().any(|r| r.group == Group::Deep) {
        depth_figure(&runs, out, &mut extras)?;
    }
    if runs.iter().any(|r| r.group == Group::CurveDeep) {
        curve_figure(&runs, out, &mut extras)?;
    }
    if let Some(h) = &exp.hidden {
        hidden_analyses(env, h, &load, out, &mut extras)?;
    }
    if let Some(v) = &exp.vowels {
        vowel_analysis(env, v, &load, out, &mut extras)?;
    }
    if let Some(f) = &exp.filters {
        filter_figures(f, &load, out, &mut extras)?;
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

/// Accuracy against parameters: deep, matched shallow, wide nets and the GMMs, over seeds.
fn depth_figure(runs: &[Summary], out: &Path, extras: &mut Extras) -> Result<()> {
    // Mean over seeds, with ± one sample sd as error bars.
    let series = |groups: &[Group], label: &str| {
        let mut pts: Vec<(f64, f64, f64)> = runs
            .iter()
            .filter(|r| groups.contains(&r.group))
            .map(|r| {
                (
                    r.params as f64,
                    100.0 * r.state_accuracy.mean,
                    100.0 * r.state_accuracy.sd,
                )
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        viz::Series::new(label, pts.iter().map(|p| (p.0, p.1)).collect())
            .with_errors(pts.iter().map(|p| p.2).collect())
    };
    let mut all = vec![series(&[Group::Deep], "deep: L hidden layers")];
    // The shallow curve starts at the 1-layer net of the depth grid.
    let mut shallow = series(&[Group::Shallow], "one hidden layer, same parameters");
    if let Some(one) = runs
        .iter()
        .find(|r| r.group == Group::Deep && r.layers == 1)
    {
        shallow
            .points
            .insert(0, (one.params as f64, 100.0 * one.state_accuracy.mean));
        shallow.errors.insert(0, 100.0 * one.state_accuracy.sd);
    }
    all.push(shallow);
    if runs.iter().any(|r| r.group == Group::Wide) {
        all.push(series(&[Group::Wide], "one much wider hidden layer"));
    }
    let gmms: Vec<&Summary> = runs.iter().filter(|r| r.kind == ModelKind::Gmm).collect();
    if !gmms.is_empty() {
        all.push(
            viz::Series::new(
                "GMM",
                gmms.iter()
                    .map(|r| (r.params as f64, 100.0 * r.state_accuracy.mean))
                    .collect(),
            )
            .with_errors(gmms.iter().map(|r| 100.0 * r.state_accuracy.sd).collect()),
        );
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
        format!(
            "Tied-state frame accuracy against parameter count: deep nets, one-hidden-layer \
             nets of the same size{}; points are means over seeds ({}), bars ± one sample \
             standard deviation.",
            if runs.iter().any(|r| r.group == Group::Wide) {
                " and much wider one-hidden-layer nets"
            } else {
                ""
            },
            seeds_of(runs, &[Group::Deep, Group::Shallow, Group::Wide])
        ),
    ));
    Ok(())
}

/// The learning curve of the deep net and its matched shallow net.
fn curve_figure(runs: &[Summary], out: &Path, extras: &mut Extras) -> Result<()> {
    let curve = |g: Group, label: &str| {
        let pts: Vec<&Summary> = runs.iter().filter(|r| r.group == g).collect();
        viz::Series::new(
            label,
            pts.iter()
                .map(|r| (r.train_frames.mean, 100.0 * r.state_accuracy.mean))
                .collect(),
        )
        .with_errors(pts.iter().map(|r| 100.0 * r.state_accuracy.sd).collect())
    };
    let deep = runs.iter().find(|r| r.group == Group::CurveDeep);
    let shallow = runs.iter().find(|r| r.group == Group::CurveShallow);
    let mut all = vec![curve(
        Group::CurveDeep,
        &format!("deep {}", deep.map_or("", |r| r.spec.as_str())),
    )];
    if let Some(s) = shallow {
        all.push(curve(
            Group::CurveShallow,
            &format!("one hidden layer, same parameters ({})", s.spec),
        ));
    }
    for ext in ["png", "svg"] {
        viz::line_plot(
            &out.join(format!("learning-curve.{ext}")),
            &all,
            "Learning curves: deep vs shallow at equal parameters",
            "labelled training frames (shares of the training speakers)",
            "tied-state frame accuracy (%)",
            false,
        )?;
    }
    extras.figures.push((
        "learning-curve.png".into(),
        format!(
            "Tied-state frame accuracy against the training data, as shares of the training \
             speakers (whole speakers drawn with each run's seed); points are means over \
             seeds ({}), bars ± one sample standard deviation.",
            seeds_of(runs, &[Group::CurveDeep, Group::CurveShallow])
        ),
    ));
    Ok(())
}

/// The hidden-layer study of every run it names.
fn hidden_analyses(
    env: &Env,
    h: &HiddenPlot,
    load: &dyn Fn(&str) -> Result<Trained>,
    out: &Path,
    extras: &mut Extras,
) -> Result<()> {
    let opts = h.options();
    for (k, run) in std::iter::once(&h.run).chain(&h.runs).enumerate() {
        let trained = load(run)?;
        // The first run's figures keep their old names; further runs carry theirs.
        let prefix = if k == 0 {
            "hidden".to_string()
        } else {
            format!("hidden-{run}")
        };
        let rep = hidden_layers(env, &trained, &opts, &out.join(&prefix))?;
        // The report names the sentences analysed, chosen from the corpus when none were
        // given.
        let mut used = opts.clone();
        used.sentences = Some(rep.sentences.clone());
        extras.figures.push((
            format!("{prefix}-tsne.png"),
            format!(
                "t-SNE of `{}` through `{run}` ({}) for {} of the {} speakers, one colour per \
                 speaker, circles women, triangles men, layer by layer; each panel's scores \
                 are over all speakers, with their chance levels.",
                rep.sentences[0],
                trained.pipeline.name,
                rep.shown.len(),
                rep.speakers.len()
            ),
        ));
        extras.figures.push((
            format!("{prefix}-pca.png"),
            "The same frames projected on their first two principal components.".to_string(),
        ));
        extras.hidden.push(HiddenSummary {
            run: run.clone(),
            pipeline: trained.pipeline.name.clone(),
            speakers: rep.speakers.len(),
            shown: rep.shown,
            scores: rep.scores,
            control: rep.control,
            control_seed: rep.control_seed,
            options: used,
        });
    }
    Ok(())
}

/// Vowel maps layer by layer.
fn vowel_analysis(
    env: &Env,
    v: &VowelPlot,
    load: &dyn Fn(&str) -> Result<Trained>,
    out: &Path,
    extras: &mut Extras,
) -> Result<()> {
    let trained = load(&v.run)?;
    let mut opts = VowelOptions::default();
    if let Some(l) = &v.layers {
        opts.layers = l.clone();
    }
    let rep = vowel_maps(env, &trained, &opts, &out.join("vowels"))?;
    extras.figures.push((
        "vowels.png".into(),
        format!(
            "Vowel frames of the test speakers through `{}`, layer by layer (t-SNE, one \
             colour per vowel), beside the vowels' places on the F1/F2 chart; each panel \
             gives the vowel k-NN score with its chance level and the random start's score.",
            v.run
        ),
    ));
    extras.vowels = Some((v.run.clone(), rep));
    Ok(())
}

/// The filters of a plain first layer and of every learned front end named.
fn filter_figures(
    f: &FilterPlot,
    load: &dyn Fn(&str) -> Result<Trained>,
    out: &Path,
    extras: &mut Extras,
) -> Result<()> {
    let trained = load(&f.run)?;
    let mut drawn = String::new();
    for ext in ["png", "svg"] {
        drawn = first_layer_filters(&trained, &out.join(format!("filters.{ext}")))?;
    }
    extras.figures.push((
        "filters.png".into(),
        format!(
            "What `{}` learns from the power spectrogram (first seed): {drawn}.",
            f.run
        ),
    ));
    for run in &f.runs {
        let trained = load(run)?;
        for ext in ["png", "svg"] {
            drawn = first_layer_filters(&trained, &out.join(format!("filters-{run}.{ext}")))?;
        }
        extras.figures.push((
            format!("filters-{run}.png"),
            format!("The learned front end of `{run}` (first seed): {drawn}."),
        ));
    }
    Ok(())
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

/// The seeds of the runs in `groups`, as a caption says them: `n = 3: seeds 1, 2, 3`.
fn seeds_of(runs: &[Summary], groups: &[Group]) -> String {
    let mut seeds: Vec<u64> = runs
        .iter()
        .filter(|r| groups.contains(&r.group))
        .flat_map(|r| r.seeds.iter().copied())
        .collect();
    seeds.sort_unstable();
    seeds.dedup();
    let list: Vec<String> = seeds.iter().map(|s| s.to_string()).collect();
    format!("seeds {}", list.join(", "))
}
