//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The TIMIT sample (`$ASRPIPE_TIMIT_SAMPLE` or `../shared/corpora/timit-sample`). Tests that need it
/// skip loudly when it is absent, and fail when `ASRPIPE_REQUIRE_DATA=1` (as in CI).
pub fn timit_sample() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("ASRPIPE_TIMIT_SAMPLE").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/timit-sample")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.join("dr1-fvmh0").is_dir() {
            return Some(c);
        }
    }
    if std::env::var("ASRPIPE_REQUIRE_DATA").is_ok_and(|v| v == "1") {
        panic!(
            "ASRPIPE_REQUIRE_DATA=1 but the TIMIT sample was not found (set ASRPIPE_TIMIT_SAMPLE)"
        );
    }
    eprintln!("\n*** SKIPPED: TIMIT sample not found (set ASRPIPE_TIMIT_SAMPLE) ***\n");
    None
}

/// Path of a file under tests/data.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}
