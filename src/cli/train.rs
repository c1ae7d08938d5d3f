//! `asrpipe train` and `asrpipe eval`: flags override the pipeline's `classifier:` section.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use asrpipe::corpus::Corpus;
use asrpipe::frontend::StageKind;
use asrpipe::io::cache::FeatureCache;
use asrpipe::model::dnn::DnnConfig;
use asrpipe::model::gmm::GmmConfig;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::classifier::ClassifierConfig;
use asrpipe::train::{self as run, Env, RunResult, Trained};

use super::Bars;
use super::features::parse_stage;

#[derive(clap::Args)]
pub struct ClassifierArgs {
    /// Pipeline YAML with a `classifier:` section (default: pipelines/kaldi-mfcc-gmm.yaml, or
    /// pipelines/kaldi-mfcc.yaml with --dnn / --match-params).
    #[arg(long, short)]
    pipeline: Option<PathBuf>,
    /// Corpus directory or manifest (default: the embedded demo corpus).
    #[arg(long)]
    corpus: Option<PathBuf>,
    /// Feed the classifier from this stage's output; later stages are dropped.
    #[arg(long, value_parser = parse_stage)]
    from: Option<StageKind>,
    /// Train a DNN with these hidden layers: `8x1000`, `1000,500,250`.
    #[arg(long)]
    dnn: Option<String>,
    /// Train a one-hidden-layer DNN with the parameter count of this `LxW` net.
    #[arg(long)]
    match_params: Option<String>,
    /// Train a GMM with this many Gaussians per tied state.
    #[arg(long)]
    gmm: Option<usize>,
    /// Number of tied states (tree leaves).
    #[arg(long)]
    states: Option<usize>,
    /// DNN epochs (most), or GMM EM iterations.
    #[arg(long)]
    epochs: Option<usize>,
    /// DNN minibatch size.
    #[arg(long)]
    batch: Option<usize>,
    /// DNN learning rate.
    #[arg(long)]
    lr: Option<f32>,
    /// DNN frames of context on each side.
    #[arg(long)]
    context: Option<usize>,
    /// Seed of every random choice in training.
    #[arg(long)]
    seed: Option<u64>,
    /// Feature cache directory (default: $ASRPIPE_CACHE or .cache/asrpipe).
    #[arg(long)]
    cache: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    c: ClassifierArgs,
    /// Model directory to write.
    #[arg(short, long)]
    output: PathBuf,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    c: ClassifierArgs,
    /// A trained model directory to evaluate (default: train one first).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Run directory: results.json, confusion.csv/png and the model.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

impl ClassifierArgs {
    fn wants_dnn(&self) -> bool {
        self.dnn.is_some() || self.match_params.is_some()
    }

    /// The pipeline file (or default) with the flags applied to its classifier section.
    fn pipeline(&self) -> Result<Pipeline> {
        let mut p = match &self.pipeline {
            Some(path) => Pipeline::load(path)?,
            None if self.wants_dnn() => Pipeline::kaldi_mfcc(),
            None => Pipeline::kaldi_mfcc_gmm(),
        };
        let mut c: ClassifierConfig = p.classifier.clone().unwrap_or_default();
        if self.wants_dnn() && self.gmm.is_some() {
            bail!("--gmm and --dnn/--match-params ask for different classifiers: choose one");
        }
        if let Some(from) = self.from {
            c.from = Some(from);
        }
        if let Some(n) = self.states {
            c.states.tied = n;
        }
        if self.wants_dnn() {
            c.gmm = None;
            let d = c.dnn.get_or_insert_with(DnnConfig::default);
            if let Some(h) = &self.dnn {
                d.hidden = h.clone();
            }
            c.match_params = self.match_params.clone();
        } else if let Some(g) = self.gmm {
            c.dnn = None;
            c.match_params = None;
            c.gmm
                .get_or_insert_with(GmmConfig::default)
                .gaussians_per_state = g;
        } else if c.dnn.is_none() && c.match_params.is_none() {
            // No classifier asked for anywhere: the production line's GMM.
            c.gmm.get_or_insert_with(GmmConfig::default);
        }
        if let Some(g) = c.gmm.as_mut() {
            if let Some(e) = self.epochs {
                g.iterations = e;
            }
            if let Some(s) = self.seed {
                g.seed = s;
            }
        }
        if let Some(d) = c.dnn.as_mut() {
            if let Some(e) = self.epochs {
                d.epochs = e;
            }
            if let Some(b) = self.batch {
                d.batch = b;
            }
            if self.lr.is_some() {
                d.lr = self.lr;
            }
            if let Some(k) = self.context {
                d.context = k;
            }
            if let Some(s) = self.seed {
                d.seed = s;
            }
        }
        if let Some(from) = c.from
            && !p.kinds().contains(&from)
        {
            let names: Vec<&str> = p.kinds().iter().map(|k| k.name()).collect();
            bail!(
                "{}: --from {from}: the pipeline has no such stage (it has: {})",
                p.path.display(),
                names.join(", ")
            );
        }
        c.kind()?;
        p.classifier = Some(c);
        Ok(p)
    }

    fn cache(&self) -> FeatureCache {
        match &self.cache {
            Some(d) => FeatureCache::new(d),
            None => FeatureCache::default_location(),
        }
    }
}

pub fn train(a: TrainArgs) -> Result<()> {
    let pipeline = a.c.pipeline()?;
    let corpus = Corpus::open_or_demo(a.c.corpus.as_deref())?;
    let bars = Bars::default();
    let env = Env {
        corpus: &corpus,
        cache: Some(a.c.cache()),
        observer: &bars,
    };
    let cfg = pipeline.classifier.clone().unwrap_or_default();
    let targets = env.targets(&cfg.states)?;
    let trained = run::train(&env, &pipeline, &targets, Some(&a.output))?;
    trained
        .save(&a.output)
        .with_context(|| format!("writing the model to {}", a.output.display()))?;
    let ab = &trained.about;
    eprintln!(
        "{} {} from `{}`: {} parameters, {} tied states, {} training frames, {:.1} s -> {}",
        ab.kind,
        ab.spec,
        ab.from,
        ab.params,
        ab.tied_states,
        ab.train_frames,
        ab.train_seconds,
        a.output.display()
    );
    Ok(())
}

pub fn eval(a: EvalArgs) -> Result<()> {
    let corpus = Corpus::open_or_demo(a.c.corpus.as_deref())?;
    let bars = Bars::default();
    let env = Env {
        corpus: &corpus,
        cache: Some(a.c.cache()),
        observer: &bars,
    };
    let (trained, name) = match &a.model {
        Some(dir) => {
            if a.c.pipeline.is_some() || a.c.from.is_some() || a.c.wants_dnn() || a.c.gmm.is_some()
            {
                bail!(
                    "--model evaluates a trained model as it is: --pipeline, --from, --dnn and --gmm do not apply"
                );
            }
            let t = Trained::load(dir)?;
            let name = dir
                .file_name()
                .map_or("model".into(), |n| n.to_string_lossy().into_owned());
            (t, name)
        }
        None => {
            let pipeline = a.c.pipeline()?;
            let cfg = pipeline.classifier.clone().unwrap_or_default();
            let targets = env.targets(&cfg.states)?;
            let work = a.output.as_ref().map(|o| o.join("model"));
            let t = run::train(&env, &pipeline, &targets, work.as_deref())?;
            let name = a.output.as_ref().and_then(|o| o.file_name()).map_or_else(
                || format!("{}-{}", t.about.kind, t.about.from),
                |n| n.to_string_lossy().into_owned(),
            );
            (t, name)
        }
    };
    let (e, secs) = run::evaluate(&env, &trained)?;
    let result = RunResult::new(&name, &trained, &e, secs);
    if let Some(dir) = &a.output {
        run::write_run(dir, &result, &e, &trained)
            .with_context(|| format!("writing the run to {}", dir.display()))?;
    }
    super::emit(run::table(std::slice::from_ref(&result)))?;
    if result.about.kind == "dnn" {
        // Parameter counts side by side: what the production line's GMM spends on the same states.
        let g = Pipeline::kaldi_mfcc_gmm();
        let per_state = g
            .classifier
            .clone()
            .and_then(|c| c.gmm)
            .unwrap_or_default()
            .gaussians_per_state;
        let dim = asrpipe::pipeline::extractor::Extractor::new(&g)?.dim();
        eprintln!(
            "parameters: this DNN {}; the production line's GMM on the same {} states: at most {} \
             ({per_state} Gaussians per state x (2 x {dim} + 1))",
            result.about.params,
            result.about.tied_states,
            result.about.tied_states * per_state * (2 * dim + 1)
        );
    }
    eprintln!(
        "{} test frames ({} with a phone state unseen in training); corpus {}{}",
        result.test_frames,
        result.unseen_frames,
        corpus.root.display(),
        a.output.as_ref().map_or(String::new(), |d| format!(
            "; run written to {}",
            d.display()
        ))
    );
    Ok(())
}
