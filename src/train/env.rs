//! Where a run reads from (corpus, feature cache) and whom it tells how it goes.

use crate::corpus::{Corpus, Split, SplitOptions, Splits, Utterance};
use crate::error::Result;
use crate::io::cache::FeatureCache;
use crate::pipeline::extractor::Extractor;
use crate::train::dataset::{self, FrameSet};
use crate::train::precomputed::Precomputed;

/// What a run reports while it works; the CLI draws progress bars from it.
pub trait Observer: Sync {
    /// A new phase with `total` steps (0 = unknown).
    fn begin(&self, _what: &str, _total: u64) {}
    /// One step done, with an optional status line.
    fn step(&self, _msg: Option<String>) {}
    /// The phase is over.
    fn end(&self) {}
}

/// An observer that says nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// Where a run reads from.
pub struct Env<'a> {
    /// The corpus read.
    pub corpus: &'a Corpus,
    /// Where chain outputs are cached; `None` computes them every time.
    pub cache: Option<FeatureCache>,
    /// Told about progress (a progress bar, or nothing).
    pub observer: &'a dyn Observer,
    /// Features computed elsewhere, read instead of computing the pipeline's they stand for.
    pub features: Option<&'a Precomputed>,
}

impl<'a> Env<'a> {
    /// A run over `corpus` that computes every feature (no cache), reports nothing and reads no
    /// precomputed features; the setters below change each.
    pub fn new(corpus: &'a Corpus) -> Env<'a> {
        Env {
            corpus,
            cache: None,
            observer: &Quiet,
            features: None,
        }
    }

    /// Cache chain outputs in `cache`.
    pub fn cache(self, cache: FeatureCache) -> Env<'a> {
        Env {
            cache: Some(cache),
            ..self
        }
    }

    /// Report progress to `observer`.
    pub fn observer(self, observer: &'a dyn Observer) -> Env<'a> {
        Env { observer, ..self }
    }

    /// Read `features` (computed elsewhere) wherever they stand for the pipeline's.
    pub fn features(self, features: &'a Precomputed) -> Env<'a> {
        Env {
            features: Some(features),
            ..self
        }
    }

    /// The same cache and observer over another corpus (e.g. a realigned copy of this one).
    pub fn over<'b>(&'b self, corpus: &'b Corpus) -> Env<'b> {
        Env {
            corpus,
            cache: self.cache.clone(),
            observer: self.observer,
            features: self.features,
        }
    }

    /// The utterances of `split` under the corpus's standard split rule.
    pub fn utterances(&self, split: Split) -> Vec<&Utterance> {
        Splits::for_corpus(self.corpus).utterances(self.corpus, split, &SplitOptions::default())
    }

    /// Features and labels of `utts` through `extractor`, with a progress phase.
    pub fn load(&self, what: &str, utts: &[&Utterance], extractor: &Extractor) -> Result<FrameSet> {
        self.observer.begin(what, utts.len() as u64);
        let step = || self.observer.step(None);
        let set = match self.features.filter(|p| p.serves(extractor)) {
            Some(p) => p.load(utts, extractor, step),
            None => dataset::load(self.corpus, utts, extractor, self.cache.as_ref(), step),
        };
        self.observer.end();
        set
    }
}
