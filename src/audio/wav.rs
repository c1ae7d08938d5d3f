//! RIFF WAVE: PCM 8/16/24/32-bit, 32-bit float, also as WAVE_FORMAT_EXTENSIBLE.
//!
//! hound parses and validates the header (chunk walk, fmt variants, sizes); the samples are then
//! decoded straight from the data chunk's bytes, which is about ten times faster than hound's
//! per-sample iterator and lets a short file be reported before anything is decoded.

use std::io::Cursor;
use std::path::Path;

use hound::{SampleFormat, WavReader};

use super::pcm::{self, Layout};
use super::{Waveform, int_scale, select_channel};
use crate::error::{Error, Result};

pub(super) fn decode(path: &Path, bytes: &[u8], channel: Option<usize>) -> Result<Waveform> {
    let reader = WavReader::new(Cursor::new(bytes)).map_err(|e| header_error(path, e))?;
    let spec = reader.spec();
    let total = reader.len() as usize;
    let channels = spec.channels as usize;
    let ch = select_channel(path, channels, channel)?;
    let mut samples = Vec::new();
    let wave = |samples| {
        Ok(Waveform {
            samples,
            sample_rate: spec.sample_rate,
        })
    };
    if total == 0 {
        return wave(samples);
    }

    // hound leaves the reader just past the data chunk's size field, having checked that the
    // size is a whole number of samples; the container width follows from it (24-bit samples
    // may sit in 3 or 4 bytes).
    let start = reader.into_inner().position() as usize;
    let declared = u32::from_le_bytes(bytes[start - 4..start].try_into().expect("4 bytes"));
    let width = declared as usize / total;
    let data = &bytes[start..];
    if data.len() / width < total {
        return Err(Error::format(
            path,
            format!(
                "truncated data: the data chunk declares {total} samples but the file holds only \
                 {}",
                data.len() / width
            ),
        ));
    }
    let frames = total / channels;
    let bits = u32::from(spec.bits_per_sample);
    let layout = Layout {
        width,
        channels,
        channel: ch,
        big_endian: false,
    };
    match (spec.sample_format, width, bits) {
        // 8-bit WAV is unsigned, centred on 128.
        (SampleFormat::Int, 1, 8) => samples.extend(
            data[..total]
                .iter()
                .skip(ch)
                .step_by(channels)
                .map(|&b| (f32::from(b) - 128.0) * 256.0),
        ),
        (SampleFormat::Int, 2, 16) | (SampleFormat::Int, 3, 24) | (SampleFormat::Int, 4, 32) => {
            pcm::decode_int(data, frames, layout, int_scale(bits), &mut samples)
        }
        // WAVE_FORMAT_EXTENSIBLE puts the valid bits at the top of the container (the low ones
        // are zero), so 24 valid bits in 4 bytes read as a 32-bit integer. hound would take the
        // low three bytes instead, which only fits files it wrote itself.
        (SampleFormat::Int, 4, 24) => {
            pcm::decode_int(data, frames, layout, int_scale(32), &mut samples)
        }
        (SampleFormat::Float, 4, 32) => {
            let values = data[..total * 4]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            // Every channel is checked: a NaN anywhere means the file is damaged.
            if let Some((i, v)) = values.clone().enumerate().find(|(_, v)| !v.is_finite()) {
                let at = if channels == 1 {
                    format!("sample {i}")
                } else {
                    format!("sample {} of channel {}", i / channels, i % channels)
                };
                return Err(Error::format(
                    path,
                    format!("{at} is {v}; float audio must be finite"),
                ));
            }
            samples.extend(values.skip(ch).step_by(channels).map(|v| v * 32768.0));
        }
        (format, width, bits) => {
            return Err(Error::format(
                path,
                format!(
                    "unsupported WAV sample layout: {bits}-bit {} in {width}-byte containers; \
                     supported are 8, 16, 24 and 32-bit integers and 32-bit floats",
                    if format == SampleFormat::Float {
                        "floats"
                    } else {
                        "integers"
                    }
                ),
            ));
        }
    }
    wave(samples)
}

fn header_error(path: &Path, e: hound::Error) -> Error {
    let msg = match e {
        // hound reads the header with exact-length reads, so an I/O error here is a short file.
        hound::Error::IoError(e) => format!("truncated WAV header ({e})"),
        hound::Error::FormatError(m) => format!("invalid WAV header: {m}"),
        hound::Error::Unsupported => "unsupported WAV encoding; supported are PCM integers \
                                      (8, 16, 24, 32 bit) and 32-bit float, also as \
                                      WAVE_FORMAT_EXTENSIBLE"
            .to_string(),
        e => format!("invalid WAV file: {e}"),
    };
    Error::format(path, msg)
}
