//! NIST SPHERE, the format of the TIMIT CD-ROM (and of WSJ, Switchboard, ...).
//!
//! A SPHERE file is an ASCII header followed by raw samples. The header starts with the two lines
//! `NIST_1A` and the header size in bytes (1024 unless a header needs more), then holds
//! `name -type value` lines (`-i` integer, `-r` real, `-sN` a string of exactly N bytes, which may
//! contain spaces) up to `end_head`, padded with spaces to the declared size. No crate reads it,
//! and the part speech corpora use is small enough to write down here.

use std::path::Path;

use super::pcm::{self, Layout};
use super::{Channel, Waveform, g711, int_scale, select_channel};
use crate::error::{Error, Result};

/// The header fields that decide how to decode the samples.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Header {
    /// Bytes before the first sample.
    pub size: usize,
    pub sample_count: Option<u64>,
    pub sample_rate: Option<u64>,
    pub channel_count: Option<u64>,
    pub sample_n_bytes: Option<u64>,
    pub sample_byte_format: Option<String>,
    pub sample_coding: Option<String>,
}

enum Coding {
    Pcm { big_endian: bool },
    Ulaw,
    Alaw,
}

/// How the samples after a header are decoded.
struct Plan {
    /// Frames (samples per channel) declared.
    count: usize,
    rate: u32,
    layout: Layout,
    pick: pcm::Pick,
    coding: Coding,
}

/// The decoding plan of header `h` followed by `data_len` bytes: refused when a field is
/// missing or unsupported, or when the bytes are fewer than the header declares.
fn plan(path: &Path, h: &Header, channel: Channel, data_len: u64) -> Result<Plan> {
    let require = |v: Option<u64>, name: &str| {
        v.ok_or_else(|| Error::format(path, format!("SPHERE header lacks the `{name}` field")))
    };
    let count = require(h.sample_count, "sample_count")?;
    let rate = require(h.sample_rate, "sample_rate")?;
    let n_bytes = require(h.sample_n_bytes, "sample_n_bytes")?;
    let channels = h.channel_count.unwrap_or(1);
    let rate = u32::try_from(rate)
        .map_err(|_| Error::format(path, format!("sample_rate {rate} is out of range")))?;
    let channels_usize = usize::try_from(channels).unwrap_or(usize::MAX);
    let pick = select_channel(path, channels_usize, channel)?;
    let coding = coding(path, h, n_bytes)?;
    let needed = count
        .checked_mul(n_bytes)
        .and_then(|n| n.checked_mul(channels));
    match needed {
        Some(n) if n <= data_len => {}
        _ => {
            return Err(Error::format(
                path,
                format!(
                    "truncated data: the header declares {count} samples x {channels} channel(s) \
                     x {n_bytes} bytes but only {data_len} bytes follow the {}-byte header",
                    h.size
                ),
            ));
        }
    }
    Ok(Plan {
        count: count as usize,
        rate,
        layout: Layout {
            width: n_bytes as usize,
            channels: channels_usize,
        },
        pick,
        coding,
    })
}

/// Append the mono samples of the first `frames` frames of `data` to `out`.
fn gather(plan: &Plan, data: &[u8], frames: usize, out: &mut Vec<f32>) {
    let lookup = |table: &'static [i16; 256]| move |b: &[u8]| f32::from(table[usize::from(b[0])]);
    let (layout, pick) = (plan.layout, plan.pick);
    match plan.coding {
        Coding::Ulaw => pcm::gather(data, frames, layout, pick, lookup(&g711::ULAW), out),
        Coding::Alaw => pcm::gather(data, frames, layout, pick, lookup(&g711::ALAW), out),
        Coding::Pcm { big_endian } => pcm::gather_int(
            data,
            frames,
            layout,
            pick,
            big_endian,
            int_scale(8 * layout.width as u32),
            out,
        ),
    }
}

pub(super) fn decode(path: &Path, bytes: &[u8], channel: Channel) -> Result<Waveform> {
    let h = parse_header(path, bytes)?;
    let data = &bytes[h.size..];
    let plan = plan(path, &h, channel, data.len() as u64)?;
    // No samples is reported by the caller as "no audio samples"; returning here also keeps a
    // huge channel_count from overflowing the frame stride.
    let mut samples = Vec::with_capacity(plan.count);
    if plan.count > 0 {
        // Trailing bytes past the declared samples are ignored, as sph2pipe does.
        gather(&plan, data, plan.count, &mut samples);
    }
    Ok(Waveform {
        samples,
        sample_rate: plan.rate,
    })
}

/// Read the samples `chunk` frames at a time, handing each piece's mono samples to `each`. The
/// header is read from the file's first 64 KiB (as `probe` reads it); a longer header
/// is an error here, and the caller reads such a file whole instead.
pub(super) fn stream(
    path: &Path,
    file: &mut std::fs::File,
    channel: Channel,
    chunk: usize,
    each: &mut dyn FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let io = |e: std::io::Error| Error::io(path, e);
    let len = file.metadata().map_err(io)?.len();
    let mut head = Vec::new();
    file.rewind().map_err(io)?;
    file.take(len.min(1 << 16))
        .read_to_end(&mut head)
        .map_err(io)?;
    let h = parse_header(path, &head)?;
    let plan = plan(path, &h, channel, len.saturating_sub(h.size as u64))?;
    if plan.count == 0 {
        return Ok(());
    }
    let stride = plan.layout.width * plan.layout.channels;
    file.seek(SeekFrom::Start(h.size as u64)).map_err(io)?;
    let decode = |piece: &[u8], _: usize, out: &mut Vec<f32>| {
        gather(&plan, piece, piece.len() / stride, out);
        Ok(())
    };
    pcm::stream_frames(path, file, plan.count as u64, stride, chunk, decode, each)
}

fn coding(path: &Path, h: &Header, n_bytes: u64) -> Result<Coding> {
    let coding = h
        .sample_coding
        .as_deref()
        .unwrap_or("pcm")
        .to_ascii_lowercase();
    let order = h.sample_byte_format.as_deref().unwrap_or("");
    if ["shorten", "wavpack", "shortpack"]
        .iter()
        .any(|c| coding.contains(c) || order.contains(c))
    {
        return Err(Error::format(
            path,
            format!(
                "SPHERE sample_coding `{coding}` is compressed, which is not supported; \
                 decompress first with sph2pipe (e.g. `sph2pipe -f sph in.sph out.sph` or \
                 `sph2pipe -f wav in.sph out.wav`)"
            ),
        ));
    }
    match coding.as_str() {
        "ulaw" | "mu-law" if n_bytes == 1 => return Ok(Coding::Ulaw),
        "alaw" | "a-law" if n_bytes == 1 => return Ok(Coding::Alaw),
        "pcm" | "linear" => {}
        _ => {
            return Err(Error::format(
                path,
                format!(
                    "unsupported SPHERE sample_coding `{coding}` with {n_bytes}-byte samples; \
                     supported are pcm (2, 3 or 4 bytes), ulaw and alaw (1 byte)"
                ),
            ));
        }
    }
    if !(2..=4).contains(&n_bytes) {
        return Err(Error::format(
            path,
            format!("unsupported SPHERE sample_n_bytes {n_bytes} for pcm; supported are 2, 3, 4"),
        ));
    }
    // The byte format lists the byte significance order: "01" little endian, "10" big endian.
    let n = n_bytes as u8;
    let ascending: String = (0..n).map(|k| char::from(b'0' + k)).collect();
    let descending: String = (0..n).rev().map(|k| char::from(b'0' + k)).collect();
    if order == ascending {
        Ok(Coding::Pcm { big_endian: false })
    } else if order == descending {
        Ok(Coding::Pcm { big_endian: true })
    } else if order.is_empty() {
        Err(Error::format(
            path,
            "SPHERE header lacks the `sample_byte_format` field (01 little endian, 10 big endian)",
        ))
    } else {
        Err(Error::format(
            path,
            format!(
                "unsupported SPHERE sample_byte_format `{order}` for {n_bytes}-byte samples; \
                 expected {ascending} (little endian) or {descending} (big endian)"
            ),
        ))
    }
}

/// Parse the header; errors inside it name the header line.
pub(super) fn parse_header(path: &Path, bytes: &[u8]) -> Result<Header> {
    let truncated = |what: &str| Error::format(path, format!("truncated SPHERE header: {what}"));
    // Line 1 is "NIST_1A"; line 2 is the header size, right-aligned in 7 characters.
    let line_end = |from: usize| {
        bytes[from..bytes.len().min(from + 64)]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| from + p)
    };
    let l1 = line_end(0).ok_or_else(|| truncated("no end to the first line"))?;
    let l2 = line_end(l1 + 1).ok_or_else(|| truncated("no header-size line"))?;
    let size_text = std::str::from_utf8(&bytes[l1 + 1..l2]).unwrap_or("").trim();
    let size: usize = size_text.parse().map_err(|_| {
        Error::at_line(
            path,
            2,
            format!("SPHERE header size `{size_text}` is not a number"),
        )
    })?;
    if size <= l2 || size > 1 << 24 {
        return Err(Error::at_line(
            path,
            2,
            format!("implausible SPHERE header size {size}"),
        ));
    }
    if bytes.len() < size {
        return Err(truncated(&format!(
            "it declares {size} bytes but the file has only {}",
            bytes.len()
        )));
    }

    let mut h = Header {
        size,
        ..Header::default()
    };
    let text = &bytes[l2 + 1..size];
    let mut pos = 0;
    let mut line_no = 2;
    loop {
        line_no += 1;
        let Some(len) = text[pos..].iter().position(|&b| b == b'\n') else {
            return Err(Error::format(
                path,
                format!("SPHERE header has no `end_head` line within its {size} bytes"),
            ));
        };
        let line = &text[pos..pos + len];
        pos += len + 1;
        let at_line = |msg: String| Error::at_line(path, line_no, msg);
        let line = std::str::from_utf8(line)
            .map_err(|_| at_line("SPHERE header line is not ASCII".into()))?
            .trim_end_matches('\r');
        if line.trim() == "end_head" {
            return Ok(h);
        }
        if line.trim().is_empty() || line.starts_with(';') {
            continue;
        }
        let (name, value) = field(line).map_err(at_line)?;
        let int = |v: &str| {
            v.trim().parse::<u64>().map_err(|_| {
                at_line(format!(
                    "`{name}` should be a non-negative integer, got `{v}`"
                ))
            })
        };
        match name {
            "sample_count" => h.sample_count = Some(int(value)?),
            "sample_rate" => {
                h.sample_rate = Some(rate(value).ok_or_else(|| {
                    at_line(format!(
                        "`sample_rate` should be a positive number, got `{value}`"
                    ))
                })?)
            }
            "channel_count" => h.channel_count = Some(int(value)?),
            "sample_n_bytes" => h.sample_n_bytes = Some(int(value)?),
            "sample_byte_format" => h.sample_byte_format = Some(value.trim().to_string()),
            "sample_coding" => h.sample_coding = Some(value.trim().to_string()),
            _ => {}
        }
    }
}

/// Split `name -type value`. A `-sN` value is exactly N bytes and may hold spaces.
fn field(line: &str) -> std::result::Result<(&str, &str), String> {
    let bad = || format!("expected `name -type value` in the SPHERE header, got `{line}`");
    let (name, rest) = line.split_once(' ').ok_or_else(bad)?;
    let rest = rest.trim_start_matches(' ');
    let (kind, value) = rest.split_once(' ').unwrap_or((rest, ""));
    match kind.as_bytes() {
        [b'-', b's', len @ ..] if !len.is_empty() => {
            let n: usize = kind[2..].parse().map_err(|_| bad())?;
            let value = value.get(..n).ok_or_else(|| {
                format!("`{name}` declares a {n}-character string but the line is shorter")
            })?;
            Ok((name, value))
        }
        b"-i" | b"-r" => Ok((name, value)),
        _ => Err(bad()),
    }
}

/// Sample rates are usually `-i`, but some files write them as reals (`-r 16000.000000`).
fn rate(v: &str) -> Option<u64> {
    let v = v.trim();
    v.parse::<u64>().ok().or_else(|| {
        let r: f64 = v.parse().ok()?;
        (r.fract() == 0.0 && r > 0.0 && r < 1e9).then_some(r as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(lines: &str, size: usize) -> Vec<u8> {
        let mut h = format!("NIST_1A\n{size:7}\n{lines}end_head\n").into_bytes();
        h.resize(size, b' ');
        h
    }

    #[test]
    fn header_fields_parse_including_strings_with_spaces() {
        let bytes = header(
            "database_id -s5 TIMIT\nsample_count -i 68813\nsample_rate -r 16000.000\n\
             utterance_id -s11 a b c d e f\nsample_byte_format -s2 10\nsample_n_bytes -i 2\n",
            1024,
        );
        let h = parse_header(Path::new("h.sph"), &bytes).unwrap();
        assert_eq!(h.size, 1024);
        assert_eq!(h.sample_count, Some(68813));
        assert_eq!(h.sample_rate, Some(16000));
        assert_eq!(h.sample_byte_format.as_deref(), Some("10"));
        assert_eq!(h.channel_count, None);
    }

    #[test]
    fn bad_header_lines_are_named_by_line_number() {
        let bytes = header("sample_count -i 12\nsample_rate -i sixteen\n", 1024);
        let e = parse_header(Path::new("h.sph"), &bytes)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("h.sph:4:") && e.contains("sixteen"), "{e}");
        let bytes = header("sample_count 12\n", 1024);
        let e = parse_header(Path::new("h.sph"), &bytes)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("h.sph:3:") && e.contains("name -type value"),
            "{e}"
        );
    }

    #[test]
    fn header_without_end_head_is_an_error() {
        let mut bytes = b"NIST_1A\n   1024\nsample_count -i 1\n".to_vec();
        bytes.resize(1024, b' ');
        let e = parse_header(Path::new("h.sph"), &bytes)
            .unwrap_err()
            .to_string();
        assert!(e.contains("end_head"), "{e}");
    }
}
