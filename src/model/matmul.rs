//! The one matrix product both learned boxes run on: the `gemm` crate on strided ndarray views, so
//! transposed operands (`W^T`, `delta^T`, `centroids^T`) are never copied.

use ndarray::{ArrayView2, ArrayViewMut2};

pub use gemm::Parallelism;

/// `c = a · b`, or `c += a · b` when `accumulate`; any strides (a transposed view costs nothing).
pub fn matmul_into(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    mut c: ArrayViewMut2<f32>,
    accumulate: bool,
    parallelism: Parallelism,
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
    if k == 0 {
        if !accumulate {
            c.fill(0.0);
        }
        return;
    }
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let (b_rs, b_cs) = (b.strides()[0], b.strides()[1]);
    let (c_rs, c_cs) = (c.strides()[0], c.strides()[1]);
    // SAFETY: the three views are valid for their shapes and strides (checked above); `c` is
    // borrowed mutably, so it cannot alias `a` or `b`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            c_cs,
            c_rs,
            accumulate,
            a.as_ptr(),
            a_cs,
            a_rs,
            b.as_ptr(),
            b_cs,
            b_rs,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn matmul_handles_transposed_views_and_accumulation() {
        let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[1.0f32, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let mut c = Array2::from_elem((2, 2), 1.0f32);
        matmul_into(a.view(), b.view(), c.view_mut(), true, Parallelism::None);
        assert_eq!(c, array![[5.0, 6.0], [11.0, 12.0]]);
        let mut d = Array2::zeros((3, 3));
        matmul_into(a.t(), a.view(), d.view_mut(), false, Parallelism::None);
        assert_eq!(d, a.t().dot(&a));
    }
}
