//! Any bytes through the audio decoder (format chosen by content): errors, never panics, and no
//! allocation sized by a header before the data is there.
#![no_main]

use std::path::Path;

use asrpipe::audio::{Channel, ReadOptions, decode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = Path::new("fuzz.wav");
    let variants = [
        ReadOptions::default(),
        ReadOptions {
            channel: Channel::Index(1),
            sample_rate: Some(16000),
            resample: false,
        },
        ReadOptions {
            channel: Channel::Mean,
            sample_rate: Some(16000),
            resample: true,
        },
    ];
    for opts in &variants {
        if let Ok(wave) = decode(path, data, opts) {
            assert!(!wave.samples.is_empty() && wave.sample_rate > 0);
            assert!(wave.samples.iter().all(|v| v.is_finite()));
        }
    }
});
