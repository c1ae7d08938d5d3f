//! Scoring a classifier: frame accuracy on tied states and folded to the 39-phone set (Lee & Hon
//! 1989), and the 39 x 39 confusion matrix.
//!
//! Every labelled frame counts. A frame whose phone state never occurred in training has no tied
//! state: it counts as a state error (no classifier can get it right) but is still scored on phones.

use std::fmt::Write as _;
use std::path::Path;

use ndarray::{Array2, ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::{FrameLabel, PhoneSet};
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

    /// Add another set's counts.
    pub fn merge(mut self, o: Evaluation) -> Evaluation {
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
    check_shapes(model, set, targets)?;
    let tally = Tally::new(targets);
    set.utts
        .par_iter()
        .map(|u| -> Result<Evaluation> {
            let mut e = tally.empty();
            let scores = model.log_scores(u.feats.view())?;
            tally.add(&mut e, &u.id, scores.view(), None, &u.labels)?;
            Ok(e)
        })
        .try_reduce(|| tally.empty(), |a, b| Ok(a.merge(b)))
}

/// An error unless `model` predicts `targets`' tied states from `set`'s frames.
pub fn check_shapes(model: &dyn Classifier, set: &FrameSet, targets: &Targets) -> Result<()> {
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
    Ok(())
}

/// Counts one utterance's frames into an [`Evaluation`], from scores computed elsewhere (so that
/// a caller that also decodes scores each frame once).
pub struct Tally<'a> {
    targets: &'a Targets,
    phones: &'static PhoneSet,
    leaf39: Vec<u16>,
}

impl<'a> Tally<'a> {
    /// A tally over `targets`' tied states.
    pub fn new(targets: &'a Targets) -> Tally<'a> {
        Tally {
            targets,
            phones: PhoneSet::timit(),
            leaf39: targets.leaf_phone39(),
        }
    }

    /// An evaluation of nothing, to add utterances to.
    pub fn empty(&self) -> Evaluation {
        Evaluation::empty(self.phones.p39.len())
    }

    /// Add utterance `id`'s labelled frames: the predicted state of frame t is the argmax of
    /// `scores[t] + offset` (`offset`: e.g. a GMM's log priors added to its likelihoods; the sum
    /// is the classifier's own score, rounded the same way). NaN scores are an error.
    pub fn add(
        &self,
        e: &mut Evaluation,
        id: &str,
        scores: ArrayView2<f32>,
        offset: Option<ArrayView1<f32>>,
        labels: &[Option<FrameLabel>],
    ) -> Result<()> {
        if let Some((t, _)) = scores
            .rows()
            .into_iter()
            .enumerate()
            .find(|(_, r)| r.iter().any(|v| v.is_nan()))
        {
            return Err(Error::invalid(format!(
                "utterance {id}: the model's scores are NaN at frame {t} (damaged model?)"
            )));
        }
        for (row, label) in scores.rows().into_iter().zip(labels) {
            let Some(label) = label else { continue };
            let best = match offset {
                Some(o) => argmax_sum(row, o),
                None => argmax(row.as_slice().expect("standard layout")),
            } as u32;
            let ref39 = self.phones.fold_48_to_39(label.phone) as usize;
            let hyp39 = self.leaf39[best as usize] as usize;
            e.frames += 1;
            match self.targets.state_of(label) {
                Some(t) => e.state_correct += usize::from(t == best),
                None => e.unseen += 1,
            }
            e.phone_correct += usize::from(ref39 == hyp39);
            e.confusion[[ref39, hyp39]] += 1;
        }
        Ok(())
    }
}

/// Index of the largest `a[i] + b[i]` (the first one on ties).
fn argmax_sum(a: ArrayView1<f32>, b: ArrayView1<f32>) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        let v = x + y;
        if i == 0 || v > best.1 {
            best = (i, v);
        }
    }
    best.0
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
