//! Framing (Kaldi's `FrameExtractionOptions` / `ExtractWindow`): cut the signal into overlapping
//! frames, then per frame: dither, DC removal, log energy, pre-emphasis, window.
//! The output stage is called `waveform`: framed samples, `frame_length` columns.

use super::Frames;
use crate::audio::Waveform;
use crate::error::Result;

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

#[derive(Debug)]
pub struct Framing;
impl Framing {
    pub fn dim(&self) -> usize {
        unimplemented!()
    }
    pub fn process(&self, _wav: &Waveform, _seed: u64) -> Result<Frames> {
        unimplemented!()
    }
}
