//! asrpipe: the classic speech-recognition front end as composable stages, and what deep networks
//! do when they replace them.
//!
//! Data flows one way:
//! audio file -> [`audio::Waveform`] -> [`frontend`] stages -> [`frontend::Frames`] -> post-processing
//! (CMVN, deltas, splicing) -> classifier ([`model`]) -> metrics and plots.

pub mod analysis;
pub mod atomic;
pub mod audio;
pub mod cache;
pub mod classifier;
pub mod corpus;
pub mod dataset;
pub mod decode;
pub mod error;
pub mod eval;
pub mod experiment;
pub mod export;
pub mod features;
pub mod frontend;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod run;
pub mod targets;
pub mod viz;

pub use error::{Error, Result};
