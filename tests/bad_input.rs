//! The bad-input catalogue, driven through the binary as a user would run it: broken audio, label
//! files, pipelines and model directories, and outputs that cannot be written. Every case must
//! exit non-zero with one `error: ...` line naming the file (and the line, where there is one),
//! must not panic, and must leave no output behind.

use std::ffi::OsStr;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The binary under test: `$ASRPIPE_BIN` (e.g. an installed copy), else the one cargo built.
fn bin() -> PathBuf {
    std::env::var_os("ASRPIPE_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_asrpipe")),
        PathBuf::from,
    )
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// One feature cache for the whole test process, outside the source tree.
fn cache() -> &'static Path {
    static CACHE: OnceLock<TempDir> = OnceLock::new();
    CACHE.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

struct Ran {
    ok: bool,
    stderr: String,
}

fn asrpipe<I, S>(args: I) -> Ran
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    asrpipe_in(Command::new(bin()).args(args))
}

/// Run a prepared command (its program and arguments set) from the crate root; an adversarial
/// input must not hang it, so it is killed after a minute.
fn asrpipe_in(cmd: &mut Command) -> Ran {
    let log = tempfile::tempfile().unwrap();
    let mut child = cmd
        .current_dir(root())
        .env("ASRPIPE_CACHE", cache())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log.try_clone().unwrap())
        .spawn()
        .expect("the asrpipe binary runs");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{cmd:?} ran for more than 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stderr = String::new();
    let mut log = log;
    log.seek(SeekFrom::Start(0)).unwrap();
    log.read_to_string(&mut stderr).unwrap();
    Ran {
        ok: status.success(),
        stderr,
    }
}

/// Run a command that must fail; its single `error:` line must contain every string in `names`.
/// Returns that line.
fn fails<I, S>(args: I, names: &[&str]) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.as_ref().to_string_lossy().into_owned())
        .collect();
    let r = asrpipe(&args);
    let cmd = args.join(" ");
    assert!(!r.ok, "`asrpipe {cmd}` succeeded; stderr:\n{}", r.stderr);
    assert!(
        !r.stderr.contains("panicked"),
        "`asrpipe {cmd}` panicked:\n{}",
        r.stderr
    );
    let errors: Vec<&str> = r
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(
        errors.len(),
        1,
        "`asrpipe {cmd}`: expected one `error:` line:\n{}",
        r.stderr
    );
    let line = errors[0];
    let last = r.stderr.lines().rev().find(|l| !l.trim().is_empty());
    assert_eq!(
        last,
        Some(line),
        "`asrpipe {cmd}`: the error must be one line, and the last:\n{}",
        r.stderr
    );
    for n in names {
        assert!(
            line.contains(n),
            "`asrpipe {cmd}`: error does not mention `{n}`:\n{line}"
        );
    }
    // Shown with --nocapture: the catalogue of messages a user would see.
    eprintln!("{line}");
    line.to_string()
}

/// Nothing at `path`, and no temporary file of ours beside it.
fn left_nothing(path: &Path) {
    assert!(!path.exists(), "{} was left behind", path.display());
    if let Some(dir) = path.parent().filter(|d| d.is_dir()) {
        for e in std::fs::read_dir(dir).unwrap() {
            let name = e.unwrap().file_name();
            assert!(
                !name.to_string_lossy().starts_with(".asrpipe-"),
                "temporary file {name:?} left in {}",
                dir.display()
            );
        }
    }
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> PathBuf {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

// ---------------------------------------------------------------------------------------------
// Audio, through `asrpipe features`.

fn wav_bytes<S: hound::Sample + Copy>(spec: hound::WavSpec, samples: &[S]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
    for &s in samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    out.into_inner()
}

fn spec(channels: u16, rate: u32, bits: u16, float: bool) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

/// One second of a 440 Hz tone.
fn tone(n: usize) -> Vec<i16> {
    (0..n)
        .map(|i| (8000.0 * (i as f32 * 440.0 * std::f32::consts::TAU / 16000.0).sin()) as i16)
        .collect()
}

fn good_wav() -> Vec<u8> {
    wav_bytes(spec(1, 16000, 16, false), &tone(16000))
}

/// A NIST SPHERE file with a 1024-byte header.
fn sphere(fields: &str, body: &[u8]) -> Vec<u8> {
    let mut h = format!("NIST_1A\n   1024\n{fields}end_head\n").into_bytes();
    h.resize(1024, b' ');
    h.extend_from_slice(body);
    h
}

fn pcm_fields(count: usize) -> String {
    format!(
        "sample_count -i {count}\nsample_rate -i 16000\nchannel_count -i 1\nsample_n_bytes -i 2\n\
         sample_byte_format -s2 01\n"
    )
}

fn le_bytes(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

/// `asrpipe features IN -o OUT.npz` must fail naming IN; OUT must not appear.
fn features_fail(dir: &Path, input: &Path, names: &[&str]) -> String {
    let out = dir.join(format!("{}.npz", name(input)));
    let mut want = vec![name(input)];
    want.extend(names.iter().map(|s| s.to_string()));
    let want: Vec<&str> = want.iter().map(String::as_str).collect();
    let line = fails(
        [
            OsStr::new("features"),
            input.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ],
        &want,
    );
    left_nothing(&out);
    line
}

#[test]
fn broken_wav_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wav = good_wav();

    let p = write(&d.join("empty.wav"), b"");
    features_fail(d, &p, &["empty"]);
    let p = write(&d.join("header-cut.wav"), &wav[..30]);
    features_fail(d, &p, &[]);
    let p = write(&d.join("data-cut.wav"), &wav[..44 + 1001]);
    features_fail(d, &p, &[]);
    let mut corrupt = wav.clone();
    corrupt[12..36].fill(0xff); // the fmt chunk
    let p = write(&d.join("corrupt-fmt.wav"), &corrupt);
    features_fail(d, &p, &[]);
    let noise: Vec<u8> = (0..5000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let p = write(&d.join("noise.wav"), &noise);
    features_fail(d, &p, &["unknown audio format"]);
    let p = write(
        &d.join("zero-length.wav"),
        wav_bytes::<i16>(spec(1, 16000, 16, false), &[]),
    );
    features_fail(d, &p, &["no audio samples"]);
    let p = write(
        &d.join("short.wav"),
        wav_bytes(spec(1, 16000, 16, false), &tone(100)),
    );
    features_fail(d, &p, &["frame"]);
    let p = write(
        &d.join("8khz.wav"),
        wav_bytes(spec(1, 8000, 16, false), &tone(8000)),
    );
    features_fail(d, &p, &["8000 Hz", "16000 Hz"]);
    let three: Vec<i16> = tone(3000).iter().flat_map(|&s| [s, s, s]).collect();
    let p = write(
        &d.join("3ch.wav"),
        wav_bytes(spec(3, 16000, 16, false), &three),
    );
    features_fail(d, &p, &["3 channels"]);
    for (label, bad) in [("nan", f32::NAN), ("inf", f32::INFINITY)] {
        let mut s: Vec<f32> = tone(16000).iter().map(|&v| v as f32 / 32768.0).collect();
        s[1234] = bad;
        let p = write(
            &d.join(format!("{label}.wav")),
            wav_bytes(spec(1, 16000, 32, true), &s),
        );
        features_fail(d, &p, &["sample 1234"]);
    }
}

#[test]
fn eight_bit_wav_is_read_not_refused() {
    // 8-bit unsigned PCM is a valid WAV: it is read (scaled to the 16-bit range), not an error.
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<i8> = tone(16000).iter().map(|&s| (s >> 8) as i8).collect();
    let p = write(
        &dir.path().join("8bit.wav"),
        wav_bytes(spec(1, 16000, 8, false), &samples),
    );
    let out = dir.path().join("8bit.npz");
    let r = asrpipe([
        OsStr::new("features"),
        p.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert!(r.ok, "{}", r.stderr);
    assert!(out.is_file());
}

#[test]
fn broken_sphere_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let body = le_bytes(&tone(16000));

    let whole = sphere(&pcm_fields(16000), &body);
    let p = write(&d.join("header-cut.sph"), &whole[..40]);
    features_fail(d, &p, &[]);
    let p = write(&d.join("body-cut.sph"), &whole[..1024 + 1001]);
    features_fail(d, &p, &[]);
    let mut garbled = whole.clone();
    garbled[8..15].copy_from_slice(b"abcdefg"); // the header size
    let p = write(&d.join("bad-size.sph"), &garbled);
    features_fail(d, &p, &[]);
    let p = write(&d.join("zero-length.sph"), sphere(&pcm_fields(0), &[]));
    features_fail(d, &p, &[]);
    let p = write(
        &d.join("short.sph"),
        sphere(&pcm_fields(100), &le_bytes(&tone(100))),
    );
    features_fail(d, &p, &["frame"]);
    let fields = pcm_fields(16000) + "sample_coding -s26 pcm,embedded-shorten-v2.00\n";
    let p = write(&d.join("shorten.sph"), sphere(&fields, &body[..4000]));
    features_fail(d, &p, &["shorten"]);
    let fields = pcm_fields(16000).replace("16000\nch", "8000\nch");
    let p = write(&d.join("8khz.sph"), sphere(&fields, &body));
    features_fail(d, &p, &["8000 Hz"]);
    let fields = pcm_fields(16000).replace("channel_count -i 1", "channel_count -i 3");
    let p = write(&d.join("3ch.sph"), sphere(&fields, &body));
    features_fail(d, &p, &[]);
}

#[test]
fn broken_flac_files_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let flac = std::fs::read(root().join("tests/data/audio/mono16.flac")).unwrap();
    assert!(flac.len() > 1000);

    let p = write(&d.join("magic-only.flac"), &flac[..4]);
    features_fail(d, &p, &[]);
    let p = write(&d.join("streaminfo-cut.flac"), &flac[..20]);
    features_fail(d, &p, &[]);
    let p = write(&d.join("frames-cut.flac"), &flac[..flac.len() / 2]);
    features_fail(d, &p, &[]);
    let mut corrupt = flac.clone();
    let mid = flac.len() / 2;
    corrupt[mid..mid + 32].fill(0x55);
    let p = write(&d.join("corrupt.flac"), &corrupt);
    features_fail(d, &p, &[]);
    // STREAMINFO alone, marked last, saying 0 samples.
    let mut empty = flac[..42].to_vec();
    empty[4] |= 0x80;
    empty[21] &= 0xf0;
    empty[22..26].fill(0);
    let p = write(&d.join("zero-length.flac"), &empty);
    features_fail(d, &p, &[]);
    let stereo = std::fs::read(root().join("tests/data/audio/stereo24.flac")).unwrap();
    let p = write(&d.join("stereo.flac"), &stereo);
    features_fail(d, &p, &["2 channels"]);
}

// ---------------------------------------------------------------------------------------------
// Labels: a two-utterance corpus in TIMIT's layout, damaged one file at a time.

const UTT: &str = "dr1-fslt0/sa1";

/// A copy of two demo utterances (one speaker), whose label files `damage` may rewrite.
fn tiny_corpus(damage: impl FnOnce(&Path)) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spk = dir.path().join("dr1-fslt0");
    std::fs::create_dir_all(&spk).unwrap();
    for stem in ["sa1", "sa2"] {
        for ext in ["flac", "phn", "wrd"] {
            let from = root().join(format!("audio/demo/dr1-fslt0/{stem}.{ext}"));
            std::fs::copy(&from, spk.join(format!("{stem}.{ext}"))).unwrap();
        }
    }
    damage(&spk);
    dir
}

/// Rewrite line `n` (1-based) of a text file.
fn set_line(path: &Path, n: usize, text: &str) {
    let old = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = old.lines().map(String::from).collect();
    lines[n - 1] = text.to_string();
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// The `.phn` line `n` as (start, end).
fn phn_line(path: &Path, n: usize) -> (u64, u64) {
    let text = std::fs::read_to_string(path).unwrap();
    let cols: Vec<u64> = text
        .lines()
        .nth(n - 1)
        .unwrap()
        .split_whitespace()
        .take(2)
        .map(|c| c.parse().unwrap())
        .collect();
    (cols[0], cols[1])
}

/// `corpus labels` and `eval` (with a trained model and a run directory) must both fail naming
/// `names`; the run directory must not appear.
fn corpus_fails(corpus: &Path, names: &[&str]) {
    fails(
        [
            OsStr::new("corpus"),
            OsStr::new("labels"),
            corpus.as_os_str(),
            OsStr::new(UTT),
        ],
        names,
    );
    let run = corpus.join("run");
    fails(
        [
            OsStr::new("eval"),
            OsStr::new("--model"),
            models().gmm.as_os_str(),
            OsStr::new("--corpus"),
            corpus.as_os_str(),
            OsStr::new("-o"),
            run.as_os_str(),
        ],
        names,
    );
    left_nothing(&run);
}

#[test]
fn the_tiny_corpus_is_good_before_it_is_damaged() {
    let c = tiny_corpus(|_| {});
    let r = asrpipe([
        OsStr::new("corpus"),
        OsStr::new("labels"),
        c.path().as_os_str(),
        OsStr::new(UTT),
    ]);
    assert!(r.ok, "{}", r.stderr);
}

#[test]
fn phone_label_faults_name_the_file_and_line() {
    let c = tiny_corpus(|spk| std::fs::remove_file(spk.join("sa1.phn")).unwrap());
    corpus_fails(c.path(), &["sa1.flac", "sa1.phn"]);

    let c = tiny_corpus(|spk| {
        let p = spk.join("sa1.phn");
        let (start, _) = phn_line(&p, 3);
        set_line(&p, 3, &format!("{start} {} iy", start - 10));
    });
    corpus_fails(c.path(), &["sa1.phn:3", "before it starts"]);

    let c = tiny_corpus(|spk| {
        let p = spk.join("sa1.phn");
        let (start, end) = phn_line(&p, 2);
        set_line(&p, 2, &format!("{start} {end} zz"));
    });
    corpus_fails(c.path(), &["sa1.phn:2", "zz"]);

    let c = tiny_corpus(|spk| {
        let p = spk.join("sa1.phn");
        let (start, end) = phn_line(&p, 3);
        set_line(&p, 3, &format!("{} {end} iy", start - 100));
    });
    corpus_fails(c.path(), &["sa1.phn:3", "overlap"]);

    let c = tiny_corpus(|spk| {
        let p = spk.join("sa1.phn");
        set_line(&p, 2, "2800 five h#");
    });
    corpus_fails(c.path(), &["sa1.phn:2", "five"]);

    // One more segment, a second past the end of the audio: found when the audio is read.
    let c = tiny_corpus(|spk| {
        let p = spk.join("sa1.phn");
        let text = std::fs::read_to_string(&p).unwrap();
        let n = text.lines().count();
        let (_, end) = phn_line(&p, n);
        std::fs::write(&p, format!("{text}{end} {} h#\n", end + 16000)).unwrap();
        let line = format!("sa1.phn:{}", n + 1);
        std::fs::write(spk.join("expect"), line).unwrap();
    });
    let expect = std::fs::read_to_string(c.path().join("dr1-fslt0/expect")).unwrap();
    fails(
        [
            OsStr::new("corpus"),
            OsStr::new("labels"),
            c.path().as_os_str(),
            OsStr::new(UTT),
        ],
        &[&expect, "past the end of the audio"],
    );
}

#[test]
fn textgrid_without_a_phone_tier_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root().join("audio/demo/dr1-fslt0/sa1.flac"),
        dir.path().join("a.flac"),
    )
    .unwrap();
    write(
        &dir.path().join("a.TextGrid"),
        "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\nxmin = 0\nxmax = 0.5\n\
         tiers? <exists>\nsize = 1\nitem []:\n    item [1]:\n        class = \"IntervalTier\"\n\
                 name = \"words\"\n        xmin = 0\n        xmax = 0.5\n\
                 intervals: size = 1\n        intervals [1]:\n            xmin = 0\n\
                     xmax = 0.5\n            text = \"see\"\n",
    );
    let manifest = write(
        &dir.path().join("manifest.tsv"),
        "audio\tspeaker\talignment\na.flac\tspk1\ta.TextGrid\n",
    );
    corpus_fails(&manifest, &["a.TextGrid", "no phone tier", "words"]);
}

// ---------------------------------------------------------------------------------------------
// Pipelines: `asrpipe check` and `asrpipe features --pipeline`.

/// Lines: 1 name, 2 sample_rate, 3 stages, 4 waveform, 5 dft, 6 spectrogram, 7 filterbank,
/// 8 log, 9 dct.
const PIPELINE: &str = "name: t
sample_rate: 16000
stages:
  - waveform: { frame_length_ms: 25, frame_shift_ms: 10 }
  - dft: {}
  - spectrogram: { power: true }
  - filterbank: { num_bins: 23 }
  - log: {}
  - dct: { num_ceps: 13 }
";

/// `check` and `features --pipeline` both fail naming the file and `names`, and leave no output.
fn pipeline_fails(dir: &Path, file: &str, yaml: &str, names: &[&str]) {
    let p = write(&dir.join(file), yaml);
    let mut want = vec![file];
    want.extend(names);
    fails([OsStr::new("check"), p.as_os_str()], &want);
    let wav = write(&dir.join("tone.wav"), good_wav());
    let out = dir.join(format!("{file}.npz"));
    fails(
        [
            OsStr::new("features"),
            OsStr::new("--pipeline"),
            p.as_os_str(),
            wav.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
        ],
        &want,
    );
    left_nothing(&out);
}

#[test]
fn the_base_pipeline_is_good() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir.path().join("ok.yaml"), PIPELINE);
    let r = asrpipe([OsStr::new("check"), p.as_os_str()]);
    assert!(r.ok, "{}", r.stderr);
}

#[test]
fn malformed_pipelines_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let edit = |from: &str, to: &str| {
        assert!(PIPELINE.contains(from), "{from}");
        PIPELINE.replacen(from, to, 1)
    };
    pipeline_fails(
        d,
        "top-key.yaml",
        &edit("sample_rate: 16000", "sample_rat: 16000"),
        &[":2", "sample_rat"],
    );
    pipeline_fails(
        d,
        "stage-key.yaml",
        &edit("num_bins: 23", "num_bin: 23"),
        &[":7", "num_bin"],
    );
    pipeline_fails(
        d,
        "unknown-stage.yaml",
        &edit("- dct:", "- dtc:"),
        &[":9", "dtc"],
    );
    pipeline_fails(
        d,
        "dct-first.yaml",
        &edit(
            "  - filterbank: { num_bins: 23 }\n  - log: {}\n  - dct: { num_ceps: 13 }\n",
            "  - dct: { num_ceps: 13 }\n  - filterbank: { num_bins: 23 }\n  - log: {}\n",
        ),
        &[":7", "dct"],
    );
    pipeline_fails(
        d,
        "log-twice.yaml",
        &edit("  - log: {}\n", "  - log: {}\n  - log: {}\n"),
        &[":9", "log"],
    );
    pipeline_fails(
        d,
        "negative-frame.yaml",
        &edit("frame_length_ms: 25", "frame_length_ms: -25"),
        &[":4", "frame_length_ms"],
    );
    pipeline_fails(
        d,
        "zero-bins.yaml",
        &edit("num_bins: 23", "num_bins: 0"),
        &[":7", "num_bins"],
    );
    pipeline_fails(
        d,
        "many-bins.yaml",
        &edit("num_bins: 23", "num_bins: 300"),
        &[":7"],
    );
    pipeline_fails(
        d,
        "huge-frame.yaml",
        &edit("frame_length_ms: 25", "frame_length_ms: 1e30"),
        &[":4", "frame_length_ms"],
    );
    pipeline_fails(
        d,
        "beyond-f32.yaml",
        &edit("frame_length_ms: 25", "frame_length_ms: 1e300"),
        &[":4"],
    );
    pipeline_fails(
        d,
        "huge-int.yaml",
        &edit("num_bins: 23", "num_bins: 123456789012345678901234567890"),
        &[":7"],
    );
    pipeline_fails(
        d,
        "huge-rate.yaml",
        &edit("sample_rate: 16000", "sample_rate: 4000000000"),
        &[],
    );
    pipeline_fails(
        d,
        "gmm-and-dnn.yaml",
        &format!(
            "{PIPELINE}classifier:\n  gmm: {{ gaussians_per_state: 2 }}\n  dnn: {{ hidden: 2x64 }}\n"
        ),
        &[":11", "gmm", "dnn"],
    );
    pipeline_fails(
        d,
        "from-missing.yaml",
        &edit(
            "  - filterbank: { num_bins: 23 }\n  - log: {}\n  - dct: { num_ceps: 13 }\n",
            "classifier:\n  from: dct\n  dnn: { hidden: 2x64 }\n",
        ),
        &[":8", "dct"],
    );
}

#[test]
fn adversarial_yaml_fails_fast_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let depth = 100_000;
    let deep = format!("stages: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    pipeline_fails(d, "deep-seq.yaml", &deep, &[]);
    let deep = format!(
        "stages:\n  - waveform: {}1{}\n",
        "{a: ".repeat(depth),
        "}".repeat(depth)
    );
    pipeline_fails(d, "deep-map.yaml", &deep, &[]);
    // "Billion laughs": nine levels of ten aliases each would be 10^9 strings if expanded.
    let mut bomb = String::from(
        "a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        bomb += &format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(","));
    }
    pipeline_fails(d, "lol-top.yaml", &bomb, &[]);
    // The same bomb where a value is expected.
    let mut bomb = String::from(
        "name: t\ndescription: &a0 \"lol\"\nstages:\n  - waveform: {}\npost:\n  deltas: { order: 2 }\nclassifier:\n  states:\n    tied: 10\n    questions: [&a1 [*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0]",
    );
    for i in 2..10 {
        let prev = format!("*a{}", i - 1);
        bomb += &format!(", &a{i} [{}]", [prev.as_str(); 10].join(","));
    }
    bomb += "]\n";
    pipeline_fails(d, "lol-value.yaml", &bomb, &[]);
}

#[test]
fn eval_from_a_stage_not_in_the_chain() {
    fails(
        [
            "eval",
            "--from",
            "dct",
            "--pipeline",
            "pipelines/spectrogram-dnn.yaml",
        ],
        &["spectrogram-dnn.yaml", "dct"],
    );
}

// ---------------------------------------------------------------------------------------------
// Model directories: trained once per test process, copied and damaged.

struct Models {
    _dir: TempDir,
    gmm: PathBuf,
    dnn: PathBuf,
    /// A GMM over more tied states: its targets.json belongs to no other model.
    small: PathBuf,
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let gmm = dir.path().join("gmm");
        let dnn = dir.path().join("dnn");
        let small = dir.path().join("small");
        let common = ["train", "--corpus", "audio/demo", "--epochs", "1"];
        for (out, kind) in [
            (&gmm, ["--gmm", "1", "--states", "144"]),
            (&dnn, ["--dnn", "1x16", "--states", "144"]),
            (&small, ["--gmm", "1", "--states", "300"]),
        ] {
            let mut args: Vec<&OsStr> = common.iter().map(OsStr::new).collect();
            args.extend(kind.iter().map(OsStr::new));
            args.extend([OsStr::new("-o"), out.as_os_str()]);
            let r = asrpipe(&args);
            assert!(r.ok, "training {} failed:\n{}", out.display(), r.stderr);
        }
        Models {
            _dir: dir,
            gmm,
            dnn,
            small,
        }
    })
}

/// A copy of a model directory (without checkpoints) in `into`, named `name`.
fn copy_model(from: &Path, into: &Path, name: &str) -> PathBuf {
    let to = into.join(name);
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    to
}

/// `eval --model` (and, for DNNs, `activations --model`) fail naming `names`, leaving no output.
fn model_fails(model: &Path, dnn: bool, names: &[&str]) {
    let dir = model.display().to_string();
    let names: Vec<&str> = names.iter().copied().chain([dir.as_str()]).collect();
    let names = names.as_slice();
    let run = model.with_extension("run");
    fails(
        [
            OsStr::new("eval"),
            OsStr::new("--model"),
            model.as_os_str(),
            OsStr::new("-o"),
            run.as_os_str(),
        ],
        names,
    );
    left_nothing(&run);
    if dnn {
        let out = model.with_extension("npz");
        fails(
            [
                OsStr::new("activations"),
                OsStr::new("--model"),
                model.as_os_str(),
                OsStr::new("--layer"),
                OsStr::new("1"),
                OsStr::new(UTT),
                OsStr::new("-o"),
                out.as_os_str(),
            ],
            names,
        );
        left_nothing(&out);
    }
}

#[test]
fn the_trained_models_work_before_they_are_damaged() {
    let m = models();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("act.npz");
    let r = asrpipe([
        OsStr::new("activations"),
        OsStr::new("--model"),
        m.dnn.as_os_str(),
        OsStr::new("--layer"),
        OsStr::new("1"),
        OsStr::new(UTT),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
    assert!(r.ok, "{}", r.stderr);
    assert!(out.is_file());
}

#[test]
fn damaged_model_directories_are_named_errors() {
    let m = models();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (src, dnn, kind) in [(&m.gmm, false, "gmm"), (&m.dnn, true, "dnn")] {
        let other = if dnn { &m.gmm } else { &m.dnn };

        let p = copy_model(src, d, &format!("{kind}-cut"));
        let st = p.join("model.safetensors");
        let bytes = std::fs::read(&st).unwrap();
        std::fs::write(&st, &bytes[..bytes.len() / 2]).unwrap();
        model_fails(&p, dnn, &["model.safetensors"]);

        let p = copy_model(src, d, &format!("{kind}-empty"));
        std::fs::write(p.join("model.safetensors"), b"").unwrap();
        model_fails(&p, dnn, &["model.safetensors"]);

        for file in ["model.json", "about.json"] {
            let p = copy_model(src, d, &format!("{kind}-other-{file}"));
            std::fs::copy(other.join(file), p.join(file)).unwrap();
            model_fails(&p, dnn, &["model.json"]);
        }
        let p = copy_model(src, d, &format!("{kind}-other-targets"));
        std::fs::copy(m.small.join("targets.json"), p.join("targets.json")).unwrap();
        model_fails(
            &p,
            dnn,
            &["model.safetensors", "targets.json", "tied states"],
        );

        let p = copy_model(src, d, &format!("{kind}-other-pipeline"));
        std::fs::copy(
            root().join("pipelines/spectrogram.yaml"),
            p.join("pipeline.yaml"),
        )
        .unwrap();
        model_fails(&p, dnn, &["dimensional"]);

        let p = copy_model(src, d, &format!("{kind}-deltas"));
        let y = std::fs::read_to_string(p.join("pipeline.yaml")).unwrap();
        let (from, to) = if dnn {
            ("order: 0", "order: 2")
        } else {
            ("order: 2", "order: 0")
        };
        assert!(y.contains(from));
        std::fs::write(p.join("pipeline.yaml"), y.replacen(from, to, 1)).unwrap();
        model_fails(&p, dnn, &["dimensional"]);

        let p = copy_model(src, d, &format!("{kind}-bad-yaml"));
        std::fs::write(p.join("pipeline.yaml"), "stages: [\n").unwrap();
        model_fails(&p, dnn, &["pipeline.yaml"]);

        for file in [
            "targets.json",
            "about.json",
            "model.json",
            "model.safetensors",
            "pipeline.yaml",
        ] {
            let p = copy_model(src, d, &format!("{kind}-no-{file}"));
            std::fs::remove_file(p.join(file)).unwrap();
            model_fails(&p, dnn, &[file]);
        }

        let p = copy_model(src, d, &format!("{kind}-broken-json"));
        std::fs::write(p.join("targets.json"), "{\n  \"states\": [1, 2,\n").unwrap();
        model_fails(&p, dnn, &["targets.json:"]);

        // Every tensor in turn loses a row.
        let bytes = std::fs::read(src.join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut names: Vec<String> = st.names().into_iter().map(String::from).collect();
        names.sort();
        for (i, victim) in names.iter().enumerate() {
            let p = copy_model(src, d, &format!("{kind}-shape-{i}"));
            let owned: Vec<(String, Vec<usize>, Vec<u8>)> = st
                .tensors()
                .into_iter()
                .map(|(n, v)| {
                    let mut shape = v.shape().to_vec();
                    let mut data = v.data().to_vec();
                    if &n == victim {
                        let row = data.len() / shape[0];
                        shape[0] -= 1;
                        data.truncate(data.len() - row);
                    }
                    (n, shape, data)
                })
                .collect();
            let views = owned.iter().map(|(n, s, b)| {
                (
                    n.clone(),
                    safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                        .unwrap(),
                )
            });
            let out = safetensors::serialize(views, None).unwrap();
            std::fs::write(p.join("model.safetensors"), out).unwrap();
            model_fails(&p, dnn, &["model.safetensors", victim]);
        }
    }
    fails(
        [
            OsStr::new("eval"),
            OsStr::new("--model"),
            d.join("nowhere").as_os_str(),
        ],
        &["nowhere"],
    );
    let gmm = copy_model(&m.gmm, d, "gmm-for-activations");
    let out = d.join("gmm-act.npz");
    fails(
        [
            OsStr::new("activations"),
            OsStr::new("--model"),
            gmm.as_os_str(),
            OsStr::new("--layer"),
            OsStr::new("1"),
            OsStr::new(UTT),
            OsStr::new("-o"),
            out.as_os_str(),
        ],
        &["gmm-for-activations", "GMM"],
    );
    left_nothing(&out);
}

// ---------------------------------------------------------------------------------------------
// Outputs that cannot be written.

#[test]
fn outputs_under_a_regular_file_are_named_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wav = write(&d.join("tone.wav"), good_wav());
    let file = write(&d.join("plain-file"), b"not a directory");
    for ext in ["npz", "ark", "csv", "npy"] {
        let out = file.join(format!("feats.{ext}"));
        fails(
            [
                OsStr::new("features"),
                wav.as_os_str(),
                OsStr::new("-o"),
                out.as_os_str(),
            ],
            &["plain-file", "not a directory"],
        );
    }
    let run = file.join("run");
    fails(
        [
            OsStr::new("eval"),
            OsStr::new("--model"),
            models().gmm.as_os_str(),
            OsStr::new("-o"),
            run.as_os_str(),
        ],
        &["plain-file"],
    );
    let model = file.join("model");
    fails(
        [
            "train",
            "--corpus",
            "audio/demo",
            "--gmm",
            "1",
            "--states",
            "144",
            "--epochs",
            "1",
            "-o",
        ]
        .iter()
        .map(OsStr::new)
        .chain([model.as_os_str()]),
        &["plain-file"],
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"not a directory");
}

#[test]
fn read_only_output_directory_is_a_named_error() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let wav = write(&dir.path().join("tone.wav"), good_wav());
    let ro = dir.path().join("read-only");
    std::fs::create_dir(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), b"").is_ok() {
        eprintln!("SKIPPED: permissions are not enforced for this user (root?)");
        return;
    }
    for ext in ["npz", "npy"] {
        let out = ro.join(format!("feats.{ext}"));
        fails(
            [
                OsStr::new("features"),
                wav.as_os_str(),
                OsStr::new("-o"),
                out.as_os_str(),
            ],
            &["read-only"],
        );
        left_nothing(&out);
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_full_disk_leaves_nothing_behind() {
    // No root needed: a file-size limit makes writes fail with EFBIG, as a full disk fails them
    // with ENOSPC. SIGXFSZ is ignored so that the write returns an error instead of killing us.
    let dir = tempfile::tempdir().unwrap();
    let wav = write(
        &dir.path().join("long.wav"),
        wav_bytes(spec(1, 16000, 16, false), &tone(16000 * 5)),
    );
    for ext in ["npz", "ark", "csv", "npy"] {
        let out = dir.path().join(format!("feats.{ext}"));
        let r = asrpipe_in(
            Command::new("sh")
                .arg("-c")
                .arg("trap '' XFSZ; ulimit -f 8; exec \"$@\"")
                .arg("sh")
                .arg(bin())
                .arg("features")
                .arg(&wav)
                .arg("-o")
                .arg(&out),
        );
        assert!(!r.ok, "writing {} past the limit succeeded", out.display());
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        let line = r.stderr.lines().last().unwrap_or("");
        assert!(
            line.starts_with("error:") && line.contains(&name(&out)),
            "{}",
            r.stderr
        );
        eprintln!("{line}");
        left_nothing(&out);
    }
}

#[test]
fn an_output_that_is_not_a_regular_file_is_not_replaced() {
    // Outputs are renamed into place, which would replace a device or a pipe with a plain file.
    // A pipe made here stands for a device: replacing it harms nothing if that check ever breaks.
    let dir = tempfile::tempdir().unwrap();
    let wav = write(&dir.path().join("tone.wav"), good_wav());
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: cannot make a named pipe (no mkfifo)");
        return;
    }
    fails(
        [
            OsStr::new("features"),
            wav.as_os_str(),
            OsStr::new("-o"),
            fifo.as_os_str(),
            OsStr::new("--format"),
            OsStr::new("npz"),
        ],
        &["fifo", "not a regular file"],
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

// ---------------------------------------------------------------------------------------------
// WAV layouts read by the hand-written RIFF walk, channels, and options that could only give
// non-finite features.

/// A RIFF WAVE file of the given chunks; odd-sized bodies get their pad byte when `pad`.
fn riff_file(chunks: &[(&[u8; 4], Vec<u8>)], pad: bool) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if pad && data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(&body);
    b
}

/// A WAVEFORMATEX body: tag, channels, 16 kHz, bits per sample, cbSize 0.
fn fmt_body(tag: u16, channels: u16, bits: u16) -> Vec<u8> {
    let align = channels * bits.div_ceil(8);
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&16000u32.to_le_bytes());
    f.extend_from_slice(&(16000 * u32::from(align)).to_le_bytes());
    f.extend_from_slice(&align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f.extend_from_slice(&0u16.to_le_bytes());
    f
}

/// `asrpipe features ARGS.. -o DIR/NAME.npz` must succeed; returns the one feature matrix.
fn features_ok(dir: &Path, name: &str, args: &[&OsStr]) -> ndarray::Array2<f32> {
    let out = dir.join(format!("{name}.npz"));
    let mut all: Vec<&OsStr> = vec![OsStr::new("features")];
    all.extend_from_slice(args);
    all.extend([OsStr::new("-o"), out.as_os_str()]);
    let r = asrpipe(&all);
    assert!(r.ok, "`asrpipe {all:?}` failed:\n{}", r.stderr);
    let mut npz = ndarray_npy::NpzReader::new(std::fs::File::open(&out).unwrap()).unwrap();
    let names = npz.names().unwrap();
    assert_eq!(names.len(), 1, "{names:?}");
    npz.by_name(&names[0]).unwrap()
}

#[test]
fn wav_layouts_sox_reads_are_read() {
    // One second of the tone in each layout; every one must give the 98 frames of MFCC a 16-bit
    // PCM file of the same signal gives, and (for the exact codings) the very same values.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let x = tone(16000);
    let pcm = le_bytes(&x);
    let reference = features_ok(
        d,
        "pcm",
        &[write(&d.join("pcm.wav"), good_wav()).as_os_str()],
    );
    assert_eq!(reference.dim(), (98, 13));

    let padded = riff_file(
        &[
            (b"fmt ", fmt_body(1, 1, 16)),
            (b"LIST", b"INFOisft\x05\0\0\0sox!".to_vec()),
            (b"data", pcm.clone()),
        ],
        true,
    );
    assert_eq!(padded.len() % 2, 0);
    let f64s: Vec<u8> = x
        .iter()
        .flat_map(|&v| (f64::from(v) / 32768.0).to_le_bytes())
        .collect();
    let mut streamed = riff_file(&[(b"fmt ", fmt_body(1, 1, 16)), (b"data", pcm)], true);
    let at = streamed.len() - 2 * x.len() - 4;
    streamed[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    for (name, bytes) in [
        ("odd-chunk-padded", padded),
        (
            "float64",
            riff_file(&[(b"fmt ", fmt_body(3, 1, 64)), (b"data", f64s)], true),
        ),
        ("streamed", streamed),
    ] {
        let p = write(&d.join(format!("{name}.wav")), bytes);
        assert_eq!(features_ok(d, name, &[p.as_os_str()]), reference, "{name}");
    }
    // G.711 is lossy: the same frame count, features near those of the original.
    for (name, tag) in [("mulaw", 7u16), ("alaw", 6)] {
        let codes: Vec<u8> = (0..16000).map(|i| (i % 251) as u8).collect();
        let p = write(
            &d.join(format!("{name}.wav")),
            riff_file(&[(b"fmt ", fmt_body(tag, 1, 8)), (b"data", codes)], true),
        );
        let f = features_ok(d, name, &[p.as_os_str()]);
        assert_eq!(f.dim(), (98, 13), "{name}");
        assert!(f.iter().all(|v| v.is_finite()), "{name}");
    }
}

#[test]
fn wav_layouts_not_read_say_what_they_are() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut ima = fmt_body(0x11, 1, 4);
    ima[12..14].copy_from_slice(&256u16.to_le_bytes());
    ima[16..18].copy_from_slice(&2u16.to_le_bytes());
    ima.extend_from_slice(&505u16.to_le_bytes());
    let p = write(
        &d.join("ima.wav"),
        riff_file(
            &[
                (b"fmt ", ima),
                (b"fact", 505u32.to_le_bytes().to_vec()),
                (b"data", vec![0; 256]),
            ],
            true,
        ),
    );
    let line = features_fail(d, &p, &[]);
    assert!(
        line.ends_with(
            "ima.wav: IMA ADPCM (format 0x0011) is not supported; convert it to PCM first (e.g. \
             `sox in.wav -e signed-integer -b 16 out.wav`)"
        ),
        "{line}"
    );
    let unpadded = riff_file(
        &[
            (b"fmt ", fmt_body(1, 1, 16)),
            (b"LIST", b"abc".to_vec()),
            (b"data", le_bytes(&tone(16000))),
        ],
        false,
    );
    let p = write(&d.join("unpadded.wav"), unpadded);
    features_fail(d, &p, &["chunk `LIST` at byte 38", "no pad byte"]);
    let p = write(
        &d.join("huge64.wav"),
        riff_file(
            &[
                (b"fmt ", fmt_body(3, 1, 64)),
                (
                    b"data",
                    [0.5f64, 1e300]
                        .iter()
                        .flat_map(|v| v.to_le_bytes())
                        .collect(),
                ),
            ],
            true,
        ),
    );
    features_fail(d, &p, &["sample 1 is 1e300", "±1e34"]);
}

#[test]
fn huge_float_samples_are_an_error_not_nan_features() {
    // Finite samples (1e30 times full scale) that overflow f32 in the power spectrum: the chain
    // refuses its non-finite output instead of writing NaN with exit 0.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let s: Vec<f32> = tone(16000).iter().map(|&v| f32::from(v) * 1e26).collect();
    let p = write(&d.join("loud.wav"), wav_bytes(spec(1, 16000, 32, true), &s));
    let line = features_fail(
        d,
        &p,
        &[
            "non-finite features: frame 0 of the `dct` output is",
            "the first non-finite value is in the `spectrogram` output, frame 0",
            "largest sample is 2.6",
        ],
    );
    assert!(line.contains("loud.wav: non-finite"), "{line}");
}

#[test]
fn stereo_files_take_the_channel_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Even samples, so that the mean of the two channels is exact in 16 bits.
    let left: Vec<i16> = tone(16000).iter().map(|&v| v / 2 * 2).collect();
    let right: Vec<i16> = (0..16000)
        .map(|i| ((5000.0 * (i as f32 * 0.03).sin()) as i16) / 2 * 2)
        .collect();
    let stereo: Vec<i16> = left
        .iter()
        .zip(&right)
        .flat_map(|(&l, &r)| [l, r])
        .collect();
    let mean: Vec<i16> = left
        .iter()
        .zip(&right)
        .map(|(&l, &r)| (l + r) / 2)
        .collect();
    let st = write(
        &d.join("st.wav"),
        wav_bytes(spec(2, 16000, 16, false), &stereo),
    );
    let mono = |name: &str, x: &[i16]| {
        let p = write(
            &d.join(format!("{name}.wav")),
            wav_bytes(spec(1, 16000, 16, false), x),
        );
        features_ok(d, name, &[p.as_os_str()])
    };
    let (l, r, m) = (mono("l", &left), mono("r", &right), mono("m", &mean));
    assert_ne!(l, r);
    let ch = |c: &str| {
        features_ok(
            d,
            &format!("ch-{c}"),
            &[st.as_os_str(), OsStr::new("--channel"), OsStr::new(c)],
        )
    };
    assert_eq!(ch("0"), l);
    assert_eq!(ch("1"), r);
    assert_eq!(ch("mean"), m);
    // The pipeline's `waveform: { channel }` does the same, and --channel overrides it.
    let yaml = write(
        &d.join("right.yaml"),
        PIPELINE.replace("- waveform: { ", "- waveform: { channel: 1, "),
    );
    let args = [OsStr::new("--pipeline"), yaml.as_os_str(), st.as_os_str()];
    assert_eq!(features_ok(d, "yaml-1", &args), r);
    let mut over = args.to_vec();
    over.extend([OsStr::new("--channel"), OsStr::new("0")]);
    assert_eq!(features_ok(d, "yaml-1-cli-0", &over), l);

    features_fail(
        d,
        &st,
        &[
            "the file has 2 channels but a mono signal is needed",
            "(0..=1)",
            "`--channel`",
        ],
    );
    let out = d.join("ch2.npz");
    fails(
        [
            OsStr::new("features"),
            st.as_os_str(),
            OsStr::new("--channel"),
            OsStr::new("2"),
            OsStr::new("-o"),
            out.as_os_str(),
        ],
        &["st.wav: channel 2 requested but the file has only 2 channels (0..=1)"],
    );
    left_nothing(&out);
}

#[test]
fn options_that_can_only_give_nan_or_absurd_work_are_refused_at_check() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let edit = |from: &str, to: &str| {
        assert!(PIPELINE.contains(from), "{from}");
        PIPELINE.replacen(from, to, 1)
    };
    let post = |section: &str| format!("{PIPELINE}post:\n  {section}\n");
    for (file, yaml, want) in [
        (
            "floor-0.yaml",
            edit("- log: {}", "- log: { floor: 0 }"),
            ":8: log floor must be positive and finite (the log of 0 is -inf), got 0",
        ),
        (
            "floor-neg.yaml",
            edit("- log: {}", "- log: { floor: -1 }"),
            ":8: log floor must be positive and finite (the log of 0 is -inf), got -1",
        ),
        (
            "log-energy-floor.yaml",
            edit("- log: {}", "- log: { energy_floor: -2 }"),
            ":8: energy_floor must be finite and >= 0 (0 = none), got -2",
        ),
        (
            "dither.yaml",
            edit("frame_shift_ms: 10", "frame_shift_ms: 10, dither: 1e18"),
            ":4: dither must be between 0 and 32768 (the noise's standard deviation in 16-bit \
             sample units; 32768 is full scale), got 1000000000000000000",
        ),
        (
            "blackman.yaml",
            edit(
                "frame_shift_ms: 10",
                "frame_shift_ms: 10, blackman_coeff: 2",
            ),
            ":4: blackman_coeff must be between 0 and 0.5 (0.42 is the classic Blackman window), \
             got 2",
        ),
        (
            "lifter.yaml",
            edit("num_ceps: 13", "num_ceps: 13, cepstral_lifter: -1"),
            ":9: dct cepstral_lifter must be finite and >= 0 (0 = none), got -1",
        ),
        (
            "lifter-nan.yaml",
            edit("num_ceps: 13", "num_ceps: 13, cepstral_lifter: .nan"),
            ":9: dct cepstral_lifter must be finite and >= 0 (0 = none), got NaN",
        ),
        (
            "dct-energy-floor.yaml",
            edit("num_ceps: 13", "num_ceps: 13, energy_floor: .inf"),
            ":9: energy_floor must be finite and >= 0 (0 = none), got inf",
        ),
        (
            "bins.yaml",
            edit("num_bins: 23", "num_bins: 10000000000000"),
            ":7: filterbank num_bins must be between 1 and the 257 DFT bins, got 10000000000000",
        ),
        (
            "splice.yaml",
            post("splice: { context: 1000000 }"),
            ":11: post.splice: splice context must be between 0 and 50 frames, got 1000000",
        ),
        (
            "window.yaml",
            post("deltas: { order: 2, window: 100000 }"),
            ":11: post.deltas: deltas window must be between 1 and 1000 frames, got 100000",
        ),
        (
            "order.yaml",
            post("deltas: { order: 5 }"),
            ":11: post.deltas: deltas order must be between 0 and 4, got 5",
        ),
        (
            "wide.yaml",
            "sample_rate: 16000\nstages:\n  - waveform: { frame_length_ms: 4000 }\npost:\n  \
             deltas: { order: 2 }\n  splice: { context: 50 }\n"
                .to_string(),
            ":6: post.splice: deltas and splicing would make frames of 19392000 values (from \
             192000 with context 50); at most 262144 are supported",
        ),
        (
            "channel.yaml",
            edit("frame_shift_ms: 10", "frame_shift_ms: 10, channel: left"),
            ":4: channel `left`: expected `mono`, a channel number from 0, or `mean`",
        ),
    ] {
        pipeline_fails(d, file, &yaml, &[&format!("{file}{want}")]);
    }
    // The widest deltas window and the most context are accepted, and checked at once.
    let p = write(
        &d.join("widest.yaml"),
        post("deltas: { order: 4, window: 1000 }\n  splice: { context: 50 }"),
    );
    let t = Instant::now();
    let r = asrpipe([OsStr::new("check"), p.as_os_str()]);
    assert!(r.ok, "{}", r.stderr);
    eprintln!("check with deltas window 1000, order 4: {:?}", t.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Runs: memory, divergence, damaged parameters, outputs, run names, locks and signals.

fn os(args: &[&str]) -> Vec<std::ffi::OsString> {
    args.iter().map(|a| a.into()).collect()
}

#[test]
fn runs_too_large_for_memory_are_refused_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let o = out.to_str().unwrap();
    for (args, names) in [
        (
            vec!["--dnn", "100x100000"],
            vec!["100x100000", "TiB of memory", "more than the limit"],
        ),
        (vec!["--dnn", "1x100000000"], vec!["100000000", "limit"]),
        (vec!["--match-params", "1000x100000"], vec!["limit"]),
        (
            vec!["--dnn", "2x16", "--max-memory", "1M"],
            vec!["1.0 MiB (--max-memory)"],
        ),
        (
            vec!["--dnn", "2x16", "--context", "100000"],
            vec!["context", "at most 100"],
        ),
        (
            vec!["--dnn", "2x16", "--batch", "100000000"],
            vec!["batch", "1048576"],
        ),
    ] {
        let mut a = vec!["train", "-q", "--corpus", "audio/demo", "-o", o];
        a.extend(args);
        let t = Instant::now();
        fails(os(&a), &names);
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{a:?} took {:?}",
            t.elapsed()
        );
        left_nothing(&out);
    }
    // A size that is not one: clap's usage error, with the reason.
    let r = asrpipe(os(&["train", "-q", "--max-memory", "lots", "-o", o]));
    assert!(
        !r.ok && r.stderr.contains("size `lots`: expected a number"),
        "{}",
        r.stderr
    );
    // The environment variable, read (and checked) at start.
    let r = asrpipe_in(
        Command::new(bin())
            .env("ASRPIPE_MAX_MEMORY", "2 parsecs")
            .args(["train", "-q", "--dnn", "2x16", "-o", o]),
    );
    assert!(
        !r.ok && r.stderr.contains("ASRPIPE_MAX_MEMORY: size `2 parsecs`"),
        "{}",
        r.stderr
    );
    // A pipeline file alone that makes a net too large: refused at `check`, naming the line.
    let yaml = write(
        &dir.path().join("huge.yaml"),
        format!("{PIPELINE}classifier:\n  dnn: {{ hidden: 64x100000 }}\n"),
    );
    fails(
        os(&["check", yaml.to_str().unwrap()]),
        &["huge.yaml:11", "limit"],
    );
}

#[test]
fn diverging_training_is_an_error_and_leaves_no_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let line = fails(
        os(&[
            "train",
            "-q",
            "--corpus",
            "audio/demo",
            "--dnn",
            "2x64",
            "--lr",
            "50",
            "--epochs",
            "3",
            "-o",
            out.to_str().unwrap(),
        ]),
        &["diverged", "epoch 1", "--lr 5e0"],
    );
    // Which check stops it depends on the data: a loss far worse than a uniform guess, weights
    // that are not finite, or a loss that is NaN (the demo's labels since they take festival's
    // 13 ms lag into account).
    assert!(
        line.contains("uniform guess") || line.contains("not finite") || line.contains("is NaN"),
        "{line}"
    );
    left_nothing(&out);
}

#[test]
fn non_finite_parameters_are_refused_on_load() {
    let m = models();
    let dir = tempfile::tempdir().unwrap();
    for (from, name, tensor, value) in [
        (&m.dnn, "nan-dnn", "layers.0.weight", f32::NAN),
        (&m.gmm, "inf-gmm", "means", f32::INFINITY),
    ] {
        let model = copy_model(from, dir.path(), name);
        let file = model.join("model.safetensors");
        let mut t = asrpipe::io::read_tensors(&file).unwrap();
        let x = t
            .get_mut(tensor)
            .unwrap_or_else(|| panic!("{tensor} in {file:?}"));
        x.as_slice_mut().unwrap()[3] = value;
        let all: Vec<(&str, _)> = t.iter().map(|(k, v)| (k.as_str(), v.view())).collect();
        asrpipe::io::write_tensors(&file, &all).unwrap();
        model_fails(
            &model,
            from == &m.dnn,
            &["model.safetensors", tensor, "finite"],
        );
    }
}

#[test]
fn feature_outputs_never_overwrite_each_other_or_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = root().join("audio/demo/dr1-fslt0");
    let copy = |from: &str, to: &str| {
        std::fs::copy(src.join(from), d.join(to)).unwrap();
        d.join(to).to_str().unwrap().to_string()
    };
    let s = copy("sa1.flac", "s.flac");
    let ab1 = copy("sa1.flac", "a b.flac");
    let ab2 = copy("sa2.flac", "a_b.flac");
    let u1 = copy("sa1.flac", "ü.flac");
    let u2 = copy("sa2.flac", "é.flac");
    let out = |n: &str| d.join(n).to_str().unwrap().to_string();
    let feat = |args: &[&str]| {
        let mut a = vec!["features", "-q"];
        a.extend(args);
        os(&a)
    };
    // Two inputs that would get one key: refused naming both (Kaldi keys hold no spaces; npz
    // keeps `a b` as written).
    fails(
        feat(&[&ab1, &ab2, "-o", &out("ab.ark")]),
        &["a b.flac", "a_b.flac", "`a_b`"],
    );
    left_nothing(&d.join("ab.ark"));
    let r = asrpipe(feat(&[&ab1, &ab2, "-o", &out("ab.npz")]));
    assert!(r.ok, "{}", r.stderr);
    // Unicode names stay apart (and readable) in every format.
    for o in ["u.npz", "u.ark", "udir"] {
        let r = asrpipe(feat(&[&u1, &u2, "-o", &out(o)]));
        assert!(r.ok, "{o}: {}", r.stderr);
    }
    let keys: Vec<String> = std::fs::read_dir(d.join("udir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.contains(&"ü.npy".to_string()), "{keys:?}");
    // The output is an input: refused, the audio untouched.
    let before = std::fs::read(&s).unwrap();
    fails(
        feat(&[&s, "-o", &s, "--format", "npz"]),
        &["s.flac", "one of the inputs"],
    );
    assert_eq!(std::fs::read(&s).unwrap(), before);
    // Extensions: any case; unknown ones refused; .npy is one file for one input.
    assert!(asrpipe(feat(&[&s, "-o", &out("x.NPZ")])).ok);
    assert!(d.join("x.NPZ").is_file());
    fails(
        feat(&[&s, "-o", &out("x.xyz")]),
        &["x.xyz", "unknown output extension `.xyz`"],
    );
    assert!(asrpipe(feat(&[&s, "-o", &out("one.npy")])).ok);
    assert!(d.join("one.npy").is_file());
    fails(
        feat(&[&s, &u1, "-o", &out("two.npy")]),
        &["two.npy", "one matrix, not 2"],
    );
    left_nothing(&d.join("two.npy"));
    // Standard output: streams only; never a file named `-`.
    fails(
        feat(&[&s, "-o", "-", "--format", "npz"]),
        &["standard output"],
    );
    let r = Command::new(bin())
        .args(["features", "-q", &s, "-o", "-", "--format", "ark-text"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(r.status.success());
    assert!(String::from_utf8_lossy(&r.stdout).starts_with("s  ["));
    assert!(!d.join("-").exists());
    // A non-empty npy directory: refused, kept as it was; replaced whole with --force.
    let full = d.join("full");
    std::fs::create_dir(&full).unwrap();
    std::fs::write(full.join("stale.npy"), b"old").unwrap();
    fails(
        feat(&[&s, "-o", &out("full")]),
        &["full", "not empty", "--force"],
    );
    assert!(full.join("stale.npy").exists());
    assert!(asrpipe(feat(&[&s, "-o", &out("full"), "--force"])).ok);
    let now: Vec<_> = std::fs::read_dir(&full)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(now, [std::ffi::OsString::from("s.npy")]);
    left_nothing(&d.join("nothing-else"));
}

/// A one-run experiment file in `dir` with run `name`; returns its path.
fn experiment_file(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let p = root().join("pipelines").display().to_string();
    write(
        &dir.join("exp.yaml"),
        format!(
            "name: t\nstates: {{ tied: 144 }}\ndefaults: {{ gmm: {{ iterations: 1, \
             gaussians_per_state: 1 }} }}\nruns:\n  - {{ name: {name:?}, pipeline: \
             {p}/kaldi-mfcc-gmm.yaml }}\n{extra}"
        ),
    )
}

#[test]
fn experiment_runs_and_analyses_are_checked_before_any_training() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let o = out.to_str().unwrap();
    for (name, why) in [
        ("../../evil", "path separator"),
        ("", "is empty"),
        ("..", "not a file name"),
        ("a\tb", "control character"),
    ] {
        let e = experiment_file(dir.path(), name, "");
        fails(
            os(&["experiment", e.to_str().unwrap(), "-o", o]),
            &["exp.yaml", why],
        );
        left_nothing(&out);
        assert!(!dir.path().join("evil").exists());
    }
    let e = experiment_file(dir.path(), "g", "filters: { run: g }\n");
    fails(
        os(&["experiment", e.to_str().unwrap(), "-o", o]),
        &["filters.run", "GMM"],
    );
    let e = experiment_file(dir.path(), "g", "hidden: { run: g }\n");
    fails(
        os(&["experiment", e.to_str().unwrap(), "-o", o]),
        &["hidden.run", "GMM"],
    );
    let e = experiment_file(dir.path(), "g", "runs2: []\n");
    fails(
        os(&["experiment", e.to_str().unwrap(), "-o", o]),
        &["exp.yaml", "runs2"],
    );
    left_nothing(&out);
    // A pipeline that does not exist: the run that names it is named.
    let p = write(
        &dir.path().join("missing.yaml"),
        "name: t\nruns:\n  - { name: lost, pipeline: nowhere.yaml }\n",
    );
    fails(
        os(&["experiment", p.to_str().unwrap(), "-o", o]),
        &["run `lost`", "nowhere.yaml"],
    );
}

#[test]
fn check_validates_experiment_files_with_their_lines() {
    // The shipped grids are good, and `check` says what they run.
    for grid in ["why-deep.yaml", "why-deep-timit-full.yaml", "demo.yaml"] {
        let r = asrpipe_out(&["check", &format!("pipelines/{grid}")]);
        assert!(r.0, "{grid}: {}", r.1);
        assert!(r.1.contains(": ok — experiment `"), "{grid}: {}", r.1);
        assert!(r.1.contains("pipelines: "), "{grid}: {}", r.1);
    }
    let dir = tempfile::tempdir().unwrap();
    let p = root().join("pipelines").display().to_string();
    // A good grid, then one mistake at a time; the error names the file and the line at fault.
    let good = format!(
        "name: t\n\
         seeds: [1, 2]\n\
         runs:\n\
         \x20 - {{ name: gmm, pipeline: {p}/kaldi-mfcc-gmm.yaml }}\n\
         \x20 - {{ name: dnn, pipeline: {p}/kaldi-mfcc-dnn.yaml, from: log, dnn: {{ hidden: 2x64 }} }}\n\
         depth:\n\
         \x20 pipeline: {p}/kaldi-mfcc-dnn.yaml\n\
         \x20 from: log\n\
         \x20 width: 64\n\
         \x20 layers: [1, 2]\n\
         curve: {{ pipeline: {p}/kaldi-mfcc-dnn.yaml, from: log, width: 64, layers: 2, fractions: [0.5, 1.0] }}\n\
         hidden: {{ run: dnn, layers: [0, 1, 2] }}\n"
    );
    let e = write(&dir.path().join("exp.yaml"), &good);
    let r = asrpipe_out(&["check", e.to_str().unwrap()]);
    assert!(r.0, "{}", r.1);
    assert!(
        r.1.contains("experiment `t`: 9 runs, 18 trainings (seeds 1, 2)"),
        "{}",
        r.1
    );
    let cases: [(&str, &str, &[&str]); 8] = [
        (
            "seeds: [1, 2]",
            "seeds: []",
            &["exp.yaml:2:", "seeds", "empty"],
        ),
        (
            "seeds: [1, 2]",
            "seeds: [3, 3]",
            &["exp.yaml:2:", "seed 3 is listed twice"],
        ),
        (
            "kaldi-mfcc-gmm.yaml",
            "nowhere.yaml",
            &["exp.yaml:4:", "run `gmm-s1`", "nowhere.yaml"],
        ),
        (
            "name: dnn,",
            "name: gmm,",
            &["exp.yaml:5:", "two runs are named `gmm-s1`"],
        ),
        (
            "layers: [1, 2]",
            "layers: [1, 2]\n  seeds: []",
            &["exp.yaml:11:", "empty"],
        ),
        (
            "fractions: [0.5, 1.0]",
            "fractions: [0.5, 1.5]",
            &["exp.yaml:11:", "curve.fractions"],
        ),
        (
            "hidden: { run: dnn,",
            "hidden: { run: nobody,",
            &["exp.yaml:12:", "hidden.run", "`nobody`"],
        ),
        (
            "hidden: { run: dnn,",
            "hidden: { run: gmm,",
            &["exp.yaml:12:", "hidden.run", "GMM"],
        ),
    ];
    for (from, to, want) in cases {
        assert!(good.contains(from), "{from}");
        let bad = write(&dir.path().join("exp.yaml"), good.replacen(from, to, 1));
        fails(["check", bad.to_str().unwrap()], want);
    }
    // A key the schema does not know: the parser's line.
    let bad = write(
        &dir.path().join("exp.yaml"),
        good.replacen("  width: 64\n", "  width: 64\n  widht: 32\n", 1),
    );
    fails(["check", bad.to_str().unwrap()], &["exp.yaml:10:", "widht"]);
    // A referenced pipeline that is itself broken: the run's line and the pipeline's error.
    let broken = write(
        &dir.path().join("broken.yaml"),
        "name: b\nsample_rate: 16000\nstages:\n  - framing: { frame_ms: -5 }\n",
    );
    let bad = write(
        &dir.path().join("exp.yaml"),
        good.replacen(
            &format!("{p}/kaldi-mfcc-gmm.yaml"),
            broken.to_str().unwrap(),
            1,
        ),
    );
    fails(
        ["check", bad.to_str().unwrap()],
        &["exp.yaml:4:", "run `gmm-s1`", "broken.yaml"],
    );
}

/// Run asrpipe from the crate root: (success, stdout and stderr).
fn asrpipe_out(args: &[&str]) -> (bool, String) {
    let out = Command::new(bin())
        .current_dir(root())
        .env("ASRPIPE_CACHE", cache())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn a_second_writer_is_refused_and_an_interrupted_one_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    std::fs::create_dir(&out).unwrap();
    // Another live process (pid 1 always runs) holds the directory.
    std::fs::write(out.join(".asrpipe.lock"), "1\n").unwrap();
    let e = experiment_file(dir.path(), "g", "");
    fails(
        os(&[
            "experiment",
            e.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]),
        &["report", "another asrpipe (process 1)"],
    );
    std::fs::remove_file(out.join(".asrpipe.lock")).unwrap();
    // SIGINT in the middle of training: exit 130, no lock file and no temporary file left.
    let model = dir.path().join("model");
    let mut child = Command::new(bin())
        .current_dir(root())
        .env("ASRPIPE_CACHE", cache())
        .args(["train", "-q", "--dnn", "4x256", "--epochs", "1000", "-o"])
        .arg(&model)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !model.join("checkpoints").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "training never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("interrupted"), "{err}");
    assert!(!model.join(".asrpipe.lock").exists());
    for e in walk(&model) {
        assert!(!name(&e).starts_with(".asrpipe-"), "{} left", e.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn numeric_options_are_checked_before_any_work() {
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("m");
    let o = o.to_str().unwrap();
    let t = Instant::now();
    fails(
        os(&["train", "-q", "--gmm", "2", "--epochs", "100000", "-o", o]),
        &["iterations", "at most 1000"],
    );
    let m = models();
    let dnn = m.dnn.to_str().unwrap();
    let out = dir.path().join("h");
    let h = out.to_str().unwrap();
    for (flag, value, want) in [
        ("--perplexity", "nan", "perplexity"),
        ("--perplexity", "0", "perplexity"),
        ("--k", "1000000", "k must be between 1 and 1000"),
    ] {
        fails(
            os(&["plot", "hidden", "--model", dnn, flag, value, "-o", h]),
            &[want],
        );
    }
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    left_nothing(&out);
}

#[test]
fn hostile_paths_and_counts_fail_fast() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = |n: &str| d.join(n).to_str().unwrap().to_string();
    let flac = root().join("audio/demo/dr1-fslt0/sa1.flac");
    let flac = flac.to_str().unwrap();
    let t = Instant::now();
    // Endless or special files are never read whole.
    fails(
        os(&["check", "/dev/zero"]),
        &["/dev/zero", "not a regular file"],
    );
    fails(
        os(&[
            "train",
            "-q",
            "--flat-start",
            "--lexicon",
            "/dev/zero",
            "-o",
            &out("m"),
        ]),
        &["/dev/zero", "not a regular file"],
    );
    fails(
        os(&[
            "features",
            "-q",
            flac,
            "--threads",
            "100000",
            "-o",
            &out("x.npz"),
        ]),
        &["--threads must be between 1 and 1024"],
    );
    // An extension that contradicts --format.
    fails(
        os(&[
            "features",
            "-q",
            flac,
            "--format",
            "npz",
            "-o",
            &out("x.csv"),
        ]),
        &["x.csv", "the extension says Csv but --format says Npz"],
    );
    // An experiment with nothing to run.
    let e = write(&d.join("empty.yaml"), "name: x\nruns: []\n");
    fails(
        os(&["experiment", e.to_str().unwrap(), "-o", &out("e")]),
        &["empty.yaml", "no runs"],
    );
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    for n in ["m", "x.npz", "x.csv", "e"] {
        left_nothing(&d.join(n));
    }
}
