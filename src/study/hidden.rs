//! Hidden layers of several speakers saying the same sentences: projected to 2-D (t-SNE, PCA) and
//! scored per layer by k-NN for speaker and phone identity.

use std::path::{Path, PathBuf};

use ndarray::{Array2, Axis, concatenate};

use crate::corpus::PhoneSet;
use crate::error::{Error, Result};
use crate::model::dnn::Dnn;
use crate::pipeline::extractor::Extractor;
use crate::train::{Env, Model, Trained};
use crate::viz;

/// Settings of the hidden-layer analysis.
#[derive(Debug, Clone)]
pub struct HiddenOptions {
    /// Sentences said by every speaker (TIMIT `sa1`, `sa2`): the first is plotted, all are
    /// scored, so that each speaker's frames have same-speaker neighbours in another utterance.
    pub sentences: Vec<String>,
    /// Layers to show: 0 = the network's (normalised, spliced) input, 1.. = hidden layers.
    pub layers: Vec<usize>,
    /// Neighbours of the k-NN scores.
    pub k: usize,
    /// t-SNE perplexity (lowered to (points - 1) / 3 for small maps).
    pub perplexity: f32,
    /// Keep every `stride`-th labelled frame in the 2-D maps (all frames are scored).
    pub stride: usize,
    /// Seed of the t-SNE maps (frames are picked by `stride`, not at random).
    pub seed: u64,
}

impl Default for HiddenOptions {
    fn default() -> Self {
        HiddenOptions {
            sentences: vec!["sa1".into(), "sa2".into()],
            layers: vec![0, 1, 2, 4],
            k: 5,
            perplexity: 30.0,
            stride: 2,
            seed: 0,
        }
    }
}

impl HiddenOptions {
    /// Refuse options that could only fail late or run away, before any work: at least one
    /// sentence and layer, `k` in 1..=1000, perplexity finite in (0, 1000], stride 1..=10000.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::invalid(m));
        if self.sentences.is_empty() || self.sentences.iter().any(|s| s.trim().is_empty()) {
            return bad(format!(
                "sentences {:?}: give at least one, none empty",
                self.sentences
            ));
        }
        if self.layers.is_empty() {
            return bad("layers: give at least one (0 = the input)".into());
        }
        if !(1..=1000).contains(&self.k) {
            return bad(format!(
                "k must be between 1 and 1000 neighbours, got {}",
                self.k
            ));
        }
        if !(self.perplexity.is_finite() && self.perplexity > 0.0 && self.perplexity <= 1000.0) {
            return bad(format!(
                "perplexity must be a number in (0, 1000], got {}",
                self.perplexity
            ));
        }
        if !(1..=10_000).contains(&self.stride) {
            return bad(format!(
                "stride must be between 1 and 10000, got {}",
                self.stride
            ));
        }
        Ok(())
    }
}

/// Per-layer numbers of the hidden-layer analysis.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerScore {
    /// 0 = the network's input, 1.. = hidden layers.
    pub layer: usize,
    /// Units of the layer (input: spliced feature dimension).
    pub dim: usize,
    /// k-NN speaker identification accuracy among same-phone frames of other utterances
    /// (lower = more speaker-mixed).
    pub speaker_knn: f64,
    /// Leave-one-out k-NN 39-phone accuracy (higher = more phonetic).
    pub phone_knn: f64,
}

/// The figures written and the per-layer scores.
#[derive(Debug, Clone)]
pub struct HiddenReport {
    /// One per layer shown, in order.
    pub scores: Vec<LayerScore>,
    /// Speakers of the plotted sentence, in plot order.
    pub speakers: Vec<String>,
    /// Figure files written.
    pub figures: Vec<PathBuf>,
}

pub(crate) fn dnn_of<'a>(trained: &'a Trained, what: &str) -> Result<&'a Dnn> {
    match &trained.model {
        Model::Dnn(d) => Ok(d),
        Model::Gmm(_) => Err(Error::invalid(format!(
            "{what} needs a DNN model; this one is a GMM"
        ))),
    }
}

/// Hidden layers of `trained` for every speaker of the corpus saying `opts.sentences`: per layer
/// the k-NN speaker and phone accuracies over the frames of all those sentences (a speaker's
/// other sentence is where its own neighbours can come from), and t-SNE and PCA maps of the
/// first sentence coloured by speaker (`<stem>-tsne.png/.svg`, `<stem>-pca.png/.svg`).
pub fn hidden_layers(
    env: &Env,
    trained: &Trained,
    opts: &HiddenOptions,
    stem: &Path,
) -> Result<HiddenReport> {
    opts.validate()?;
    let dnn = dnn_of(trained, "the hidden-layer plot")?;
    let depth = dnn.layers().len() - 1;
    if let Some(&l) = opts.layers.iter().find(|&&l| l > depth) {
        return Err(Error::invalid(format!(
            "layer {l} does not exist: the network has {depth} hidden layers (0 = input)"
        )));
    }
    let Some(plotted) = opts.sentences.first() else {
        return Err(Error::invalid("no sentence to plot"));
    };
    let said = |u: &&crate::corpus::Utterance, s: &str| u.sentence.eq_ignore_ascii_case(s);
    let utts: Vec<_> = env
        .corpus
        .utterances
        .iter()
        .filter(|u| opts.sentences.iter().any(|s| said(u, s)))
        .collect();
    let speakers: Vec<String> = {
        let mut v: Vec<String> = utts
            .iter()
            .filter(|u| said(u, plotted))
            .map(|u| u.speaker.clone())
            .collect();
        v.dedup();
        v
    };
    if speakers.len() < 2 {
        return Err(Error::format(
            &env.corpus.root,
            format!(
                "{} speaker(s) say sentence `{plotted}`: the plot needs at least 2",
                speakers.len()
            ),
        ));
    }
    let extractor = Extractor::new(&trained.pipeline)?;
    let set = env.load("sentence feats", &utts, &extractor)?;
    let phones = PhoneSet::timit();

    // Labelled frames only: utterance, speaker, 39-phone, plotted or not.
    let (mut utt, mut spk, mut ph, mut shown) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (ui, u) in set.utts.iter().enumerate() {
        let si = speakers.iter().position(|s| *s == u.speaker);
        for l in u.labels.iter().flatten() {
            utt.push(ui);
            // Speakers who do not say the plotted sentence still count as other speakers.
            spk.push(si.unwrap_or(speakers.len() + ui));
            ph.push(phones.fold_48_to_39(l.phone) as usize);
            shown.push(si.is_some() && u.sentence.eq_ignore_ascii_case(plotted));
        }
    }
    let mut scores = Vec::new();
    let mut mats = Vec::new();
    for &layer in &opts.layers {
        env.observer.begin(&format!("layer {layer}"), 0);
        let rows: Vec<Array2<f32>> = set
            .utts
            .iter()
            .map(|u| {
                let a = dnn.activations(u.feats.view(), layer)?;
                let keep: Vec<usize> = (0..u.labels.len())
                    .filter(|&t| u.labels[t].is_some())
                    .collect();
                Ok(a.select(Axis(0), &keep))
            })
            .collect::<Result<_>>()?;
        let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
        let x = concatenate(Axis(0), &views).map_err(|e| Error::invalid(e.to_string()))?;
        // Neighbours only from other utterances: frames of the same utterance share input samples
        // (overlapping windows, spliced context) and would name speaker and phone for free. Phone
        // identity from any such frame; speaker identity from frames of the same phone only, so
        // that what is measured is the speaker, not the phone content.
        let any = viz::nearest_neighbours_where(x.view(), opts.k, |i, j| utt[i] != utt[j])?;
        let same_phone = viz::nearest_neighbours_where(x.view(), opts.k, |i, j| {
            utt[i] != utt[j] && ph[i] == ph[j]
        })?;
        scores.push(LayerScore {
            layer,
            dim: x.ncols(),
            speaker_knn: viz::vote_accuracy(&same_phone, &spk),
            phone_knn: viz::vote_accuracy(&any, &ph),
        });
        env.observer.end();
        mats.push(x);
    }

    // 2-D maps of every stride-th frame of the plotted sentence.
    let pick: Vec<usize> = (0..utt.len())
        .filter(|&i| shown[i])
        .step_by(opts.stride.max(1))
        .collect();
    let labels: Vec<usize> = pick.iter().map(|&i| spk[i]).collect();
    let sub: Vec<Array2<f32>> = mats.iter().map(|m| m.select(Axis(0), &pick)).collect();
    env.observer.begin("t-SNE", 0);
    let tsne_opts = viz::TsneOptions {
        perplexity: opts
            .perplexity
            .min((pick.len().saturating_sub(1) / 3) as f32),
        seed: opts.seed,
        ..Default::default()
    };
    let maps = viz::tsne_many(
        &sub.iter().map(|m| m.view()).collect::<Vec<_>>(),
        &tsne_opts,
    );
    env.observer.end();
    let maps = maps?;
    let title = |l: usize, sc: &LayerScore| {
        let name = if l == 0 {
            "input".to_string()
        } else {
            format!("layer {l}")
        };
        format!(
            "{name}: speaker {:.0}%, phone {:.0}%",
            100.0 * sc.speaker_knn,
            100.0 * sc.phone_knn
        )
    };
    let tsne_panels: Vec<viz::Panel> = maps
        .into_iter()
        .zip(opts.layers.iter().zip(&scores))
        .map(|(p, (&l, sc))| {
            viz::Panel::new(title(l, sc), p, labels.clone()).axes("t-SNE 1", "t-SNE 2")
        })
        .collect();
    let pca_panels: Vec<viz::Panel> = sub
        .iter()
        .zip(opts.layers.iter().zip(&scores))
        .map(|(m, (&l, sc))| {
            Ok(
                viz::Panel::new(title(l, sc), viz::pca(m.view(), 2)?, labels.clone())
                    .axes("PC 1", "PC 2"),
            )
        })
        .collect::<Result<_>>()?;
    let heading = format!(
        "`{plotted}` said by {} speakers, through {} {} fed from `{}`",
        speakers.len(),
        trained.about.kind.name().to_uppercase(),
        trained.about.spec,
        trained.about.from
    );
    let mut figures = Vec::new();
    for (kind, name, panels) in [("tsne", "t-SNE", &tsne_panels), ("pca", "PCA", &pca_panels)] {
        for ext in ["png", "svg"] {
            let path = with_suffix(stem, &format!("-{kind}.{ext}"));
            viz::scatter_panels(
                &path,
                panels,
                &speakers,
                &format!("{heading}: {name}"),
                "speaker",
            )?;
            figures.push(path);
        }
    }
    Ok(HiddenReport {
        scores,
        speakers,
        figures,
    })
}

fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
