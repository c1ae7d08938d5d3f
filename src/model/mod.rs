//! The learned boxes: GMM over tied states (the production line's classifier) and the DNN that
//! replaces any suffix of the chain. Both predict the same tied-state ids, so their numbers compare.

pub mod dnn;
pub mod gmm;
pub mod hmm;
pub mod io;
pub mod matmul;
pub mod tree;

use ndarray::{Array2, ArrayView2};

/// What the evaluation needs from any classifier.
pub trait Classifier: Send + Sync {
    /// Feature dimension the model expects per frame (before any splicing it does itself).
    fn input_dim(&self) -> usize;
    /// Number of output classes (tied states).
    fn num_classes(&self) -> usize;
    /// Number of learned parameters.
    fn num_params(&self) -> usize;
    /// Log scores per frame and class (frames x classes) for one utterance's features.
    fn log_scores(&self, features: ArrayView2<f32>) -> Array2<f32>;
}
