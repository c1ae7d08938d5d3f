//! Dynamic features: regression deltas over +-`window` frames (Kaldi's `DeltaFeatures`, the same
//! formula as HTK), orders up to 4, edge frames repeated. Output: [static, delta, delta-delta, ...].

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::options;

/// Highest delta order.
pub const MAX_ORDER: usize = 4;

/// Widest regression window, in frames on each side (10 s at a 10 ms shift; Kaldi and HTK use 2).
/// The order-k filter has 2kW + 1 taps, and every output frame costs that many row additions.
pub const MAX_WINDOW: usize = 1000;

options! {
    /// Delta and delta-delta features.
    pub struct DeltaOptions {
        /// 0 = none, 1 = deltas, 2 = deltas and delta-deltas, ... up to 4.
        order: usize = 0,
        /// Frames on each side used by the regression, 1 to 1000.
        window: usize = 2,
    }
}

impl DeltaOptions {
    /// Refuse orders and windows outside the supported range (the window only matters with deltas).
    pub fn check(&self) -> Result<()> {
        if self.order > MAX_ORDER {
            return Err(Error::invalid(format!(
                "deltas order must be between 0 and {MAX_ORDER}, got {}",
                self.order
            )));
        }
        if self.order > 0 && !(1..=MAX_WINDOW).contains(&self.window) {
            return Err(Error::invalid(format!(
                "deltas window must be between 1 and {MAX_WINDOW} frames, got {}",
                self.window
            )));
        }
        Ok(())
    }
}

/// Regression filters per order, built once (Kaldi's `DeltaFeatures` constructor): order i is
/// order i-1 convolved with j / sum(j^2), j = -window..=window.
#[derive(Debug, Clone)]
pub struct Deltas {
    scales: Vec<Vec<f32>>,
}

impl Deltas {
    /// Build the regression filters; refuses orders and windows out of range.
    pub fn new(opts: &DeltaOptions) -> Result<Self> {
        opts.check()?;
        Ok(Deltas {
            scales: filters(opts.order, opts.window),
        })
    }

    /// Output dimension for `dim`-dimensional input: `dim * (order + 1)`.
    pub fn output_dim(&self, dim: usize) -> usize {
        dim * self.scales.len()
    }

    /// [static, delta, ...] of `x`: O(frames x taps x dims), one pass over contiguous rows.
    pub fn apply(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let (t, d) = x.dim();
        let x = x.as_standard_layout();
        let x = x.as_slice().expect("standard layout");
        let mut out = Array2::<f32>::zeros((t, self.output_dim(d)));
        if t == 0 {
            return out;
        }
        for (f, row) in out.outer_iter_mut().enumerate() {
            let row = row.into_slice().expect("contiguous rows");
            for (scale, o) in self.scales.iter().zip(row.chunks_exact_mut(d)) {
                let off = (scale.len() / 2) as i64;
                for (j, &c) in scale.iter().enumerate() {
                    if c == 0.0 {
                        continue;
                    }
                    let src = (f as i64 + j as i64 - off).clamp(0, t as i64 - 1) as usize;
                    let src = &x[src * d..(src + 1) * d];
                    o.iter_mut().zip(src).for_each(|(o, &v)| *o += c * v);
                }
            }
        }
        out
    }
}

/// The filters of orders 0..=`order` for `window` W, in O(order^2 W).
///
/// Up to the common factor 1 / norm^k (norm = sum of j^2 over -W..=W), the order-k filter is the
/// k-fold convolution of the ramp j = -W..=W with itself: integers, so they are built exactly in
/// i128, each from the one before in O(taps) with prefix sums, and divided once at the end.
/// (Convolving in floating point costs O(W^2) and rounds at every step.) With W <= 1000 and
/// k <= 4 every intermediate stays below 1e27, far inside i128.
fn filters(order: usize, window: usize) -> Vec<Vec<f32>> {
    let w = window as i128;
    let norm = (-w..=w).map(|j| j * j).sum::<i128>() as f64;
    let mut ints: Vec<i128> = vec![1];
    let mut scales = vec![vec![1.0f32]];
    for k in 1..=order {
        ints = convolve_ramp(&ints, w);
        let denominator = norm.powi(k as i32);
        scales.push(
            ints.iter()
                .map(|&c| (c as f64 / denominator) as f32)
                .collect(),
        );
    }
    scales
}

/// `prev` convolved with the ramp j = -w..=w: out[m] = sum over j of j prev[m - j - w], for m in
/// 0..len + 2w. The taps of prev that meet j lie in p = m - 2w..=m, at j = m - w - p, so
/// out[m] = (m - w) sum(prev[p]) - sum(p prev[p]) over that range: two prefix sums.
fn convolve_ramp(prev: &[i128], w: i128) -> Vec<i128> {
    let n = prev.len() as i128;
    let mut s0 = vec![0i128; prev.len() + 1];
    let mut s1 = vec![0i128; prev.len() + 1];
    for (p, &c) in prev.iter().enumerate() {
        s0[p + 1] = s0[p] + c;
        s1[p + 1] = s1[p] + p as i128 * c;
    }
    (0..n + 2 * w)
        .map(|m| {
            let lo = (m - 2 * w).max(0) as usize;
            let hi = m.min(n - 1) as usize + 1;
            (m - w) * (s0[hi] - s0[lo]) - (s1[hi] - s1[lo])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};

    /// The filters as the code computed them before: Kaldi's double loop in f64, O(order W^2).
    fn reference_scales(order: usize, window: usize) -> Vec<Vec<f32>> {
        let w = window as i64;
        let norm: f64 = (-w..=w).map(|j| (j * j) as f64).sum();
        let mut scales: Vec<Vec<f64>> = vec![vec![1.0]];
        for i in 1..=order {
            let prev = &scales[i - 1];
            let prev_off = (prev.len() as i64 - 1) / 2;
            let cur_off = prev_off + w;
            let mut cur = vec![0.0; prev.len() + 2 * window];
            for j in -w..=w {
                for k in -prev_off..=prev_off {
                    cur[(j + k + cur_off) as usize] +=
                        j as f64 * prev[(k + prev_off) as usize] / norm;
                }
            }
            scales.push(cur);
        }
        scales
            .into_iter()
            .map(|s| s.into_iter().map(|v| v as f32).collect())
            .collect()
    }

    /// Deltas applied the way the code did before: a row addition per tap, in tap order.
    fn reference_apply(scales: &[Vec<f32>], x: ArrayView2<f32>) -> Array2<f32> {
        let (t, d) = x.dim();
        let mut out = Array2::<f32>::zeros((t, d * scales.len()));
        for (order, scale) in scales.iter().enumerate() {
            let off = (scale.len() / 2) as i64;
            for f in 0..t {
                let mut o = out.slice_mut(ndarray::s![f, order * d..(order + 1) * d]);
                for (j, &c) in scale.iter().enumerate() {
                    if c == 0.0 {
                        continue;
                    }
                    let src = (f as i64 + j as i64 - off).clamp(0, t as i64 - 1) as usize;
                    o.scaled_add(c, &x.row(src));
                }
            }
        }
        out
    }

    fn deltas(order: usize, window: usize) -> Deltas {
        Deltas::new(&DeltaOptions { order, window }).unwrap()
    }

    #[test]
    fn ramp_has_unit_delta_and_zero_delta_delta_inside() {
        let x = Array2::from_shape_fn((10, 1), |(i, _)| i as f32);
        let y = deltas(2, 2).apply(x.view());
        assert_eq!(y.ncols(), 3);
        for f in 4..6 {
            assert!((y[[f, 1]] - 1.0).abs() < 1e-6);
            assert!(y[[f, 2]].abs() < 1e-6);
        }
        // At frame 0 with edges repeated: (1*(0-0) + 2*(0-0)... ) = (-2*0 -1*0 + 1*1 + 2*2) / 10 = 0.5
        assert!((y[[0, 1]] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn delta_filter_matches_kaldi_window_2() {
        let d = deltas(2, 2);
        let want1 = [-0.2, -0.1, 0.0, 0.1, 0.2];
        for (a, b) in d.scales[1].iter().zip(want1) {
            assert!((a - b).abs() < 1e-7);
        }
        // Second order: [0.04, 0.04, 0.01, -0.04, -0.1, -0.04, 0.01, 0.04, 0.04]
        let want2 = [0.04, 0.04, 0.01, -0.04, -0.1, -0.04, 0.01, 0.04, 0.04];
        for (a, b) in d.scales[2].iter().zip(want2) {
            assert!((a - b).abs() < 1e-7, "{:?}", d.scales[2]);
        }
    }

    #[test]
    fn exact_filters_equal_the_quadratic_reference() {
        // Bit for bit, except at taps whose exact value is 0, which the f64 double loop leaves at
        // a rounding residue (the centre tap of order 3: -1.4e-20 at window 5; two taps of
        // order 2 at window 20: 2.1e-21). Window 2, Kaldi's default, has none.
        let mut residues = 0;
        for window in (1..=40).chain([57, 100, 250, MAX_WINDOW]) {
            let exact = filters(MAX_ORDER, window);
            let reference = reference_scales(MAX_ORDER, window);
            for order in 0..=MAX_ORDER {
                for (i, (a, b)) in exact[order].iter().zip(&reference[order]).enumerate() {
                    if a != b {
                        assert!(
                            *a == 0.0 && b.abs() < 1e-15,
                            "order {order} window {window} tap {i}: {a:e} vs {b:e}"
                        );
                        residues += 1;
                    }
                }
            }
            if window == 2 {
                assert_eq!(residues, 0);
            }
        }
        assert!(residues > 0);
    }

    #[test]
    fn deltas_of_random_features_equal_the_reference() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for (order, window, frames) in [(1, 1, 7), (2, 2, 50), (3, 5, 40), (4, 9, 3), (2, 30, 25)] {
            let x = Array2::from_shape_fn((frames, 13), |_| rng.random_range(-20.0f32..20.0));
            let d = deltas(order, window);
            assert_eq!(
                d.apply(x.view()),
                reference_apply(&reference_scales(order, window), x.view()),
                "order {order} window {window}"
            );
        }
    }

    #[test]
    fn the_widest_window_builds_and_is_a_regression() {
        // At W = MAX_WINDOW the O(W^2) construction took seconds per order; these filters are
        // built in O(W). Order 1 is the least-squares slope: antisymmetric, slope of a ramp 1.
        let d = deltas(MAX_ORDER, MAX_WINDOW);
        assert_eq!(d.scales[4].len(), 8 * MAX_WINDOW + 1);
        assert_eq!(d.scales[1], reference_scales(1, MAX_WINDOW)[1]);
        let slope: f64 = d.scales[1]
            .iter()
            .enumerate()
            .map(|(i, &c)| (i as f64 - MAX_WINDOW as f64) * f64::from(c))
            .sum();
        assert!((slope - 1.0).abs() < 1e-5, "{slope}");
        for k in 1..=MAX_ORDER {
            // Each order differentiates: a constant signal has no deltas.
            let sum: f64 = d.scales[k].iter().map(|&c| f64::from(c)).sum();
            assert!(sum.abs() < 1e-9, "order {k}: {sum}");
        }
        let x = Array2::from_shape_fn((30, 2), |(i, j)| (i * (j + 1)) as f32);
        assert_eq!(d.apply(x.view()).dim(), (30, 10));
    }

    #[test]
    fn orders_and_windows_out_of_range_are_refused() {
        let err = |order, window| {
            Deltas::new(&DeltaOptions { order, window })
                .unwrap_err()
                .to_string()
        };
        assert_eq!(err(5, 2), "deltas order must be between 0 and 4, got 5");
        assert_eq!(
            err(2, 0),
            "deltas window must be between 1 and 1000 frames, got 0"
        );
        assert_eq!(
            err(1, 100_000),
            "deltas window must be between 1 and 1000 frames, got 100000"
        );
        // Without deltas the window is unused.
        assert!(
            Deltas::new(&DeltaOptions {
                order: 0,
                window: 0
            })
            .is_ok()
        );
    }
}
