//! `features` plans each file's memory from its header before reading any of it.

use std::process::Command;

use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;

#[test]
fn a_long_file_is_planned_at_a_chunk_s_memory_not_its_length() {
    // A mono 16-bit 16 kHz WAV of 2^29 samples (9.3 hours), a sparse file: refused at 4 MiB with
    // the streaming figure, which does not grow with the file's length (the offline path's
    // would be about 14 GiB).
    let dir = tempfile::tempdir().unwrap();
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
    let extractor = Extractor::new(&Pipeline::kaldi_mfcc()).unwrap();
    let info = extractor.stream_info(&big).unwrap();
    let need = extractor.stream_memory(&info);
    assert!(need < 32.0 * 1024.0 * 1024.0, "{need}");
    let (whole, _) = extractor.file_memory(&info, 44 + u64::from(data));
    assert!(whole > 100.0 * need, "{whole} vs {need}");
    let run = Command::new(env!("CARGO_BIN_EXE_asrpipe"))
        .args(["features", "--max-memory", "4M"])
        .arg(&big)
        .arg("-o")
        .arg(dir.path().join("f.ark"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "computing the features of {} (536870912 samples x 1 channels: 3355441 frames x 13 \
             dims) needs about {} of memory",
            big.display(),
            asrpipe::memory::human(need)
        )),
        "{err}"
    );
    assert!(err.contains("more than the limit of 4.0 MiB"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!dir.path().join("f.ark").exists());
}
