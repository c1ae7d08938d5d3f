//! `features` plans each file's memory from its header before reading any of it.

use std::process::Command;

#[test]
fn a_file_too_large_for_the_limit_is_refused_from_its_header_with_the_figure() {
    let dir = tempfile::tempdir().unwrap();
    // A mono 16-bit 16 kHz WAV whose data chunk holds 2^30 bytes: 2^29 samples (9.3 hours),
    // a sparse file, so nothing is written or read.
    let big = dir.path().join("big.wav");
    let data: u32 = 1 << 30;
    let mut h = b"RIFF".to_vec();
    h.extend((data + 36).to_le_bytes());
    h.extend(b"WAVEfmt \x10\0\0\0\x01\0\x01\0\x80\x3e\0\0\0\x7d\0\0\x02\0\x10\0data");
    h.extend(data.to_le_bytes());
    std::fs::write(&big, &h).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&big)
        .unwrap()
        .set_len(44 + u64::from(data))
        .unwrap();
    let out = dir.path().join("f.npy");
    let run = Command::new(env!("CARGO_BIN_EXE_asrpipe"))
        .args(["features", "--max-memory", "256M"])
        .arg(&big)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    // 2^29 samples in 25 ms frames every 10 ms (snip_edges): 1 + (2^29 - 400) / 160 = 3355441
    // frames of 13 MFCCs.
    assert!(
        err.contains(&format!(
            "computing the features of {} (536870912 samples x 1 channels: 3355441 frames x 13 \
             dims) needs about",
            big.display()
        )),
        "{err}"
    );
    assert!(err.contains("more than the limit of 256.0 MiB"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());
}
