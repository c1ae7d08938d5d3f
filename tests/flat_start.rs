//! Flat start from transcripts without times, lexicons and transcripts as input, and alignments
//! as training labels.

use std::path::{Path, PathBuf};

use asrpipe::corpus::{Corpus, Gender, Lexicon, PhoneSet, Split, TranscriptText, Utterance};
use asrpipe::decode::{AlignConfig, AlignError, Alignment, BoundaryErrors, BoundarySummary};
use asrpipe::io::cache::FeatureCache;
use asrpipe::model::hmm::{HmmConfig, Transitions};
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::train::Env;
use asrpipe::train::dataset::FrameSet;
use asrpipe::train::flat_start::{
    FlatStartConfig, FlatStartUtt, Transcript, flat_start, realigns_before,
};
use asrpipe::train::model_dir::Trained;
use asrpipe::train::realign::transcripts;
use asrpipe::train::sat::SatConfig;
use asrpipe::train::targets::Targets;

fn utterance(id: &str, transcript: Option<&str>, line: usize) -> Utterance {
    Utterance {
        id: id.into(),
        speaker: "s".into(),
        gender: Gender::Unknown,
        dialect: String::new(),
        sentence: id.into(),
        audio: PathBuf::from(format!("{id}.wav")),
        phone_file: PathBuf::from("manifest.tsv"),
        phones: Vec::new(),
        words: Vec::new(),
        text: None,
        transcript: transcript.map(|t| TranscriptText {
            text: t.into(),
            file: PathBuf::from("manifest.tsv"),
            line,
        }),
        sample_rate: 16_000,
        num_samples: None,
        subset: None,
        span: None,
        speed: None,
        channel: None,
    }
}

#[test]
fn kaldi_realigns_at_its_listed_passes() {
    let kaldi = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 23, 26, 29, 32, 35, 38,
    ];
    let ours: Vec<usize> = (0..40).filter(|&p| realigns_before(p)).collect();
    assert_eq!(ours, kaldi);
}

/// Agreement with the hand times of the flat-start alignments (in `utts` order) of the
/// utterances `keep` selects, scored by the recipe's own scorer; failed alignments left out.
fn agreement(
    utts: &[&Utterance],
    alignments: &[Result<Alignment, AlignError>],
    keep: impl Fn(&Utterance) -> bool,
) -> BoundarySummary {
    let geom = Extractor::new(&Pipeline::kaldi_mfcc_gmm())
        .unwrap()
        .frontend
        .framing
        .geometry;
    assert_eq!(utts.len(), alignments.len());
    let mut errors = BoundaryErrors::new();
    for (u, a) in utts.iter().zip(alignments) {
        if let Ok(a) = a
            && keep(u)
        {
            errors
                .add(
                    &u.phones,
                    PhoneSet::timit(),
                    &a.phones,
                    &geom,
                    u.sample_rate,
                )
                .unwrap();
        }
    }
    errors.summary().unwrap()
}

#[test]
fn a_flat_start_that_never_saw_a_time_finds_the_demo_boundaries() {
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = Env::new(&corpus).cache(FeatureCache::new(tmp.path()));
    let (fs, r) = env
        .flat_start(
            None,
            &FlatStartConfig::default(),
            &SatConfig::default(),
            &HmmConfig::default(),
            &AlignConfig::default(),
        )
        .unwrap();
    assert_eq!(fs.history.len(), 40);
    assert_eq!(r.skipped.len(), 0, "{:?}", r.skipped);
    // The alignments are scored against the hand times they never saw.
    let b = r.boundaries.unwrap();
    eprintln!("demo flat start: {b:?}; last pass {:?}", fs.history.last());
    assert_eq!(b.boundaries, 4826, "{b:?}");
    // 86.9 % within 20 ms (97.6 % within 40 ms, mean 10.9 ms), with no overall bias (median
    // signed error -0.5 ms). Short of the 90 % aimed at: the misses are voice-specific at pause
    // edges (ked's speech -> pause boundaries come 20 ms early, where the audio's energy also
    // drops well before festival's time) and conventions festival keeps between glides and
    // vowels (aa-r, y-uw, l-ey), not scatter of the aligner (docs/results/flat-start-variants.md
    // has them by voice and kind of boundary). Kaldi's knobs move it by about a
    // point either way (85.6-88.0 %): 300 to 4000 Gaussians, silence boost 0.8 or 1.25,
    // realignment before every pass, 60 passes, four tied-state realignments, per-speaker
    // variance normalisation, no deltas, first-order deltas, deltas over +-1 frame. Per voice
    // it is 91.7 % for the HMM voice and 81-84 % for the two diphone voices; a flat start on one
    // diphone voice alone does worse (70-81 %): the misses are where the voices' conventions
    // differ, which EM from an equal alignment does not recover. The bounds are what is
    // reached, so that a regression shows. Speaker-adaptive training after the flat start
    // (hmm.sat, off by default) does not help either: 86.6 % with 4 rounds of fMLLR, EM and
    // realignment (86.3-86.7 % with 1-12 rounds): the voices differ in conventions, not by an
    // affine map of the features. Nor does Baum-Welch training of the early passes or of all
    // (hmm.flat_start.baum_welch_passes 5 or 39: 86.4 %, 86.3 %). Before the labels took
    // festival's 13 ms lag into account (scripts/make-demo-corpus.sh), this was 69.9 %, mean
    // 16.3 ms, all of it a +14 ms bias.
    assert!(b.within_20ms >= 86.5 && b.within_40ms >= 97.0, "{b:?}");
    assert!(b.mean_abs_ms < 11.2, "{b:?}");
    // Where the synthetic times are the generating model's own phone changes (the HMM voice's
    // speakers, `fslt*`), the flat start meets the 90 %; the diphone voices' times are where
    // their makers marked each diphone's boundary, a convention the audio does not carry.
    // Scored as the recipe scores the pooled figure (BoundaryErrors), voice by voice.
    let train = env.utterances(Split::Train);
    let per_voice = |hmm_voice: bool| {
        agreement(&train, &fs.alignments, |u| {
            u.speaker.contains("fslt") == hmm_voice
        })
        .within_20ms
    };
    let (hmm_voice, diphone_voices) = (per_voice(true), per_voice(false));
    eprintln!("within 20 ms: HMM voice {hmm_voice:.1} %, diphone voices {diphone_voices:.1} %");
    assert!(
        hmm_voice >= 90.0 && diphone_voices >= 80.0,
        "{hmm_voice} {diphone_voices}"
    );
    // Mixtures grew toward 1000 Gaussians (capped by the frames of the rarer states).
    let g = fs.history.last().unwrap().gaussians;
    assert!(g > 2 * fs.model.ctx.num_leaves() && g <= 1100, "{g}");
    // The realigned corpus reads back as hand labels: every training utterance labelled.
    let changed = r
        .corpus
        .utterances
        .iter()
        .zip(&corpus.utterances)
        .filter(|(a, b)| a.phones != b.phones)
        .count();
    assert_eq!(changed, r.aligned);
}

/// Features (the production line's) and phone transcripts of the demo's first `n` utterances.
fn first_demo_utterances(n: usize) -> (FrameSet, Vec<Transcript>) {
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = Env::new(&corpus).cache(FeatureCache::new(tmp.path()));
    let utts: Vec<&Utterance> = corpus.utterances.iter().take(n).collect();
    let set = env
        .load(
            "feats",
            &utts,
            &Extractor::new(&Pipeline::kaldi_mfcc_gmm()).unwrap(),
        )
        .unwrap();
    (set, transcripts(&utts, None).unwrap())
}

#[test]
fn the_same_seed_gives_the_same_alignments() {
    let (set, ts) = first_demo_utterances(40);
    let words: Vec<Transcript> = ts
        .iter()
        .map(|t| match t {
            // Each phone a word: the optional silences make the path random.
            Transcript::Phones(p) => Transcript::Words(p.iter().map(|&x| vec![vec![x]]).collect()),
            w => w.clone(),
        })
        .collect();
    let fu: Vec<FlatStartUtt> = set
        .utts
        .iter()
        .zip(&words)
        .map(|(u, t)| FlatStartUtt {
            feats: u.feats.view(),
            transcript: t,
        })
        .collect();
    let cfg = |seed| FlatStartConfig {
        iterations: 6,
        mixup_iterations: 3,
        total_gaussians: 300,
        seed,
        ..FlatStartConfig::default()
    };
    let run = |seed| {
        let fs = flat_start(
            &fu,
            &cfg(seed),
            &HmmConfig::default(),
            &AlignConfig::default(),
            |_| {},
        )
        .unwrap();
        fs.alignments
            .into_iter()
            .map(|a| a.map(|a| a.frames))
            .collect::<Vec<_>>()
    };
    let a = run(7);
    assert!(a.iter().filter(|x| x.is_ok()).count() >= 35);
    assert_eq!(a, run(7));
    assert_ne!(a, run(8));
}

#[test]
fn baum_welch_passes_never_lose_likelihood_and_end_in_viterbi_alignments() {
    let (set, ts) = first_demo_utterances(40);
    let fu: Vec<FlatStartUtt> = set
        .utts
        .iter()
        .zip(&ts)
        .map(|(u, t)| FlatStartUtt {
            feats: u.feats.view(),
            transcript: t,
        })
        .collect();
    // One Gaussian per state throughout (no mix-up), so that every Baum-Welch pass is an EM
    // step of one model: the likelihood over all paths may not go down.
    let cfg = |bw| FlatStartConfig {
        iterations: 8,
        mixup_iterations: 1,
        total_gaussians: 1,
        power: 0.0,
        baum_welch_passes: bw,
        ..FlatStartConfig::default()
    };
    let run = |bw| {
        flat_start(
            &fu,
            &cfg(bw),
            &HmmConfig::default(),
            &AlignConfig::default(),
            |_| {},
        )
        .unwrap()
    };
    let soft = run(7);
    let ll: Vec<f64> = soft.history.iter().map(|p| p.log_likelihood).collect();
    eprintln!("log-likelihood per frame by pass: {ll:?}");
    for p in 2..8 {
        assert!(ll[p] >= ll[p - 1] - 1e-4, "pass {p}: {ll:?}");
    }
    assert!(soft.history[1..].iter().all(|p| !p.realigned));
    assert_eq!(
        soft.model.gmms.num_gaussians(),
        soft.model.gmms.num_states()
    );
    // The alignments handed on are Viterbi paths of the final model, one per utterance.
    assert!(soft.alignments.iter().filter(|a| a.is_ok()).count() >= 38);
    assert!(soft.alignments.iter().flatten().all(|a| a.score.is_some()));
    // Viterbi training from the same start differs (different statistics), and the first
    // Viterbi pass after Baum-Welch ones realigns even where Kaldi's schedule would not.
    let hard = run(0);
    assert_ne!(hard.model.gmms.means(), soft.model.gmms.means());
    let mixed = run(4);
    assert!(mixed.history[5].realigned && !mixed.history[4].realigned);
    let err = FlatStartConfig {
        baum_welch_passes: 40,
        ..FlatStartConfig::default()
    }
    .validate()
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("baum_welch_passes") && err.contains("40"),
        "{err}"
    );
}

#[test]
fn lexicon_and_transcript_errors_name_the_problem() {
    // A malformed lexicon line: the file and line.
    let e = Lexicon::parse("HELLO  HH AH0 L OW1\nWORLD\n", Path::new("lex.txt"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("lex.txt:2:") && e.contains("no phones"),
        "{e}"
    );
    let e = Lexicon::parse("HELLO  HH XX L OW1\n", Path::new("lex.txt"))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("lex.txt:1:") && e.contains("`XX`"), "{e}");
    let lex = Lexicon::parse(
        ";;; comment\nHELLO  HH AH0 L OW1\nHELLO(2)  HH EH0 L OW1\nTHERE  DH EH1 R\n",
        Path::new("lex.txt"),
    )
    .unwrap();
    assert_eq!(lex.len(), 2);
    assert_eq!(lex.get("hello").unwrap().len(), 2);
    // Words missing from the lexicon: each named with the number of utterances it is in.
    let a = utterance("a", Some("hello world"), 2);
    let b = utterance("b", Some("world wide hello"), 3);
    let e = transcripts(&[&a, &b], Some(&lex)).unwrap_err().to_string();
    assert!(
        e.contains("`world` (2 utterances)") && e.contains("`wide` (1 utterance)"),
        "{e}"
    );
    assert!(e.starts_with("lex.txt:"), "{e}");
    // An empty transcript: the manifest line.
    let c = utterance("c", Some("  "), 4);
    let e = transcripts(&[&c], Some(&lex)).unwrap_err().to_string();
    assert!(
        e.starts_with("manifest.tsv:4:") && e.contains("empty transcript"),
        "{e}"
    );
    // A token that is no phone, without a lexicon.
    let d = utterance("d", Some("sil hh ah0 zz sil"), 5);
    let e = transcripts(&[&d], None).unwrap_err().to_string();
    assert!(
        e.starts_with("manifest.tsv:5:") && e.contains("`zz`"),
        "{e}"
    );
    // Known words and phones: the lexicon's pronunciations, and phones as 48-set ids.
    let t = transcripts(&[&utterance("e", Some("hello there"), 6)], Some(&lex)).unwrap();
    let set = PhoneSet::timit();
    let id = |n: &str| set.p48.id(n).unwrap();
    assert_eq!(
        t[0],
        Transcript::Words(vec![
            vec![
                vec![id("hh"), id("ah"), id("l"), id("ow")],
                vec![id("hh"), id("eh"), id("l"), id("ow")]
            ],
            vec![vec![id("dh"), id("eh"), id("r")]],
        ])
    );
    let t = transcripts(&[&utterance("f", Some("h# q ax-h tcl sil"), 7)], None).unwrap();
    assert_eq!(
        t[0],
        Transcript::Phones(vec![id("sil"), id("ax"), id("cl"), id("sil")])
    );
}

fn asrpipe(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_asrpipe"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_model_directory_keeps_only_its_own_run_s_alignments() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("model");
    let cache = tmp.path().join("cache");
    let o = out.to_str().unwrap();
    let train = |extra: &[&str]| {
        let mut args = vec!["train", "-q", "--cache", cache.to_str().unwrap(), "-o", o];
        args.extend_from_slice(extra);
        asrpipe(&args)
    };
    let r = train(&["--flat-start"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(out.join("flat_start/mono").is_dir() && out.join("flat_start/alignments").is_dir());
    // A model trained on the hand times in the same directory: the old alignments go with the
    // old model.
    let r = train(&[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(!out.join("flat_start").exists());
    // A run that fails after its flat start (here writing the model: a directory stands where
    // the model file goes) leaves no alignments and no temporary directory.
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::create_dir_all(out.join("model.safetensors")).unwrap();
    let r = train(&["--flat-start"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("model.safetensors") && err.contains("flat start:"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["model.safetensors"]);
    // The classifier's memory is refused before the flat start's work, not after it.
    std::fs::remove_dir_all(&out).unwrap();
    let r = train(&["--flat-start", "--max-memory", "25M"]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(!r.status.success() && err.contains("the GMM"), "{err}");
    assert!(!err.contains("flat start:"), "{err}");
    assert!(!out.exists());
    // So is a tying map the tree step would read, missing here.
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/kaldi-mfcc-gmm.yaml"),
    )
    .unwrap();
    let missing = tmp.path().join("no-such-map.txt");
    let p = tmp.path().join("p.yaml");
    let text = base.replace(
        "min_count: 50 }",
        &format!("min_count: 50, map: {} }}", missing.display()),
    );
    assert_ne!(text, base);
    std::fs::write(&p, text).unwrap();
    let r = train(&["--flat-start", "-p", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        !r.status.success() && err.contains("no-such-map.txt"),
        "{err}"
    );
    assert!(!err.contains("flat start:"), "{err}");
}

#[test]
fn train_flat_start_from_word_transcripts_then_a_dnn_on_its_alignment() {
    // A manifest of the demo audio with words and no times, and a lexicon of the words as the
    // hand labels pronounce them (several pronunciations where they differ).
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let set = PhoneSet::timit();
    let tmp = tempfile::tempdir().unwrap();
    let mut manifest = String::from("audio\tspeaker\ttranscript\n");
    let mut lexicon = String::new();
    for u in corpus.utterances.iter().take(120) {
        let words: Vec<&str> = u.words.iter().map(|w| w.label.as_str()).collect();
        manifest += &format!(
            "{}\t{}\t{}\n",
            std::fs::canonicalize(&u.audio).unwrap().display(),
            u.speaker,
            words.join(" ")
        );
        for w in &u.words {
            let pron: Vec<&str> = u
                .phones
                .iter()
                .filter(|s| s.start >= w.start && s.start < w.end)
                .filter_map(|s| set.fold_61_to_48(set.p61.id(&s.label).unwrap()))
                .map(|p| set.p48.name(p))
                .collect();
            lexicon += &format!("{}  {}\n", w.label, pron.join(" "));
        }
    }
    let m = tmp.path().join("manifest.tsv");
    let lex = tmp.path().join("lexicon.txt");
    std::fs::write(&m, manifest).unwrap();
    std::fs::write(&lex, lexicon).unwrap();
    let cache = tmp.path().join("cache");
    let out = tmp.path().join("mono");
    // A flat start from the manifest's words through the lexicon.
    let train_flat = || {
        asrpipe(&[
            "train",
            "-q",
            "--corpus",
            m.to_str().unwrap(),
            "--cache",
            cache.to_str().unwrap(),
            "--flat-start",
            "--lexicon",
            lex.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
    };
    let run = train_flat();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(
        err.contains("realigned once with the tied-state GMM"),
        "{err}"
    );
    let about = std::fs::read_to_string(out.join("about.json")).unwrap();
    assert!(
        about.contains("\"labels\": \"flat start: 40 passes"),
        "{about}"
    );
    assert!(out.join("flat_start/transitions.json").is_file());
    let phn: Vec<_> = walk(&out.join("flat_start/alignments"));
    assert!(phn.len() >= 80, "{}", phn.len());
    // A missing word is named with its utterance count.
    std::fs::write(&lex, "HELLO  HH AH0 L OW1\n").unwrap();
    let run = train_flat();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        !run.status.success() && err.contains("not in the lexicon: `"),
        "{err}"
    );
    assert!(err.contains("utterances)"), "{err}");
    // A DNN trained on the GMM's alignment of the demo corpus (hand times ignored).
    let dnn = tmp.path().join("dnn");
    let run = asrpipe(&[
        "train",
        "-q",
        "--cache",
        cache.to_str().unwrap(),
        "--align-with",
        out.to_str().unwrap(),
        "--dnn",
        "1x64",
        "--epochs",
        "1",
        "-o",
        dnn.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{err}");
    assert!(err.contains("boundaries vs the hand times"), "{err}");
    let about = std::fs::read_to_string(dnn.join("about.json")).unwrap();
    assert!(
        about.contains("\"labels\": \"Viterbi alignment of"),
        "{about}"
    );
    // Its tied states are the aligning GMM's (same tree), counted anew on the alignment of the
    // demo corpus (which the GMM was not trained on: other counts).
    let gmm_targets = Targets::load(&out.join("targets.json")).unwrap();
    let dnn_targets = Targets::load(&dnn.join("targets.json")).unwrap();
    assert_eq!(dnn_targets.tying, gmm_targets.tying);
    assert_eq!(dnn_targets.leaf_phone48, gmm_targets.leaf_phone48);
    assert_ne!(dnn_targets.train_counts, gmm_targets.train_counts);
    assert!(
        err.contains(&format!("its {} tied states", gmm_targets.num_states())),
        "{err}"
    );
}

#[test]
fn align_with_aligns_as_align_does_with_the_gmms_own_transitions() {
    // A tied-state GMM on the demo's hand times: its hmm.json holds transitions estimated from
    // them, not the defaults.
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let gmm_dir = tmp.path().join("gmm");
    let run = asrpipe(&[
        "train",
        "-q",
        "--cache",
        cache.to_str().unwrap(),
        "-o",
        gmm_dir.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let gmm = Trained::load(&gmm_dir).unwrap();
    let hmm = gmm.hmm().unwrap();
    let set = PhoneSet::timit();
    let defaults =
        Transitions::from_config(set.p48.names(), &hmm.topology, &HmmConfig::default()).unwrap();
    assert_ne!(hmm.transitions, defaults);

    // The alignment `--align-with` trains on ...
    let env = Env::new(&corpus).cache(FeatureCache::new(&cache));
    let align = AlignConfig::default();
    let r = env.align_with(&gmm, None, None, &align).unwrap();
    assert_eq!(r.skipped.len(), 0, "{:?}", r.skipped);
    assert!(r.aligned >= 150, "{}", r.aligned);
    // ... is, boundary for boundary, the one `asrpipe align --model` writes.
    let ali = tmp.path().join("ali");
    let first = &r.aligned_ids[0];
    let align_cli = |split: &str, plot: &str, out: &Path| {
        asrpipe(&[
            "align",
            "-q",
            "--model",
            gmm_dir.to_str().unwrap(),
            "--split",
            split,
            "--cache",
            cache.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--plot",
            plot,
        ])
    };
    let run = align_cli("train", first, &ali);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(ali.join(format!("{first}.png")).is_file());
    // A figure of an utterance the split leaves out is refused before anything is aligned.
    let elsewhere = tmp.path().join("elsewhere");
    let run = align_cli("test", first, &elsewhere);
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        err.contains(&format!("--plot {first}: not among the"))
            && err.contains("utterances of split `test`"),
        "{err}"
    );
    assert!(!elsewhere.exists());
    let times = |segs: &[asrpipe::corpus::Segment]| -> Vec<(u64, u64)> {
        segs.iter().map(|s| (s.start, s.end)).collect()
    };
    let ours = |r: &asrpipe::train::realign::Realigned, id: &str| {
        let u = r.corpus.utterances.iter().find(|u| u.id == id).unwrap();
        times(&u.phones)
    };
    for id in &r.aligned_ids {
        let written =
            asrpipe::corpus::timit::read_phn(&ali.join(format!("{id}.phn")), set).unwrap();
        assert_eq!(ours(&r, id), times(&written), "{id}");
    }
    // The default transitions would have aligned some utterances otherwise: the check has teeth.
    let d = env.align_with(&gmm, Some(&defaults), None, &align).unwrap();
    let differ = r
        .aligned_ids
        .iter()
        .filter(|id| ours(&r, id) != ours(&d, id))
        .count();
    assert!(differ > 0);
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn speaker_adaptive_training_undoes_per_speaker_distortions() {
    // The demo's training features, each speaker's passed through its own affine distortion
    // x -> M x + c (M = I + a random matrix of scale 0.25, c of scale 1, seeded): a speaker-
    // independent flat start with one Gaussian per state then places far fewer boundaries right
    // (68.0 % within 20 ms, against 86.9 % undistorted with 1000 Gaussians); three rounds of
    // per-speaker fMLLR, EM and realignment take the distortions up: 81.5 %, mean error 23.3 ->
    // 13.1 ms. (With 1000 Gaussians the mixtures absorb the distortions during the flat start
    // itself, 77.2 %, and adaptation afterwards leaves the boundaries where they are, 77.1 %:
    // the speaker-specific errors are made in the early single-Gaussian passes.)
    use asrpipe::train::sat::{SatConfig, adapt};
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = Env::new(&corpus).cache(FeatureCache::new(tmp.path()));
    let utts = env.utterances(asrpipe::corpus::Split::Train);
    let extractor = Extractor::new(&Pipeline::kaldi_mfcc_gmm()).unwrap();
    let set = env.load("feats", &utts, &extractor).unwrap();
    let ts = transcripts(&utts, None).unwrap();
    let dim = set.dim;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let mut distortions = std::collections::BTreeMap::new();
    for u in &utts {
        distortions.entry(u.speaker.clone()).or_insert_with(|| {
            let mut m = ndarray::Array2::<f32>::eye(dim);
            m.mapv_inplace(|v| {
                let z: f32 = StandardNormal.sample(&mut rng);
                v + 0.25 * z
            });
            let c = ndarray::Array1::<f32>::from_shape_fn(dim, |_| StandardNormal.sample(&mut rng));
            (m, c)
        });
    }
    let distorted: Vec<ndarray::Array2<f32>> = set
        .utts
        .iter()
        .map(|u| {
            let (m, c) = &distortions[&u.speaker];
            u.feats.dot(&m.t()) + c
        })
        .collect();
    let fu: Vec<FlatStartUtt> = distorted
        .iter()
        .zip(&ts)
        .map(|(f, t)| FlatStartUtt {
            feats: f.view(),
            transcript: t,
        })
        .collect();
    let speakers: Vec<&str> = utts.iter().map(|u| u.speaker.as_str()).collect();
    let agreement = |fs: &asrpipe::train::flat_start::FlatStart| {
        assert!(fs.alignments.iter().all(Result::is_ok));
        agreement(&utts, &fs.alignments, |_| true)
    };
    let (cfg, hmm, align) = (
        FlatStartConfig {
            total_gaussians: 1,
            ..FlatStartConfig::default()
        },
        HmmConfig::default(),
        AlignConfig::default(),
    );
    let mut fs = flat_start(&fu, &cfg, &hmm, &align, |_| {}).unwrap();
    let before = agreement(&fs);
    let sat = SatConfig {
        rounds: 3,
        ..SatConfig::default()
    };
    let mut gains = Vec::new();
    let transforms = adapt(&fu, &speakers, &mut fs, &sat, &cfg, &hmm, &align, |r| {
        gains.push(r.fmllr_gain)
    })
    .unwrap();
    let after = agreement(&fs);
    eprintln!("distorted speakers: {before:?} -> SAT {after:?}; fMLLR gains {gains:?}");
    assert_eq!(transforms.len(), 8);
    assert_eq!(gains.len(), 4);
    assert!(gains.iter().all(|&g| g >= 0.0), "{gains:?}");
    // The first estimate undoes most of the distortion (52 nats per frame), later ones refine.
    assert!(
        gains[0] > 20.0 && gains[1..].iter().all(|&g| g < 2.0),
        "{gains:?}"
    );
    assert!(before.within_20ms < 70.0, "{before:?}");
    assert!(
        after.within_20ms >= 81.0 && after.mean_abs_ms < 13.5,
        "{before:?} {after:?}"
    );
}
