//! One minibatch through the network and back. All buffers (spliced input, activations, dropout
//! masks, deltas, gradients) are allocated once for the largest batch and reused, so the training
//! loop allocates nothing per batch.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::front::FrontWorkspace;
use super::layers::{self, Activation, FrameRef, MatMul};
use super::optim::Optim;
use super::{Architecture, Dnn, DnnConfig, Front, Linear, STREAM_DROPOUT, rng_stream};
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
    /// The front end's buffers, when the network has one.
    front: Option<FrontWorkspace>,
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
            front: (!arch.front.is_none()).then(FrontWorkspace::default),
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    fn dropout_on(&self) -> bool {
        self.masks.first().is_some_and(|m| !m.is_empty())
    }

    /// Splice the rows listed in `self.frames` into `self.x`; with a front end, gather the
    /// distinct frames they need instead (the front end runs in [`Self::front_forward`], with
    /// the weights of the step).
    pub fn splice(&mut self, dnn: &Dnn, feats: &[ArrayView2<'_, f32>]) {
        let n = self.frames.len();
        match &mut self.front {
            None => layers::splice_into(
                &mut self.x[..n * self.input_dim],
                feats,
                &self.frames,
                dnn.arch().context,
                &dnn.normaliser(),
            ),
            Some(fw) => fw.prepare(&self.frames, feats, dnn.arch().context, &dnn.normaliser()),
        }
    }

    /// With a front end: run it on the gathered frames and splice its outputs into `x`.
    pub fn front_forward(&mut self, dnn: &Dnn, n: usize, mm: MatMul) {
        if let (Some(fw), Some(layer)) = (&mut self.front, &dnn.front) {
            let a = dnn.arch();
            fw.forward(&a.front, layer, a.feature_dim, mm);
            fw.splice(&mut self.x[..n * self.input_dim], a.context, a.frame_dim());
        }
    }

    /// With a front end, after [`Self::backward`] with `input_grad`: its parameters' gradients
    /// (and the scaled input's, when `with_input_grad`) in the front end's buffers.
    fn front_backward(&mut self, dnn: &Dnn, n: usize, with_input_grad: bool, mm: MatMul) {
        let delta = &self.delta[self.last_delta][..n * self.input_dim];
        if let (Some(fw), Some(layer)) = (&mut self.front, &dnn.front) {
            let a = dnn.arch();
            fw.backward(
                &a.front,
                layer,
                a.feature_dim,
                delta,
                a.context,
                with_input_grad,
                mm,
            );
        }
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
    /// Labelled frames in the batch.
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
    /// The front end's learning-rate multiplier and weight decay.
    front_lr_scale: f32,
    front_l2: f32,
}

impl Trainer {
    /// Buffers for minibatches of `cfg.batch` frames; optimiser, momentum, L2 and dropout from
    /// `cfg` (the learning rate is given per step).
    pub fn new(dnn: Dnn, cfg: &DnnConfig, matmul: MatMul) -> Result<Trainer> {
        cfg.validate()?;
        let ws = Workspace::new(dnn.arch(), cfg.batch, cfg.dropout > 0.0);
        let opt = Optim::new(
            cfg.optimizer,
            cfg.momentum,
            cfg.l2,
            dnn.layers(),
            dnn.front_params(),
        );
        let front = &dnn.arch().front;
        Ok(Trainer {
            front_lr_scale: front.lr_scale(),
            front_l2: if front.decays() { cfg.l2 } else { 0.0 },
            dnn,
            ws,
            opt,
            matmul,
            dropout: cfg.dropout,
            dropout_rng: rng_stream(cfg.seed, STREAM_DROPOUT, 0),
        })
    }

    /// The network as trained so far.
    pub fn dnn(&self) -> &Dnn {
        &self.dnn
    }

    /// The trained network, dropping optimiser state and buffers.
    pub fn into_dnn(self) -> Dnn {
        self.dnn
    }

    /// One update on a batch of already spliced rows: without a front end, normalised rows of
    /// `input_dim`; with one, raw frames `t-k..=t+k` side by side (`spliced_dim` wide), which
    /// the step runs through the front end.
    pub fn step(
        &mut self,
        inputs: ArrayView2<'_, f32>,
        labels: &[u32],
        lr: f32,
    ) -> Result<BatchStats> {
        let (n, d) = inputs.dim();
        let arch = self.dnn.arch();
        let width = match arch.front {
            Front::None => arch.input_dim(),
            _ => arch.spliced_dim(),
        };
        if n != labels.len() || n == 0 || n > self.ws.cap() || d != width {
            return Err(Error::invalid(format!(
                "training step: {n} rows of {d} inputs and {} labels; the network takes up to {} \
                 rows of {width} inputs with one label each",
                labels.len(),
                self.ws.cap(),
            )));
        }
        if !arch.front.is_none() {
            // The rows, cut into frames, are one utterance whose row r is centred on frame
            // r(2k+1)+k: its splice never reaches an edge.
            let span = 2 * arch.context + 1;
            let rows = inputs.as_standard_layout();
            let frames = rows
                .view()
                .into_shape_with_order((n * span, arch.feature_dim))
                .expect("standard layout");
            let centres: Vec<FrameRef> = (0..n)
                .map(|r| (0, (r * span + arch.context) as u32))
                .collect();
            return self.step_frames(&[frames], &centres, labels, lr);
        }
        check_labels(labels, arch.num_classes)?;
        for (dst, src) in self.ws.x.chunks_exact_mut(d).zip(inputs.rows()) {
            dst.iter_mut().zip(src).for_each(|(a, b)| *a = *b);
        }
        self.ws.labels.clear();
        self.ws.labels.extend_from_slice(labels);
        let (loss, correct) = self.step_prepared(n, lr);
        finite_stats(loss, correct, n)
    }

    /// One update on frames of unspliced utterances: row `i` is frame `frames[i] = (u, t)` of
    /// `feats[u]` with label `labels[i]`, spliced (and run through the front end) as training
    /// does it.
    pub fn step_frames(
        &mut self,
        feats: &[ArrayView2<'_, f32>],
        frames: &[FrameRef],
        labels: &[u32],
        lr: f32,
    ) -> Result<BatchStats> {
        let n = frames.len();
        let arch = self.dnn.arch();
        if n != labels.len() || n == 0 || n > self.ws.cap() {
            return Err(Error::invalid(format!(
                "training step: {n} frames and {} labels; the network takes up to {} frames with \
                 one label each",
                labels.len(),
                self.ws.cap(),
            )));
        }
        if let Some(f) = feats.iter().find(|f| f.ncols() != arch.feature_dim) {
            return Err(Error::invalid(format!(
                "training step: features have {} dimensions, the DNN expects {}",
                f.ncols(),
                arch.feature_dim
            )));
        }
        if let Some((u, t)) = frames.iter().find(|(u, t)| {
            feats
                .get(*u as usize)
                .is_none_or(|f| *t as usize >= f.nrows())
        }) {
            return Err(Error::invalid(format!(
                "training step: frame ({u}, {t}) is not in the {} utterances given",
                feats.len()
            )));
        }
        check_labels(labels, arch.num_classes)?;
        self.ws.frames.clear();
        self.ws.frames.extend_from_slice(frames);
        self.ws.labels.clear();
        self.ws.labels.extend_from_slice(labels);
        self.ws.splice(&self.dnn, feats);
        let (loss, correct) = self.step_prepared(n, lr);
        finite_stats(loss, correct, n)
    }

    /// One update on the `n` rows already in the workspace (`x`, or the front end's gathered
    /// frames, and `labels`). Returns the summed loss and the number of frames classified right
    /// (before the update).
    pub(crate) fn step_prepared(&mut self, n: usize, lr: f32) -> (f64, usize) {
        let mm = self.matmul;
        let front = self.dnn.front.is_some();
        self.ws.front_forward(&self.dnn, n, mm);
        let dropout = (self.dropout > 0.0).then_some((self.dropout, &mut self.dropout_rng));
        self.ws.forward(self.dnn.layers(), n, mm, dropout);
        let stats = self.ws.loss(n);
        self.opt.begin_step();
        let opt = &mut self.opt;
        self.ws.backward(
            self.dnn.layers_mut(),
            n,
            mm,
            front,
            &mut |i, layer, gw, gb| opt.update(i, layer, gw, gb, lr),
        );
        if front {
            // The front end is updated last: its gradient needed the first layer's old weights,
            // which `backward` used before updating them.
            self.ws.front_backward(&self.dnn, n, false, mm);
            let fw = self.ws.front.as_ref().expect("front workspace");
            let layer = self.dnn.front.as_mut().expect("front layer");
            let (w, b) = (layer.params.weight.len(), layer.params.bias.len());
            self.opt.update_front(
                &mut layer.params,
                &fw.gw[..w],
                &fw.gb[..b],
                lr * self.front_lr_scale,
                self.front_l2,
            );
        }
        stats
    }

    /// Forward only (no dropout): summed loss and hits of the `n` rows in the workspace.
    pub(crate) fn evaluate_prepared(&mut self, n: usize) -> (f64, usize) {
        self.ws.front_forward(&self.dnn, n, self.matmul);
        self.ws.forward(self.dnn.layers(), n, self.matmul, None);
        self.ws.loss(n)
    }
}

fn check_labels(labels: &[u32], classes: usize) -> Result<()> {
    match labels.iter().find(|&&y| y as usize >= classes) {
        Some(y) => Err(Error::invalid(format!(
            "training step: label {y} but only {classes} classes"
        ))),
        None => Ok(()),
    }
}

fn finite_stats(loss: f64, correct: usize, n: usize) -> Result<BatchStats> {
    if !loss.is_finite() {
        return Err(Error::invalid(format!(
            "training step: the loss is {loss} (diverged, or non-finite input); lower the \
             learning rate or check the features"
        )));
    }
    Ok(BatchStats {
        loss: loss / n as f64,
        correct,
        frames: n,
    })
}

/// Gradients of the mean cross-entropy over one utterance's labelled frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Gradients {
    /// Mean cross-entropy over the labelled frames.
    pub loss: f64,
    /// Per MLP layer, in the weight's `[out, in]` layout.
    pub weights: Vec<Array2<f32>>,
    /// Per MLP layer, `[out]`.
    pub biases: Vec<Array1<f32>>,
    /// The front end's, if the network has one.
    pub front: Option<FrontGradients>,
    /// With respect to the unspliced, unnormalised input features (frames x feature_dim).
    pub input: Array2<f32>,
}

/// Gradients of a front end's parameters, in the layout of [`Dnn::front_params`] (for a filter
/// bank with respect to `v`, not to the weights `positivity(v)`).
#[derive(Debug, Clone, PartialEq)]
pub struct FrontGradients {
    /// Same layout as the front end's weight.
    pub weight: Array2<f32>,
    /// Same layout as the front end's bias.
    pub bias: Array1<f32>,
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
        let mm = MatMul::Gemm;
        let mut ws = Workspace::new(self.arch(), n, false);
        ws.labels = frames.iter().map(|&(_, t)| labels[t as usize]).collect();
        ws.frames = frames;
        ws.splice(self, &[features]);
        ws.front_forward(self, n, mm);
        let mut net = self.layers().to_vec();
        ws.forward(&net, n, mm, None);
        let (loss, _) = ws.loss(n);
        let mut weights = vec![Array2::zeros((0, 0)); net.len()];
        let mut biases = vec![Array1::zeros(0); net.len()];
        ws.backward(&mut net, n, mm, true, &mut |i, l, gw, gb| {
            weights[i] = Array2::from_shape_vec(l.weight.dim(), gw.to_vec()).expect("sized");
            biases[i] = Array1::from(gb.to_vec());
        });
        let mut input = Array2::zeros(features.dim());
        let inv_std = self.normaliser().inv_std;
        let front = match &self.front {
            None => {
                layers::unsplice_add(
                    &mut input.view_mut(),
                    ws.input_delta(n),
                    &ws.frames,
                    self.arch().context,
                    inv_std,
                );
                None
            }
            Some(layer) => {
                ws.front_backward(self, n, true, mm);
                let fw = ws.front.as_ref().expect("front workspace");
                let d = self.arch().feature_dim;
                // Each distinct frame once: its gradient already sums its spliced copies.
                for (&(_, t), g) in fw.frames.distinct.iter().zip(fw.input_grad.chunks_exact(d)) {
                    for ((dst, &g), &is) in input.row_mut(t as usize).iter_mut().zip(g).zip(inv_std)
                    {
                        *dst += g * is;
                    }
                }
                let (w, b) = (&layer.params.weight, &layer.params.bias);
                Some(FrontGradients {
                    weight: Array2::from_shape_vec(w.dim(), fw.gw[..w.len()].to_vec())
                        .expect("sized"),
                    bias: Array1::from(fw.gb[..b.len()].to_vec()),
                })
            }
        };
        Ok(Gradients {
            loss: loss / n.max(1) as f64,
            weights,
            biases,
            front,
            input,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A small net, a batch of random frames and labels, and a workspace with dropout buffers.
    fn setup() -> (Dnn, Array2<f32>, Workspace) {
        let arch = Architecture {
            feature_dim: 4,
            context: 1,
            hidden: vec![7, 6],
            activation: Activation::Tanh,
            num_classes: 3,
            front: Front::None,
        };
        let dnn = Dnn::new(arch.clone(), 11).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let feats = Array2::from_shape_simple_fn((9, 4), || rng.random::<f32>() * 2.0 - 1.0);
        let mut ws = Workspace::new(&arch, 9, true);
        ws.frames = (0..9).map(|t| (0, t)).collect();
        ws.labels = (0..9).map(|t| t % 3).collect();
        ws.splice(&dnn, &[feats.view()]);
        (dnn, feats, ws)
    }

    /// Mean loss of `net` with the dropout masks drawn from a fresh stream of `seed` (the same
    /// masks every call).
    fn loss_with_mask(ws: &mut Workspace, net: &[Linear], p: f32, seed: u64) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        ws.forward(net, 9, MatMul::Gemm, Some((p, &mut rng)));
        ws.loss(9).0 / 9.0
    }

    #[test]
    fn dropout_gradients_match_finite_differences_for_a_fixed_mask() {
        let (dnn, _, mut ws) = setup();
        let p = 0.4;
        let mut net = dnn.layers().to_vec();
        loss_with_mask(&mut ws, &net, p, 5);
        let mut grads: Vec<Vec<f32>> = vec![Vec::new(); net.len()];
        ws.backward(&mut net, 9, MatMul::Gemm, false, &mut |i, _, gw, _| {
            grads[i] = gw.to_vec();
        });
        let eps = 1e-2f32;
        let mut checked = 0;
        for (i, g) in grads.iter().enumerate() {
            let cols = net[i].weight.ncols();
            for k in (0..g.len()).step_by(5) {
                let (r, c) = (k / cols, k % cols);
                let mut plus = net.clone();
                plus[i].weight[[r, c]] += eps;
                let mut minus = net.clone();
                minus[i].weight[[r, c]] -= eps;
                let fd = (loss_with_mask(&mut ws, &plus, p, 5)
                    - loss_with_mask(&mut ws, &minus, p, 5))
                    / (2.0 * f64::from(eps));
                assert!(
                    (fd - f64::from(g[k])).abs() <= 2e-3 + 2e-2 * fd.abs(),
                    "layer {i} weight ({r}, {c}): backward {} vs finite difference {fd}",
                    g[k]
                );
                checked += 1;
            }
        }
        assert!(checked > 10);
    }

    #[test]
    fn dropout_masks_drop_p_and_scale_the_rest_and_are_off_without_a_rate() {
        let (dnn, _, mut ws) = setup();
        let p = 0.25;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut zeros = 0;
        let mut total = 0;
        for _ in 0..200 {
            ws.forward(dnn.layers(), 9, MatMul::Gemm, Some((p, &mut rng)));
            for m in &ws.masks {
                for &v in &m[..] {
                    assert!(v == 0.0 || (v - 1.0 / (1.0 - p)).abs() < 1e-6, "{v}");
                    zeros += usize::from(v == 0.0);
                    total += 1;
                }
            }
        }
        // 200 x 9 x 13 Bernoulli(0.25) draws: sd of the rate about 0.0024.
        let rate = zeros as f64 / total as f64;
        assert!((rate - 0.25).abs() < 0.01, "{rate}");
        // Without a rate the forward pass reads the activations themselves: the logits equal
        // a plain pass of the same net, whatever the masks hold.
        ws.forward(dnn.layers(), 9, MatMul::Gemm, None);
        let with_buffers = ws.out[..27].to_vec();
        let mut plain = Workspace::new(dnn.arch(), 9, false);
        plain.frames = ws.frames.clone();
        plain.labels = ws.labels.clone();
        plain.x = ws.x.clone();
        plain.forward(dnn.layers(), 9, MatMul::Gemm, None);
        assert_eq!(with_buffers, plain.out[..27].to_vec());
    }
}
