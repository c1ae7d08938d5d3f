//! What a run killed without a chance to clean up (SIGKILL) leaves in an output directory is
//! removed by the next run there, which says so in one line.

use std::path::Path;
use std::process::{Command, Output};

fn asrpipe(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_asrpipe"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("ASRPIPE_CACHE", cache)
        .output()
        .unwrap()
}

/// A pid beyond Linux's pid_max: no process has it.
const DEAD: &str = "99999999";

#[test]
fn train_removes_a_killed_runs_lock_and_temporary_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("model");
    // As a killed `train` leaves them: its lock, a half-written file, a temporary directory,
    // and a half-written file deeper down.
    std::fs::create_dir_all(out.join(format!(".asrpipe-{DEAD}-Xy12ab")).join("u")).unwrap();
    std::fs::create_dir_all(out.join("flat_start/alignments/s1")).unwrap();
    std::fs::write(out.join(".asrpipe.lock"), format!("{DEAD}\n")).unwrap();
    std::fs::write(out.join(format!(".asrpipe-{DEAD}-a1B2c3")), b"half").unwrap();
    let deep = out.join(format!("flat_start/alignments/s1/.asrpipe-{DEAD}-q9Q9q9"));
    std::fs::write(&deep, b"half").unwrap();
    // Not a leftover: another program's file that merely starts alike.
    std::fs::write(out.join(".asrpipe-notes"), b"mine").unwrap();
    let o = out.to_str().unwrap();
    let run = asrpipe(
        &[
            "train", "-q", "--gmm", "1", "--states", "150", "--epochs", "1", "-o", o,
        ],
        &tmp.path().join("cache"),
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    let line = format!(
        "removed what an interrupted run left in {o}: the lock of process {DEAD}, which no \
         longer runs and 3 temporary files of killed runs"
    );
    assert_eq!(err.matches(&line).count(), 1, "{err}");
    let mut left: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    left.sort();
    assert_eq!(left, [".asrpipe-notes"]);
    assert!(!deep.exists());
    assert!(out.join("model.json").is_file());
    // A second run finds nothing to remove, and says nothing about it.
    let run = asrpipe(
        &[
            "train", "-q", "--gmm", "1", "--states", "150", "--epochs", "1", "-o", o,
        ],
        &tmp.path().join("cache"),
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(!err.contains("removed what"), "{err}");
}

#[test]
fn features_removes_a_killed_runs_temporary_files_beside_its_output() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join(format!(".asrpipe-{DEAD}-k3K3k3")), b"half").unwrap();
    std::fs::create_dir_all(dir.join(format!(".asrpipe-{DEAD}-npydir"))).unwrap();
    std::fs::write(dir.join(format!(".asrpipe-{DEAD}-npydir/a.npy")), b"half").unwrap();
    // A live writer's temporary file (pid 1 always runs) stays.
    std::fs::write(dir.join(".asrpipe-1-live00"), b"busy").unwrap();
    let out = dir.join("x.npz");
    let run = asrpipe(
        &[
            "features",
            "audio/demo/dr1-fslt0/sa1.flac",
            "-o",
            out.to_str().unwrap(),
        ],
        &tempfile::tempdir().unwrap().path().join("cache"),
    );
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "removed what an interrupted run left in {}: 2 temporary files of killed runs",
            dir.display()
        )),
        "{err}"
    );
    let mut left: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, [".asrpipe-1-live00", "x.npz"]);
}
