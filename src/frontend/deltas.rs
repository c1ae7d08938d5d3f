//! Dynamic features: regression deltas over +-`window` frames (Kaldi's `DeltaFeatures`, the same
//! formula as HTK), orders 1 and 2, edge frames repeated. Output: [static, delta, delta-delta].

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};
use crate::options;

options! {
    /// Delta and delta-delta features.
    pub struct DeltaOptions {
        /// 0 = none, 1 = deltas, 2 = deltas and delta-deltas.
        order: usize = 0,
        /// Frames on each side used by the regression.
        window: usize = 2,
    }
}

/// Regression filters per order, built once (Kaldi's `DeltaFeatures` constructor): order i is
/// order i-1 convolved with j / sum(j^2), j = -window..=window.
#[derive(Debug, Clone)]
pub struct Deltas {
    scales: Vec<Vec<f32>>,
}

impl Deltas {
    pub fn new(opts: &DeltaOptions) -> Result<Self> {
        if opts.order > 4 || (opts.order > 0 && opts.window == 0) {
            return Err(Error::invalid(format!(
                "deltas need order <= 4 and window >= 1, got order {} window {}",
                opts.order, opts.window
            )));
        }
        let w = opts.window as i64;
        let norm: f64 = (-w..=w).map(|j| (j * j) as f64).sum();
        let mut scales: Vec<Vec<f64>> = vec![vec![1.0]];
        for i in 1..=opts.order {
            let prev = &scales[i - 1];
            let prev_off = (prev.len() as i64 - 1) / 2;
            let cur_off = prev_off + w;
            let mut cur = vec![0.0; prev.len() + 2 * opts.window];
            for j in -w..=w {
                for k in -prev_off..=prev_off {
                    cur[(j + k + cur_off) as usize] +=
                        j as f64 * prev[(k + prev_off) as usize] / norm;
                }
            }
            scales.push(cur);
        }
        Ok(Deltas {
            scales: scales
                .into_iter()
                .map(|s| s.into_iter().map(|v| v as f32).collect())
                .collect(),
        })
    }

    pub fn output_dim(&self, dim: usize) -> usize {
        dim * self.scales.len()
    }

    pub fn apply(&self, x: ArrayView2<f32>) -> Array2<f32> {
        let (t, d) = x.dim();
        let mut out = Array2::<f32>::zeros((t, self.output_dim(d)));
        for (order, scale) in self.scales.iter().enumerate() {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn ramp_has_unit_delta_and_zero_delta_delta_inside() {
        let x = Array2::from_shape_fn((10, 1), |(i, _)| i as f32);
        let d = Deltas::new(&DeltaOptions {
            order: 2,
            window: 2,
        })
        .unwrap();
        let y = d.apply(x.view());
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
        let d = Deltas::new(&DeltaOptions {
            order: 2,
            window: 2,
        })
        .unwrap();
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
}
