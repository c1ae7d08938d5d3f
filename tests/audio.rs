//! Reading audio: golden samples from the TIMIT sample, every supported encoding, and the errors a
//! user sees for bad input (each must name the file and say what is wrong).

mod common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use asrpipe::audio::{Channel, ReadOptions, Waveform, read};
use rand::{RngCore, SeedableRng};
use tempfile::TempDir;

fn mono() -> ReadOptions {
    ReadOptions::default()
}

fn channel(c: usize) -> ReadOptions {
    ReadOptions {
        channel: Channel::Index(c),
        ..ReadOptions::default()
    }
}

fn write(dir: &TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Read `path` expecting an error that names the file and contains every one of `says`.
fn error_of(path: &Path, opts: &ReadOptions, says: &[&str]) -> String {
    let msg = match read(path, opts) {
        Ok(w) => panic!("{} read fine ({} samples)", path.display(), w.samples.len()),
        Err(e) => e.to_string(),
    };
    assert!(
        msg.contains(&path.display().to_string()),
        "error does not name the file: {msg}"
    );
    for s in says {
        assert!(msg.contains(s), "error lacks {s:?}: {msg}");
    }
    msg
}

fn wav_bytes<S: hound::Sample + Copy>(spec: hound::WavSpec, samples: &[S]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    out.into_inner()
}

fn int_spec(channels: u16, rate: u32, bits: u16) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    }
}

fn float_spec(channels: u16) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: 16000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    }
}

/// A NIST SPHERE file: `header_size` bytes of `name -type value` lines, then `body`.
fn sphere(fields: &[(&str, &str)], header_size: usize, body: &[u8]) -> Vec<u8> {
    let mut h = format!("NIST_1A\n{header_size:7}\n");
    for (name, value) in fields {
        let kind = if value.parse::<i64>().is_ok() {
            "-i".to_string()
        } else {
            format!("-s{}", value.len())
        };
        h += &format!("{name} {kind} {value}\n");
    }
    h += "end_head\n";
    let mut bytes = h.into_bytes();
    assert!(bytes.len() <= header_size);
    bytes.resize(header_size, b' ');
    bytes.extend_from_slice(body);
    bytes
}

fn pcm16_fields<'a>(count: &'a str, order: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("sample_count", count),
        ("sample_rate", "16000"),
        ("channel_count", "1"),
        ("sample_n_bytes", "2"),
        ("sample_byte_format", order),
    ]
}

fn sum_of_squares(w: &Waveform) -> f64 {
    w.samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
}

fn sum(w: &Waveform) -> f64 {
    w.samples.iter().map(|&s| f64::from(s)).sum()
}

// --- golden numbers from the TIMIT sample ---------------------------------------------------
//
// The reference values below were obtained once with sox 14.4.2:
//   sox -t sph dr1-fvmh0/si836.wav -t raw -e signed -b 16 -L si836.raw
//   sox dr1-fvmh0/sa1.wav -t raw -e signed -b 16 -L sa1.raw
// and, in Python over the little-endian int16 values, the count, the first ten, the sum, the sum
// of squares, the minimum and the maximum. For si836 the minimum and maximum also equal the
// header's sample_min and sample_max fields.

#[test]
fn timit_sphere_si836_matches_sox() {
    let Some(root) = common::timit_sample() else {
        return;
    };
    let path = root.join("dr1-fvmh0/si836.wav");
    assert!(std::fs::read(&path).unwrap().starts_with(b"NIST_1A"));
    let w = read(&path, &mono()).unwrap();
    assert_eq!(w.sample_rate, 16000);
    assert_eq!(w.samples.len(), 68813);
    assert_eq!(w.samples[..10], [37., -2., 13., 0., 5., 2., 3., 2., 1., 2.]);
    assert_eq!(sum(&w), 24162.0);
    assert_eq!(sum_of_squares(&w), 40_590_638_398.0);
    let min = w.samples.iter().copied().fold(f32::INFINITY, f32::min);
    let max = w.samples.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert_eq!((min, max), (-6058.0, 8163.0));
}

#[test]
fn timit_riff_sa1_matches_sox() {
    let Some(root) = common::timit_sample() else {
        return;
    };
    let path = root.join("dr1-fvmh0/sa1.wav");
    assert!(std::fs::read(&path).unwrap().starts_with(b"RIFF"));
    let w = read(&path, &mono()).unwrap();
    assert_eq!(w.sample_rate, 16000);
    assert_eq!(w.samples.len(), 54682);
    assert_eq!(w.samples[..10], [-1., 4., 1., 2., 4., 2., 1., 4., 3., 3.]);
    assert_eq!(sum(&w), 23513.0);
    assert_eq!(sum_of_squares(&w), 74_367_974_821.0);
    let min = w.samples.iter().copied().fold(f32::INFINITY, f32::min);
    let max = w.samples.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert_eq!((min, max), (-7789.0, 9626.0));
}

#[test]
fn timit_all_160_files_match_sox_totals() {
    // Totals over all 160 files with the same sox conversion (sorted dr*/ *.wav):
    // 7841548 samples, sum -86076, sum of squares 2339425163528.
    let Some(root) = common::timit_sample() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).into_iter().flatten())
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 160);
    let (mut n, mut s, mut ss) = (0usize, 0f64, 0f64);
    let opts = ReadOptions {
        sample_rate: Some(16000),
        ..ReadOptions::default()
    };
    for f in &files {
        let w = read(f, &opts).unwrap();
        n += w.samples.len();
        s += sum(&w);
        ss += sum_of_squares(&w);
    }
    assert_eq!((n, s, ss), (7_841_548, -86_076.0, 2_339_425_163_528.0));
}

#[test]
fn big_endian_and_long_header_sphere_read_identically() {
    let Some(root) = common::timit_sample() else {
        return;
    };
    let original = read(&root.join("dr1-fvmh0/si836.wav"), &mono()).unwrap();
    let bytes = std::fs::read(root.join("dr1-fvmh0/si836.wav")).unwrap();
    let body = &bytes[1024..];
    let swapped: Vec<u8> = body.chunks(2).flat_map(|p| [p[1], p[0]]).collect();
    let dir = TempDir::new().unwrap();
    let count = original.samples.len().to_string();

    let be = write(
        &dir,
        "be.sph",
        &sphere(&pcm16_fields(&count, "10"), 1024, &swapped),
    );
    assert_eq!(read(&be, &mono()).unwrap(), original);
    // A header may be longer than 1024 bytes; its size is on line 2.
    let long = write(
        &dir,
        "long.sph",
        &sphere(&pcm16_fields(&count, "01"), 4096, body),
    );
    assert_eq!(read(&long, &mono()).unwrap(), original);
}

// --- encodings and scale ------------------------------------------------------------------

#[test]
fn sphere_wide_samples_and_channels_scale_to_16_bits() {
    let dir = TempDir::new().unwrap();
    let values: [i32; 6] = [-8_388_608, -1, 0, 1, 8_388_607, 256_000];
    for (order, big) in [("012", false), ("210", true)] {
        let body: Vec<u8> = values
            .iter()
            .flat_map(|v| {
                let b = v.to_le_bytes();
                if big {
                    [b[2], b[1], b[0]]
                } else {
                    [b[0], b[1], b[2]]
                }
            })
            .collect();
        let fields = [
            ("sample_count", "6"),
            ("sample_rate", "8000"),
            ("sample_n_bytes", "3"),
            ("sample_byte_format", order),
            ("sample_coding", "pcm"),
        ];
        let p = write(&dir, "s24.sph", &sphere(&fields, 1024, &body));
        let w = read(&p, &mono()).unwrap();
        let want: Vec<f32> = values.iter().map(|&v| v as f32 / 256.0).collect();
        assert_eq!((w.samples, w.sample_rate), (want, 8000));
    }
    // Two interleaved 32-bit little-endian channels.
    let frames: [[i32; 2]; 3] = [[65536, -65536], [i32::MAX, i32::MIN], [3 << 16, 7 << 16]];
    let body: Vec<u8> = frames
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let fields = [
        ("sample_count", "3"),
        ("sample_rate", "16000"),
        ("channel_count", "2"),
        ("sample_n_bytes", "4"),
        ("sample_byte_format", "0123"),
    ];
    let p = write(&dir, "s32.sph", &sphere(&fields, 1024, &body));
    let right = read(&p, &channel(1)).unwrap();
    assert_eq!(right.samples, [-1.0, -32768.0, 7.0]);
    let left = read(&p, &channel(0)).unwrap();
    assert_eq!(left.samples, [1.0, i32::MAX as f32 / 65536.0, 3.0]);
}

#[test]
fn sphere_mulaw_decodes_like_sox() {
    // Reference: this file (the bytes 0..=255, sample_coding ulaw) converted by
    // `sox -t sph ulaw.sph -t raw -e signed -b 16 -L -`: sum 0, sum of squares 26310951424,
    // first values -32124 -31100 -30076 -29052, byte 0x80 -> 32124, 0xff -> 0.
    let dir = TempDir::new().unwrap();
    let body: Vec<u8> = (0..=255).collect();
    let fields = [
        ("sample_count", "256"),
        ("sample_rate", "8000"),
        ("channel_count", "1"),
        ("sample_n_bytes", "1"),
        ("sample_coding", "ulaw"),
    ];
    let w = read(
        &write(&dir, "u.sph", &sphere(&fields, 1024, &body)),
        &mono(),
    )
    .unwrap();
    assert_eq!(w.samples[..4], [-32124., -31100., -30076., -29052.]);
    assert_eq!((w.samples[0x80], w.samples[0xff]), (32124., 0.));
    assert_eq!((sum(&w), sum_of_squares(&w)), (0.0, 26_310_951_424.0));
}

#[test]
fn wav_bit_depths_scale_to_16_bits() {
    let dir = TempDir::new().unwrap();
    let ints16: [i16; 4] = [i16::MIN, -1, 0, i16::MAX];
    let p = write(&dir, "i16.wav", &wav_bytes(int_spec(1, 16000, 16), &ints16));
    let w = read(&p, &mono()).unwrap();
    assert_eq!(w.samples, [-32768.0, -1.0, 0.0, 32767.0]);

    // hound writes depths above 16 bits as WAVE_FORMAT_EXTENSIBLE (format tag 0xFFFE).
    let ints24: [i32; 4] = [-8_388_608, -256, 256 * 1234, 8_388_607];
    let bytes = wav_bytes(int_spec(1, 16000, 24), &ints24);
    assert_eq!(bytes[20..22], [0xfe, 0xff]);
    let w = read(&write(&dir, "i24.wav", &bytes), &mono()).unwrap();
    assert_eq!(w.samples, [-32768.0, -1.0, 1234.0, 8_388_607.0 / 256.0]);

    let ints32: [i32; 3] = [i32::MIN, -65536, 100 << 16];
    let p = write(&dir, "i32.wav", &wav_bytes(int_spec(1, 16000, 32), &ints32));
    assert_eq!(read(&p, &mono()).unwrap().samples, [-32768.0, -1.0, 100.0]);

    let floats: [f32; 4] = [-1.0, -0.5, 0.25, 1.0 / 32768.0];
    let p = write(&dir, "f32.wav", &wav_bytes(float_spec(1), &floats));
    assert_eq!(
        read(&p, &mono()).unwrap().samples,
        [-32768.0, -16384.0, 8192.0, 1.0]
    );
}

#[test]
fn wav_24_bits_in_4_bytes_are_left_justified() {
    // WAVE_FORMAT_EXTENSIBLE with 24 valid bits in a 32-bit container keeps the valid bits at
    // the top. hound writes the header; the data is then moved up one byte (hound itself would
    // store the samples right-justified).
    let values: [i32; 3] = [-8_388_608, 256 * 77, 8_388_607];
    let spec = hound::WavSpecEx {
        spec: int_spec(1, 16000, 24),
        bytes_per_sample: 4,
    };
    let mut out = Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new_with_spec_ex(&mut out, spec).unwrap();
    for v in values {
        w.write_sample(v).unwrap();
    }
    w.finalize().unwrap();
    let mut bytes = out.into_inner();
    assert_eq!(bytes[20..22], [0xfe, 0xff]);
    let data = bytes.len() - 4 * values.len();
    for (k, v) in values.iter().enumerate() {
        bytes[data + 4 * k..data + 4 * k + 4].copy_from_slice(&(v << 8).to_le_bytes());
    }
    let dir = TempDir::new().unwrap();
    let w = read(&write(&dir, "i24in32.wav", &bytes), &mono()).unwrap();
    assert_eq!(w.samples, [-32768.0, 77.0, 8_388_607.0 / 256.0]);
}

#[test]
fn wav_8_bit_is_unsigned() {
    // Written by hand (not by hound) so that the unsigned convention is checked independently:
    // a canonical 44-byte PCM header, then the bytes 0, 128, 255.
    let data = [0u8, 128, 255];
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&8000u32.to_le_bytes()); // rate
    b.extend_from_slice(&8000u32.to_le_bytes()); // bytes per second
    b.extend_from_slice(&1u16.to_le_bytes()); // block align
    b.extend_from_slice(&8u16.to_le_bytes()); // bits
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(&data);
    let dir = TempDir::new().unwrap();
    let w = read(&write(&dir, "u8.wav", &b), &mono()).unwrap();
    assert_eq!(
        (w.samples, w.sample_rate),
        (vec![-32768.0, 0.0, 32512.0], 8000)
    );
}

#[test]
fn stereo_wav_picks_the_requested_channel() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "st.wav",
        &wav_bytes(int_spec(2, 16000, 16), &[1i16, -1, 2, -2, 3, -3]),
    );
    assert_eq!(read(&p, &channel(0)).unwrap().samples, [1.0, 2.0, 3.0]);
    assert_eq!(read(&p, &channel(1)).unwrap().samples, [-1.0, -2.0, -3.0]);
    let p = write(
        &dir,
        "st8.wav",
        &wav_bytes(int_spec(3, 8000, 8), &[1i8, 2, 3, -1, -2, -3]),
    );
    assert_eq!(read(&p, &channel(2)).unwrap().samples, [768.0, -768.0]);
    let p = write(
        &dir,
        "stf.wav",
        &wav_bytes(float_spec(2), &[0.5f32, -0.5, 0.25, -0.25]),
    );
    assert_eq!(read(&p, &channel(1)).unwrap().samples, [-16384.0, -8192.0]);
}

// The FLAC fixtures in tests/data/audio were made by scripts/make-audio-fixtures.py with the
// reference encoder (flac 1.4.2) from the integer formulas repeated here.

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/audio")
        .join(name)
}

#[test]
fn flac_any_bit_depth_decodes_to_the_16_bit_scale() {
    let w = read(&fixture("mono16.flac"), &mono()).unwrap();
    let want: Vec<f32> = (0..1000)
        .map(|n| ((n * 577) % 4001 - 2000) as f32)
        .collect();
    assert_eq!((w.samples, w.sample_rate), (want, 8000));

    let w = read(&fixture("mono8.flac"), &mono()).unwrap();
    let want: Vec<f32> = (0..100)
        .map(|n| (((n * 7) % 256 - 128) * 256) as f32)
        .collect();
    assert_eq!(w.samples, want);

    let left: Vec<i64> = (0..500i64)
        .map(|n| (n * 40009) % 16_000_001 - 8_000_000)
        .collect();
    let w = read(&fixture("stereo24.flac"), &channel(0)).unwrap();
    let want: Vec<f32> = left.iter().map(|&v| v as f32 / 256.0).collect();
    assert_eq!((w.samples, w.sample_rate), (want, 16000));
    let w = read(&fixture("stereo24.flac"), &channel(1)).unwrap();
    // The right channel is Python's `-v // 2`, a floor division.
    let want: Vec<f32> = left
        .iter()
        .map(|&v| (-v).div_euclid(2) as f32 / 256.0)
        .collect();
    assert_eq!(w.samples, want);
}

#[test]
fn format_is_chosen_by_content_not_extension() {
    let dir = TempDir::new().unwrap();
    let flac = std::fs::read(fixture("mono16.flac")).unwrap();
    let w = read(&write(&dir, "looks-like.wav", &flac), &mono()).unwrap();
    assert_eq!(w.samples.len(), 1000);
    let wav = wav_bytes(int_spec(1, 16000, 16), &[5i16, 6]);
    assert_eq!(
        read(&write(&dir, "looks-like.flac", &wav), &mono())
            .unwrap()
            .samples,
        [5.0, 6.0]
    );
}

// --- sample rate ----------------------------------------------------------------------------

fn sine(rate: u32, freq: f64, amp: f64, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin()) as f32)
        .collect()
}

fn resample_to(rate: u32) -> ReadOptions {
    ReadOptions {
        sample_rate: Some(rate),
        resample: true,
        ..ReadOptions::default()
    }
}

/// Amplitude and delay (in samples, positive = late) of a `freq` sine in `x`, fitted over an
/// integer number of periods.
fn amplitude_and_delay(x: &[f32], rate: u32, freq: f64) -> (f64, f64) {
    let w = 2.0 * std::f64::consts::PI * freq / rate as f64;
    let (mut re, mut im) = (0.0, 0.0);
    for (i, &v) in x.iter().enumerate() {
        re += f64::from(v) * (w * i as f64).cos();
        im += f64::from(v) * (w * i as f64).sin();
    }
    // A sin(w (i - d)) projects to re = -A/2 N sin(w d), im = A/2 N cos(w d).
    let amp = 2.0 * (re * re + im * im).sqrt() / x.len() as f64;
    (amp, (-re).atan2(im) / w)
}

#[test]
fn a_resampled_tone_keeps_its_amplitude_and_timing() {
    // One second of a 1 kHz sine, amplitude 10000, as 16-bit WAV at `from`; resampled to `to`, its
    // middle must be the same sine sampled at `to`: same amplitude, no shift (the filter delay
    // is removed exactly, also when it is a fraction of a sample).
    let dir = TempDir::new().unwrap();
    for (from, to) in [(8000, 16000), (22050, 16000), (44100, 16000), (16000, 8000)] {
        let x: Vec<i16> = sine(from, 1000.0, 10000.0, from as usize)
            .iter()
            .map(|&v| v.round() as i16)
            .collect();
        let p = write(&dir, "tone.wav", &wav_bytes(int_spec(1, from, 16), &x));
        let w = read(&p, &resample_to(to)).unwrap();
        assert_eq!((w.samples.len(), w.sample_rate), (to as usize, to));
        let edge = to as usize / 10;
        let mid = &w.samples[edge..to as usize - edge];
        let (amp, delay) = amplitude_and_delay(mid, to, 1000.0);
        assert!(
            (amp - 10000.0).abs() < 5.0,
            "{from} -> {to}: amplitude {amp}"
        );
        assert!(delay.abs() < 0.01, "{from} -> {to}: delay {delay} samples");
    }
}

#[test]
fn downsampling_removes_what_the_new_rate_cannot_hold() {
    // 1 kHz passes; 10 kHz is above the new Nyquist (8 kHz) and would alias to 6 kHz.
    let n = 48000;
    let low = sine(48000, 1000.0, 8000.0, n);
    let high = sine(48000, 10000.0, 8000.0, n);
    let x: Vec<f32> = low
        .iter()
        .zip(&high)
        .map(|(a, b)| (a + b) / 32768.0)
        .collect();
    let dir = TempDir::new().unwrap();
    let mut spec = float_spec(1);
    spec.sample_rate = 48000;
    let p = write(&dir, "48k.wav", &wav_bytes(spec, &x));
    let w = read(&p, &resample_to(16000)).unwrap();
    assert_eq!((w.samples.len(), w.sample_rate), (16000, 16000));
    let mid = &w.samples[2000..14000];
    let (kept, _) = amplitude_and_delay(mid, 16000, 1000.0);
    let (alias, _) = amplitude_and_delay(mid, 16000, 6000.0);
    assert!((kept - 8000.0).abs() < 8.0, "1 kHz amplitude {kept}");
    assert!(alias < 1.0, "6 kHz alias amplitude {alias}");
}

#[test]
fn resampling_is_deterministic_and_skipped_at_the_right_rate() {
    let dir = TempDir::new().unwrap();
    let x: Vec<i16> = (0..3000).map(|i| ((i * 37) % 2000 - 1000) as i16).collect();
    let p = write(&dir, "22k.wav", &wav_bytes(int_spec(1, 22050, 16), &x));
    let a = read(&p, &resample_to(16000)).unwrap();
    let b = read(&p, &resample_to(16000)).unwrap();
    assert_eq!(a, b);
    assert_eq!(
        a.samples.len(),
        (3000.0f64 * 16000.0 / 22050.0).ceil() as usize
    );
    let same = read(&p, &resample_to(22050)).unwrap();
    let want: Vec<f32> = x.iter().map(|&v| f32::from(v)).collect();
    assert_eq!(same.samples, want);
}

// --- bad input ------------------------------------------------------------------------------

#[test]
fn wrong_sample_rate_names_both_rates() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "8k.wav",
        &wav_bytes(int_spec(1, 8000, 16), &[1i16, 2, 3]),
    );
    let opts = ReadOptions {
        sample_rate: Some(16000),
        ..ReadOptions::default()
    };
    error_of(&p, &opts, &["8000 Hz", "16000 Hz", "resampling"]);
}

#[test]
fn multichannel_needs_a_valid_channel() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "st.wav",
        &wav_bytes(int_spec(2, 16000, 16), &[1i16, -1]),
    );
    error_of(&p, &mono(), &["2 channels", "channel", "0..=1"]);
    error_of(&p, &channel(2), &["channel 2 requested", "2 channels"]);
    let flac = fixture("stereo24.flac");
    error_of(&flac, &mono(), &["2 channels"]);
    let fields = [
        ("sample_count", "1"),
        ("sample_rate", "16000"),
        ("channel_count", "2"),
        ("sample_n_bytes", "2"),
        ("sample_byte_format", "01"),
    ];
    let sph = write(&dir, "st.sph", &sphere(&fields, 1024, &[0, 0, 0, 0]));
    error_of(&sph, &channel(3), &["channel 3 requested", "2 channels"]);
}

#[test]
fn empty_and_unknown_files_list_the_supported_formats() {
    let dir = TempDir::new().unwrap();
    error_of(
        &write(&dir, "empty.wav", b""),
        &mono(),
        &["empty file", "NIST SPHERE"],
    );
    let mut noise = vec![0u8; 4096];
    rand_chacha::ChaCha8Rng::seed_from_u64(7).fill_bytes(&mut noise);
    let p = write(&dir, "noise.wav", &noise);
    error_of(&p, &mono(), &["unknown audio format", "RIFF WAVE", "FLAC"]);
    let p = write(&dir, "avi.wav", b"RIFF\x10\0\0\0AVI LIST\0\0\0\0");
    error_of(&p, &mono(), &["not RIFF WAVE"]);
    let missing = dir.path().join("missing.wav");
    error_of(&missing, &mono(), &[]);
}

#[test]
fn files_without_samples_are_rejected() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "none.wav",
        &wav_bytes::<i16>(int_spec(1, 16000, 16), &[]),
    );
    error_of(&p, &mono(), &["no audio samples"]);
    let p = write(
        &dir,
        "none.sph",
        &sphere(&pcm16_fields("0", "01"), 1024, &[]),
    );
    error_of(&p, &mono(), &["no audio samples"]);
}

#[test]
fn truncated_wav_is_reported() {
    let dir = TempDir::new().unwrap();
    let x: Vec<i16> = (0..1000).collect();
    let bytes = wav_bytes(int_spec(1, 16000, 16), &x);
    let p = write(&dir, "cut.wav", &bytes[..bytes.len() - 501]);
    error_of(&p, &mono(), &["truncated data", "1000 samples", "only 749"]);
    let p = write(&dir, "cut-header.wav", &bytes[..30]);
    error_of(&p, &mono(), &["truncated WAV header"]);
}

#[test]
fn truncated_sphere_is_reported() {
    let dir = TempDir::new().unwrap();
    let body: Vec<u8> = (0..2000u32).map(|i| i as u8).collect();
    let whole = sphere(&pcm16_fields("1000", "01"), 1024, &body);
    let p = write(&dir, "cut-header.sph", &whole[..500]);
    error_of(
        &p,
        &mono(),
        &["truncated SPHERE header", "1024 bytes", "only 500"],
    );
    let p = write(&dir, "cut-body.sph", &whole[..1024 + 1500]);
    error_of(
        &p,
        &mono(),
        &["truncated data", "1000 samples", "only 1500 bytes"],
    );
    let p = write(&dir, "two-lines.sph", b"NIST_1A\n");
    error_of(&p, &mono(), &["truncated SPHERE header"]);
}

#[test]
fn compressed_or_odd_sphere_is_explained() {
    let dir = TempDir::new().unwrap();
    let mut fields = pcm16_fields("10", "01");
    fields.push(("sample_coding", "pcm,embedded-shorten-v2.00"));
    let p = write(&dir, "shorten.sph", &sphere(&fields, 1024, &[0; 20]));
    error_of(&p, &mono(), &["shorten", "sph2pipe"]);
    let p = write(
        &dir,
        "order.sph",
        &sphere(&pcm16_fields("10", "1"), 1024, &[0; 20]),
    );
    error_of(&p, &mono(), &["sample_byte_format `1`", "01", "10"]);
    let p = write(
        &dir,
        "nocount.sph",
        &sphere(&pcm16_fields("10", "01")[1..], 1024, &[0; 20]),
    );
    error_of(&p, &mono(), &["sample_count"]);
}

#[test]
fn non_finite_float_samples_are_named() {
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "nan.wav",
        &wav_bytes(float_spec(1), &[0.0f32, 0.1, 0.2, f32::NAN, 0.3]),
    );
    error_of(&p, &mono(), &["sample 3 is NaN"]);
    let p = write(
        &dir,
        "inf.wav",
        &wav_bytes(float_spec(2), &[0.0f32, 0.0, 0.0, 0.0, 0.0, f32::INFINITY]),
    );
    error_of(&p, &channel(0), &["sample 2 of channel 1 is inf"]);
}

#[test]
fn truncated_flac_is_reported() {
    let dir = TempDir::new().unwrap();
    let bytes = std::fs::read(fixture("mono16.flac")).unwrap();
    let p = write(&dir, "cut.flac", &bytes[..bytes.len() / 2]);
    error_of(&p, &mono(), &["truncated data", "1000"]);
    let p = write(&dir, "cut-header.flac", &bytes[..20]);
    error_of(&p, &mono(), &["FLAC header"]);
}

// --- the RIFF chunk walk and the encodings read by hand ---------------------------------------
//
// These files are built byte by byte (hound writes none of them). Each was also checked once
// against sox 14.4.2 (`sox F -t raw -e signed -b 16 -L -`) and libsndfile 1.2 (`sndfile-info`):
// both read the padded, 64-bit float, mu-law, A-law and 0xFFFFFFFF files to the values asserted
// here, and both refuse the unpadded one ("Could not find data chunk" / "No 'data' chunk marker").

const PCM: u16 = 1;
const FLOAT: u16 = 3;
const ALAW: u16 = 6;
const MULAW: u16 = 7;

/// One chunk: id, size, body, and the pad byte after an odd-sized body when `pad`.
fn chunk(id: &[u8; 4], body: &[u8], pad: bool) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&(body.len() as u32).to_le_bytes());
    c.extend_from_slice(body);
    if pad && body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

/// A RIFF WAVE file of `chunks`.
fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = chunks.concat();
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(4 + body.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVE");
    b.extend_from_slice(&body);
    b
}

/// A fmt chunk (WAVEFORMATEX with cbSize 0 for non-PCM tags, as sox writes them).
fn fmt(tag: u16, channels: u16, rate: u32, bits: u16) -> Vec<u8> {
    let align = channels * bits.div_ceil(8);
    let mut f = Vec::new();
    for v in [tag, channels] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    for v in [align, bits] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    if tag != PCM {
        f.extend_from_slice(&0u16.to_le_bytes());
    }
    chunk(b"fmt ", &f, true)
}

/// A WAVE_FORMAT_EXTENSIBLE fmt chunk whose sub-format GUID stands for `sub`.
fn fmt_extensible(sub: u16, channels: u16, rate: u32, bits: u16, valid: u16) -> Vec<u8> {
    let mut f = fmt(0xfffe, channels, rate, bits)[8..24].to_vec();
    f.extend_from_slice(&22u16.to_le_bytes());
    f.extend_from_slice(&valid.to_le_bytes());
    f.extend_from_slice(&0u32.to_le_bytes()); // channel mask
    f.extend_from_slice(&sub.to_le_bytes());
    f.extend_from_slice(&[0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]);
    chunk(b"fmt ", &f, true)
}

fn le16(v: &[i16]) -> Vec<u8> {
    v.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// Read `bytes` written to `name`, expecting exactly the error `msg` after the file name.
fn exact_error(dir: &TempDir, name: &str, bytes: &[u8], opts: &ReadOptions, msg: &str) {
    let p = write(dir, name, bytes);
    let got = error_of(&p, opts, &[]);
    assert_eq!(got, format!("{}: {msg}", p.display()));
}

#[test]
fn an_odd_sized_chunk_and_its_pad_byte_are_skipped() {
    let dir = TempDir::new().unwrap();
    let data = le16(&[100, -200, 300, -400]);
    let padded = riff(&[
        fmt(PCM, 1, 8000, 16),
        chunk(b"LIST", b"abc", true),
        chunk(b"data", &data, true),
    ]);
    let w = read(&write(&dir, "padded.wav", &padded), &mono()).unwrap();
    assert_eq!(
        (w.samples, w.sample_rate),
        (vec![100.0, -200.0, 300.0, -400.0], 8000)
    );
    // Without the pad byte the file is not RIFF; sox and libsndfile refuse it too.
    let unpadded = riff(&[
        fmt(PCM, 1, 8000, 16),
        chunk(b"LIST", b"abc", false),
        chunk(b"data", &data, true),
    ]);
    exact_error(
        &dir,
        "unpadded.wav",
        &unpadded,
        &mono(),
        "invalid WAV file: chunk `LIST` at byte 36 has an odd size (3 bytes) but no pad byte \
         after it: chunk `data` follows at once (RIFF chunks are word-aligned; sox and \
         libsndfile refuse this file too)",
    );
    // An odd-sized data chunk needs no pad byte when it ends the file; with one, a chunk may
    // follow it.
    let bytes = [0u8, 128, 255];
    for (name, file) in [
        (
            "end.wav",
            riff(&[fmt(PCM, 1, 8000, 8), chunk(b"data", &bytes, false)]),
        ),
        (
            "then-list.wav",
            riff(&[
                fmt(PCM, 1, 8000, 8),
                chunk(b"data", &bytes, true),
                chunk(b"LIST", b"INFOabcd", true),
            ]),
        ),
    ] {
        let w = read(&write(&dir, name, &file), &mono()).unwrap();
        assert_eq!(w.samples, [-32768.0, 0.0, 32512.0], "{name}");
    }
}

#[test]
fn float64_wav_decodes_to_the_16_bit_scale() {
    let dir = TempDir::new().unwrap();
    let values = [0.5f64, -0.25, 1.0, -1.0, 1.0 / 32768.0, 0.1];
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    // 0.1 * 32768 = 3276.8, rounded once to f32.
    let want = [16384.0, -8192.0, 32768.0, -32768.0, 1.0, 3276.8f32];
    for (name, f) in [
        ("f64.wav", fmt(FLOAT, 1, 16000, 64)),
        ("f64x.wav", fmt_extensible(FLOAT, 1, 16000, 64, 64)),
    ] {
        let file = riff(&[
            f,
            chunk(b"fact", &6u32.to_le_bytes(), true),
            chunk(b"data", &data, true),
        ]);
        let w = read(&write(&dir, name, &file), &mono()).unwrap();
        assert_eq!(
            (w.samples.as_slice(), w.sample_rate),
            (&want[..], 16000),
            "{name}"
        );
    }
    // Stereo: channel 1 is every second value, the mean the average of each pair.
    let file = riff(&[fmt(FLOAT, 2, 16000, 64), chunk(b"data", &data, true)]);
    let p = write(&dir, "f64-stereo.wav", &file);
    assert_eq!(
        read(&p, &channel(1)).unwrap().samples,
        [-8192.0, -32768.0, 3276.8]
    );
    let mean = ReadOptions {
        channel: Channel::Mean,
        ..ReadOptions::default()
    };
    assert_eq!(read(&p, &mean).unwrap().samples, [4096.0, 0.0, 1638.9]);
}

#[test]
fn mulaw_and_alaw_wav_decode_to_the_g711_reference_values() {
    // ITU-T G.711 reference decoder (as in sox and sph2pipe) for a few codes.
    let dir = TempDir::new().unwrap();
    let ulaw = [0x00u8, 0x80, 0xff, 0x7f, 0x55, 0x01, 0x8f];
    let ulaw_want = [-32124.0, 32124.0, 0.0, 0.0, -716.0, -31100.0, 16764.0];
    let alaw = [0x00u8, 0x80, 0x55, 0xd5, 0x7f, 0x2a];
    let alaw_want = [-5504.0, 5504.0, -8.0, 8.0, -848.0, -32256.0];
    for (name, f, bytes, want) in [
        ("u.wav", fmt(MULAW, 1, 8000, 8), &ulaw[..], &ulaw_want[..]),
        (
            "ux.wav",
            fmt_extensible(MULAW, 1, 8000, 8, 8),
            &ulaw,
            &ulaw_want,
        ),
        ("a.wav", fmt(ALAW, 1, 8000, 8), &alaw, &alaw_want),
        (
            "ax.wav",
            fmt_extensible(ALAW, 1, 8000, 8, 8),
            &alaw,
            &alaw_want,
        ),
    ] {
        let file = riff(&[f, chunk(b"data", bytes, true)]);
        let w = read(&write(&dir, name, &file), &mono()).unwrap();
        assert_eq!(
            (w.samples.as_slice(), w.sample_rate),
            (want, 8000),
            "{name}"
        );
    }
    // All 256 codes: the same totals as the SPHERE mu-law reference (sox).
    let every: Vec<u8> = (0..=255).collect();
    let file = riff(&[fmt(MULAW, 1, 8000, 8), chunk(b"data", &every, true)]);
    let w = read(&write(&dir, "all.wav", &file), &mono()).unwrap();
    assert_eq!((sum(&w), sum_of_squares(&w)), (0.0, 26_310_951_424.0));
}

#[test]
fn a_streaming_data_size_reads_to_the_end_of_the_file() {
    // Writers that cannot seek leave 0xFFFFFFFF in the RIFF and data sizes; a trailing partial
    // sample (one byte of a 16-bit one) is dropped, as sox does.
    let dir = TempDir::new().unwrap();
    let mut file = riff(&[fmt(PCM, 1, 16000, 16)]);
    file[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    file.extend_from_slice(b"data");
    file.extend_from_slice(&u32::MAX.to_le_bytes());
    file.extend_from_slice(&le16(&[7, -8, 9]));
    file.push(0x55);
    let w = read(&write(&dir, "stream.wav", &file), &mono()).unwrap();
    assert_eq!(w.samples, [7.0, -8.0, 9.0]);
    // Any other size past the end is a cut file.
    let n = file.len();
    file[n - 11..n - 7].copy_from_slice(&1000u32.to_le_bytes());
    exact_error(
        &dir,
        "cut.wav",
        &file,
        &mono(),
        "truncated data: the data chunk declares 500 samples but the file holds only 3",
    );
}

#[test]
fn unsupported_wav_encodings_say_what_they_are() {
    let dir = TempDir::new().unwrap();
    let convert = "is not supported; convert it to PCM first (e.g. `sox in.wav -e signed-integer \
                   -b 16 out.wav`)";
    // IMA ADPCM as sox writes it: 4 bits, 256-byte blocks of 505 samples, cbSize 2.
    let mut ima = Vec::new();
    for v in [0x11u16, 1] {
        ima.extend_from_slice(&v.to_le_bytes());
    }
    ima.extend_from_slice(&8000u32.to_le_bytes());
    ima.extend_from_slice(&4055u32.to_le_bytes());
    for v in [256u16, 4, 2, 505] {
        ima.extend_from_slice(&v.to_le_bytes());
    }
    let file = riff(&[
        chunk(b"fmt ", &ima, true),
        chunk(b"fact", &505u32.to_le_bytes(), true),
        chunk(b"data", &[0; 256], true),
    ]);
    exact_error(
        &dir,
        "ima.wav",
        &file,
        &mono(),
        &format!("IMA ADPCM (format 0x0011) {convert}"),
    );
    let data = chunk(b"data", &[0; 16], true);
    for (name, f, msg) in [
        (
            "ms.wav",
            fmt(0x0002, 1, 8000, 4),
            format!("Microsoft ADPCM (format 0x0002) {convert}"),
        ),
        (
            "mp3.wav",
            fmt(0x0055, 1, 8000, 0),
            format!("MPEG layer 3 (MP3) (format 0x0055) {convert}"),
        ),
        (
            "odd.wav",
            fmt(0x1234, 1, 8000, 16),
            format!("WAV format 0x1234 {convert}"),
        ),
        (
            "imax.wav",
            fmt_extensible(0x0011, 1, 8000, 4, 4),
            format!("WAVE_FORMAT_EXTENSIBLE with sub-format IMA ADPCM (format 0x0011) {convert}"),
        ),
        (
            "f16.wav",
            fmt(FLOAT, 1, 8000, 16),
            "invalid WAV header: 16-bit float samples; float WAV has 32 or 64 bits per sample"
                .to_string(),
        ),
        (
            "u16.wav",
            fmt(MULAW, 1, 8000, 16),
            "invalid WAV header: 16-bit G.711 samples; mu-law and A-law have 8 bits per sample"
                .to_string(),
        ),
        (
            "i40.wav",
            fmt(PCM, 1, 8000, 40),
            "invalid WAV header: 40-bit PCM samples; supported are 8, 16, 24 and 32 bits"
                .to_string(),
        ),
    ] {
        exact_error(&dir, name, &riff(&[f, data.clone()]), &mono(), &msg);
    }
    // Ambisonic B-format has a GUID of its own, not a format tag.
    let mut ambi = fmt_extensible(PCM, 1, 8000, 16, 16);
    ambi[32..48].copy_from_slice(&[
        0x01, 0, 0, 0, 0x21, 0x07, 0xd3, 0x11, 0x86, 0x44, 0xc8, 0xc1, 0xca, 0, 0, 0,
    ]);
    exact_error(
        &dir,
        "ambi.wav",
        &riff(&[ambi, data.clone()]),
        &mono(),
        &format!(
            "WAVE_FORMAT_EXTENSIBLE with sub-format GUID {{00000001-0721-11D3-8644-C8C1CA000000}} \
             {convert}"
        ),
    );
    // Headers that contradict themselves or are incomplete.
    let mut align3 = fmt(PCM, 1, 8000, 16);
    align3[20..22].copy_from_slice(&3u16.to_le_bytes());
    let short_fmt = chunk(b"fmt ", &fmt(PCM, 1, 8000, 16)[8..22], true);
    for (name, chunks, msg) in [
        (
            "align.wav",
            vec![align3, data.clone()],
            "invalid WAV header: block align 3 does not fit 1 channel(s) of 16-bit samples",
        ),
        (
            "short-fmt.wav",
            vec![short_fmt, data.clone()],
            "invalid WAV header: the fmt chunk has 14 bytes; at least 16 are needed",
        ),
        (
            "data-first.wav",
            vec![data.clone(), fmt(PCM, 1, 8000, 16)],
            "invalid WAV header: the data chunk (at byte 12) comes before any fmt chunk",
        ),
        (
            "no-data.wav",
            vec![fmt(PCM, 1, 8000, 16), chunk(b"LIST", b"ab", true)],
            "invalid WAV file: no data chunk in its 46 bytes",
        ),
    ] {
        exact_error(&dir, name, &riff(&chunks), &mono(), msg);
    }
}

#[test]
fn float_samples_too_large_to_scale_are_named() {
    // Within ±1e34 a float sample times 32768 fits in f32; beyond it the features would be NaN.
    let dir = TempDir::new().unwrap();
    let p = write(
        &dir,
        "big32.wav",
        &wav_bytes(float_spec(1), &[0.0f32, 1e34, 3e38]),
    );
    let e = error_of(&p, &mono(), &[]);
    assert_eq!(
        e,
        format!(
            "{}: sample 2 is 3e38; float samples must lie within ±1e34 (full scale is ±1)",
            p.display()
        )
    );
    let data: Vec<u8> = [0.0f64, -1e300, f64::NAN]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let file = riff(&[fmt(FLOAT, 1, 16000, 64), chunk(b"data", &data, true)]);
    exact_error(
        &dir,
        "big64.wav",
        &file,
        &mono(),
        "sample 1 is -1e300; float samples must lie within ±1e34 (full scale is ±1)",
    );
    let file = riff(&[fmt(FLOAT, 1, 16000, 64), chunk(b"data", &data[16..], true)]);
    exact_error(
        &dir,
        "nan64.wav",
        &file,
        &mono(),
        "sample 0 is NaN; float audio must be finite",
    );
}

#[test]
fn channels_are_picked_or_mixed_down_by_their_mean() {
    let dir = TempDir::new().unwrap();
    let mean = ReadOptions {
        channel: Channel::Mean,
        ..ReadOptions::default()
    };
    let p = write(
        &dir,
        "st.wav",
        &wav_bytes(int_spec(2, 16000, 16), &[1i16, -1, 2, -4, 3, -3]),
    );
    assert_eq!(read(&p, &channel(0)).unwrap().samples, [1.0, 2.0, 3.0]);
    assert_eq!(read(&p, &channel(1)).unwrap().samples, [-1.0, -4.0, -3.0]);
    assert_eq!(read(&p, &mean).unwrap().samples, [0.0, -1.0, 0.0]);
    let e = error_of(&p, &channel(2), &[]);
    assert_eq!(
        e,
        format!(
            "{}: channel 2 requested but the file has only 2 channels (0..=1)",
            p.display()
        )
    );
    let e = error_of(&p, &mono(), &[]);
    assert_eq!(
        e,
        format!(
            "{}: the file has 2 channels but a mono signal is needed; pick one with `channel: N` \
             (0..=1) or mix them down with `channel: mean` (pipeline `waveform:` stage, manifest \
             `channel` column, or `--channel`)",
            p.display()
        )
    );
    // 8-bit, three channels: (v - 128) * 256 averaged.
    let p = write(
        &dir,
        "3ch8.wav",
        &wav_bytes(int_spec(3, 8000, 8), &[1i8, 2, 6, -3, 0, 0]),
    );
    assert_eq!(read(&p, &mean).unwrap().samples, [768.0, -256.0]);
    // A mono file is its own mean.
    let p = write(
        &dir,
        "m.wav",
        &wav_bytes(int_spec(1, 16000, 16), &[5i16, -6]),
    );
    assert_eq!(read(&p, &mean).unwrap().samples, [5.0, -6.0]);
    // FLAC: the mean of the fixture's two 24-bit channels (formulas above), scaled by 1/256.
    let w = read(&fixture("stereo24.flac"), &mean).unwrap();
    let want: Vec<f32> = (0..500i64)
        .map(|n| {
            let left = (n * 40009) % 16_000_001 - 8_000_000;
            let right = (-left).div_euclid(2);
            (left as f32 / 256.0 + right as f32 / 256.0) / 2.0
        })
        .collect();
    assert_eq!(w.samples, want);
    // SPHERE, two 16-bit channels.
    let fields = [
        ("sample_count", "2"),
        ("sample_rate", "16000"),
        ("channel_count", "2"),
        ("sample_n_bytes", "2"),
        ("sample_byte_format", "01"),
    ];
    let body = le16(&[10, 20, -10, 0]);
    let p = write(&dir, "st.sph", &sphere(&fields, 1024, &body));
    assert_eq!(read(&p, &mean).unwrap().samples, [15.0, -5.0]);
    assert_eq!(read(&p, &channel(1)).unwrap().samples, [20.0, 0.0]);
}
