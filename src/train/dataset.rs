//! Aligned speech as classifier input: per utterance, the pipeline's features (post-processed) and
//! the frame labels that line up with them.
//!
//! Features are computed once per (audio file, chain) through the [`FeatureCache`]; the audio is
//! still read every time because the labels need its exact length (reading is ~0.2 ms per TIMIT
//! file, the chain is what costs). CMVN statistics come from the sets [`crate::train::cmvn`]
//! defines (the speaker's utterances in the corpus, the training split, or a model's stored
//! statistics), never from the other utterances loaded with one.

use ndarray::Array2;
use rayon::prelude::*;

use crate::corpus::{Corpus, FrameLabel, PhoneSet, Utterance, frame_labels_at};
use crate::error::{Error, Result};
use crate::io::cache::FeatureCache;
use crate::pipeline::extractor::Extractor;

/// One utterance's frames.
#[derive(Debug, Clone)]
pub struct UttFrames {
    /// Utterance id.
    pub id: String,
    /// Speaker id.
    pub speaker: String,
    /// Sentence (prompt) id.
    pub sentence: String,
    /// frames x dims, after post-processing (never spliced for the DNN: it splices per minibatch).
    pub feats: Array2<f32>,
    /// One per frame; `None` where the frame has no label (TIMIT `q`, gaps).
    pub labels: Vec<Option<FrameLabel>>,
    /// Length of the audio as read, in samples at `sample_rate`.
    pub num_samples: u64,
    /// Rate the audio was read at (the pipeline's, when it resamples): the frames' clock.
    pub sample_rate: u32,
}

/// A set of utterances ready for a classifier.
#[derive(Debug, Clone, Default)]
pub struct FrameSet {
    /// Utterances in corpus order.
    pub utts: Vec<UttFrames>,
    /// Feature dimension of every utterance.
    pub dim: usize,
}

impl FrameSet {
    /// All frames, labelled or not.
    pub fn num_frames(&self) -> usize {
        self.utts.iter().map(|u| u.feats.nrows()).sum()
    }

    /// Frames with a label.
    pub fn num_labelled(&self) -> usize {
        self.utts
            .iter()
            .map(|u| u.labels.iter().filter(|l| l.is_some()).count())
            .sum()
    }

    /// Split off the utterances whose index satisfies `take` (e.g. a held-out dev set).
    pub fn partition(self, take: impl Fn(usize) -> bool) -> (FrameSet, FrameSet) {
        let dim = self.dim;
        let (a, b): (Vec<_>, Vec<_>) = self
            .utts
            .into_iter()
            .enumerate()
            .partition(|(i, _)| take(*i));
        let strip = |v: Vec<(usize, UttFrames)>| FrameSet {
            utts: v.into_iter().map(|(_, u)| u).collect(),
            dim,
        };
        (strip(a), strip(b))
    }
}

/// Features and labels for `utts` of `corpus` through `extractor`. `progress` is called once per
/// utterance. Errors name the audio or label file.
pub fn load(
    corpus: &Corpus,
    utts: &[&Utterance],
    extractor: &Extractor,
    cache: Option<&FeatureCache>,
    progress: impl Fn() + Sync,
) -> Result<FrameSet> {
    if utts.is_empty() {
        return Err(Error::format(
            &corpus.root,
            "no utterances to load (is the split empty?)",
        ));
    }
    let phones = PhoneSet::timit();
    let geom = extractor.frontend.framing.geometry;
    type Loaded = (Array2<f32>, (Vec<Option<FrameLabel>>, (u64, u32)));
    let chained: Vec<Loaded> = utts
        .par_iter()
        .map(|u| {
            let wav = extractor.read_utterance(u)?;
            let feats = crate::train::cmvn::chain_cached(extractor, cache, u, Some(&wav))?;
            // The audio as read (resampled to the pipeline's rate if it asks for that).
            let labels =
                frame_labels_at(u, wav.samples.len() as u64, &geom, wav.sample_rate, phones)?;
            if labels.frames.len() != feats.nrows() {
                return Err(Error::format(
                    &u.audio,
                    format!(
                        "{} frames of features but {} of labels (stale cache at {}?)",
                        feats.nrows(),
                        labels.frames.len(),
                        cache.map_or("-".into(), |c| c.dir().display().to_string())
                    ),
                ));
            }
            progress();
            let len = (wav.samples.len() as u64, wav.sample_rate);
            Ok((feats, (labels.frames, len)))
        })
        .collect::<Result<_>>()?;
    let (feats, labels): (Vec<_>, Vec<_>) = chained.into_iter().unzip();
    let pooled = crate::train::cmvn::pooled_stats(corpus, utts, &feats, extractor, cache)?;
    let feats = extractor.post(feats, Some(&pooled))?;
    Ok(FrameSet {
        dim: extractor.dim(),
        utts: utts
            .iter()
            .zip(feats)
            .zip(labels)
            .map(
                |((u, feats), (labels, (num_samples, sample_rate)))| UttFrames {
                    id: u.id.clone(),
                    speaker: u.speaker.clone(),
                    sentence: u.sentence.clone(),
                    feats,
                    labels,
                    num_samples,
                    sample_rate,
                },
            )
            .collect(),
    })
}
