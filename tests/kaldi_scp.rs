//! Kaldi archives with script files: byte-exact writing, reading back, truncated archives, and
//! `asrpipe features --list --shard` giving, shard by shard, what one process gives.

use std::process::Command;

mod common;

use asrpipe::corpus::shard;
use asrpipe::io::scp::{ScpReader, read_scp, read_scp_matrices, write_ark_scp};
use common::{demo_list, features};
use ndarray::{Array2, array};

fn items() -> Vec<(String, Array2<f32>)> {
    vec![
        ("a".into(), array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
        ("utt-22".into(), array![[-0.5f32, 0.25, 1e-3]]),
    ]
}

#[test]
fn ark_and_scp_are_written_byte_exact_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let ark = dir.path().join("feats.ark");
    let scp = dir.path().join("feats.scp");
    write_ark_scp(&ark, &scp, &items()).unwrap();
    // Entry 1: "a " (2 bytes), "\0B", "FM ", two 5-byte dimensions, 6 floats: 2 + 15 + 24 = 41.
    let mut want = b"a \0BFM \x04\x03\0\0\0\x04\x02\0\0\0".to_vec();
    for v in [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0] {
        want.extend(v.to_le_bytes());
    }
    want.extend(b"utt-22 \0BFM \x04\x01\0\0\0\x04\x03\0\0\0");
    for v in [-0.5f32, 0.25, 1e-3] {
        want.extend(v.to_le_bytes());
    }
    assert_eq!(std::fs::read(&ark).unwrap(), want);
    // Offsets point at the binary marker: 2, and 41 + 7 = 48.
    assert_eq!(
        std::fs::read_to_string(&scp).unwrap(),
        format!("a {0}:2\nutt-22 {0}:48\n", ark.display())
    );
    assert_eq!(read_scp_matrices(&scp).unwrap(), items());
    // The same archive as `asrpipe features -o x.ark` writes.
    let plain = dir.path().join("plain.ark");
    asrpipe::io::export::Output::plan(&plain, None, &[], 2, false)
        .unwrap()
        .write(&items())
        .unwrap();
    assert_eq!(std::fs::read(&plain).unwrap(), want);
}

#[test]
fn a_truncated_archive_or_a_bad_scp_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ark = dir.path().join("feats.ark");
    let scp = dir.path().join("feats.scp");
    write_ark_scp(&ark, &scp, &items()).unwrap();
    let bytes = std::fs::read(&ark).unwrap();
    // Cut inside the second matrix's data: the first still reads.
    std::fs::write(&ark, &bytes[..bytes.len() - 5]).unwrap();
    let entries = read_scp(&scp).unwrap();
    let mut r = ScpReader::new(&scp);
    assert_eq!(r.read(&entries[0]).unwrap(), items()[0].1);
    let e = r.read(&entries[1]).unwrap_err().to_string();
    assert!(
        e.contains("feats.scp:2:") && e.contains("truncated archive") && e.contains("`utt-22`"),
        "{e}"
    );
    // Cut before the second entry's offset.
    std::fs::write(&ark, &bytes[..30]).unwrap();
    let e = read_scp_matrices(&scp).unwrap_err().to_string();
    assert!(
        e.contains("feats.scp:1:") && e.contains("truncated archive"),
        "{e}"
    );
    std::fs::write(&ark, &bytes[..44]).unwrap();
    let e = read_scp_matrices(&scp).unwrap_err().to_string();
    assert!(
        e.contains("feats.scp:2:") && e.contains("only 44 bytes"),
        "{e}"
    );
    // An offset that does not point at a matrix.
    std::fs::write(&ark, &bytes).unwrap();
    std::fs::write(&scp, format!("a {}:3\n", ark.display())).unwrap();
    let e = read_scp_matrices(&scp).unwrap_err().to_string();
    assert!(e.contains("not a Kaldi binary matrix"), "{e}");
    for (line, what) in [
        ("a", "expected `<key> <ark>:<offset>`"),
        ("a x.ark", "expected `<ark>:<byte offset>`"),
        ("a gunzip -c x.ark.gz |", "no pipes"),
    ] {
        std::fs::write(&scp, format!("{line}\n")).unwrap();
        let e = read_scp(&scp).unwrap_err().to_string();
        assert!(
            e.contains("feats.scp:1:") && e.contains(what),
            "{line}: {e}"
        );
    }
    std::fs::write(&scp, format!("a {0}:2\na {0}:2\n", ark.display())).unwrap();
    let e = read_scp(&scp).unwrap_err().to_string();
    assert!(
        e.contains("feats.scp:2:") && e.contains("already given on line 1"),
        "{e}"
    );
}

#[test]
fn shards_by_speaker_concatenate_to_the_single_process_result() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (list, rows) = demo_list(d);
    let one = (d.join("all.ark"), d.join("all.scp"));
    features(&[
        "--list".as_ref(),
        list.as_os_str(),
        "-o".as_ref(),
        one.0.as_os_str(),
        "--scp".as_ref(),
        one.1.as_os_str(),
    ]);
    let mut cat = String::new();
    let speakers: Vec<&str> = rows.iter().map(|(_, s)| s.as_str()).collect();
    let want = shard::by_speaker(&speakers, 4).unwrap();
    for k in 1..=4 {
        let ark = d.join(format!("feats.{k}.ark"));
        let scp = d.join(format!("feats.{k}.scp"));
        features(&[
            "--list".as_ref(),
            list.as_os_str(),
            "--shard".as_ref(),
            format!("{k}/4").as_ref(),
            "-o".as_ref(),
            ark.as_os_str(),
            "--scp".as_ref(),
            scp.as_os_str(),
        ]);
        let keys: Vec<String> = read_scp(&scp).unwrap().into_iter().map(|e| e.key).collect();
        let expected: Vec<String> = want[k - 1].iter().map(|&i| rows[i].0.clone()).collect();
        assert_eq!(keys, expected, "shard {k}");
        cat += &std::fs::read_to_string(&scp).unwrap();
    }
    let whole = d.join("cat.scp");
    std::fs::write(&whole, cat).unwrap();
    // Speaker CMVN pools whole speakers in each shard: bit-identical to one process.
    let single = read_scp_matrices(&one.1).unwrap();
    assert_eq!(single.len(), rows.len());
    assert_eq!(read_scp_matrices(&whole).unwrap(), single);
}

#[test]
fn bad_lists_and_shard_specs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (list, _) = demo_list(d);
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_asrpipe"))
            .args(["features", "--quiet", "--list"])
            .arg(&list)
            .args(args)
            .args(["-o".as_ref(), d.join("x.ark").as_os_str()])
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    for spec in ["5/4", "0/4"] {
        let e = run(&["--shard", spec]);
        assert!(e.contains(spec) && e.contains("numbered from 1"), "{e}");
    }
    let e = run(&["--shard", "13/13"]);
    assert!(e.contains("12 speaker(s) into 13 shards"), "{e}");
    // utt2spk without a line for an utterance of the list.
    let u2s = std::fs::read_to_string(d.join("utt2spk")).unwrap();
    std::fs::write(
        d.join("utt2spk"),
        u2s.lines().skip(1).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let e = run(&[]);
    assert!(
        e.contains("wav.scp:1:") && e.contains("has no speaker"),
        "{e}"
    );
    // A command entry without --allow-commands.
    std::fs::write(&list, "u1 cat a.wav |\n").unwrap();
    std::fs::remove_file(d.join("utt2spk")).unwrap();
    let e = run(&[]);
    assert!(
        e.contains("wav.scp:1:") && e.contains("--allow-commands"),
        "{e}"
    );
}
