//! asrpipe: the classic speech-recognition front end as composable stages, and what deep networks
//! do when they replace them.
//!
//! Data flows one way, and so do the modules: each layer below uses only the layers listed
//! before it.
//!
//! audio file -> [`audio::Waveform`] -> [`frontend`] stages -> post-processing (CMVN, deltas,
//! splicing) -> classifier ([`model`]) over tied HMM states -> [`decode`] (phone strings, forced
//! alignments) -> metrics, plots and reports.

// Foundations.
/// The error type every layer returns: it names the file (and line) a problem is in.
pub mod error;
/// Files in and out: atomic writes, JSON/YAML/safetensors, the feature cache, export formats.
pub mod io;
/// How much memory a command may take, checked before big allocations.
pub mod memory;
/// Option structs declared once with their defaults and help (`options!`).
pub mod options;
/// Plots and projections over plain arrays (PCA, t-SNE, k-NN, figures); knows no models.
pub mod viz;

// The production line.
/// Reading audio files (WAV, NIST SPHERE, FLAC), channels and resampling.
pub mod audio;
/// Aligned speech: TIMIT and manifests, phone sets, frame labels, speaker splits.
pub mod corpus;
/// Viterbi search over the HMM: phone-loop decoding, forced alignment, phone LM, PER.
pub mod decode;
/// The hand-crafted boxes, one per file: framing, DFT, spectrogram, mel, log, DCT, CMVN, deltas.
pub mod frontend;
/// The learned boxes: GMM, DNN, the state-tying tree, and the HMM around the tied states.
pub mod model;

// Putting it together.
/// Pipelines as YAML: stages, post-processing, the classifier section, the feature extractor.
pub mod pipeline;
/// Experiments over many runs, analyses of trained networks, reports.
pub mod study;
/// From a corpus and a pipeline to trained, scored models: targets, datasets, model directories.
pub mod train;

pub use error::{Error, Result};
