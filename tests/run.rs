//! Training and evaluation end to end: tied-state targets, GMM and DNN runs, model directories,
//! experiments that resume.

mod common;

use std::path::Path;

use asrpipe::corpus::Corpus;
use asrpipe::frontend::StageKind;
use asrpipe::io::cache::FeatureCache;
use asrpipe::model::dnn::DnnConfig;
use asrpipe::model::gmm::GmmConfig;
use asrpipe::model::tree::StatesConfig;
use asrpipe::pipeline::Pipeline;
use asrpipe::study::experiment::{self, Experiment};
use asrpipe::train::eval::Evaluation;
use asrpipe::train::targets::Targets;
use asrpipe::train::{self as run, Env, Trained};

fn env<'a>(corpus: &'a Corpus, cache: &Path) -> Env<'a> {
    Env::new(corpus).cache(FeatureCache::new(cache))
}

fn states(tied: usize) -> StatesConfig {
    StatesConfig {
        tied,
        ..StatesConfig::default()
    }
}

fn gmm_pipeline(gaussians: usize) -> Pipeline {
    let mut p = Pipeline::kaldi_mfcc_gmm();
    let c = p.classifier.as_mut().unwrap();
    c.gmm = Some(GmmConfig {
        gaussians_per_state: gaussians,
        ..GmmConfig::default()
    });
    p
}

fn train_eval(env: &Env, p: &Pipeline, t: &Targets) -> (Trained, Evaluation) {
    let trained = run::train(env, p, t, None).unwrap();
    let (e, _) = run::evaluate(env, &trained).unwrap();
    (trained, e)
}

#[test]
fn gmm_on_the_timit_sample_beats_one_gaussian_per_state_and_chance() {
    let Some(dir) = common::timit_sample() else {
        return;
    };
    let corpus = Corpus::open(&dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = env(&corpus, tmp.path());
    // Monophone states (48 x 3): with 8 minutes of training speech, tied triphone states have
    // too few frames each for mixtures to pay off.
    let targets = env.targets(&states(144)).unwrap();
    assert_eq!(targets.num_states(), 144);
    // Every one of the 4 test speakers' frames is scored: 8 SI/SX sentences each.
    let (_, one) = train_eval(&env, &gmm_pipeline(1), &targets);
    let (mix, e) = train_eval(&env, &gmm_pipeline(4), &targets);
    eprintln!(
        "1 Gaussian: state {:.4} phone {:.4}; {}: state {:.4} phone {:.4}",
        one.state_accuracy(),
        one.phone_accuracy(),
        mix.about.spec,
        e.state_accuracy(),
        e.phone_accuracy()
    );
    assert_eq!(e.frames, one.frames);
    assert!(e.frames > 9000, "{} test frames", e.frames);
    // Chance on 39 phones is under 20 % even always guessing silence; tied states far less.
    assert!(e.phone_accuracy() > 0.45, "39-phone {}", e.phone_accuracy());
    assert!(e.state_accuracy() > 0.25, "state {}", e.state_accuracy());
    assert!(e.state_accuracy() > one.state_accuracy() + 0.01);
    assert!(
        e.phone_accuracy() > one.phone_accuracy() + 0.005,
        "mixture {} vs single Gaussian {}",
        e.phone_accuracy(),
        one.phone_accuracy()
    );

    // A model directory reads back to identical scores.
    let out = tmp.path().join("model");
    mix.save(&out).unwrap();
    let back = Trained::load(&out).unwrap();
    let (e2, _) = run::evaluate(&env, &back).unwrap();
    assert_eq!(e, e2);
}

#[test]
fn a_model_whose_pipeline_changed_is_refused_with_the_file_named() {
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = env(&corpus, tmp.path());
    let targets = env.targets(&states(144)).unwrap();
    let mut p = gmm_pipeline(1);
    p.classifier
        .as_mut()
        .unwrap()
        .gmm
        .as_mut()
        .unwrap()
        .iterations = 1;
    let trained = run::train(&env, &p, &targets, None).unwrap();
    let dir = tmp.path().join("m");
    trained.save(&dir).unwrap();
    let yaml = std::fs::read_to_string(dir.join("pipeline.yaml")).unwrap();
    std::fs::write(
        dir.join("pipeline.yaml"),
        yaml.replace("order: 2", "order: 1"),
    )
    .unwrap();
    let err = Trained::load(&dir).unwrap_err().to_string();
    assert!(
        err.contains("model.json") || err.contains("model.safetensors"),
        "{err}"
    );
    assert!(err.contains("39") && err.contains("26"), "{err}");
}

#[test]
fn a_dnn_from_the_spectrogram_trains_scores_and_round_trips() {
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = env(&corpus, tmp.path());
    let targets = env.targets(&states(144)).unwrap();
    let mut p = Pipeline::load(Path::new("pipelines/kaldi-mfcc-dnn.yaml")).unwrap();
    let c = p.classifier.as_mut().unwrap();
    c.from = Some(StageKind::Spectrogram);
    c.dnn = Some(DnnConfig {
        hidden: "1x64".parse().unwrap(),
        context: 2,
        epochs: 2,
        ..DnnConfig::default()
    });
    let (trained, e) = train_eval(&env, &p, &targets);
    assert_eq!(
        trained.about.from,
        asrpipe::frontend::StageKind::Spectrogram
    );
    assert_eq!(trained.about.input_dim, 257);
    // 257 x 5 inputs -> 64 -> tied states.
    let n = targets.num_states();
    assert_eq!(trained.about.params, 257 * 5 * 64 + 64 + 64 * n + n);
    assert!(e.phone_accuracy() > 0.3, "{}", e.phone_accuracy());
    let dir = tmp.path().join("dnn");
    trained.save(&dir).unwrap();
    let (e2, _) = run::evaluate(&env, &Trained::load(&dir).unwrap()).unwrap();
    assert_eq!(e, e2);
}

#[test]
fn an_experiment_resumes_without_redoing_finished_runs() {
    let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let env = env(&corpus, &tmp.path().join("cache"));
    let pipelines = std::fs::canonicalize("pipelines").unwrap();
    let yaml = format!(
        "name: tiny\nstates: {{ tied: 144 }}\ndefaults: {{ gmm: {{ iterations: 1, gaussians_per_state: 1 }} }}\n\
         runs:\n  - {{ name: a, pipeline: {p}/kaldi-mfcc-gmm.yaml }}\n  - {{ name: b, pipeline: {p}/kaldi-mfcc-gmm.yaml, gmm: {{ gaussians_per_state: 2 }} }}\n",
        p = pipelines.display()
    );
    let file = tmp.path().join("tiny.yaml");
    std::fs::write(&file, yaml).unwrap();
    let exp = Experiment::load(&file).unwrap();
    let out = tmp.path().join("report");
    let mut log = Vec::new();
    let first = experiment::run_all(&env, &exp, &out, |m| log.push(m.to_string())).unwrap();
    assert!(log.iter().all(|m| m.ends_with("training")), "{log:?}");
    let stamp = |name: &str| {
        std::fs::metadata(out.join("runs").join(name).join("model/model.safetensors"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let before = stamp("a");
    // Remove b's results: it must be redone, a must not.
    std::fs::remove_file(out.join("runs/b/results.json")).unwrap();
    let mut log = Vec::new();
    let second = experiment::run_all(&env, &exp, &out, |m| log.push(m.to_string())).unwrap();
    assert!(
        log[0].contains("a: done before with the same inputs, skipped"),
        "{log:?}"
    );
    assert!(log[1].contains("b: training"), "{log:?}");
    assert_eq!(stamp("a"), before);
    assert_eq!(first[0].result, second[0].result);
    assert_eq!(
        first[1].result.state_accuracy,
        second[1].result.state_accuracy
    );

    // The same corpus copied elsewhere: the same bytes, so the results stand.
    let copy = tmp.path().join("copy");
    copy_dir(&Corpus::demo_dir(), &copy);
    let corpus2 = Corpus::open(&copy).unwrap();
    let env2 = self::env(&corpus2, &tmp.path().join("cache"));
    let mut log = Vec::new();
    experiment::run_all(&env2, &exp, &out, |m| log.push(m.to_string())).unwrap();
    assert!(log.iter().all(|m| m.contains("skipped")), "{log:?}");
    // One test utterance's audio replaced by another's (same speaker, labels kept): every run
    // trains again and says why; nothing stale is reused.
    let spk = std::fs::read_dir(&copy)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("sa1.flac").exists())
        .unwrap();
    std::fs::copy(spk.join("sa2.flac"), spk.join("sa1.flac")).unwrap();
    let corpus3 = Corpus::open(&copy).unwrap();
    let env3 = self::env(&corpus3, &tmp.path().join("cache"));
    let mut log = Vec::new();
    experiment::run_all(&env3, &exp, &out, |m| log.push(m.to_string())).unwrap_or_default();
    assert!(
        log.iter()
            .all(|m| m.contains("training again") && m.contains("the corpus's content")),
        "{log:?}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
