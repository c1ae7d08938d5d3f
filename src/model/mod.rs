//! The learned boxes: GMM over tied states (the production line's classifier) and the DNN that
//! replaces any suffix of the chain. Both predict the same tied-state ids, so their numbers compare.

pub mod dnn;
pub mod gmm;
pub mod hmm;
pub mod matmul;
pub mod tree;

use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The two families of learned box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Gaussian mixtures over tied states: the production line's classifier.
    Gmm,
    /// A neural network replacing a suffix of the chain.
    Dnn,
}

impl ModelKind {
    /// `gmm` or `dnn`, as files and tables write it.
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Gmm => "gmm",
            ModelKind::Dnn => "dnn",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the evaluation needs from any classifier.
pub trait Classifier: Send + Sync {
    /// Feature dimension the model expects per frame (before any splicing it does itself).
    fn input_dim(&self) -> usize;
    /// Number of output classes (tied states).
    fn num_classes(&self) -> usize;
    /// Number of learned parameters.
    fn num_params(&self) -> usize;
    /// Log scores per frame and class (frames x classes) for one utterance's features; an
    /// error ([`Error::DimensionMismatch`](crate::Error::DimensionMismatch)) for frames of
    /// another width.
    fn log_scores(&self, features: ArrayView2<f32>) -> Result<Array2<f32>>;
}
