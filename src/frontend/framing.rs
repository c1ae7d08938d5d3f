//! Framing (Kaldi's `FrameExtractionOptions` / `ExtractWindow`): cut the signal into overlapping
//! frames, then per frame: dither, DC removal, log energy, pre-emphasis, window.
//! The output stage is called `waveform`: framed samples, `frame_length` columns.

use ndarray::{Array1, Array2, ArrayViewMut2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::Frames;
use crate::audio::{Channel, Waveform};
use crate::error::{Error, Result};
use crate::options;

/// Where frames sit in the signal. Shared by feature extraction and frame labelling, so labels
/// line up with features exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGeometry {
    /// Frame length in samples (Kaldi: `WindowSize()`).
    pub length: usize,
    /// Frame shift in samples (Kaldi: `WindowShift()`).
    pub shift: usize,
    /// Only frames that fit completely in the signal (true), or frames centred on every shift
    /// with the edges reflected (false).
    pub snip_edges: bool,
}

impl FrameGeometry {
    /// Lengths from milliseconds, truncated to whole samples as Kaldi does.
    pub fn from_ms(sample_rate: u32, length_ms: f32, shift_ms: f32, snip_edges: bool) -> Self {
        let rate = sample_rate as f32;
        FrameGeometry {
            length: (rate * 0.001 * length_ms) as usize,
            shift: (rate * 0.001 * shift_ms) as usize,
            snip_edges,
        }
    }

    /// Number of frames for a signal of `num_samples` (Kaldi's `NumFrames`).
    pub fn num_frames(&self, num_samples: usize) -> usize {
        if self.snip_edges {
            if num_samples < self.length {
                0
            } else {
                1 + (num_samples - self.length) / self.shift
            }
        } else {
            (num_samples + self.shift / 2) / self.shift
        }
    }

    /// Index of the first sample of frame `i`; negative before the signal starts when
    /// `snip_edges` is false (Kaldi's `FirstSampleOfFrame`).
    pub fn first_sample(&self, i: usize) -> i64 {
        let start = (i * self.shift) as i64;
        if self.snip_edges {
            start
        } else {
            start + (self.shift / 2) as i64 - (self.length / 2) as i64
        }
    }

    /// The frame's centre in samples (fractional for even lengths): the point used to give
    /// each frame the phone whose segment holds it.
    pub fn centre(&self, i: usize) -> f64 {
        self.first_sample(i) as f64 + self.length as f64 / 2.0
    }
}

/// Window shapes (Kaldi's `FeatureWindowFunction`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowType {
    /// Hann window raised to 0.85: Kaldi's default, goes to zero at the edges like Hann.
    Povey,
    /// 0.54 - 0.46 cos(2 pi n / (N - 1)).
    Hamming,
    /// 0.5 - 0.5 cos(2 pi n / (N - 1)).
    #[serde(alias = "hanning")]
    Hann,
    /// All ones.
    Rectangular,
    /// Kaldi's Blackman with `blackman_coeff` (0.42 is the classic window).
    Blackman,
    /// sin(pi n / (N - 1)).
    Sine,
}

impl WindowType {
    /// The window of `n` samples, computed in f64 and stored as f32 as Kaldi does.
    pub fn coefficients(self, n: usize, blackman_coeff: f64) -> Vec<f32> {
        let a = 2.0 * std::f64::consts::PI / (n.max(2) - 1) as f64;
        (0..n)
            .map(|i| {
                let x = a * i as f64;
                let w = match self {
                    WindowType::Povey => (0.5 - 0.5 * x.cos()).powf(0.85),
                    WindowType::Hamming => 0.54 - 0.46 * x.cos(),
                    WindowType::Hann => 0.5 - 0.5 * x.cos(),
                    WindowType::Rectangular => 1.0,
                    WindowType::Blackman => {
                        blackman_coeff - 0.5 * x.cos() + (0.5 - blackman_coeff) * (2.0 * x).cos()
                    }
                    WindowType::Sine => (0.5 * x).sin(),
                };
                w as f32
            })
            .collect()
    }
}

options! {
    /// Framing: Kaldi's frame extraction options.
    pub struct FramingOptions {
        /// Channel of multi-channel audio: mono (the file must have one channel), a channel number from 0, or mean (average of all channels); a manifest's `channel` column and `features --channel` override it.
        channel: Channel = Channel::Mono,
        /// Frame length in milliseconds (2 to 65536 samples at the pipeline's rate).
        frame_length_ms: f32 = 25.0,
        /// Frame shift in milliseconds (1 to 65536 samples at the pipeline's rate).
        frame_shift_ms: f32 = 10.0,
        /// Keep only frames that fit in the signal (true), or centre frames on each shift and reflect the edges.
        snip_edges: bool = true,
        /// Standard deviation of Gaussian dither added to each sample, in 16-bit sample units, 0 to 32768 (0 = off; seeded per utterance).
        dither: f32 = 0.0,
        /// Subtract each frame's mean before anything else.
        remove_dc_offset: bool = true,
        /// Pre-emphasis coefficient k, 0 to 1: `x[i] -= k * x[i-1]` (0 = off).
        preemph_coeff: f32 = 0.97,
        /// Window: povey, hamming, hann, rectangular, blackman, sine.
        window: WindowType = WindowType::Povey,
        /// Constant of the Blackman window, 0 to 0.5.
        blackman_coeff: f32 = 0.42,
    }
}

/// Which log energy framing computes for a later stage's `use_energy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnergyMode {
    /// No energy needed.
    None,
    /// After dither and DC removal, before pre-emphasis and window (Kaldi `raw_energy`).
    Raw,
    /// After the window.
    Windowed,
}

/// The built framing stage: geometry, window table and energy mode fixed once.
#[derive(Debug, Clone)]
pub struct Framing {
    /// The options it was built from.
    pub opts: FramingOptions,
    /// Frame length and shift in samples, and the `snip_edges` rule.
    pub geometry: FrameGeometry,
    /// Rate the geometry was computed for, Hz.
    pub sample_rate: u32,
    /// Which log energy to compute beside the frames.
    pub energy: EnergyMode,
    window: Vec<f32>,
}

/// Longest frame or shift in samples (4 s at 16 kHz).
pub const MAX_FRAME_LENGTH: usize = 1 << 16;

/// Largest dither: noise with the standard deviation of a full-scale 16-bit signal. Far beyond
/// any use, and low enough that a frame's energy cannot overflow f32.
pub const MAX_DITHER: f32 = 32768.0;

/// Kaldi floors energies at the float epsilon before taking logs.
pub const ENERGY_EPSILON: f32 = f32::EPSILON;

impl Framing {
    /// Fix the geometry at `sample_rate` and compute the window; refuses options out of range.
    pub fn new(opts: &FramingOptions, sample_rate: u32, energy: EnergyMode) -> Result<Self> {
        let geometry = FrameGeometry::from_ms(
            sample_rate,
            opts.frame_length_ms,
            opts.frame_shift_ms,
            opts.snip_edges,
        );
        if !(opts.frame_length_ms.is_finite() && opts.frame_shift_ms.is_finite()) {
            return Err(Error::invalid(
                "frame_length_ms and frame_shift_ms must be finite",
            ));
        }
        if geometry.length < 2 || geometry.shift < 1 {
            return Err(Error::invalid(format!(
                "frame_length_ms {} / frame_shift_ms {} at {sample_rate} Hz give frames of {} / {} \
                 samples; need at least 2 / 1",
                opts.frame_length_ms, opts.frame_shift_ms, geometry.length, geometry.shift
            )));
        }
        // The window table and every frame are this long: a bound keeps a typo (or a huge
        // sample_rate) from becoming a many-gigabyte allocation.
        if geometry.length > MAX_FRAME_LENGTH || geometry.shift > MAX_FRAME_LENGTH {
            return Err(Error::invalid(format!(
                "frame_length_ms {} / frame_shift_ms {} at {sample_rate} Hz give frames of {} / {} \
                 samples; at most {MAX_FRAME_LENGTH} are supported",
                opts.frame_length_ms, opts.frame_shift_ms, geometry.length, geometry.shift
            )));
        }
        if !(0.0..=1.0).contains(&opts.preemph_coeff) {
            return Err(Error::invalid(format!(
                "preemph_coeff must be in [0, 1], got {}",
                opts.preemph_coeff
            )));
        }
        if !(0.0..=MAX_DITHER).contains(&opts.dither) {
            return Err(Error::invalid(format!(
                "dither must be between 0 and {MAX_DITHER} (the noise's standard deviation in \
                 16-bit sample units; {MAX_DITHER} is full scale), got {}",
                opts.dither
            )));
        }
        if !(0.0..=0.5).contains(&opts.blackman_coeff) {
            return Err(Error::invalid(format!(
                "blackman_coeff must be between 0 and 0.5 (0.42 is the classic Blackman window), \
                 got {}",
                opts.blackman_coeff
            )));
        }
        let window = opts
            .window
            .coefficients(geometry.length, opts.blackman_coeff as f64);
        Ok(Framing {
            opts: opts.clone(),
            geometry,
            sample_rate,
            energy,
            window,
        })
    }

    /// Samples per frame.
    pub fn dim(&self) -> usize {
        self.geometry.length
    }

    /// Working buffers for [`frames_into`](Self::frames_into), reused call after call.
    pub fn scratch(&self) -> FramingScratch {
        FramingScratch {
            frame: vec![0.0; self.geometry.length],
            means: Vec::new(),
        }
    }

    /// Frame a whole waveform. `seed` drives the dither.
    pub fn process(&self, wav: &Waveform, seed: u64) -> Result<Frames> {
        let num_frames = self.check(wav)?;
        let mut data = Array2::<f32>::zeros((num_frames, self.geometry.length));
        let mut energy = match self.energy {
            EnergyMode::None => None,
            _ => Some(Array1::<f32>::zeros(num_frames)),
        };
        let n = wav.samples.len();
        self.frames_into(
            &wav.samples,
            0,
            n,
            0..num_frames,
            &mut Self::dither_rng(seed),
            data.view_mut(),
            energy
                .as_mut()
                .map(|e| e.as_slice_mut().expect("contiguous")),
            &mut self.scratch(),
        )?;
        Ok(Frames {
            data,
            log_energy: energy,
        })
    }

    /// Check that `wav` can be framed (the pipeline's rate, finite samples, at least one
    /// frame); returns its number of frames.
    pub fn check(&self, wav: &Waveform) -> Result<usize> {
        if wav.sample_rate != self.sample_rate {
            return Err(Error::invalid(format!(
                "audio is {} Hz but the pipeline expects {} Hz",
                wav.sample_rate, self.sample_rate
            )));
        }
        if let Some(i) = first_non_finite_sample(&wav.samples) {
            return Err(Error::invalid(format!(
                "audio sample {i} is {}; samples must be finite",
                wav.samples[i]
            )));
        }
        let n = wav.samples.len();
        let num_frames = self.geometry.num_frames(n);
        if num_frames == 0 {
            return Err(Error::invalid(format!(
                "audio has {n} samples, shorter than one frame ({} samples)",
                self.geometry.length
            )));
        }
        Ok(num_frames)
    }

    /// The dither generator for `seed`; frames draw from it in order, so a stream that frames the
    /// same signal in the same order (the online extractor) draws the same noise.
    pub fn dither_rng(seed: u64) -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(seed)
    }

    /// Frames `range` of a signal `total` samples long of which `samples` holds the part from
    /// sample `offset` on, into the rows of `out` (`range.len()` rows of
    /// [`dim`](Self::dim) values, standard layout), and their log energies into `energy` when
    /// a later stage asked for them (else `energy` is left as it is). The offline path passes
    /// the whole signal; the online extractor passes what it still keeps, which must cover every
    /// sample (edge reflections included) of the frames asked for: an error otherwise.
    ///
    /// Kaldi's `ProcessWindow` on every frame: dither, DC removal, log energy, pre-emphasis,
    /// window. Each frame's sums run in the frame's own order (so the values are those of one
    /// frame at a time, bit for bit), [`LANES`] frames side by side: the additions of one frame
    /// wait for each other, those of different frames do not.
    #[allow(clippy::too_many_arguments)]
    pub fn frames_into(
        &self,
        samples: &[f32],
        offset: usize,
        total: usize,
        range: std::ops::Range<usize>,
        rng: &mut ChaCha8Rng,
        mut out: ArrayViewMut2<f32>,
        energy: Option<&mut [f32]>,
        scratch: &mut FramingScratch,
    ) -> Result<()> {
        let len = self.geometry.length;
        let n = range.len();
        let data = out
            .as_slice_mut()
            .expect("a standard-layout block of frames");
        let data = &mut data[..n * len];
        for (i, row) in data.chunks_exact_mut(len).enumerate() {
            self.extract(samples, offset, total, range.start + i, row)?;
            if self.opts.dither > 0.0 {
                for v in row.iter_mut() {
                    let g: f32 = StandardNormal.sample(rng);
                    *v += self.opts.dither * g;
                }
            }
        }
        if self.opts.remove_dc_offset {
            scratch.means.resize(n.max(scratch.means.len()), 0.0);
            let sums = &mut scratch.means[..n];
            row_sums(data, len, -0.0f64, |v| v as f64, sums);
            for (row, &sum) in data.chunks_exact_mut(len).zip(sums.iter()) {
                let mean = (sum / len as f64) as f32;
                row.iter_mut().for_each(|v| *v -= mean);
            }
        }
        let mut energy = energy.map(|e| &mut e[..n]);
        if let (EnergyMode::Raw, Some(e)) = (self.energy, energy.as_deref_mut()) {
            log_energies(data, len, e);
        }
        let k = self.opts.preemph_coeff;
        let frame = &mut scratch.frame;
        for row in data.chunks_exact_mut(len) {
            if k != 0.0 {
                // x[i] - k x[i-1] from the end (each x[i-1] still unchanged), x[0] - k x[0],
                // then the window: one pass from a copy.
                frame.copy_from_slice(row);
                row[0] = (frame[0] - k * frame[0]) * self.window[0];
                for (((o, &x), &prev), &w) in row[1..]
                    .iter_mut()
                    .zip(&frame[1..])
                    .zip(&frame[..len - 1])
                    .zip(&self.window[1..])
                {
                    *o = (x - k * prev) * w;
                }
            } else {
                row.iter_mut().zip(&self.window).for_each(|(v, &w)| *v *= w);
            }
        }
        if let (EnergyMode::Windowed, Some(e)) = (self.energy, energy) {
            log_energies(data, len, e);
        }
        Ok(())
    }

    /// Copy frame `f`'s samples, reflecting at the edges when frames overhang (snip_edges = false).
    /// `samples` starts at sample `offset` of a signal `total` samples long.
    fn extract(
        &self,
        samples: &[f32],
        offset: usize,
        total: usize,
        f: usize,
        out: &mut [f32],
    ) -> Result<()> {
        let (n, offset) = (total as i64, offset as i64);
        let start = self.geometry.first_sample(f);
        let end = offset + samples.len() as i64;
        if start >= offset && start + out.len() as i64 <= end {
            let from = (start - offset) as usize;
            out.copy_from_slice(&samples[from..from + out.len()]);
            return Ok(());
        }
        for (i, o) in out.iter_mut().enumerate() {
            let mut s = start + i as i64;
            // Kaldi reflects without repeating the edge sample, and repeats for tiny signals.
            while s < 0 || s >= n {
                s = if s < 0 { -s - 1 } else { 2 * n - 1 - s };
            }
            if s < offset || s >= end {
                return Err(Error::invalid(format!(
                    "frame {f} needs sample {s}, but only samples {offset}..{end} are kept"
                )));
            }
            *o = samples[(s - offset) as usize];
        }
        Ok(())
    }
}

/// Working buffers of [`Framing::frames_into`].
#[derive(Debug, Clone)]
pub struct FramingScratch {
    /// One frame before pre-emphasis.
    frame: Vec<f32>,
    /// Each frame's sum for DC removal.
    means: Vec<f64>,
}

/// Frames whose sums are computed side by side.
pub const LANES: usize = 8;

/// For each row of `rows` (row-major, `len` values each), the sum of `f(v)` over the row from
/// -0.0 in the row's order: what `row.iter().map(f).sum()` gives, bit for bit. [`LANES`] rows
/// are summed side by side, so their additions overlap in the processor.
fn row_sums<A: Copy + std::ops::Add<Output = A>>(
    rows: &[f32],
    len: usize,
    zero: A,
    f: impl Fn(f32) -> A,
    out: &mut [A],
) {
    for (group, sums) in rows.chunks(LANES * len).zip(out.chunks_mut(LANES)) {
        if sums.len() == LANES {
            let lanes: [&[f32]; LANES] = std::array::from_fn(|j| &group[j * len..(j + 1) * len]);
            let mut acc = [zero; LANES];
            for i in 0..len {
                for (a, lane) in acc.iter_mut().zip(&lanes) {
                    *a = *a + f(lane[i]);
                }
            }
            sums.copy_from_slice(&acc);
        } else {
            for (sum, row) in sums.iter_mut().zip(group.chunks_exact(len)) {
                *sum = row.iter().fold(zero, |a, &v| a + f(v));
            }
        }
    }
}

/// The floored log energy of each row into `out`.
fn log_energies(rows: &[f32], len: usize, out: &mut [f32]) {
    row_sums(rows, len, -0.0f32, |v| v * v, out);
    for e in out.iter_mut() {
        *e = e.max(ENERGY_EPSILON).ln();
    }
}

/// Index of the first NaN or infinity in `samples` (or any values), looked for a chunk at a time (a check
/// that vectorises) and then within the chunk that has one.
pub fn first_non_finite_sample(samples: &[f32]) -> Option<usize> {
    const CHUNK: usize = 256;
    samples
        .chunks(CHUNK)
        .enumerate()
        .find(|(_, c)| !c.iter().fold(true, |ok, v| ok & v.is_finite()))
        .and_then(|(k, c)| c.iter().position(|v| !v.is_finite()).map(|i| k * CHUNK + i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaldi_frame_counts() {
        let g = FrameGeometry::from_ms(16000, 25.0, 10.0, true);
        assert_eq!((g.length, g.shift), (400, 160));
        assert_eq!(g.num_frames(399), 0);
        assert_eq!(g.num_frames(400), 1);
        // 4800 samples: 1 + (4800 - 400) / 160 = 28
        assert_eq!(g.num_frames(4800), 28);
        let g = FrameGeometry {
            snip_edges: false,
            ..g
        };
        // (n + shift/2) / shift
        assert_eq!(g.num_frames(4800), 30);
        assert_eq!(g.first_sample(0), 80 - 200);
        assert_eq!(g.centre(0), 80.0);
    }

    #[test]
    fn povey_window_is_hann_to_the_085() {
        let w = WindowType::Povey.coefficients(400, 0.42);
        let h = WindowType::Hann.coefficients(400, 0.42);
        assert_eq!(w[0], 0.0);
        for i in [1, 100, 199, 399] {
            assert!((w[i] - h[i].powf(0.85)).abs() < 1e-6);
        }
    }

    #[test]
    fn preemphasis_and_dc_removal_by_hand() {
        let opts = FramingOptions {
            frame_length_ms: 0.25, // 4 samples at 16 kHz
            frame_shift_ms: 0.25,
            window: WindowType::Rectangular,
            ..Default::default()
        };
        let framing = Framing::new(&opts, 16000, EnergyMode::Raw).unwrap();
        let wav = Waveform {
            samples: vec![1.0, 2.0, 3.0, 6.0],
            sample_rate: 16000,
        };
        let out = framing.process(&wav, 0).unwrap();
        // mean 3 -> [-2, -1, 0, 3]; energy 14; pre-emphasis from the end, x0 -= 0.97 x0
        let want = [-2.0 + 0.97 * 2.0, -1.0 + 0.97 * 2.0, 0.0 + 0.97, 3.0];
        for (a, b) in out.data.row(0).iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        assert!((out.log_energy.unwrap()[0] - 14f32.ln()).abs() < 1e-6);
    }
}
