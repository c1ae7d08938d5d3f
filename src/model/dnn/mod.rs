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

mod checkpoint;
mod file;
mod hidden;
mod history;
mod layers;
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
pub use hidden::{HiddenSpec, count_params, hidden_spec, match_params};
pub use history::{EpochStats, Outcome};
pub use layers::{Activation, MatMul};
pub use optim::Optimizer;
pub use step::{BatchStats, Gradients, Trainer};
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
        if self.epochs == 0 {
            return bad("epochs must be at least 1 (0 would write an untrained model)".into());
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
        Ok(())
    }
}

/// Shape of a network: everything needed to rebuild it apart from the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// Dimension of one unspliced input frame.
    pub feature_dim: usize,
    /// Frames spliced on each side.
    pub context: usize,
    /// Hidden layer widths.
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub num_classes: usize,
}

impl Architecture {
    /// Network input width: `(2k+1) * feature_dim`.
    pub fn input_dim(&self) -> usize {
        (2 * self.context + 1) * self.feature_dim
    }

    /// `(in, out)` of every linear layer, output layer last.
    pub fn layer_dims(&self) -> Vec<(usize, usize)> {
        let mut dims = vec![self.input_dim()];
        dims.extend_from_slice(&self.hidden);
        dims.push(self.num_classes);
        dims.windows(2).map(|w| (w[0], w[1])).collect()
    }

    pub fn num_params(&self) -> usize {
        count_params(self.input_dim(), &self.hidden, self.num_classes)
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

impl Dnn {
    /// Random initial weights from `seed`: He normal (std `sqrt(2/in)`) for ReLU layers, Glorot
    /// uniform (`±sqrt(6/(in+out))`) for sigmoid/tanh layers and for the linear output layer;
    /// biases zero. Normalisation starts as the identity.
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
            layers,
            mean: Array1::zeros(d),
            std: Array1::ones(d),
            inv_std: Array1::ones(d),
        })
    }

    /// Set the per-dimension input normalisation (mean and standard deviation, unspliced).
    pub fn set_normalisation(&mut self, mean: Array1<f32>, std: Array1<f32>) -> Result<()> {
        let d = self.arch.feature_dim;
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

    /// First layer's weights as filters over the spliced input window: `[units, 2k+1, feature_dim]`,
    /// frames oldest first. They act on the *normalised* input (see [`Dnn::input_std`]), so to
    /// show them in the raw feature scale divide by the deviation per dimension.
    pub fn first_layer_filters(&self) -> ArrayView3<'_, f32> {
        let w = &self.layers[0].weight;
        let (units, frames) = (w.nrows(), 2 * self.arch.context + 1);
        w.view()
            .into_shape_with_order((units, frames, self.arch.feature_dim))
            .expect("first layer is [units, (2k+1)*feature_dim], standard layout")
    }

    pub fn input_mean(&self) -> &Array1<f32> {
        &self.mean
    }

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
            return Err(Error::invalid(format!(
                "features have {} dimensions, the DNN expects {}",
                features.ncols(),
                self.arch.feature_dim
            )));
        }
        Ok(())
    }

    /// Run one utterance up to `layer` (0 = normalised spliced input, `1..=L` hidden outputs after
    /// the nonlinearity, `L+1` = output logits).
    fn forward_to(&self, features: ArrayView2<'_, f32>, layer: usize) -> Array2<f32> {
        let t = features.nrows();
        let frames: Vec<layers::FrameRef> = (0..t as u32).map(|i| (0, i)).collect();
        let mut h = Array2::zeros((t, self.arch.input_dim()));
        layers::splice_into(
            h.as_slice_mut().expect("owned"),
            &[features],
            &frames,
            self.arch.context,
            &self.normaliser(),
        );
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

    /// Activations of one utterance at `layer`: 0 = normalised spliced input, `1..=L` = output of
    /// hidden layer `layer` after its nonlinearity. One row per frame.
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

    /// Log-softmax outputs. Panics if the features do not have [`Classifier::input_dim`] columns
    /// (callers check dimensions when they build the pipeline; see [`Dnn::log_posteriors`]).
    fn log_scores(&self, features: ArrayView2<f32>) -> Array2<f32> {
        self.log_posteriors(features)
            .unwrap_or_else(|e| panic!("DNN log_scores: {e}"))
    }
}
