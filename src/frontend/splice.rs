//! Splicing: stack each frame with its +-`context` neighbours (edge frames repeated, as Kaldi's
//! `splice-feats`). The DNN splices per minibatch instead, so features are never stored spliced.

use ndarray::{Array2, ArrayView2, s};

use crate::error::{Error, Result};
use crate::options;

/// Most frames of context on each side (0.5 s at a 10 ms shift; DNN front ends use 5 to 15).
pub const MAX_CONTEXT: usize = 50;

/// Most values per frame after deltas and splicing (1 MiB of f32): a spliced spectrogram with
/// deltas fits, a spliced raw waveform frame does not.
pub const MAX_POST_DIM: usize = 1 << 18;

options! {
    /// Frame splicing.
    pub struct SpliceOptions {
        /// Frames of context on each side, 0 to 50 (0 = none).
        context: usize = 0,
    }
}

impl SpliceOptions {
    /// Refuses a context above [`MAX_CONTEXT`].
    pub fn check(&self) -> Result<()> {
        if self.context > MAX_CONTEXT {
            return Err(Error::invalid(format!(
                "splice context must be between 0 and {MAX_CONTEXT} frames, got {}",
                self.context
            )));
        }
        Ok(())
    }

    /// Values per frame after splicing `dim`-wide frames, refused beyond [`MAX_POST_DIM`] when
    /// post-processing widens the frames (`widened`: deltas or splicing are on).
    pub fn output_dim(&self, dim: usize, widened: bool) -> Result<usize> {
        self.check()?;
        let out = dim.saturating_mul(2 * self.context + 1);
        if widened && out > MAX_POST_DIM {
            return Err(Error::invalid(format!(
                "deltas and splicing would make frames of {out} values (from {dim} with context \
                 {}); at most {MAX_POST_DIM} are supported",
                self.context
            )));
        }
        Ok(out)
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

/// Each frame with its `context` neighbours on each side, left to right, edge frames repeated: (T x
/// D) -> (T x D (2 context + 1)).
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

    #[test]
    fn context_and_width_are_bounded() {
        let opts = |context| SpliceOptions { context };
        assert_eq!(
            opts(1_000_000).check().unwrap_err().to_string(),
            "splice context must be between 0 and 50 frames, got 1000000"
        );
        assert_eq!(opts(5).output_dim(39, true).unwrap(), 429);
        assert_eq!(opts(0).output_dim(1 << 20, false).unwrap(), 1 << 20);
        assert_eq!(
            opts(50).output_dim(65536, true).unwrap_err().to_string(),
            "deltas and splicing would make frames of 6619136 values (from 65536 with context \
             50); at most 262144 are supported"
        );
    }
}
