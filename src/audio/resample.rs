//! Sample-rate conversion on request, with rubato's band-limited sinc interpolator.
//!
//! A corpus recorded at another rate must be brought to the rate the models were trained at
//! (TIMIT is 16 kHz). Sinc interpolation with a long Blackman-Harris-windowed kernel keeps the
//! pass band flat almost up to the new Nyquist frequency and suppresses what lies above it (no
//! aliasing when downsampling). The result is deterministic: a fixed ratio, no dither.

use std::path::Path;

use rubato::audioadapter_buffers::direct::SequentialSlice;
use rubato::{
    Async, FixedAsync, Resampler, SincInterpolationParameters, SincInterpolationType,
    WindowFunction,
};

use crate::error::{Error, Result};

/// Kernel length in input samples; 256 is rubato's high-quality setting.
const SINC_LEN: usize = 256;
/// Table resolution between input samples; finer tables lower the interpolation error.
const OVERSAMPLING: usize = 256;
/// Input block size; only affects speed, not the result.
const CHUNK: usize = 4096;

/// Resample a mono signal from `from` Hz to `to` Hz. The output has `ceil(len * to / from)`
/// samples and is aligned with the input: output sample `n` is the signal at time `n / to`
/// seconds, so that sample-indexed labels (TIMIT's .phn) stay valid after scaling.
pub(super) fn resample(path: &Path, samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    let fail = |e: &dyn std::fmt::Display| {
        Error::format(
            path,
            format!("resampling from {from} Hz to {to} Hz failed: {e}"),
        )
    };
    let params = SincInterpolationParameters::new(SINC_LEN, WindowFunction::BlackmanHarris2)
        .oversampling_factor(OVERSAMPLING)
        .interpolation(SincInterpolationType::Cubic);
    let ratio = f64::from(to) / f64::from(from);
    let mut resampler = Async::<f32>::new_sinc(ratio, 1.0, &params, CHUNK, 1, FixedAsync::Input)
        .map_err(|e| fail(&e))?;

    // rubato's `process_all` drops `output_delay()` = floor(SINC_LEN/2 * ratio) output samples,
    // but its first raw output sample lies one output step after the input start (the position
    // is advanced before each sample is computed), so raw output j is the input at time
    // (j + 1) / ratio - SINC_LEN/2 input samples. Left as is, the result would lead the input by
    // up to one output sample, by a fraction that depends on the rates. Prepending `pad` zeros
    // and dropping `skip` outputs makes the alignment exact:
    // (skip + delay + 1) / ratio = SINC_LEN/2 + pad, with `pad` chosen to make `skip` integral.
    let (p, q) = reduced(to, from);
    let delay = resampler.output_delay() as u64;
    let half = (SINC_LEN / 2) as u64;
    let (pad, skip) = (0..)
        .map(|pad: u64| (pad, half + pad))
        .filter(|&(_, t)| t % q == 0)
        .map(|(pad, t)| (pad, (t / q * p) as i64 - delay as i64 - 1))
        .find(|&(_, skip)| skip >= 0)
        .expect("some multiple of q gives a non-negative skip");
    let mut padded = vec![0f32; pad as usize + samples.len()];
    padded[pad as usize..].copy_from_slice(samples);

    let input = SequentialSlice::new(&padded[..], 1, padded.len()).map_err(|e| fail(&e))?;
    let output = resampler
        .process_all(&input, padded.len(), None)
        .map_err(|e| fail(&e))?;
    let want = (samples.len() as u64 * p).div_ceil(q) as usize;
    let mut out = output.take_data();
    let skip = skip as usize;
    if out.len() < skip + want {
        return Err(fail(&format!(
            "{} samples came back where {} were expected",
            out.len(),
            skip + want
        )));
    }
    out.drain(..skip);
    out.truncate(want);
    Ok(out)
}

/// `a / b` in lowest terms.
fn reduced(a: u32, b: u32) -> (u64, u64) {
    let (mut x, mut y) = (u64::from(a), u64::from(b));
    while y != 0 {
        (x, y) = (y, x % y);
    }
    (u64::from(a) / x, u64::from(b) / x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_reduce_to_lowest_terms() {
        assert_eq!(reduced(16000, 44100), (160, 441));
        assert_eq!(reduced(16000, 8000), (2, 1));
        assert_eq!(reduced(16001, 16000), (16001, 16000));
    }

    #[test]
    fn an_impulse_stays_where_it_was() {
        // A unit impulse at 37.5 ms must peak at 37.5 ms in the output, for rates whose filter
        // delay is integral (8k -> 16k) and fractional (48k -> 16k, 16k -> 44.1k).
        for (from, to) in [(8000, 16000), (48000, 16000), (16000, 8000), (16000, 44100)] {
            let at = |rate: usize| (rate * 375 + 5000) / 10000; // nearest sample
            let mut x = vec![0f32; from / 5];
            x[at(from)] = 1.0;
            let y = resample(Path::new("t"), &x, from as u32, to as u32).unwrap();
            let peak = (0..y.len()).max_by(|&a, &b| y[a].total_cmp(&y[b])).unwrap();
            assert_eq!(peak, at(to), "{from} -> {to}");
            assert_eq!(y.len(), (x.len() * to).div_ceil(from));
        }
    }
}
