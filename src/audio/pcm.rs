//! Interleaved samples to one mono channel, shared by the WAV, SPHERE and FLAC readers.
//!
//! Decoding goes straight from the file's bytes, one frame at a time, with the sample decoder
//! inlined into the loop: a few nanoseconds a sample (hound's per-sample iterator costs about ten
//! times as much).

/// Which samples of each frame make the mono signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pick {
    /// One channel, by index.
    One(usize),
    /// The mean of all channels.
    Mean,
}

/// Where the samples lie in the data: `channels` interleaved samples of `width` bytes per frame.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    /// Bytes per sample.
    pub width: usize,
    pub channels: usize,
}

/// Append the mono signal of the first `frames` frames of `data` to `out`: each sample decoded
/// from its `width` bytes by `decode`, then picked or averaged across channels. `data` must hold
/// at least `frames` whole frames.
pub(super) fn gather(
    data: &[u8],
    frames: usize,
    layout: Layout,
    pick: Pick,
    decode: impl Fn(&[u8]) -> f32,
    out: &mut Vec<f32>,
) {
    let Layout { width, channels } = layout;
    let stride = width * channels;
    let frames = data[..frames * stride].chunks_exact(stride);
    out.reserve(frames.len());
    match pick {
        Pick::One(c) => {
            let at = c * width;
            out.extend(frames.map(|f| decode(&f[at..at + width])));
        }
        Pick::Mean => {
            let n = channels as f32;
            out.extend(frames.map(|f| f.chunks_exact(width).map(&decode).sum::<f32>() / n));
        }
    }
}

/// A decoder for `width`-byte signed integers (`width` in 2..=4) in either byte order, scaled by
/// `scale`.
pub(super) fn int_decoder(width: usize, big_endian: bool, scale: f32) -> impl Fn(&[u8]) -> f32 {
    move |b: &[u8]| {
        // Assemble into the top bytes of a u32, then shift down arithmetically to sign-extend.
        let mut v: u32 = 0;
        for k in 0..width {
            let byte = if big_endian { b[k] } else { b[width - 1 - k] };
            v = (v << 8) | u32::from(byte);
        }
        let shift = 32 - 8 * width as u32;
        (((v << shift) as i32) >> shift) as f32 * scale
    }
}

/// Append the integer samples of `data` to `out` (see [`gather`]); 16-bit little endian, the
/// common case, gets its own decoder so that it compiles to a tight loop.
pub(super) fn gather_int(
    data: &[u8],
    frames: usize,
    layout: Layout,
    pick: Pick,
    big_endian: bool,
    scale: f32,
    out: &mut Vec<f32>,
) {
    match (layout.width, big_endian) {
        (2, false) => gather(
            data,
            frames,
            layout,
            pick,
            |b| f32::from(i16::from_le_bytes([b[0], b[1]])) * scale,
            out,
        ),
        (w, be) => gather(data, frames, layout, pick, int_decoder(w, be, scale), out),
    }
}

/// Read `frames` frames of `stride` bytes from `file`, which is at their start, `chunk` at a
/// time (the last piece may be shorter): `decode` appends a piece's mono samples to the buffer
/// given (it is told the index of the piece's first frame), and `each` gets them.
pub(super) fn stream_frames(
    path: &std::path::Path,
    file: &mut std::fs::File,
    frames: u64,
    stride: usize,
    chunk: usize,
    mut decode: impl FnMut(&[u8], usize, &mut Vec<f32>) -> crate::Result<()>,
    each: &mut dyn FnMut(&[f32]) -> crate::Result<()>,
) -> crate::Result<()> {
    use std::io::Read;
    let chunk = chunk
        .max(1)
        .min(usize::try_from(frames).unwrap_or(usize::MAX));
    let mut bytes = vec![0u8; chunk * stride];
    let mut samples = Vec::with_capacity(chunk);
    let mut done = 0u64;
    while done < frames {
        let n = (frames - done).min(chunk as u64) as usize;
        let piece = &mut bytes[..n * stride];
        file.read_exact(piece)
            .map_err(|e| crate::Error::io(path, e))?;
        samples.clear();
        decode(piece, done as usize, &mut samples)?;
        each(&samples)?;
        done += n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_and_byte_orders_sign_extend() {
        let mut out = Vec::new();
        let le = Layout {
            width: 3,
            channels: 1,
        };
        let data = [0x00, 0x00, 0x80, 0xff, 0xff, 0x7f];
        gather_int(&data, 2, le, Pick::One(0), false, 1.0, &mut out);
        assert_eq!(out, [-8_388_608.0, 8_388_607.0]);
        out.clear();
        let be = Layout {
            width: 2,
            channels: 2,
        };
        let data = [0, 1, 0xff, 0xfe, 0, 2, 0x01, 0x00];
        gather_int(&data, 2, be, Pick::One(1), true, 1.0, &mut out);
        assert_eq!(out, [-2.0, 256.0]);
    }

    #[test]
    fn mean_averages_every_channel_of_a_frame() {
        // Three channels of 16-bit little endian: (1, 2, 6) and (-3, 0, 0).
        let data: Vec<u8> = [1i16, 2, 6, -3, 0, 0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let layout = Layout {
            width: 2,
            channels: 3,
        };
        let mut out = Vec::new();
        gather_int(&data, 2, layout, Pick::Mean, false, 1.0, &mut out);
        assert_eq!(out, [3.0, -1.0]);
    }
}
