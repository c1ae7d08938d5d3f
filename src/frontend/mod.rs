//! The hand-crafted boxes of the production line, one file each.
//!
//! Every box is two small things (as in Kaldi's `src/feat`): an options struct declared with
//! [`options!`](macro@crate::options) (YAML schema, defaults and help in one place), and a stage that knows
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
use crate::error::{Error, Result};

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
    /// Every stage in chain order.
    pub const ALL: [StageKind; 6] = [
        StageKind::Waveform,
        StageKind::Dft,
        StageKind::Spectrogram,
        StageKind::Filterbank,
        StageKind::Log,
        StageKind::Dct,
    ];

    /// The name used in YAML and by `--from` / `--until`.
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
    /// One row per frame, one column per output dimension.
    pub data: Array2<f32>,
    /// Log energy per frame, carried beside the data for Kaldi's `use_energy`. Framing computes it
    /// only when a later stage asked for it (raw: before pre-emphasis and window; else after).
    pub log_energy: Option<Array1<f32>>,
}

impl Frames {
    /// Frames in the block (rows of `data`).
    pub fn num_frames(&self) -> usize {
        self.data.nrows()
    }
}

/// A box after framing: block of frames in, block of frames out.
pub trait Stage: Send + Sync + std::fmt::Debug {
    /// Which stage this is.
    fn kind(&self) -> StageKind;
    /// Output dimension (columns of the block this stage returns).
    fn dim(&self) -> usize;
    /// Transform a whole block. Input dimensions were checked when the chain was built.
    fn process(&self, input: Frames) -> Frames;
    /// For a stage that turns a DFT into its spectrum: power (`Some(true)`) or magnitude
    /// (`Some(false)`); `None` for the others.
    fn spectrum_of_dft(&self) -> Option<bool> {
        None
    }
    /// This stage and then a spectrum stage ([`spectrum_of_dft`](Self::spectrum_of_dft)) in one
    /// pass, with the values the two give in turn, for a stage that can (the DFT): the widest
    /// block of the chain is then never written out. `None` for the others.
    fn fused_spectrum(&self, _input: &Frames, _power: bool) -> Option<Array2<f32>> {
        None
    }
}

/// A built chain: framing, then the stages in order. Built once, used for every utterance.
#[derive(Debug)]
pub struct Frontend {
    /// The first stage: waveform to windowed frames (and their energies).
    pub framing: framing::Framing,
    /// The stages after framing, in order.
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
    ///
    /// Features are always finite: non-finite input samples, and input so extreme that a stage
    /// overflows f32 (a float file with samples near 1e30, say), are errors naming the frame.
    pub fn compute(&self, wav: &Waveform, seed: u64) -> Result<Frames> {
        let frames = self.run_stages(self.framing.process(wav, seed)?);
        match first_non_finite(&frames.data) {
            None => Ok(frames),
            Some(at) => Err(self.non_finite(wav, seed, at, &frames.data)),
        }
    }

    /// Run the stages after framing on a block of framed samples. Every stage works frame by
    /// frame, so any split of an utterance's frames into blocks gives the same rows (the online
    /// extractor relies on this).
    pub fn run_stages(&self, mut frames: Frames) -> Frames {
        let mut i = 0;
        while let Some(stage) = self.stages.get(i) {
            if let Some(power) = self.stages.get(i + 1).and_then(|s| s.spectrum_of_dft())
                && let Some(data) = stage.fused_spectrum(&frames, power)
            {
                frames = Frames {
                    data,
                    log_energy: frames.log_energy,
                };
                i += 2;
                continue;
            }
            frames = stage.process(frames);
            i += 1;
        }
        frames
    }

    /// The error for non-finite output: where it is, and which stage first made a non-finite
    /// value (found by running the chain again stage by stage; only on this error path).
    fn non_finite(
        &self,
        wav: &Waveform,
        seed: u64,
        (f, c): (usize, usize),
        out: &Array2<f32>,
    ) -> Error {
        let mut origin = String::new();
        if let Ok(mut frames) = self.framing.process(wav, seed) {
            let mut kind = StageKind::Waveform;
            let mut stages = self.stages.iter();
            loop {
                if let Some((g, _)) = first_non_finite(&frames.data) {
                    if kind != self.output_kind() {
                        origin = format!(
                            "; the first non-finite value is in the `{kind}` output, frame {g}"
                        );
                    }
                    break;
                }
                let Some(stage) = stages.next() else { break };
                kind = stage.kind();
                frames = stage.process(frames);
            }
        }
        let peak = wav.samples.iter().fold(0f32, |m, v| m.max(v.abs()));
        Error::invalid(format!(
            "non-finite features: frame {f} of the `{}` output is {} (column {c}){origin}; the \
             input's largest sample is {peak:e} (16-bit full scale is 32768)",
            self.output_kind(),
            out[[f, c]]
        ))
    }
}

/// (frame, column) of the first NaN or infinity in `x`.
pub fn first_non_finite(x: &Array2<f32>) -> Option<(usize, usize)> {
    let cols = x.ncols().max(1);
    match x.as_slice() {
        Some(v) => v
            .iter()
            .position(|v| !v.is_finite())
            .map(|i| (i / cols, i % cols)),
        None => x
            .indexed_iter()
            .find(|(_, v)| !v.is_finite())
            .map(|(at, _)| at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use framing::{EnergyMode, Framing, FramingOptions};

    fn spectrogram_chain() -> Frontend {
        let framing = Framing::new(&FramingOptions::default(), 16000, EnergyMode::None).unwrap();
        let dft = dft::Dft::new(&dft::DftOptions::default(), framing.dim()).unwrap();
        let spec = spectrogram::Spectrogram::new(&Default::default(), dft.dim());
        Frontend {
            framing,
            stages: vec![Box::new(dft), Box::new(spec)],
        }
    }

    #[test]
    fn the_fused_dft_and_spectrum_give_the_two_stages_values_bit_for_bit() {
        let samples = (0..4000)
            .map(|n| {
                let t = n as f32 / 16000.0;
                3000.0 * (2.0 * std::f32::consts::PI * 440.0 * t).sin() + (n % 7) as f32 * 90.0
            })
            .collect();
        let wav = Waveform {
            samples,
            sample_rate: 16000,
        };
        for power in [true, false] {
            let mut chain = spectrogram_chain();
            let spec = spectrogram::SpectrogramOptions { power };
            chain.stages[1] = Box::new(spectrogram::Spectrogram::new(&spec, chain.stages[0].dim()));
            let framed = chain.framing.process(&wav, 0).unwrap();
            let two = chain.stages[1].process(chain.stages[0].process(framed.clone()));
            assert_eq!(chain.run_stages(framed), two, "power {power}");
        }
    }

    #[test]
    fn non_finite_input_and_output_are_errors_naming_the_frame() {
        let chain = spectrogram_chain();
        let mut wav = Waveform {
            samples: vec![100.0; 1600],
            sample_rate: 16000,
        };
        assert!(chain.compute(&wav, 0).is_ok());
        wav.samples[1234] = f32::NAN;
        let e = chain.compute(&wav, 0).unwrap_err().to_string();
        assert_eq!(e, "audio sample 1234 is NaN; samples must be finite");
        // Finite samples whose power overflows f32 from frame 2 on (samples 320..720, the first
        // frame that holds sample 700).
        wav.samples[1234] = 100.0;
        wav.samples[700..].fill(1e30);
        let e = chain.compute(&wav, 0).unwrap_err().to_string();
        assert_eq!(
            e,
            "non-finite features: frame 2 of the `spectrogram` output is inf (column 0); the \
             input's largest sample is 1e30 (16-bit full scale is 32768)"
        );
    }
}
