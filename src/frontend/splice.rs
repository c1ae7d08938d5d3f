//! Splicing: stack each frame with its +-`context` neighbours (edge frames repeated, as Kaldi's
//! `splice-feats`). The DNN splices per minibatch instead, so features are never stored spliced.

use ndarray::{Array2, ArrayView2, s};

use crate::options;

options! {
    /// Frame splicing.
    pub struct SpliceOptions {
        /// Frames of context on each side (0 = none).
        context: usize = 0,
    }
}

/// Row `f` of the spliced matrix: frames f-k..=f+k (clamped to the utterance) side by side.
pub fn splice_row(x: ArrayView2<f32>, f: usize, context: usize, out: &mut [f32]) {
    let (t, d) = x.dim();
    for (j, chunk) in out.chunks_exact_mut(d).enumerate() {
        let src = (f as i64 + j as i64 - context as i64).clamp(0, t as i64 - 1) as usize;
        chunk.iter_mut().zip(x.row(src)).for_each(|(o, &v)| *o = v);
    }
}

pub fn splice(x: ArrayView2<f32>, context: usize) -> Array2<f32> {
    let (t, d) = x.dim();
    let mut out = Array2::zeros((t, d * (2 * context + 1)));
    for f in 0..t {
        let mut row = out.slice_mut(s![f, ..]);
        splice_row(x, f, context, row.as_slice_mut().expect("contiguous rows"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn splices_with_edges_repeated() {
        let x = array![[1.0f32], [2.0], [3.0]];
        assert_eq!(
            splice(x.view(), 1),
            array![[1.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 3.0]]
        );
    }
}
