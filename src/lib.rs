//! asrpipe: the classic speech-recognition front end as composable stages, and what deep networks
//! do when they replace them.
//!
//! Data flows one way:
//! audio file -> [`audio::Waveform`] -> [`frontend`] stages -> [`frontend::Frames`] -> post-processing
//! (CMVN, deltas, splicing) -> classifier ([`model`]) -> metrics and plots.

pub mod audio;
pub mod corpus;
pub mod error;
pub mod frontend;
pub mod io;
pub mod model;
pub mod options;
pub mod pipeline;
pub mod study;
pub mod train;
pub mod viz;

pub use error::{Error, Result};
