//! Learned front ends: a constrained layer that runs on every frame before the splice, so that a
//! DNN fed the power spectrogram or raw samples can learn the box it replaces.
//!
//! A fully connected layer on linear power spectra or raw samples has no reason to become a filter
//! bank. The front ends here follow the literature in constraining it and following it with a
//! compressive nonlinearity:
//!
//! - [`FilterbankFront`] (Sainath et al. 2013): `N` non-negative filters over the power spectrum,
//!   `y = w · x` with `w = softplus(v)` (or `v^2`), then `ln(y + floor)`.
//! - [`TimeConvFront`] (Tüske et al. 2014; Sainath et al. 2015): `N` kernels of `L` taps slid over
//!   the frame's samples with a stride, rectified (ReLU or square), pooled over the frame (max or
//!   mean), then `ln(y + floor)`.
//!
//! **Where the normalisation goes.** A mean/variance normalisation per input dimension would make
//! power values negative (the log of a filter output would be undefined) and would let each bin or
//! sample position carry its own gain, which is exactly what the filters are to learn. So the
//! front end's input gets one global scale only: the training set's mean power (filter bank) or
//! RMS sample value (time convolution) becomes 1, which makes `floor` and the random
//! initialisation independent of the recording level. In the model file this is `input_mean = 0`
//! and `input_std` = the scale for every dimension. The per-dimension mean/variance
//! normalisation moves after the log: its statistics are measured once, on the training data
//! through the *initial* front end, and then stay fixed (an affine map the first MLP layer would
//! otherwise have to learn; re-estimating it while the filters move would change the function
//! under the optimiser's feet). With a mel-initialised filter bank the MLP therefore starts from
//! exactly the globally normalised log-mel input of the production line.
//!
//! **Splicing.** The front end is shared by all frames and runs before the ±k splice. A
//! minibatch of `n` frames needs the front-end output of up to `n·(2k+1)` frames; many are
//! shared (neighbouring training frames, edge repeats). [`frames`] collects the distinct
//! frames a batch needs (sorted, deduplicated) and an index from every (row, offset) to its
//! distinct frame; the front end runs once per distinct frame, its outputs are normalised and
//! copied into the spliced rows, and backward sums the spliced rows' gradients onto the distinct
//! frames (in row order, so the result does not depend on scheduling) before going through the
//! front end once.

mod filterbank;
pub(crate) mod frames;
mod timeconv;
mod view;

use ndarray::{Array1, Array2, ArrayView2};
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::layers::{FrameRef, MatMul, Normaliser};
use super::{Linear, STREAM_FRONT_INIT, rng_stream};
use crate::error::{Error, Result};

pub use view::{Centre, FilterKind, FrontFilters, centre_order, centres};

/// The learned front end of a DNN, run on every frame before splicing. In YAML:
/// `front: none`, `front: { filterbank: { filters: 40 } }`, `front: { timeconv: { taps: 400 } }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Front {
    /// No front end: the MLP reads the normalised, spliced features.
    #[default]
    None,
    /// Non-negative filters on the power spectrogram, then log.
    Filterbank(FilterbankFront),
    /// Convolution over raw framed samples, rectification, pooling over the frame, then log.
    Timeconv(TimeConvFront),
}

/// How filter-bank weights are kept non-negative: `w = f(v)` for a free parameter `v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Positivity {
    /// `w = ln(1 + e^v)`: `dw/dv = sigmoid(v)` is never zero, so a weight that starts near zero
    /// (a mel filter outside its support) can still grow; for small weights it behaves like
    /// `e^v` (updates are relative, and `dL/dv` is bounded by the bin's share of the filter
    /// output), for large ones like `v` (no blow-up).
    Softplus,
    /// `w = v^2`: simple, but `dw/dv = 2v` vanishes at zero, so a weight that is exactly zero
    /// never moves (a mel-initialised filter keeps its support) and small weights get large
    /// relative steps.
    Square,
}

/// Rectification of the convolution outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rectify {
    /// `max(z, 0)`.
    Relu,
    /// `z^2` (with mean pooling: the band energy; its log is twice the log of an L2 pooling).
    Square,
}

/// Pooling of the rectified convolution outputs over the positions in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// Largest output over the positions.
    Max,
    /// Average output over the positions.
    Mean,
}

/// Where the filter bank starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterbankInit {
    /// Random positive weights (seeded by the DNN's seed).
    Random,
    /// The matrix the caller passes ([`TrainOptions::front_init`](super::TrainOptions), e.g.
    /// the mel filter bank for the same DFT): `filters` must equal its number of columns.
    Mel,
}

crate::options! {
    /// A learned filter bank on the power spectrogram (Sainath et al. 2013).
    pub struct FilterbankFront {
        /// Number of filters.
        filters: usize = 40,
        /// How weights stay non-negative: softplus (w = ln(1 + e^v)) or square (w = v^2).
        positivity: Positivity = Positivity::Softplus,
        /// Added to each filter output before the log, in units of the training set's mean power (the input is scaled to make it 1).
        floor: f32 = 1e-6,
        /// Initial filters: random, or mel (the matrix the caller supplies, e.g. the mel filter bank of the same DFT).
        init: FilterbankInit = FilterbankInit::Random,
        /// Learning-rate multiplier for the filter bank's parameters.
        lr_scale: f32 = 1.0,
    }
}

crate::options! {
    /// A time convolution over raw framed samples (Tüske et al. 2014; Sainath et al. 2015).
    pub struct TimeConvFront {
        /// Number of kernels.
        filters: usize = 40,
        /// Taps per kernel (400 = 25 ms at 16 kHz); frames must be at least this long.
        taps: usize = 400,
        /// Samples between successive kernel positions in a frame.
        stride: usize = 1,
        /// Rectification of the convolution outputs: relu or square.
        rectify: Rectify = Rectify::Relu,
        /// Pooling over the positions in a frame: max or mean.
        pooling: Pooling = Pooling::Max,
        /// Added to the pooled output before the log, in units of the training set's RMS sample (the input is scaled to make it 1).
        floor: f32 = 0.01,
        /// Learning-rate multiplier for the kernels and their biases.
        lr_scale: f32 = 1.0,
    }
}

impl Front {
    /// True when the network has no learned front end.
    pub fn is_none(&self) -> bool {
        matches!(self, Front::None)
    }

    /// Values per frame after the front end: the number of filters, or `feature_dim` without one.
    pub fn output_dim(&self, feature_dim: usize) -> usize {
        match self {
            Front::None => feature_dim,
            Front::Filterbank(f) => f.filters,
            Front::Timeconv(t) => t.filters,
        }
    }

    /// Learned parameters of the front end on `feature_dim`-wide frames: `N·bins` filter weights,
    /// or `N·L` kernel taps plus `N` biases. The fixed normalisations are not counted (as the
    /// MLP's input normalisation is not).
    pub fn num_params(&self, feature_dim: usize) -> usize {
        match self {
            Front::None => 0,
            Front::Filterbank(f) => f.filters * feature_dim,
            Front::Timeconv(t) => t.filters * t.taps + t.filters,
        }
    }

    /// Check the options on their own (before any data is seen).
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("dnn front end: {what}")));
        let (name, filters, floor, lr_scale) = match self {
            Front::None => return Ok(()),
            Front::Filterbank(f) => ("filterbank", f.filters, f.floor, f.lr_scale),
            Front::Timeconv(t) => ("timeconv", t.filters, t.floor, t.lr_scale),
        };
        if filters == 0 {
            return bad(format!("{name} needs at least one filter"));
        }
        if !(floor.is_finite() && floor > 0.0) {
            return bad(format!(
                "{name} floor must be a positive number (it keeps the log finite), got {floor}"
            ));
        }
        if !(lr_scale.is_finite() && lr_scale > 0.0) {
            return bad(format!(
                "{name} lr_scale must be a positive number, got {lr_scale}"
            ));
        }
        if let Front::Timeconv(t) = self {
            if t.taps == 0 {
                return bad("timeconv needs at least one tap".into());
            }
            if t.stride == 0 {
                return bad("timeconv stride must be at least 1".into());
            }
        }
        Ok(())
    }

    /// Check that the front end can read frames of `feature_dim` values.
    pub fn check_input(&self, feature_dim: usize) -> Result<()> {
        self.validate()?;
        if let Front::Timeconv(t) = self
            && feature_dim < t.taps
        {
            return Err(Error::invalid(format!(
                "dnn front end: timeconv kernels have {} taps but the input frames have {feature_dim} \
                 samples; frames must be at least as long as the kernels (feed the DNN from \
                 `waveform` with a longer frame, or use fewer taps)",
                t.taps
            )));
        }
        Ok(())
    }

    fn floor(&self) -> f32 {
        match self {
            Front::None => 0.0,
            Front::Filterbank(f) => f.floor,
            Front::Timeconv(t) => t.floor,
        }
    }

    /// Learning-rate multiplier of the front end's parameters.
    pub(crate) fn lr_scale(&self) -> f32 {
        match self {
            Front::None => 1.0,
            Front::Filterbank(f) => f.lr_scale,
            Front::Timeconv(t) => t.lr_scale,
        }
    }

    /// Does L2 weight decay apply to the parameters? Not to the filter bank's: decaying `v`
    /// would pull softplus weights towards ln 2, not towards zero.
    pub(crate) fn decays(&self) -> bool {
        matches!(self, Front::Timeconv(_))
    }

    /// Name of the parameter tensor in model files.
    pub(crate) fn weight_name(&self) -> &'static str {
        match self {
            Front::Filterbank(_) => "front.weight_param",
            _ => "front.weight",
        }
    }

    /// How to use the front-end tensors without asrpipe (for the model file's metadata).
    pub(crate) fn usage(&self) -> String {
        match self {
            Front::None => String::new(),
            Front::Filterbank(f) => format!(
                "front: w = {}; y = ((feats - input_mean) / input_std) @ w.T; \
                 z = (log(y + {}) - front.norm_mean) / front.norm_std; then splice z",
                match f.positivity {
                    Positivity::Softplus => "softplus(front.weight_param)",
                    Positivity::Square => "front.weight_param ** 2",
                },
                f.floor
            ),
            Front::Timeconv(t) => format!(
                "front: c = conv1d((feats - input_mean) / input_std, front.weight[:, None, :], \
                 front.bias, stride={}) per frame; y = {}({}(c)) over positions; \
                 z = (log(y + {}) - front.norm_mean) / front.norm_std; then splice z",
                t.stride,
                match t.pooling {
                    Pooling::Max => "max",
                    Pooling::Mean => "mean",
                },
                match t.rectify {
                    Rectify::Relu => "relu",
                    Rectify::Square => "square",
                },
                t.floor
            ),
        }
    }
}

/// The front end's numbers: its parameters and the normalisation of its log outputs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FrontLayer {
    /// Filter bank: `v` `[N, bins]` (the weights are `positivity(v)`), empty bias. Time
    /// convolution: kernels `[N, L]` and biases `[N]`. Kept as a [`Linear`] so the optimiser
    /// updates it like any layer.
    pub params: Linear,
    /// Mean and deviation of the log outputs `[N]`, fixed at initialisation.
    pub mean: Array1<f32>,
    pub std: Array1<f32>,
    pub inv_std: Array1<f32>,
}

impl FrontLayer {
    /// Random initial parameters (a stream of `seed` of their own, so the MLP's initial weights
    /// are the same with or without a front end). Filter bank: `v ~ N(-ln(bins) - 1/2, 1)` for
    /// softplus, so each filter's weights are log-normal and sum to about 1 (its output is
    /// about the frame's mean power); `v ~ N(0, 1/bins)` for square (same mean). Time
    /// convolution: taps `N(0, 1/L)` (a unit-RMS white input gives unit-variance outputs), zero
    /// biases. The log outputs start un-normalised (mean 0, deviation 1).
    pub fn new(front: &Front, feature_dim: usize, seed: u64) -> Result<Option<FrontLayer>> {
        front.check_input(feature_dim)?;
        let mut rng = rng_stream(seed, STREAM_FRONT_INIT, 0);
        let (weight, bias) = match front {
            Front::None => return Ok(None),
            Front::Filterbank(f) => {
                let bins = feature_dim as f32;
                let normal = match f.positivity {
                    Positivity::Softplus => Normal::new(-bins.ln() - 0.5, 1.0),
                    Positivity::Square => Normal::new(0.0, bins.recip().sqrt()),
                }
                .expect("finite std");
                (
                    Array2::from_shape_simple_fn((f.filters, feature_dim), || {
                        normal.sample(&mut rng)
                    }),
                    Array1::zeros(0),
                )
            }
            Front::Timeconv(t) => {
                let normal = Normal::new(0.0, (1.0 / t.taps as f32).sqrt()).expect("finite std");
                (
                    Array2::from_shape_simple_fn((t.filters, t.taps), || normal.sample(&mut rng)),
                    Array1::zeros(t.filters),
                )
            }
        };
        let n = front.output_dim(feature_dim);
        Ok(Some(FrontLayer {
            params: Linear { weight, bias },
            mean: Array1::zeros(n),
            std: Array1::ones(n),
            inv_std: Array1::ones(n),
        }))
    }

    /// Set the normalisation of the log outputs.
    pub fn set_normalisation(&mut self, mean: Array1<f32>, std: Array1<f32>) -> Result<()> {
        let n = self.mean.len();
        if mean.len() != n || std.len() != n {
            return Err(Error::invalid(format!(
                "front-end normalisation has {} means and {} deviations for {n} filters",
                mean.len(),
                std.len()
            )));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::invalid(format!(
                "front-end output deviations must be positive, found {s}"
            )));
        }
        if mean.iter().any(|m| !m.is_finite()) {
            return Err(Error::invalid("front-end output means must be finite"));
        }
        self.inv_std = std.mapv(|s| 1.0 / s);
        self.mean = mean;
        self.std = std;
        Ok(())
    }

    /// Start the filter bank at `matrix` (`[bins, filters]`, the layout of
    /// `frontend::filterbank::Filterbank::dense()`). Softplus cannot reach zero: entries below
    /// `1e-4` of their filter's peak start at that value (their gradient is small, so they only
    /// grow where the loss asks for it clearly).
    pub fn init_filters(&mut self, front: &Front, matrix: ArrayView2<'_, f32>) -> Result<()> {
        let Front::Filterbank(f) = front else {
            return Err(Error::invalid(
                "only the filterbank front end can start from a given matrix",
            ));
        };
        let (filters, bins) = self.params.weight.dim();
        if matrix.dim() != (bins, filters) {
            return Err(Error::invalid(format!(
                "front-end init matrix is {}x{}; the filter bank needs {bins} (spectrogram bins) x \
                 {filters} (filters)",
                matrix.nrows(),
                matrix.ncols()
            )));
        }
        for (j, col) in matrix.columns().into_iter().enumerate() {
            if let Some(v) = col.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
                return Err(Error::invalid(format!(
                    "front-end init matrix: filter {j} has weight {v}; filter-bank weights must be \
                     finite and non-negative"
                )));
            }
            let peak = col.fold(0.0f32, |m, &v| m.max(v));
            if peak <= 0.0 {
                return Err(Error::invalid(format!(
                    "front-end init matrix: filter {j} is all zeros"
                )));
            }
            for (v, &w) in self.params.weight.row_mut(j).iter_mut().zip(col) {
                *v = match f.positivity {
                    Positivity::Softplus => softplus_inverse(w.max(1e-4 * peak)),
                    Positivity::Square => w.sqrt(),
                };
            }
        }
        Ok(())
    }

    /// The filters as used: non-negative weights `[N, bins]`, or kernels `[N, L]`.
    pub fn filters(&self, front: &Front) -> Array2<f32> {
        match front {
            Front::Filterbank(f) => self.params.weight.mapv(|v| f.positivity.apply(v)),
            _ => self.params.weight.clone(),
        }
    }
}

impl Positivity {
    #[inline]
    pub(crate) fn apply(self, v: f32) -> f32 {
        match self {
            // ln(1 + e^v) without overflow: max(v, 0) + ln(1 + e^-|v|).
            Positivity::Softplus => v.max(0.0) + (-v.abs()).exp().ln_1p(),
            Positivity::Square => v * v,
        }
    }

    #[inline]
    pub(crate) fn derivative(self, v: f32) -> f32 {
        match self {
            Positivity::Softplus => 1.0 / (1.0 + (-v).exp()),
            Positivity::Square => 2.0 * v,
        }
    }
}

/// `v` with `softplus(v) = w` for `w > 0`: `ln(e^w - 1)`, which is `w` to f32 precision above 20.
fn softplus_inverse(w: f32) -> f32 {
    if w > 20.0 { w } else { w.exp_m1().ln() }
}

/// Reusable buffers of the front end for batches of distinct frames (grown when needed, never
/// shrunk, so training allocates only in its first steps).
#[derive(Default)]
pub(crate) struct FrontWorkspace {
    pub frames: frames::FrameSet,
    /// Scaled input of the distinct frames, `[D, feature_dim]`.
    pub input: Vec<f32>,
    /// Filter outputs before the log (pooled, for the time convolution), `[D, N]`.
    pooled: Vec<f32>,
    /// Normalised log outputs, `[D, N]`: the spliced rows are copied from here.
    pub out: Vec<f32>,
    /// Gradient with respect to `out`, then to `pooled`, `[D, N]`.
    grad: Vec<f32>,
    /// Gradients of the parameters in their layout.
    pub gw: Vec<f32>,
    pub gb: Vec<f32>,
    /// Gradient with respect to the scaled input, `[D, feature_dim]` (only when asked for).
    pub input_grad: Vec<f32>,
    /// Filter bank: the weights `positivity(v)`.
    weights: Vec<f32>,
    /// Time convolution scratch.
    conv: timeconv::Scratch,
}

fn grow(v: &mut Vec<f32>, len: usize) {
    if v.len() < len {
        v.resize(len, 0.0);
    }
}

impl FrontWorkspace {
    /// List the distinct frames that `rows` spliced with `context` need and copy them, scaled
    /// by `norm`, into `input`.
    pub fn prepare(
        &mut self,
        rows: &[FrameRef],
        feats: &[ArrayView2<'_, f32>],
        context: usize,
        norm: &Normaliser<'_>,
    ) {
        self.frames
            .collect(rows, context, |u| feats[u as usize].nrows());
        let len = self.frames.distinct.len() * norm.mean.len();
        grow(&mut self.input, len);
        self.frames.gather(feats, norm, &mut self.input[..len]);
    }

    /// Copy the normalised outputs into the spliced rows `dst` (`rows x (2k+1)·width`).
    pub fn splice(&self, dst: &mut [f32], context: usize, width: usize) {
        let d = self.frames.distinct.len();
        frames::splice_rows(
            dst,
            &self.out[..d * width],
            &self.frames.index,
            context,
            width,
        );
    }

    /// `ln(y + floor)` of the last forward pass, `[D, N]`, before normalisation.
    pub fn log_outputs(&self, front: &Front, feature_dim: usize) -> Array2<f32> {
        let (d, n) = (self.frames.distinct.len(), front.output_dim(feature_dim));
        let floor = front.floor();
        Array2::from_shape_vec(
            (d, n),
            self.pooled[..d * n]
                .iter()
                .map(|y| (y + floor).ln())
                .collect(),
        )
        .expect("sized")
    }

    /// Run the front end on the `D` distinct frames in `input`: fills `out` with normalised log
    /// outputs.
    pub fn forward(&mut self, front: &Front, layer: &FrontLayer, feature_dim: usize, mm: MatMul) {
        let d = self.frames.distinct.len();
        let n = front.output_dim(feature_dim);
        grow(&mut self.pooled, d * n);
        grow(&mut self.out, d * n);
        let input = ArrayView2::from_shape((d, feature_dim), &self.input[..d * feature_dim])
            .expect("sized");
        let pooled = &mut self.pooled[..d * n];
        match front {
            Front::None => unreachable!("no front end to run"),
            Front::Filterbank(f) => {
                grow(&mut self.weights, layer.params.weight.len());
                let w = &mut self.weights[..layer.params.weight.len()];
                filterbank::weights(&layer.params.weight, f.positivity, w);
                filterbank::forward(input, w, n, pooled, mm);
            }
            Front::Timeconv(t) => {
                let conv = timeconv::Conv::new(t, feature_dim);
                conv.forward(input, &layer.params, pooled, &mut self.conv, mm);
            }
        }
        log_normalise(
            pooled,
            &mut self.out[..d * n],
            front.floor(),
            layer.mean.as_slice().expect("owned"),
            layer.inv_std.as_slice().expect("owned"),
        );
    }

    /// Back from the gradient with respect to the spliced rows (`delta`, `[rows, (2k+1)·N]`)
    /// to the parameters (`gw`, `gb`), and to the scaled input (`input_grad`) when asked.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &mut self,
        front: &Front,
        layer: &FrontLayer,
        feature_dim: usize,
        delta: &[f32],
        context: usize,
        with_input_grad: bool,
        mm: MatMul,
    ) {
        let d = self.frames.distinct.len();
        let n = front.output_dim(feature_dim);
        grow(&mut self.grad, d * n);
        grow(&mut self.gw, layer.params.weight.len());
        grow(&mut self.gb, layer.params.bias.len());
        if with_input_grad {
            grow(&mut self.input_grad, d * feature_dim);
        }
        let grad = &mut self.grad[..d * n];
        frames::unsplice_add(grad, delta, &self.frames.index, context, n);
        log_backward(
            grad,
            &self.pooled[..d * n],
            front.floor(),
            layer.inv_std.as_slice().expect("owned"),
        );
        let input = ArrayView2::from_shape((d, feature_dim), &self.input[..d * feature_dim])
            .expect("sized");
        let gw = &mut self.gw[..layer.params.weight.len()];
        let gb = &mut self.gb[..layer.params.bias.len()];
        let input_grad = with_input_grad.then(|| &mut self.input_grad[..d * feature_dim]);
        match front {
            Front::None => unreachable!("no front end to run"),
            Front::Filterbank(f) => {
                let w = &self.weights[..layer.params.weight.len()];
                filterbank::backward(
                    input,
                    &layer.params.weight,
                    w,
                    f.positivity,
                    grad,
                    gw,
                    input_grad,
                    mm,
                );
            }
            Front::Timeconv(t) => {
                let conv = timeconv::Conv::new(t, feature_dim);
                conv.backward(
                    input,
                    &layer.params,
                    grad,
                    gw,
                    gb,
                    input_grad,
                    &mut self.conv,
                    mm,
                );
            }
        }
    }
}

/// A filter bank reads power: every value of `features` (utterance `utt`) must be finite and
/// non-negative, or the log of a filter output is undefined.
pub(crate) fn check_power(features: ArrayView2<'_, f32>, utt: usize) -> Result<()> {
    for (t, row) in features.rows().into_iter().enumerate() {
        if let Some((j, v)) = row
            .iter()
            .enumerate()
            .find(|(_, v)| !(v.is_finite() && **v >= 0.0))
        {
            return Err(Error::invalid(format!(
                "the filterbank front end reads a power spectrogram (finite, non-negative); \
                 utterance {utt}, frame {t}, bin {j} is {v} (is the DNN fed another stage, e.g. \
                 log or waveform?)"
            )));
        }
    }
    Ok(())
}

/// `out = (ln(y + floor) - mean) · inv_std`, row by row (`N` = `mean.len()` columns).
fn log_normalise(y: &[f32], out: &mut [f32], floor: f32, mean: &[f32], inv_std: &[f32]) {
    use rayon::prelude::*;
    let n = mean.len();
    out.par_chunks_mut(n * 64)
        .zip(y.par_chunks(n * 64))
        .for_each(|(o, y)| {
            for (o, y) in o.chunks_exact_mut(n).zip(y.chunks_exact(n)) {
                for (((o, &y), &m), &is) in o.iter_mut().zip(y).zip(mean).zip(inv_std) {
                    *o = ((y + floor).ln() - m) * is;
                }
            }
        });
}

/// Through [`log_normalise`]: `grad ← grad · inv_std / (y + floor)`.
fn log_backward(grad: &mut [f32], y: &[f32], floor: f32, inv_std: &[f32]) {
    use rayon::prelude::*;
    let n = inv_std.len();
    grad.par_chunks_mut(n * 64)
        .zip(y.par_chunks(n * 64))
        .for_each(|(g, y)| {
            for (g, y) in g.chunks_exact_mut(n).zip(y.chunks_exact(n)) {
                for ((g, &y), &is) in g.iter_mut().zip(y).zip(inv_std) {
                    *g *= is / (y + floor);
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softplus_and_its_inverse_round_trip() {
        for w in [1e-6f32, 1e-3, 0.1, 1.0, 5.0, 30.0] {
            let v = softplus_inverse(w);
            let back = Positivity::Softplus.apply(v);
            assert!(
                (back - w).abs() <= 1e-5 * w.max(1.0),
                "{w} -> {v} -> {back}"
            );
        }
        assert_eq!(Positivity::Softplus.apply(-200.0), 0.0);
        assert_eq!(Positivity::Softplus.apply(200.0), 200.0);
        assert!((Positivity::Softplus.derivative(0.0) - 0.5).abs() < 1e-7);
    }

    #[test]
    fn front_options_read_from_yaml_and_explain_mistakes() {
        let f: Front = serde_json::from_str(r#""none""#).unwrap();
        assert!(f.is_none());
        let f: Front =
            serde_json::from_str(r#"{"timeconv": {"taps": 25, "pooling": "mean"}}"#).unwrap();
        let Front::Timeconv(t) = &f else {
            panic!("{f:?}")
        };
        assert_eq!((t.taps, t.pooling, t.filters), (25, Pooling::Mean, 40));
        assert_eq!(f.output_dim(400), 40);
        assert_eq!(f.num_params(400), 40 * 25 + 40);
        let e = f.check_input(20).unwrap_err().to_string();
        assert!(e.contains("25 taps") && e.contains("20 samples"), "{e}");
        let fb = Front::Filterbank(FilterbankFront {
            floor: 0.0,
            ..Default::default()
        });
        assert!(fb.validate().unwrap_err().to_string().contains("floor"));
        assert!(serde_json::from_str::<Front>(r#"{"filterbank": {"filter": 3}}"#).is_err());
    }

    #[test]
    fn dnn_options_take_a_front_end_in_yaml() {
        use crate::model::dnn::DnnConfig;
        let cfg: DnnConfig = serde_saphyr::from_str(
            "hidden: 4x512\nfront: { filterbank: { filters: 23, init: mel, positivity: square } }\n",
        )
        .unwrap();
        let Front::Filterbank(f) = &cfg.front else {
            panic!("{:?}", cfg.front)
        };
        assert_eq!(
            (f.filters, f.init, f.positivity, f.floor),
            (23, FilterbankInit::Mel, Positivity::Square, 1e-6)
        );
        let cfg: DnnConfig = serde_saphyr::from_str("front: none\n").unwrap();
        assert!(cfg.front.is_none());
        let cfg: DnnConfig =
            serde_saphyr::from_str("front:\n  timeconv:\n    taps: 560\n    stride: 2\n").unwrap();
        assert_eq!(cfg.mlp_input_dim(560), 11 * 40);
        assert!(serde_saphyr::from_str::<DnnConfig>("front: learned\n").is_err());
        assert!(DnnConfig::default().front.is_none());
    }
}
