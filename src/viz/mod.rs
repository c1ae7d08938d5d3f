//! Looking inside the learned boxes: project activations to 2-D (PCA, t-SNE), measure how they are
//! organised by a labelling (leave-one-out k-NN accuracy, silhouette), and draw the lecture's
//! figures (per-layer scatter panels, accuracy curves, first-layer filter responses, confusion
//! matrices) as PNG or SVG, chosen by the file extension.
//!
//! Everything here takes plain arrays and strings, so it knows nothing about models or corpora.
//! Every random choice takes a seed; the same seed gives the same numbers.

pub mod boundaries;
pub mod chance;
pub mod heatmap;
pub mod knn;
pub mod lines;
pub mod pca;
pub mod plot;
pub mod probe;
pub mod scatter;
pub mod tsne;

pub use boundaries::{Labelled, spectrogram_with_boundaries};
pub use chance::{VoteScore, keyed_vote_score, vote_chance};
pub use heatmap::{
    FilterPanel, KernelPanel, confusion_matrix, filter_panels, filter_responses,
    magnitude_responses,
};
pub use knn::{
    Neighbour, knn_accuracy, knn_predict_loo, nearest_neighbours, nearest_neighbours_many,
    nearest_neighbours_where, silhouette, vote, vote_accuracy,
};
pub use lines::{Series, accuracy_vs_params, line_plot};
pub use pca::{Pca, pca};
pub use plot::{LabelStyle, Shape, okabe_ito};
pub use probe::{LinearProbe, ProbeOptions, ProbeScore, probe_score};
pub use scatter::{Panel, scatter_panels, scatter_panels_styled};
pub use tsne::{TsneInit, TsneOptions, tsne, tsne_many};

use ndarray::ArrayView2;

use crate::error::{Error, Result};

/// Reject empty or non-finite input with a message naming what it was.
pub(crate) fn check_finite(x: ArrayView2<f32>, what: &str) -> Result<()> {
    if x.nrows() == 0 || x.ncols() == 0 {
        return Err(Error::invalid(format!(
            "{what}: empty matrix ({} x {})",
            x.nrows(),
            x.ncols()
        )));
    }
    if let Some((idx, v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(format!(
            "{what}: value {v} at row {}, column {} is not finite",
            idx.0, idx.1
        )));
    }
    Ok(())
}
