//! `asrpipe train` and `asrpipe eval`: flags override the pipeline's `classifier:` section.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use asrpipe::corpus::Lexicon;
use asrpipe::corpus::Split;
use asrpipe::decode::{DecodeConfig, DecodePatch, TuneConfig};
use asrpipe::frontend::StageKind;
use asrpipe::io::atomic::StagedDir;
use asrpipe::model::ModelKind;
use asrpipe::model::dnn::{DnnPatch, HiddenSpec};
use asrpipe::model::gmm::GmmPatch;
use asrpipe::pipeline::Pipeline;
use asrpipe::pipeline::classifier::{Overrides, production_gmm_budget};
use asrpipe::train::labelled::{self, Need};
use asrpipe::train::precomputed::Precomputed;
use asrpipe::train::recipe::{self, Labels};
use asrpipe::train::{self as run, Trained};

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
    /// Features computed elsewhere (a Kaldi feats.scp from `asrpipe features --list ... --scp`)
    /// with the run's pipeline: read instead of computed; labels still come from the corpus.
    #[arg(long)]
    features: Option<PathBuf>,
    /// Leave out the utterances that lack the labels this command needs (a phone alignment; a
    /// transcript for --flat-start and --align-with) instead of refusing them; says how many.
    #[arg(long)]
    skip_unlabelled: bool,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    c: ClassifierArgs,
    /// Model directory to write.
    #[arg(short, long)]
    output: PathBuf,
    /// Train on a flat start's alignments: monophones from the phone (or, with --lexicon, word)
    /// sequences alone, hand times ignored; the alignments go to OUTPUT/flat_start/.
    #[arg(long)]
    flat_start: bool,
    /// Train on the Viterbi alignment of this GMM model directory instead of hand times (e.g. a
    /// DNN on a GMM's alignment), made with its own HMMs (hmm.json) as `asrpipe align` makes it.
    #[arg(long, conflicts_with = "flat_start")]
    align_with: Option<PathBuf>,
    /// Pronunciation lexicon (CMUdict format) for transcripts of words.
    #[arg(long)]
    lexicon: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    #[command(flatten)]
    c: ClassifierArgs,
    /// A trained model directory to evaluate (default: train one first).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Run directory: results.json, confusion.csv/png, hyp.txt, per-utt.tsv and the model.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Score frames only: do not decode the test set (no phone error rate).
    #[arg(long)]
    no_decode: bool,
    /// Decode with the configured settings only, not also over the `hmm.tune` grid of acoustic
    /// scales and insertion penalties.
    #[arg(long)]
    no_tune: bool,
    #[command(flatten)]
    decode: DecodeArgs,
}

/// Decoding options over the model's `hmm.decode` section.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DecodeArgs {
    /// Decoder beam (scaled log units).
    #[arg(long, allow_hyphen_values = true)]
    beam: Option<f32>,
    /// Weight of the phone bigram.
    #[arg(long, allow_hyphen_values = true)]
    lm_weight: Option<f32>,
    /// Added to the log score of every phone (negative: fewer phones).
    #[arg(long, allow_hyphen_values = true)]
    insertion_penalty: Option<f32>,
    /// Scale on the acoustic scores.
    #[arg(long, allow_hyphen_values = true)]
    acoustic_scale: Option<f32>,
    /// Scale on the log priors subtracted from DNN posteriors.
    #[arg(long, allow_hyphen_values = true)]
    prior_scale: Option<f32>,
}

impl DecodeArgs {
    /// The flags as a patch, checked on their own (before any work) and against `--no-decode`.
    pub fn patch(&self, no_decode: bool) -> Result<Option<DecodePatch>> {
        let p = DecodePatch {
            beam: self.beam,
            lm_weight: self.lm_weight,
            insertion_penalty: self.insertion_penalty,
            acoustic_scale: self.acoustic_scale,
            prior_scale: self.prior_scale,
            ..DecodePatch::default()
        };
        if no_decode {
            if !p.is_empty() {
                bail!(
                    "--no-decode turns decoding off: --beam, --lm-weight, --insertion-penalty, \
                     --acoustic-scale and --prior-scale do not apply"
                );
            }
            return Ok(None);
        }
        let mut check = DecodeConfig::default();
        p.apply(&mut check);
        check.validate().context("bad decoding flags")?;
        Ok(Some(p))
    }
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

    /// The `--features` script file, standing for `pipeline`'s features.
    fn precomputed(&self, pipeline: &Pipeline) -> Result<Option<Precomputed>> {
        Ok(self
            .features
            .as_deref()
            .map(|f| Precomputed::open(f, pipeline))
            .transpose()?)
    }

    /// Open the corpus; with --skip-unlabelled, without the utterances that lack what `need`
    /// asks for (said on stderr). Without it, `split` is checked now, before any work: one
    /// error with the count and the first ids.
    fn open_labelled(&self, need: Need, split: Split) -> Result<super::Session> {
        let mut session = self.data.open()?;
        if self.skip_unlabelled {
            let (kept, note) = labelled::skip_lacking(&session.corpus, need);
            if let Some(n) = note {
                eprintln!("{n}");
            }
            anyhow::ensure!(
                !kept.utterances.is_empty(),
                "{}: no utterance has the labels needed (features, activations and plot hidden \
                 need none)",
                session.corpus.root.display()
            );
            session.corpus = kept;
        } else {
            let env = session.env();
            let what = match split {
                Split::Train => "training",
                Split::Dev => "dev",
                Split::Test => "test",
            };
            labelled::require(&session.corpus, &env.utterances(split), need, what)?;
        }
        Ok(session)
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
    let lexicon = a.lexicon.as_deref().map(Lexicon::load).transpose()?;
    let labels = match (&a.align_with, a.flat_start) {
        (Some(dir), false) => Labels::AlignWith(dir.clone()),
        (None, true) => Labels::FlatStart { seed: a.c.seed },
        (None, false) if lexicon.is_some() => {
            bail!("--lexicon is for --flat-start or --align-with")
        }
        (None, false) => Labels::Hand,
        (Some(_), true) => bail!("--flat-start and --align-with: choose one source of labels"),
    };
    let _lock = super::lock_output(&a.output)?;
    let need = match labels {
        Labels::Hand => Need::Alignment,
        Labels::FlatStart { .. } | Labels::AlignWith(_) => Need::Transcript,
    };
    let session = a.c.open_labelled(need, Split::Train)?;
    let pre = a.c.precomputed(&pipeline)?;
    let mut env = session.env();
    env.features = pre.as_ref();
    // The alignments of this run replace those of an earlier one only with its model; a run
    // on hand labels removes them.
    let alignments = StagedDir::new(&a.output.join("flat_start"))?;
    let trained = recipe::train_with(
        &env,
        &pipeline,
        &labels,
        lexicon.as_ref(),
        &a.output,
        alignments.path(),
        |line| eprintln!("{line}"),
    )?;
    trained
        .save(&a.output)
        .with_context(|| format!("writing the model to {}", a.output.display()))?;
    alignments.commit(false)?;
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
    let decode = a.decode.patch(a.no_decode)?;
    // With --model nothing is trained: the test split is what must be labelled.
    let split = if a.model.is_some() {
        Split::Test
    } else {
        Split::Train
    };
    let session = a.c.open_labelled(Need::Alignment, split)?;
    let _lock = a.output.as_deref().map(super::lock_output).transpose()?;
    let pre = match (&a.c.features, &a.model) {
        (None, _) => None,
        (Some(_), Some(dir)) => a.c.precomputed(&Trained::load(dir)?.pipeline)?,
        (Some(_), None) => a.c.precomputed(&a.c.pipeline()?)?,
    };
    let mut env = session.env();
    env.features = pre.as_ref();
    let (trained, name) = eval_model(&a, &env)?;
    let cfg = decode.map(|p| {
        let mut c = trained.pipeline.hmm.decode.clone();
        p.apply(&mut c);
        c
    });
    let tune = if a.no_tune {
        TuneConfig::off()
    } else {
        trained.pipeline.hmm.tune.clone()
    };
    let scored = run::score(&env, &trained, cfg.as_ref(), &tune)?;
    let result = scored.result(&name, &trained)?;
    if let Some(dir) = &a.output {
        scored
            .write(dir, &result, &trained)
            .with_context(|| format!("writing the run to {}", dir.display()))?;
    }
    super::emit(run::table(std::slice::from_ref(&result)))?;
    print_eval_summary(&a, &result, &scored, &session.corpus.root)
}

/// The model `eval` scores and its name: `--model` as it is (training options refused), or one
/// trained on the training split (into OUTPUT/model when given).
fn eval_model(a: &EvalArgs, env: &run::Env) -> Result<(Trained, String)> {
    Ok(match &a.model {
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
            let t = run::train(env, &pipeline, &targets, work.as_deref())?;
            let name = a.output.as_ref().and_then(|o| o.file_name()).map_or_else(
                || format!("{}-{}", t.about.kind, t.about.from),
                |n| n.to_string_lossy().into_owned(),
            );
            (t, name)
        }
    })
}

/// What `eval` says after its table: a DNN's parameters beside the production line's GMM, the
/// PER with its counts, the tuned point, and the test frames and where the run went.
fn print_eval_summary(
    a: &EvalArgs,
    result: &run::RunResult,
    scored: &run::Scored,
    corpus_root: &std::path::Path,
) -> Result<()> {
    if result.about.kind == ModelKind::Dnn {
        // Parameter counts side by side: what the production line's GMM spends on the same states.
        let g = production_gmm_budget(result.about.tied_states)?;
        eprintln!(
            "parameters: this DNN {}; the production line's GMM on the same {} states: at most {} \
             ({} Gaussians per state x (2 x {} + 1))",
            result.about.params, result.about.tied_states, g.params, g.gaussians_per_state, g.dim
        );
    }
    if let (Some(per), Some(d)) = (result.per, &scored.decoding) {
        let t = &d.totals;
        eprintln!(
            "PER {:.2}% on {} test utterances: {} reference phones (39-set), {} substitutions, \
             {} deletions, {} insertions; LM weight {}, insertion penalty {}, acoustic scale {}",
            100.0 * per,
            d.utts.len(),
            t.reference,
            t.substitutions,
            t.deletions,
            t.insertions,
            d.config.lm_weight,
            d.config.insertion_penalty,
            d.config.acoustic_scale
        );
    }
    if let Some(t) = &result.tuned {
        eprintln!(
            "PER {:.2}% at acoustic scale {:.3}, insertion penalty {}, of {} grid points {}{}",
            100.0 * t.per,
            t.acoustic_scale,
            t.insertion_penalty,
            t.points,
            match t.chosen_on {
                Split::Dev => "chosen on the dev speakers",
                _ => "the best on the test set itself (optimistic: no dev speakers)",
            },
            a.output.as_ref().map_or(String::new(), |d| format!(
                "; every point in {}",
                d.join("tuning.tsv").display()
            ))
        );
    }
    eprintln!(
        "{} test frames ({} with a phone state unseen in training); corpus {}{}",
        result.test_frames,
        result.unseen_frames,
        corpus_root.display(),
        a.output.as_ref().map_or(String::new(), |d| format!(
            "; run written to {}",
            d.display()
        ))
    );
    Ok(())
}
