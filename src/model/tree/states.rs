//! The `states:` section of pipelines and experiments: how many tied states every classifier
//! predicts, and whether they come from a grown tree or a given tying table.

use std::path::PathBuf;

use super::TreeConfig;
use crate::error::{Error, Result};
use crate::options;

options! {
    /// The tied HMM states every classifier predicts.
    pub struct StatesConfig {
        /// Target number of tied states (tree leaves), 144 (untied monophone states: 48 phones x 3) to 100000.
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

/// Fewest tied states: one per state of each of the 48 phones (untied monophone states).
pub const MIN_TIED: usize = 144;
/// Most tied states accepted (full TIMIT recipes use a few thousand).
pub const MAX_TIED: usize = 100_000;

impl StatesConfig {
    /// Check value ranges; errors say which option is wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("states options: {what}")));
        if !(MIN_TIED..=MAX_TIED).contains(&self.tied) {
            return bad(format!(
                "tied must be between {MIN_TIED} (untied monophone states: 48 phones x 3) and \
                 {MAX_TIED}, got {}",
                self.tied
            ));
        }
        if !(self.min_gain.is_finite() && self.min_gain >= 0.0) {
            return bad(format!("min_gain must be >= 0, got {}", self.min_gain));
        }
        if !(self.min_count.is_finite() && self.min_count >= 0.0) {
            return bad(format!("min_count must be >= 0, got {}", self.min_count));
        }
        Ok(())
    }

    /// The tree-growing options these settings imply.
    pub fn tree_config(&self) -> TreeConfig {
        TreeConfig {
            num_leaves: self.tied,
            min_gain: self.min_gain,
            min_count: self.min_count,
            ..TreeConfig::default()
        }
    }
}
