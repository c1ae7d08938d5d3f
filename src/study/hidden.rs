//! Hidden layers of several speakers saying the same sentences: projected to 2-D (t-SNE, PCA) and
//! scored per layer for speaker and phone identity, beside the same network at its random start.
//!
//! Speaker measures are fair to every speaker: a frame of sentence `s` is compared only with
//! frames of the *other* sentences, which every speaker says alike, so no speaker's candidates
//! come from a different text than anyone else's. (Taking neighbours from any other utterance
//! would offer a frame's own speaker only their other sentence while every other speaker offers
//! the same sentence in the same context: same-speaker neighbours then come out rare whatever the
//! representation.) The k-NN speaker score by default also keeps only candidates of the same
//! phone, so that it asks whether the speaker can be told within a phone rather than measuring
//! phonetic overlap between the sentences; its chance level is computed from those candidate sets
//! (see [`crate::viz::chance`]). The linear probe is trained on the frames of all but one
//! sentence and tested on the held-out one, for every sentence in turn.

use std::path::{Path, PathBuf};

use ndarray::{Array2, ArrayView2, Axis, concatenate};

use std::collections::{BTreeMap, BTreeSet};

use crate::corpus::{Corpus, Gender, PhoneSet};
use crate::error::{Error, Result};
use crate::model::dnn::Dnn;
use crate::train::{Env, Model, Trained};
use crate::viz::{self, ProbeOptions, ProbeScore, VoteScore};

/// Settings of the hidden-layer analysis.
#[derive(Debug, Clone)]
pub struct HiddenOptions {
    /// Sentences said by several speakers: the first is plotted, all are scored; a frame's
    /// speaker candidates come from the other sentences. `None`: [`choose_sentences`] (TIMIT's
    /// `sa1`, `sa2` where the corpus has them, else the two read by the most speakers).
    pub sentences: Option<Vec<String>>,
    /// Layers to show: 0 = the network's (normalised, spliced) input, 1.. = hidden layers.
    pub layers: Vec<usize>,
    /// Neighbours of the k-NN scores.
    pub k: usize,
    /// Speaker k-NN candidates only of the frame's own (39-)phone.
    pub same_phone: bool,
    /// The linear speaker probe.
    pub probe: ProbeOptions,
    /// Speakers drawn in the 2-D maps (half women, half men where the corpus has them).
    pub shown_speakers: usize,
    /// t-SNE perplexity.
    pub perplexity: f32,
    /// Keep every `stride`-th labelled frame in the 2-D maps (all frames are scored).
    pub stride: usize,
    /// Seed of the t-SNE maps.
    pub seed: u64,
}

impl Default for HiddenOptions {
    fn default() -> Self {
        HiddenOptions {
            sentences: None,
            layers: vec![0, 1, 2, 4],
            k: 5,
            same_phone: true,
            probe: ProbeOptions::default(),
            shown_speakers: 6,
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
        if let Some(s) = &self.sentences
            && (s.is_empty() || s.iter().any(|s| s.trim().is_empty()))
        {
            return bad(format!("sentences {s:?}: give at least one, none empty"));
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

/// Per-layer numbers of the hidden-layer analysis, each with its chance level.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LayerScore {
    /// 0 = input, 1.. = hidden layer.
    pub layer: usize,
    /// Units (dimensions) of the layer.
    pub dim: usize,
    /// k-NN speaker identification, each frame's candidates taken from the other sentences (and
    /// the same phone, when asked): lower = speakers more mixed.
    pub speaker_knn: VoteScore,
    /// Linear speaker probe, trained on the other sentences, tested on each held-out sentence;
    /// chance = always the most frequent speaker of the test frames.
    pub speaker_probe: ProbeScore,
    /// k-NN 39-phone identification, candidates from other utterances (higher = more phonetic);
    /// `None` when the utterances have no phone alignment.
    pub phone_knn: Option<VoteScore>,
}

/// The figures written and the per-layer scores.
#[derive(Debug, Clone)]
pub struct HiddenReport {
    /// Scores of the trained network.
    pub scores: Vec<LayerScore>,
    /// The same scores for the network of the same shape at its random start.
    pub control: Vec<LayerScore>,
    /// Seed of that random start (the training seed).
    pub control_seed: u64,
    /// Speakers who say the plotted sentence (all are scored).
    pub speakers: Vec<String>,
    /// The sentences analysed (the first plotted), as given or as chosen from the corpus.
    pub sentences: Vec<String>,
    /// True when every frame was used and no phone measure made: the utterances have no phone
    /// alignment (a corpus without labels).
    pub unlabelled: bool,
    /// The speakers drawn in the maps.
    pub shown: Vec<String>,
    /// Files written.
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

/// The network of `dnn`'s shape at its random start from `seed` (the training seed gives the
/// very weights training began from), with `dnn`'s input normalisation. A front end started at
/// the mel matrix is not restored: its filters are the random ones of the seed.
pub fn random_start(dnn: &Dnn, seed: u64) -> Result<Dnn> {
    let mut fresh = Dnn::new(dnn.arch().clone(), seed)?;
    fresh.set_normalisation(dnn.input_mean().clone(), dnn.input_std().clone())?;
    if let Some((mean, std)) = dnn.front_normalisation() {
        fresh.set_front_normalisation(mean.clone(), std.clone())?;
    }
    Ok(fresh)
}

/// Labelled frames of the analysed sentences, in one order for every layer.
pub struct Frames {
    /// Utterance index of each frame.
    pub utt: Vec<usize>,
    /// Speaker index of each frame (into the speaker list; speakers who do not say the plotted
    /// sentence get indices past it, one per utterance).
    pub speaker: Vec<usize>,
    /// Index of the frame's sentence in the analysed sentences.
    pub sentence: Vec<usize>,
    /// 39-phone of each frame; empty when the utterances have no phone alignment (then the
    /// phone k-NN is not computed and speaker candidates are not limited to the same phone).
    pub phone: Vec<usize>,
    /// Speakers with a list index (those who say the plotted sentence).
    pub speakers: usize,
}

impl Frames {
    /// Speaker k-NN, linear speaker probe and phone k-NN of the activations `x` (one row per
    /// frame, in this order).
    pub fn score(&self, x: ArrayView2<f32>, opts: &HiddenOptions) -> Result<LayerScore> {
        let (utt, spk, sent, ph) = (&self.utt, &self.speaker, &self.sentence, &self.phone);
        if x.nrows() != utt.len() {
            return Err(Error::invalid(format!(
                "{} activation rows for {} frames",
                x.nrows(),
                utt.len()
            )));
        }
        let phones_known = !ph.is_empty();
        if phones_known && ph.len() != utt.len() {
            return Err(Error::invalid(format!(
                "{} phones for {} frames",
                ph.len(),
                utt.len()
            )));
        }
        let same_phone = opts.same_phone && phones_known;
        let speaker_ok = |i: usize, j: usize| sent[i] != sent[j] && (!same_phone || ph[i] == ph[j]);
        // Frames of the same utterance share input samples (overlapping windows, spliced
        // context) and would name the phone for free.
        let phone_ok = |i: usize, j: usize| utt[i] != utt[j];
        let both: [&(dyn Fn(usize, usize) -> bool + Sync); 2] = [&speaker_ok, &phone_ok];
        let nn =
            viz::nearest_neighbours_many(x, opts.k, &both[..if phones_known { 2 } else { 1 }])?;
        let phones = ph.iter().max().map_or(1, |m| m + 1);
        let speaker_key: Vec<usize> = (0..utt.len())
            .map(|i| {
                if same_phone {
                    sent[i] * phones + ph[i]
                } else {
                    sent[i]
                }
            })
            .collect();
        let speaker_knn = viz::keyed_vote_score(&nn[0], spk, &speaker_key, opts.k, speaker_ok);
        let phone_knn =
            phones_known.then(|| viz::keyed_vote_score(&nn[1], ph, utt, opts.k, phone_ok));

        let listed: Vec<usize> = (0..utt.len()).filter(|&i| spk[i] < self.speakers).collect();
        let labels: Vec<usize> = listed.iter().map(|&i| spk[i]).collect();
        let folds: Vec<Option<usize>> = listed.iter().map(|&i| Some(sent[i])).collect();
        let speaker_probe = viz::probe_score(
            x.select(Axis(0), &listed).view(),
            &labels,
            &folds,
            &opts.probe,
        )?;
        Ok(LayerScore {
            layer: 0,
            dim: x.ncols(),
            speaker_knn,
            speaker_probe,
            phone_knn,
        })
    }
}

/// Up to `n` speakers, half of them women and half men where there are enough of each (the rest
/// from the other group), spread evenly over each group's sorted list: deterministic.
fn pick_speakers(genders: &[Gender], n: usize) -> Vec<usize> {
    let group =
        |g: Gender| -> Vec<usize> { (0..genders.len()).filter(|&i| genders[i] == g).collect() };
    let (women, men) = (group(Gender::Female), group(Gender::Male));
    let other = group(Gender::Unknown);
    let n = n.min(genders.len());
    let want_w = (n / 2).min(women.len());
    let want_m = (n - want_w).min(men.len());
    let want_w = (n - want_m).min(women.len());
    let spread = |v: &[usize], m: usize| -> Vec<usize> {
        (0..m).map(|i| v[(2 * i + 1) * v.len() / (2 * m)]).collect()
    };
    let mut out = spread(&women, want_w);
    out.extend(spread(&men, want_m));
    out.extend(other.iter().take(n - out.len()));
    out.sort_unstable();
    out
}

fn layer_name(l: usize) -> String {
    if l == 0 {
        "input".to_string()
    } else {
        format!("layer {l}")
    }
}

/// Panel title: the layer, then its scores with chance levels in brackets.
fn panel_title(sc: &LayerScore) -> String {
    let phone = match &sc.phone_knn {
        Some(p) => format!(
            "phone k-NN {:.1} % (chance {:.1})",
            100.0 * p.accuracy,
            100.0 * p.chance
        ),
        None => "no phone labels".to_string(),
    };
    format!(
        "{} ({} dims)\nspeaker k-NN {:.1} % (chance {:.1}) · probe {:.1} % (chance {:.1})\n{phone}",
        layer_name(sc.layer),
        sc.dim,
        100.0 * sc.speaker_knn.accuracy,
        100.0 * sc.speaker_knn.chance,
        100.0 * sc.speaker_probe.accuracy,
        100.0 * sc.speaker_probe.chance,
    )
}

/// The sentences of the analysis when none are given: TIMIT's `sa1` and `sa2` where at least
/// two speakers say each, else the two sentences said by the most speakers (ties by id).
pub fn choose_sentences(corpus: &Corpus) -> Result<Vec<String>> {
    let mut readers: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for u in &corpus.utterances {
        readers
            .entry(u.sentence.as_str())
            .or_default()
            .insert(u.speaker.as_str());
    }
    let count = |s: &str| {
        readers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(s))
            .map_or(0, |(_, v)| v.len())
    };
    if count("sa1") >= 2 && count("sa2") >= 2 {
        return Ok(vec!["sa1".into(), "sa2".into()]);
    }
    let mut ranked: Vec<(&str, usize)> = readers.iter().map(|(s, v)| (*s, v.len())).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let chosen: Vec<String> = ranked
        .iter()
        .filter(|(_, n)| *n >= 2)
        .take(2)
        .map(|(s, _)| s.to_string())
        .collect();
    if chosen.len() < 2 {
        let top: Vec<String> = ranked
            .iter()
            .take(3)
            .map(|(s, n)| format!("`{s}` by {n}"))
            .collect();
        return Err(Error::format(
            &corpus.root,
            format!(
                "the hidden-layer analysis needs two sentences each said by at least 2 speakers \
                 (the same `sentence`: a manifest column, or the same file name in each speaker \
                 folder); the most read here: {}",
                top.join(", ")
            ),
        ));
    }
    Ok(chosen)
}

/// Activations of every utterance of `set` at `layer`, stacked: labelled frames only, or every
/// frame when the set has no phone labels (`every_frame`).
fn layer_rows(
    dnn: &Dnn,
    set: &crate::train::dataset::FrameSet,
    layer: usize,
    every_frame: bool,
) -> Result<Array2<f32>> {
    let rows: Vec<Array2<f32>> = set
        .utts
        .iter()
        .map(|u| {
            let a = dnn.activations(u.feats.view(), layer)?;
            if every_frame {
                return Ok(a);
            }
            let keep: Vec<usize> = (0..u.labels.len())
                .filter(|&t| u.labels[t].is_some())
                .collect();
            Ok(a.select(Axis(0), &keep))
        })
        .collect::<Result<_>>()?;
    let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
    concatenate(Axis(0), &views).map_err(|e| Error::invalid(e.to_string()))
}

/// Hidden layers of `trained` for every speaker of the corpus saying `opts.sentences`: per layer
/// the speaker k-NN (candidates from the other sentences), the linear speaker probe and the
/// phone k-NN, each with its chance level, for the trained network and for the same network at
/// its random start; and t-SNE and PCA maps of the first sentence for a few speakers
/// (`<stem>-tsne.png/.svg`, `<stem>-pca.png/.svg`).
pub fn hidden_layers(
    env: &Env,
    trained: &Trained,
    opts: &HiddenOptions,
    stem: &Path,
) -> Result<HiddenReport> {
    opts.validate()?;
    let dnn = dnn_of(trained, "the hidden-layer plot")?;
    check_layers(dnn, opts)?;
    let sentences = match &opts.sentences {
        Some(s) => s.clone(),
        None => choose_sentences(env.corpus)?,
    };
    let sel = Selection::of(env.corpus, sentences)?;
    let extractor = trained.extractor()?;
    let set = env.load("sentence feats", &sel.utts, &extractor)?;
    // Without a phone alignment on every utterance, every frame is used and no phone measure
    // is made (a corpus of audio alone).
    let unlabelled = sel.utts.iter().any(|u| !u.has_alignment());
    let frames = sel.frames(&set, unlabelled);

    let control_seed = trained.about.seed;
    let fresh = random_start(dnn, control_seed)?;
    let (mut scores, mut control, mut mats) = (Vec::new(), Vec::new(), Vec::new());
    for &layer in &opts.layers {
        env.observer.begin(&format!("layer {layer}"), 0);
        let x = layer_rows(dnn, &set, layer, unlabelled)?;
        scores.push(LayerScore {
            layer,
            ..frames.score(x.view(), opts)?
        });
        let r = layer_rows(&fresh, &set, layer, unlabelled)?;
        control.push(LayerScore {
            layer,
            ..frames.score(r.view(), opts)?
        });
        env.observer.end();
        mats.push(x);
    }

    // 2-D maps of every stride-th frame of the plotted sentence, for a few speakers.
    let genders: Vec<Gender> = sel.speakers.iter().map(|s| s.1).collect();
    let shown = pick_speakers(&genders, opts.shown_speakers.max(1));
    let pick: Vec<usize> = (0..frames.utt.len())
        .filter(|&i| frames.sentence[i] == 0 && shown.contains(&frames.speaker[i]))
        .step_by(opts.stride.max(1))
        .collect();
    let labels: Vec<usize> = pick
        .iter()
        .map(|&i| {
            shown
                .iter()
                .position(|&s| s == frames.speaker[i])
                .expect("picked")
        })
        .collect();
    let styles = speaker_styles(&sel.speakers, &shown);
    let sub: Vec<Array2<f32>> = mats.iter().map(|m| m.select(Axis(0), &pick)).collect();
    let heading = format!(
        "`{}` by {} of {} speakers, {} {} fed from `{}`",
        sel.sentences[0],
        shown.len(),
        sel.speakers.len(),
        trained.about.kind.name().to_uppercase(),
        trained.about.spec,
        trained.about.from
    );
    let note = format!(
        "scores over all {} speakers and {}{}; chance levels computed from the candidates (k-NN) and test frames (probe)",
        sel.speakers.len(),
        sel.sentences.join(" + "),
        if unlabelled {
            " (no phone labels: every frame, speaker k-NN over any phone)"
        } else {
            ""
        }
    );
    let maps = Maps {
        sub: &sub,
        labels: &labels,
        scores: &scores,
        styles: &styles,
        title: format!("{heading}\n{note}"),
    };
    let figures = maps.draw(env, opts, stem)?;
    Ok(HiddenReport {
        scores,
        control,
        control_seed,
        speakers: sel.speakers.into_iter().map(|s| s.0).collect(),
        sentences: sel.sentences,
        unlabelled,
        shown: styles.into_iter().map(|s| s.name).collect(),
        figures,
    })
}

/// An error unless every requested layer exists and k >= 1.
fn check_layers(dnn: &Dnn, opts: &HiddenOptions) -> Result<()> {
    let depth = dnn.layers().len() - 1;
    if let Some(&l) = opts.layers.iter().find(|&&l| l > depth) {
        return Err(Error::invalid(format!(
            "layer {l} does not exist: the network has {depth} hidden layers (0 = input)"
        )));
    }
    if opts.k == 0 {
        return Err(Error::invalid("the k-NN scores need k >= 1"));
    }
    Ok(())
}

/// The utterances of the analysed sentences and the speakers who say the first (plotted) one.
struct Selection<'a> {
    sentences: Vec<String>,
    utts: Vec<&'a crate::corpus::Utterance>,
    speakers: Vec<(String, Gender)>,
}

impl<'a> Selection<'a> {
    fn of(corpus: &'a Corpus, sentences: Vec<String>) -> Result<Selection<'a>> {
        if sentences.len() < 2 {
            return Err(Error::invalid(format!(
                "the speaker measures compare sentences: give at least 2, got {sentences:?}"
            )));
        }
        let sentence_of = |u: &str| sentences.iter().position(|s| s.eq_ignore_ascii_case(u));
        let utts: Vec<_> = corpus
            .utterances
            .iter()
            .filter(|u| sentence_of(&u.sentence).is_some())
            .collect();
        let mut speakers: Vec<(String, Gender)> = utts
            .iter()
            .filter(|u| sentence_of(&u.sentence) == Some(0))
            .map(|u| (u.speaker.clone(), u.gender))
            .collect();
        speakers.sort();
        speakers.dedup();
        if speakers.len() < 2 {
            return Err(Error::format(
                &corpus.root,
                format!(
                    "{} speaker(s) say sentence `{}`: the analysis needs at least 2",
                    speakers.len(),
                    sentences[0]
                ),
            ));
        }
        Ok(Selection {
            sentences,
            utts,
            speakers,
        })
    }

    fn sentence_of(&self, u: &str) -> Option<usize> {
        self.sentences
            .iter()
            .position(|s| s.eq_ignore_ascii_case(u))
    }

    /// Every frame of `set` that is scored: labelled ones, or all when `unlabelled`.
    fn frames(&self, set: &crate::train::dataset::FrameSet, unlabelled: bool) -> Frames {
        let phones = PhoneSet::timit();
        let speakers = &self.speakers;
        let mut frames = Frames {
            utt: Vec::new(),
            speaker: Vec::new(),
            sentence: Vec::new(),
            phone: Vec::new(),
            speakers: speakers.len(),
        };
        for (ui, u) in set.utts.iter().enumerate() {
            let si = speakers.iter().position(|s| s.0 == u.speaker);
            let sent = self
                .sentence_of(&u.sentence)
                .expect("only the analysed sentences were loaded");
            for l in &u.labels {
                if !unlabelled && l.is_none() {
                    continue;
                }
                frames.utt.push(ui);
                frames.speaker.push(si.unwrap_or(speakers.len() + ui));
                frames.sentence.push(sent);
                if let (false, Some(l)) = (unlabelled, l) {
                    frames.phone.push(phones.fold_48_to_39(l.phone) as usize);
                }
            }
        }
        frames
    }
}

/// Colour and marker of each shown speaker. Women take the even colours and men the odd ones:
/// alike colours differ in shape too.
fn speaker_styles(speakers: &[(String, Gender)], shown: &[usize]) -> Vec<viz::LabelStyle> {
    let count = |g: Gender| shown.iter().filter(|&&s| speakers[s].1 == g).count();
    let pairs = 2 * count(Gender::Female).max(count(Gender::Male));
    let (mut women, mut men, mut unknown) = (0, 0, 0);
    let mut styles: Vec<viz::LabelStyle> = Vec::new();
    for &s in shown {
        let (name, g) = (&speakers[s].0, speakers[s].1);
        let (slot, shape) = match g {
            Gender::Female => (2 * post_inc(&mut women), viz::Shape::Circle),
            Gender::Male => (2 * post_inc(&mut men) + 1, viz::Shape::Triangle),
            Gender::Unknown => (pairs + post_inc(&mut unknown), viz::Shape::Square),
        };
        styles.push(viz::LabelStyle {
            name: format!("{name} ({})", gender_word(g)),
            colour: viz::okabe_ito(slot),
            shape,
        });
    }
    styles
}

/// The t-SNE and PCA figures of the picked frames, one panel per layer.
struct Maps<'a> {
    sub: &'a [Array2<f32>],
    labels: &'a [usize],
    scores: &'a [LayerScore],
    styles: &'a [viz::LabelStyle],
    title: String,
}

impl Maps<'_> {
    /// Draw `<stem>-tsne` and `<stem>-pca` as PNG and SVG; the paths written.
    fn draw(&self, env: &Env, opts: &HiddenOptions, stem: &Path) -> Result<Vec<PathBuf>> {
        let points = self.sub.first().map_or(0, |m| m.nrows());
        env.observer.begin("t-SNE", 0);
        let tsne_opts = viz::TsneOptions {
            perplexity: opts.perplexity.min((points.saturating_sub(1) / 3) as f32),
            seed: opts.seed,
            ..Default::default()
        };
        let maps = viz::tsne_many(
            &self.sub.iter().map(|m| m.view()).collect::<Vec<_>>(),
            &tsne_opts,
        );
        env.observer.end();
        let maps = maps?;
        let tsne_panels: Vec<viz::Panel> = maps
            .into_iter()
            .zip(self.scores)
            .map(|(p, sc)| {
                viz::Panel::new(panel_title(sc), p, self.labels.to_vec()).axes("t-SNE 1", "t-SNE 2")
            })
            .collect();
        let pca_panels: Vec<viz::Panel> = self
            .sub
            .iter()
            .zip(self.scores)
            .map(|(m, sc)| {
                Ok(viz::Panel::new(
                    panel_title(sc),
                    viz::pca(m.view(), 2)?,
                    self.labels.to_vec(),
                )
                .axes("PC 1", "PC 2"))
            })
            .collect::<Result<_>>()?;
        let mut figures = Vec::new();
        for (kind, name, panels) in [("tsne", "t-SNE", &tsne_panels), ("pca", "PCA", &pca_panels)] {
            for ext in ["png", "svg"] {
                let path = with_suffix(stem, &format!("-{kind}.{ext}"));
                viz::scatter_panels_styled(
                    &path,
                    panels,
                    self.styles,
                    &format!("{name} of {}", self.title),
                    "speaker",
                )?;
                figures.push(path);
            }
        }
        Ok(figures)
    }
}

/// `*n`, then add one.
fn post_inc(n: &mut usize) -> usize {
    *n += 1;
    *n - 1
}

fn gender_word(g: Gender) -> &'static str {
    match g {
        Gender::Female => "female",
        Gender::Male => "male",
        Gender::Unknown => "gender unknown",
    }
}

fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut s = stem.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_speakers_are_gender_balanced_and_spread() {
        use Gender::{Female as F, Male as M};
        let g = [F, M, F, M, F, F, M, F, M, M];
        // Women 0 2 4 5 7, men 1 3 6 8 9: three of each, the 1st, 3rd and 5th of each list.
        assert_eq!(pick_speakers(&g, 6), vec![0, 1, 4, 6, 7, 9]);
        // Too few men: the rest are women (the 1st, 3rd and 4th of four).
        assert_eq!(pick_speakers(&[F, F, F, F, M], 4), vec![0, 2, 3, 4]);
        assert_eq!(pick_speakers(&[M, F], 6), vec![0, 1]);
    }
}
