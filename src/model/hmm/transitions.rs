//! Transition probabilities per (phone, state): a self-loop `a` and a forward `1 - a` (from the
//! last state, the forward transition leaves the phone). Shared by all contexts of a phone, as
//! Kaldi's transition model shares them per phone-state (not per tied state).
//!
//! Re-estimation from alignments is by counts (Kaldi's `TransitionModel::MleUpdate`): every frame
//! of a phone takes one transition out of its state, a self-loop when the next frame stays in the
//! same state and a forward transition otherwise (the phone's last frame always takes its exit).
//! A state seen fewer than `min_count` times keeps its probabilities; otherwise the relative
//! frequencies are floored at `floor` and renormalised.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{HmmConfig, Topology};
use crate::error::{Error, Result};

/// Self-loop probability of every state of every phone (the forward probability is 1 minus it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transitions {
    /// Phone names, one per row of `self_loop`.
    phones: Vec<String>,
    /// Per phone, per state: the self-loop probability.
    self_loop: Vec<Vec<f64>>,
}

/// What [`Transitions::update`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UpdateSummary {
    /// States re-estimated from their counts.
    pub updated: usize,
    /// States seen fewer than `min_count` times, left as they were.
    pub kept: usize,
}

impl Transitions {
    /// Every state of `topology` with self-loop probability `self_loop` (in (0, 1)).
    pub fn new<S: AsRef<str>>(
        phones: &[S],
        topology: &Topology,
        self_loop: f64,
    ) -> Result<Transitions> {
        if phones.len() != topology.num_phones() {
            return Err(Error::invalid(format!(
                "{} phone names for a topology of {} phones",
                phones.len(),
                topology.num_phones()
            )));
        }
        if !(self_loop > 0.0 && self_loop < 1.0) {
            return Err(Error::invalid(format!(
                "the initial self-loop probability must be in (0, 1), got {self_loop}"
            )));
        }
        Ok(Transitions {
            phones: phones.iter().map(|p| p.as_ref().to_string()).collect(),
            self_loop: (0..phones.len() as u16)
                .map(|p| vec![self_loop; topology.states(p)])
                .collect(),
        })
    }

    /// [`Transitions::new`] with the options' initial self-loop probability.
    pub fn from_config<S: AsRef<str>>(
        phones: &[S],
        topology: &Topology,
        cfg: &HmmConfig,
    ) -> Result<Transitions> {
        cfg.validate()?;
        Self::new(phones, topology, cfg.self_loop_prob)
    }

    /// Phones covered.
    pub fn num_phones(&self) -> usize {
        self.phones.len()
    }

    /// Phone names, indexed by id.
    pub fn phones(&self) -> &[String] {
        &self.phones
    }

    /// The topology these probabilities are for (an error for a damaged table).
    pub fn topology(&self) -> Result<Topology> {
        self.validate()?;
        Topology::from_counts(self.self_loop.iter().map(|s| s.len() as u8).collect())
    }

    /// Probability of staying in state `state` of `phone` (its self-loop); leaving has 1 minus
    /// this.
    pub fn self_loop_prob(&self, phone: u16, state: u8) -> f64 {
        self.self_loop[phone as usize][state as usize]
    }

    /// Set one state's self-loop probability (in (0, 1)).
    pub fn set_self_loop_prob(&mut self, phone: u16, state: u8, prob: f64) -> Result<()> {
        if !(prob > 0.0 && prob < 1.0) {
            return Err(Error::invalid(format!(
                "a self-loop probability must be in (0, 1), got {prob}"
            )));
        }
        let slot = self
            .self_loop
            .get_mut(phone as usize)
            .and_then(|row| row.get_mut(state as usize))
            .ok_or_else(|| Error::invalid(format!("phone id {phone} has no state {state}")))?;
        *slot = prob;
        Ok(())
    }

    /// Natural log of the self-loop probability.
    pub fn log_self_loop(&self, phone: u16, state: u8) -> f64 {
        self.self_loop_prob(phone, state).ln()
    }

    /// Natural log of the forward (for the last state: exit) probability.
    pub fn log_forward(&self, phone: u16, state: u8) -> f64 {
        (1.0 - self.self_loop_prob(phone, state)).ln()
    }

    /// Empty counts shaped like these transitions.
    pub fn counts(&self) -> TransitionCounts {
        TransitionCounts {
            self_loops: self.self_loop.iter().map(|s| vec![0.0; s.len()]).collect(),
            forwards: self.self_loop.iter().map(|s| vec![0.0; s.len()]).collect(),
        }
    }

    /// Re-estimate from counts (see the module comment); `floor` in (0, 0.5), `min_count` >= 0.
    pub fn update(
        &mut self,
        counts: &TransitionCounts,
        floor: f64,
        min_count: f64,
    ) -> Result<UpdateSummary> {
        if !(floor > 0.0 && floor < 0.5) {
            return Err(Error::invalid(format!(
                "transition floor must be in (0, 0.5), got {floor}"
            )));
        }
        if !(min_count >= 0.0 && min_count.is_finite()) {
            return Err(Error::invalid(format!(
                "transition min count must be a number >= 0, got {min_count}"
            )));
        }
        if counts.self_loops.len() != self.self_loop.len()
            || counts
                .self_loops
                .iter()
                .zip(&self.self_loop)
                .any(|(c, s)| c.len() != s.len())
        {
            return Err(Error::invalid(
                "transition counts of another topology than the transitions",
            ));
        }
        let mut summary = UpdateSummary::default();
        for (p, probs) in self.self_loop.iter_mut().enumerate() {
            for (s, a) in probs.iter_mut().enumerate() {
                let (n_self, n_fwd) = (counts.self_loops[p][s], counts.forwards[p][s]);
                let total = n_self + n_fwd;
                if total < min_count || total <= 0.0 {
                    summary.kept += 1;
                    continue;
                }
                let (p_self, p_fwd) = ((n_self / total).max(floor), (n_fwd / total).max(floor));
                *a = p_self / (p_self + p_fwd);
                summary.updated += 1;
            }
        }
        Ok(summary)
    }

    /// [`Transitions::update`] with the options' floor and minimum count.
    pub fn update_with(
        &mut self,
        counts: &TransitionCounts,
        cfg: &HmmConfig,
    ) -> Result<UpdateSummary> {
        cfg.validate()?;
        self.update(counts, cfg.transition_floor, cfg.transition_min_count)
    }

    /// Write as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_json(path, self)
    }

    /// Read JSON written by [`Transitions::save`], checking every probability.
    pub fn load(path: &Path) -> Result<Transitions> {
        let t: Transitions = crate::io::read_json(path)?;
        t.validate()
            .map_err(|e| Error::format(path, e.to_string()))?;
        Ok(t)
    }

    /// Check shapes and that every probability is in (0, 1) (for a model read from elsewhere).
    pub fn validate(&self) -> Result<()> {
        self.check().map_err(Error::invalid)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.phones.len() != self.self_loop.len() {
            return Err(format!(
                "{} phone names for {} rows of self-loop probabilities",
                self.phones.len(),
                self.self_loop.len()
            ));
        }
        let counts: Vec<u8> = self
            .self_loop
            .iter()
            .map(|s| s.len().min(255) as u8)
            .collect();
        Topology::from_counts(counts).map_err(|e| e.to_string())?;
        for (p, probs) in self.self_loop.iter().enumerate() {
            if let Some((s, a)) = probs
                .iter()
                .enumerate()
                .find(|(_, a)| !(**a > 0.0 && **a < 1.0))
            {
                return Err(format!(
                    "phone {} state {s}: self-loop probability {a} is not in (0, 1)",
                    self.phones[p]
                ));
            }
        }
        Ok(())
    }
}

/// Transition counts per (phone, state), accumulated from alignments.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionCounts {
    self_loops: Vec<Vec<f64>>,
    forwards: Vec<Vec<f64>>,
}

impl TransitionCounts {
    /// Count the transitions of one phone occurrence whose frames are in `states` (one state
    /// index per frame, in time order): a self-loop when a frame's successor has the same state,
    /// a forward transition otherwise, the last frame's exit included.
    pub fn add_segment(&mut self, phone: u16, states: &[u8]) -> Result<()> {
        let Some(row) = self.self_loops.get(phone as usize) else {
            return Err(Error::invalid(format!(
                "phone id {phone} is outside the {}-phone transition model",
                self.self_loops.len()
            )));
        };
        if let Some(&s) = states.iter().find(|&&s| s as usize >= row.len()) {
            return Err(Error::invalid(format!(
                "state {s} of phone id {phone}, which has {} states",
                row.len()
            )));
        }
        for (i, &s) in states.iter().enumerate() {
            if states.get(i + 1) == Some(&s) {
                self.self_loops[phone as usize][s as usize] += 1.0;
            } else {
                self.forwards[phone as usize][s as usize] += 1.0;
            }
        }
        Ok(())
    }

    /// Add expected counts of (phone, state) (forward-backward's: fractional, >= 0).
    pub fn add_expected(
        &mut self,
        phone: u16,
        state: u8,
        self_loops: f64,
        forwards: f64,
    ) -> Result<()> {
        let Some(n) = self.self_loops.get(phone as usize).map(Vec::len) else {
            return Err(Error::invalid(format!(
                "phone id {phone} is outside the {}-phone transition model",
                self.self_loops.len()
            )));
        };
        if state as usize >= n {
            return Err(Error::invalid(format!(
                "state {state} of phone id {phone}, which has {n} states"
            )));
        }
        if !(self_loops >= 0.0 && forwards >= 0.0 && (self_loops + forwards).is_finite()) {
            return Err(Error::invalid(format!(
                "expected transition counts must be finite and >= 0, got {self_loops} and \
                 {forwards}"
            )));
        }
        self.self_loops[phone as usize][state as usize] += self_loops;
        self.forwards[phone as usize][state as usize] += forwards;
        Ok(())
    }

    /// Add another accumulator's counts (for a reduce over utterances).
    pub fn merge(&mut self, other: &TransitionCounts) -> Result<()> {
        if self.self_loops.len() != other.self_loops.len()
            || self
                .self_loops
                .iter()
                .zip(&other.self_loops)
                .any(|(a, b)| a.len() != b.len())
        {
            return Err(Error::invalid(
                "merging transition counts of two topologies",
            ));
        }
        for (a, b) in self.self_loops.iter_mut().zip(&other.self_loops) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        for (a, b) in self.forwards.iter_mut().zip(&other.forwards) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        Ok(())
    }

    /// Self-loops counted for (phone, state).
    pub fn self_loops(&self, phone: u16, state: u8) -> f64 {
        self.self_loops[phone as usize][state as usize]
    }

    /// Forward transitions (exits from the last state) counted for (phone, state).
    pub fn forwards(&self, phone: u16, state: u8) -> f64 {
        self.forwards[phone as usize][state as usize]
    }
}
