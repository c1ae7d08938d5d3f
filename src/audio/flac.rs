//! FLAC through claxon, any bit depth it decodes.

use std::io::{Cursor, Read};
use std::path::Path;

use claxon::FlacReader;

use super::pcm::Pick;
use super::{Channel, Waveform, int_scale, select_channel};
use crate::error::{Error, Result};

pub(super) fn decode(path: &Path, bytes: &[u8], channel: Channel) -> Result<Waveform> {
    let mut samples = Vec::new();
    let sample_rate = blocks(
        path,
        Cursor::new(bytes),
        channel,
        &mut samples,
        usize::MAX,
        &mut |_| Ok(()),
    )?;
    Ok(Waveform {
        samples,
        sample_rate,
    })
}

/// Decode the stream from `file` block by block, handing the mono samples to `each` whenever
/// `chunk` or more have gathered: only those are in memory.
pub(super) fn stream(
    path: &Path,
    file: std::fs::File,
    channel: Channel,
    chunk: usize,
    each: &mut dyn FnMut(&[f32]) -> Result<()>,
) -> Result<()> {
    let mut samples = Vec::with_capacity(chunk.min(1 << 24));
    blocks(path, file, channel, &mut samples, chunk, each)?;
    if !samples.is_empty() {
        each(&samples)?;
    }
    Ok(())
}

/// Decode every block of the stream in `input` into `samples`, handing them to `each` and
/// starting afresh whenever `flush_at` or more have gathered (`usize::MAX`: never, so
/// `samples` ends up holding the whole signal); what is left at the end stays in `samples`.
/// Returns the sample rate.
fn blocks<R: Read>(
    path: &Path,
    input: R,
    channel: Channel,
    samples: &mut Vec<f32>,
    flush_at: usize,
    each: &mut dyn FnMut(&[f32]) -> Result<()>,
) -> Result<u32> {
    let mut reader = FlacReader::new(input).map_err(|e| {
        let msg = match e {
            claxon::Error::IoError(e) => format!("truncated FLAC header ({e})"),
            e => format!("invalid FLAC header: {e}"),
        };
        Error::format(path, msg)
    })?;
    let info = reader.streaminfo();
    let pick = select_channel(path, info.channels as usize, channel)?;
    let scale = int_scale(info.bits_per_sample);
    // The declared length sizes the buffer, but is not trusted beyond a sane bound.
    let declared = info.samples;
    if flush_at == usize::MAX {
        samples.reserve(declared.unwrap_or(0).min(1 << 24) as usize);
    }
    // Samples handed on before those in `samples`.
    let mut done = 0usize;

    // Decode block by block into one reused buffer (claxon's per-sample iterator is slower).
    let mut blocks = reader.blocks();
    let mut buffer = Vec::new();
    loop {
        match blocks.read_next_or_eof(buffer) {
            Ok(Some(block)) => {
                // Each frame header carries its own channel assignment; claxon does not check it
                // against the stream info, and a block without the wanted channel would panic.
                if block.channels() != info.channels {
                    return Err(Error::format(
                        path,
                        format!(
                            "corrupt FLAC data after {} samples: a frame has {} channel(s) but \
                             the stream info declares {}",
                            done + samples.len(),
                            block.channels(),
                            info.channels
                        ),
                    ));
                }
                match pick {
                    Pick::One(c) => {
                        samples.extend(block.channel(c as u32).iter().map(|&s| s as f32 * scale))
                    }
                    Pick::Mean => {
                        let n = info.channels as f32;
                        samples.extend((0..block.duration()).map(|i| {
                            let sum: f32 = (0..info.channels)
                                .map(|c| block.sample(c, i) as f32 * scale)
                                .sum();
                            sum / n
                        }));
                    }
                }
                buffer = block.into_buffer();
                if samples.len() >= flush_at {
                    each(samples)?;
                    done += samples.len();
                    samples.clear();
                }
            }
            Ok(None) => break,
            Err(e) => {
                let msg = match e {
                    claxon::Error::IoError(_) => format!(
                        "truncated data: the stream ends inside a frame after {} samples{}",
                        done + samples.len(),
                        declared.map_or(String::new(), |n| format!(" of the {n} declared"))
                    ),
                    e => format!(
                        "corrupt FLAC data after {} samples: {e}",
                        done + samples.len()
                    ),
                };
                return Err(Error::format(path, msg));
            }
        }
    }
    if let Some(n) = declared
        && ((done + samples.len()) as u64) < n
    {
        return Err(Error::format(
            path,
            format!(
                "truncated data: the stream declares {n} samples but holds only {}",
                done + samples.len()
            ),
        ));
    }
    Ok(info.sample_rate)
}
