//! One minibatch through the network and back. All buffers (spliced input, activations, dropout
//! masks, deltas, gradients) are allocated once for the largest batch and reused, so the training
//! loop allocates nothing per batch.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::layers::{self, Activation, FrameRef, MatMul};
use super::optim::Optim;
use super::{Architecture, Dnn, DnnConfig, Linear, STREAM_DROPOUT, rng_stream};
use crate::error::{Error, Result};

/// Receives `(layer index, layer, weight gradient [out, in], bias gradient)` during backward.
pub(crate) type GradientSink<'a> = dyn FnMut(usize, &mut Linear, &[f32], &[f32]) + 'a;

/// Preallocated buffers for batches of up to `cap` frames.
pub(crate) struct Workspace {
    cap: usize,
    input_dim: usize,
    classes: usize,
    activation: Activation,
    /// Normalised spliced input, `cap x input_dim`.
    pub x: Vec<f32>,
    /// Hidden outputs after the nonlinearity (before dropout).
    acts: Vec<Vec<f32>>,
    /// Dropout scale per unit (0 or `1/(1-p)`) and the dropped outputs fed forward; empty
    /// without dropout.
    masks: Vec<Vec<f32>>,
    dropped: Vec<Vec<f32>>,
    /// Output logits, turned in place into the output delta.
    out: Vec<f32>,
    /// Ping-pong buffers for deltas travelling down.
    delta: [Vec<f32>; 2],
    /// Which `delta` buffer holds the last delta computed (the input's, after a backward pass
    /// that asked for it).
    last_delta: usize,
    gw: Vec<f32>,
    gb: Vec<f32>,
    row_loss: Vec<f64>,
    row_hit: Vec<bool>,
    /// The current batch: where each row comes from, and its label.
    pub frames: Vec<FrameRef>,
    pub labels: Vec<u32>,
}

impl Workspace {
    pub fn new(arch: &Architecture, cap: usize, dropout: bool) -> Workspace {
        let dims = arch.layer_dims();
        let hidden = &arch.hidden;
        let widest = hidden
            .iter()
            .copied()
            .chain([arch.input_dim()])
            .max()
            .unwrap_or(0);
        let per_hidden = |on: bool| -> Vec<Vec<f32>> {
            hidden
                .iter()
                .map(|w| vec![0.0; if on { cap * w } else { 0 }])
                .collect()
        };
        Workspace {
            cap,
            input_dim: arch.input_dim(),
            classes: arch.num_classes,
            activation: arch.activation,
            x: vec![0.0; cap * arch.input_dim()],
            acts: per_hidden(true),
            masks: per_hidden(dropout),
            dropped: per_hidden(dropout),
            out: vec![0.0; cap * arch.num_classes],
            delta: [vec![0.0; cap * widest], vec![0.0; cap * widest]],
            last_delta: 0,
            gw: vec![0.0; dims.iter().map(|(i, o)| i * o).max().unwrap_or(0)],
            gb: vec![0.0; dims.iter().map(|(_, o)| *o).max().unwrap_or(0)],
            row_loss: vec![0.0; cap],
            row_hit: vec![false; cap],
            frames: Vec::with_capacity(cap),
            labels: Vec::with_capacity(cap),
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    fn dropout_on(&self) -> bool {
        self.masks.first().is_some_and(|m| !m.is_empty())
    }

    /// Splice the rows listed in `self.frames` into `self.x`.
    pub fn splice(&mut self, dnn: &Dnn, feats: &[ArrayView2<'_, f32>]) {
        let n = self.frames.len();
        layers::splice_into(
            &mut self.x[..n * self.input_dim],
            feats,
            &self.frames,
            dnn.arch().context,
            &dnn.normaliser(),
        );
    }

    /// Forward `n` rows of `x` to the logits in `out`. With `dropout = Some((p, rng))` hidden
    /// outputs are dropped with probability `p` and the rest scaled by `1/(1-p)`.
    pub fn forward(
        &mut self,
        net: &[Linear],
        n: usize,
        mm: MatMul,
        mut dropout: Option<(f32, &mut ChaCha8Rng)>,
    ) {
        let use_dropout = dropout.is_some() && self.dropout_on();
        let Workspace {
            x,
            acts,
            masks,
            dropped,
            out,
            input_dim,
            activation,
            ..
        } = self;
        let num_hidden = acts.len();
        for (i, layer) in net.iter().enumerate() {
            let (fan_out, fan_in) = layer.weight.dim();
            let hidden = i < num_hidden;
            let (before, after) = acts.split_at_mut(i.min(num_hidden));
            let input: &[f32] = match i {
                0 => &x[..n * *input_dim],
                _ if use_dropout => &dropped[i - 1][..n * fan_in],
                _ => &before[i - 1][..n * fan_in],
            };
            let input = ArrayView2::from_shape((n, fan_in), input).expect("sized");
            let bias = layer.bias.as_slice().expect("owned");
            let dst: &mut [f32] = if hidden {
                &mut after[0][..n * fan_out]
            } else {
                &mut out[..n * fan_out]
            };
            let z = ArrayViewMut2::from_shape((n, fan_out), &mut *dst).expect("sized");
            mm.product(input, layer.weight.t(), z, false);
            layers::bias_activate(dst, bias, hidden.then_some(*activation));
            if hidden && use_dropout {
                let (p, rng) = dropout.as_mut().expect("checked");
                let keep = 1.0 / (1.0 - *p);
                let mask = &mut masks[i][..n * fan_out];
                for m in mask.iter_mut() {
                    *m = if rng.random::<f32>() < *p { 0.0 } else { keep };
                }
                for ((d, a), m) in dropped[i][..n * fan_out].iter_mut().zip(&*dst).zip(&*mask) {
                    *d = a * m;
                }
            }
        }
    }

    /// Softmax cross-entropy of the logits against `self.labels`; leaves the gradient of the mean
    /// loss in `out`. Returns (sum of losses, frames classified right), summed in row order.
    pub fn loss(&mut self, n: usize) -> (f64, usize) {
        layers::softmax_ce(
            &mut self.out[..n * self.classes],
            self.classes,
            &self.labels[..n],
            1.0 / n as f32,
            &mut self.row_loss,
            &mut self.row_hit,
        );
        let loss = self.row_loss[..n].iter().sum();
        let hits = self.row_hit[..n].iter().filter(|h| **h).count();
        (loss, hits)
    }

    /// Back-propagate the delta in `out` through all layers, calling `update(i, layer, gw, gb)`
    /// with each layer's gradients once they are no longer needed below it. With `input_grad`
    /// the delta at the (spliced, normalised) input is left for [`Self::input_delta`].
    pub fn backward(
        &mut self,
        net: &mut [Linear],
        n: usize,
        mm: MatMul,
        input_grad: bool,
        update: &mut GradientSink<'_>,
    ) {
        let dropout = self.dropout_on();
        let out = std::mem::take(&mut self.out);
        let mut delta = std::mem::take(&mut self.delta);
        let mut cur: Option<usize> = None; // None: the output delta in `out`
        for i in (0..net.len()).rev() {
            let (fan_out, fan_in) = net[i].weight.dim();
            let input: &[f32] = match i {
                0 => &self.x[..n * self.input_dim],
                _ if dropout => &self.dropped[i - 1][..n * fan_in],
                _ => &self.acts[i - 1][..n * fan_in],
            };
            let input = ArrayView2::from_shape((n, fan_in), input).expect("sized");
            let next = cur.map_or(0, |k| 1 - k);
            let (d_cur, d_next): (&[f32], &mut [f32]) = match cur {
                None => (&out[..n * fan_out], &mut delta[0]),
                Some(k) => {
                    let [a, b] = &mut delta;
                    if k == 0 {
                        (&a[..], &mut b[..])
                    } else {
                        (&b[..], &mut a[..])
                    }
                }
            };
            let d_cur = &d_cur[..n * fan_out];
            let dv = ArrayView2::from_shape((n, fan_out), d_cur).expect("sized");
            let gw = &mut self.gw[..fan_out * fan_in];
            let gwv = ArrayViewMut2::from_shape((fan_out, fan_in), &mut *gw).expect("sized");
            mm.product(dv.t(), input, gwv, false);
            let gb = &mut self.gb[..fan_out];
            layers::column_sums(d_cur, gb);
            if i > 0 || input_grad {
                let d_next = &mut d_next[..n * fan_in];
                let nv = ArrayViewMut2::from_shape((n, fan_in), &mut *d_next).expect("sized");
                mm.product(dv, net[i].weight.view(), nv, false);
                if i > 0 {
                    let mask = dropout.then(|| &self.masks[i - 1][..n * fan_in]);
                    let a = &self.acts[i - 1][..n * fan_in];
                    layers::activation_backward(d_next, a, mask, self.activation);
                }
                self.last_delta = next;
            }
            update(i, &mut net[i], gw, gb);
            cur = Some(next);
        }
        self.out = out;
        self.delta = delta;
    }

    /// Delta at the network input after `backward(.., input_grad: true)`, `n x input_dim`.
    pub fn input_delta(&self, n: usize) -> &[f32] {
        &self.delta[self.last_delta][..n * self.input_dim]
    }
}

/// Statistics of one minibatch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchStats {
    /// Mean cross-entropy over the batch.
    pub loss: f64,
    /// Frames whose most likely class was the label.
    pub correct: usize,
    pub frames: usize,
}

/// A network with its optimiser state and buffers: runs training steps.
pub struct Trainer {
    pub(crate) dnn: Dnn,
    pub(crate) ws: Workspace,
    pub(crate) opt: Optim,
    pub(crate) matmul: MatMul,
    dropout: f32,
    pub(crate) dropout_rng: ChaCha8Rng,
}

impl Trainer {
    /// Buffers for minibatches of `cfg.batch` frames; optimiser, momentum, L2 and dropout from
    /// `cfg` (the learning rate is given per step).
    pub fn new(dnn: Dnn, cfg: &DnnConfig, matmul: MatMul) -> Result<Trainer> {
        cfg.validate()?;
        let ws = Workspace::new(dnn.arch(), cfg.batch, cfg.dropout > 0.0);
        let opt = Optim::new(cfg.optimizer, cfg.momentum, cfg.l2, dnn.layers());
        Ok(Trainer {
            dnn,
            ws,
            opt,
            matmul,
            dropout: cfg.dropout,
            dropout_rng: rng_stream(cfg.seed, STREAM_DROPOUT, 0),
        })
    }

    pub fn dnn(&self) -> &Dnn {
        &self.dnn
    }

    pub fn into_dnn(self) -> Dnn {
        self.dnn
    }

    /// One update on a batch of already spliced and normalised rows (`n x input_dim`).
    pub fn step(
        &mut self,
        inputs: ArrayView2<'_, f32>,
        labels: &[u32],
        lr: f32,
    ) -> Result<BatchStats> {
        let (n, d) = inputs.dim();
        let arch = self.dnn.arch();
        if n != labels.len() || n == 0 || n > self.ws.cap() || d != arch.input_dim() {
            return Err(Error::invalid(format!(
                "training step: {n} rows of {d} inputs and {} labels; the network takes up to {} \
                 rows of {} inputs with one label each",
                labels.len(),
                self.ws.cap(),
                arch.input_dim()
            )));
        }
        if let Some(y) = labels.iter().find(|&&y| y as usize >= arch.num_classes) {
            return Err(Error::invalid(format!(
                "training step: label {y} but only {} classes",
                arch.num_classes
            )));
        }
        for (dst, src) in self.ws.x.chunks_exact_mut(d).zip(inputs.rows()) {
            dst.iter_mut().zip(src).for_each(|(a, b)| *a = *b);
        }
        self.ws.labels.clear();
        self.ws.labels.extend_from_slice(labels);
        let (loss, correct) = self.step_prepared(n, lr);
        Ok(BatchStats {
            loss: loss / n as f64,
            correct,
            frames: n,
        })
    }

    /// One update on the `n` rows already in the workspace (`x` and `labels`). Returns the summed
    /// loss and the number of frames classified right (before the update).
    pub(crate) fn step_prepared(&mut self, n: usize, lr: f32) -> (f64, usize) {
        let dropout = (self.dropout > 0.0).then_some((self.dropout, &mut self.dropout_rng));
        self.ws.forward(self.dnn.layers(), n, self.matmul, dropout);
        let stats = self.ws.loss(n);
        self.opt.begin_step();
        let opt = &mut self.opt;
        self.ws.backward(
            self.dnn.layers_mut(),
            n,
            self.matmul,
            false,
            &mut |i, layer, gw, gb| opt.update(i, layer, gw, gb, lr),
        );
        stats
    }

    /// Forward only (no dropout): summed loss and hits of the `n` rows in the workspace.
    pub(crate) fn evaluate_prepared(&mut self, n: usize) -> (f64, usize) {
        self.ws.forward(self.dnn.layers(), n, self.matmul, None);
        self.ws.loss(n)
    }
}

/// Gradients of the mean cross-entropy over one utterance's labelled frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    /// Mean cross-entropy over the labelled frames.
    pub loss: f64,
    /// Per layer, in the weight's `[out, in]` layout.
    pub weights: Vec<Array2<f32>>,
    pub biases: Vec<Array1<f32>>,
    /// With respect to the unspliced, unnormalised input features (frames x feature_dim).
    pub input: Array2<f32>,
}

impl Dnn {
    /// Loss and gradients for one utterance, computed by the same code the training step runs
    /// (splicing, forward, softmax cross-entropy, backward), plus the gradient with respect to the
    /// input features through splicing and normalisation. Frames labelled [`NO_LABEL`](super::NO_LABEL) are skipped.
    pub fn gradients(&self, features: ArrayView2<'_, f32>, labels: &[u32]) -> Result<Gradients> {
        self.check_features(&features)?;
        if labels.len() != features.nrows() {
            return Err(Error::invalid(format!(
                "{} frames but {} labels",
                features.nrows(),
                labels.len()
            )));
        }
        let frames: Vec<FrameRef> = (0..labels.len() as u32)
            .filter(|&t| labels[t as usize] != super::NO_LABEL)
            .map(|t| (0, t))
            .collect();
        if let Some(&(_, t)) = frames
            .iter()
            .find(|(_, t)| labels[*t as usize] as usize >= self.arch().num_classes)
        {
            return Err(Error::invalid(format!(
                "frame {t}: label {} out of range",
                labels[t as usize]
            )));
        }
        let n = frames.len();
        let mut ws = Workspace::new(self.arch(), n, false);
        ws.labels = frames.iter().map(|&(_, t)| labels[t as usize]).collect();
        ws.frames = frames;
        ws.splice(self, &[features]);
        let mut net = self.layers().to_vec();
        ws.forward(&net, n, MatMul::Gemm, None);
        let (loss, _) = ws.loss(n);
        let mut weights = vec![Array2::zeros((0, 0)); net.len()];
        let mut biases = vec![Array1::zeros(0); net.len()];
        ws.backward(&mut net, n, MatMul::Gemm, true, &mut |i, l, gw, gb| {
            weights[i] = Array2::from_shape_vec(l.weight.dim(), gw.to_vec()).expect("sized");
            biases[i] = Array1::from(gb.to_vec());
        });
        let mut input = Array2::zeros(features.dim());
        layers::unsplice_add(
            &mut input.view_mut(),
            ws.input_delta(n),
            &ws.frames,
            self.arch().context,
            self.normaliser().inv_std,
        );
        Ok(Gradients {
            loss: loss / n.max(1) as f64,
            weights,
            biases,
            input,
        })
    }
}
