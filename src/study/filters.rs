//! What the first layer of a DNN fed the spectrogram learns, beside the mel filter bank it replaces.

use std::path::Path;

use ndarray::Axis;

use crate::error::{Error, Result};
use crate::frontend::StageKind;
use crate::frontend::filterbank::{Filterbank, FilterbankOptions};
use crate::study::hidden::dnn_of;
use crate::train::Trained;
use crate::viz;

/// First-layer weights of a DNN fed the spectrogram, as frequency responses (centre frame of the
/// spliced input), beside the 23-bin Kaldi mel filter bank for the same DFT. Writes `path`.
pub fn first_layer_filters(trained: &Trained, path: &Path) -> Result<()> {
    let dnn = dnn_of(trained, "the filter plot")?;
    if trained.pipeline.output_kind() != StageKind::Spectrogram {
        return Err(Error::invalid(format!(
            "the filter plot needs a DNN fed the spectrogram; this one reads `{}`",
            trained.pipeline.output_kind()
        )));
    }
    let a = dnn.arch();
    let bins = a.feature_dim;
    // The weights see inputs normalised per bin; these are the responses to that input.
    let filters = dnn.first_layer_filters();
    let centre = filters.index_axis(Axis(1), a.context);
    let rate = trained.pipeline.sample_rate;
    let mel = Filterbank::new(&FilterbankOptions::default(), rate, bins)?
        .dense()
        .reversed_axes();
    viz::filter_responses(
        path,
        centre,
        rate as f32,
        Some(mel.view()),
        &format!(
            "First-layer weights of {} fed the power spectrogram (centre frame), sorted by peak frequency",
            a.hidden
                .iter()
                .map(|h| h.to_string())
                .collect::<Vec<_>>()
                .join("x")
        ),
    )
}
