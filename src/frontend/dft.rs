//! DFT: real FFT of each frame, zero-padded to a power of two (Kaldi's `round_to_power_of_two`).
//! Output row: real parts of bins 0..=N/2, then imaginary parts of bins 0..=N/2.

use std::sync::Arc;

use ndarray::{ArrayView2, ArrayViewMut2};
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use super::spectrogram::spectrum_value;
use super::{Stage, StageKind, StageScratch};
use crate::error::{Error, Result};
use crate::options;

options! {
    /// Discrete Fourier transform of each frame.
    pub struct DftOptions {
        /// Zero-pad each frame to the next power of two (Kaldi default); else use the frame length.
        round_to_power_of_two: bool = true,
    }
}

/// The FFT plan is made once per chain and shared by every utterance and thread.
pub struct Dft {
    fft: Arc<dyn RealToComplex<f64>>,
    frame_length: usize,
    fft_length: usize,
}

impl std::fmt::Debug for Dft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Dft({} -> {})", self.frame_length, self.fft_length)
    }
}

impl Dft {
    /// Plan the FFT for frames of `frame_length` samples (padded to a power of two if asked).
    pub fn new(opts: &DftOptions, frame_length: usize) -> Result<Self> {
        if frame_length == 0 {
            return Err(Error::invalid("dft needs frames of at least one sample"));
        }
        let fft_length = if opts.round_to_power_of_two {
            frame_length.next_power_of_two()
        } else {
            frame_length
        };
        if fft_length % 2 != 0 {
            return Err(Error::invalid(format!(
                "dft without round_to_power_of_two needs an even frame length, got {frame_length}"
            )));
        }
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(fft_length);
        Ok(Dft {
            fft,
            frame_length,
            fft_length,
        })
    }

    /// Length of the (padded) transform, N.
    pub fn fft_length(&self) -> usize {
        self.fft_length
    }

    /// Number of non-redundant bins, N/2 + 1.
    pub fn num_bins(&self) -> usize {
        self.fft_length / 2 + 1
    }
}

impl Stage for Dft {
    fn kind(&self) -> StageKind {
        StageKind::Dft
    }

    fn dim(&self) -> usize {
        2 * self.num_bins()
    }

    fn process_into(
        &self,
        input: ArrayView2<f32>,
        _energy: Option<&[f32]>,
        mut output: ArrayViewMut2<f32>,
        scratch: &mut StageScratch,
    ) {
        let bins = self.num_bins();
        self.each_spectrum(input, &mut output, scratch, |spec, row| {
            let (re, im) = row.split_at_mut(bins);
            for ((r, i), c) in re.iter_mut().zip(im.iter_mut()).zip(spec) {
                *r = c.re as f32;
                *i = c.im as f32;
            }
        });
    }

    fn fuses_spectrum(&self) -> bool {
        true
    }

    fn fused_spectrum_into(
        &self,
        input: ArrayView2<f32>,
        power: bool,
        mut output: ArrayViewMut2<f32>,
        scratch: &mut StageScratch,
    ) {
        // The spectrogram of the rows `process_into` would give, without writing them out.
        self.each_spectrum(input, &mut output, scratch, |spec, row| {
            for (o, c) in row.iter_mut().zip(spec) {
                *o = spectrum_value(c.re as f32, c.im as f32, power);
            }
        });
    }
}

impl Dft {
    /// Transform each frame of `input` and let `write` fill the matching row of `out` from its
    /// bins 0..=N/2. The transform's input, output and scratch live in `scratch`: sized on first
    /// use, then reused for every frame of every block.
    fn each_spectrum(
        &self,
        input: ArrayView2<f32>,
        out: &mut ArrayViewMut2<f32>,
        scratch: &mut StageScratch,
        mut write: impl FnMut(&[Complex<f64>], &mut [f32]),
    ) {
        let bins = self.num_bins();
        let complex_len = bins + self.fft.get_scratch_len();
        scratch.real.resize(self.fft_length, 0.0);
        scratch.complex.resize(complex_len, Complex::new(0.0, 0.0));
        let buf = &mut scratch.real[..self.fft_length];
        let (spec, fft_scratch) = scratch.complex[..complex_len].split_at_mut(bins);
        for (frame, mut row) in input.outer_iter().zip(out.outer_iter_mut()) {
            let frame = frame.as_slice().expect("contiguous rows");
            for (b, &x) in buf.iter_mut().zip(frame) {
                *b = x as f64;
            }
            buf[self.frame_length..].fill(0.0);
            self.fft
                .process_with_scratch(buf, spec, fft_scratch)
                .expect("buffer sizes match the plan");
            write(spec, row.as_slice_mut().expect("contiguous rows"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::Frames;
    use ndarray::Array2;

    #[test]
    fn pure_tone_lands_in_its_bin() {
        // 1 kHz at 16 kHz with N = 512: bin 1000 / (16000 / 512) = 32.
        let dft = Dft::new(&DftOptions::default(), 512).unwrap();
        let x = Array2::from_shape_fn((1, 512), |(_, i)| {
            (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 16000.0).cos()
        });
        let out = dft.process(Frames {
            data: x,
            log_energy: None,
        });
        let bins = dft.num_bins();
        let power: Vec<f32> = (0..bins)
            .map(|k| out.data[[0, k]].powi(2) + out.data[[0, bins + k]].powi(2))
            .collect();
        let peak = (0..bins)
            .max_by(|&a, &b| power[a].total_cmp(&power[b]))
            .unwrap();
        assert_eq!(peak, 32);
        // A cosine of amplitude 1 over N samples puts N/2 in its bin.
        assert!((power[32].sqrt() - 256.0).abs() < 1e-2);
    }

    #[test]
    fn pads_400_to_512() {
        let dft = Dft::new(&DftOptions::default(), 400).unwrap();
        assert_eq!((dft.fft_length(), dft.dim()), (512, 514));
    }
}
