//! Phone HMM topology: every phone a left-to-right chain of emitting states, each with a self-loop
//! and a forward transition; the last state's forward transition leaves the phone. No skips (the
//! HTK / Kaldi 3-state topology). The count may differ per phone (silence is often given more);
//! [`super::HmmConfig`] accepts only the 3 states the frame labels and the tree provide, but
//! everything built on a [`Topology`] (context table, transitions, decoder, aligner) works with
//! any count from 1 to [`MAX_STATES`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Most emitting states a phone may have.
pub const MAX_STATES: usize = 8;

/// Number of emitting states of each phone, indexed by phone id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u8>", into = "Vec<u8>")]
pub struct Topology {
    states: Vec<u8>,
}

impl Topology {
    /// The same number of states for all `num_phones` phones.
    pub fn uniform(num_phones: usize, states: usize) -> Result<Topology> {
        Self::from_counts(vec![states.min(u8::MAX as usize) as u8; num_phones])
    }

    /// One state count per phone, each from 1 to [`MAX_STATES`].
    pub fn from_counts(states: Vec<u8>) -> Result<Topology> {
        if states.is_empty() {
            return Err(Error::invalid("a topology needs at least one phone"));
        }
        if states.len() > u16::MAX as usize {
            return Err(Error::invalid(format!(
                "{} phones: phone ids are 16-bit",
                states.len()
            )));
        }
        if let Some((p, &n)) = states
            .iter()
            .enumerate()
            .find(|(_, n)| **n == 0 || **n as usize > MAX_STATES)
        {
            return Err(Error::invalid(format!(
                "phone {p} has {n} emitting states; a phone needs 1 to {MAX_STATES}"
            )));
        }
        Ok(Topology { states })
    }

    /// Phones the topology covers.
    pub fn num_phones(&self) -> usize {
        self.states.len()
    }

    /// Emitting states of `phone`.
    pub fn states(&self, phone: u16) -> usize {
        self.states[phone as usize] as usize
    }

    /// The largest state count of any phone.
    pub fn max_states(&self) -> usize {
        self.states.iter().copied().max().unwrap_or(0) as usize
    }
}

impl TryFrom<Vec<u8>> for Topology {
    type Error = Error;
    fn try_from(states: Vec<u8>) -> Result<Topology> {
        Topology::from_counts(states)
    }
}

impl From<Topology> for Vec<u8> {
    fn from(t: Topology) -> Vec<u8> {
        t.states
    }
}
