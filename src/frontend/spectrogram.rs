//! Spectrogram: power |X|^2 (Kaldi default) or magnitude |X| of each DFT bin.

use ndarray::{ArrayView2, ArrayViewMut2};

use super::{Stage, StageKind, StageScratch};
use crate::options;

options! {
    /// Power or magnitude spectrum.
    pub struct SpectrogramOptions {
        /// Power spectrum |X|^2 (true) or magnitude |X| (false).
        power: bool = true,
    }
}

/// The spectrogram stage: |X|^2 (or |X|) of each of the N/2 + 1 DFT bins.
#[derive(Debug, Clone)]
pub struct Spectrogram {
    power: bool,
    bins: usize,
}

impl Spectrogram {
    /// `dft_dim` is the DFT stage's output width (2 * bins).
    pub fn new(opts: &SpectrogramOptions, dft_dim: usize) -> Self {
        Spectrogram {
            power: opts.power,
            bins: dft_dim / 2,
        }
    }
}

/// |X|^2 (`power`) or |X| of the bin whose real and imaginary parts are `re` and `im`.
#[inline]
pub fn spectrum_value(re: f32, im: f32, power: bool) -> f32 {
    let p = re * re + im * im;
    if power { p } else { p.sqrt() }
}

impl Stage for Spectrogram {
    fn kind(&self) -> StageKind {
        StageKind::Spectrogram
    }

    fn dim(&self) -> usize {
        self.bins
    }

    fn spectrum_of_dft(&self) -> Option<bool> {
        Some(self.power)
    }

    fn process_into(
        &self,
        input: ArrayView2<f32>,
        _energy: Option<&[f32]>,
        mut output: ArrayViewMut2<f32>,
        _scratch: &mut StageScratch,
    ) {
        for (row, mut o) in input.outer_iter().zip(output.outer_iter_mut()) {
            let row = row.as_slice().expect("contiguous rows");
            let (re, im) = row.split_at(self.bins);
            for ((o, &r), &i) in o.iter_mut().zip(re).zip(im) {
                *o = spectrum_value(r, i, self.power);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::Frames;

    #[test]
    fn power_and_magnitude_of_3_4i() {
        let x = ndarray::array![[3.0f32, 0.0, 4.0, 0.0]];
        let frames = || Frames {
            data: x.clone(),
            log_energy: None,
        };
        let p = Spectrogram::new(&SpectrogramOptions { power: true }, 4).process(frames());
        let m = Spectrogram::new(&SpectrogramOptions { power: false }, 4).process(frames());
        assert_eq!(p.data, ndarray::array![[25.0f32, 0.0]]);
        assert_eq!(m.data, ndarray::array![[5.0f32, 0.0]]);
    }
}
