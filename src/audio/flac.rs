//! FLAC through claxon, any bit depth it decodes.

use std::io::Cursor;
use std::path::Path;

use claxon::FlacReader;

use super::pcm::Pick;
use super::{Channel, Waveform, int_scale, select_channel};
use crate::error::{Error, Result};

pub(super) fn decode(path: &Path, bytes: &[u8], channel: Channel) -> Result<Waveform> {
    let mut reader = FlacReader::new(Cursor::new(bytes)).map_err(|e| {
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
    let mut samples = Vec::with_capacity(declared.unwrap_or(0).min(1 << 24) as usize);

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
                            samples.len(),
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
            }
            Ok(None) => break,
            Err(e) => {
                let msg = match e {
                    claxon::Error::IoError(_) => format!(
                        "truncated data: the stream ends inside a frame after {} samples{}",
                        samples.len(),
                        declared.map_or(String::new(), |n| format!(" of the {n} declared"))
                    ),
                    e => format!("corrupt FLAC data after {} samples: {e}", samples.len()),
                };
                return Err(Error::format(path, msg));
            }
        }
    }
    if let Some(n) = declared
        && (samples.len() as u64) < n
    {
        return Err(Error::format(
            path,
            format!(
                "truncated data: the stream declares {n} samples but holds only {}",
                samples.len()
            ),
        ));
    }
    Ok(Waveform {
        samples,
        sample_rate: info.sample_rate,
    })
}
