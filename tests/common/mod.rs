//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

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

/// A wav.scp and utt2spk over the demo corpus in `dir`: `<speaker>_<sentence>` ids, sorted (so
/// speakers are contiguous, as Kaldi requires).
pub fn demo_list(dir: &Path) -> (PathBuf, Vec<(String, String)>) {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/demo");
    let mut rows: Vec<(String, String, PathBuf)> = Vec::new();
    for spk in std::fs::read_dir(&demo).unwrap() {
        let spk = spk.unwrap().path();
        if !spk.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&spk).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "flac") {
                let s = spk.file_name().unwrap().to_string_lossy().into_owned();
                let u = format!("{s}_{}", f.file_stem().unwrap().to_string_lossy());
                rows.push((u, s, f));
            }
        }
    }
    rows.sort();
    let scp: String = rows
        .iter()
        .map(|(u, _, f)| format!("{u} {}\n", f.display()))
        .collect();
    let u2s: String = rows.iter().map(|(u, s, _)| format!("{u} {s}\n")).collect();
    std::fs::write(dir.join("wav.scp"), scp).unwrap();
    std::fs::write(dir.join("utt2spk"), u2s).unwrap();
    (
        dir.join("wav.scp"),
        rows.into_iter().map(|(u, s, _)| (u, s)).collect(),
    )
}

/// Run `cmd` from the crate root; its output, after asserting that it succeeded (its stderr
/// otherwise).
pub fn run_ok(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `asrpipe features --quiet --pipeline pipelines/kaldi-mfcc-gmm.yaml ARGS`, which must succeed.
pub fn features(args: &[&std::ffi::OsStr]) {
    run_ok(
        std::process::Command::new(env!("CARGO_BIN_EXE_asrpipe"))
            .args([
                "features",
                "--quiet",
                "--pipeline",
                "pipelines/kaldi-mfcc-gmm.yaml",
            ])
            .args(args),
    );
}

/// `asrpipe features` (kaldi-mfcc-gmm) of the list `list` into the archive `ark` and its script
/// file `scp`.
pub fn features_to_scp(list: &Path, ark: &Path, scp: &Path) {
    features(&[
        "--list".as_ref(),
        list.as_os_str(),
        "-o".as_ref(),
        ark.as_os_str(),
        "--scp".as_ref(),
        scp.as_os_str(),
    ]);
}
