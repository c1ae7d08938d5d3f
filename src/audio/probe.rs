//! How much audio a file holds, from its header alone (the first bytes; no sample decoded), to
//! plan memory before reading it. Any header this cannot make sense of is left to the decoder to
//! refuse; the plan then falls back to a bound from the file's size.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Bytes read to find the header: WAV chunks before `data`, SPHERE's text header, FLAC's
/// STREAMINFO all fit in this in the files anyone makes.
const HEAD: u64 = 64 * 1024;

/// What a header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioSize {
    /// The file's size in bytes.
    pub file_bytes: u64,
    /// Samples per channel; from the file's size (one byte per sample, at most) when the header
    /// does not say.
    pub samples: u64,
    /// Channels (1 when the header does not say).
    pub channels: u64,
    /// Sample rate, when the header gives it.
    pub sample_rate: Option<u32>,
}

/// Read the header of `path` (WAV, NIST SPHERE or FLAC).
pub fn probe(path: &Path) -> Result<AudioSize> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let file_bytes = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut head = Vec::new();
    file.take(HEAD)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    let bound = AudioSize {
        file_bytes,
        samples: file_bytes,
        channels: 1,
        sample_rate: None,
    };
    Ok(match super::detect(&head) {
        Some(super::Format::Wav) => wav(&head, file_bytes),
        Some(super::Format::Sphere) => sphere(&head, file_bytes),
        Some(super::Format::Flac) => flac(&head, file_bytes),
        None => None,
    }
    .unwrap_or(bound))
}

fn le16(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}

fn le32(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}

/// RIFF chunks up to `data`: block size and channels from `fmt `, bytes from `data` (or the rest
/// of the file, for a size left at 0 or 0xFFFFFFFF by a writer that streamed).
fn wav(b: &[u8], file_bytes: u64) -> Option<AudioSize> {
    let mut at = 12usize;
    let mut fmt = None;
    loop {
        let id = b.get(at..at + 4)?;
        let size = le32(b, at + 4)?;
        if id == b"fmt " {
            let channels = le16(b, at + 10)?;
            let rate = le32(b, at + 12)? as u32;
            let block = le16(b, at + 20)?;
            fmt = Some((channels, rate, block));
        } else if id == b"data" {
            let (channels, rate, block) = fmt?;
            let rest = file_bytes.saturating_sub(at as u64 + 8);
            let bytes = if size == 0 || size == 0xFFFF_FFFF {
                rest
            } else {
                size.min(rest)
            };
            if channels == 0 || block == 0 {
                return None;
            }
            return Some(AudioSize {
                file_bytes,
                samples: bytes / block,
                channels,
                sample_rate: Some(rate),
            });
        }
        at = at.checked_add(8 + size as usize + (size as usize & 1))?;
    }
}

/// `sample_count` and `channel_count` of the text header.
fn sphere(b: &[u8], file_bytes: u64) -> Option<AudioSize> {
    let text = String::from_utf8_lossy(&b[..b.len().min(HEAD as usize)]);
    let field = |name: &str| {
        text.lines()
            .take_while(|l| l.trim() != "end_head")
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next()? == name && w.next()? == "-i")
                    .then(|| w.next()?.parse::<u64>().ok())
                    .flatten()
            })
    };
    Some(AudioSize {
        file_bytes,
        samples: field("sample_count")?,
        channels: field("channel_count").unwrap_or(1).max(1),
        sample_rate: field("sample_rate").and_then(|r| u32::try_from(r).ok()),
    })
}

/// STREAMINFO, the first metadata block: 20 bits of rate, 3 of channels - 1, 5 of bits - 1,
/// 36 of total samples (0: unknown).
fn flac(b: &[u8], file_bytes: u64) -> Option<AudioSize> {
    if b.get(4)? & 0x7f != 0 {
        return None;
    }
    let info = b.get(8..8 + 34)?;
    let x = u64::from_be_bytes(info[10..18].try_into().ok()?);
    let rate = (x >> 44) as u32;
    let channels = ((x >> 41) & 0x7) + 1;
    let samples = x & 0xF_FFFF_FFFF;
    (samples > 0).then_some(AudioSize {
        file_bytes,
        samples,
        channels,
        sample_rate: Some(rate),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_give_the_sample_counts_the_decoders_find() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // FLAC (the demo corpus) against decoding it.
        let flac = root.join("audio/demo/dr1-fslt0/sa1.flac");
        let p = probe(&flac).unwrap();
        let wav = super::super::read(&flac, &Default::default()).unwrap();
        assert_eq!(p.samples, wav.samples.len() as u64);
        assert_eq!((p.channels, p.sample_rate), (1, Some(16_000)));

        // A 3-channel 16-bit WAV with an odd-sized chunk (and its pad byte) before `data`.
        let dir = tempfile::tempdir().unwrap();
        let mut b = b"RIFF\0\0\0\0WAVE".to_vec();
        b.extend(b"fmt \x10\0\0\0\x01\0\x03\0\x80\x3e\0\0\0\0\0\0\x06\0\x10\0");
        b.extend(b"LIST\x03\0\0\0abc\0");
        b.extend(b"data\x3c\0\0\0");
        b.extend([0u8; 60]);
        let w = dir.path().join("a.wav");
        std::fs::write(&w, &b).unwrap();
        let p = probe(&w).unwrap();
        assert_eq!(
            (p.samples, p.channels, p.sample_rate),
            (10, 3, Some(16_000))
        );

        // SPHERE: the header's counts.
        let mut s = b"NIST_1A\n   1024\nsample_count -i 48000\nchannel_count -i 2\n\
                      sample_rate -i 8000\nend_head\n"
            .to_vec();
        s.resize(1024, b' ');
        let sph = dir.path().join("a.sph");
        std::fs::write(&sph, &s).unwrap();
        let p = probe(&sph).unwrap();
        assert_eq!(
            (p.samples, p.channels, p.sample_rate),
            (48_000, 2, Some(8_000))
        );

        // Not audio: the file's size bounds it.
        let junk = dir.path().join("junk.wav");
        std::fs::write(&junk, [7u8; 100]).unwrap();
        let p = probe(&junk).unwrap();
        assert_eq!((p.samples, p.channels, p.sample_rate), (100, 1, None));
    }
}
