//! Kaldi data directories as a corpus: hand-written directories with known segments, speakers,
//! transcripts and alignments, and the bad input a user may bring.

use std::path::{Path, PathBuf};

use asrpipe::corpus::{Corpus, CorpusKind, Gender, OpenOptions, Span};
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;

/// A 16-bit WAV of `frames` x `channels` samples at `rate`; sample `n` of channel `c` is
/// `(n % 1000) + 1000 c`.
fn write_wav(path: &Path, rate: u32, channels: u16, frames: usize) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..frames {
        for c in 0..channels {
            w.write_sample((n % 1000) as i16 + 1000 * c as i16).unwrap();
        }
    }
    w.finalize().unwrap();
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// rec1: 16 kHz mono, 2 s; rec2: 8 kHz stereo, 2 s. Four utterances cut by `segments`.
fn segmented_dir() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (r1, r2) = (dir.path().join("r1.wav"), dir.path().join("r2.wav"));
    write_wav(&r1, 16_000, 1, 32_000);
    write_wav(&r2, 8_000, 2, 16_000);
    let d = dir.path();
    write(
        d,
        "wav.scp",
        &format!("rec1 {}\nrec2 {}\n", r1.display(), r2.display()),
    );
    write(
        d,
        "segments",
        "spk1-a1 rec1 0.5 1.25\nspk1-a2 rec1 1.0 -1\nspk1-a3 rec1 1.9 2.2\n\
         spk2-b1 rec2 0.123456 0.7 1\n",
    );
    write(
        d,
        "utt2spk",
        "spk1-a1 spk1\nspk1-a2 spk1\nspk1-a3 spk1\nspk2-b1 spk2\n",
    );
    write(d, "spk2utt", "spk1 spk1-a1 spk1-a2 spk1-a3\nspk2 spk2-b1\n");
    write(d, "spk2gender", "spk1 f\nspk2 m\n");
    write(d, "text", "spk1-a1 HELLO WORLD\nspk2-b1 GOOD  MORNING\n");
    (dir, r1, r2)
}

#[test]
fn segments_become_known_sample_ranges() {
    let (dir, r1, r2) = segmented_dir();
    let c = Corpus::open(dir.path()).unwrap();
    assert_eq!(c.kind, CorpusKind::KaldiDir);
    let ids: Vec<&str> = c.utterances.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["spk1-a1", "spk1-a2", "spk1-a3", "spk2-b1"]);
    let span = |id: &str| c.utterance(id).unwrap().span.unwrap();
    assert_eq!(
        span("spk1-a1"),
        Span {
            start: 8000,
            end: 20_000
        }
    );
    // end -1: to the end of the recording.
    assert_eq!(
        span("spk1-a2"),
        Span {
            start: 16_000,
            end: 32_000
        }
    );
    // 2.2 s is 35200, past the end (32000) by less than 0.5 s: cut at the end, as Kaldi does.
    assert_eq!(
        span("spk1-a3"),
        Span {
            start: 30_400,
            end: 32_000
        }
    );
    // 0.123456 s x 8000 = 987.648, truncated to 987 (extract-segments truncates); 0.7 s: 5600.
    assert_eq!(
        span("spk2-b1"),
        Span {
            start: 987,
            end: 5600
        }
    );
    let a1 = c.utterance("spk1-a1").unwrap();
    assert_eq!(a1.audio, r1);
    assert_eq!(a1.speaker, "spk1");
    assert_eq!(a1.gender, Gender::Female);
    assert_eq!(a1.sample_rate, 16_000);
    assert_eq!(a1.num_samples, Some(12_000));
    assert!(!a1.has_alignment());
    let t = a1.transcript.as_ref().unwrap();
    assert_eq!(t.tokens().collect::<Vec<_>>(), ["HELLO", "WORLD"]);
    assert_eq!((t.file.file_name().unwrap(), t.line), ("text".as_ref(), 1));
    let b1 = c.utterance("spk2-b1").unwrap();
    assert_eq!(b1.audio, r2);
    assert_eq!(b1.sample_rate, 8000);
    assert_eq!(b1.gender, Gender::Male);
    assert_eq!(b1.channel, Some(asrpipe::audio::Channel::Index(1)));
    assert_eq!(b1.text.as_deref(), Some("GOOD  MORNING"));
    assert!(c.utterance("spk1-a2").unwrap().transcript.is_none());

    // Reading the utterance gives exactly its samples of the recording.
    let ex = Extractor::new(&Pipeline::kaldi_mfcc()).unwrap();
    let wav = ex.read_utterance(a1).unwrap();
    assert_eq!(wav.samples.len(), 12_000);
    assert!(
        wav.samples
            .iter()
            .enumerate()
            .all(|(i, &v)| v == ((8000 + i) % 1000) as f32)
    );
    // The second channel of rec2, resampled to 16 kHz: 4613 samples become 9226.
    let mut p = Pipeline::kaldi_mfcc();
    p.resample = true;
    let ex = Extractor::new(&p).unwrap();
    assert_eq!(ex.read_utterance(b1).unwrap().samples.len(), 9226);
    // Two utterances of one recording never share a cache entry.
    assert_ne!(
        ex.cache_key(a1),
        ex.cache_key(c.utterance("spk1-a2").unwrap())
    );
}

#[test]
fn without_segments_each_recording_is_an_utterance_and_wav_scp_names_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (i, n) in [16_000, 8000].iter().enumerate() {
        write_wav(&d.join(format!("{i}.wav")), 16_000, 1, *n);
    }
    write(
        d,
        "wav.scp",
        &format!(
            "u0 {}\nu1 {}\n",
            d.join("0.wav").display(),
            d.join("1.wav").display()
        ),
    );
    write(d, "utt2spk", "u0 s\nu1 s\n");
    let c = Corpus::open(&d.join("wav.scp")).unwrap();
    assert_eq!(c.root, d);
    let lens: Vec<Option<u64>> = c.utterances.iter().map(|u| u.num_samples).collect();
    assert_eq!(lens, [Some(16_000), Some(8000)]);
    assert!(c.utterances.iter().all(|u| u.span.is_none()));
}

#[test]
fn ctm_and_textgrid_alignments_are_read_in_samples() {
    let (dir, _, _) = segmented_dir();
    let d = dir.path();
    // Kaldi phones with word-position suffixes and stress; `sil` at the edges becomes h#,
    // inside pau; spn is left out.
    write(
        d,
        "phones.ctm",
        "spk1-a1 1 0.00 0.10 sil\nspk1-a1 1 0.10 0.05 HH_B\nspk1-a1 1 0.15 0.10 AH0_I\n\
         spk1-a1 1 0.25 0.05 spn_S\nspk1-a1 1 0.30 0.20 sil\nspk1-a1 1 0.50 0.25 sil\n",
    );
    std::fs::create_dir(d.join("textgrids")).unwrap();
    write(
        &d.join("textgrids"),
        "spk1-a2.TextGrid",
        "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\nxmax = 1\n\
         tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n        class = \"IntervalTier\"\n\
         name = \"phones\"\n        xmin = 0\n        xmax = 1\n        intervals: size = 2\n\
         intervals [1]:\n            xmin = 0\n            xmax = 0.25\n            text = \"sil\"\n\
         intervals [2]:\n            xmin = 0.25\n            xmax = 1\n            text = \"IY1\"\n",
    );
    let c = Corpus::open(d).unwrap();
    let a1 = c.utterance("spk1-a1").unwrap();
    let segs: Vec<(u64, u64, &str)> = a1
        .phones
        .iter()
        .map(|s| (s.start, s.end, s.label.as_str()))
        .collect();
    assert_eq!(
        segs,
        [
            (0, 1600, "h#"),
            (1600, 2400, "hh"),
            (2400, 4000, "ah"),
            (4800, 8000, "pau"),
            (8000, 12_000, "h#"),
        ]
    );
    assert!(a1.has_alignment());
    let a2 = c.utterance("spk1-a2").unwrap();
    let segs: Vec<(u64, u64, &str)> = a2
        .phones
        .iter()
        .map(|s| (s.start, s.end, s.label.as_str()))
        .collect();
    assert_eq!(segs, [(0, 4000, "h#"), (4000, 16_000, "iy")]);
    assert!(!c.utterance("spk1-a3").unwrap().has_alignment());
}

/// The error opening `dir`, as text.
fn open_err(dir: &Path) -> String {
    Corpus::open(dir).unwrap_err().to_string()
}

#[test]
fn bad_data_directories_are_refused_naming_file_and_line() {
    // A wav.scp line naming a missing file.
    let (dir, r1, _) = segmented_dir();
    let d = dir.path();
    write(
        d,
        "wav.scp",
        &format!("rec1 {}\nrec2 /no/such.wav\n", r1.display()),
    );
    let e = open_err(d);
    assert!(
        e.contains("wav.scp:2:") && e.contains("/no/such.wav not found"),
        "{e}"
    );
    assert!(e.contains("relative to the current directory"), "{e}");

    // Duplicate ids.
    let (dir, r1, _) = segmented_dir();
    let d = dir.path();
    write(d, "wav.scp", &format!("rec1 {0}\nrec1 {0}\n", r1.display()));
    let e = open_err(d);
    assert!(
        e.contains("wav.scp:2:") && e.contains("already given on line 1"),
        "{e}"
    );
    let (dir, _, _) = segmented_dir();
    let d = dir.path();
    write(d, "segments", "x rec1 0 1\nx rec1 1 2\n");
    let e = open_err(d);
    assert!(
        e.contains("segments:2:") && e.contains("`x` was already given"),
        "{e}"
    );

    // Segments past the end of their recording (by more than the 0.5 s Kaldi allows), or
    // starting after it.
    for (seg, what) in [
        (
            "spk1-a1 rec1 1.0 2.5\n",
            "past the end of recording `rec1` (2 s, 32000 samples)",
        ),
        (
            "spk1-a1 rec1 2.0 2.1\n",
            "at or past the end of recording `rec1`",
        ),
        ("spk1-a1 rec1 1.0 0.5\n", "empty or negative"),
        (
            "spk1-a1 rec9 0 1\n",
            "recording `rec9` of utterance `spk1-a1` is not in wav.scp",
        ),
        ("spk1-a1 rec1 0 x\n", "end `x` is not a number"),
        (
            "spk1-a1 rec1 0 1 1\n",
            "channel 1, but recording `rec1` has 1 channel(s)",
        ),
    ] {
        let (dir, _, _) = segmented_dir();
        let d = dir.path();
        write(d, "segments", seg);
        write(d, "utt2spk", "spk1-a1 spk1\n");
        std::fs::remove_file(d.join("spk2utt")).unwrap();
        write(d, "text", "");
        let e = open_err(d);
        assert!(e.contains("segments:1:") && e.contains(what), "{seg}: {e}");
    }

    // utt2spk missing an utterance, naming where the utterance was defined.
    let (dir, _, _) = segmented_dir();
    let d = dir.path();
    write(d, "utt2spk", "spk1-a1 spk1\nspk1-a2 spk1\nspk2-b1 spk2\n");
    let e = open_err(d);
    assert!(
        e.contains("segments:3:") && e.contains("`spk1-a3` has no speaker: utt2spk has no line"),
        "{e}"
    );
    // ... or naming one that does not exist; spk2utt disagreeing; text of an unknown utterance.
    let (dir, _, _) = segmented_dir();
    write(
        dir.path(),
        "utt2spk",
        "spk1-a1 spk1\nspk1-a2 spk1\nspk1-a3 spk1\nspk2-b1 spk2\nzz s\n",
    );
    let e = open_err(dir.path());
    assert!(
        e.contains("utt2spk:5:") && e.contains("`zz` is not in segments"),
        "{e}"
    );
    let (dir, _, _) = segmented_dir();
    write(
        dir.path(),
        "spk2utt",
        "spk1 spk1-a1 spk1-a2 spk2-b1\nspk2 spk2-b1\n",
    );
    let e = open_err(dir.path());
    assert!(
        e.contains("spk2utt:1:") && e.contains("`spk2-b1` of speaker `spk1`"),
        "{e}"
    );
    let (dir, _, _) = segmented_dir();
    write(dir.path(), "text", "nobody HI\n");
    let e = open_err(dir.path());
    assert!(
        e.contains("text:1:") && e.contains("`nobody` is not in segments"),
        "{e}"
    );
    // No utt2spk at all.
    let (dir, _, _) = segmented_dir();
    std::fs::remove_file(dir.path().join("utt2spk")).unwrap();
    assert!(open_err(dir.path()).contains("needs utt2spk"));
    // A ctm with an unknown phone, or an alignment past the utterance's end.
    let (dir, _, _) = segmented_dir();
    write(
        dir.path(),
        "phones.ctm",
        "spk1-a1 1 0 0.1 sil\nspk1-a1 1 0.1 0.1 QX1_B\n",
    );
    let e = open_err(dir.path());
    assert!(
        e.contains("phones.ctm:2:") && e.contains("unknown phone `QX1_B`"),
        "{e}"
    );
    let (dir, _, _) = segmented_dir();
    write(
        dir.path(),
        "phones.ctm",
        "spk1-a1 1 0 0.5 sil\nspk1-a1 1 0.5 0.5 sil\n",
    );
    let e = open_err(dir.path());
    assert!(
        e.contains("phones.ctm:2:")
            && e.contains("ends at sample 16000 but the utterance has 12000"),
        "{e}"
    );
}

#[test]
fn commands_run_only_when_allowed() {
    let (dir, r1, _) = segmented_dir();
    let d = dir.path();
    let scp = format!(
        "rec1 cat {} |\nrec2 {}\n",
        r1.display(),
        d.join("r2.wav").display()
    );
    write(d, "wav.scp", &scp);
    let e = open_err(d);
    assert!(
        e.contains("wav.scp:1:")
            && e.contains(&format!("`cat {} |` is a command", r1.display()))
            && e.contains("--allow-commands"),
        "{e}"
    );
    let out = tempfile::tempdir().unwrap();
    let opts = OpenOptions {
        command_output: Some(out.path().to_path_buf()),
    };
    let c = Corpus::open_with(d, &opts).unwrap();
    let a1 = c.utterance("spk1-a1").unwrap();
    assert!(a1.audio.starts_with(out.path()));
    assert_eq!(
        std::fs::read(&a1.audio).unwrap(),
        std::fs::read(&r1).unwrap()
    );
    assert_eq!(a1.span.unwrap().len(), 12_000);

    // A failing command is named, with what it said.
    write(
        d,
        "wav.scp",
        "rec1 sh -c 'echo broken pipe >&2; exit 3' |\n",
    );
    let e = Corpus::open_with(d, &opts).unwrap_err().to_string();
    assert!(
        e.contains("wav.scp:1:")
            && e.contains("command `sh -c 'echo broken pipe >&2; exit 3' |` failed")
            && e.contains("broken pipe"),
        "{e}"
    );
    // Output that is not audio.
    write(d, "wav.scp", "rec1 echo hello |\n");
    let e = Corpus::open_with(d, &opts).unwrap_err().to_string();
    assert!(
        e.contains("wav.scp:1:")
            && e.contains("the output of `echo hello |`")
            && e.contains("unknown audio format"),
        "{e}"
    );
}

#[test]
fn corpus_info_reads_a_data_directory() {
    // Alignments for all (commands that need times accept unaligned utterances elsewhere).
    let (dir, _, _) = segmented_dir();
    write(
        dir.path(),
        "phones.ctm",
        "spk1-a1 1 0 0.75 sil\nspk1-a2 1 0 1 sil\nspk1-a3 1 0 0.1 sil\nspk2-b1 1 0 0.5 sil\n",
    );
    let run = |json: bool| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_asrpipe"));
        cmd.args(["corpus", "info"]).arg(dir.path());
        if json {
            cmd.arg("--json");
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let info: serde_json::Value = serde_json::from_str(&run(true)).unwrap();
    assert_eq!(info["kind"], "KaldiDir");
    assert_eq!(info["utterances"], 4);
    assert_eq!(info["speakers"], 2);
    // 12000 + 16000 + 1600 samples at 16 kHz and 4613 at 8 kHz: 2.426625 s.
    let minutes = info["minutes"].as_f64().unwrap();
    assert!((minutes - 2.426625 / 60.0).abs() < 1e-12, "{minutes}");
    let table = run(false);
    assert!(table.contains("Kaldi data directory"), "{table}");
}
