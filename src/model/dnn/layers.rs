//! The pieces a layer is made of, written over flat row-major buffers so the training loop can reuse
//! them without allocating: the matrix product, bias + nonlinearity, softmax cross-entropy, and
//! splicing of normalised context frames into a minibatch.
//!
//! Element-wise passes run in parallel over blocks of rows; every reduction is summed in a fixed
//! order, so results do not depend on how rayon schedules the work (same seed, same bits).

use ndarray::{ArrayView2, ArrayViewMut2, linalg::general_mat_mul};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::matmul::{Parallelism, matmul_into};

/// Rows handed to one rayon task in element-wise passes (enough work to amortise the task).
const ROWS_PER_TASK: usize = 16;

/// Which matrix product the network uses. Both accept transposed operands as strided views, so
/// `W^T` and `delta^T` are never copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MatMul {
    /// The `gemm` crate (runtime-dispatched AVX2/FMA kernels, rayon threads). Faster here.
    #[default]
    Gemm,
    /// ndarray's `general_mat_mul` (matrixmultiply with its threading feature).
    Ndarray,
}

impl MatMul {
    /// `c = a · b`, or `c += a · b` when `accumulate`.
    pub fn product(
        self,
        a: ArrayView2<'_, f32>,
        b: ArrayView2<'_, f32>,
        mut c: ArrayViewMut2<'_, f32>,
        accumulate: bool,
    ) {
        let (m, k) = a.dim();
        let (k2, n) = b.dim();
        assert!(
            k == k2 && c.dim() == (m, n),
            "matrix product shapes {:?} x {:?} -> {:?}",
            a.dim(),
            b.dim(),
            c.dim()
        );
        if m == 0 || n == 0 {
            return;
        }
        match self {
            MatMul::Gemm => matmul_into(a, b, c, accumulate, Parallelism::Rayon(0)),
            MatMul::Ndarray => {
                let beta = if accumulate { 1.0 } else { 0.0 };
                general_mat_mul(1.0, &a, &b, beta, &mut c);
            }
        }
    }
}

/// Hidden-layer nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, z); the default.
    Relu,
    /// 1 / (1 + e^-z).
    Sigmoid,
    /// tanh(z).
    Tanh,
}

impl Activation {
    /// Name as in YAML and `about.json`.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Relu => "relu",
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
        }
    }

    /// The nonlinearity at `z`.
    #[inline]
    pub fn apply(self, z: f32) -> f32 {
        match self {
            Activation::Relu => z.max(0.0),
            Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
            Activation::Tanh => z.tanh(),
        }
    }

    /// Derivative expressed through the output `a = f(z)`, so the backward pass needs only the
    /// stored activations (no pre-activation buffer).
    #[inline]
    pub fn derivative_from_output(self, a: f32) -> f32 {
        match self {
            Activation::Relu => {
                if a > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::Sigmoid => a * (1.0 - a),
            Activation::Tanh => 1.0 - a * a,
        }
    }
}

/// Run `f(row_index, row)` over the rows of a row-major buffer, in parallel blocks of rows.
fn par_rows<F>(data: &mut [f32], width: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    if width == 0 {
        return;
    }
    data.par_chunks_mut(width * ROWS_PER_TASK)
        .enumerate()
        .for_each(|(block, chunk)| {
            for (r, row) in chunk.chunks_mut(width).enumerate() {
                f(block * ROWS_PER_TASK + r, row);
            }
        });
}

/// `z = act(z + bias)` row by row (`act = None`: bias only, for the output layer).
pub fn bias_activate(z: &mut [f32], bias: &[f32], act: Option<Activation>) {
    let width = bias.len();
    par_rows(z, width, |_, row| match act {
        None => row.iter_mut().zip(bias).for_each(|(v, b)| *v += b),
        Some(Activation::Relu) => row
            .iter_mut()
            .zip(bias)
            .for_each(|(v, b)| *v = (*v + b).max(0.0)),
        Some(a) => row
            .iter_mut()
            .zip(bias)
            .for_each(|(v, b)| *v = a.apply(*v + b)),
    });
}

/// Back through a hidden layer's output: `delta *= mask * act'(a)` (mask: dropout scale, if any).
pub fn activation_backward(delta: &mut [f32], a: &[f32], mask: Option<&[f32]>, act: Activation) {
    debug_assert_eq!(delta.len(), a.len());
    let chunk = 4096;
    match mask {
        None => delta
            .par_chunks_mut(chunk)
            .zip(a.par_chunks(chunk))
            .for_each(|(d, a)| {
                d.iter_mut()
                    .zip(a)
                    .for_each(|(d, &a)| *d *= act.derivative_from_output(a))
            }),
        Some(mask) => delta
            .par_chunks_mut(chunk)
            .zip(a.par_chunks(chunk))
            .zip(mask.par_chunks(chunk))
            .for_each(|((d, a), m)| {
                for ((d, &a), &m) in d.iter_mut().zip(a).zip(m) {
                    *d *= m * act.derivative_from_output(a);
                }
            }),
    }
}

/// Column sums of a row-major `rows x out.len()` buffer into `out`, rows added in order.
pub fn column_sums(data: &[f32], out: &mut [f32]) {
    out.fill(0.0);
    if out.is_empty() {
        return;
    }
    for row in data.chunks_exact(out.len()) {
        out.iter_mut().zip(row).for_each(|(o, v)| *o += v);
    }
}

/// Softmax cross-entropy on a block of logits, in place: each row becomes `scale * (p - onehot)`,
/// the gradient of `scale * sum of losses`. Per-row loss and hit (argmax == label) go into
/// `row_loss` / `row_hit` so the caller can sum them in a fixed order.
pub fn softmax_ce(
    logits: &mut [f32],
    width: usize,
    labels: &[u32],
    scale: f32,
    row_loss: &mut [f64],
    row_hit: &mut [bool],
) {
    let rows = labels.len();
    debug_assert_eq!(logits.len(), rows * width);
    logits
        .par_chunks_mut(width)
        .zip(labels.par_iter())
        .zip(row_loss[..rows].par_iter_mut())
        .zip(row_hit[..rows].par_iter_mut())
        .with_min_len(ROWS_PER_TASK)
        .for_each(|(((row, &y), loss), hit)| {
            let y = y as usize;
            let (arg, max) = argmax(row);
            let zy = row[y];
            let mut sum = 0.0f32;
            for v in row.iter_mut() {
                *v = (*v - max).exp();
                sum += *v;
            }
            *loss = f64::from(sum.ln() - (zy - max));
            *hit = arg == y;
            let inv = scale / sum;
            row.iter_mut().for_each(|v| *v *= inv);
            row[y] -= scale;
        });
}

/// Row-wise log-softmax, in place (inference).
pub fn log_softmax(logits: &mut [f32], width: usize) {
    par_rows(logits, width, |_, row| {
        let (_, max) = argmax(row);
        let sum: f32 = row.iter().map(|v| (v - max).exp()).sum();
        let log_z = max + sum.ln();
        row.iter_mut().for_each(|v| *v -= log_z);
    });
}

/// Index and value of the largest entry (first one on ties).
pub fn argmax(row: &[f32]) -> (usize, f32) {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in row.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best
}

/// Where a minibatch row comes from: utterance and frame.
pub type FrameRef = (u32, u32);

/// Per-dimension input normalisation: `(x - mean) * inv_std`.
pub struct Normaliser<'a> {
    pub mean: &'a [f32],
    pub inv_std: &'a [f32],
}

/// Fill `dst` (one row per entry of `frames`, `(2k+1)·d` wide) with normalised frames `t-k..=t+k`
/// of each frame's utterance, clamping at the edges (the first/last frame repeats, as Kaldi's
/// splice does). Stored features stay unspliced; this runs per minibatch.
pub fn splice_into(
    dst: &mut [f32],
    feats: &[ArrayView2<'_, f32>],
    frames: &[FrameRef],
    context: usize,
    norm: &Normaliser<'_>,
) {
    let d = norm.mean.len();
    let width = (2 * context + 1) * d;
    debug_assert_eq!(dst.len(), frames.len() * width);
    par_rows(dst, width, |r, row| {
        let (u, t) = frames[r];
        let f = &feats[u as usize];
        let last = f.nrows() as isize - 1;
        for (o, out) in row.chunks_exact_mut(d).enumerate() {
            let src = (t as isize + o as isize - context as isize).clamp(0, last) as usize;
            let src = f.row(src);
            match src.as_slice() {
                Some(s) => {
                    for (((o, &x), &m), &is) in
                        out.iter_mut().zip(s).zip(norm.mean).zip(norm.inv_std)
                    {
                        *o = (x - m) * is;
                    }
                }
                None => {
                    for (((o, &x), &m), &is) in out
                        .iter_mut()
                        .zip(src.iter())
                        .zip(norm.mean)
                        .zip(norm.inv_std)
                    {
                        *o = (x - m) * is;
                    }
                }
            }
        }
    });
}

/// The adjoint of [`splice_into`]: add the gradient of each spliced row back onto the frames it
/// was copied from (edge frames collect several copies), through the normalisation.
pub fn unsplice_add(
    grad: &mut ArrayViewMut2<'_, f32>,
    delta: &[f32],
    frames: &[FrameRef],
    context: usize,
    inv_std: &[f32],
) {
    let d = inv_std.len();
    let width = (2 * context + 1) * d;
    let last = grad.nrows() as isize - 1;
    for (row, &(_, t)) in delta.chunks_exact(width).zip(frames) {
        for (o, part) in row.chunks_exact(d).enumerate() {
            let src = (t as isize + o as isize - context as isize).clamp(0, last) as usize;
            for ((g, &v), &is) in grad.row_mut(src).iter_mut().zip(part).zip(inv_std) {
                *g += v * is;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn both_products_agree_on_transposed_operands() {
        let a = Array2::from_shape_fn((7, 5), |(i, j)| (i * 5 + j) as f32 * 0.1 - 1.0);
        let b = Array2::from_shape_fn((7, 3), |(i, j)| (i + 2 * j) as f32 * 0.05);
        let want = a.t().dot(&b);
        for mm in [MatMul::Gemm, MatMul::Ndarray] {
            let mut c = Array2::from_elem((5, 3), f32::NAN);
            mm.product(a.t(), b.view(), c.view_mut(), false);
            assert!((&c - &want).iter().all(|v| v.abs() < 1e-5), "{mm:?}");
            mm.product(a.t(), b.view(), c.view_mut(), true);
            assert!(
                (&c - &(2.0 * &want)).iter().all(|v| v.abs() < 1e-5),
                "{mm:?}"
            );
        }
    }

    #[test]
    fn splice_repeats_edge_frames_like_kaldi() {
        // 3 frames of 1 dim: 10, 20, 30; context 2 around frame 0 -> 10 10 10 20 30.
        let f = array![[10.0f32], [20.0], [30.0]];
        let mut dst = vec![0.0; 2 * 5];
        let norm = Normaliser {
            mean: &[0.0],
            inv_std: &[1.0],
        };
        splice_into(&mut dst, &[f.view()], &[(0, 0), (0, 2)], 2, &norm);
        assert_eq!(dst, [10., 10., 10., 20., 30., 10., 20., 30., 30., 30.]);
    }

    #[test]
    fn softmax_ce_of_uniform_logits_is_log_classes() {
        let mut z = vec![0.5f32; 4];
        let (mut loss, mut hit) = ([0.0f64], [false]);
        softmax_ce(&mut z, 4, &[2], 1.0, &mut loss, &mut hit);
        assert!((loss[0] - 4f64.ln()).abs() < 1e-6);
        assert_eq!(z, [0.25, 0.25, -0.75, 0.25]);
    }
}
