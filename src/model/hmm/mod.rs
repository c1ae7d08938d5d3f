//! The HMM around the tied states: each phone a left-to-right chain of emitting states (self-loop
//! and forward, as HTK and Kaldi), whose emissions are the tied states the tree already produces,
//! so the GMM, the DNN and the HMM share one tying.
//!
//! - [`topology`]: how many emitting states each phone has ([`Topology`]).
//! - [`context`]: a dense `(left, centre, right, state) -> tied state` table over 48-set phone ids
//!   ([`ContextTable`]), built once from any tying so that decoding and alignment never touch
//!   strings, and the test for a context-independent (monophone) tying.
//! - [`transitions`]: self-loop / forward probabilities per (phone, state), re-estimated from
//!   alignments by counts ([`Transitions`], [`TransitionCounts`]); serialised as JSON with a model.
//!
//! [`HmmConfig`] holds the options. The decoder and aligner that use all this are in
//! the `decode` layer above.

pub mod context;
pub mod topology;
pub mod transitions;

pub use context::ContextTable;
pub use topology::Topology;
pub use transitions::{TransitionCounts, Transitions};

use crate::error::{Error, Result};
use crate::options;

/// States per phone the frame labels and the tying tree provide: begin, middle, end
/// ([`crate::corpus::labels`] cuts every phone segment in thirds).
pub const LABEL_STATES: usize = 3;

options! {
    /// Phone HMMs: topology and transition probabilities.
    pub struct HmmConfig {
        /// Emitting states per phone; the frame labels and the tying tree use 3 (begin, middle, end), so only 3 is accepted.
        states_per_phone: usize = 3,
        /// Emitting states of `sil`; only 3 is accepted, like the other phones (see states_per_phone).
        silence_states: usize = 3,
        /// Initial self-loop probability of every state (Kaldi's default topology: 0.75).
        self_loop_prob: f64 = 0.75,
        /// Floor on re-estimated transition probabilities (Kaldi's transition-floor: 0.01).
        transition_floor: f64 = 0.01,
        /// A state keeps its old probabilities when it was seen fewer times than this in the alignments (Kaldi: 5).
        transition_min_count: f64 = 5.0,
    }
}

impl HmmConfig {
    /// Check value ranges; the error names the option and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("hmm options: {what}")));
        for (name, n) in [
            ("states_per_phone", self.states_per_phone),
            ("silence_states", self.silence_states),
        ] {
            if n != LABEL_STATES {
                return bad(format!(
                    "{name} must be {LABEL_STATES} (the frame labels and the tying tree cut every \
                     phone into {LABEL_STATES} states: begin, middle, end), got {n}"
                ));
            }
        }
        if !(self.self_loop_prob > 0.0 && self.self_loop_prob < 1.0) {
            return bad(format!(
                "self_loop_prob must be in (0, 1), got {}",
                self.self_loop_prob
            ));
        }
        if !(self.transition_floor > 0.0 && self.transition_floor < 0.5) {
            return bad(format!(
                "transition_floor must be in (0, 0.5), got {}",
                self.transition_floor
            ));
        }
        if !(self.transition_min_count >= 0.0 && self.transition_min_count.is_finite()) {
            return bad(format!(
                "transition_min_count must be a number >= 0, got {}",
                self.transition_min_count
            ));
        }
        Ok(())
    }

    /// The topology for `num_phones` phones, `silence` being the id of `sil` (after validating).
    pub fn topology(&self, num_phones: usize, silence: u16) -> Result<Topology> {
        self.validate()?;
        if silence as usize >= num_phones {
            return Err(Error::invalid(format!(
                "silence phone id {silence} is outside the {num_phones}-phone set"
            )));
        }
        let mut states = vec![self.states_per_phone as u8; num_phones];
        states[silence as usize] = self.silence_states as u8;
        Topology::from_counts(states)
    }
}
