//! From labelled frames to the tree's input: one single-Gaussian summary (count, Σx, Σx²) per
//! context-dependent state (centre, state, left, right) that occurs in the training frames.
//!
//! Sums are in f64 and contexts come out sorted by their 48-set ids, so the statistics, and the
//! tree grown from them, do not depend on the order of utterances.

use std::collections::BTreeMap;

use ndarray::ArrayView2;

use super::{ContextStats, QuestionSet, Tree, TreeConfig};
use crate::corpus::FrameLabel;
use crate::corpus::phones::PhoneList;
use crate::error::{Error, Result};

type Key = (u16, u8, u16, u16);

/// Sums frames per context, utterance by utterance.
#[derive(Debug, Clone, Default)]
pub struct ContextAccumulator {
    dim: Option<usize>,
    acc: BTreeMap<Key, (f64, Vec<f64>, Vec<f64>)>,
}

impl ContextAccumulator {
    /// An empty accumulator (the dimension is taken from the first frames added).
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one utterance: `feats` (frames x d) and one label per frame (`None`: skipped).
    /// Every utterance must have the same d.
    pub fn add(&mut self, feats: ArrayView2<f32>, labels: &[Option<FrameLabel>]) -> Result<()> {
        if labels.len() != feats.nrows() {
            return Err(Error::invalid(format!(
                "{} frame labels for {} feature frames",
                labels.len(),
                feats.nrows()
            )));
        }
        let d = *self.dim.get_or_insert(feats.ncols());
        if feats.ncols() != d {
            return Err(Error::invalid(format!(
                "features of dimension {} after features of dimension {d}",
                feats.ncols()
            )));
        }
        for (row, label) in feats.rows().into_iter().zip(labels) {
            let Some(l) = label else { continue };
            let (n, sum, sq) = self
                .acc
                .entry((l.phone, l.state, l.left, l.right))
                .or_insert_with(|| (0.0, vec![0.0; d], vec![0.0; d]));
            *n += 1.0;
            for ((s, q), &x) in sum.iter_mut().zip(sq.iter_mut()).zip(row.iter()) {
                let x = x as f64;
                *s += x;
                *q += x * x;
            }
        }
        Ok(())
    }

    /// Contexts seen so far.
    pub fn num_contexts(&self) -> usize {
        self.acc.len()
    }

    /// The statistics, phone ids turned into names of `phones` (the 48-set list the labels use).
    pub fn finish(self, phones: &PhoneList) -> Result<Vec<ContextStats>> {
        let name = |id: u16| -> Result<String> {
            if (id as usize) < phones.len() {
                Ok(phones.name(id).to_string())
            } else {
                Err(Error::invalid(format!(
                    "phone id {id} is outside the {}-phone list",
                    phones.len()
                )))
            }
        };
        self.acc
            .into_iter()
            .map(|((c, state, l, r), (count, sum, sum_sq))| {
                Ok(ContextStats {
                    centre: name(c)?,
                    state,
                    left: name(l)?,
                    right: name(r)?,
                    count,
                    sum,
                    sum_sq,
                })
            })
            .collect()
    }
}

impl Tree {
    /// Grow the tying from labelled frames: [`ContextAccumulator`] over every
    /// `(features, labels)` utterance, then [`Tree::build`].
    pub fn build_from_frames<'a>(
        utts: impl IntoIterator<Item = (ArrayView2<'a, f32>, &'a [Option<FrameLabel>])>,
        phones: &PhoneList,
        questions: &QuestionSet,
        cfg: &TreeConfig,
    ) -> Result<Tree> {
        let mut acc = ContextAccumulator::new();
        for (feats, labels) in utts {
            acc.add(feats, labels)?;
        }
        Tree::build(&acc.finish(phones)?, questions, cfg)
    }
}
