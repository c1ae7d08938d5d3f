//! The hand-crafted boxes of the production line, one file each.
//!
//! Every box is two small things (as in Kaldi's `src/feat`): an options struct declared with
//! [`options!`](crate::options) (YAML schema, defaults and help in one place), and a stage that knows
//! its output dimension and turns a whole block of frames into the next block. Tables that depend
//! only on the options (window, FFT plan, mel weights, DCT matrix) are built once when the chain is
//! built and reused for every utterance.

pub mod cmvn;
pub mod dct;
pub mod deltas;
pub mod dft;
pub mod filterbank;
pub mod framing;
pub mod log;
pub mod spectrogram;
pub mod splice;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::audio::Waveform;
use crate::error::Result;

/// The boxes of the production line, in the only order they can appear.
/// A stage is named after what it outputs, so these names are also the cut points of `--from`/`--until`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    /// Framed (and optionally windowed, pre-emphasised) samples.
    Waveform,
    /// Complex spectrum of each frame: real parts then imaginary parts of bins 0..=N/2.
    Dft,
    /// Power (or magnitude) spectrum, bins 0..=N/2.
    Spectrogram,
    /// Mel filter bank energies.
    Filterbank,
    /// Log of the previous stage (floored).
    Log,
    /// DCT-II of the log filter bank with lifter: MFCC.
    #[serde(alias = "mfcc")]
    Dct,
}

impl StageKind {
    pub const ALL: [StageKind; 6] = [
        StageKind::Waveform,
        StageKind::Dft,
        StageKind::Spectrogram,
        StageKind::Filterbank,
        StageKind::Log,
        StageKind::Dct,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StageKind::Waveform => "waveform",
            StageKind::Dft => "dft",
            StageKind::Spectrogram => "spectrogram",
            StageKind::Filterbank => "filterbank",
            StageKind::Log => "log",
            StageKind::Dct => "dct",
        }
    }

    /// Parse a stage name as the CLI accepts it (`mfcc` is an alias of `dct`).
    pub fn parse(name: &str) -> Option<StageKind> {
        match name.to_ascii_lowercase().as_str() {
            "mfcc" => Some(StageKind::Dct),
            n => StageKind::ALL.into_iter().find(|k| k.name() == n),
        }
    }

    /// One-line description for `asrpipe stages`.
    pub fn summary(self) -> &'static str {
        match self {
            StageKind::Waveform => {
                "cut the signal into overlapping frames: dither, DC removal, pre-emphasis, window"
            }
            StageKind::Dft => "real FFT of each frame, zero-padded (to a power of two by default)",
            StageKind::Spectrogram => "power (or magnitude) spectrum of each frame",
            StageKind::Filterbank => "triangular mel filter bank (Kaldi, HTK or Slaney mel scale)",
            StageKind::Log => "natural log with a floor",
            StageKind::Dct => {
                "DCT-II of the log filter bank, keep the first coefficients, cepstral lifter: MFCC"
            }
        }
    }
}

impl std::fmt::Display for StageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A block of frames flowing between stages: one row per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Frames {
    pub data: Array2<f32>,
    /// Log energy per frame, carried beside the data for Kaldi's `use_energy`. Framing computes it
    /// only when a later stage asked for it (raw: before pre-emphasis and window; else after).
    pub log_energy: Option<Array1<f32>>,
}

impl Frames {
    pub fn num_frames(&self) -> usize {
        self.data.nrows()
    }
}

/// A box after framing: block of frames in, block of frames out.
pub trait Stage: Send + Sync + std::fmt::Debug {
    fn kind(&self) -> StageKind;
    /// Output dimension (columns of the block this stage returns).
    fn dim(&self) -> usize;
    /// Transform a whole block. Input dimensions were checked when the chain was built.
    fn process(&self, input: Frames) -> Frames;
}

/// A built chain: framing, then the stages in order. Built once, used for every utterance.
#[derive(Debug)]
pub struct Frontend {
    pub framing: framing::Framing,
    pub stages: Vec<Box<dyn Stage>>,
}

impl Frontend {
    /// The stage whose output this chain ends with.
    pub fn output_kind(&self) -> StageKind {
        self.stages.last().map_or(StageKind::Waveform, |s| s.kind())
    }

    /// Output dimension of the whole chain.
    pub fn dim(&self) -> usize {
        self.stages.last().map_or(self.framing.dim(), |s| s.dim())
    }

    /// Run the chain on one waveform. `seed` drives dither (if any); use a per-utterance seed so
    /// results do not depend on the order utterances are processed in.
    pub fn compute(&self, wav: &Waveform, seed: u64) -> Result<Frames> {
        let mut frames = self.framing.process(wav, seed)?;
        for stage in &self.stages {
            frames = stage.process(frames);
        }
        Ok(frames)
    }
}
