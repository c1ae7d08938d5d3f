//! Raw interleaved integer PCM, shared by the WAV and SPHERE readers.
//!
//! Decoding straight from the file's bytes, one frame at a time, costs a few nanoseconds a sample
//! (hound's per-sample iterator costs about ten times as much).

/// Append channel `ch` of `frames` interleaved frames of `width`-byte signed integers (`width` in
/// 2..=4) to `out`, multiplied by `scale`. `data` must hold at least `frames` whole frames.
pub(super) fn decode_int(
    data: &[u8],
    frames: usize,
    layout: Layout,
    scale: f32,
    out: &mut Vec<f32>,
) {
    let Layout {
        width,
        channels,
        channel,
        big_endian,
    } = layout;
    let at = channel * width;
    let frames = data[..frames * width * channels].chunks_exact(width * channels);
    out.reserve(frames.len());
    match (width, big_endian) {
        // 16 bits, the common case, has its own loop so that it compiles to a tight one.
        (2, false) => {
            out.extend(frames.map(|f| f32::from(i16::from_le_bytes([f[at], f[at + 1]])) * scale))
        }
        (2, true) => {
            out.extend(frames.map(|f| f32::from(i16::from_be_bytes([f[at], f[at + 1]])) * scale))
        }
        _ => out.extend(frames.map(|f| {
            // Assemble into the top bytes of a u32, then shift down arithmetically to
            // sign-extend.
            let mut v: u32 = 0;
            for k in 0..width {
                let b = if big_endian {
                    f[at + k]
                } else {
                    f[at + width - 1 - k]
                };
                v = (v << 8) | u32::from(b);
            }
            let shift = 32 - 8 * width as u32;
            (((v << shift) as i32) >> shift) as f32 * scale
        })),
    }
}

/// Where one channel's samples lie in interleaved frames.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    /// Bytes per sample.
    pub width: usize,
    pub channels: usize,
    /// The channel to take.
    pub channel: usize,
    pub big_endian: bool,
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
            channel: 0,
            big_endian: false,
        };
        decode_int(&[0x00, 0x00, 0x80, 0xff, 0xff, 0x7f], 2, le, 1.0, &mut out);
        assert_eq!(out, [-8_388_608.0, 8_388_607.0]);
        out.clear();
        let be = Layout {
            width: 2,
            channels: 2,
            channel: 1,
            big_endian: true,
        };
        decode_int(&[0, 1, 0xff, 0xfe, 0, 2, 0x01, 0x00], 2, be, 1.0, &mut out);
        assert_eq!(out, [-2.0, 256.0]);
    }
}
