//! The `states:` section of pipelines and experiments: how many tied states every classifier
//! predicts, and whether they come from a grown tree or a given tying table.

use std::path::PathBuf;

use super::TreeConfig;
use crate::options;

options! {
    /// The tied HMM states every classifier predicts.
    pub struct StatesConfig {
        /// Target number of tied states (tree leaves); 144 or fewer gives untied monophone states (48 phones x 3).
        tied: usize = 500,
        /// Smallest log-likelihood gain worth a split.
        min_gain: f64 = 100.0,
        /// Smallest number of training frames on each side of a split.
        min_count: f64 = 50.0,
        /// Phonetic questions file (default: the built-in TIMIT classes, data/questions.txt).
        questions: Option<PathBuf> = None,
        /// A tying table (`centre state left right leaf` lines) to use instead of growing a tree.
        map: Option<PathBuf> = None,
    }
}

impl StatesConfig {
    pub fn tree_config(&self) -> TreeConfig {
        TreeConfig {
            num_leaves: self.tied,
            min_gain: self.min_gain,
            min_count: self.min_count,
            ..TreeConfig::default()
        }
    }
}
