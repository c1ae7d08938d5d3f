//! Inputs the fuzz targets (fuzz/) found to panic or exhaust memory, minimised; each must now give
//! a clear error naming the file.

use std::path::Path;

use asrpipe::audio::{Channel, ReadOptions, decode};
use asrpipe::corpus::textgrid;
use asrpipe::pipeline::Pipeline;

/// The error of decoding `bytes` as `name`, which must name the file and say every one of `says`.
fn audio_error(name: &str, bytes: &[u8], opts: &ReadOptions, says: &[&str]) {
    let msg = match decode(Path::new(name), bytes, opts) {
        Ok(w) => panic!("{name} decoded fine ({} samples)", w.samples.len()),
        Err(e) => e.to_string(),
    };
    assert!(msg.starts_with(name), "error does not name the file: {msg}");
    for s in says {
        assert!(msg.contains(s), "error lacks `{s}`: {msg}");
    }
}

#[test]
fn flac_frame_with_fewer_channels_than_the_stream_info_is_an_error() {
    // A stereo stream info, then one valid frame (CRCs right) whose header says mono, holding 16
    // samples of the constant 256: claxon returns the block as it is, and taking channel 1 of it
    // panicked.
    let bytes = std::fs::read("tests/data/fuzz/flac-frame-channels.flac").unwrap();
    for channel in [0, 1] {
        let opts = ReadOptions {
            channel: Channel::Index(channel),
            ..ReadOptions::default()
        };
        audio_error(
            "f.flac",
            &bytes,
            &opts,
            &[
                "corrupt FLAC data",
                "1 channel(s) but the stream info declares 2",
            ],
        );
    }
    // The same frame under a mono stream info is a valid file (byte 20 holds the channel count).
    let mut mono = bytes.clone();
    mono[20] &= !0x02;
    let w = decode(Path::new("m.flac"), &mono, &ReadOptions::default()).unwrap();
    assert_eq!((w.samples, w.sample_rate), (vec![256.0; 16], 16000));
}

#[test]
fn textgrid_with_a_huge_interval_count_is_an_error_not_an_allocation() {
    let text = "\"ooTextFile\" \"TextGrid\" 0 1 <exists> 1 \"IntervalTier\" \"phones\" 0 1 \
                1e300 0 1 \"a\"";
    let e = textgrid::parse(text, Path::new("big.TextGrid"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("big.TextGrid:1:") && e.contains("file ends where interval xmin"),
        "{e}"
    );
    let text = text.replace("1e300", "4000000000");
    let e = textgrid::parse(&text, Path::new("big.TextGrid"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("file ends where"), "{e}");
}

#[test]
fn huge_frames_are_an_error_not_an_allocation() {
    // 1e8 ms at 4 GHz asked for a window of 4e14 samples.
    let yaml = "sample_rate: 4000000000\nstages:\n  - waveform: {frame_length_ms: 100000000}\n";
    let e = Pipeline::parse(yaml, Path::new("big.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("big.yaml:3:") && e.contains("at most 65536"),
        "{e}"
    );
}

#[test]
fn yaml_alias_floods_stop_at_the_parser_budget() {
    // One anchored stage repeated by 49 000 aliases: about a million events to deserialise.
    let opts = "{frame_length_ms: 25, frame_shift_ms: 10, snip_edges: true, dither: 0.0, \
                remove_dc_offset: true, preemph_coeff: 0.97, window: povey}";
    let yaml = format!(
        "stages: [&a {{waveform: {opts}}}{}]\n",
        ", *a".repeat(49_000)
    );
    let t = std::time::Instant::now();
    let e = Pipeline::parse(&yaml, Path::new("bomb.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("bomb.yaml"), "{e}");
    assert!(t.elapsed().as_secs_f64() < 1.0, "{:?}", t.elapsed());
    // Nesting deeper than any pipeline needs is refused, not recursed into.
    let deep = format!("stages: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let e = Pipeline::parse(&deep, Path::new("deep.yaml"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("deep.yaml"), "{e}");
}

#[test]
fn fuzzed_textgrid_with_a_huge_interval_count_is_an_error() {
    let text = std::fs::read_to_string("tests/data/fuzz/textgrid-huge-count.TextGrid").unwrap();
    let e = textgrid::parse(&text, Path::new("f.TextGrid"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("f.TextGrid:"), "{e}");
}
