//! `asrpipe train` and `asrpipe eval`: flags override the pipeline's `classifier:` section.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use asrpipe::frontend::StageKind;
use asrpipe::io::lock::DirLock;
use asrpipe::model::ModelKind;
use asrpipe::model::dnn::{DnnPatch, HiddenSpec};
use asrpipe::model::gmm::GmmPatch;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::classifier::{Overrides, production_gmm_budget};
use asrpipe::train::{self as run, RunResult, Trained};

use super::CorpusArgs;
use super::features::parse_stage;

#[derive(clap::Args)]
pub struct ClassifierArgs {
    /// Pipeline YAML with a `classifier:` section (default: pipelines/kaldi-mfcc-gmm.yaml, or
    /// pipelines/kaldi-mfcc.yaml with --dnn / --match-params).
    #[arg(long, short)]
    pipeline: Option<PathBuf>,
    #[command(flatten)]
    data: CorpusArgs,
    /// Feed the classifier from this stage's output; later stages are dropped.
    #[arg(long, value_parser = parse_stage)]
    from: Option<StageKind>,
    /// Train a DNN with these hidden layers: `8x1000`, `1000,500,250`, `none`.
    #[arg(long)]
    dnn: Option<HiddenSpec>,
    /// Train a one-hidden-layer DNN with the parameter count of this net (e.g. `4x512`).
    #[arg(long)]
    match_params: Option<HiddenSpec>,
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
    /// The flags that change the classifier section.
    fn overrides(&self) -> Result<Overrides> {
        if self.gmm.is_some() && (self.dnn.is_some() || self.match_params.is_some()) {
            bail!("--gmm and --dnn/--match-params ask for different classifiers: choose one");
        }
        let kind = if self.dnn.is_some() || self.match_params.is_some() {
            Some(ModelKind::Dnn)
        } else {
            self.gmm.map(|_| ModelKind::Gmm)
        };
        Ok(Overrides {
            from: self.from,
            tied_states: self.states,
            kind,
            match_params: self.match_params.clone(),
            gmm: GmmPatch {
                gaussians_per_state: self.gmm,
                ..GmmPatch::default()
            },
            dnn: DnnPatch {
                hidden: self.dnn.clone(),
                batch: self.batch,
                lr: self.lr.map(Some),
                context: self.context,
                ..DnnPatch::default()
            },
            epochs: self.epochs,
            seed: self.seed,
            ..Overrides::default()
        })
    }

    /// The pipeline file (or the default for the family asked for) with the flags applied.
    fn pipeline(&self) -> Result<Pipeline> {
        let o = self.overrides()?;
        let p = match &self.pipeline {
            Some(path) => Pipeline::load(path)?,
            None => Pipeline::default_for(o.kind),
        };
        Ok(p.with_classifier(&o)?)
    }
}

pub fn train(a: TrainArgs) -> Result<()> {
    let pipeline = a.c.pipeline()?;
    let _lock = DirLock::take(&a.output)?;
    let session = a.c.data.open()?;
    let env = session.env();
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
    let session = a.c.data.open()?;
    let _lock = a.output.as_deref().map(DirLock::take).transpose()?;
    let env = session.env();
    let (trained, name) = match &a.model {
        Some(dir) => {
            if a.c.pipeline.is_some() || a.c.overrides()? != Overrides::default() {
                bail!(
                    "--model evaluates a trained model as it is: --pipeline and the training \
                     options (--from, --dnn, --match-params, --gmm, --states, --epochs, --batch, \
                     --lr, --context, --seed) do not apply"
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
    if result.about.kind == ModelKind::Dnn {
        // Parameter counts side by side: what the production line's GMM spends on the same states.
        let g = production_gmm_budget(result.about.tied_states)?;
        eprintln!(
            "parameters: this DNN {}; the production line's GMM on the same {} states: at most {} \
             ({} Gaussians per state x (2 x {} + 1))",
            result.about.params, result.about.tied_states, g.params, g.gaussians_per_state, g.dim
        );
    }
    eprintln!(
        "{} test frames ({} with a phone state unseen in training); corpus {}{}",
        result.test_frames,
        result.unseen_frames,
        session.corpus.root.display(),
        a.output.as_ref().map_or(String::new(), |d| format!(
            "; run written to {}",
            d.display()
        ))
    );
    Ok(())
}
