//! What the first layer of a DNN fed the spectrogram learns, beside the mel filter bank it
//! replaces; for a network with a learned front end (a filter bank on the power spectrogram, or a
//! time convolution on raw samples), its filters' frequency responses beside the same network's
//! start and the mel filters.

use std::path::Path;

use ndarray::{Array2, Axis};

use crate::error::{Error, Result};
use crate::frontend::StageKind;
use crate::frontend::filterbank::{Filterbank, FilterbankOptions};
use crate::model::dnn::{Architecture, Dnn, FilterKind, FilterbankInit, Front, Positivity};
use crate::study::hidden::dnn_of;
use crate::train::Trained;
use crate::viz;

/// First-layer weights of a DNN fed the spectrogram, as frequency responses (centre frame of the
/// spliced input), |w| and signed, beside the 23-bin Kaldi mel filter bank for the same DFT; or,
/// for a network with a learned front end, [`front_filters`]. Writes `path` and returns what it
/// drew, in words, for the figure's caption.
pub fn first_layer_filters(trained: &Trained, path: &Path) -> Result<String> {
    let dnn = dnn_of(trained, "the filter plot")?;
    if !dnn.arch().front.is_none() {
        return front_filters(trained, path);
    }
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
    )?;
    Ok(
        "each unit's weights on the centre frame's power bins, as |w| scaled to its peak and, in \
        the same order, signed (red positive, blue negative: a plain layer may subtract bins), \
        beside the mel filter bank"
            .into(),
    )
}

/// Points of the frequency axis for time-convolution kernels (|DFT| at this many samples).
const KERNEL_FFT: usize = 512;

/// A learned front end's filters as frequency responses, sorted by peak frequency, in three
/// panels: after training, at the start (the random filters of the training seed, or the mel
/// matrix for a mel start), and the Kaldi mel filter bank with as many filters. A filter bank's
/// responses are its weights per power bin, non-negative by construction, so they are the whole
/// story; a kernel's are `|DFT|`, and below them a few kernels, trained and at the start, are
/// drawn as signed waveforms (phase and shape, which the magnitude hides). Returns what it drew,
/// in words, for the caption.
pub fn front_filters(trained: &Trained, path: &Path) -> Result<String> {
    let dnn = dnn_of(trained, "the filter plot")?;
    let a = dnn.arch();
    let learned = dnn
        .front_filters(KERNEL_FFT)?
        .ok_or_else(|| Error::invalid("the network has no learned front end"))?;
    let rate = trained.pipeline.sample_rate;
    let seed = trained.about.seed;
    let n = learned.responses.nrows();
    let points = learned.responses.ncols();
    let mel = Filterbank::new(
        &FilterbankOptions {
            num_bins: n.min(points),
            ..Default::default()
        },
        rate,
        points,
    )?
    .dense()
    .reversed_axes();
    let (start, start_kernels, start_title) = start_filters(a, &mel, seed, n)?;
    let (what, rows) = match learned.kind {
        FilterKind::PowerWeights => ("filter bank on the power spectrogram", "filter"),
        _ => (
            "time convolution on raw samples (|DFT| of kernels)",
            "kernel",
        ),
    };
    let by_peak = format!("{rows} (sorted by peak frequency)");
    let panel = |title: String, rows: String, responses| viz::FilterPanel {
        title,
        rows,
        responses,
        signed: false,
    };
    let mut kernels = Vec::new();
    if learned.kind == FilterKind::Kernels {
        kernels.push(viz::KernelPanel {
            title: "learned kernels, signed".into(),
            kernels: learned.weights.view(),
            responses: learned.responses.view(),
        });
        if let Some(k) = &start_kernels {
            kernels.push(viz::KernelPanel {
                title: format!("kernels at the start (seed {seed}), signed"),
                kernels: k.view(),
                responses: start.view(),
            });
        }
    }
    viz::filter_panels(
        path,
        &[
            panel(
                format!("learned ({n})"),
                by_peak.clone(),
                learned.responses.view(),
            ),
            panel(start_title, by_peak.clone(), start.view()),
            panel(
                format!("Kaldi mel filter bank ({})", mel.nrows()),
                "mel filter".into(),
                mel.view(),
            ),
        ],
        &kernels,
        rate as f32,
        &format!(
            "Learned {what}, trained end to end (epoch kept: {})",
            crate::study::experiment::kept_epoch(&trained.about)
                .map_or("-".into(), |e| e.to_string())
        ),
    )?;
    Ok(caption(&a.front, n))
}

/// A learned front end's filters at the start of training: the mel matrix `mel` for a mel
/// start, else the random filters of `seed` (responses, and kernels for a time convolution),
/// with the panel's title.
fn start_filters(
    a: &Architecture,
    mel: &Array2<f32>,
    seed: u64,
    n: usize,
) -> Result<(Array2<f32>, Option<Array2<f32>>, String)> {
    Ok(match &a.front {
        Front::Filterbank(f) if f.init == FilterbankInit::Mel => {
            (mel.clone(), None, format!("at the start: mel ({n})"))
        }
        _ => {
            let fresh = Dnn::new(a.clone(), seed)?;
            let r = fresh.front_filters(KERNEL_FFT)?.expect("same front end");
            (
                r.responses,
                Some(r.weights),
                format!("at the start: random, seed {seed} ({n})"),
            )
        }
    })
}

/// What the figure of a learned front end with `n` filters shows, in words.
fn caption(front: &Front, n: usize) -> String {
    match front {
        Front::Filterbank(f) => format!(
            "each filter's weights over the power bins, after training, at the start and the mel \
             filters, rows sorted by peak frequency, each scaled to its peak. The weights are \
             non-negative by construction (w = {} of a free parameter), so there is no sign to show",
            match f.positivity {
                Positivity::Softplus => "softplus",
                Positivity::Square => "the square",
            }
        ),
        _ => format!(
            "top: each kernel's magnitude response |DFT| after training, at the start and the \
             mel filters, rows sorted by peak frequency, each scaled to its peak; bottom: {} of \
             the {n} kernels, trained and at the start, as signed waveforms (evenly spread over \
             the peak-frequency order, each scaled to its largest |w|, peak frequency at the \
             left)",
            n.min(8)
        ),
    }
}
