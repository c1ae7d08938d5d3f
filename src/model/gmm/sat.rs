//! Options of speaker-adaptive training: per-speaker fMLLR transforms ([`super::fmllr`])
//! alternated with re-estimation of the GMMs on the transformed features and realignment, after
//! a flat start (Kaldi's `steps/train_sat.sh`, scaled down; the recipe is in the training layer).

use crate::error::{Error, Result};
use crate::options;

options! {
    /// Speaker-adaptive training after the flat start (Kaldi steps/train_sat.sh, scaled down).
    pub struct SatConfig {
        /// Rounds of fMLLR estimation, realignment and EM passes (0 = no speaker adaptation).
        rounds: usize = 0,
        /// EM passes on the transformed features per round.
        em_passes: usize = 3,
        /// Sweeps of fMLLR row updates per estimate (Kaldi fmllr num_iters 40).
        fmllr_iterations: usize = 10,
        /// Frames a speaker needs for a transform; fewer keep the identity (Kaldi fmllr min_count 20).
        min_count: f64 = 20.0,
    }
}

impl SatConfig {
    /// Check value ranges; the error names the option.
    pub fn validate(&self) -> Result<()> {
        if self.rounds > 0 && (self.em_passes == 0 || self.fmllr_iterations == 0) {
            return Err(Error::invalid(format!(
                "sat options: em_passes ({}) and fmllr_iterations ({}) must be at least 1 when \
                 rounds is not 0",
                self.em_passes, self.fmllr_iterations
            )));
        }
        if !(self.min_count.is_finite() && self.min_count >= 0.0) {
            return Err(Error::invalid(format!(
                "sat options: min_count must be a number >= 0, got {}",
                self.min_count
            )));
        }
        Ok(())
    }
}
