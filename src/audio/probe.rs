//! What an audio file holds (rate, channels, length) from its header alone, without decoding the
//! samples: a corpus of long recordings cut by a `segments` file is checked when it is opened,
//! which reading every recording whole would make slow.

use std::io::Read;
use std::path::Path;

use super::{Format, SUPPORTED, detect, sphere, wav};
use crate::error::{Error, Result};

/// An audio file's shape, as its header declares it (and the file's size confirms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// Samples per second per channel, Hz.
    pub sample_rate: u32,
    /// Channels interleaved in the file.
    pub channels: usize,
    /// Samples per channel.
    pub frames: u64,
}

/// Bytes read at most to find a SPHERE header (its size is declared in its first line).
const SPHERE_HEAD: u64 = 1 << 16;

/// Rate, channels and length of the audio file `path`, from its header. A header that declares
/// more samples than the file holds is an error, as when the file is decoded.
pub fn probe(path: &Path) -> Result<Info> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut magic = [0u8; 12];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| Error::io(path, e))?;
    if n == 0 {
        return Err(Error::format(
            path,
            format!("empty file (0 bytes); {SUPPORTED}"),
        ));
    }
    match detect(&magic[..n]) {
        Some(Format::Wav) => wav::probe(path, &mut file),
        Some(Format::Sphere) => probe_sphere(path, file),
        Some(Format::Flac) => {
            let reader = claxon::FlacReader::open(path)
                .map_err(|e| Error::format(path, format!("invalid FLAC header: {e}")))?;
            let s = reader.streaminfo();
            let frames = s.samples.ok_or_else(|| {
                Error::format(path, "the FLAC stream info does not give the length")
            })?;
            Ok(Info {
                sample_rate: s.sample_rate,
                channels: s.channels as usize,
                frames,
            })
        }
        None => Err(Error::format(path, super::unknown_format(&magic[..n]))),
    }
}

fn probe_sphere(path: &Path, file: std::fs::File) -> Result<Info> {
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut head = Vec::new();
    let mut file = file;
    use std::io::Seek;
    file.rewind().map_err(|e| Error::io(path, e))?;
    file.take(SPHERE_HEAD.min(len))
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    let h = sphere::parse_header(path, &head)?;
    let need = |v: Option<u64>, name: &str| {
        v.ok_or_else(|| Error::format(path, format!("SPHERE header lacks the `{name}` field")))
    };
    let frames = need(h.sample_count, "sample_count")?;
    let rate = need(h.sample_rate, "sample_rate")?;
    let width = need(h.sample_n_bytes, "sample_n_bytes")?;
    let channels = h.channel_count.unwrap_or(1);
    let data = len - h.size as u64;
    if frames.saturating_mul(width).saturating_mul(channels) > data {
        return Err(Error::format(
            path,
            format!(
                "truncated data: the header declares {frames} samples x {channels} channel(s) x \
                 {width} bytes but only {data} bytes follow the {}-byte header",
                h.size
            ),
        ));
    }
    Ok(Info {
        sample_rate: u32::try_from(rate)
            .map_err(|_| Error::format(path, format!("sample_rate {rate} is out of range")))?,
        channels: channels as usize,
        frames,
    })
}

/// Fill as much of `buf` as the file has.
pub(super) fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}
