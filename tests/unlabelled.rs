//! Audio without labels: manifests with only `audio`, directories of audio files, the commands
//! that need no labels (features, activations, the hidden-layer study) on them, the commands
//! that do (training, scoring) naming what is missing; and CMVN statistics whose set does not
//! depend on what else a command is given.
//!
//! Everything here runs on the embedded demo corpus (synthetic speech in the repository), copied
//! or listed into temporary directories.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use asrpipe::corpus::{Corpus, CorpusKind};
use asrpipe::frontend::cmvn::CmvnMode;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::study::hidden::choose_sentences;
use asrpipe::train::Env;
use ndarray::Array2;
use ndarray_npy::NpzReader;
use tempfile::TempDir;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn demo() -> PathBuf {
    root().join("audio/demo")
}

/// One feature cache for the whole test process, outside the source tree.
fn cache() -> &'static Path {
    static CACHE: OnceLock<TempDir> = OnceLock::new();
    CACHE.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// Run the binary; (success, stdout, stderr).
fn asrpipe(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_asrpipe"))
        .args(args)
        .arg("--quiet")
        .current_dir(root())
        .env("ASRPIPE_CACHE", cache())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(args: &[&str]) -> (String, String) {
    let (ok, out, err) = asrpipe(args);
    assert!(ok, "asrpipe {args:?} failed: {err}");
    (out, err)
}

fn fails(args: &[&str]) -> String {
    let (ok, _, err) = asrpipe(args);
    assert!(!ok, "asrpipe {args:?} should fail");
    assert_eq!(err.lines().count(), 1, "one error line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn npz(path: &Path, key: &str) -> Array2<f32> {
    let mut r = NpzReader::new(fs::File::open(path).unwrap()).unwrap();
    r.by_name(key)
        .unwrap_or_else(|e| panic!("{}: no `{key}` ({e}); has {:?}", path.display(), r.names()))
}

/// A small DNN trained on the demo corpus with `pipeline` (one per pipeline per test process).
fn model(pipeline: &str) -> PathBuf {
    static DIRS: OnceLock<TempDir> = OnceLock::new();
    // Tests run in parallel: one trains, the others wait for its model.
    static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dir = DIRS.get_or_init(|| tempfile::tempdir().unwrap()).path();
    let out = dir.join(Path::new(pipeline).file_stem().unwrap());
    let _one = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
    if !out.join("about.json").is_file() {
        let p = pipeline.to_string();
        let o = out.to_string_lossy().into_owned();
        ok(&[
            "train",
            "--pipeline",
            &p,
            "--dnn",
            "2x32",
            "--epochs",
            "1",
            "--states",
            "144",
            "-o",
            &o,
        ]);
    }
    out
}

/// Copy demo utterance `spk/utt.flac` to `to`.
fn copy_demo(spk: &str, utt: &str, to: &Path) {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    fs::copy(demo().join(spk).join(format!("{utt}.flac")), to).unwrap();
}

#[test]
fn a_manifest_needs_only_audio() {
    let dir = tempfile::tempdir().unwrap();
    copy_demo("dr1-fslt0", "sa1", &dir.path().join("a/one.flac"));
    copy_demo("dr1-mkal0", "sa1", &dir.path().join("b/one.flac"));
    let m = dir.path().join("m.tsv");
    fs::write(&m, "audio\na/one.flac\n").unwrap();
    let c = Corpus::open(&m).unwrap();
    let u = &c.utterances[0];
    // No speaker column: the utterance is its own speaker, its id the audio's stem.
    assert_eq!((u.id.as_str(), u.speaker.as_str()), ("one", "one"));
    assert_eq!(u.sentence, "one");
    assert!(!u.has_alignment() && u.transcript.is_none());

    // With speakers, and an alignment on one row only.
    let phn = demo().join("dr1-fslt0/sa1.phn");
    fs::write(
        &m,
        format!(
            "audio\tspeaker\talignment\na/one.flac\tf\t{}\nb/one.flac\tm\t\n",
            phn.display()
        ),
    )
    .unwrap();
    let c = Corpus::open(&m).unwrap();
    let ids: Vec<(&str, &str, bool)> = c
        .utterances
        .iter()
        .map(|u| (u.id.as_str(), u.speaker.as_str(), u.has_alignment()))
        .collect();
    assert_eq!(ids, [("f/one", "f", true), ("m/one", "m", false)]);
}

/// `asrpipe corpus info CORPUS`, which must succeed: its standard output.
fn corpus_info(corpus: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_asrpipe"))
        .args(["corpus", "info"])
        .arg(corpus)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn corpus_info_without_labels_says_so_instead_of_a_phone_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("audio");
    copy_demo("dr1-fslt0", "sa1", &d.join("alice/hello.flac"));
    copy_demo("dr1-fslt0", "sa2", &d.join("alice/bye.flac"));
    copy_demo("dr1-mkal0", "sa1", &d.join("bob/hello.flac"));
    let info = corpus_info(&d);
    assert!(
        info.contains("\nno phone labels: 3 utterances, audio only\n"),
        "{info}"
    );
    assert!(!info.contains("phone61"), "{info}");
    assert!(
        info.contains("\nspeakers    2 (0 female, 0 male)\n"),
        "{info}"
    );
    assert!(
        info.contains("\nall           2  (0/0)     3       0     0.00"),
        "{info}"
    );
    // An audio-only manifest (lengths given), and one with transcripts but no times.
    let m = dir.path().join("m.tsv");
    let n = 16_000 * 3 / 2;
    fs::write(
        &m,
        format!("audio\tspeaker\tnum_samples\naudio/alice/hello.flac\ta\t{n}\naudio/bob/hello.flac\tb\t{n}\n"),
    )
    .unwrap();
    let info = corpus_info(&m);
    assert!(
        info.contains("\nno phone labels: 2 utterances, audio only\n"),
        "{info}"
    );
    assert!(
        info.contains("audio       0.05 min (lengths from the audio)"),
        "{info}"
    );
    fs::write(
        &m,
        "audio\tspeaker\ttranscript\naudio/alice/hello.flac\ta\th# sh iy h#\naudio/bob/hello.flac\tb\t\n",
    )
    .unwrap();
    let info = corpus_info(&m);
    assert!(
        info.contains("\nno phone labels: 2 utterances, 1 with a transcript (no times)\n"),
        "{info}"
    );
    // With labels, the table is there.
    assert!(corpus_info(&demo()).contains("\nphone61  phone48  phone39  segments\n"));
}

#[test]
fn a_directory_of_audio_is_a_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    copy_demo("dr1-fslt0", "sa1", &d.join("alice/hello.flac"));
    copy_demo("dr1-fslt0", "sa2", &d.join("alice/bye.flac"));
    copy_demo("dr1-mkal0", "sa1", &d.join("bob/hello.flac"));
    copy_demo("dr2-mked0", "sa1", &d.join("solo.flac"));
    // Left alone: other files, hidden files, folders two levels down.
    fs::write(d.join("notes.txt"), "not audio").unwrap();
    copy_demo("dr2-mked0", "sa2", &d.join(".hidden.flac"));
    copy_demo("dr2-mked0", "sa2", &d.join("carol/deeper/x.flac"));
    let c = Corpus::open(d).unwrap();
    assert_eq!(c.kind, CorpusKind::AudioDir);
    let got: Vec<(&str, &str, &str)> = c
        .utterances
        .iter()
        .map(|u| (u.id.as_str(), u.speaker.as_str(), u.sentence.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("alice/bye", "alice", "bye"),
            ("alice/hello", "alice", "hello"),
            ("bob/hello", "bob", "hello"),
            ("solo", "solo", "solo"),
        ]
    );
    assert!(c.utterances.iter().all(|u| !u.has_alignment()));
    // One sentence said by two speakers is not enough for the hidden-layer study...
    let e = choose_sentences(&c).unwrap_err().to_string();
    assert!(
        e.contains("two sentences") && e.contains("`hello` by 2"),
        "{e}"
    );
    // ... two are: those said by the most speakers, ties by name.
    copy_demo("dr1-mkal0", "sa2", &d.join("bob/bye.flac"));
    let c = Corpus::open(d).unwrap();
    assert_eq!(choose_sentences(&c).unwrap(), ["bye", "hello"]);
    // Scoring needs alignments: of 3 speakers (gender unknown) the balanced split tests one,
    // (2j + 1) * 3 / 2 = 1 of the sorted list: bob.
    let m = model("pipelines/kaldi-mfcc-dnn.yaml");
    let e = fails(&[
        "eval",
        "--model",
        &m.to_string_lossy(),
        "--corpus",
        &d.to_string_lossy(),
    ]);
    assert!(
        e.contains("2 of 2 (bob/bye, bob/hello) test utterances have no phone alignment"),
        "{e}"
    );
    // TIMIT's SA sentences when present.
    assert_eq!(
        choose_sentences(&Corpus::open(&demo()).unwrap()).unwrap(),
        ["sa1", "sa2"]
    );
}

#[test]
fn bad_audio_directories_give_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("nobody")).unwrap();
    fs::write(d.join("notes.txt"), "not audio").unwrap();
    let p = d.to_string_lossy().into_owned();
    let e = fails(&["features", "--corpus", &p, "-o", "/dev/null/x.npz"]);
    assert!(
        e.contains("not a corpus") && e.contains("no audio files (.wav, .flac, .sph)"),
        "{e}"
    );

    // A file that is not audio: named, with what its first bytes say.
    fs::create_dir_all(d.join("ann")).unwrap();
    fs::write(d.join("ann/broken.wav"), "garbage").unwrap();
    copy_demo("dr1-fslt0", "sa1", &d.join("ann/good.flac"));
    let out = d.join("f.npz").to_string_lossy().into_owned();
    let e = fails(&["features", "--corpus", &p, "-o", &out]);
    assert!(
        e.contains("ann/broken.wav") && e.contains("unknown audio format"),
        "{e}"
    );
    // Asking only for the good one under speaker CMN still reads the speaker's other utterance,
    // and says why.
    let e = fails(&[
        "features",
        "--corpus",
        &p,
        "--pipeline",
        "pipelines/kaldi-mfcc-dnn.yaml",
        "-o",
        &out,
        "ann/good",
    ]);
    assert!(
        e.contains("ann/broken.wav") && e.contains("CMVN statistics of speaker `ann`"),
        "{e}"
    );
    // Without pooling, the good one alone is fine.
    ok(&["features", "--corpus", &p, "-o", &out, "ann/good"]);
    assert_eq!(npz(Path::new(&out), "ann/good").dim(), (356, 13));
}

/// The demo corpus with speaker CMN: an utterance's features and activations are the same alone
/// and in a batch, and equal the chain output minus the mean over *all* of its speaker's
/// utterances in the corpus (not over the batch).
#[test]
fn speaker_cmvn_does_not_depend_on_the_batch() {
    let corpus = Corpus::open(&demo()).unwrap();
    let pipeline = Pipeline::load(&root().join("pipelines/kaldi-mfcc-dnn.yaml")).unwrap();
    assert_eq!(pipeline.post.cmvn.mode, CmvnMode::Speaker);
    let extractor = Extractor::new(&pipeline).unwrap();
    let env = Env::new(&corpus);
    let id = "dr1-fslt0/sa1";
    let u = corpus.utterance(id).unwrap();
    let alone = env.load("alone", &[u], &extractor).unwrap();
    let batch_ids = ["dr1-fslt0/sx10", id, "dr1-mkal0/sa1", "dr2-fslt1/sa2"];
    let batch: Vec<_> = batch_ids
        .iter()
        .map(|i| corpus.utterance(i).unwrap())
        .collect();
    let in_batch = env.load("batch", &batch, &extractor).unwrap();
    assert_eq!(alone.utts[0].feats, in_batch.utts[1].feats, "bit-identical");

    // By hand: the mean over the speaker's utterances in the corpus (all 25 of them).
    let own: Vec<_> = corpus
        .utterances
        .iter()
        .filter(|v| v.speaker == u.speaker)
        .collect();
    assert_eq!(own.len(), 25);
    let chain = |v: &asrpipe::corpus::Utterance| {
        extractor
            .chain(&extractor.read_utterance(v).unwrap(), &v.id)
            .unwrap()
    };
    let mean_of = |utts: &[&asrpipe::corpus::Utterance]| {
        let mut sum = [0f64; 13];
        let mut n = 0f64;
        for v in utts {
            let x = chain(v);
            n += x.nrows() as f64;
            for row in x.rows() {
                for (s, &x) in sum.iter_mut().zip(row) {
                    *s += f64::from(x);
                }
            }
        }
        sum.iter().map(|s| (s / n) as f32).collect::<Vec<_>>()
    };
    let mean = mean_of(&own);
    let raw = chain(u);
    let worst = alone.utts[0]
        .feats
        .indexed_iter()
        .map(|((t, d), &v)| (v - (raw[[t, d]] - mean[d])).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-4, "off by {worst}");
    // Pooling over the batch's utterances of that speaker (the two given) would differ.
    let batch_mean = mean_of(&[batch[0], batch[1]]);
    let gap = mean
        .iter()
        .zip(&batch_mean)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(
        gap > 0.1,
        "the test needs a batch whose mean differs: {gap}"
    );

    // Activations, through the command line: alone and in a batch, the same bits.
    let m = model("pipelines/kaldi-mfcc-dnn.yaml");
    let m = m.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().unwrap();
    let a1 = dir.path().join("alone.npz").to_string_lossy().into_owned();
    let a4 = dir.path().join("batch.npz").to_string_lossy().into_owned();
    ok(&["activations", "--model", &m, "--layer", "1", id, "-o", &a1]);
    let mut args = vec!["activations", "--model", &m, "--layer", "1", "-o", &a4];
    args.extend(batch_ids);
    ok(&args);
    let (x1, x4) = (npz(Path::new(&a1), id), npz(Path::new(&a4), id));
    assert_eq!(x1.dim(), (alone.utts[0].feats.nrows(), 32));
    assert_eq!(x1, x4, "bit-identical activations");
}

/// Global CMVN: statistics of the training split, stored with the model (`cmvn.json`) and used
/// as they are wherever the model is applied.
#[test]
fn global_cmvn_is_stored_with_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let text = fs::read_to_string(root().join("pipelines/kaldi-mfcc-dnn.yaml"))
        .unwrap()
        .replace("cmvn: { mode: speaker }", "cmvn: { mode: global }");
    assert!(text.contains("mode: global"));
    let yaml = dir.path().join("global.yaml");
    fs::write(&yaml, text).unwrap();
    let m = model(&yaml.to_string_lossy());
    let stored: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(m.join("cmvn.json")).unwrap()).unwrap();

    // By hand: frames and sums of the demo corpus's training split.
    let corpus = Corpus::open(&demo()).unwrap();
    let train = asrpipe::train::cmvn::training_set(&corpus);
    let p = Pipeline::load(&yaml).unwrap();
    let ex = Extractor::new(&p).unwrap();
    let (mut frames, mut sum0) = (0f64, 0f64);
    for u in &train {
        let x = ex.chain(&ex.read_utterance(u).unwrap(), &u.id).unwrap();
        frames += x.nrows() as f64;
        sum0 += x.column(0).iter().map(|&v| f64::from(v)).sum::<f64>();
    }
    assert_eq!(stored["frames"].as_f64().unwrap(), frames);
    let s0 = stored["sum"][0].as_f64().unwrap();
    assert!((s0 - sum0).abs() < 1e-6 * sum0.abs(), "{s0} vs {sum0}");

    // The stored statistics are what the model's features use: a test utterance alone is its
    // chain output minus the stored mean.
    let trained = asrpipe::train::Trained::load(&m).unwrap();
    let st = trained.cmvn.clone().unwrap();
    let u = corpus.utterance("dr1-fslt0/sa1").unwrap();
    let env = Env::new(&corpus);
    let got = env
        .load("one", &[u], &trained.extractor().unwrap())
        .unwrap();
    let raw = ex.chain(&ex.read_utterance(u).unwrap(), &u.id).unwrap();
    let mean0 = (st.sum[0] / st.count) as f32;
    assert!((got.utts[0].feats[[7, 0]] - (raw[[7, 0]] - mean0)).abs() < 1e-4);

    // A model directory that lost them is refused, not normalised with other statistics.
    fs::remove_file(m.join("cmvn.json")).unwrap();
    let e = asrpipe::train::Trained::load(&m).unwrap_err().to_string();
    assert!(e.contains("cmvn.json") && e.contains("missing"), "{e}");
}

/// A manifest of the demo's SA sentences without alignments (audio, speaker, sentence):
/// features, activations and the hidden-layer study run on it.
#[test]
fn a_manifest_without_alignments_feeds_features_activations_and_hidden_plots() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::open(&demo()).unwrap();
    let mut rows = String::from("audio\tspeaker\tsentence\n");
    for u in corpus.utterances.iter().filter(|u| u.is_sa()) {
        rows += &format!("{}\t{}\t{}\n", u.audio.display(), u.speaker, u.sentence);
    }
    let m = dir.path().join("m.tsv");
    fs::write(&m, rows).unwrap();
    let mp = m.to_string_lossy().into_owned();
    let model = model("pipelines/kaldi-mfcc-dnn.yaml");
    let model = model.to_string_lossy().into_owned();
    let out = |n: &str| dir.path().join(n).to_string_lossy().into_owned();

    // Keys keep the ids as written, `/` included, in npz and in Kaldi archives.
    let f = out("f.npz");
    ok(&[
        "features",
        "--corpus",
        &mp,
        "--pipeline",
        "pipelines/kaldi-mfcc-dnn.yaml",
        "-o",
        &f,
        "dr1-fslt0/sa1",
    ]);
    let labelled = Env::new(&corpus);
    let ex =
        Extractor::new(&Pipeline::load(&root().join("pipelines/kaldi-mfcc-dnn.yaml")).unwrap())
            .unwrap();
    let u = corpus.utterance("dr1-fslt0/sa1").unwrap();
    let want = labelled.load("one", &[u], &ex).unwrap();
    let got = npz(Path::new(&f), "dr1-fslt0/sa1");
    // Not the same features as in the full corpus: speaker CMN pools the speaker's utterances
    // in *this* corpus (its two SA sentences), a defined set.
    assert_eq!(got.dim(), want.utts[0].feats.dim());
    let ark = out("f.ark");
    ok(&["features", "--corpus", &mp, "-o", &ark, "dr1-fslt0/sa1"]);
    assert!(fs::read(&ark).unwrap().starts_with(b"dr1-fslt0/sa1 \0BFM "));

    let a = out("a.npz");
    ok(&[
        "activations",
        "--model",
        &model,
        "--corpus",
        &mp,
        "--layer",
        "2",
        "dr1-mkal0/sa2",
        "-o",
        &a,
    ]);
    assert_eq!(npz(Path::new(&a), "dr1-mkal0/sa2").ncols(), 32);

    let (table, err) = ok(&[
        "plot",
        "hidden",
        "--model",
        &model,
        "--corpus",
        &mp,
        "--layers",
        "0,1",
        "-o",
        &out("h"),
    ]);
    assert!(
        err.contains("sentences: sa1, sa2") && err.contains("no phone alignment"),
        "{err}"
    );
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 4, "{table}");
    // No phone labels: the phone columns say so rather than holding a number.
    assert!(rows.iter().all(|r| r[8] == "-" && r[9] == "-"), "{table}");
    // Layer 0 is the input, the same for the trained net and its random start.
    assert_eq!(rows[0][3..8], rows[2][3..8], "{table}");
    // 12 speakers, 2 sentences each: the probe's chance is the most frequent speaker's share of
    // a held-out sentence's frames, at least 1/12.
    let chance: f64 = rows[0][7].parse().unwrap();
    assert!((1.0 / 12.0..0.2).contains(&chance), "{table}");
    assert!(dir.path().join("h-tsne.png").is_file());
}

/// Training on a corpus where some utterances have no alignment names them and stops; with
/// --skip-unlabelled it leaves them out and says so.
#[test]
fn training_names_the_utterances_without_alignment() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = Corpus::open(&demo()).unwrap();
    // Two utterances of the first training speaker and one of another (the manifest below has
    // the demo's speakers and genders, so the same split).
    let train = asrpipe::train::cmvn::training_set(&corpus);
    let other = train
        .iter()
        .find(|u| u.speaker != train[0].speaker)
        .unwrap();
    let unaligned = [
        train[0].id.as_str(),
        train[1].id.as_str(),
        other.id.as_str(),
    ];
    let listed = unaligned.join(", ");
    let mut rows = String::from("id\taudio\tspeaker\tgender\talignment\n");
    for u in &corpus.utterances {
        let ali = if unaligned.contains(&u.id.as_str()) {
            String::new()
        } else {
            u.phone_file.display().to_string()
        };
        rows += &format!(
            "{}\t{}\t{}\t{}\t{ali}\n",
            u.id,
            u.audio.display(),
            u.speaker,
            u.gender.letter()
        );
    }
    let m = dir.path().join("m.tsv");
    fs::write(&m, rows).unwrap();
    let mp = m.to_string_lossy().into_owned();
    let c = Corpus::open(&m).unwrap();
    for id in unaligned {
        assert!(!c.utterance(id).unwrap().has_alignment(), "{id}");
    }
    let train_ids: Vec<&str> = asrpipe::train::cmvn::training_set(&c)
        .iter()
        .map(|u| u.id.as_str())
        .collect();
    assert_eq!(train_ids.len(), train.len());
    assert!(unaligned.iter().all(|id| train_ids.contains(id)));
    let out = dir.path().join("model").to_string_lossy().into_owned();
    let args = [
        "train", "--corpus", &mp, "--gmm", "1", "--epochs", "1", "--states", "144", "-o", &out,
    ];
    let e = fails(&args);
    assert!(
        e.contains(&format!(
            "3 of {} ({listed}) training utterances have no phone alignment",
            train.len()
        )),
        "{e}"
    );
    assert!(e.contains("--skip-unlabelled"), "{e}");
    assert!(!Path::new(&out).join("about.json").exists());

    let mut skip = args.to_vec();
    skip.push("--skip-unlabelled");
    let (_, err) = ok(&skip);
    assert!(
        err.contains(&format!(
            "skipping 3 of {} ({listed}) utterances without phone alignment",
            corpus.utterances.len()
        )),
        "{err}"
    );
    let about: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(Path::new(&out).join("about.json")).unwrap())
            .unwrap();
    assert_eq!(about["kind"], "gmm");
}

/// Ids are looked up in --corpus; without it, in the demo corpus, and the error says so.
#[test]
fn unknown_ids_say_which_corpus_was_searched() {
    let m = model("pipelines/kaldi-mfcc-dnn.yaml");
    let m = m.to_string_lossy().into_owned();
    let e = fails(&[
        "activations",
        "--model",
        &m,
        "--layer",
        "1",
        "dr9-nobody/sa1",
        "-o",
        "/tmp/never.npz",
    ]);
    assert!(
        e.contains("no utterance `dr9-nobody/sa1`")
            && e.contains("looked in the embedded demo corpus")
            && e.contains("ids look like dr1-fslt0/sa1"),
        "{e}"
    );
}

#[test]
fn decoding_needs_no_labels_and_gives_the_labelled_corpus_hypotheses() {
    let m = model("pipelines/kaldi-mfcc-dnn.yaml");
    let m = m.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Every utterance of two demo speakers (so that speaker CMVN pools the same set), audio and
    // speaker only.
    let speakers = ["dr1-fslt0", "dr1-mkal0"];
    let mut rows = String::from("audio\tspeaker\n");
    for spk in speakers {
        let mut files: Vec<PathBuf> = fs::read_dir(demo().join(spk))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "flac"))
            .collect();
        files.sort();
        for f in files {
            rows.push_str(&format!("{}\t{spk}\n", f.display()));
        }
    }
    let manifest = dir.path().join("m.tsv");
    fs::write(&manifest, rows).unwrap();
    let bare = dir.path().join("bare");
    let (_, err) = ok(&[
        "decode",
        "--model",
        m,
        "--corpus",
        manifest.to_str().unwrap(),
        "-o",
        bare.to_str().unwrap(),
    ]);
    assert!(err.contains("nothing scored"), "{err}");
    assert!(!bare.join("per-utt.tsv").exists());
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(bare.join("decode.json")).unwrap()).unwrap();
    assert_eq!(json["scored"], 0);
    assert!(json.get("per").is_none());
    let mut hyp_bare: Vec<String> = fs::read_to_string(bare.join("hyp.txt"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(
        hyp_bare.len(),
        json["utterances"].as_u64().unwrap() as usize
    );
    assert!(hyp_bare.len() >= 20, "{}", hyp_bare.len());

    // The labelled demo corpus: the same phones for the same utterances, and a PER.
    let labelled = dir.path().join("labelled");
    let (_, err) = ok(&["decode", "--model", m, "-o", labelled.to_str().unwrap()]);
    assert!(err.contains("PER "), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(labelled.join("decode.json")).unwrap()).unwrap();
    assert_eq!(json["scored"], json["utterances"]);
    assert!(json["per"]["per"].as_f64().unwrap() > 0.0);
    let mut hyp_labelled: Vec<String> = fs::read_to_string(labelled.join("hyp.txt"))
        .unwrap()
        .lines()
        .filter(|l| speakers.iter().any(|s| l.starts_with(&format!("{s}/"))))
        .map(String::from)
        .collect();
    hyp_bare.sort();
    hyp_labelled.sort();
    assert_eq!(hyp_bare, hyp_labelled);
}
