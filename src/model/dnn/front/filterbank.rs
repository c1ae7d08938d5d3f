//! The learned filter bank: `y = x · w^T` with `w = positivity(v)` `[N, bins]`, one matrix product
//! for all the distinct frames of a batch, and two for its gradients.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use super::Positivity;
use crate::model::dnn::layers::MatMul;

/// Elements per rayon task in the element-wise passes.
const CHUNK: usize = 1 << 12;

/// `w = positivity(v)`, element by element.
pub(super) fn weights(v: &Array2<f32>, positivity: Positivity, w: &mut [f32]) {
    let v = v.as_slice().expect("standard layout");
    w.par_chunks_mut(CHUNK)
        .zip(v.par_chunks(CHUNK))
        .for_each(|(w, v)| {
            w.iter_mut()
                .zip(v)
                .for_each(|(w, &v)| *w = positivity.apply(v))
        });
}

/// `y = x · w^T`: `x` `[D, bins]`, `w` `[N, bins]` (flat), `y` `[D, N]` (flat).
pub(super) fn forward(
    x: ArrayView2<'_, f32>,
    w: &[f32],
    filters: usize,
    y: &mut [f32],
    mm: MatMul,
) {
    let w = ArrayView2::from_shape((filters, x.ncols()), w).expect("sized");
    let y = ArrayViewMut2::from_shape((x.nrows(), filters), y).expect("sized");
    mm.product(x, w.t(), y, false);
}

/// From `grad = dL/dy` `[D, N]`: `gv = (grad^T · x) ⊙ positivity'(v)` `[N, bins]`, and
/// `dL/dx = grad · w` `[D, bins]` when `input_grad` is given.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    x: ArrayView2<'_, f32>,
    v: &Array2<f32>,
    w: &[f32],
    positivity: Positivity,
    grad: &[f32],
    gv: &mut [f32],
    input_grad: Option<&mut [f32]>,
    mm: MatMul,
) {
    let (d, bins) = x.dim();
    let filters = v.nrows();
    let g = ArrayView2::from_shape((d, filters), grad).expect("sized");
    {
        let gw = ArrayViewMut2::from_shape((filters, bins), &mut *gv).expect("sized");
        mm.product(g.t(), x, gw, false);
    }
    let v = v.as_slice().expect("standard layout");
    gv.par_chunks_mut(CHUNK)
        .zip(v.par_chunks(CHUNK))
        .for_each(|(g, v)| {
            g.iter_mut()
                .zip(v)
                .for_each(|(g, &v)| *g *= positivity.derivative(v))
        });
    if let Some(ig) = input_grad {
        let w = ArrayView2::from_shape((filters, bins), w).expect("sized");
        let ig = ArrayViewMut2::from_shape((d, bins), ig).expect("sized");
        mm.product(g, w, ig, false);
    }
}
