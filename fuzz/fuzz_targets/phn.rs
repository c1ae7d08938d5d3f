//! Any text through the `.phn`/`.wrd` parser, the phone checks and the frame labeller.
#![no_main]

use std::path::{Path, PathBuf};

use asrpipe::corpus::timit::{TIMIT_RATE, check_phones, parse_segments};
use asrpipe::corpus::{Gender, PhoneSet, Utterance, frame_labels, utterance_labels};
use asrpipe::frontend::framing::FrameGeometry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.phn");
    let Ok(segs) = parse_segments(text, path) else {
        return;
    };
    let phones = PhoneSet::timit();
    if check_phones(&segs, path, phones).is_err() {
        return;
    }
    // Audio as long as the alignment (capped, so that a huge sample number is not a huge
    // allocation of frames), then both frame geometries.
    let end = segs.last().map_or(0, |s| s.end);
    let num_samples = end.min(1 << 20);
    let utt = Utterance {
        id: "fuzz/sa1".into(),
        speaker: "fuzz".into(),
        gender: Gender::Unknown,
        dialect: String::new(),
        sentence: "sa1".into(),
        audio: PathBuf::from("fuzz.wav"),
        phone_file: path.to_path_buf(),
        phones: segs,
        words: Vec::new(),
        text: None,
        transcript: None,
        channel: None,
        sample_rate: TIMIT_RATE,
        num_samples: Some(num_samples),
        subset: None,
        span: None,
        speed: None,
    };
    for snip_edges in [true, false] {
        let geom = FrameGeometry::from_ms(TIMIT_RATE, 25.0, 10.0, snip_edges);
        if let Ok(labels) = frame_labels(&utt, num_samples, &geom, phones) {
            assert_eq!(labels.frames.len(), geom.num_frames(num_samples as usize));
            assert!(labels.labelled() <= labels.frames.len());
        }
        if let Ok(table) = utterance_labels(&utt, num_samples, &geom, utt.sample_rate, phones) {
            let _ = table.to_string();
        }
    }
});
