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
    ///
    /// A GMM of two one-dimensional states, N(0, 1) and N(2, 1), with priors 1/4 and 3/4 from
    /// their training frames: its score is log N(x) + log prior, so at x = 0 state 0 scores
    /// -ln(2 pi)/2 + ln(1/4) = -2.3052 and state 1 -ln(2 pi)/2 - 2 + ln(3/4) = -3.2066.
    ///
    /// ```
    /// use asrpipe::model::Classifier;
    /// use asrpipe::model::gmm::{GmmClassifier, StateGmms};
    /// use ndarray::{Array1, Array2, array};
    ///
    /// let gmms = StateGmms::new(
    ///     array![[0.0], [2.0]],  // means, one Gaussian per state
    ///     Array2::ones((2, 1)),  // variances
    ///     Array1::ones(2),       // mixture weights
    ///     &[1, 1],               // Gaussians per state
    /// )?;
    /// let gmm = GmmClassifier::new(gmms, &[1.0, 3.0])?;
    /// let model: &dyn Classifier = &gmm;
    /// let scores = model.log_scores(array![[0.0f32], [2.0]].view())?;
    /// assert_eq!(scores.dim(), (2, 2));
    /// let half_log_2pi = 0.5 * (2.0 * std::f32::consts::PI).ln();
    /// assert!((scores[[0, 0]] - (-half_log_2pi + 0.25f32.ln())).abs() < 1e-4);
    /// assert!((scores[[0, 1]] - (-half_log_2pi - 2.0 + 0.75f32.ln())).abs() < 1e-4);
    /// assert!((scores[[0, 0]] - -2.3052).abs() < 1e-4 && (scores[[0, 1]] - -3.2066).abs() < 1e-4);
    /// // At x = 2 the second state wins.
    /// assert!(scores[[1, 1]] > scores[[1, 0]]);
    ///
    /// // Frames of another width are an error, not a panic.
    /// let err = model.log_scores(Array2::zeros((3, 13)).view()).unwrap_err();
    /// assert!(matches!(
    ///     err,
    ///     asrpipe::Error::DimensionMismatch { expected: 1, got: 13, .. }
    /// ));
    /// # Ok::<(), asrpipe::Error>(())
    /// ```
    fn log_scores(&self, features: ArrayView2<f32>) -> Result<Array2<f32>>;
}
