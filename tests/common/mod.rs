//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The NLTK TIMIT sample (16 speakers x 10 utterances), which may not be copied into the
/// repository. Looked up at `$ASRPIPE_TIMIT_SAMPLE`, then at `../shared/corpora/timit-sample`
/// beside the crate. When it is absent the caller should skip: this prints a loud note and
/// returns `None`, unless `ASRPIPE_REQUIRE_DATA=1`, in which case a missing sample fails the test.
pub fn timit_sample() -> Option<PathBuf> {
    let candidates = std::env::var_os("ASRPIPE_TIMIT_SAMPLE")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpora/timit-sample")]);
    let tried: Vec<PathBuf> = candidates.collect();
    if let Some(found) = tried.iter().find(|p| p.is_dir()) {
        return Some(found.clone());
    }
    let msg = format!(
        "TIMIT sample not found (tried {}); set ASRPIPE_TIMIT_SAMPLE to its directory",
        tried
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if std::env::var("ASRPIPE_REQUIRE_DATA").as_deref() == Ok("1") {
        panic!("{msg} (ASRPIPE_REQUIRE_DATA=1)");
    }
    eprintln!("\n*** SKIPPING: {msg} ***\n");
    None
}

/// Path of a file under tests/data.
pub fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}
