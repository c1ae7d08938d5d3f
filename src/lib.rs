//! asrpipe: the classic speech-recognition front end as composable stages, and what deep networks
//! do when they replace them.
//!
//! Data flows one way, and so do the modules: each layer below uses only the layers listed
//! before it (`tests/layers.rs` checks this, reading the order from this file).
//!
//! audio file -> [`audio::Waveform`] -> [`frontend`] stages -> post-processing (CMVN, deltas,
//! splicing) -> classifier ([`model`]) over tied HMM states -> [`decode`] (phone strings, forced
//! alignments) -> metrics, plots and reports.
//!
//! # Example
//!
//! Kaldi MFCCs of one second of a 440 Hz tone: 25 ms frames every 10 ms with Kaldi's
//! `snip_edges` give 1 + (16000 - 400) / 160 = 98 frames of 13 coefficients.
//!
//! ```
//! use asrpipe::audio::Waveform;
//! use asrpipe::pipeline::Pipeline;
//! use asrpipe::pipeline::extractor::Extractor;
//!
//! let rate = 16_000;
//! // Samples are in 16-bit integer scale, as Kaldi reads them.
//! let samples = (0..rate)
//!     .map(|n| 8000.0 * (2.0 * std::f32::consts::PI * 440.0 * n as f32 / rate as f32).sin())
//!     .collect();
//! let wav = Waveform { samples, sample_rate: rate as u32 };
//!
//! let extractor = Extractor::new(&Pipeline::kaldi_mfcc())?;
//! let mfcc = extractor.chain(&wav, "tone")?;
//! assert_eq!(mfcc.dim(), (98, 13));
//! assert!(mfcc.iter().all(|v| v.is_finite()));
//! # Ok::<(), asrpipe::Error>(())
//! ```

#![warn(missing_docs)]

// The layers, lowest first. Each is its own group (blank lines) so that rustfmt keeps this order.

// The error type every layer returns: it names the file (and line) a problem is in.
pub mod error;

// Option structs declared once with their defaults and help (`options!`).
pub mod options;

// How much memory a command may take, checked before the big allocations.
pub mod memory;

// Files in and out: atomic writes, JSON/YAML/safetensors, the feature cache, export formats.
pub mod io;

// Plots and projections over plain arrays (PCA, t-SNE, k-NN, figures); knows no models.
pub mod viz;

// Reading audio files (WAV, NIST SPHERE, FLAC), channels and resampling.
pub mod audio;

// The hand-crafted boxes, one per file: framing, DFT, spectrogram, mel, log, DCT, CMVN, deltas.
pub mod frontend;

// Aligned speech: TIMIT and manifests, phone sets, frame labels, speaker splits.
pub mod corpus;

// The learned boxes: GMM, DNN, the state-tying tree, and the HMM around the tied states.
pub mod model;

// Viterbi search over the HMM: phone-loop decoding, forced alignment, phone LM, PER.
pub mod decode;

// Pipelines as YAML: stages, post-processing, the classifier section, the feature extractor.
pub mod pipeline;

// From a corpus and a pipeline to trained, scored models: targets, datasets, model directories.
pub mod train;

// Experiments over many runs, analyses of trained networks, reports.
pub mod study;

pub use error::{Error, Result};
