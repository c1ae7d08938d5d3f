//! What training a network takes in memory, counted from its shape before any of it is
//! allocated, so that a net too large for the machine is refused with a figure instead of an
//! allocation abort. Counted in `f64`: absurd shapes (`100000x100000`) must not overflow on the
//! way to the comparison.
//!
//! The parameters are held several times over: the weights, the optimiser's state (SGD's
//! velocity, or Adam's two moments), the best epoch's copy, and while a checkpoint is written
//! all of these again twice (encoded tensors, then the file's bytes). Per minibatch row the
//! workspace holds the spliced input, every hidden layer's activations (and dropout masks), the
//! output, two back-propagated deltas as wide as the widest layer; with a front end, its
//! per-frame buffers for every distinct frame of the batch.

use super::{Architecture, DnnConfig, Front, Optimizer};
use crate::error::Result;

/// Bytes per stored value (f32).
const F32: f64 = 4.0;

impl Architecture {
    /// Learned parameters, counted without overflow (see [`Architecture::num_params`]).
    pub fn num_params_f64(&self) -> f64 {
        let mlp: f64 = self.layer_dims_f64().iter().map(|&(i, o)| i * o + o).sum();
        let front = match &self.front {
            Front::None => 0.0,
            Front::Filterbank(f) => f.filters as f64 * self.feature_dim as f64,
            Front::Timeconv(t) => t.filters as f64 * (t.taps as f64 + 1.0),
        };
        mlp + front
    }

    /// `(in, out)` of every layer as in [`Architecture::layer_dims`], without overflow.
    fn layer_dims_f64(&self) -> Vec<(f64, f64)> {
        let input = (2 * self.context + 1) as f64 * self.front.output_dim(self.feature_dim) as f64;
        let mut dims = vec![input];
        dims.extend(self.hidden.iter().map(|&w| w as f64));
        dims.push(self.num_classes as f64);
        dims.windows(2).map(|w| (w[0], w[1])).collect()
    }

    /// Bytes that training this network with minibatches of `batch` frames takes at most
    /// (an estimate from the shapes; the training data is not counted).
    pub fn training_bytes(&self, batch: usize, optimizer: Optimizer, dropout: bool) -> f64 {
        let params = self.num_params_f64();
        let slots = match optimizer {
            Optimizer::Sgd => 1.0,
            Optimizer::Adam => 2.0,
        };
        // Weights, optimiser state, best copy; a checkpoint encodes weights, best and state twice.
        let held = (2.0 + slots) * params;
        let checkpoint = 2.0 * (2.0 + slots) * params;
        let dims = self.layer_dims_f64();
        let input = dims.first().map_or(0.0, |d| d.0);
        let hidden: f64 = self.hidden.iter().map(|&w| w as f64).sum();
        let widest = dims.iter().map(|d| d.0.max(d.1)).fold(0.0, f64::max);
        let per_row = input
            + hidden * if dropout { 3.0 } else { 1.0 }
            + self.num_classes as f64
            + 2.0 * widest;
        let largest_layer = dims.iter().map(|&(i, o)| i * o + o).fold(0.0, f64::max);
        let b = batch as f64;
        let front = match &self.front {
            Front::None => 0.0,
            _ => {
                let frames = b * (2 * self.context + 1) as f64;
                let n = self.front.output_dim(self.feature_dim) as f64;
                frames * (3.0 * self.feature_dim as f64 + 4.0 * n)
            }
        };
        F32 * (held + checkpoint + b * per_row + largest_layer + front)
    }
}

impl DnnConfig {
    /// Refuse, naming the figure and the limit ([`crate::memory`]), a network of this
    /// configuration on `feature_dim`-wide frames over `num_classes` states that cannot be
    /// trained in memory. `batch` is the minibatch actually used (capped at the data's size);
    /// `None` when the data is not known yet (a pipeline file alone): the parameters only.
    pub fn check_memory(
        &self,
        feature_dim: usize,
        num_classes: usize,
        batch: Option<usize>,
    ) -> Result<()> {
        let (what, bytes) = self.training_memory(feature_dim, num_classes, batch);
        crate::memory::check(&what, bytes)
    }

    /// What [`check_memory`](Self::check_memory) checks: a description and the bytes.
    pub fn training_memory(
        &self,
        feature_dim: usize,
        num_classes: usize,
        batch: Option<usize>,
    ) -> (String, f64) {
        let arch = Architecture {
            feature_dim,
            context: self.context,
            hidden: self.hidden.widths().to_vec(),
            activation: self.activation,
            num_classes,
            front: self.front.clone(),
        };
        let bytes = arch.training_bytes(batch.unwrap_or(0), self.optimizer, self.dropout > 0.0);
        let batches = batch.map_or(String::new(), |b| format!(", minibatches of {b}"));
        let what = format!(
            "training the DNN {} on {feature_dim}-dimensional frames with {} frames of context \
             ({:.3e} parameters{batches})",
            self.hidden,
            self.context,
            arch.num_params_f64()
        );
        (what, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::dnn::{Activation, HiddenSpec};

    fn arch(hidden: &[usize]) -> Architecture {
        Architecture {
            feature_dim: 13,
            context: 5,
            hidden: hidden.to_vec(),
            activation: Activation::Relu,
            num_classes: 144,
            front: Front::None,
        }
    }

    #[test]
    fn counts_match_the_exact_parameter_count() {
        for h in [vec![], vec![16], vec![512, 512, 256]] {
            let a = arch(&h);
            assert_eq!(a.num_params_f64(), a.num_params() as f64);
        }
    }

    #[test]
    fn the_estimate_is_the_sum_of_its_parts() {
        // 143 -> 16 -> 144: 143*16+16 + 16*144+144 = 2304 + 2448 = 4752 parameters.
        let a = arch(&[16]);
        let p = 4752.0;
        // SGD: 3 copies held + 6 while checkpointing; per row 143 + 16 + 144 + 2*144; the largest
        // layer's gradient 2448.
        let want = 4.0 * (9.0 * p + 10.0 * (143.0 + 16.0 + 144.0 + 288.0) + 2448.0);
        assert_eq!(a.training_bytes(10, Optimizer::Sgd, false), want);
    }

    #[test]
    fn absurd_nets_do_not_overflow_and_are_refused() {
        let a = arch(&vec![100_000; 100]);
        let bytes = a.training_bytes(256, Optimizer::Adam, false);
        assert!(bytes > 1e12 && bytes.is_finite());
        let cfg = DnnConfig {
            hidden: HiddenSpec::uniform(100, 100_000),
            ..DnnConfig::default()
        };
        let (what, bytes) = cfg.training_memory(13, 144, Some(256));
        let limit = crate::memory::Limit {
            bytes: 1 << 30,
            source: "test".into(),
        };
        let e = crate::memory::check_against(&what, bytes, &limit)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("100x100000") && e.contains("1.0 GiB (test)"),
            "{e}"
        );
    }
}
