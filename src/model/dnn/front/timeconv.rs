//! The time convolution: `N` kernels of `L` taps at `P = (F - L) / stride + 1` positions of every
//! `F`-sample frame, rectified and pooled over the positions.
//!
//! The convolution is a matrix product: a block of frames is unrolled into a `[frames·P, L]`
//! matrix of windows (im2col) and multiplied by the kernels `[L, N]`. Blocks hold about
//! [`COLS_FLOATS`] unrolled values, so memory stays bounded whatever the batch. Max pooling keeps,
//! per frame and kernel, the winning position and its pre-activation, so its backward pass needs
//! no second product: each kernel's gradient is a sum of the input windows that won, scaled by
//! their output gradients. Mean pooling recomputes each block's products in backward (storing
//! them would cost `D·P·N` values) and then takes two more products for the kernel and input
//! gradients.

use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::{Pooling, Rectify, TimeConvFront};
use crate::model::dnn::Linear;
use crate::model::dnn::layers::MatMul;

/// Unrolled values per block (4 MiB of f32).
const COLS_FLOATS: usize = 1 << 20;

/// Buffers of the convolution, grown when needed.
#[derive(Default)]
pub(super) struct Scratch {
    /// Unrolled windows of one block, `[frames·P, L]`.
    cols: Vec<f32>,
    /// Convolution outputs of one block, `[frames·P, N]`.
    conv: Vec<f32>,
    /// Max pooling: winning position and its pre-activation per frame and kernel, `[D, N]`.
    arg: Vec<u32>,
    pre: Vec<f32>,
}

/// The geometry of one time-convolution front end on frames of a given length.
pub(super) struct Conv {
    filters: usize,
    taps: usize,
    stride: usize,
    positions: usize,
    frame: usize,
    rectify: Rectify,
    pooling: Pooling,
}

impl Rectify {
    #[inline]
    fn apply(self, z: f32) -> f32 {
        match self {
            Rectify::Relu => z.max(0.0),
            Rectify::Square => z * z,
        }
    }

    #[inline]
    fn derivative(self, z: f32) -> f32 {
        match self {
            Rectify::Relu => {
                if z > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Rectify::Square => 2.0 * z,
        }
    }
}

impl Conv {
    /// `frame` must be at least `t.taps` long (checked when the network is built).
    pub fn new(t: &TimeConvFront, frame: usize) -> Conv {
        Conv {
            filters: t.filters,
            taps: t.taps,
            stride: t.stride,
            positions: (frame - t.taps) / t.stride + 1,
            frame,
            rectify: t.rectify,
            pooling: t.pooling,
        }
    }

    fn block_frames(&self) -> usize {
        (COLS_FLOATS / (self.positions * self.taps)).max(1)
    }

    /// Unroll frames `[b, F]` into windows `[b·P, L]`.
    fn im2col(&self, frames: ArrayView2<'_, f32>, cols: &mut [f32]) {
        let (p, l, s) = (self.positions, self.taps, self.stride);
        cols.par_chunks_mut(p * l)
            .zip(frames.outer_iter().into_par_iter())
            .for_each(|(dst, x)| {
                let x = x.as_slice().expect("rows are contiguous");
                for (i, w) in dst.chunks_exact_mut(l).enumerate() {
                    w.copy_from_slice(&x[i * s..i * s + l]);
                }
            });
    }

    /// Convolve the frames of one block: `conv = cols · kernels^T`.
    fn convolve(&self, frames: ArrayView2<'_, f32>, params: &Linear, s: &mut Scratch, mm: MatMul) {
        let rows = frames.nrows() * self.positions;
        self.im2col(frames, &mut s.cols[..rows * self.taps]);
        let cols =
            ArrayView2::from_shape((rows, self.taps), &s.cols[..rows * self.taps]).expect("sized");
        let conv =
            ArrayViewMut2::from_shape((rows, self.filters), &mut s.conv[..rows * self.filters])
                .expect("sized");
        mm.product(cols, params.weight.t(), conv, false);
    }

    fn reserve(&self, d: usize, s: &mut Scratch) {
        let block = self.block_frames().min(d.max(1));
        let rows = block * self.positions;
        if s.cols.len() < rows * self.taps {
            s.cols.resize(rows * self.taps, 0.0);
        }
        if s.conv.len() < rows * self.filters {
            s.conv.resize(rows * self.filters, 0.0);
        }
        if self.pooling == Pooling::Max && s.arg.len() < d * self.filters {
            s.arg.resize(d * self.filters, 0);
            s.pre.resize(d * self.filters, 0.0);
        }
    }

    /// `pooled` `[D, N]` = pooling over positions of `rectify(conv + bias)` for the frames `x`
    /// `[D, F]`.
    pub fn forward(
        &self,
        x: ArrayView2<'_, f32>,
        params: &Linear,
        pooled: &mut [f32],
        s: &mut Scratch,
        mm: MatMul,
    ) {
        debug_assert_eq!(x.ncols(), self.frame);
        let d = x.nrows();
        let (n, p) = (self.filters, self.positions);
        self.reserve(d, s);
        let bias = params.bias.as_slice().expect("owned");
        let rect = self.rectify;
        for f0 in (0..d).step_by(self.block_frames()) {
            let f1 = (f0 + self.block_frames()).min(d);
            self.convolve(x.slice(ndarray::s![f0..f1, ..]), params, s, mm);
            let conv = &s.conv[..(f1 - f0) * p * n];
            let out = &mut pooled[f0 * n..f1 * n];
            match self.pooling {
                Pooling::Max => out
                    .par_chunks_mut(n)
                    .zip(conv.par_chunks(p * n))
                    .zip(s.arg[f0 * n..f1 * n].par_chunks_mut(n))
                    .zip(s.pre[f0 * n..f1 * n].par_chunks_mut(n))
                    .for_each(|(((out, c), arg), pre)| match rect {
                        Rectify::Relu => max_pool(c, bias, |z| z.max(0.0), out, arg, pre),
                        Rectify::Square => max_pool(c, bias, |z| z * z, out, arg, pre),
                    }),
                Pooling::Mean => {
                    let inv = 1.0 / p as f32;
                    out.par_chunks_mut(n)
                        .zip(conv.par_chunks(p * n))
                        .for_each(|(out, c)| {
                            out.fill(0.0);
                            for row in c.chunks_exact(n) {
                                for ((o, &z), &b) in out.iter_mut().zip(row).zip(bias) {
                                    *o += rect.apply(z + b);
                                }
                            }
                            out.iter_mut().for_each(|o| *o *= inv);
                        });
                }
            }
        }
    }

    /// From `grad = dL/dpooled` `[D, N]` to the kernels' (`gw` `[N, L]`) and biases' (`gb`)
    /// gradients, and to the input's (`input_grad` `[D, F]`) when given. Needs the scratch of
    /// the forward pass on the same `x`.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        x: ArrayView2<'_, f32>,
        params: &Linear,
        grad: &[f32],
        gw: &mut [f32],
        gb: &mut [f32],
        input_grad: Option<&mut [f32]>,
        s: &mut Scratch,
        mm: MatMul,
    ) {
        match self.pooling {
            Pooling::Max => self.backward_max(x, params, grad, gw, gb, input_grad, s),
            Pooling::Mean => self.backward_mean(x, params, grad, gw, gb, input_grad, s, mm),
        }
    }

    /// Max pooling: only the winning window of each (frame, kernel) gets a gradient,
    /// `dz = grad · rectify'(z at the winner)`.
    #[allow(clippy::too_many_arguments)]
    fn backward_max(
        &self,
        x: ArrayView2<'_, f32>,
        params: &Linear,
        grad: &[f32],
        gw: &mut [f32],
        gb: &mut [f32],
        input_grad: Option<&mut [f32]>,
        s: &Scratch,
    ) {
        let d = x.nrows();
        let (n, l, st) = (self.filters, self.taps, self.stride);
        let rect = self.rectify;
        let (arg, pre) = (&s.arg[..d * n], &s.pre[..d * n]);
        let dz = |i: usize| grad[i] * rect.derivative(pre[i]);
        for (k, g) in gb.iter_mut().enumerate() {
            *g = (0..d).map(|f| dz(f * n + k)).sum();
        }
        // Each kernel's row sums over frames in order: parallel over kernels, deterministic.
        gw.par_chunks_mut(l).enumerate().for_each(|(k, row)| {
            row.fill(0.0);
            for f in 0..d {
                let g = dz(f * n + k);
                if g != 0.0 {
                    let start = arg[f * n + k] as usize * st;
                    let w = &x.row(f).to_slice().expect("contiguous")[start..start + l];
                    row.iter_mut().zip(w).for_each(|(r, &v)| *r += g * v);
                }
            }
        });
        if let Some(ig) = input_grad {
            let kernels = params.weight.as_slice().expect("standard layout");
            ig[..d * self.frame]
                .par_chunks_mut(self.frame)
                .enumerate()
                .for_each(|(f, dst)| {
                    dst.fill(0.0);
                    for k in 0..n {
                        let g = dz(f * n + k);
                        if g != 0.0 {
                            let start = arg[f * n + k] as usize * st;
                            dst[start..start + l]
                                .iter_mut()
                                .zip(&kernels[k * l..(k + 1) * l])
                                .for_each(|(o, &w)| *o += g * w);
                        }
                    }
                });
        }
    }

    /// Mean pooling: every window gets `grad / P · rectify'(z)`; per block the outputs are
    /// recomputed, turned into their gradients in place, and multiplied back.
    #[allow(clippy::too_many_arguments)]
    fn backward_mean(
        &self,
        x: ArrayView2<'_, f32>,
        params: &Linear,
        grad: &[f32],
        gw: &mut [f32],
        gb: &mut [f32],
        mut input_grad: Option<&mut [f32]>,
        s: &mut Scratch,
        mm: MatMul,
    ) {
        let d = x.nrows();
        let (n, l, p, st) = (self.filters, self.taps, self.positions, self.stride);
        let bias = params.bias.as_slice().expect("owned");
        let rect = self.rectify;
        let inv = 1.0 / p as f32;
        gw.fill(0.0);
        gb.fill(0.0);
        for f0 in (0..d).step_by(self.block_frames()) {
            let f1 = (f0 + self.block_frames()).min(d);
            let rows = (f1 - f0) * p;
            self.convolve(x.slice(ndarray::s![f0..f1, ..]), params, s, mm);
            let dconv = &mut s.conv[..rows * n];
            dconv
                .par_chunks_mut(p * n)
                .zip(grad[f0 * n..f1 * n].par_chunks(n))
                .for_each(|(c, g)| {
                    for row in c.chunks_exact_mut(n) {
                        for ((z, &g), &b) in row.iter_mut().zip(g).zip(bias) {
                            *z = g * inv * rect.derivative(*z + b);
                        }
                    }
                });
            for row in dconv.chunks_exact(n) {
                gb.iter_mut().zip(row).for_each(|(g, v)| *g += v);
            }
            let dc = ArrayView2::from_shape((rows, n), &*dconv).expect("sized");
            let cols = ArrayView2::from_shape((rows, l), &s.cols[..rows * l]).expect("sized");
            let gwv = ArrayViewMut2::from_shape((n, l), &mut *gw).expect("sized");
            mm.product(dc.t(), cols, gwv, true);
            if let Some(ig) = input_grad.as_deref_mut() {
                // Window gradients into the unrolled buffer, then added back onto the samples.
                let dcols =
                    ArrayViewMut2::from_shape((rows, l), &mut s.cols[..rows * l]).expect("sized");
                mm.product(dc, params.weight.view(), dcols, false);
                ig[f0 * self.frame..f1 * self.frame]
                    .par_chunks_mut(self.frame)
                    .zip(s.cols[..rows * l].par_chunks(p * l))
                    .for_each(|(dst, w)| {
                        dst.fill(0.0);
                        for (i, w) in w.chunks_exact(l).enumerate() {
                            dst[i * st..i * st + l]
                                .iter_mut()
                                .zip(w)
                                .for_each(|(o, &v)| *o += v);
                        }
                    });
            }
        }
    }
}

/// Max over the positions (rows of `conv`, `N` wide) of `rect(z + bias)`, with the first winning
/// position and its `z + bias`. Branch-free selects, so the pass vectorises.
#[inline]
fn max_pool(
    conv: &[f32],
    bias: &[f32],
    rect: impl Fn(f32) -> f32,
    out: &mut [f32],
    arg: &mut [u32],
    pre: &mut [f32],
) {
    out.fill(f32::NEG_INFINITY);
    for (pos, row) in conv.chunks_exact(bias.len()).enumerate() {
        let pos = pos as u32;
        for ((((o, a), p), &c), &b) in out
            .iter_mut()
            .zip(arg.iter_mut())
            .zip(pre.iter_mut())
            .zip(row)
            .zip(bias)
        {
            let z = c + b;
            let r = rect(z);
            let better = r > *o;
            *o = if better { r } else { *o };
            *a = if better { pos } else { *a };
            *p = if better { z } else { *p };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, array};

    fn conv(rectify: Rectify, pooling: Pooling, stride: usize) -> (Conv, Linear) {
        let t = TimeConvFront {
            filters: 2,
            taps: 2,
            stride,
            rectify,
            pooling,
            ..Default::default()
        };
        let params = Linear {
            weight: array![[1.0f32, -1.0], [0.5, 0.5]],
            bias: Array1::from(vec![0.0, -1.0]),
        };
        (Conv::new(&t, 5), params)
    }

    #[test]
    fn pooled_outputs_by_hand() {
        // Frame 1 2 4 0 3, kernels [1, -1] (difference) and [.5, .5] (average, bias -1).
        let x = array![[1.0f32, 2.0, 4.0, 0.0, 3.0]];
        // Stride 1: positions (1,2) (2,4) (4,0) (0,3): differences -1 -2 4 -3, averages-1
        // 0.5 2 1 0.5. Relu+max: 4 (position 2), 2 (position 1). Square+mean: (1+4+16+9)/4 =
        // 7.5 and (.25+4+1+.25)/4 = 1.375.
        let mut s = Scratch::default();
        let mut y = [0.0f32; 2];
        let (c, p) = conv(Rectify::Relu, Pooling::Max, 1);
        c.forward(x.view(), &p, &mut y, &mut s, MatMul::Gemm);
        assert_eq!(y, [4.0, 2.0]);
        assert_eq!(&s.arg[..2], &[2, 1]);
        let (c, p) = conv(Rectify::Square, Pooling::Mean, 1);
        c.forward(x.view(), &p, &mut y, &mut s, MatMul::Gemm);
        assert_eq!(y, [7.5, 1.375]);
        // Stride 2: positions (1,2) (4,0); relu + mean: (0 + 4)/2 = 2 and (0.5 + 1)/2 = 0.75.
        let (c, p) = conv(Rectify::Relu, Pooling::Mean, 2);
        c.forward(x.view(), &p, &mut y, &mut s, MatMul::Gemm);
        assert_eq!(y, [2.0, 0.75]);
    }

    #[test]
    fn blocks_do_not_change_the_result() {
        // Enough frames for several blocks: every frame's output equals that frame alone.
        let t = TimeConvFront {
            filters: 3,
            taps: 300,
            pooling: Pooling::Mean,
            ..Default::default()
        };
        let c = Conv::new(&t, 400);
        assert!(c.block_frames() < 40);
        let x = Array2::from_shape_fn((40, 400), |(i, j)| ((i * 7 + j * 3) as f32 * 0.01).sin());
        let params = Linear {
            weight: Array2::from_shape_fn((3, 300), |(i, j)| ((i + j) as f32 * 0.1).cos() * 0.05),
            bias: Array1::from(vec![0.1, 0.0, -0.1]),
        };
        let mut s = Scratch::default();
        let mut all = vec![0.0f32; 40 * 3];
        c.forward(x.view(), &params, &mut all, &mut s, MatMul::Gemm);
        for f in [0, 17, 39] {
            let mut one = [0.0f32; 3];
            c.forward(
                x.slice(ndarray::s![f..f + 1, ..]),
                &params,
                &mut one,
                &mut s,
                MatMul::Gemm,
            );
            for k in 0..3 {
                assert!((one[k] - all[f * 3 + k]).abs() < 1e-5);
            }
        }
    }
}
