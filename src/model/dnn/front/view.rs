//! What a front end has learned, for plots: the filters as they are used, their responses over
//! frequency, and an order by centre frequency. Drawing is left to `viz`.

use ndarray::{Array2, ArrayView1, ArrayView2};
use realfft::RealFftPlanner;

use super::{Front, FrontLayer};
use crate::error::{Error, Result};

/// What the rows of [`FrontFilters::weights`] are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// Filter-bank weights over the power-spectrogram bins (non-negative).
    PowerWeights,
    /// Time-convolution kernels over samples (signed, oldest sample first).
    Kernels,
}

/// A front end's filters.
#[derive(Debug, Clone, PartialEq)]
pub struct FrontFilters {
    /// Whether `weights` are filter-bank weights or convolution kernels.
    pub kind: FilterKind,
    /// `[N, bins]` non-negative weights, or `[N, taps]` kernels.
    pub weights: Array2<f32>,
    /// Response of each filter over frequency, `[N, points]`, the points evenly spaced from 0 Hz
    /// to the Nyquist frequency (point `j` of `m` is at `j / (m - 1) · rate / 2`). For a filter
    /// bank this is its weights (the gain it applies to each power bin); for kernels the
    /// magnitude `|DFT|` zero-padded to `n_fft` points (a power gain is its square).
    pub responses: Array2<f32>,
}

impl FrontFilters {
    pub(crate) fn new(front: &Front, layer: &FrontLayer, n_fft: usize) -> Result<FrontFilters> {
        let weights = layer.filters(front);
        match front {
            Front::Timeconv(_) => Ok(FrontFilters {
                kind: FilterKind::Kernels,
                responses: magnitude_responses(weights.view(), n_fft)?,
                weights,
            }),
            _ => Ok(FrontFilters {
                kind: FilterKind::PowerWeights,
                responses: weights.clone(),
                weights,
            }),
        }
    }
}

/// `|DFT|` of each row zero-padded to `n_fft` points: rows × `(n_fft / 2 + 1)`.
fn magnitude_responses(taps: ArrayView2<'_, f32>, n_fft: usize) -> Result<Array2<f32>> {
    if n_fft < taps.ncols() || n_fft < 2 {
        return Err(Error::invalid(format!(
            "kernel responses: n_fft = {n_fft} is shorter than the {} taps",
            taps.ncols()
        )));
    }
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n_fft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut out = Array2::zeros((taps.nrows(), n_fft / 2 + 1));
    for (row, mut dst) in taps.rows().into_iter().zip(out.rows_mut()) {
        input.fill(0.0);
        input.iter_mut().zip(row).for_each(|(d, &s)| *d = s);
        fft.process(&mut input, &mut spectrum)
            .map_err(|e| Error::invalid(format!("kernel responses: {e}")))?;
        dst.iter_mut()
            .zip(&spectrum)
            .for_each(|(d, c)| *d = c.norm());
    }
    Ok(out)
}

/// How to place a filter on the frequency axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Centre {
    /// The point of the largest response (the first, on ties).
    Peak,
    /// The response-weighted mean point, `Σ j·r_j / Σ r_j`.
    Centroid,
}

/// Centre of every row of `responses` (e.g. [`FrontFilters::responses`]) as a fractional point
/// index (0 = 0 Hz); a row of zeros has centre 0.
pub fn centres(responses: ArrayView2<'_, f32>, how: Centre) -> Vec<f32> {
    responses
        .rows()
        .into_iter()
        .map(|r| centre(r, how))
        .collect()
}

fn centre(r: ArrayView1<'_, f32>, how: Centre) -> f32 {
    match how {
        Centre::Peak => {
            let mut best = (0, f32::NEG_INFINITY);
            for (j, &v) in r.iter().enumerate() {
                if v > best.1 {
                    best = (j, v);
                }
            }
            best.0 as f32
        }
        Centre::Centroid => {
            let (mut num, mut den) = (0.0f64, 0.0f64);
            for (j, &v) in r.iter().enumerate() {
                num += j as f64 * f64::from(v);
                den += f64::from(v);
            }
            if den > 0.0 { (num / den) as f32 } else { 0.0 }
        }
    }
}

/// Row indices of `responses` from the lowest centre to the highest (ties keep row order).
pub fn centre_order(responses: ArrayView2<'_, f32>, how: Centre) -> Vec<usize> {
    let c = centres(responses, how);
    let mut order: Vec<usize> = (0..c.len()).collect();
    order.sort_by(|&a, &b| c[a].total_cmp(&c[b]).then(a.cmp(&b)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, array};

    #[test]
    fn a_cosine_kernel_peaks_at_its_frequency() {
        // 64 taps of cos(2π·8·n/64): |DFT| at 64 points peaks at bin 8 with height 32.
        let taps = Array2::from_shape_fn((1, 64), |(_, n)| {
            (2.0 * std::f32::consts::PI * 8.0 * n as f32 / 64.0).cos()
        });
        let r = magnitude_responses(taps.view(), 64).unwrap();
        assert_eq!(r.dim(), (1, 33));
        assert!((r[[0, 8]] - 32.0).abs() < 1e-3);
        assert_eq!(centres(r.view(), Centre::Peak), [8.0]);
        assert!(magnitude_responses(taps.view(), 32).is_err());
    }

    #[test]
    fn order_by_peak_and_by_centroid() {
        let r = array![
            [0.0f32, 0.0, 1.0, 0.0],
            [1.0, 0.0, 0.0, 3.0],
            [0.0, 2.0, 0.0, 0.0],
            [0.0, 0.0, 0.0, 0.0]
        ];
        assert_eq!(centres(r.view(), Centre::Peak), [2.0, 3.0, 1.0, 0.0]);
        assert_eq!(centre_order(r.view(), Centre::Peak), [3, 2, 0, 1]);
        // Row 1: (0·1 + 3·3) / 4 = 2.25.
        assert_eq!(centres(r.view(), Centre::Centroid), [2.0, 2.25, 1.0, 0.0]);
        assert_eq!(centre_order(r.view(), Centre::Centroid), [3, 2, 0, 1]);
    }
}
