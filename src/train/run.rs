//! One training/evaluation run: corpus + pipeline (with its `classifier:` section) -> a trained
//! model directory and a scored test set. GMM and DNN share everything here but the training call.
//!
//! A model directory holds `model.safetensors` + `model.json` (the classifier's own files),
//! `pipeline.yaml` (the chain it reads, already cut at `from`), `targets.json` (the tied states
//! it predicts) and `about.json` (what it is, how it was trained).

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{Axis, concatenate};
use serde::{Deserialize, Serialize};

use crate::corpus::{Corpus, Split, SplitOptions, Splits, Utterance};
use crate::error::{Error, Result};
use crate::io::cache::FeatureCache;
use crate::model::Classifier;
use crate::model::dnn::{self, Dnn, EpochStats};
use crate::model::gmm::GmmClassifier;
use crate::model::tree::StatesConfig;
use crate::pipeline::Pipeline;
use crate::pipeline::classifier::{ClassifierConfig, Kind};
use crate::pipeline::extractor::Extractor;
use crate::train::dataset::{self, FrameSet};
use crate::train::eval::{self, Evaluation};
use crate::train::targets::Targets;

/// What a run reports while it works; the CLI draws progress bars from it.
pub trait Observer: Sync {
    /// A new phase with `total` steps (0 = unknown).
    fn begin(&self, _what: &str, _total: u64) {}
    /// One step done, with an optional status line.
    fn step(&self, _msg: Option<String>) {}
    fn end(&self) {}
}

/// An observer that says nothing.
pub struct Quiet;
impl Observer for Quiet {}

/// Where a run reads from.
pub struct Env<'a> {
    pub corpus: &'a Corpus,
    pub cache: Option<FeatureCache>,
    pub observer: &'a dyn Observer,
}

impl Env<'_> {
    fn utterances(&self, split: Split) -> Vec<&Utterance> {
        Splits::for_corpus(self.corpus).utterances(self.corpus, split, &SplitOptions::default())
    }

    /// Features and labels of `utts` through `extractor`, with a progress phase.
    pub fn load(&self, what: &str, utts: &[&Utterance], extractor: &Extractor) -> Result<FrameSet> {
        self.observer.begin(what, utts.len() as u64);
        let set = dataset::load(self.corpus, utts, extractor, self.cache.as_ref(), || {
            self.observer.step(None)
        });
        self.observer.end();
        set
    }

    /// The tied-state targets for this corpus, grown on its training split (cached by corpus,
    /// training utterances and settings).
    pub fn targets(&self, cfg: &StatesConfig) -> Result<Targets> {
        let tree_pipeline = Pipeline::kaldi_mfcc_gmm();
        let train = self.utterances(Split::Train);
        let key = {
            let mut h = blake3::Hasher::new();
            let root = std::fs::canonicalize(&self.corpus.root).unwrap_or(self.corpus.root.clone());
            h.update(root.to_string_lossy().as_bytes());
            for u in &train {
                h.update(u.id.as_bytes());
                h.update(&[0]);
            }
            h.update(serde_json::to_string(cfg).expect("serialisable").as_bytes());
            h.update(tree_pipeline.chain_hash().as_bytes());
            h.update(
                serde_json::to_string(&tree_pipeline.post)
                    .expect("serialisable")
                    .as_bytes(),
            );
            for p in [&cfg.questions, &cfg.map].into_iter().flatten() {
                h.update(&std::fs::read(p).map_err(|e| Error::io(p, e))?);
            }
            h.finalize().to_hex()[..16].to_string()
        };
        let cached = self
            .cache
            .as_ref()
            .map(|c| c.dir().join("targets").join(format!("{key}.json")));
        if let Some(path) = &cached
            && let Ok(t) = Targets::load(path)
        {
            return Ok(t);
        }
        let extractor = Extractor::new(&tree_pipeline)?;
        let set = self.load("tree feats", &train, &extractor)?;
        self.observer.begin("tying tree", 0);
        let targets = Targets::build(&set, cfg);
        self.observer.end();
        let targets = targets?;
        if let Some(path) = &cached {
            // A cache that cannot be written only costs time.
            let _ = targets.save(path);
        }
        Ok(targets)
    }
}

/// A trained classifier of either family.
#[derive(Debug, Clone)]
pub enum Model {
    Gmm(Box<GmmClassifier>),
    Dnn(Box<Dnn>),
}

impl Model {
    pub fn classifier(&self) -> &dyn Classifier {
        match self {
            Model::Gmm(m) => m.as_ref(),
            Model::Dnn(m) => m.as_ref(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Model::Gmm(_) => "gmm",
            Model::Dnn(_) => "dnn",
        }
    }

    /// Short description: Gaussians per state, or the hidden layers.
    pub fn spec(&self) -> String {
        match self {
            Model::Gmm(m) => {
                // Parameters per Gaussian: mean and variance per dimension, and a weight.
                let g = m.num_params() / (2 * m.input_dim() + 1);
                format!("{:.1} gauss/state", g as f64 / m.num_classes() as f64)
            }
            Model::Dnn(m) => {
                let a = m.arch();
                format!("{} ctx{}", dnn::hidden_spec(&a.hidden), a.context)
            }
        }
    }
}

/// Facts about a trained model, stored as `about.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct About {
    pub kind: String,
    pub spec: String,
    /// Stage the classifier reads.
    pub from: String,
    pub pipeline: String,
    pub corpus: PathBuf,
    pub input_dim: usize,
    pub tied_states: usize,
    pub params: usize,
    pub train_frames: usize,
    pub train_seconds: f64,
    pub seed: u64,
    /// Per-epoch statistics (DNN only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epochs: Vec<EpochStats>,
}

/// A model with everything needed to use it.
#[derive(Debug, Clone)]
pub struct Trained {
    pub model: Model,
    /// The chain the model reads (cut at `from`, post-processing included).
    pub pipeline: Pipeline,
    pub targets: Targets,
    pub about: About,
}

fn files(dir: &Path) -> [PathBuf; 4] {
    [
        dir.join("model.safetensors"),
        dir.join("pipeline.yaml"),
        dir.join("targets.json"),
        dir.join("about.json"),
    ]
}

impl Trained {
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let [model, pipeline, targets, about] = files(dir);
        match &self.model {
            Model::Gmm(m) => m.save(&model)?,
            Model::Dnn(m) => m.save(&model)?,
        }
        crate::io::atomic::write_bytes(&pipeline, self.pipeline.to_yaml().as_bytes())?;
        self.targets.save(&targets)?;
        crate::io::json::write_json(&about, &self.about)
    }

    /// Read a model directory, checking that its parts fit together.
    pub fn load(dir: &Path) -> Result<Trained> {
        if !dir.is_dir() {
            return Err(Error::format(
                dir,
                "not a model directory (expected model.safetensors, pipeline.yaml, targets.json, about.json)",
            ));
        }
        let [model_path, pipeline_path, targets_path, about_path] = files(dir);
        let about: About = crate::io::json::read_json(&about_path)?;
        let pipeline = Pipeline::load(&pipeline_path)?;
        let targets = Targets::load(&targets_path)?;
        let dim = Extractor::new(&pipeline)?.dim();
        let model = match about.kind.as_str() {
            "gmm" => Model::Gmm(Box::new(GmmClassifier::load_for_dim(&model_path, dim)?)),
            "dnn" => Model::Dnn(Box::new(Dnn::load_for(&model_path, dim)?)),
            k => {
                return Err(Error::format(
                    &about_path,
                    format!("unknown model kind `{k}` (gmm or dnn)"),
                ));
            }
        };
        // The loaders above already refuse a model whose input dimension the pipeline does not give.
        let c = model.classifier();
        if c.num_classes() != targets.num_states() {
            return Err(Error::format(
                &model_path,
                format!(
                    "the model predicts {} classes but {} has {} tied states",
                    c.num_classes(),
                    targets_path.display(),
                    targets.num_states()
                ),
            ));
        }
        Ok(Trained {
            model,
            pipeline,
            targets,
            about,
        })
    }
}

/// The chain a classifier reads: `pipeline` cut at its `classifier.from`, if any.
pub fn classifier_pipeline(pipeline: &Pipeline) -> Result<Pipeline> {
    let cfg = pipeline.classifier.clone().unwrap_or_default();
    let mut cut = match cfg.from {
        Some(from) => pipeline.until(from)?,
        None => pipeline.clone(),
    };
    cut.classifier = Some(cfg);
    Ok(cut)
}

/// Train the classifier `pipeline` describes on the corpus's training split. `work_dir` (if any)
/// receives DNN checkpoints, so that a killed run resumes.
pub fn train(
    env: &Env,
    pipeline: &Pipeline,
    targets: &Targets,
    work_dir: Option<&Path>,
) -> Result<Trained> {
    let mut pipeline = classifier_pipeline(pipeline)?;
    let cfg: ClassifierConfig = pipeline.classifier.clone().unwrap_or_default();
    let kind = cfg.kind().map_err(|e| {
        Error::at_line(
            &pipeline.path,
            pipeline.classifier_line,
            format!("classifier: {e}"),
        )
    })?;
    let extractor = Extractor::new(&pipeline)?;
    if matches!(kind, Kind::Dnn(_)) && pipeline.post.splice.context > 0 {
        return Err(Error::format(
            &pipeline.path,
            "post.splice is set, but the DNN splices frames itself: set classifier.dnn.context instead",
        ));
    }
    let train_utts = env.utterances(Split::Train);
    let mut train_set = env.load("train feats", &train_utts, &extractor)?;
    let n = targets.num_states();
    let started = Instant::now();
    let (model, epochs, seed) = match kind {
        Kind::Gmm(gcfg) => {
            let views: Vec<_> = train_set.utts.iter().map(|u| u.feats.view()).collect();
            let x = concatenate(Axis(0), &views).map_err(|e| Error::invalid(e.to_string()))?;
            let labels: Vec<u32> = train_set
                .utts
                .iter()
                .flat_map(|u| targets.frame_targets(&u.labels))
                .map(|t| t.unwrap_or(u32::MAX))
                .collect();
            let total = gcfg.iterations as u64;
            env.observer.begin("GMM EM", total);
            let m = GmmClassifier::train(x.view(), &labels, n, &gcfg, |p| {
                env.observer.step(Some(format!(
                    "iter {}/{} {} gauss, log-lik/frame {:.3}",
                    p.iteration, p.total, p.gaussians, p.log_likelihood
                )))
            });
            env.observer.end();
            (Model::Gmm(Box::new(m?)), Vec::new(), gcfg.seed)
        }
        Kind::Dnn(_) => {
            let dcfg = cfg.resolve_dnn(extractor.dim(), n)?;
            // Held-out frames for learning-rate halving and early stopping: the dev split when
            // the corpus has one, else every 10th training utterance.
            let dev_utts = env.utterances(Split::Dev);
            let dev_set = if dev_utts.is_empty() {
                let (dev, rest) = std::mem::take(&mut train_set).partition(|i| i % 10 == 9);
                train_set = rest;
                dev
            } else {
                env.load("dev feats", &dev_utts, &extractor)?
            };
            let labels = |s: &FrameSet| -> Vec<Vec<u32>> {
                s.utts
                    .iter()
                    .map(|u| {
                        targets
                            .frame_targets(&u.labels)
                            .into_iter()
                            .map(|t| t.unwrap_or(u32::MAX))
                            .collect()
                    })
                    .collect()
            };
            let (tl, dl) = (labels(&train_set), labels(&dev_set));
            let train_data = dnn::Dataset::new(
                train_set.utts.iter().map(|u| u.feats.view()).collect(),
                tl.iter().map(Vec::as_slice).collect(),
            )?;
            let dev_data = dnn::Dataset::new(
                dev_set.utts.iter().map(|u| u.feats.view()).collect(),
                dl.iter().map(Vec::as_slice).collect(),
            )?;
            let ckpt = work_dir.map(|d| d.join("checkpoints"));
            env.observer
                .begin(&format!("DNN {}", dcfg.hidden), dcfg.epochs as u64);
            let mut on_progress = |p: &dnn::Progress<'_>| {
                if let dnn::Progress::Epoch(e) = p {
                    env.observer.step(Some(format!(
                        "epoch {} lr {:.2e} loss {:.3} dev acc {} {:.0} frames/s",
                        e.epoch,
                        e.lr,
                        e.train_loss,
                        e.dev_accuracy
                            .map_or("-".into(), |a| format!("{:.1}%", 100.0 * a)),
                        e.frames_per_sec
                    )));
                }
                ControlFlow::Continue(())
            };
            let trained = dnn::train(
                &dcfg,
                n,
                &train_data,
                Some(&dev_data),
                dnn::TrainOptions {
                    checkpoint_dir: ckpt.as_deref(),
                    on_progress: Some(&mut on_progress),
                    ..Default::default()
                },
            );
            env.observer.end();
            let trained = trained?;
            // The stored pipeline names the net actually trained (match_params resolved).
            let mut resolved = cfg.clone();
            resolved.dnn = Some(dcfg.clone());
            resolved.match_params = None;
            pipeline.classifier = Some(resolved);
            (
                Model::Dnn(Box::new(trained.dnn)),
                trained.history,
                dcfg.seed,
            )
        }
    };
    let train_seconds = started.elapsed().as_secs_f64();
    let c = model.classifier();
    let about = About {
        kind: model.kind().into(),
        spec: model.spec(),
        from: pipeline.output_kind().name().into(),
        pipeline: pipeline.name.clone(),
        corpus: env.corpus.root.clone(),
        input_dim: c.input_dim(),
        tied_states: n,
        params: c.num_params(),
        train_frames: train_set.num_labelled(),
        train_seconds,
        seed,
        epochs,
    };
    Ok(Trained {
        model,
        pipeline,
        targets: targets.clone(),
        about,
    })
}

/// Score a trained model on the corpus's test split.
pub fn evaluate(env: &Env, trained: &Trained) -> Result<(Evaluation, f64)> {
    let extractor = Extractor::new(&trained.pipeline)?;
    let test = env.utterances(Split::Test);
    let set = env.load("test feats", &test, &extractor)?;
    let started = Instant::now();
    env.observer.begin("scoring", 0);
    let e = eval::evaluate(trained.model.classifier(), &set, &trained.targets);
    env.observer.end();
    Ok((e?, started.elapsed().as_secs_f64()))
}

/// One row of results: what was trained and how well it does on the test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub name: String,
    #[serde(flatten)]
    pub about: About,
    pub test_frames: usize,
    pub state_accuracy: f64,
    pub phone_accuracy: f64,
    /// Test frames whose phone state never occurred in training.
    pub unseen_frames: usize,
    pub eval_seconds: f64,
}

impl RunResult {
    pub fn new(name: &str, trained: &Trained, e: &Evaluation, eval_seconds: f64) -> RunResult {
        RunResult {
            name: name.into(),
            about: trained.about.clone(),
            test_frames: e.frames,
            state_accuracy: e.state_accuracy(),
            phone_accuracy: e.phone_accuracy(),
            unseen_frames: e.unseen,
            eval_seconds,
        }
    }
}

/// Write a run directory: `results.json`, `confusion.csv`, and the model under `model/`.
pub fn write_run(dir: &Path, result: &RunResult, e: &Evaluation, trained: &Trained) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    trained.save(&dir.join("model"))?;
    eval::write_confusion_csv(&dir.join("confusion.csv"), e)?;
    let names = crate::corpus::PhoneSet::timit().p39.names();
    crate::viz::confusion_matrix(
        &dir.join("confusion.png"),
        e.confusion.mapv(|c| c as f64).view(),
        names,
        &format!(
            "{}: 39-phone frame confusions (rows: reference), {:.1}% correct",
            result.name,
            100.0 * result.phone_accuracy
        ),
    )?;
    crate::io::json::write_json(&dir.join("results.json"), result)
}

/// Results as an aligned text table (one row per run).
pub fn table(results: &[RunResult]) -> String {
    use std::fmt::Write as _;
    let w = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut s = format!(
        "{:<w$}  {:<4}  {:<11}  {:<22}  {:>10}  {:>5}  {:>9}  {:>11}  {:>8}\n",
        "run", "kind", "from", "model", "params", "tied", "state acc", "phone39 acc", "train s"
    );
    for r in results {
        let a = &r.about;
        let _ = writeln!(
            s,
            "{:<w$}  {:<4}  {:<11}  {:<22}  {:>10}  {:>5}  {:>8.1}%  {:>10.1}%  {:>8.1}",
            r.name,
            a.kind,
            a.from,
            a.spec,
            a.params,
            a.tied_states,
            100.0 * r.state_accuracy,
            100.0 * r.phone_accuracy,
            a.train_seconds
        );
    }
    s
}
