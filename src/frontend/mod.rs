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

use std::sync::Mutex;

use framing::EnergyMode;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, s};
use rand_chacha::ChaCha8Rng;
use realfft::num_complex::Complex;
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

/// Working memory of a stage, kept by whoever runs the chain and handed to every call, so a
/// stage that needs buffers (the DFT's transform input, spectrum and FFT scratch) sizes them on
/// first use and then reuses them (realfft's `process_with_scratch`).
#[derive(Debug, Default)]
pub struct StageScratch {
    /// Real working values.
    pub real: Vec<f64>,
    /// Complex working values.
    pub complex: Vec<Complex<f64>>,
}

/// A box after framing: block of frames in, block of frames out.
pub trait Stage: Send + Sync + std::fmt::Debug {
    /// Which stage this is.
    fn kind(&self) -> StageKind;
    /// Output dimension (columns of the block this stage returns).
    fn dim(&self) -> usize;
    /// Transform the rows of `input` into the rows of `output` (as many rows, [`dim`](Self::dim)
    /// columns, every value written). `energy` is the log energy of each row where framing
    /// computed one. Input dimensions were checked when the chain was built.
    fn process_into(
        &self,
        input: ArrayView2<f32>,
        energy: Option<&[f32]>,
        output: ArrayViewMut2<f32>,
        scratch: &mut StageScratch,
    );
    /// Transform a whole block into a new one (tests and error reports; the chain runs
    /// [`process_into`](Self::process_into) on buffers it keeps).
    fn process(&self, input: Frames) -> Frames {
        let mut data = Array2::zeros((input.num_frames(), self.dim()));
        let energy = input.log_energy.as_ref().map(|e| e.to_vec());
        self.process_into(
            input.data.view(),
            energy.as_deref(),
            data.view_mut(),
            &mut StageScratch::default(),
        );
        Frames {
            data,
            log_energy: input.log_energy,
        }
    }
    /// For a stage that turns a DFT into its spectrum: power (`Some(true)`) or magnitude
    /// (`Some(false)`); `None` for the others.
    fn spectrum_of_dft(&self) -> Option<bool> {
        None
    }
    /// Whether this stage and then a spectrum stage ([`spectrum_of_dft`](Self::spectrum_of_dft))
    /// can run in one pass ([`fused_spectrum_into`](Self::fused_spectrum_into)): the DFT can, so
    /// the widest block of the chain is never written out.
    fn fuses_spectrum(&self) -> bool {
        false
    }
    /// This stage and then a spectrum stage in one pass, writing into `output` the values the
    /// two give in turn; called only where [`fuses_spectrum`](Self::fuses_spectrum) is true.
    fn fused_spectrum_into(
        &self,
        _input: ArrayView2<f32>,
        _power: bool,
        _output: ArrayViewMut2<f32>,
        _scratch: &mut StageScratch,
    ) {
        unreachable!("{:?} does not fuse a spectrum stage", self)
    }
}

/// Frames a chain runs through its stages at once: the blocks between stages stay in the
/// processor's cache (a few hundred kilobytes for the widest chains), and the DCT's matrix
/// product still gets rows enough to be one call.
pub const BLOCK_FRAMES: usize = 64;

/// The working buffers of one run of a chain, reused block after block and utterance after
/// utterance: framing's output, each stage's output, the energies and the stages' scratch. One
/// per thread; [`Frontend::work`] makes one, and [`Frontend::compute`] keeps a pool of them.
#[derive(Debug)]
pub struct Work {
    /// `blocks[i]`: the input of stage `i` (`blocks[0]` is framing's output), [`BLOCK_FRAMES`]
    /// rows; empty for the outputs nobody reads (the last stage writes where it is told, a
    /// fused DFT never writes its own).
    blocks: Vec<Array2<f32>>,
    energy: Vec<f32>,
    framing: framing::FramingScratch,
    scratch: StageScratch,
}

/// A built chain: framing, then the stages in order. Built once, used for every utterance.
#[derive(Debug)]
pub struct Frontend {
    /// The first stage: waveform to windowed frames (and their energies).
    pub framing: framing::Framing,
    /// The stages after framing, in order.
    pub stages: Vec<Box<dyn Stage>>,
    /// Working buffers for [`compute`](Self::compute), one per thread that has used it.
    pool: Mutex<Vec<Work>>,
}

/// Whether the chain runs stage `i` together with the spectrum stage after it
/// ([`Stage::fused_spectrum_into`]): the power or magnitude the spectrum asks for.
fn fused_at(stages: &[Box<dyn Stage>], i: usize) -> Option<bool> {
    stages
        .get(i + 1)
        .and_then(|next| next.spectrum_of_dft())
        .filter(|_| stages[i].fuses_spectrum())
}

impl Frontend {
    /// The chain of `framing` then `stages` (each taking the previous one's output width).
    pub fn new(framing: framing::Framing, stages: Vec<Box<dyn Stage>>) -> Self {
        Frontend {
            framing,
            stages,
            pool: Mutex::new(Vec::new()),
        }
    }

    /// The stage whose output this chain ends with.
    pub fn output_kind(&self) -> StageKind {
        self.stages.last().map_or(StageKind::Waveform, |s| s.kind())
    }

    /// Output dimension of the whole chain.
    pub fn dim(&self) -> usize {
        self.stages.last().map_or(self.framing.dim(), |s| s.dim())
    }

    /// Fresh working buffers for [`frames_into`](Self::frames_into).
    pub fn work(&self) -> Work {
        let mut blocks = Vec::with_capacity(self.stages.len());
        let mut width = self.framing.dim();
        for (i, stage) in self.stages.iter().enumerate() {
            let unread = i > 0 && fused_at(&self.stages, i - 1).is_some();
            blocks.push(match unread {
                true => Array2::zeros((0, 0)),
                false => Array2::zeros((BLOCK_FRAMES, width)),
            });
            width = stage.dim();
        }
        Work {
            blocks,
            energy: vec![0.0; BLOCK_FRAMES],
            framing: self.framing.scratch(),
            scratch: StageScratch::default(),
        }
    }

    /// Run the chain on one waveform. `seed` drives dither (if any); use a per-utterance seed so
    /// results do not depend on the order utterances are processed in.
    ///
    /// Features are always finite: non-finite input samples, and input so extreme that a stage
    /// overflows f32 (a float file with samples near 1e30, say), are errors naming the frame.
    pub fn compute(&self, wav: &Waveform, seed: u64) -> Result<Frames> {
        let num_frames = self.framing.check(wav)?;
        let mut data = Array2::zeros((num_frames, self.dim()));
        let mut energy = match self.framing.energy {
            EnergyMode::None => None,
            _ => Some(Array1::zeros(num_frames)),
        };
        let mut work = self.take_work();
        let mut rng = framing::Framing::dither_rng(seed);
        let n = wav.samples.len();
        let done = self.frames_into(
            &wav.samples,
            0,
            n,
            0..num_frames,
            &mut rng,
            data.view_mut(),
            energy
                .as_mut()
                .map(|e| e.as_slice_mut().expect("contiguous")),
            &mut work,
        );
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(work);
        done?;
        match first_non_finite(data.view()) {
            None => Ok(Frames {
                data,
                log_energy: energy,
            }),
            Some(at) => Err(self.non_finite(wav, seed, at, &data)),
        }
    }

    /// A pooled [`Work`], or a new one when every pooled one is in use.
    fn take_work(&self) -> Work {
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        pooled.unwrap_or_else(|| self.work())
    }

    /// Frames `range` of a signal `total` samples long, of which `samples` holds the part from
    /// sample `offset` on (see [`Framing::frames_into`](framing::Framing::frames_into)), through
    /// the whole chain into the rows of `out` (and their log energies into `energy`, when
    /// framing computes them), [`BLOCK_FRAMES`] at a time in `work`'s buffers. Every stage works
    /// frame by frame, so any split of an utterance's frames gives the same rows.
    #[allow(clippy::too_many_arguments)]
    pub fn frames_into(
        &self,
        samples: &[f32],
        offset: usize,
        total: usize,
        range: std::ops::Range<usize>,
        rng: &mut ChaCha8Rng,
        mut out: ArrayViewMut2<f32>,
        mut energy: Option<&mut [f32]>,
        work: &mut Work,
    ) -> Result<()> {
        let mut start = range.start;
        while start < range.end {
            let end = (start + BLOCK_FRAMES).min(range.end);
            let (n, at) = (end - start, start - range.start);
            let mut rows = out.slice_mut(s![at..at + n, ..]);
            // Framing writes the chain's rows itself when it is the whole chain.
            let direct = self.stages.is_empty();
            let (framed, framed_energy) = match direct {
                true => (
                    rows.view_mut(),
                    energy.as_deref_mut().map(|e| &mut e[at..at + n]),
                ),
                false => (
                    work.blocks[0].slice_mut(s![..n, ..]),
                    Some(&mut work.energy[..n]),
                ),
            };
            self.framing.frames_into(
                samples,
                offset,
                total,
                start..end,
                rng,
                framed,
                framed_energy,
                &mut work.framing,
            )?;
            if !direct {
                if let Some(e) = energy.as_deref_mut() {
                    e[at..at + n].copy_from_slice(&work.energy[..n]);
                }
                self.run_block(n, rows, work);
            }
            start = end;
        }
        Ok(())
    }

    /// The stages on the first `n` rows of `work.blocks[0]`, the last one writing into `out`.
    fn run_block(&self, n: usize, mut out: ArrayViewMut2<f32>, work: &mut Work) {
        let energy = (self.framing.energy != EnergyMode::None).then_some(&work.energy[..n]);
        let mut i = 0;
        while i < self.stages.len() {
            let fused = fused_at(&self.stages, i);
            let step = if fused.is_some() { 2 } else { 1 };
            let (before, after) = work.blocks.split_at_mut(i + 1);
            let input = before[i].slice(s![..n, ..]);
            let output = match after.get_mut(step - 1) {
                Some(next) => next.slice_mut(s![..n, ..]),
                None => out.view_mut(),
            };
            match fused {
                Some(power) => {
                    self.stages[i].fused_spectrum_into(input, power, output, &mut work.scratch)
                }
                None => self.stages[i].process_into(input, energy, output, &mut work.scratch),
            }
            i += step;
        }
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
                if let Some((g, _)) = first_non_finite(frames.data.view()) {
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
pub fn first_non_finite(x: ArrayView2<f32>) -> Option<(usize, usize)> {
    let cols = x.ncols().max(1);
    match x.as_slice() {
        Some(v) => framing::first_non_finite_sample(v).map(|i| (i / cols, i % cols)),
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
        Frontend::new(framing, vec![Box::new(dft), Box::new(spec)])
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
            assert_eq!(chain.compute(&wav, 0).unwrap(), two, "power {power}");
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
