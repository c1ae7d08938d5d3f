//! Reading audio: RIFF WAV (hound), NIST SPHERE (TIMIT), FLAC (claxon).
//!
//! The format is chosen by the first bytes of the file, never by its extension: TIMIT ships NIST
//! SPHERE files named `.wav`, and converted copies of it are RIFF files with the same name.
//!
//! # Sample scale
//!
//! Samples come back as f32 in the 16-bit integer range, the scale Kaldi computes features on (its
//! energy floor and dither amplitude assume it). Every format maps onto that range the same way,
//! by a power of two, so that no information is lost and 16-bit audio is passed through exactly:
//!
//! | stored as                        | value returned        |
//! |----------------------------------|-----------------------|
//! | 16-bit integer                   | unchanged             |
//! | 8-bit unsigned (WAV)             | (v - 128) * 256       |
//! | 8-bit signed (FLAC)              | v * 256               |
//! | 24-bit integer                   | v / 256               |
//! | 32-bit integer                   | v / 65536             |
//! | other integer depths b (FLAC)    | v * 2^(16 - b)        |
//! | 32-bit float WAV (full scale ±1) | v * 32768             |
//! | SPHERE mu-law / A-law            | G.711 16-bit linear   |
//!
//! A full-scale 16-bit sample is therefore 32767.0 whatever the file's depth.

mod flac;
mod pcm;
mod resample;
mod sphere;
mod wav;

use std::path::Path;

use crate::error::{Error, Result};

/// A mono signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// Samples in 16-bit integer scale (see the module documentation).
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

impl Waveform {
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// How to turn a file into a [`Waveform`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// Channel to take from multi-channel audio; `None` means the file must be mono.
    pub channel: Option<usize>,
    /// Sample rate the caller needs; `None` accepts any.
    pub sample_rate: Option<u32>,
    /// Resample to `sample_rate` instead of failing when the file has another rate.
    pub resample: bool,
}

/// The container formats [`read`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Wav,
    Sphere,
    Flac,
}

/// What to tell a user whose file is none of the supported formats.
pub const SUPPORTED: &str = "supported formats are RIFF WAVE (PCM 8/16/24/32-bit, 32-bit float), \
NIST SPHERE (PCM, mu-law, A-law) and FLAC";

/// The format of a file, from its magic bytes.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
        Some(Format::Wav)
    } else if bytes.starts_with(b"NIST_1A") {
        Some(Format::Sphere)
    } else if bytes.starts_with(b"fLaC") {
        Some(Format::Flac)
    } else {
        None
    }
}

/// Read an audio file, choosing the format by its content (not its extension).
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Waveform> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(path, &bytes, opts)
}

/// Decode an audio file already in memory (an embedded corpus, a network buffer). `path` is used
/// only to name the source in error messages.
pub fn decode(path: &Path, bytes: &[u8], opts: &ReadOptions) -> Result<Waveform> {
    if bytes.is_empty() {
        return Err(Error::format(
            path,
            format!("empty file (0 bytes); {SUPPORTED}"),
        ));
    }
    if opts.sample_rate == Some(0) {
        return Err(Error::invalid("the requested sample rate must be positive"));
    }
    let wave = match detect(bytes) {
        Some(Format::Wav) => wav::decode(path, bytes, opts.channel)?,
        Some(Format::Sphere) => sphere::decode(path, bytes, opts.channel)?,
        Some(Format::Flac) => flac::decode(path, bytes, opts.channel)?,
        None => return Err(Error::format(path, unknown_format(bytes))),
    };
    if wave.samples.is_empty() {
        return Err(Error::format(path, "the file holds no audio samples"));
    }
    if wave.sample_rate == 0 {
        return Err(Error::format(
            path,
            "the header gives a sample rate of 0 Hz",
        ));
    }
    match opts.sample_rate {
        Some(want) if want != wave.sample_rate => {
            if !opts.resample {
                return Err(Error::format(
                    path,
                    format!(
                        "sample rate is {} Hz but {want} Hz is required; convert the file or \
                         enable resampling",
                        wave.sample_rate
                    ),
                ));
            }
            let samples = resample::resample(path, &wave.samples, wave.sample_rate, want)?;
            Ok(Waveform {
                samples,
                sample_rate: want,
            })
        }
        _ => Ok(wave),
    }
}

/// The channel to keep, checked against the file's channel count.
fn select_channel(path: &Path, channels: usize, wanted: Option<usize>) -> Result<usize> {
    match wanted {
        _ if channels == 0 => Err(Error::format(path, "the header declares 0 channels")),
        None if channels == 1 => Ok(0),
        None => Err(Error::format(
            path,
            format!(
                "the file has {channels} channels but a mono signal is needed; pick one with a \
                 channel option (0..={})",
                channels - 1
            ),
        )),
        Some(c) if c < channels => Ok(c),
        Some(c) => Err(Error::format(
            path,
            format!(
                "channel {c} requested but the file has only {channels} channel{} (0..={})",
                if channels == 1 { "" } else { "s" },
                channels - 1
            ),
        )),
    }
}

/// Power-of-two factor that brings a `bits`-deep integer to the 16-bit range.
fn int_scale(bits: u32) -> f32 {
    2f32.powi(16 - bits as i32)
}

fn unknown_format(bytes: &[u8]) -> String {
    let head: String = bytes
        .iter()
        .take(8)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect();
    let riff = if bytes.starts_with(b"RIFF") {
        " (a RIFF file, but not RIFF WAVE)"
    } else {
        ""
    };
    format!("unknown audio format{riff}: the file starts with {head:?}; {SUPPORTED}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_choose_the_format() {
        assert_eq!(detect(b"RIFF\0\0\0\0WAVEfmt "), Some(Format::Wav));
        assert_eq!(detect(b"NIST_1A\n   1024\n"), Some(Format::Sphere));
        assert_eq!(detect(b"fLaC\0\0\0\x22"), Some(Format::Flac));
        assert_eq!(detect(b"RIFF\0\0\0\0AVI LIST"), None);
        assert_eq!(detect(b"RIFF"), None);
        assert_eq!(detect(b"ID3\x04"), None);
    }

    #[test]
    fn scales_are_powers_of_two_around_16_bits() {
        assert_eq!(int_scale(8), 256.0);
        assert_eq!(int_scale(16), 1.0);
        assert_eq!(int_scale(24), 1.0 / 256.0);
        assert_eq!(int_scale(32), 1.0 / 65536.0);
    }

    #[test]
    fn channel_selection_explains_itself() {
        let p = Path::new("x.wav");
        assert_eq!(select_channel(p, 1, None).unwrap(), 0);
        assert_eq!(select_channel(p, 2, Some(1)).unwrap(), 1);
        let e = select_channel(p, 2, None).unwrap_err().to_string();
        assert!(
            e.contains("x.wav") && e.contains("2 channels") && e.contains("0..=1"),
            "{e}"
        );
        let e = select_channel(p, 1, Some(1)).unwrap_err().to_string();
        assert!(
            e.contains("channel 1 requested") && e.contains("1 channel "),
            "{e}"
        );
    }
}
