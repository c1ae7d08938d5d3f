//! What training did, epoch by epoch, and how it ended: kept in checkpoints and model directories.

use serde::{Deserialize, Serialize};

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Learning rate used during this epoch.
    pub lr: f32,
    /// Mean cross-entropy over the epoch's minibatches (with dropout, before each update).
    pub train_loss: f64,
    /// Fraction of training frames classified correctly during the epoch (0..1).
    pub train_accuracy: f64,
    /// Mean cross-entropy on the dev set after the epoch; `None` without a dev set.
    pub dev_loss: Option<f64>,
    /// Frame accuracy on the dev set after the epoch (0..1).
    pub dev_accuracy: Option<f64>,
    /// Training frames per second (forward + backward + update).
    pub frames_per_sec: f64,
    /// Wall-clock time of the epoch, seconds.
    pub seconds: f64,
    /// This epoch has the best dev loss so far (its weights are the ones kept).
    pub best: bool,
}

/// How training ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// All `epochs` ran.
    Completed,
    /// Dev loss stopped improving for `patience` epochs.
    EarlyStopped,
    /// The progress callback asked to stop; the checkpoint (if any) allows resuming.
    Interrupted,
}
