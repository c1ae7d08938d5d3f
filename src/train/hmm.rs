//! The phone HMMs stored with every trained model: transition probabilities estimated from the
//! training alignment (hand labels), the phone bigram of the training transcripts, and the tied
//! states' log priors (for hybrid DNN scores). Saved as `hmm.json` and `lm.json` in the model
//! directory.
//!
//! Transitions from hand labels: each labelled phone segment's frames carry their state (begin,
//! middle, end by position, [`crate::corpus::labels`]); the segment's state sequence is counted
//! with [`TransitionCounts::add_segment`] and the probabilities re-estimated once from the
//! initial self-loop probability ([`Transitions::update_with`], Kaldi's MLE update).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::corpus::{FrameLabel, PhoneSet, Utterance};
use crate::decode::{PRIOR_FLOOR, PhoneBigram, log_priors, phones48};
use crate::error::{Error, Result};
use crate::model::hmm::{ContextTable, HmmConfig, Topology, TransitionCounts, Transitions};
use crate::train::dataset::FrameSet;
use crate::train::targets::Targets;

/// Everything a model needs besides its classifier to decode and align.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HmmModel {
    /// The options the HMMs were built with.
    pub config: HmmConfig,
    /// States per phone (48-set order).
    pub topology: Topology,
    /// Self-loop probabilities per (phone, state).
    pub transitions: Transitions,
    /// Natural-log prior of each tied state, from the training state counts.
    pub log_priors: Vec<f32>,
    /// Training segments whose transitions were counted.
    pub counted_segments: usize,
    /// The phone bigram (stored in its own file, `lm.json`).
    #[serde(skip)]
    pub lm: Option<PhoneBigram>,
}

/// The two files of an [`HmmModel`] in a model directory.
pub fn hmm_files(dir: &Path) -> (PathBuf, PathBuf) {
    (dir.join("hmm.json"), dir.join("lm.json"))
}

impl HmmModel {
    /// Estimate from the training split: `train` its features' frame labels, `utts` the same
    /// utterances (their transcripts train the LM), `targets` the tying (its training counts
    /// give the priors).
    pub fn estimate(
        cfg: &HmmConfig,
        train: &FrameSet,
        utts: &[&Utterance],
        targets: &Targets,
    ) -> Result<HmmModel> {
        let set = PhoneSet::timit();
        let topology = cfg.topology(set.p48.len(), set.silence48())?;
        let mut transitions = Transitions::from_config(set.p48.names(), &topology, cfg)?;
        let mut counts = transitions.counts();
        let mut counted_segments = 0;
        for u in &train.utts {
            counted_segments += count_label_segments(&u.labels, &mut counts)?;
        }
        transitions.update_with(&counts, cfg)?;
        let seqs = utts
            .iter()
            .map(|u| phones48(&u.phones, set, &u.phone_file))
            .collect::<Result<Vec<_>>>()?;
        let lm = PhoneBigram::estimate(set.p48.names(), seqs.iter().map(Vec::as_slice))?;
        Ok(HmmModel {
            config: cfg.clone(),
            topology,
            transitions,
            log_priors: log_priors(&targets.train_counts, PRIOR_FLOOR)?,
            counted_segments,
            lm: Some(lm),
        })
    }

    /// The phone LM (always present once estimated or loaded).
    pub fn lm(&self) -> Result<&PhoneBigram> {
        self.lm
            .as_ref()
            .ok_or_else(|| Error::invalid("the HMM has no phone LM (lm.json was not read)"))
    }

    /// The dense context table of `targets`' tying over this topology.
    pub fn context_table(&self, targets: &Targets) -> Result<ContextTable> {
        ContextTable::from_tying(&targets.tying, &PhoneSet::timit().p48, &self.topology)
    }

    /// Write `hmm.json` and `lm.json` into `dir` (atomically).
    pub fn save(&self, dir: &Path) -> Result<()> {
        let (hmm, lm) = hmm_files(dir);
        crate::io::json::write_json(&hmm, self)?;
        self.lm()?.save(&lm)
    }

    /// Read `hmm.json` and `lm.json` from a model directory whose tying has `num_states` tied
    /// states; `Ok(None)` when the directory has neither (a model trained before the HMMs were
    /// stored).
    pub fn load(dir: &Path, num_states: usize) -> Result<Option<HmmModel>> {
        let (hmm_path, lm_path) = hmm_files(dir);
        if !hmm_path.exists() && !lm_path.exists() {
            return Ok(None);
        }
        let mut hmm: HmmModel = crate::io::json::read_json(&hmm_path)?;
        let damaged = |what: String| Error::format(&hmm_path, what);
        hmm.transitions
            .validate()
            .map_err(|e| damaged(e.to_string()))?;
        if hmm.transitions.topology()? != hmm.topology {
            return Err(damaged(
                "the transitions and the topology have different state counts".into(),
            ));
        }
        if hmm.log_priors.len() != num_states || hmm.log_priors.iter().any(|p| !p.is_finite()) {
            return Err(damaged(format!(
                "{} log priors (finite numbers expected, one per each of the {num_states} tied states)",
                hmm.log_priors.len()
            )));
        }
        let lm = PhoneBigram::load(&lm_path)?;
        if lm.phones() != hmm.transitions.phones() {
            return Err(Error::format(
                &lm_path,
                "the phone LM is over another phone list than hmm.json",
            ));
        }
        hmm.lm = Some(lm);
        Ok(Some(hmm))
    }
}

/// Count the transitions of every labelled segment of one utterance's frame labels. A segment
/// is a run of labelled frames of one phone occurrence: it ends at an unlabelled frame, at a
/// change of phone or context, or where the state goes back (the next occurrence of the same
/// phone). Returns the number of segments counted.
pub fn count_label_segments(
    labels: &[Option<FrameLabel>],
    counts: &mut TransitionCounts,
) -> Result<usize> {
    let mut segments = 0;
    let mut states: Vec<u8> = Vec::with_capacity(64);
    let mut current: Option<FrameLabel> = None;
    for label in labels.iter().chain(std::iter::once(&None)) {
        let continues = match (label, &current) {
            (Some(l), Some(c)) => {
                l.phone == c.phone && l.left == c.left && l.right == c.right && l.state >= c.state
            }
            _ => false,
        };
        if !continues {
            if let Some(c) = current {
                counts.add_segment(c.phone, &states)?;
                segments += 1;
            }
            states.clear();
        }
        if let Some(l) = label {
            states.push(l.state);
        }
        current = *label;
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(phone: u16, state: u8, left: u16, right: u16) -> Option<FrameLabel> {
        Some(FrameLabel {
            phone,
            state,
            left,
            right,
        })
    }

    #[test]
    fn segments_split_at_gaps_context_changes_and_state_resets() {
        let topo = Topology::uniform(4, 3).unwrap();
        let trans = Transitions::new(&["a", "b", "c", "d"], &topo, 0.5).unwrap();
        let mut counts = trans.counts();
        let labels = [
            // phone 1: states 0 0 1 2 2 (two self-loops at 0 and 2... one at 0, one at 2)
            l(1, 0, 0, 1),
            l(1, 0, 0, 1),
            l(1, 1, 0, 1),
            l(1, 2, 0, 1),
            l(1, 2, 0, 1),
            // the next occurrence of phone 1 (state goes back to 0)
            l(1, 0, 1, 2),
            l(1, 2, 1, 2),
            None,
            l(2, 1, 1, 0),
        ];
        let n = count_label_segments(&labels, &mut counts).unwrap();
        assert_eq!(n, 3);
        // Phone 1: self-loops at 0 and 2 once each; forwards 0->1, 1->2, exit from 2 (twice),
        // and 0->(2) of the short occurrence.
        assert_eq!(counts.self_loops(1, 0), 1.0);
        assert_eq!(counts.self_loops(1, 1), 0.0);
        assert_eq!(counts.self_loops(1, 2), 1.0);
        assert_eq!(counts.forwards(1, 0), 2.0);
        assert_eq!(counts.forwards(1, 1), 1.0);
        assert_eq!(counts.forwards(1, 2), 2.0);
        assert_eq!(counts.forwards(2, 1), 1.0);
    }
}
