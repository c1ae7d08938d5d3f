//! Options of the flat start: monophone GMM training from transcripts without times (Kaldi's
//! `steps/train_mono.sh`; the recipe is in the training layer, `train::flat_start`). Here, beside
//! the GMM's other options, so that a pipeline file's `hmm.flat_start` can hold them.

use super::{GmmConfig, GmmInit};
use crate::error::{Error, Result};
use crate::options;

options! {
    /// Flat-start monophone training (Kaldi steps/train_mono.sh).
    pub struct FlatStartConfig {
        /// EM passes, the first on the equal alignment (Kaldi num_iters 40).
        iterations: usize = 40,
        /// Passes over which the Gaussian count grows (Kaldi max_iter_inc 30).
        mixup_iterations: usize = 30,
        /// Gaussians over all states at the end of the growth (Kaldi totgauss 1000).
        total_gaussians: usize = 1000,
        /// Exponent on state occupancy when the Gaussians are shared out (Kaldi --power 0.25).
        power: f64 = 0.25,
        /// Frames per Gaussian a state needs to be given more on mix-up (Kaldi gmm-mixup --min-count 20).
        mixup_min_count: f32 = 20.0,
        /// Minimum occupancy of a Gaussian in EM (Kaldi --min-gaussian-occupancy 3).
        min_count: f32 = 3.0,
        /// Variance floor, as a fraction of the global per-dimension variance.
        var_floor: f32 = 0.01,
        /// Passes after the first that train on forward-backward state posteriors over every path of each transcript (HTK HERest's embedded re-estimation) instead of on one Viterbi path; 0: Viterbi training throughout, as Kaldi.
        baum_welch_passes: usize = 0,
        /// Seed of the equal alignment's random choices (optional silences, pronunciations); `--seed` replaces it.
        seed: u64 = 0,
    }
}

impl FlatStartConfig {
    /// Check value ranges; the error names the option.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("flat-start options: {what}")));
        if self.iterations == 0 {
            return bad("iterations must be at least 1".into());
        }
        if self.mixup_iterations >= self.iterations {
            return bad(format!(
                "mixup_iterations ({}) must be below iterations ({})",
                self.mixup_iterations, self.iterations
            ));
        }
        if self.baum_welch_passes >= self.iterations {
            return bad(format!(
                "baum_welch_passes ({}) must be below iterations ({}): the first pass trains on \
                 the equal alignment",
                self.baum_welch_passes, self.iterations
            ));
        }
        if !(self.power >= 0.0 && self.power <= 1.0) {
            return bad(format!("power must be in [0, 1], got {}", self.power));
        }
        for (name, x) in [
            ("mixup_min_count", self.mixup_min_count),
            ("min_count", self.min_count),
        ] {
            if !(x >= 0.0 && x.is_finite()) {
                return bad(format!("{name} must be a number >= 0, got {x}"));
            }
        }
        if !(self.var_floor > 0.0 && self.var_floor <= 1.0) {
            return bad(format!(
                "var_floor must be in (0, 1], got {}",
                self.var_floor
            ));
        }
        Ok(())
    }

    /// The GMM settings of one EM pass over aligned frames (the flat start's passes, and those
    /// of speaker-adaptive training after it): one step from the current mixtures, this
    /// config's variance floor and minimum Gaussian occupancy.
    pub(crate) fn em_config(&self) -> GmmConfig {
        GmmConfig {
            gaussians_per_state: 1,
            iterations: 1,
            init: GmmInit::Split,
            var_floor: self.var_floor,
            min_count: self.min_count,
            ..GmmConfig::default()
        }
    }
}
