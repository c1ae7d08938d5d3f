//! Reading audio: RIFF WAV and NIST SPHERE (TIMIT) by hand, FLAC through claxon.
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
//! | 32/64-bit float WAV (full scale ±1) | v * 32768          |
//! | mu-law / A-law (WAV, SPHERE)     | G.711 16-bit linear   |
//!
//! A full-scale 16-bit sample is therefore 32767.0 whatever the file's depth. Every sample
//! returned is finite: float files holding NaN, infinities or values beyond ±1e34 of full scale
//! (which would overflow f32 once scaled) are refused with the sample's index.
//!
//! # Channels
//!
//! A [`Waveform`] is mono. Multi-channel files need a [`Channel`]: one channel by index, or the
//! mean of all channels. Without one, a file with more than one channel is an error that names
//! its channel count.

mod flac;
mod g711;
mod pcm;
mod probe;
mod resample;
pub mod scale;
mod sphere;
mod wav;

pub use probe::{Info, probe};
pub use resample::{RESAMPLE_RATES, resampled_len};

use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A mono signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    /// Samples in 16-bit integer scale (see the module documentation).
    pub samples: Vec<f32>,
    /// Samples per second, Hz.
    pub sample_rate: u32,
}

impl Waveform {
    /// Length in seconds (`samples.len() / sample_rate`).
    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }
}

/// Which channel of a file becomes the mono [`Waveform`].
///
/// In YAML and on the command line: `mono` (the default), a channel number from 0, or `mean`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Channel {
    /// The file must have exactly one channel.
    #[default]
    Mono,
    /// This channel (from 0) of a file with any number of channels.
    Index(usize),
    /// The mean of all channels (a mix-down).
    Mean,
}

impl Channel {
    /// What the option accepts, for messages.
    pub const SYNTAX: &str = "`mono`, a channel number from 0, or `mean`";
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Channel::Mono => f.write_str("mono"),
            Channel::Index(c) => write!(f, "{c}"),
            Channel::Mean => f.write_str("mean"),
        }
    }
}

impl std::str::FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mono" => Ok(Channel::Mono),
            "mean" => Ok(Channel::Mean),
            t => t
                .parse::<usize>()
                .map(Channel::Index)
                .map_err(|_| format!("channel `{s}`: expected {}", Channel::SYNTAX)),
        }
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Channel::Index(c) => s.serialize_u64(*c as u64),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Channel;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(Channel::SYNTAX)
            }

            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Channel, E> {
                usize::try_from(v)
                    .map(Channel::Index)
                    .map_err(|_| E::custom(format!("channel {v} is out of range")))
            }

            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Channel, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("channel {v}: expected {}", Channel::SYNTAX)))
                    .and_then(|v| self.visit_u64(v))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Channel, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// The rate assumed where none is given: a pipeline's `sample_rate`, a manifest's `sample_rate`
/// column. 16 kHz is Kaldi's default and TIMIT's rate.
pub const DEFAULT_RATE: u32 = 16_000;

/// How to turn a file into a [`Waveform`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOptions {
    /// Channel to take from multi-channel audio (by default the file must be mono).
    pub channel: Channel,
    /// Sample rate the caller needs; `None` accepts any.
    pub sample_rate: Option<u32>,
    /// Resample to `sample_rate` instead of failing when the file has another rate.
    pub resample: bool,
}

/// The container formats [`read`] understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RIFF WAVE: integer PCM, IEEE float, G.711 A-law and mu-law (also in `WAVE_FORMAT_EXTENSIBLE`).
    Wav,
    /// NIST SPHERE (`NIST_1A` header), TIMIT's format.
    Sphere,
    /// FLAC (decoded with `claxon`).
    Flac,
}

/// What to tell a user whose file is none of the supported formats.
pub const SUPPORTED: &str = "supported formats are RIFF WAVE (PCM 8/16/24/32-bit, 32/64-bit float, \
mu-law, A-law), NIST SPHERE (PCM, mu-law, A-law) and FLAC";

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

/// Read an audio file a piece at a time: `each` gets the mono samples (as [`read`] returns them,
/// at the file's own rate, which [`probe`] gives) `chunk` at a time or so, and only those are
/// in memory. WAV and SPHERE are read `chunk` frames at a time, FLAC a block at a time.
/// Resampling needs the whole signal and is not done here. Errors name the file as [`read`]'s
/// do, but for a broken file they may come after some pieces were handed on, and their wording
/// may differ: a caller that must report exactly what [`read`] reports reads the file again
/// with it.
pub fn stream(
    path: &Path,
    channel: Channel,
    chunk: usize,
    each: &mut dyn FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    use std::io::Seek;
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 12];
    let n = probe::read_up_to(&mut file, &mut magic).map_err(|e| Error::io(path, e))?;
    match detect(&magic[..n]) {
        Some(Format::Wav) => wav::stream(path, &mut file, channel, chunk, each),
        Some(Format::Sphere) => sphere::stream(path, &mut file, channel, chunk, each),
        Some(Format::Flac) => {
            file.rewind().map_err(|e| Error::io(path, e))?;
            flac::stream(path, file, channel, chunk, each)
        }
        None if n == 0 => Err(Error::format(
            path,
            format!("empty file (0 bytes); {SUPPORTED}"),
        )),
        None => Err(Error::format(path, unknown_format(&magic[..n]))),
    }
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
    conform(path, wave, opts)
}

/// Bring audio read at its own rate to the rate `opts` asks for: unchanged when it already has
/// it (or none is asked), resampled when `opts.resample`, else a [`Error::RateMismatch`] naming
/// `path`.
pub fn conform(path: &Path, wave: Waveform, opts: &ReadOptions) -> Result<Waveform> {
    match opts.sample_rate {
        Some(want) if want != wave.sample_rate => {
            if !opts.resample {
                return Err(Error::RateMismatch {
                    expected: want,
                    got: wave.sample_rate,
                }
                .in_file(path));
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

/// The samples to keep from each frame of `channels` interleaved samples, checked against the
/// file's channel count.
fn select_channel(path: &Path, channels: usize, wanted: Channel) -> Result<pcm::Pick> {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    match wanted {
        _ if channels == 0 => Err(Error::format(path, "the header declares 0 channels")),
        Channel::Mono | Channel::Mean if channels == 1 => Ok(pcm::Pick::One(0)),
        Channel::Mono => Err(Error::format(
            path,
            format!(
                "the file has {channels} channels but a mono signal is needed; pick one with \
                 `channel: N` (0..={}) or mix them down with `channel: mean` (pipeline \
                 `waveform:` stage, manifest `channel` column, or `--channel`)",
                channels - 1
            ),
        )),
        Channel::Mean => Ok(pcm::Pick::Mean),
        Channel::Index(c) if c < channels => Ok(pcm::Pick::One(c)),
        Channel::Index(c) => Err(Error::format(
            path,
            format!(
                "channel {c} requested but the file has only {channels} channel{} (0..={})",
                plural(channels),
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
        assert_eq!(
            select_channel(p, 1, Channel::Mono).unwrap(),
            pcm::Pick::One(0)
        );
        assert_eq!(
            select_channel(p, 1, Channel::Mean).unwrap(),
            pcm::Pick::One(0)
        );
        assert_eq!(
            select_channel(p, 2, Channel::Index(1)).unwrap(),
            pcm::Pick::One(1)
        );
        assert_eq!(
            select_channel(p, 2, Channel::Mean).unwrap(),
            pcm::Pick::Mean
        );
        let e = select_channel(p, 2, Channel::Mono).unwrap_err().to_string();
        assert_eq!(
            e,
            "x.wav: the file has 2 channels but a mono signal is needed; pick one with \
             `channel: N` (0..=1) or mix them down with `channel: mean` (pipeline `waveform:` \
             stage, manifest `channel` column, or `--channel`)"
        );
        let e = select_channel(p, 1, Channel::Index(1))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x.wav: channel 1 requested but the file has only 1 channel (0..=0)"
        );
    }

    #[test]
    fn channel_choice_reads_and_writes_as_the_docs_say() {
        for (text, want) in [
            ("mono", Channel::Mono),
            ("MEAN", Channel::Mean),
            ("3", Channel::Index(3)),
        ] {
            assert_eq!(text.parse::<Channel>().unwrap(), want);
        }
        assert_eq!(
            "left".parse::<Channel>().unwrap_err(),
            "channel `left`: expected `mono`, a channel number from 0, or `mean`"
        );
        for c in [Channel::Mono, Channel::Mean, Channel::Index(2)] {
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(serde_json::from_str::<Channel>(&json).unwrap(), c);
        }
        assert_eq!(serde_json::to_string(&Channel::Index(2)).unwrap(), "2");
        assert!(serde_json::from_str::<Channel>("-1").is_err());
    }
}
