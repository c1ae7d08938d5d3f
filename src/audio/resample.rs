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

/// Rates (Hz) resampling accepts, at either end. Exact alignment prepends up to one input sample
/// per unit of the ratio's reduced denominator (at most the source rate: 4 294 967 291 Hz, a
/// prime, would mean 17 GB of zeros), and the output grows with the ratio (at most 1000 here).
pub const RESAMPLE_RATES: std::ops::RangeInclusive<u32> = 1000..=1_000_000;

/// Length of `len` samples at `from` Hz once resampled to `to` Hz: `ceil(len * to / from)`.
pub fn resampled_len(len: u64, from: u32, to: u32) -> u64 {
    (len * u64::from(to)).div_ceil(u64::from(from).max(1))
}

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
    if !(RESAMPLE_RATES.contains(&from) && RESAMPLE_RATES.contains(&to)) {
        return Err(Error::format(
            path,
            format!(
                "cannot resample from {from} Hz to {to} Hz: resampling supports rates from {} \
                 to {} Hz",
                RESAMPLE_RATES.start(),
                RESAMPLE_RATES.end()
            ),
        ));
    }
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
    // half + pad is the first multiple of q at or above half; each further q adds p to skip,
    // and one step at most is needed (skip >= floor(half p / q) - delay - 1 = -1).
    let skip_for = |pad: u64| ((half + pad) / q * p) as i64 - delay as i64 - 1;
    let mut pad = (q - half % q) % q;
    while skip_for(pad) < 0 {
        pad += q;
    }
    let skip = skip_for(pad);
    let mut padded = vec![0f32; pad as usize + samples.len()];
    padded[pad as usize..].copy_from_slice(samples);

    let input = SequentialSlice::new(&padded[..], 1, padded.len()).map_err(|e| fail(&e))?;
    let output = resampler
        .process_all(&input, padded.len(), None)
        .map_err(|e| fail(&e))?;
    let want = resampled_len(samples.len() as u64, from, to) as usize;
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
    fn absurd_rates_are_refused_before_any_work() {
        // 4294967291 Hz is prime: exact alignment would prepend 4.3e9 zeros.
        let e = resample(Path::new("p.wav"), &[0.0; 10], 4_294_967_291, 16000)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "p.wav: cannot resample from 4294967291 Hz to 16000 Hz: resampling supports rates \
             from 1000 to 1000000 Hz"
        );
        assert!(resample(Path::new("p.wav"), &[0.0; 10], 999, 16000).is_err());
        // The largest prime rate accepted works, and keeps the length rule.
        let y = resample(Path::new("p.wav"), &[1.0; 3000], 999_983, 16000).unwrap();
        assert_eq!(y.len(), (3000u64 * 16000).div_ceil(999_983) as usize);
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
