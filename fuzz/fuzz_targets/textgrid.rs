//! Any text through the TextGrid parser and its conversion to phone and word segments.
#![no_main]

use std::path::Path;

use asrpipe::corpus::PhoneSet;
use asrpipe::corpus::textgrid::{alignment, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("fuzz.TextGrid");
    if let Ok(tg) = parse(text, path) {
        let _ = alignment(&tg, path, 16000, PhoneSet::timit());
    }
});
