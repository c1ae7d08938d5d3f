//! Where a run reads from (corpus, feature cache) and whom it tells how it goes.

use crate::corpus::{Corpus, Split, SplitOptions, Splits, Utterance};
use crate::error::Result;
use crate::io::cache::FeatureCache;
use crate::pipeline::extractor::Extractor;
use crate::train::dataset::{self, FrameSet};

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
}

impl Env<'_> {
    /// The same cache and observer over another corpus (e.g. a realigned copy of this one).
    pub fn over<'b>(&'b self, corpus: &'b Corpus) -> Env<'b> {
        Env {
            corpus,
            cache: self.cache.clone(),
            observer: self.observer,
        }
    }

    /// The utterances of `split` under the corpus's standard split rule.
    pub fn utterances(&self, split: Split) -> Vec<&Utterance> {
        Splits::for_corpus(self.corpus).utterances(self.corpus, split, &SplitOptions::default())
    }

    /// Features and labels of `utts` through `extractor`, with a progress phase.
    pub fn load(&self, what: &str, utts: &[&Utterance], extractor: &Extractor) -> Result<FrameSet> {
        self.observer.begin(what, utts.len() as u64);
        let set = dataset::load(self.corpus, utts, extractor, self.cache.as_ref(), || {
            self.observer.step(None)
        });
        self.observer.end();
        set
    }
}
