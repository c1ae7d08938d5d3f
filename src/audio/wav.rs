//! RIFF WAVE: PCM 8/16/24/32-bit, 32/64-bit float, G.711 mu-law and A-law, each also as
//! WAVE_FORMAT_EXTENSIBLE.
//!
//! The chunk walk is written out here rather than left to hound (3.5), which skips an odd-sized
//! chunk without its pad byte (refusing valid files and accepting invalid ones), reads neither
//! 64-bit float nor G.711, and says only "unsupported" or "inconsistent fmt chunk" for ADPCM.
//!
//! What is accepted beyond the letter of the format, and what is not, follows sox 14.4 and
//! libsndfile 1.2:
//! - Chunks are word-aligned: an odd-sized chunk is followed by a pad byte. A file that leaves
//!   the pad byte out before a later chunk is refused (sox: "Could not find data chunk";
//!   libsndfile: "No 'data' chunk marker"), here with a message that says so. An odd-sized data
//!   chunk that ends the file needs no pad byte (both read it).
//! - A data size of 0xFFFFFFFF, written by streaming writers that cannot seek back to fill it
//!   in, means "to the end of the file". Any other size past the end of the file is a truncated
//!   file and an error (sox reads what is there with a warning; a silently shortened utterance
//!   would no longer match its labels).
//! - A trailing partial frame (a data size that is not a whole number of frames) is dropped, as
//!   sox and libsndfile do. Chunks after the data chunk are ignored.
//! - The RIFF size and the fmt chunk's byte rate are redundant and not checked.
//!
//! Samples are decoded straight from the data chunk's bytes (see [`pcm`]).

use std::path::Path;

use super::pcm::{self, Layout};
use super::{Channel, Waveform, g711, int_scale, select_channel};
use crate::error::{Error, Result};

/// Format tags (mmreg.h) that are read.
const PCM: u16 = 0x0001;
const IEEE_FLOAT: u16 = 0x0003;
const ALAW: u16 = 0x0006;
const MULAW: u16 = 0x0007;
const EXTENSIBLE: u16 = 0xfffe;

/// The last 14 bytes of every KSDATAFORMAT_SUBTYPE GUID that stands for a format tag (the tag is
/// in the first two bytes, little endian).
const SUBTYPE_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71,
];

/// Data sizes at or above this are "unknown, to the end of the file" (streaming writers).
const SIZE_UNKNOWN: u32 = u32::MAX;

/// Largest float sample (full scale ±1) whose 16-bit-scale value (x 32768) fits in an f32.
const MAX_FLOAT_SAMPLE: f64 = 1e34;

const CONVERT: &str = "convert it to PCM first (e.g. `sox in.wav -e signed-integer -b 16 out.wav`)";

/// How samples are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// 8-bit unsigned, centred on 128.
    Unsigned8,
    /// Signed little-endian integers filling their container (valid bits at the top).
    Int,
    Float32,
    Float64,
    Mulaw,
    Alaw,
}

/// What the fmt chunk says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fmt {
    encoding: Encoding,
    channels: usize,
    sample_rate: u32,
    /// Bytes per sample (the container, which may hold fewer valid bits).
    width: usize,
}

pub(super) fn decode(path: &Path, bytes: &[u8], channel: Channel) -> Result<Waveform> {
    let (fmt, data) = chunks(path, bytes)?;
    let pick = select_channel(path, fmt.channels, channel)?;
    let mut samples = Vec::new();
    gather(path, fmt, pick, data, 0, &mut samples)?;
    Ok(Waveform {
        samples,
        sample_rate: fmt.sample_rate,
    })
}

/// Read the data chunk `chunk` frames at a time, handing each piece's mono samples to `each`:
/// only the piece is in memory. The header is walked as [`probe`] walks it, and refused where
/// [`decode`] refuses it.
pub(super) fn stream(
    path: &Path,
    file: &mut std::fs::File,
    channel: Channel,
    chunk: usize,
    each: &mut dyn FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    use std::io::{Seek, SeekFrom};
    let (fmt, start, len) = locate(path, file)?;
    let pick = select_channel(path, fmt.channels, channel)?;
    let stride = fmt.width * fmt.channels;
    file.seek(SeekFrom::Start(start))
        .map_err(|e| Error::io(path, e))?;
    let decode =
        |piece: &[u8], first: usize, out: &mut Vec<f32>| gather(path, fmt, pick, piece, first, out);
    pcm::stream_frames(path, file, len / stride as u64, stride, chunk, decode, each)
}

/// Append the mono samples of the whole frames in `data`, which are the file's frames from
/// `first` on (named in errors), to `out`.
fn gather(
    path: &Path,
    fmt: Fmt,
    pick: pcm::Pick,
    data: &[u8],
    first: usize,
    out: &mut Vec<f32>,
) -> Result<()> {
    let layout = Layout {
        width: fmt.width,
        channels: fmt.channels,
    };
    let frames = data.len() / (fmt.width * fmt.channels);
    let data = &data[..frames * fmt.width * fmt.channels];
    match fmt.encoding {
        Encoding::Unsigned8 => pcm::gather(
            data,
            frames,
            layout,
            pick,
            |b| (f32::from(b[0]) - 128.0) * 256.0,
            out,
        ),
        Encoding::Int => {
            let scale = int_scale(8 * fmt.width as u32);
            pcm::gather_int(data, frames, layout, pick, false, scale, out)
        }
        Encoding::Mulaw => pcm::gather(
            data,
            frames,
            layout,
            pick,
            |b| f32::from(g711::ULAW[usize::from(b[0])]),
            out,
        ),
        Encoding::Alaw => pcm::gather(
            data,
            frames,
            layout,
            pick,
            |b| f32::from(g711::ALAW[usize::from(b[0])]),
            out,
        ),
        Encoding::Float32 => {
            let value = |b: &[u8]| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
            check_floats(path, data, layout, first, value)?;
            pcm::gather(
                data,
                frames,
                layout,
                pick,
                |b| (value(b) * 32768.0) as f32,
                out,
            )
        }
        Encoding::Float64 => {
            let value = |b: &[u8]| f64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
            check_floats(path, data, layout, first, value)?;
            // Scaled in f64, so a value within MAX_FLOAT_SAMPLE always fits in f32 after it.
            pcm::gather(
                data,
                frames,
                layout,
                pick,
                |b| (value(b) * 32768.0) as f32,
                out,
            )
        }
    }
    Ok(())
}

/// Every sample of every channel must be finite and small enough to scale: a NaN anywhere means
/// the file is damaged, and one that would overflow would turn the features into NaN.
fn check_floats(
    path: &Path,
    data: &[u8],
    layout: Layout,
    first: usize,
    value: impl Fn(&[u8]) -> f64,
) -> Result<()> {
    let bad = data
        .chunks_exact(layout.width)
        .map(value)
        .enumerate()
        .find(|(_, v)| !(-MAX_FLOAT_SAMPLE..=MAX_FLOAT_SAMPLE).contains(v));
    let Some((i, v)) = bad else {
        return Ok(());
    };
    let i = first * layout.channels + i;
    let at = if layout.channels == 1 {
        format!("sample {i}")
    } else {
        format!(
            "sample {} of channel {}",
            i / layout.channels,
            i % layout.channels
        )
    };
    let msg = if v.is_finite() {
        // Shown as stored (3e38, not 3.0000000054977558e38).
        let v = if layout.width == 4 {
            format!("{:e}", v as f32)
        } else {
            format!("{v:e}")
        };
        format!("{at} is {v}; float samples must lie within ±1e34 (full scale is ±1)")
    } else {
        format!("{at} is {v}; float audio must be finite")
    };
    Err(Error::format(path, msg))
}

/// Walk the chunks up to the data chunk: the fmt chunk before it, and the data's bytes.
fn chunks<'a>(path: &Path, bytes: &'a [u8]) -> Result<(Fmt, &'a [u8])> {
    let fail = |msg: String| Error::format(path, msg);
    let mut fmt: Option<Fmt> = None;
    // After "RIFF", the RIFF size and "WAVE" (checked by `detect`).
    let mut pos = 12;
    loop {
        let Some(head) = bytes.get(pos..pos + 8) else {
            let what = if fmt.is_none() { "fmt" } else { "data" };
            return Err(fail(if pos < bytes.len() {
                format!(
                    "truncated WAV header: the file ends inside a chunk header at byte {pos}, \
                     before any {what} chunk"
                )
            } else {
                format!(
                    "invalid WAV file: no {what} chunk in its {} bytes",
                    bytes.len()
                )
            }));
        };
        let id: [u8; 4] = head[..4].try_into().expect("4 bytes");
        let size = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        let body = pos + 8;
        let left = bytes.len() - body;
        if &id == b"data" {
            let Some(fmt) = fmt else {
                return Err(fail(format!(
                    "invalid WAV header: the data chunk (at byte {pos}) comes before any fmt chunk"
                )));
            };
            let len = match size {
                SIZE_UNKNOWN => left,
                n if n as usize <= left => n as usize,
                n => {
                    let frame = fmt.width * fmt.channels;
                    return Err(fail(format!(
                        "truncated data: the data chunk declares {} samples but the file holds \
                         only {}{}",
                        n as usize / frame,
                        left / frame,
                        if fmt.channels == 1 {
                            String::new()
                        } else {
                            format!(" (frames of {} channels)", fmt.channels)
                        }
                    )));
                }
            };
            return Ok((fmt, &bytes[body..body + len]));
        }
        let name = chunk_name(&id);
        if size as usize > left {
            return Err(fail(format!(
                "truncated WAV header: chunk {name} at byte {pos} declares {size} bytes but the \
                 file ends {left} bytes after its header"
            )));
        }
        if &id == b"fmt " && fmt.is_none() {
            fmt = Some(parse_fmt(path, &bytes[body..body + size as usize])?);
        }
        // RIFF chunks are word-aligned: an odd-sized one is followed by a pad byte.
        pos = body + size as usize + (size as usize & 1);
        if size % 2 == 1
            && let (Some(here), Some(unpadded)) =
                (bytes.get(pos..pos + 4), bytes.get(pos - 1..pos + 3))
            && !is_chunk_id(here)
            && is_chunk_id(unpadded)
        {
            return Err(fail(format!(
                "invalid WAV file: chunk {name} at byte {} has an odd size ({size} bytes) but no \
                 pad byte after it: chunk {} follows at once (RIFF chunks are word-aligned; sox \
                 and libsndfile refuse this file too)",
                body - 8,
                chunk_name(unpadded.try_into().expect("4 bytes"))
            )));
        }
    }
}

/// Rate, channels and frames of a WAV file from its headers alone: the chunks are walked with
/// seeks, the samples are not read. A data chunk longer than the file is an error, as in
/// [`decode`].
pub(super) fn probe(path: &Path, file: &mut std::fs::File) -> Result<super::Info> {
    let (fmt, _, bytes) = locate(path, file)?;
    Ok(super::Info {
        sample_rate: fmt.sample_rate,
        channels: fmt.channels,
        frames: bytes / (fmt.width * fmt.channels) as u64,
    })
}

/// The fmt chunk, and where the data chunk's bytes start and how many there are, found by
/// walking the chunk headers with seeks; refused as [`chunks`] refuses them (a missing pad
/// byte included).
fn locate(path: &Path, file: &mut std::fs::File) -> Result<(Fmt, u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let fail = |msg: String| Error::format(path, msg);
    let io = |e: std::io::Error| Error::io(path, e);
    let len = file.seek(SeekFrom::End(0)).map_err(io)?;
    let mut fmt: Option<Fmt> = None;
    let mut pos = 12u64;
    loop {
        let mut head = [0u8; 8];
        file.seek(SeekFrom::Start(pos)).map_err(io)?;
        if pos + 8 > len || file.read_exact(&mut head).is_err() {
            let what = if fmt.is_none() { "fmt" } else { "data" };
            return Err(fail(format!(
                "invalid WAV file: no {what} chunk in its {len} bytes"
            )));
        }
        let id: [u8; 4] = head[..4].try_into().expect("4 bytes");
        let size = u32::from_le_bytes(head[4..].try_into().expect("4 bytes"));
        let body = pos + 8;
        let left = len - body;
        if &id == b"data" {
            let fmt = fmt.ok_or_else(|| {
                fail(format!(
                    "invalid WAV header: the data chunk (at byte {pos}) comes before any fmt chunk"
                ))
            })?;
            let frame = (fmt.width * fmt.channels) as u64;
            let bytes = match size {
                SIZE_UNKNOWN => left,
                n if u64::from(n) <= left => u64::from(n),
                n => {
                    return Err(fail(format!(
                        "truncated data: the data chunk declares {} samples but the file holds \
                         only {}",
                        u64::from(n) / frame,
                        left / frame
                    )));
                }
            };
            return Ok((fmt, body, bytes));
        }
        if u64::from(size) > left {
            return Err(fail(format!(
                "truncated WAV header: chunk {} at byte {pos} declares {size} bytes but the \
                 file ends {left} bytes after its header",
                chunk_name(&id)
            )));
        }
        if &id == b"fmt " && fmt.is_none() {
            let mut b = vec![0u8; size as usize];
            file.read_exact(&mut b).map_err(io)?;
            fmt = Some(parse_fmt(path, &b)?);
        }
        pos = body + u64::from(size) + u64::from(size & 1);
        // The pad-byte check of `chunks`: an odd-sized chunk followed at once by a chunk id.
        let mut next = [0u8; 5];
        if size % 2 == 1 && pos + 4 <= len {
            file.seek(SeekFrom::Start(pos - 1)).map_err(io)?;
            file.read_exact(&mut next).map_err(io)?;
            if !is_chunk_id(&next[1..]) && is_chunk_id(&next[..4]) {
                return Err(fail(format!(
                    "invalid WAV file: chunk {} at byte {} has an odd size ({size} bytes) but \
                     no pad byte after it: chunk {} follows at once (RIFF chunks are \
                     word-aligned; sox and libsndfile refuse this file too)",
                    chunk_name(&id),
                    body - 8,
                    chunk_name(next[..4].try_into().expect("4 bytes"))
                )));
            }
        }
    }
}

/// A chunk id as text for messages: `fmt `, or its bytes when they are not printable.
fn chunk_name(id: &[u8; 4]) -> String {
    if is_chunk_id(id) {
        format!("`{}`", String::from_utf8_lossy(id))
    } else {
        format!("{id:02x?}")
    }
}

/// Chunk ids are four printable ASCII characters (`fmt `, `LIST`, `_PMX`).
fn is_chunk_id(id: &[u8]) -> bool {
    id[0] != b' ' && id.iter().all(|b| (0x20..0x7f).contains(b))
}

/// The fmt chunk: WAVEFORMAT (16 bytes), WAVEFORMATEX (+ cbSize) or WAVEFORMATEXTENSIBLE (40).
fn parse_fmt(path: &Path, b: &[u8]) -> Result<Fmt> {
    let fail = |msg: String| Error::format(path, format!("invalid WAV header: {msg}"));
    if b.len() < 16 {
        return Err(fail(format!(
            "the fmt chunk has {} bytes; at least 16 are needed",
            b.len()
        )));
    }
    let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let tag = u16_at(0);
    let channels = usize::from(u16_at(2));
    let sample_rate = u32::from_le_bytes(b[4..8].try_into().expect("4 bytes"));
    let block_align = usize::from(u16_at(12));
    let bits = usize::from(u16_at(14));
    let (format, valid_bits) = if tag == EXTENSIBLE {
        if b.len() < 40 || u16_at(16) < 22 {
            return Err(fail(format!(
                "a WAVE_FORMAT_EXTENSIBLE fmt chunk needs 40 bytes with cbSize 22, got {} bytes \
                 with cbSize {}",
                b.len(),
                if b.len() >= 18 { u16_at(16) } else { 0 }
            )));
        }
        let guid = &b[24..40];
        if guid[2..] != SUBTYPE_TAIL {
            return Err(Error::format(
                path,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE with sub-format GUID {} is not supported; {CONVERT}",
                    guid_text(guid)
                ),
            ));
        }
        (u16_at(24), usize::from(u16_at(18)))
    } else {
        (tag, 0)
    };
    let extensible = if tag == EXTENSIBLE {
        "WAVE_FORMAT_EXTENSIBLE with sub-format "
    } else {
        ""
    };
    let encoding = match format {
        PCM if bits <= 8 => Encoding::Unsigned8,
        PCM => Encoding::Int,
        IEEE_FLOAT if bits == 32 => Encoding::Float32,
        IEEE_FLOAT if bits == 64 => Encoding::Float64,
        IEEE_FLOAT => {
            return Err(fail(format!(
                "{bits}-bit float samples; float WAV has 32 or 64 bits per sample"
            )));
        }
        MULAW | ALAW if bits != 8 => {
            return Err(fail(format!(
                "{bits}-bit G.711 samples; mu-law and A-law have 8 bits per sample"
            )));
        }
        MULAW => Encoding::Mulaw,
        ALAW => Encoding::Alaw,
        other => {
            return Err(Error::format(
                path,
                format!(
                    "{extensible}{} is not supported; {CONVERT}",
                    format_name(other)
                ),
            ));
        }
    };
    if channels == 0 {
        return Err(fail("the fmt chunk declares 0 channels".into()));
    }
    // The container width: the block (one frame) split evenly between the channels. It holds
    // bits_per_sample rounded up to bytes; WAVE_FORMAT_EXTENSIBLE may declare fewer valid bits,
    // which are the top ones. Plain PCM with 24 bits in 4 bytes occurs in the wild and is read
    // the same way.
    let width = block_align / channels;
    let ok = block_align % channels == 0
        && (width == bits.div_ceil(8) || (encoding == Encoding::Int && bits == 24 && width == 4))
        && valid_bits <= 8 * width;
    if bits == 0 || (bits > 32 && encoding == Encoding::Int) {
        return Err(fail(format!(
            "{bits}-bit PCM samples; supported are 8, 16, 24 and 32 bits"
        )));
    }
    if !ok {
        return Err(fail(format!(
            "block align {block_align} does not fit {channels} channel(s) of {bits}-bit samples{}",
            if valid_bits > 0 {
                format!(" ({valid_bits} valid bits)")
            } else {
                String::new()
            }
        )));
    }
    Ok(Fmt {
        encoding,
        channels,
        sample_rate,
        width,
    })
}

/// A format tag as users know it (mmreg.h), for the unsupported ones people meet.
fn format_name(tag: u16) -> String {
    let name = match tag {
        0x0000 => "unknown format",
        0x0002 => "Microsoft ADPCM",
        0x0010 => "OKI ADPCM",
        0x0011 => "IMA ADPCM",
        0x0022 => "DSP Group TrueSpeech",
        0x0031 => "GSM 6.10",
        0x0040 => "G.721 ADPCM",
        0x0050 => "MPEG audio",
        0x0055 => "MPEG layer 3 (MP3)",
        0x00ff => "AAC",
        0x0161 => "Windows Media Audio",
        0x1610 => "HE-AAC",
        0x2000 => "AC-3",
        0xf1ac => "FLAC",
        _ => return format!("WAV format {tag:#06x}"),
    };
    format!("{name} (format {tag:#06x})")
}

/// A GUID in its registry form, {XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX} (the first three groups
/// are stored little endian).
fn guid_text(g: &[u8]) -> String {
    let hex = |bs: &[u8]| bs.iter().map(|b| format!("{b:02X}")).collect::<String>();
    let rev = |bs: &[u8]| hex(&bs.iter().rev().copied().collect::<Vec<_>>());
    format!(
        "{{{}-{}-{}-{}-{}}}",
        rev(&g[0..4]),
        rev(&g[4..6]),
        rev(&g[6..8]),
        hex(&g[8..10]),
        hex(&g[10..16])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_formats_are_named() {
        assert_eq!(format_name(0x11), "IMA ADPCM (format 0x0011)");
        assert_eq!(format_name(0x1234), "WAV format 0x1234");
        let mut pcm_guid = [0u8; 16];
        pcm_guid[0] = 1;
        pcm_guid[2..].copy_from_slice(&SUBTYPE_TAIL);
        assert_eq!(
            guid_text(&pcm_guid),
            "{00000001-0000-0010-8000-00AA00389B71}"
        );
    }

    #[test]
    fn chunk_ids_are_printable() {
        assert!(is_chunk_id(b"fmt ") && is_chunk_id(b"_PMX") && is_chunk_id(b"LIST"));
        assert!(!is_chunk_id(b"ata\x08") && !is_chunk_id(b" abc"));
        assert_eq!(chunk_name(b"LIST"), "`LIST`");
        assert_eq!(chunk_name(b"\0\x01ab"), "[00, 01, 61, 62]");
    }
}
