//! Model directories: `model.safetensors` + `model.json` (the classifier's own files),
//! `pipeline.yaml` (the chain it reads, already cut at `from`), `targets.json` (the tied states
//! it predicts), `about.json` (what it is, how it was trained) and `hmm.json` + `lm.json` (the
//! phone HMMs and bigram that decode and align with it; [`HmmModel`]), and `cmvn.json` where the
//! pipeline normalises with global statistics (those of its training set, reused as they are).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frontend::StageKind;
use crate::frontend::cmvn::{CmvnMode, CmvnStats};
use crate::model::dnn::{self, Dnn, EpochStats};
use crate::model::gmm::GmmClassifier;
use crate::model::{Classifier, ModelKind};
use crate::pipeline::Pipeline;
use crate::pipeline::extractor::Extractor;
use crate::train::env::Env;
use crate::train::hmm::HmmModel;
use crate::train::targets::Targets;

/// A trained classifier of either family.
#[derive(Debug, Clone)]
pub enum Model {
    /// Diagonal GMMs with state priors.
    Gmm(Box<GmmClassifier>),
    /// A network (MLP, optionally with a learned front end).
    Dnn(Box<Dnn>),
}

impl Model {
    /// The model as a frame classifier.
    pub fn classifier(&self) -> &dyn Classifier {
        match self {
            Model::Gmm(m) => m.as_ref(),
            Model::Dnn(m) => m.as_ref(),
        }
    }

    /// GMM or DNN.
    pub fn kind(&self) -> ModelKind {
        match self {
            Model::Gmm(_) => ModelKind::Gmm,
            Model::Dnn(_) => ModelKind::Dnn,
        }
    }

    /// The network, or an error saying that `what` needs one.
    pub fn dnn(&self, what: &str) -> Result<&Dnn> {
        match self {
            Model::Dnn(d) => Ok(d),
            Model::Gmm(_) => Err(Error::invalid(format!(
                "{what} needs a DNN model; this one is a GMM"
            ))),
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
    /// GMM or DNN.
    pub kind: ModelKind,
    /// Size in a few words: Gaussians per state, or hidden layers and splicing context.
    pub spec: String,
    /// Stage the classifier reads.
    pub from: StageKind,
    /// Pipeline name.
    pub pipeline: String,
    /// Corpus the model was trained on.
    pub corpus: PathBuf,
    /// Classifier input dimension (after post-processing, before the DNN's own splicing).
    pub input_dim: usize,
    /// Output classes.
    pub tied_states: usize,
    /// Learned parameters.
    pub params: usize,
    /// Labelled training frames.
    pub train_frames: usize,
    /// Training wall-clock time, seconds.
    pub train_seconds: f64,
    /// Seed of every random choice in training.
    pub seed: u64,
    /// Per-epoch statistics (DNN only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epochs: Vec<EpochStats>,
    /// Where the training labels came from when not the corpus's hand times (e.g. a flat start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<String>,
}

impl About {
    /// What a freshly trained `model` is and how it was trained.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &Model,
        pipeline: &Pipeline,
        env: &Env,
        tied_states: usize,
        train_frames: usize,
        train_seconds: f64,
        seed: u64,
        epochs: Vec<EpochStats>,
    ) -> About {
        let c = model.classifier();
        About {
            kind: model.kind(),
            spec: model.spec(),
            from: pipeline.output_kind(),
            pipeline: pipeline.name.clone(),
            corpus: env.corpus.root.clone(),
            input_dim: c.input_dim(),
            tied_states,
            params: c.num_params(),
            train_frames,
            train_seconds,
            seed,
            epochs,
            labels: None,
        }
    }
}

/// A model with everything needed to use it.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The classifier.
    pub model: Model,
    /// The chain the model reads (cut at `from`, post-processing included).
    pub pipeline: Pipeline,
    /// The tied-state targets it predicts.
    pub targets: Targets,
    /// Facts stored as `about.json`.
    pub about: About,
    /// The phone HMMs; `None` for a model directory written before they were stored.
    pub hmm: Option<HmmModel>,
    /// Where the model was read from (named in errors), if it was.
    pub dir: Option<PathBuf>,
    /// The global CMVN statistics of its training set (`cmvn.json`), where the pipeline's
    /// `post.cmvn` mode is `global`.
    pub cmvn: Option<CmvnStats>,
}

/// `cmvn.json`: global CMVN statistics as accumulated (frames, sums, sums of squares).
#[derive(Debug, Serialize, Deserialize)]
struct StoredCmvn {
    /// What the statistics were pooled over.
    pooled_over: String,
    frames: f64,
    sum: Vec<f64>,
    sumsq: Vec<f64>,
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
    /// Write the model directory (model, `pipeline.yaml`, `targets.json`, `about.json`), atomically
    /// per file.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let [model, pipeline, targets, about] = files(dir);
        match &self.model {
            Model::Gmm(m) => m.save(&model)?,
            Model::Dnn(m) => m.save(&model)?,
        }
        crate::io::atomic::write_bytes(&pipeline, self.pipeline.to_yaml().as_bytes())?;
        self.targets.save(&targets)?;
        if let Some(hmm) = &self.hmm {
            hmm.save(dir)?;
        }
        if let Some(st) = &self.cmvn {
            let stored = StoredCmvn {
                pooled_over: "the training split".into(),
                frames: st.count,
                sum: st.sum.to_vec(),
                sumsq: st.sumsq.to_vec(),
            };
            crate::io::json::write_json(&dir.join("cmvn.json"), &stored)?;
        }
        crate::io::json::write_json(&about, &self.about)
    }

    /// Read a model directory, checking that its parts fit together.
    pub fn load(dir: &Path) -> Result<Trained> {
        std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
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
        let model = match about.kind {
            ModelKind::Gmm => Model::Gmm(Box::new(GmmClassifier::load_for_dim(&model_path, dim)?)),
            ModelKind::Dnn => Model::Dnn(Box::new(Dnn::load_for(&model_path, dim)?)),
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
        let hmm = HmmModel::load(dir, targets.num_states())?;
        let cmvn = load_cmvn(dir, &pipeline)?;
        Ok(Trained {
            model,
            pipeline,
            targets,
            about,
            hmm,
            dir: Some(dir.to_path_buf()),
            cmvn,
        })
    }

    /// The feature extractor of the model's pipeline, with its stored global CMVN statistics.
    pub fn extractor(&self) -> Result<Extractor> {
        let mut ex = Extractor::new(&self.pipeline)?;
        ex.global_cmvn = self.cmvn.clone();
        Ok(ex)
    }

    /// The phone HMMs, or an error saying how to get them: models trained before the HMMs were
    /// stored with them have none.
    pub fn hmm(&self) -> Result<&HmmModel> {
        self.hmm.as_ref().ok_or_else(|| {
            let dir = self
                .dir
                .as_ref()
                .map_or("the model".into(), |d| d.display().to_string());
            Error::invalid(format!(
                "{dir} has no phone HMMs (hmm.json, lm.json): it was trained before decoding was \
                 added. Retrain it with `asrpipe train`, or score frames only with --no-decode"
            ))
        })
    }
}

/// `cmvn.json` of a model whose pipeline normalises with global statistics; required there
/// (without it the statistics would have to come from whatever data the model is applied to).
fn load_cmvn(dir: &Path, pipeline: &Pipeline) -> Result<Option<CmvnStats>> {
    if pipeline.post.cmvn.mode != CmvnMode::Global {
        return Ok(None);
    }
    let path = dir.join("cmvn.json");
    if !path.is_file() {
        return Err(Error::format(
            &path,
            "missing: the pipeline normalises with global CMVN statistics, which a model stores \
             from its training set; retrain the model with this version of asrpipe",
        ));
    }
    let s: StoredCmvn = crate::io::json::read_json(&path)?;
    let dim = Extractor::new(pipeline)?.chain_dim();
    let finite = s.frames.is_finite() && s.sum.iter().chain(&s.sumsq).all(|v| v.is_finite());
    if s.sum.len() != dim || s.sumsq.len() != dim || !finite || s.frames < 1.0 {
        return Err(Error::format(
            &path,
            format!(
                "statistics of {} and {} dimensions over {} frames: expected {dim} dimensions, \
                 finite values and at least one frame",
                s.sum.len(),
                s.sumsq.len(),
                s.frames
            ),
        ));
    }
    Ok(Some(CmvnStats {
        count: s.frames,
        sum: s.sum.into(),
        sumsq: s.sumsq.into(),
    }))
}
