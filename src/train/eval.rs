//! Scoring a classifier: frame accuracy on tied states and folded to the 39-phone set (Lee & Hon
//! 1989), and the 39 x 39 confusion matrix.
//!
//! Every labelled frame counts. A frame whose phone state never occurred in training has no tied
//! state: it counts as a state error (no classifier can get it right) but is still scored on phones.

use std::fmt::Write as _;
use std::path::Path;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::PhoneSet;
use crate::error::{Error, Result};
use crate::model::Classifier;
use crate::train::dataset::FrameSet;
use crate::train::targets::Targets;

/// Counts from scoring one set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Labelled frames scored.
    pub frames: usize,
    /// Frames whose predicted tied state is the reference's.
    pub state_correct: usize,
    /// Frames whose predicted state's phone, folded to 39, is the reference phone's.
    pub phone_correct: usize,
    /// Labelled frames whose phone state has no tied state.
    pub unseen: usize,
    /// Reference 39-phone (rows) x predicted (columns) frame counts.
    #[serde(skip)]
    pub confusion: Array2<u64>,
}

impl Evaluation {
    /// Tied-state frame accuracy, 0..1.
    pub fn state_accuracy(&self) -> f64 {
        self.state_correct as f64 / self.frames.max(1) as f64
    }

    /// Frame accuracy folded to the 39-phone set, 0..1.
    pub fn phone_accuracy(&self) -> f64 {
        self.phone_correct as f64 / self.frames.max(1) as f64
    }

    fn empty(n39: usize) -> Evaluation {
        Evaluation {
            frames: 0,
            state_correct: 0,
            phone_correct: 0,
            unseen: 0,
            confusion: Array2::zeros((n39, n39)),
        }
    }

    fn merge(mut self, o: Evaluation) -> Evaluation {
        self.frames += o.frames;
        self.state_correct += o.state_correct;
        self.phone_correct += o.phone_correct;
        self.unseen += o.unseen;
        self.confusion += &o.confusion;
        self
    }

    /// The confusion matrix as CSV with 39-phone names on both axes (rows: reference).
    pub fn confusion_csv(&self) -> String {
        let names = PhoneSet::timit().p39.names();
        let mut s = String::from("reference\\predicted");
        for n in names {
            let _ = write!(s, ",{n}");
        }
        s.push('\n');
        for (r, row) in self.confusion.rows().into_iter().enumerate() {
            s.push_str(&names[r]);
            for c in row {
                let _ = write!(s, ",{c}");
            }
            s.push('\n');
        }
        s
    }
}

/// Score `model` on every labelled frame of `set` (rayon over utterances).
pub fn evaluate(model: &dyn Classifier, set: &FrameSet, targets: &Targets) -> Result<Evaluation> {
    if model.num_classes() != targets.num_states() {
        return Err(Error::invalid(format!(
            "the model predicts {} classes but the targets have {} tied states",
            model.num_classes(),
            targets.num_states()
        )));
    }
    if model.input_dim() != set.dim {
        return Err(Error::invalid(format!(
            "the model reads {}-dimensional frames but the pipeline gives {}",
            model.input_dim(),
            set.dim
        )));
    }
    let phones = PhoneSet::timit();
    let leaf39 = targets.leaf_phone39();
    let n39 = phones.p39.len();
    set.utts
        .par_iter()
        .map(|u| -> Result<Evaluation> {
            let mut e = Evaluation::empty(n39);
            let scores = model.log_scores(u.feats.view())?;
            if let Some((t, _)) = scores
                .rows()
                .into_iter()
                .enumerate()
                .find(|(_, r)| r.iter().any(|v| v.is_nan()))
            {
                return Err(Error::invalid(format!(
                    "utterance {}: the model's scores are NaN at frame {t} (damaged model?)",
                    u.id
                )));
            }
            for (row, label) in scores.rows().into_iter().zip(&u.labels) {
                let Some(label) = label else { continue };
                let best = argmax(row.as_slice().expect("standard layout")) as u32;
                let ref39 = phones.fold_48_to_39(label.phone) as usize;
                let hyp39 = leaf39[best as usize] as usize;
                e.frames += 1;
                match targets.state_of(label) {
                    Some(t) => e.state_correct += usize::from(t == best),
                    None => e.unseen += 1,
                }
                e.phone_correct += usize::from(ref39 == hyp39);
                e.confusion[[ref39, hyp39]] += 1;
            }
            Ok(e)
        })
        .try_reduce(|| Evaluation::empty(n39), |a, b| Ok(a.merge(b)))
}

/// Index of the largest score (the first one on ties).
pub fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Write the confusion matrix CSV atomically.
pub fn write_confusion_csv(path: &Path, e: &Evaluation) -> Result<()> {
    crate::io::atomic::write_bytes(path, e.confusion_csv().as_bytes())
}
