//! Parameter updates: SGD with momentum and Adam, with L2 weight decay on the weights.
//!
//! The state (velocities or moment estimates, Adam's step count) lives in flat buffers allocated
//! once; it is saved in checkpoints so a resumed run continues with exactly the same numbers.
//! The formulas follow `torch.optim.SGD` / `torch.optim.Adam` (coupled weight decay), so the two
//! implementations can be compared step for step.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::Linear;

/// Which update rule training uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Minibatch SGD with momentum.
    Sgd,
    /// Adam (Kingma & Ba 2015; beta1 0.9, beta2 0.999).
    Adam,
}

const ADAM_BETA1: f32 = 0.9;
const ADAM_BETA2: f32 = 0.999;
const ADAM_EPS: f32 = 1e-8;
/// Elements per rayon task in the update passes.
const CHUNK: usize = 1 << 14;

/// Optimiser state of one layer: first moment (SGD velocity or Adam's `m`) and, for Adam, the
/// second moment `v`, for the weights and for the bias.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Slots {
    pub w1: Vec<f32>,
    pub b1: Vec<f32>,
    pub w2: Vec<f32>,
    pub b2: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Optim {
    pub kind: Optimizer,
    pub momentum: f32,
    pub l2: f32,
    /// Updates applied so far (Adam's bias correction needs it).
    pub steps: u64,
    /// Per MLP layer.
    pub slots: Vec<Slots>,
    /// The front end's parameters, if any.
    pub front: Option<Slots>,
}

impl Slots {
    fn new(kind: Optimizer, l: &Linear) -> Slots {
        let second = kind == Optimizer::Adam;
        let (w, b) = (l.weight.len(), l.bias.len());
        Slots {
            w1: vec![0.0; w],
            b1: vec![0.0; b],
            w2: vec![0.0; if second { w } else { 0 }],
            b2: vec![0.0; if second { b } else { 0 }],
        }
    }
}

impl Optim {
    pub fn new(
        kind: Optimizer,
        momentum: f32,
        l2: f32,
        layers: &[Linear],
        front: Option<&Linear>,
    ) -> Optim {
        Optim {
            kind,
            momentum,
            l2,
            steps: 0,
            slots: layers.iter().map(|l| Slots::new(kind, l)).collect(),
            front: front.map(|l| Slots::new(kind, l)),
        }
    }

    /// Call once per minibatch, before the layers' updates.
    pub fn begin_step(&mut self) {
        self.steps += 1;
    }

    /// Update one layer from its gradients (`gw` in the weight's `[out, in]` layout).
    pub fn update(&mut self, index: usize, layer: &mut Linear, gw: &[f32], gb: &[f32], lr: f32) {
        let (kind, momentum, l2, steps) = (self.kind, self.momentum, self.l2, self.steps);
        apply(
            kind,
            momentum,
            steps,
            &mut self.slots[index],
            layer,
            gw,
            gb,
            lr,
            l2,
        );
    }

    /// Update the front end's parameters, with their own learning rate and weight decay.
    pub fn update_front(&mut self, params: &mut Linear, gw: &[f32], gb: &[f32], lr: f32, l2: f32) {
        let (kind, momentum, steps) = (self.kind, self.momentum, self.steps);
        let s = self
            .front
            .as_mut()
            .expect("optimiser state for the front end");
        apply(kind, momentum, steps, s, params, gw, gb, lr, l2);
    }
}

/// One update of a layer's weights (with L2 decay `l2`) and bias.
#[allow(clippy::too_many_arguments)]
fn apply(
    kind: Optimizer,
    momentum: f32,
    steps: u64,
    s: &mut Slots,
    layer: &mut Linear,
    gw: &[f32],
    gb: &[f32],
    lr: f32,
    l2: f32,
) {
    let w = layer.weight.as_slice_mut().expect("standard layout");
    let b = layer.bias.as_slice_mut().expect("standard layout");
    match kind {
        Optimizer::Sgd => {
            sgd(w, gw, &mut s.w1, momentum, l2, lr);
            sgd(b, gb, &mut s.b1, momentum, 0.0, lr);
        }
        Optimizer::Adam => {
            let t = steps.max(1) as i32;
            let c1 = 1.0 - ADAM_BETA1.powi(t);
            let c2 = (1.0 - ADAM_BETA2.powi(t)).sqrt();
            adam(w, gw, &mut s.w1, &mut s.w2, l2, lr, c1, c2);
            adam(b, gb, &mut s.b1, &mut s.b2, 0.0, lr, c1, c2);
        }
    }
}

/// `v = momentum*v + (g + l2*w); w -= lr*v` (torch's SGD with momentum, dampening 0).
fn sgd(w: &mut [f32], g: &[f32], v: &mut [f32], momentum: f32, l2: f32, lr: f32) {
    w.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|((w, g), v)| {
            for ((w, &g), v) in w.iter_mut().zip(g).zip(v) {
                *v = momentum * *v + (g + l2 * *w);
                *w -= lr * *v;
            }
        });
}

/// torch's Adam: `m, v` moving averages of `g` and `g^2`, step `lr/c1 * m / (sqrt(v)/c2 + eps)`.
#[allow(clippy::too_many_arguments)]
fn adam(
    w: &mut [f32],
    g: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    l2: f32,
    lr: f32,
    c1: f32,
    c2: f32,
) {
    let step = lr / c1;
    w.par_chunks_mut(CHUNK)
        .zip(g.par_chunks(CHUNK))
        .zip(m.par_chunks_mut(CHUNK))
        .zip(v.par_chunks_mut(CHUNK))
        .for_each(|(((w, g), m), v)| {
            for (((w, &g), m), v) in w.iter_mut().zip(g).zip(m).zip(v) {
                let g = g + l2 * *w;
                *m = ADAM_BETA1 * *m + (1.0 - ADAM_BETA1) * g;
                *v = ADAM_BETA2 * *v + (1.0 - ADAM_BETA2) * g * g;
                *w -= step * *m / (v.sqrt() / c2 + ADAM_EPS);
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2};

    fn one_weight(w: f32) -> Linear {
        Linear {
            weight: Array2::from_elem((1, 1), w),
            bias: Array1::zeros(1),
        }
    }

    #[test]
    fn sgd_momentum_by_hand() {
        // w=1, g=0.5, l2=0.1, lr=0.1, momentum 0.9.
        // step 1: v = 0.5 + 0.1 = 0.6, w = 1 - 0.06 = 0.94
        // step 2: v = 0.54 + 0.5 + 0.094 = 1.134, w = 0.94 - 0.1134 = 0.8266
        let mut l = one_weight(1.0);
        let mut o = Optim::new(Optimizer::Sgd, 0.9, 0.1, std::slice::from_ref(&l), None);
        for _ in 0..2 {
            o.begin_step();
            o.update(0, &mut l, &[0.5], &[0.0], 0.1);
        }
        assert!((l.weight[[0, 0]] - 0.8266).abs() < 1e-6);
    }

    #[test]
    fn adam_first_step_moves_by_lr() {
        // After bias correction the first Adam step is lr * g/|g| (up to eps).
        let mut l = one_weight(1.0);
        let mut o = Optim::new(Optimizer::Adam, 0.0, 0.0, std::slice::from_ref(&l), None);
        o.begin_step();
        o.update(0, &mut l, &[-3.0], &[0.0], 0.01);
        assert!((l.weight[[0, 0]] - 1.01).abs() < 1e-6);
    }
}
