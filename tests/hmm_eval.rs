//! The HMMs in use: stored with trained models, decoding at `eval` (PER), forced alignment with
//! `align`, and the errors for models without HMMs and for bad decoding options.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use asrpipe::corpus::{Corpus, PhoneSet, Split, frame_labels, timit};
use asrpipe::decode::{DecodeConfig, EditCounts, TuneConfig, ids48, phones48, score_phones};
use asrpipe::io::cache::FeatureCache;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::extractor::Extractor;
use asrpipe::train::align::{align_corpus, plot_alignment};
use asrpipe::train::{self as run, Env, Trained};

fn corpus() -> &'static Corpus {
    static C: OnceLock<Corpus> = OnceLock::new();
    C.get_or_init(|| Corpus::open_or_demo(None).unwrap())
}

fn cache() -> &'static Path {
    static D: OnceLock<tempfile::TempDir> = OnceLock::new();
    D.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

fn env() -> Env<'static> {
    Env::new(corpus()).cache(FeatureCache::new(cache()))
}

/// The production line's GMM (`pipelines/kaldi-mfcc-gmm.yaml`: 500 tied states, up to 8
/// Gaussians) on the demo corpus, trained once (under a second) and saved.
fn tiny() -> &'static (Trained, PathBuf) {
    static M: OnceLock<(Trained, PathBuf)> = OnceLock::new();
    M.get_or_init(|| {
        let p = Pipeline::kaldi_mfcc_gmm();
        let env = env();
        let states = p.classifier.as_ref().unwrap().states.clone();
        let targets = env.targets(&states).unwrap();
        let trained = run::train(&env, &p, &targets, None).unwrap();
        let dir = cache().join("tiny-model");
        trained.save(&dir).unwrap();
        (trained, dir)
    })
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_asrpipe"))
}

#[test]
fn trained_model_directory_holds_the_hmms_and_reads_them_back() {
    let (trained, dir) = tiny();
    for f in ["hmm.json", "lm.json"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let loaded = Trained::load(dir).unwrap();
    let (a, b) = (trained.hmm().unwrap(), loaded.hmm().unwrap());
    assert_eq!(a.transitions, b.transitions);
    assert_eq!(a.log_priors, b.log_priors);
    assert_eq!(a.lm, b.lm);
    // Every training segment was counted. A middle state is visited once per segment, so its
    // self-loop probability is 1 - runs / frames over the training frames labelled with it.
    assert!(a.counted_segments > 1000, "{}", a.counted_segments);
    let env = env();
    let train = env.utterances(Split::Train);
    let set = env
        .load("train", &train, &Extractor::new(&trained.pipeline).unwrap())
        .unwrap();
    for name in ["aa", "s", "sil"] {
        let phone = PhoneSet::timit().p48.id(name).unwrap();
        let (mut frames, mut runs) = (0usize, 0usize);
        for u in &set.utts {
            let mut prev = false;
            for l in &u.labels {
                let here = l.is_some_and(|l| l.phone == phone && l.state == 1);
                frames += usize::from(here);
                runs += usize::from(here && !prev);
                prev = here;
            }
        }
        let want = 1.0 - runs as f64 / frames as f64;
        let got = a.transitions.self_loop_prob(phone, 1);
        assert!(
            (got - want).abs() < 1e-9,
            "{name}: {got} vs {want} ({runs} runs, {frames} frames)"
        );
    }
    // Priors are log relative frequencies of the training state counts.
    let total: u64 = trained.targets.train_counts.iter().sum();
    let want = (trained.targets.train_counts[0] as f64 / total as f64).ln() as f32;
    assert!((a.log_priors[0] - want).abs() < 1e-5);
}

#[test]
fn eval_writes_per_that_hyp_txt_rescored_gives_back() {
    let (trained, _) = tiny();
    let env = env();
    let scored = run::score(
        &env,
        trained,
        Some(&DecodeConfig::default()),
        &TuneConfig::off(),
    )
    .unwrap();
    let result = scored.result("tiny", trained).unwrap();
    let out = tempfile::tempdir().unwrap();
    scored.write(out.path(), &result, trained).unwrap();

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).unwrap())
            .unwrap();
    for key in ["state_accuracy", "phone_accuracy", "test_frames"] {
        assert!(json.get(key).is_some(), "results.json lost `{key}`");
    }
    let get = |k: &str| json[k].as_u64().unwrap() as usize;

    // Re-score hyp.txt against the corpus's transcripts.
    let set = PhoneSet::timit();
    let hyp = std::fs::read_to_string(out.path().join("hyp.txt")).unwrap();
    let mut total = EditCounts::default();
    let test = env.utterances(Split::Test);
    assert_eq!(hyp.lines().count(), test.len());
    for line in hyp.lines() {
        let mut words = line.split_whitespace();
        let id = words.next().unwrap();
        let names: Vec<&str> = words.collect();
        let u = corpus().utterance(id).unwrap();
        let reference = phones48(&u.phones, set, &u.phone_file).unwrap();
        total += score_phones(&reference, &ids48(&names, set).unwrap(), set);
    }
    assert_eq!(get("substitutions"), total.substitutions);
    assert_eq!(get("deletions"), total.deletions);
    assert_eq!(get("insertions"), total.insertions);
    assert_eq!(get("ref_phones"), total.reference);
    let per = json["per"].as_f64().unwrap();
    assert!((per - total.error_rate().unwrap()).abs() < 1e-12);
    // One per-utterance line per test utterance, after the header.
    let tsv = std::fs::read_to_string(out.path().join("per-utt.tsv")).unwrap();
    assert_eq!(tsv.lines().count(), test.len() + 1);

    // The demo corpus is synthetic speech with exact labels: the model recovers the phone
    // strings with few errors. Measured: 7.42 % (S 92, D 13, I 82 of 2520) with the default
    // options; without the bigram (--lm-weight 0) 17.3 %, with a pruning beam of 3 23.5 %.
    // Training and decoding are deterministic (seeded), so 10 % only leaves room for
    // floating-point differences between machines while failing a decoder that loses its LM.
    eprintln!("tiny demo GMM: PER {:.2}% {total:?}", 100.0 * per);
    assert!(per < 0.10, "PER {per}");
    // Measured: 83 of the 84 reach the final state with the default beam; dr5-mkal2/sx63 ends
    // in a pruned hypothesis since speaker CMN pools each speaker's SA sentences too.
    let stuck = scored
        .decoding
        .as_ref()
        .unwrap()
        .utts
        .iter()
        .filter(|u| !u.reached_final)
        .count();
    assert!(
        stuck <= 1,
        "{stuck} utterances did not reach the final state"
    );
}

#[test]
fn the_decoding_grid_contains_the_configured_point_and_chooses_its_best() {
    let (trained, _) = tiny();
    let env = env();
    let cfg = DecodeConfig::default();
    let plain = run::score(&env, trained, Some(&cfg), &TuneConfig::off()).unwrap();
    let grid = TuneConfig {
        acoustic_scales: vec![0.5, cfg.acoustic_scale],
        insertion_penalties: vec![cfg.insertion_penalty, -2.0],
    };
    let tuned = run::score(&env, trained, Some(&cfg), &grid).unwrap();
    let d = tuned.decoding.as_ref().unwrap();
    let t = d.tuning.as_ref().unwrap();
    assert_eq!(t.points.len(), 4);
    // The grid's point at the configured settings decodes exactly as the plain decode does.
    assert_eq!(t.test[2], plain.decoding.as_ref().unwrap().totals);
    assert_eq!(d.totals, plain.decoding.as_ref().unwrap().totals);
    // The demo has no dev speakers: the best point on test, said to be chosen there.
    assert!(t.dev.is_empty());
    let chosen = tuned.result("tiny", trained).unwrap().tuned.unwrap();
    assert_eq!(chosen.chosen_on, Split::Test);
    assert_eq!(chosen.points, 4);
    let best = t
        .test
        .iter()
        .map(|c| c.error_rate().unwrap())
        .fold(f64::INFINITY, f64::min);
    assert_eq!(chosen.per, best);
    let i = t
        .test
        .iter()
        .position(|c| c.error_rate().unwrap() == best)
        .unwrap();
    assert_eq!(chosen.acoustic_scale, t.points[i].acoustic_scale);
    assert_eq!(chosen.insertion_penalty, t.points[i].insertion_penalty);
    // tuning.tsv has a line per point.
    let out = tempfile::tempdir().unwrap();
    d.write(out.path()).unwrap();
    let tsv = std::fs::read_to_string(out.path().join("tuning.tsv")).unwrap();
    assert_eq!(tsv.lines().count(), 5);
}

#[test]
fn aligned_phn_files_read_back_and_agree_with_the_synthetic_times() {
    let (trained, _) = tiny();
    let env = env();
    let out = tempfile::tempdir().unwrap();
    let utts = env.utterances(Split::Test);
    let s = align_corpus(
        &env,
        trained,
        &utts,
        &trained.pipeline.hmm.align,
        out.path(),
    )
    .unwrap();
    assert_eq!(s.aligned, utts.len(), "skipped: {:?}", s.skipped);
    let b = s.boundaries.unwrap();
    eprintln!("tiny demo GMM alignment: {b:?}");
    assert!(b.within_20ms >= 90.0, "{b:?}");
    assert!(out.path().join("alignment.json").is_file());

    let set = PhoneSet::timit();
    let extractor = Extractor::new(&trained.pipeline).unwrap();
    let geom = extractor.frontend.framing.geometry;
    for u in &utts {
        let phn = out.path().join(format!("{}.phn", u.id));
        let segs = timit::read_phn(&phn, set).unwrap();
        // Same transcript as the hand labels (61-set labels, q deleted on both sides).
        let want = phones48(&u.phones, set, &u.phone_file).unwrap();
        assert_eq!(phones48(&segs, set, &phn).unwrap(), want, "{}", u.id);
        // Labelled again, every frame gets the phone and state of the state alignment.
        let num_samples = extractor.read_utterance(u).unwrap().samples.len() as u64;
        let mut read_back = (*u).clone();
        read_back.phones = segs;
        let labels = frame_labels(&read_back, num_samples, &geom, set).unwrap();
        let states = std::fs::read_to_string(out.path().join(format!("{}.states", u.id))).unwrap();
        for line in states.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (a, b): (usize, usize) = (f[0].parse().unwrap(), f[1].parse().unwrap());
            let phone = set.p48.id(f[3]).unwrap();
            for t in a..b {
                assert_eq!(labels.frames[t].unwrap().phone, phone, "{} frame {t}", u.id);
            }
        }
        let tg = asrpipe::corpus::textgrid::read(&out.path().join(format!("{}.TextGrid", u.id)))
            .unwrap();
        assert_eq!(tg.tiers[0].name(), "phones");
    }
    // The figure of one aligned utterance; an utterance that was not aligned is an error.
    let u = utts[0];
    let png = out.path().join("one.png");
    plot_alignment(u, &out.path().join(format!("{}.phn", u.id)), &png).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    assert!(plot_alignment(u, &out.path().join("missing.phn"), &png).is_err());
}

#[test]
fn align_refuses_to_write_into_its_inputs() {
    let (trained, dir) = tiny();
    let env = env();
    let utts = env.utterances(Split::Test);
    let cfg = trained.pipeline.hmm.align.clone();
    let loaded = Trained::load(dir).unwrap();
    let into_model = align_corpus(&env, &loaded, &utts[..1], &cfg, &dir.join("ali"));
    let msg = into_model.unwrap_err().to_string();
    assert!(msg.contains("overlaps an input"), "{msg}");
    let into_corpus = align_corpus(&env, trained, &utts[..1], &cfg, &corpus().root.join("x"));
    assert!(into_corpus.is_err());
}

#[test]
fn a_model_without_hmms_is_refused_for_decoding_but_scores_frames() {
    let (_, dir) = tiny();
    let old = tempfile::tempdir().unwrap();
    for f in [
        "model.safetensors",
        "model.json",
        "pipeline.yaml",
        "targets.json",
        "about.json",
    ] {
        std::fs::copy(dir.join(f), old.path().join(f)).unwrap();
    }
    let trained = Trained::load(old.path()).unwrap();
    assert!(trained.hmm.is_none());
    let env = env();
    let err = run::score(
        &env,
        &trained,
        Some(&DecodeConfig::default()),
        &TuneConfig::off(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("Retrain") && err.contains("--no-decode"),
        "{err}"
    );
    assert!(
        run::score(&env, &trained, None, &TuneConfig::off())
            .unwrap()
            .decoding
            .is_none()
    );

    // The command line says the same, and --no-decode works.
    let cli = |extra: &[&str]| {
        let mut c = Command::new(bin());
        c.args(["eval", "-q", "--model"])
            .arg(old.path())
            .arg("--cache")
            .arg(cache())
            .args(extra);
        c.output().unwrap()
    };
    let o = cli(&[]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("retrain") || stderr.contains("Retrain"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let o = cli(&["--no-decode"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // A damaged hmm.json is an error naming it, not a silent frame-only run.
    std::fs::write(old.path().join("hmm.json"), "{").unwrap();
    std::fs::copy(dir.join("lm.json"), old.path().join("lm.json")).unwrap();
    let msg = Trained::load(old.path()).unwrap_err().to_string();
    assert!(msg.contains("hmm.json"), "{msg}");
}

#[test]
fn bad_decoding_options_are_refused_before_any_work() {
    for (flags, want) in [
        (&["--beam", "-1"][..], "beam must be a number > 0"),
        (
            &["--lm-weight", "NaN"][..],
            "lm_weight must be a number >= 0",
        ),
        (
            &["--acoustic-scale", "0"][..],
            "acoustic_scale must be a number > 0",
        ),
        (&["--no-decode", "--beam", "5"][..], "--no-decode"),
    ] {
        // A corpus that does not exist: the options must be refused before it is opened.
        let o = Command::new(bin())
            .args(["eval", "-q", "--corpus", "/nonexistent/corpus"])
            .args(flags)
            .output()
            .unwrap();
        assert!(!o.status.success());
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.contains(want), "{flags:?}: {stderr}");
        assert!(!stderr.contains("/nonexistent"), "{flags:?}: {stderr}");
    }
}

#[test]
fn hmm_section_is_validated_with_file_and_line() {
    let base = asrpipe::pipeline::KALDI_MFCC_GMM_YAML;
    let text = format!(
        "{base}hmm:\n  decode: {{ lm_weight: 2 }}\n  topology: {{ states_per_phone: 4 }}\n"
    );
    let lines = base.lines().count();
    let err = Pipeline::parse(&text, Path::new("p.yaml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains(&format!("p.yaml:{}", lines + 3)), "{err}");
    assert!(err.contains("states_per_phone must be 3"), "{err}");
    let text = format!("{base}hmm:\n  decode: {{ beam: -2 }}\n");
    let err = Pipeline::parse(&text, Path::new("p.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("p.yaml:{}", lines + 2)) && err.contains("beam"),
        "{err}"
    );
    // Speaker-adaptive training: off by default, refused by line when on without EM passes.
    assert_eq!(
        Pipeline::parse(base, Path::new("p.yaml"))
            .unwrap()
            .hmm
            .sat
            .rounds,
        0
    );
    let text =
        format!("{base}hmm:\n  align: {{ beam: 12 }}\n  sat: {{ rounds: 2, em_passes: 0 }}\n");
    let err = Pipeline::parse(&text, Path::new("p.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("p.yaml:{}", lines + 3))
            && err.contains("hmm.sat: sat options: em_passes (0)"),
        "{err}"
    );
    // Flat-start options: refused by line when Baum-Welch would leave no first pass.
    let text = format!(
        "{base}hmm:\n  align: {{ beam: 12 }}\n  flat_start: {{ iterations: 5, mixup_iterations: 3, baum_welch_passes: 5 }}\n"
    );
    let err = Pipeline::parse(&text, Path::new("p.yaml"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("p.yaml:{}", lines + 3))
            && err.contains("hmm.flat_start: flat-start options: baum_welch_passes (5)"),
        "{err}"
    );
    // A valid section round-trips through the YAML stored with models.
    let text = format!(
        "{base}hmm:\n  decode: {{ lm_weight: 2.5, insertion_penalty: -1 }}\n  sat: {{ rounds: 2 }}\n  \
         flat_start: {{ baum_welch_passes: 3, seed: 9 }}\n"
    );
    let p = Pipeline::parse(&text, Path::new("p.yaml")).unwrap();
    assert_eq!(p.hmm.decode.lm_weight, 2.5);
    assert_eq!(p.hmm.sat.rounds, 2);
    assert_eq!(
        (
            p.hmm.flat_start.baum_welch_passes,
            p.hmm.flat_start.seed,
            p.hmm.flat_start.iterations
        ),
        (3, 9, 40)
    );
    assert!(
        p.describe_hmm()
            .contains("the first 3 after the first by Baum-Welch")
    );
    let back = Pipeline::parse(&p.to_yaml(), Path::new("q.yaml")).unwrap();
    assert_eq!(back.hmm, p.hmm);
}
