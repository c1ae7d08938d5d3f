//! A multilayer perceptron over tied-state targets, written by hand over ndarray: the learned box
//! that replaces a suffix of the production line.
//!
//! Input frames are normalised per dimension with the training set's mean and standard deviation
//! (stored in the model), then spliced with `context` frames on each side (edges repeat the first
//! or last frame, as Kaldi's splice). Hidden layers use ReLU (default), sigmoid or tanh; the
//! output is a softmax trained with cross-entropy. Training ([`train()`]) shuffles frames across
//! utterances, runs SGD with momentum or Adam, halves the learning rate when the held-out loss
//! stops improving (newbob), keeps the best epoch and checkpoints every epoch.
//!
//! Model files use PyTorch's `nn.Linear` naming and layout, so they load straight into torch
//! (see `scripts/bench_dnn_torch.py --check`, which does so and compares outputs):
//! `layers.{i}.weight` `[out, in]`, `layers.{i}.bias` `[out]`, `input_mean` and `input_std`
//! `[feature_dim]`, with the metadata (spec, activation, context, dims) in a JSON file beside it.
//! ```text
//! x = splice((feats - input_mean) / input_std, context)        # [frames, (2k+1)*feature_dim]
//! for i, layer in enumerate(layers): x = layer(x); x = act(x) if i < last else log_softmax(x)
//! ```
//!
//! # Learned front ends
//!
//! [`DnnConfig::front`] puts a constrained, learned layer before the splice, run on every frame
//! with shared weights and trained end to end with the MLP (see the `front` module for the
//! design: where the normalisation goes, how the splice is shared):
//!
//! - [`Front::Filterbank`] reads the **power spectrogram** (the `spectrogram` cut, e.g. 257 bins
//!   at 16 kHz with a 512-point FFT; values must be non-negative): `N` filters with weights
//!   `softplus(v) >= 0` (or `v^2`), then `ln(y + floor)`. Random start, or `init: mel` with the
//!   matrix passed in [`TrainOptions::front_init`] (`[bins, N]`, e.g.
//!   `frontend::filterbank::Filterbank::dense()` for the same DFT; this module does not build it,
//!   so it does not depend on the frontend).
//! - [`Front::Timeconv`] reads **raw framed samples** (the `waveform` cut; a rectangular window
//!   and no pre-emphasis keep them raw): `N` kernels of `taps` samples at `stride`, ReLU or
//!   square, max or mean pooling over the frame, then `ln(y + floor)`. The frame may be longer
//!   than the kernel (a 35 ms frame and a 25 ms kernel at 16 kHz give 161 positions).
//!
//! ```text
//! let cfg = DnnConfig {
//!     hidden: "4x1000".into(),
//!     front: Front::Filterbank(FilterbankFront { filters: 40, init: FilterbankInit::Mel, ..Default::default() }),
//!     ..Default::default()
//! };                                   // in YAML: front: { filterbank: { filters: 40, init: mel } }
//! let mel = Filterbank::new(&FilterbankOptions { num_bins: 40, ..Default::default() }, 16000, 257)?.dense();
//! let trained = train(&cfg, states, &train_set, Some(&dev_set),
//!                     TrainOptions { front_init: Some(mel.view()), ..Default::default() })?;
//! ```
//!
//! With a front end the input is not normalised per dimension: it is divided by one global scale
//! (the training set's mean power or RMS sample: `input_mean` 0, `input_std` that scale in every
//! dimension), and the front end's log outputs are normalised per filter with statistics fixed
//! at initialisation (`front.norm_mean`, `front.norm_std`). Files hold the parameters as
//! `front.weight_param` (filter bank, `[N, bins]`, weights `softplus` or square of it) or
//! `front.weight` `[N, taps]` and `front.bias` (time convolution); the JSON's `front` and `usage`
//! say how to apply them. Files without a front end are unchanged (no `front` key) and load as
//! before.
//!
//! - **Parameters**: [`Architecture::num_params`] and [`DnnConfig::num_params`] count the front
//!   end ([`Front::num_params`]) plus the MLP. [`count_params`] and [`match_params`] are about the
//!   MLP alone and take its input width, [`DnnConfig::mlp_input_dim`] (`(2k+1)·N` with a front
//!   end): deep and shallow nets compared with the same front end match in total when their MLPs
//!   match.
//! - **Activations**: [`Dnn::activations`] layer 0 is the MLP's input, i.e. after the front end:
//!   its normalised log outputs, spliced. [`Dnn::front_features`] gives the front end's log
//!   outputs per frame before normalisation (a learned log filter-bank "spectrogram").
//! - **Views**: [`Dnn::front_filters`]`(n_fft)` gives the filters as used ([`FilterKind`]:
//!   non-negative `[N, bins]` weights, or signed `[N, taps]` kernels) and their responses over
//!   frequency from 0 Hz to Nyquist (the weights themselves, or `|DFT|` of the kernels at `n_fft`
//!   points, e.g. 512). [`centres`] and [`centre_order`] place and sort filters by peak or
//!   centroid. The untrained network of the same configuration and seed is
//!   `Dnn::new(dnn.arch().clone(), cfg.seed)` (the random front end; a mel start is the matrix
//!   itself), so a plot can show learned vs random vs mel.

mod checkpoint;
mod file;
mod front;
mod hidden;
mod history;
mod layers;
mod memory;
mod optim;
mod step;
mod train;

use ndarray::{Array1, Array2, ArrayView2, ArrayView3};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Classifier;

pub(crate) use file::{take_layers, tensor_names};
pub use front::{
    Centre, FilterKind, FilterbankFront, FilterbankInit, Front, FrontFilters, Pooling, Positivity,
    Rectify, TimeConvFront, centre_order, centres,
};
pub use hidden::{HiddenSpec, MAX_HIDDEN_LAYERS, count_params, hidden_spec, match_params};
pub use history::{EpochStats, Outcome};
pub use layers::{Activation, MatMul};
pub use optim::Optimizer;
pub use step::{BatchStats, FrontGradients, Gradients, Trainer};
pub use train::{Dataset, NO_LABEL, Progress, ProgressFn, TrainOptions, Trained, train};

crate::options! {
    /// Training a DNN over tied-state targets.
    pub struct DnnConfig {
        /// Hidden layers: `8x1000` (8 of 1000), `1000,500,250` (widths), `2x1000,500`, or `none`.
        hidden: HiddenSpec = HiddenSpec::uniform(4, 1000),
        /// Hidden nonlinearity: relu, sigmoid or tanh.
        activation: Activation = Activation::Relu,
        /// Frames of context spliced on each side of the centre frame.
        context: usize = 5,
        /// Most epochs (passes over the shuffled training frames).
        epochs: usize = 20,
        /// Frames per minibatch.
        batch: usize = 256,
        /// Learning rate; none = 0.02 for sgd, 0.001 for adam.
        lr: Option<f32> = None,
        /// Optimiser: sgd (with momentum) or adam.
        optimizer: Optimizer = Optimizer::Sgd,
        /// SGD momentum (0 = plain SGD).
        momentum: f32 = 0.9,
        /// L2 weight decay on weights (not biases).
        l2: f32 = 0.0,
        /// Dropout probability on hidden-layer outputs while training.
        dropout: f32 = 0.0,
        /// Seed for the initial weights, the frame shuffle and dropout.
        seed: u64 = 0,
        /// Start halving the learning rate once dev loss improves by less than this fraction.
        halving_threshold: f32 = 0.01,
        /// Factor applied to the learning rate every epoch once halving has started.
        halving_factor: f32 = 0.5,
        /// Epochs always trained before early stopping may end training.
        min_epochs: usize = 4,
        /// Stop after this many epochs without a better dev loss (0 = never stop early).
        patience: usize = 3,
        /// Learned front end run on every frame before splicing: none, {filterbank: {..}} on the power spectrogram, {timeconv: {..}} on raw framed samples.
        front: Front = Front::None,
    }
    patch DnnPatch;
}

/// Largest minibatch accepted (frames); a larger one is capped at the training set's size anyway.
pub const MAX_BATCH: usize = 1 << 20;
/// Most frames of context on each side (1 s at a 10 ms shift).
pub const MAX_CONTEXT: usize = 100;

impl DnnConfig {
    /// The learning rate to start with (explicit, or the optimiser's default).
    pub fn initial_lr(&self) -> f32 {
        self.lr.unwrap_or(match self.optimizer {
            Optimizer::Sgd => 0.02,
            Optimizer::Adam => 0.001,
        })
    }

    /// Check value ranges; errors say which option is wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("dnn options: {what}")));
        let lr = self.initial_lr();
        if !(lr.is_finite() && lr > 0.0) {
            return bad(format!("lr must be a positive number, got {lr}"));
        }
        if !(1..=MAX_BATCH).contains(&self.batch) {
            return bad(format!(
                "batch must be between 1 and {MAX_BATCH}, got {}",
                self.batch
            ));
        }
        if self.context > MAX_CONTEXT {
            return bad(format!(
                "context must be at most {MAX_CONTEXT} frames on each side, got {}",
                self.context
            ));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return bad(format!("momentum must be in [0, 1), got {}", self.momentum));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad(format!("l2 must be >= 0, got {}", self.l2));
        }
        if !(self.halving_factor > 0.0 && self.halving_factor <= 1.0) {
            return bad(format!(
                "halving_factor must be in (0, 1], got {}",
                self.halving_factor
            ));
        }
        if !self.halving_threshold.is_finite() {
            return bad("halving_threshold must be a number".into());
        }
        self.front.validate()
    }

    /// Width of the MLP's input for `feature_dim`-wide frames: `(2k+1)` times the front end's
    /// outputs per frame (its filters), or times `feature_dim` without a front end. This is the
    /// `input_dim` that [`match_params`] and [`count_params`] take.
    pub fn mlp_input_dim(&self, feature_dim: usize) -> usize {
        (2 * self.context + 1) * self.front.output_dim(feature_dim)
    }

    /// Learned parameters of the whole network on `feature_dim`-wide frames: the front end's
    /// plus the MLP's.
    pub fn num_params(&self, feature_dim: usize, num_classes: usize) -> usize {
        self.front
            .num_params(feature_dim)
            .saturating_add(count_params(
                self.mlp_input_dim(feature_dim),
                self.hidden.widths(),
                num_classes,
            ))
    }
}

/// Shape of a network: everything needed to rebuild it apart from the numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Dimension of one unspliced input frame (spectrogram bins or samples with a front end).
    pub feature_dim: usize,
    /// Frames spliced on each side.
    pub context: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    /// Hidden-layer nonlinearity.
    pub activation: Activation,
    /// Output classes (tied states).
    pub num_classes: usize,
    /// Learned front end run on every frame before splicing (absent in files without one).
    #[serde(default, skip_serializing_if = "Front::is_none")]
    pub front: Front,
}

impl Architecture {
    /// Values per frame that are spliced: the front end's outputs, or `feature_dim`.
    pub fn frame_dim(&self) -> usize {
        self.front.output_dim(self.feature_dim)
    }

    /// Width of the MLP's input (layer 0): `(2k+1) * frame_dim`.
    pub fn input_dim(&self) -> usize {
        (2 * self.context + 1) * self.frame_dim()
    }

    /// Width of a row of raw spliced frames, `(2k+1) * feature_dim` (what [`Trainer::step`]
    /// takes with a front end).
    pub fn spliced_dim(&self) -> usize {
        (2 * self.context + 1) * self.feature_dim
    }

    /// `(in, out)` of every linear layer, output layer last.
    pub fn layer_dims(&self) -> Vec<(usize, usize)> {
        let mut dims = vec![self.input_dim()];
        dims.extend_from_slice(&self.hidden);
        dims.push(self.num_classes);
        dims.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Learned parameters: the front end's plus the MLP's `sum(in*out + out)`.
    pub fn num_params(&self) -> usize {
        self.front
            .num_params(self.feature_dim)
            .saturating_add(count_params(
                self.input_dim(),
                &self.hidden,
                self.num_classes,
            ))
    }
}

/// One fully connected layer in `nn.Linear` layout: `y = x W^T + b`.
#[derive(Debug, Clone, PartialEq)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Array2<f32>,
    /// `[out]`.
    pub bias: Array1<f32>,
}

/// A trained (or freshly initialised) network with its input normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Dnn {
    arch: Architecture,
    /// The front end's parameters and output normalisation, when `arch.front` names one.
    front: Option<front::FrontLayer>,
    layers: Vec<Linear>,
    mean: Array1<f32>,
    std: Array1<f32>,
    inv_std: Array1<f32>,
}

/// Independent random streams of one seed, so that e.g. the shuffle of epoch 7 is the same whether
/// or not training was resumed at epoch 5.
pub(crate) fn rng_stream(seed: u64, purpose: u64, epoch: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((purpose << 32) | epoch);
    rng
}
pub(crate) const STREAM_INIT: u64 = 0;
pub(crate) const STREAM_SHUFFLE: u64 = 1;
pub(crate) const STREAM_DROPOUT: u64 = 2;
pub(crate) const STREAM_FRONT_INIT: u64 = 3;

impl Dnn {
    /// Random initial weights from `seed`: He normal (std `sqrt(2/in)`) for ReLU layers, Glorot
    /// uniform (`±sqrt(6/(in+out))`) for sigmoid/tanh layers and for the linear output layer;
    /// biases zero; a front end random as [`Front`] describes (a mel start is set afterwards
    /// with [`Dnn::init_front_filters`]). Normalisations start as the identity.
    pub fn new(arch: Architecture, seed: u64) -> Result<Dnn> {
        if arch.feature_dim == 0 || arch.num_classes == 0 {
            return Err(Error::invalid(format!(
                "a DNN needs at least one input dimension and one class (got {} and {})",
                arch.feature_dim, arch.num_classes
            )));
        }
        if arch.hidden.contains(&0) {
            return Err(Error::invalid("hidden layers need at least one unit"));
        }
        let front = front::FrontLayer::new(&arch.front, arch.feature_dim, seed)?;
        let mut rng = rng_stream(seed, STREAM_INIT, 0);
        let dims = arch.layer_dims();
        let mut layers = Vec::with_capacity(dims.len());
        for (i, &(fan_in, fan_out)) in dims.iter().enumerate() {
            let hidden = i + 1 < dims.len();
            let weight = if hidden && arch.activation == Activation::Relu {
                let normal = Normal::new(0.0, (2.0 / fan_in as f32).sqrt()).expect("finite std");
                Array2::from_shape_simple_fn((fan_out, fan_in), || normal.sample(&mut rng))
            } else {
                let a = (6.0 / (fan_in + fan_out) as f32).sqrt();
                let uniform = Uniform::new_inclusive(-a, a).expect("finite range");
                Array2::from_shape_simple_fn((fan_out, fan_in), || uniform.sample(&mut rng))
            };
            layers.push(Linear {
                weight,
                bias: Array1::zeros(fan_out),
            });
        }
        let d = arch.feature_dim;
        Ok(Dnn {
            arch,
            front,
            layers,
            mean: Array1::zeros(d),
            std: Array1::ones(d),
            inv_std: Array1::ones(d),
        })
    }

    /// Set the per-dimension input normalisation (mean and standard deviation, unspliced). With
    /// a front end the input is only scaled: the means must be 0 and the deviations all equal
    /// (see [`Dnn::set_input_scale`]).
    pub fn set_normalisation(&mut self, mean: Array1<f32>, std: Array1<f32>) -> Result<()> {
        let d = self.arch.feature_dim;
        if self.front.is_some()
            && (mean.iter().any(|m| *m != 0.0) || std.iter().any(|s| Some(s) != std.first()))
        {
            return Err(Error::invalid(
                "a DNN with a front end reads its input at one global scale (means 0, one \
                 deviation for every dimension); it normalises after the front end's log",
            ));
        }
        if mean.len() != d || std.len() != d {
            return Err(Error::invalid(format!(
                "normalisation has {} means and {} deviations for {d} dimensions",
                mean.len(),
                std.len()
            )));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::invalid(format!(
                "input standard deviations must be positive, found {s}"
            )));
        }
        if mean.iter().any(|m| !m.is_finite()) {
            return Err(Error::invalid("input means must be finite"));
        }
        self.inv_std = std.mapv(|s| 1.0 / s);
        self.mean = mean;
        self.std = std;
        Ok(())
    }

    /// Scale the input by `1/scale` (means 0): the only input normalisation a front end gets.
    pub fn set_input_scale(&mut self, scale: f32) -> Result<()> {
        let d = self.arch.feature_dim;
        self.set_normalisation(Array1::zeros(d), Array1::from_elem(d, scale))
    }

    /// Set the normalisation of the front end's log outputs (`[filters]` each).
    pub fn set_front_normalisation(&mut self, mean: Array1<f32>, std: Array1<f32>) -> Result<()> {
        self.front_layer_mut()?.set_normalisation(mean, std)
    }

    /// Start the filter-bank front end at `matrix`, `[bins, filters]` (the layout of
    /// `frontend::filterbank::Filterbank::dense()`, e.g. the mel filter bank of the same DFT).
    pub fn init_front_filters(&mut self, matrix: ArrayView2<'_, f32>) -> Result<()> {
        let layer = self.front.as_mut().ok_or_else(no_front)?;
        layer.init_filters(&self.arch.front, matrix)
    }

    fn front_layer_mut(&mut self) -> Result<&mut front::FrontLayer> {
        self.front.as_mut().ok_or_else(no_front)
    }

    /// The front end's parameters: filter bank `v` `[N, bins]` (weights `positivity(v)`, no
    /// bias), or kernels `[N, taps]` and biases `[N]`. `None` without a front end.
    pub fn front_params(&self) -> Option<&Linear> {
        self.front.as_ref().map(|f| &f.params)
    }

    /// The front end's parameters for editing in place (shapes must stay as they are).
    pub fn front_params_mut(&mut self) -> Option<&mut Linear> {
        self.front.as_mut().map(|f| &mut f.params)
    }

    /// Mean and deviation of the front end's log outputs, as the MLP's input normalisation uses
    /// them (fixed at initialisation).
    pub fn front_normalisation(&self) -> Option<(&Array1<f32>, &Array1<f32>)> {
        self.front.as_ref().map(|f| (&f.mean, &f.std))
    }

    /// The front end's filters and their frequency responses (`n_fft` points for time-conv
    /// kernels, e.g. 512; unused for a filter bank). `None` without a front end. For the same
    /// view of an untrained network, build `Dnn::new(dnn.arch().clone(), seed)` with the seed of
    /// the training configuration.
    pub fn front_filters(&self, n_fft: usize) -> Result<Option<FrontFilters>> {
        self.front
            .as_ref()
            .map(|f| FrontFilters::new(&self.arch.front, f, n_fft))
            .transpose()
    }

    /// The front end's log outputs `ln(y + floor)` for every frame of one utterance, before
    /// normalisation: `[frames, filters]` (a learned log filter-bank "spectrogram").
    pub fn front_features(&self, features: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.check_features(&features)?;
        let layer = self.front.as_ref().ok_or_else(no_front)?;
        let fw = self.run_front(features, layer);
        Ok(fw.log_outputs(&self.arch.front, self.arch.feature_dim))
    }

    /// Run the front end on every frame of one utterance (its frames in order are the distinct
    /// frames, so the spliced index is the usual clamp).
    fn run_front(
        &self,
        features: ArrayView2<'_, f32>,
        layer: &front::FrontLayer,
    ) -> front::FrontWorkspace {
        let t = features.nrows();
        let frames: Vec<layers::FrameRef> = (0..t as u32).map(|i| (0, i)).collect();
        let mut fw = front::FrontWorkspace::default();
        fw.prepare(&frames, &[features], self.arch.context, &self.normaliser());
        fw.forward(&self.arch.front, layer, self.arch.feature_dim, MatMul::Gemm);
        fw
    }

    /// Layer sizes, splicing context and front end.
    pub fn arch(&self) -> &Architecture {
        &self.arch
    }

    /// Layers, output layer last.
    pub fn layers(&self) -> &[Linear] {
        &self.layers
    }

    /// Layers for editing in place (shapes must stay as they are).
    pub fn layers_mut(&mut self) -> &mut [Linear] {
        &mut self.layers
    }

    /// First MLP layer's weights as filters over the spliced input window:
    /// `[units, 2k+1, frame_dim]`, frames oldest first. They act on the *normalised* input (see
    /// [`Dnn::input_std`]), so to show them in the raw feature scale divide by the deviation per
    /// dimension. With a front end they act on its normalised log outputs, not on the features
    /// (see [`Dnn::front_filters`] for the front end's own filters).
    pub fn first_layer_filters(&self) -> ArrayView3<'_, f32> {
        let w = &self.layers[0].weight;
        let (units, frames) = (w.nrows(), 2 * self.arch.context + 1);
        w.view()
            .into_shape_with_order((units, frames, self.arch.frame_dim()))
            .expect("first layer is [units, (2k+1)*frame_dim], standard layout")
    }

    /// Per-dimension mean of the training features, subtracted before splicing.
    pub fn input_mean(&self) -> &Array1<f32> {
        &self.mean
    }

    /// Per-dimension standard deviation of the training features (floored), divided by before
    /// splicing.
    pub fn input_std(&self) -> &Array1<f32> {
        &self.std
    }

    pub(crate) fn normaliser(&self) -> layers::Normaliser<'_> {
        layers::Normaliser {
            mean: self.mean.as_slice().expect("owned"),
            inv_std: self.inv_std.as_slice().expect("owned"),
        }
    }

    fn check_features(&self, features: &ArrayView2<'_, f32>) -> Result<()> {
        if features.ncols() != self.arch.feature_dim {
            return Err(Error::DimensionMismatch {
                what: "the DNN",
                expected: self.arch.feature_dim,
                got: features.ncols(),
            });
        }
        if let Front::Filterbank(_) = self.arch.front {
            front::check_power(features.view(), 0)?;
        }
        Ok(())
    }

    /// The MLP's input for one utterance: normalised spliced features, or the front end's
    /// normalised log outputs spliced.
    fn spliced_input(&self, features: ArrayView2<'_, f32>) -> Array2<f32> {
        let t = features.nrows();
        let mut h = Array2::zeros((t, self.arch.input_dim()));
        let dst = h.as_slice_mut().expect("owned");
        match &self.front {
            None => {
                let frames: Vec<layers::FrameRef> = (0..t as u32).map(|i| (0, i)).collect();
                layers::splice_into(
                    dst,
                    &[features],
                    &frames,
                    self.arch.context,
                    &self.normaliser(),
                );
            }
            Some(layer) => self.run_front(features, layer).splice(
                dst,
                self.arch.context,
                self.arch.frame_dim(),
            ),
        }
        h
    }

    /// Run one utterance up to `layer` (0 = normalised spliced MLP input, `1..=L` hidden outputs
    /// after the nonlinearity, `L+1` = output logits).
    fn forward_to(&self, features: ArrayView2<'_, f32>, layer: usize) -> Array2<f32> {
        let t = features.nrows();
        let mut h = self.spliced_input(features);
        let hidden = self.arch.hidden.len();
        for (i, l) in self.layers.iter().take(layer).enumerate() {
            let mut z = Array2::zeros((t, l.weight.nrows()));
            MatMul::Gemm.product(h.view(), l.weight.t(), z.view_mut(), false);
            let act = (i < hidden).then_some(self.arch.activation);
            layers::bias_activate(
                z.as_slice_mut().expect("owned"),
                l.bias.as_slice().expect("owned"),
                act,
            );
            h = z;
        }
        h
    }

    /// Activations of one utterance at `layer`: 0 = the MLP's input (normalised spliced features;
    /// with a front end, its normalised log outputs spliced, `(2k+1)·filters` wide), `1..=L` =
    /// output of hidden layer `layer` after its nonlinearity. One row per frame.
    pub fn activations(&self, features: ArrayView2<'_, f32>, layer: usize) -> Result<Array2<f32>> {
        self.check_features(&features)?;
        let hidden = self.arch.hidden.len();
        if layer > hidden {
            return Err(Error::invalid(format!(
                "layer {layer} requested, the DNN has {hidden} hidden layers (0 = input)"
            )));
        }
        Ok(self.forward_to(features, layer))
    }

    /// Log posteriors (log-softmax of the output layer) of one utterance, frames x classes.
    pub fn log_posteriors(&self, features: ArrayView2<'_, f32>) -> Result<Array2<f32>> {
        self.check_features(&features)?;
        let mut z = self.forward_to(features, self.layers.len());
        layers::log_softmax(z.as_slice_mut().expect("owned"), self.arch.num_classes);
        Ok(z)
    }
}

fn no_front() -> Error {
    Error::invalid("this DNN has no front end")
}

impl Classifier for Dnn {
    fn input_dim(&self) -> usize {
        self.arch.feature_dim
    }

    fn num_classes(&self) -> usize {
        self.arch.num_classes
    }

    fn num_params(&self) -> usize {
        self.arch.num_params()
    }

    /// Log-softmax outputs ([`Dnn::log_posteriors`]).
    fn log_scores(&self, features: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.log_posteriors(features)
    }
}
