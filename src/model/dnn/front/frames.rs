//! Which frames a minibatch needs through the front end, and the copy of their outputs into the
//! spliced rows (and its adjoint).
//!
//! Row `r` of a batch is frame `t` of utterance `u` spliced with frames `t-k..=t+k` (clamped to
//! the utterance, as Kaldi's splice repeats edge frames). [`FrameSet::collect`] lists the distinct
//! frames those `rows·(2k+1)` references name (sorted by utterance and frame, duplicates removed)
//! and, for every reference, the index of its distinct frame. The front end then runs once per
//! distinct frame; [`splice_rows`] copies its outputs into the rows; [`unsplice_add`] sums the
//! rows' gradients back onto the distinct frames in row order (fixed, so the sums do not depend on
//! thread scheduling).

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::model::dnn::layers::{FrameRef, Normaliser};

/// Rows per rayon task when copying rows.
const ROWS_PER_TASK: usize = 16;

/// The distinct frames of a batch and where each spliced reference points. Buffers are reused.
#[derive(Default)]
pub(crate) struct FrameSet {
    /// Distinct `(utterance, frame)` pairs, sorted.
    pub distinct: Vec<FrameRef>,
    /// `index[r·(2k+1) + o]`: the distinct frame of row `r` at offset `o - k`.
    pub index: Vec<u32>,
    /// Every reference in row order (scratch).
    refs: Vec<FrameRef>,
}

impl FrameSet {
    /// Collect the frames that `rows` spliced with `context` need; `len(u)` is utterance `u`'s
    /// number of frames (at least 1).
    pub fn collect(&mut self, rows: &[FrameRef], context: usize, len: impl Fn(u32) -> usize) {
        self.refs.clear();
        for &(u, t) in rows {
            let last = len(u) as isize - 1;
            for o in 0..=2 * context {
                let src = (t as isize + o as isize - context as isize).clamp(0, last);
                self.refs.push((u, src as u32));
            }
        }
        self.distinct.clear();
        self.distinct.extend_from_slice(&self.refs);
        self.distinct.sort_unstable();
        self.distinct.dedup();
        self.index.clear();
        self.index.extend(self.refs.iter().map(|r| {
            self.distinct
                .binary_search(r)
                .expect("every reference is among the distinct frames") as u32
        }));
    }

    /// Copy the distinct frames into `dst` (`[D, dim]`), normalised (`(x - mean) · inv_std`).
    pub fn gather(&self, feats: &[ArrayView2<'_, f32>], norm: &Normaliser<'_>, dst: &mut [f32]) {
        let d = norm.mean.len();
        dst[..self.distinct.len() * d]
            .par_chunks_mut(d)
            .zip(self.distinct.par_iter())
            .with_min_len(ROWS_PER_TASK)
            .for_each(|(out, &(u, t))| {
                let src = feats[u as usize].row(t as usize);
                for (((o, &x), &m), &is) in
                    out.iter_mut().zip(&src).zip(norm.mean).zip(norm.inv_std)
                {
                    *o = (x - m) * is;
                }
            });
    }
}

/// Fill `dst` (`rows x (2k+1)·width`) with the outputs `src` (`[D, width]`) of each row's frames.
pub(crate) fn splice_rows(
    dst: &mut [f32],
    src: &[f32],
    index: &[u32],
    context: usize,
    width: usize,
) {
    let span = 2 * context + 1;
    dst.par_chunks_mut(span * width)
        .zip(index.par_chunks(span))
        .with_min_len(ROWS_PER_TASK)
        .for_each(|(row, idx)| {
            for (part, &i) in row.chunks_exact_mut(width).zip(idx) {
                let i = i as usize;
                part.copy_from_slice(&src[i * width..(i + 1) * width]);
            }
        });
}

/// The adjoint of [`splice_rows`]: `grad` (`[D, width]`) is set to the sum, over the references
/// to each distinct frame, of the matching part of `delta` (`rows x (2k+1)·width`), added in row
/// order.
pub(crate) fn unsplice_add(
    grad: &mut [f32],
    delta: &[f32],
    index: &[u32],
    context: usize,
    width: usize,
) {
    grad.fill(0.0);
    let rows = index.len() / (2 * context + 1);
    for (part, &i) in delta[..rows * (2 * context + 1) * width]
        .chunks_exact(width)
        .zip(index)
    {
        let i = i as usize;
        grad[i * width..(i + 1) * width]
            .iter_mut()
            .zip(part)
            .for_each(|(g, d)| *g += d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_frames_cover_the_splice_once_each() {
        // Utterance 0 has 4 frames, utterance 1 has 2; context 1.
        let lens = [4usize, 2];
        let mut set = FrameSet::default();
        set.collect(&[(0, 0), (1, 1), (0, 1)], 1, |u| lens[u as usize]);
        // Row (0,0) needs 0,0,1; row (1,1) needs 0,1,1; row (0,1) needs 0,1,2.
        assert_eq!(set.distinct, [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]);
        assert_eq!(set.index, [0, 0, 1, 3, 4, 4, 0, 1, 2]);
    }

    #[test]
    fn unsplice_is_the_adjoint_of_splice() {
        // <splice(a), b> = <a, unsplice(b)> for any a, b.
        let lens = [5usize];
        let mut set = FrameSet::default();
        set.collect(&[(0, 0), (0, 4), (0, 2)], 2, |u| lens[u as usize]);
        let d = set.distinct.len();
        let width = 2;
        let a: Vec<f32> = (0..d * width).map(|i| (i as f32 * 0.7).sin()).collect();
        let b: Vec<f32> = (0..3 * 5 * width).map(|i| (i as f32 * 1.3).cos()).collect();
        let mut sa = vec![0.0; b.len()];
        splice_rows(&mut sa, &a, &set.index, 2, width);
        let mut ub = vec![1.0; a.len()];
        unsplice_add(&mut ub, &b, &set.index, 2, width);
        let lhs: f32 = sa.iter().zip(&b).map(|(x, y)| x * y).sum();
        let rhs: f32 = a.iter().zip(&ub).map(|(x, y)| x * y).sum();
        assert!((lhs - rhs).abs() < 1e-5, "{lhs} vs {rhs}");
    }
}
