//! Mel filter bank (Kaldi's `MelBanks`): triangles equally spaced on a mel scale, applied to the
//! spectrogram. Each triangle touches only a few bins, so weights are stored as (first bin, run of
//! weights) and applied as short dot products: ~10x fewer operations than a dense matrix product.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use super::{Stage, StageKind, StageScratch};
use crate::error::{Error, Result};
use crate::options;

/// Mel scales. Kaldi's 1127 ln(1 + f/700) and HTK's 2595 log10(1 + f/700) are the same curve;
/// Slaney's (librosa default) is linear below 1 kHz and logarithmic above.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelScale {
    /// mel = 1127 ln(1 + f / 700) (Kaldi).
    Kaldi,
    /// mel = 2595 log10(1 + f / 700) (HTK; the same curve as Kaldi's).
    Htk,
    /// Slaney's (librosa default): linear below 1 kHz, logarithmic above.
    Slaney,
}

impl MelScale {
    /// Hz to mel, in f32 as Kaldi computes it.
    pub fn mel(self, hz: f32) -> f32 {
        match self {
            MelScale::Kaldi => 1127.0 * (1.0 + hz / 700.0).ln(),
            MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
            MelScale::Slaney => {
                let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
                let logstep = 6.4f32.ln() / 27.0;
                if hz < min_log_hz {
                    hz / f_sp
                } else {
                    min_log_hz / f_sp + (hz / min_log_hz).ln() / logstep
                }
            }
        }
    }

    /// Mel to Hz (inverse of [`MelScale::mel`]).
    pub fn hz(self, mel: f32) -> f32 {
        match self {
            MelScale::Kaldi => 700.0 * ((mel / 1127.0).exp() - 1.0),
            MelScale::Htk => 700.0 * (10f32.powf(mel / 2595.0) - 1.0),
            MelScale::Slaney => {
                let (f_sp, min_log_hz) = (200.0 / 3.0, 1000.0);
                let min_log_mel = min_log_hz / f_sp;
                let logstep = 6.4f32.ln() / 27.0;
                if mel < min_log_mel {
                    mel * f_sp
                } else {
                    min_log_hz * ((mel - min_log_mel) * logstep).exp()
                }
            }
        }
    }
}

/// Triangle normalisation: none (Kaldi, HTK: peak 1) or Slaney (area 1: 2 / bandwidth in Hz).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MelNorm {
    /// Triangles of peak 1 (Kaldi, HTK).
    None,
    /// Triangles of area 1: height 2 / bandwidth in Hz (Slaney, librosa's `norm="slaney"`).
    Slaney,
}

options! {
    /// Mel filter bank.
    pub struct FilterbankOptions {
        /// Number of triangular mel bins, 1 to the number of DFT bins (each must cover one).
        num_bins: usize = 23,
        /// Lower edge of the first triangle, Hz (0 <= low_freq < high_freq).
        low_freq: f32 = 20.0,
        /// Upper edge of the last triangle, Hz, at most Nyquist; 0 or negative is an offset from Nyquist (Kaldi).
        high_freq: f32 = 0.0,
        /// Mel scale: kaldi, htk or slaney.
        scale: MelScale = MelScale::Kaldi,
        /// Triangle normalisation: none (peak 1) or slaney (area 1).
        norm: MelNorm = MelNorm::None,
    }
}

/// Built filter bank for one sample rate and FFT size.
#[derive(Debug, Clone)]
pub struct Filterbank {
    /// Per mel bin: index of its first spectrogram bin and the weights from there on.
    bins: Vec<(usize, Vec<f32>)>,
    input_dim: usize,
    /// Centre frequency of each triangle, Hz.
    pub centres_hz: Vec<f32>,
}

impl Filterbank {
    /// `spectrogram_dim` = N/2 + 1 for an N-point DFT.
    pub fn new(opts: &FilterbankOptions, sample_rate: u32, spectrogram_dim: usize) -> Result<Self> {
        let fft_length = 2 * (spectrogram_dim - 1);
        let nyquist = 0.5 * sample_rate as f32;
        let low = opts.low_freq;
        let high = if opts.high_freq > 0.0 {
            opts.high_freq
        } else {
            nyquist + opts.high_freq
        };
        if !(low >= 0.0 && high <= nyquist && low < high) {
            return Err(Error::invalid(format!(
                "filterbank needs 0 <= low_freq < high_freq <= Nyquist ({nyquist} Hz); got low_freq {} high_freq {} (resolved to {high})",
                opts.low_freq, opts.high_freq
            )));
        }
        // Each mel bin must cover a DFT bin, so there can be no more of them (checked before any
        // table is sized by num_bins).
        if opts.num_bins < 1 || opts.num_bins > spectrogram_dim {
            return Err(Error::invalid(format!(
                "filterbank num_bins must be between 1 and the {spectrogram_dim} DFT bins, got {}",
                opts.num_bins
            )));
        }
        let scale = opts.scale;
        let bin_width = sample_rate as f32 / fft_length as f32;
        let (mel_low, mel_high) = (scale.mel(low), scale.mel(high));
        let delta = (mel_high - mel_low) / (opts.num_bins + 1) as f32;
        let mut bins = Vec::with_capacity(opts.num_bins);
        let mut centres_hz = Vec::with_capacity(opts.num_bins);
        for b in 0..opts.num_bins {
            let left = mel_low + b as f32 * delta;
            let centre = mel_low + (b + 1) as f32 * delta;
            let right = mel_low + (b + 2) as f32 * delta;
            centres_hz.push(scale.hz(centre));
            let area_norm = match opts.norm {
                MelNorm::None => 1.0,
                MelNorm::Slaney => 2.0 / (scale.hz(right) - scale.hz(left)),
            };
            let mut first = None;
            let mut weights = Vec::new();
            for i in 0..spectrogram_dim {
                let mel = scale.mel(bin_width * i as f32);
                if mel > left && mel < right {
                    let w = if mel <= centre {
                        (mel - left) / (centre - left)
                    } else {
                        (right - mel) / (right - centre)
                    };
                    first.get_or_insert(i);
                    weights.push(w * area_norm);
                }
            }
            let Some(first) = first else {
                return Err(Error::invalid(format!(
                    "mel bin {b} of {} covers no DFT bin ({} bins of {bin_width} Hz): use fewer bins or a longer frame",
                    opts.num_bins, spectrogram_dim
                )));
            };
            bins.push((first, weights));
        }
        Ok(Filterbank {
            bins,
            input_dim: spectrogram_dim,
            centres_hz,
        })
    }

    /// The weights as a dense (spectrogram bins x mel bins) matrix, for plots and tests.
    pub fn dense(&self) -> Array2<f32> {
        let mut m = Array2::zeros((self.input_dim, self.bins.len()));
        for (b, (first, w)) in self.bins.iter().enumerate() {
            for (k, &v) in w.iter().enumerate() {
                m[[first + k, b]] = v;
            }
        }
        m
    }
}

impl Stage for Filterbank {
    fn kind(&self) -> StageKind {
        StageKind::Filterbank
    }

    fn dim(&self) -> usize {
        self.bins.len()
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
            for (o, (first, w)) in o.iter_mut().zip(&self.bins) {
                *o = w.iter().zip(&row[*first..]).map(|(a, b)| a * b).sum();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::Frames;

    #[test]
    fn kaldi_and_htk_mel_agree_and_invert() {
        for hz in [0.0f32, 300.0, 1000.0, 4000.0, 8000.0] {
            let (k, h) = (MelScale::Kaldi.mel(hz), MelScale::Htk.mel(hz));
            assert!((k - h).abs() < 0.02 * (1.0 + k), "{hz}: {k} vs {h}");
            for s in [MelScale::Kaldi, MelScale::Htk, MelScale::Slaney] {
                assert!((s.hz(s.mel(hz)) - hz).abs() < 0.05);
            }
        }
        // 1000 Hz is 1000 mel on the HTK curve by construction (to 0.1 %), and 15 on Slaney's.
        assert!((MelScale::Htk.mel(1000.0) - 1000.0).abs() < 1.0);
        assert!((MelScale::Slaney.mel(1000.0) - 15.0).abs() < 1e-4);
    }

    #[test]
    fn pure_tone_lands_in_its_mel_bin() {
        // 23 Kaldi bins from 20 Hz to 8 kHz on a 512-point DFT at 16 kHz: a 1 kHz tone (DFT bin 32)
        // peaks in the bin whose centre is nearest 1 kHz on the mel scale.
        let fb = Filterbank::new(&FilterbankOptions::default(), 16000, 257).unwrap();
        let mut spec = Array2::<f32>::zeros((1, 257));
        spec[[0, 32]] = 1.0;
        let out = fb.process(Frames {
            data: spec,
            log_energy: None,
        });
        let peak = (0..23)
            .max_by(|&a, &b| out.data[[0, a]].total_cmp(&out.data[[0, b]]))
            .unwrap();
        let nearest = (0..23)
            .min_by(|&a, &b| {
                let d = |i: usize| {
                    (MelScale::Kaldi.mel(fb.centres_hz[i]) - MelScale::Kaldi.mel(1000.0)).abs()
                };
                d(a).total_cmp(&d(b))
            })
            .unwrap();
        assert_eq!(peak, nearest);
        // mel(20) = 31.75, mel(8000) = 2840.0, spacing 117.01 mel. Centre of bin 7 = 31.75 + 8 * 117.01
        // = 967.8 mel (952 Hz), bin 8 = 1084.8 mel (1133 Hz); 1000 Hz is 1000.0 mel, so it sits on
        // bin 7's falling edge with weight (1084.8 - 1000.0) / 117.01 = 0.725, and bin 8 gets 0.275.
        assert_eq!(peak, 7);
        assert!(
            (out.data[[0, 7]] - 0.725).abs() < 2e-3,
            "{}",
            out.data[[0, 7]]
        );
        assert!(
            (out.data[[0, 8]] - 0.275).abs() < 2e-3,
            "{}",
            out.data[[0, 8]]
        );
    }

    #[test]
    fn triangles_partition_unity_between_centres() {
        let fb = Filterbank::new(&FilterbankOptions::default(), 16000, 257).unwrap();
        let dense = fb.dense();
        // Between the first and last centres every DFT bin's weights sum to 1 (adjacent triangles overlap).
        let first = (fb.centres_hz[0] / 31.25).ceil() as usize;
        let last = (fb.centres_hz[22] / 31.25).floor() as usize;
        for i in first..=last {
            let s: f32 = dense.row(i).sum();
            assert!((s - 1.0).abs() < 1e-4, "bin {i}: {s}");
        }
    }

    #[test]
    fn too_many_bins_is_an_error() {
        let fb = |num_bins| {
            Filterbank::new(
                &FilterbankOptions {
                    num_bins,
                    ..Default::default()
                },
                8000,
                129,
            )
        };
        let err = fb(100).unwrap_err();
        assert!(err.to_string().contains("covers no DFT bin"), "{err}");
        // More mel bins than DFT bins is refused before anything is sized by the count.
        let err = fb(usize::MAX).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "filterbank num_bins must be between 1 and the 129 DFT bins, got {}",
                usize::MAX
            )
        );
    }
}
