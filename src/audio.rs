//! Reading audio: RIFF WAV (hound), NIST SPHERE (TIMIT), FLAC (claxon).
//!
//! Samples are returned as f32 in the 16-bit integer range (a full-scale 16-bit sample is 32767.0),
//! which is the scale Kaldi computes features on; other bit depths are scaled to that range.

use std::path::Path;

use crate::error::Result;

/// A mono signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// Samples in 16-bit integer scale.
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Waveform {
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// How to turn a file into a [`Waveform`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// Channel to take from multi-channel audio; `None` means the file must be mono.
    pub channel: Option<usize>,
    /// Sample rate the caller needs; `None` accepts any.
    pub sample_rate: Option<u32>,
    /// Resample to `sample_rate` instead of failing when the file has another rate.
    pub resample: bool,
}

/// Read an audio file, choosing the format by its content (not its extension).
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Waveform> {
    let _ = (path, opts);
    unimplemented!("audio reading")
}
