//! One training/evaluation run: corpus + pipeline (with its `classifier:` section) -> a trained
//! model and a scored test set. GMM and DNN share everything here but the training call.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use ndarray::{Array2, Axis, concatenate};
use rayon::prelude::*;

use crate::corpus::{Split, Utterance};
use crate::decode::{DecodeConfig, EditCounts, SearchScratch, TuneConfig};
use crate::error::{Error, Result};
use crate::frontend::cmvn::CmvnMode;
use crate::frontend::filterbank::Filterbank;
use crate::model::dnn::{self, Dnn, DnnConfig, EpochStats};
use crate::model::gmm::{GmmClassifier, GmmConfig};
use crate::pipeline::classifier::{ClassifierConfig, ClassifierSpec};
use crate::pipeline::extractor::Extractor;
use crate::pipeline::{Pipeline, StageConfig};
use crate::train::dataset::FrameSet;
use crate::train::decode::{
    Decoding, ModelOutput, PhoneDecoder, Tuning, grid_counts, grid_decoders, sum_counts,
};
use crate::train::env::Env;
use crate::train::eval::{self, Evaluation};
use crate::train::hmm::HmmModel;
use crate::train::labelled::{self, Need};
use crate::train::model_dir::{About, Model, Trained};
use crate::train::results::RunResult;
use crate::train::targets::Targets;

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
    train_on(
        env,
        pipeline,
        targets,
        work_dir,
        env.utterances(Split::Train),
    )
}

/// [`train`] on `train_utts` (e.g. a share of the training speakers, for a learning curve)
/// instead of the whole training split.
pub fn train_on(
    env: &Env,
    pipeline: &Pipeline,
    targets: &Targets,
    work_dir: Option<&Path>,
    train_utts: Vec<&Utterance>,
) -> Result<Trained> {
    let original = pipeline;
    let (mut pipeline, cfg, spec) = classifier_parts(pipeline)?;
    let mut extractor = Extractor::new(&pipeline)?;
    if matches!(spec, ClassifierSpec::Dnn(_)) && pipeline.post.splice.context > 0 {
        return Err(Error::format(
            pipeline.path(),
            "post.splice is set, but the DNN splices frames itself: set classifier.dnn.context instead",
        ));
    }
    labelled::require(env.corpus, &train_utts, Need::Alignment, "training")?;
    let states = States::Counts(&targets.train_counts);
    check_memory(env, &spec, &cfg, &extractor, &train_utts, states)?;
    if pipeline.post.cmvn.mode == CmvnMode::Global {
        // The training set's statistics, stored with the model and used wherever it is applied.
        let known = Default::default();
        let stats = crate::train::cmvn::pool(&train_utts, &extractor, env.cache.as_ref(), &known)?;
        extractor.global_cmvn = Some(stats);
    }
    let train_set = env.load("train feats", &train_utts, &extractor)?;
    let started = Instant::now();
    let hmm = HmmModel::estimate(&pipeline.hmm.topology, &train_set, &train_utts, targets)?;
    let (model, epochs, seed, train_frames) = match spec {
        ClassifierSpec::Gmm(g) => {
            let frames = train_set.num_labelled();
            let m = train_gmm(env, &train_set, targets, &g)?;
            (Model::Gmm(Box::new(m)), Vec::new(), g.seed, frames)
        }
        ClassifierSpec::Dnn(_) => {
            let dcfg = cfg.resolve_dnn(extractor.dim(), targets.num_states());
            dcfg.validate()?;
            let mel = mel_start(original, &dcfg, extractor.dim())?;
            let (dnn, history, frames) = train_dnn(
                env,
                train_set,
                &extractor,
                targets,
                &dcfg,
                work_dir,
                mel.as_ref().map(|m| m.view()),
            )?;
            // The stored pipeline names the net actually trained (match_params resolved).
            let mut resolved = cfg.clone();
            resolved.dnn = Some(dcfg.clone());
            resolved.match_params = None;
            pipeline.classifier = Some(resolved);
            (Model::Dnn(Box::new(dnn)), history, dcfg.seed, frames)
        }
    };
    let about = About::new(
        &model,
        &pipeline,
        env,
        targets.num_states(),
        train_frames,
        started.elapsed().as_secs_f64(),
        seed,
        epochs,
    );
    Ok(Trained {
        model,
        pipeline,
        targets: targets.clone(),
        about,
        hmm: Some(hmm),
        dir: None,
        cmvn: extractor.global_cmvn,
    })
}

/// Frames `extractor` makes of `utts`, from their lengths (no audio is read).
pub(crate) fn frames_of(utts: &[&Utterance], extractor: &Extractor) -> f64 {
    let geometry = extractor.frontend.framing.geometry;
    let rate = f64::from(extractor.pipeline.sample_rate);
    utts.iter()
        .map(|u| {
            let samples = u.length_samples() as f64 * rate / f64::from(u.sample_rate.max(1));
            geometry.num_frames(samples.min(usize::MAX as f64) as usize) as f64
        })
        .sum()
}

/// `pipeline` cut for its classifier ([`classifier_pipeline`]), the classifier's options and
/// what it is (an invalid one refused with the pipeline file named).
fn classifier_parts(pipeline: &Pipeline) -> Result<(Pipeline, ClassifierConfig, ClassifierSpec)> {
    let pipeline = classifier_pipeline(pipeline)?;
    let cfg = pipeline.classifier.clone().unwrap_or_default();
    let spec = cfg
        .spec()
        .map_err(|e| Error::format(pipeline.path(), format!("classifier: {e}")))?;
    Ok((pipeline, cfg, spec))
}

/// Bytes the GMM training holds per model of `gaussians` Gaussians over `dim` dimensions: means
/// and variances in f32 and f64, the score matrix [x², x, 1] (f32) and the statistics per
/// Gaussian (f64, twice: per work group and summed).
pub(crate) fn gmm_memory(gaussians: f64, dim: f64) -> f64 {
    const F32: f64 = 4.0;
    let e = 2.0 * dim + 1.0;
    gaussians * (dim * 2.0 * (F32 + 8.0) + e * (F32 + 16.0))
}

/// The tied states a classifier will be trained on, for [`check_memory`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum States<'a> {
    /// Known: the training frames of each.
    Counts(&'a [u64]),
    /// Not known yet (the labels come from an alignment still to be made): at most this many.
    AtMost(usize),
}

/// [`check_memory`] for `pipeline`'s classifier on the training split before its labels exist
/// (a flat start or another model's alignment comes first), with at most `max_states` tied
/// states: a run that could not hold its classifier is refused before the alignment's work.
pub(crate) fn check_memory_ahead(env: &Env, pipeline: &Pipeline, max_states: usize) -> Result<()> {
    let (pipeline, cfg, spec) = classifier_parts(pipeline)?;
    let extractor = Extractor::new(&pipeline)?;
    let utts = env.utterances(Split::Train);
    check_memory(
        env,
        &spec,
        &cfg,
        &extractor,
        &utts,
        States::AtMost(max_states),
    )
}

/// Refuse, before any feature is computed, a run whose features and model cannot be held in
/// memory ([`crate::memory`]): the figure and the limit, not an allocation abort hours in.
fn check_memory(
    env: &Env,
    spec: &ClassifierSpec,
    cfg: &ClassifierConfig,
    extractor: &Extractor,
    train_utts: &[&Utterance],
    states: States,
) -> Result<()> {
    const F32: f64 = 4.0;
    let mut frames = frames_of(train_utts, extractor);
    if matches!(spec, ClassifierSpec::Dnn(_)) {
        frames += frames_of(&env.utterances(Split::Dev), extractor);
    }
    let dim = extractor.dim() as f64;
    // The chain's output and the post-processed copy.
    let feats = frames * F32 * (extractor.chain_dim() as f64 + dim);
    crate::memory::check(
        &format!(
            "the training features ({frames:.0} frames of {dim} values from `{}`)",
            extractor.output_kind()
        ),
        feats,
    )?;
    match spec {
        ClassifierSpec::Gmm(g) => {
            // Gaussians as EM will grow them: per state at most n / (2 min_count) of its n frames.
            let cap = |n: f64| {
                if g.min_count > 0.0 {
                    (n / (2.0 * f64::from(g.min_count))).floor()
                } else {
                    n
                }
            };
            let per_state = g.gaussians_per_state as f64;
            let gaussians: f64 = match states {
                States::Counts(c) => c
                    .iter()
                    .map(|&n| per_state.min(cap(n as f64).max(1.0)))
                    .sum(),
                // Summed over any split of the frames, the caps (at least one each) come to at
                // most the frames' cap plus one per state.
                States::AtMost(s) => (s as f64 * per_state).min(cap(frames) + s as f64),
            };
            // The model, and the frames pooled and grouped by state.
            let model = gmm_memory(gaussians, dim);
            let pooled = 2.0 * frames * dim * F32;
            crate::memory::check(
                &format!(
                    "the GMM ({gaussians:.0} Gaussians of {dim} dimensions, {frames:.0} training \
                     frames)"
                ),
                feats + pooled + model,
            )
        }
        ClassifierSpec::Dnn(_) => {
            let num_states = match states {
                States::Counts(c) => c.len(),
                States::AtMost(s) => s,
            };
            let d = cfg.resolve_dnn(extractor.dim(), num_states);
            d.validate()?;
            let batch = d.batch.min(frames as usize).max(1);
            let (what, bytes) = d.training_memory(extractor.dim(), num_states, Some(batch));
            crate::memory::check(&format!("{what} with its features"), feats + bytes)
        }
    }
}

/// The starting matrix of a learned filter bank with `init: mel`: the mel filter bank of the
/// pipeline's own `filterbank` stage (its defaults when the chain has none) with one bin per
/// learned filter, over the `bins` of the spectrogram the DNN reads.
fn mel_start(pipeline: &Pipeline, cfg: &DnnConfig, bins: usize) -> Result<Option<Array2<f32>>> {
    let dnn::Front::Filterbank(f) = &cfg.front else {
        return Ok(None);
    };
    if f.init != dnn::FilterbankInit::Mel {
        return Ok(None);
    }
    let mut opts = pipeline
        .stages
        .iter()
        .find_map(|s| match s {
            StageConfig::Filterbank(o) => Some(o.clone()),
            _ => None,
        })
        .unwrap_or_default();
    opts.num_bins = f.filters;
    let rate = pipeline.sample_rate;
    Ok(Some(Filterbank::new(&opts, rate, bins)?.dense()))
}

/// Per-frame tied-state ids of a set (`NO_LABEL` where a frame has none).
fn frame_targets(set: &FrameSet, targets: &Targets) -> Vec<Vec<u32>> {
    set.utts
        .iter()
        .map(|u| {
            targets
                .frame_targets(&u.labels)
                .into_iter()
                .map(|t| t.unwrap_or(dnn::NO_LABEL))
                .collect()
        })
        .collect()
}

/// EM on every labelled training frame, all utterances pooled.
fn train_gmm(
    env: &Env,
    train: &FrameSet,
    targets: &Targets,
    cfg: &GmmConfig,
) -> Result<GmmClassifier> {
    let views: Vec<_> = train.utts.iter().map(|u| u.feats.view()).collect();
    let x = concatenate(Axis(0), &views).map_err(|e| Error::invalid(e.to_string()))?;
    let labels: Vec<u32> = frame_targets(train, targets).concat();
    env.observer.begin("GMM EM", cfg.iterations as u64);
    let m = GmmClassifier::train(x.view(), &labels, targets.num_states(), cfg, |p| {
        env.observer.step(Some(format!(
            "iter {}/{} {} gauss, log-lik/frame {:.3}",
            p.iteration, p.total, p.gaussians, p.log_likelihood
        )))
    });
    env.observer.end();
    m
}

/// Minibatch training with a held-out set for learning-rate halving and early stopping: the
/// corpus's dev split when it has one, else every 10th training utterance. Returns the network,
/// its per-epoch history and the number of labelled frames it was trained on.
fn train_dnn(
    env: &Env,
    mut train_set: FrameSet,
    extractor: &Extractor,
    targets: &Targets,
    cfg: &DnnConfig,
    work_dir: Option<&Path>,
    front_init: Option<ndarray::ArrayView2<'_, f32>>,
) -> Result<(Dnn, Vec<EpochStats>, usize)> {
    let dev_utts = env.utterances(Split::Dev);
    labelled::require(env.corpus, &dev_utts, Need::Alignment, "dev")?;
    let dev_set = if dev_utts.is_empty() {
        let (dev, rest) = std::mem::take(&mut train_set).partition(|i| i % 10 == 9);
        train_set = rest;
        dev
    } else {
        env.load("dev feats", &dev_utts, extractor)?
    };
    let (tl, dl) = (
        frame_targets(&train_set, targets),
        frame_targets(&dev_set, targets),
    );
    let train_data = dnn::Dataset::new(views(&train_set), tl.iter().map(Vec::as_slice).collect())?;
    let dev_data = dnn::Dataset::new(views(&dev_set), dl.iter().map(Vec::as_slice).collect())?;
    let ckpt = work_dir.map(|d| d.join("checkpoints"));
    env.observer
        .begin(&format!("DNN {}", cfg.hidden), cfg.epochs as u64);
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
        cfg,
        targets.num_states(),
        &train_data,
        Some(&dev_data),
        dnn::TrainOptions {
            checkpoint_dir: ckpt.as_deref(),
            on_progress: Some(&mut on_progress),
            front_init,
            ..Default::default()
        },
    );
    env.observer.end();
    let trained = trained?;
    Ok((trained.dnn, trained.history, train_set.num_labelled()))
}

fn views(set: &FrameSet) -> Vec<ndarray::ArrayView2<'_, f32>> {
    set.utts.iter().map(|u| u.feats.view()).collect()
}

/// Score a trained model on the corpus's test split: frames only, with the scoring time in
/// seconds ([`score`] without decoding).
pub fn evaluate(env: &Env, trained: &Trained) -> Result<(Evaluation, f64)> {
    let s = score(env, trained, None, &TuneConfig::off())?;
    Ok((s.evaluation, s.eval_seconds))
}

/// A model scored on the test split: frame scores, and the decoding when one was asked for.
#[derive(Debug, Clone)]
pub struct Scored {
    /// Frame accuracies.
    pub evaluation: Evaluation,
    /// Seconds of frame scoring.
    pub eval_seconds: f64,
    /// The decoded test set (absent with `--no-decode`).
    pub decoding: Option<Decoding>,
}

impl Scored {
    /// The results row named `name`, with the phone error rate when decoded.
    pub fn result(&self, name: &str, trained: &Trained) -> Result<RunResult> {
        let r = RunResult::new(name, trained, &self.evaluation, self.eval_seconds);
        Ok(match &self.decoding {
            Some(d) => r.with_per(&d.summary()?),
            None => r,
        })
    }

    /// Write the run directory ([`crate::train::write_run`]) and, when decoded, `hyp.txt` and
    /// `per-utt.tsv`.
    pub fn write(&self, dir: &Path, result: &RunResult, trained: &Trained) -> Result<()> {
        crate::train::write_run(dir, result, &self.evaluation, trained)?;
        match &self.decoding {
            Some(d) => d.write(dir),
            None => Ok(()),
        }
    }
}

/// Score a trained model on the test split, frame by frame and, with `decode`, by decoding every
/// utterance (phone error rate), also at every point of `tune`'s grid (chosen on dev, see
/// [`Tuning`]). The model's HMMs and the options are checked before any work. Each utterance is
/// scored by the model once; the frame classification and every search share the scores.
pub fn score(
    env: &Env,
    trained: &Trained,
    decode: Option<&DecodeConfig>,
    tune: &TuneConfig,
) -> Result<Scored> {
    let decoder = decode
        .map(|cfg| PhoneDecoder::new(trained, cfg))
        .transpose()?;
    let grid = match decode {
        Some(cfg) if tune.is_on() => grid_decoders(trained, cfg, tune)?,
        _ => Vec::new(),
    };
    let extractor = trained.extractor()?;
    let test = env.utterances(Split::Test);
    labelled::require(env.corpus, &test, Need::Alignment, "test")?;
    // Dev speakers choose the grid point when they are there and labelled.
    let dev = env.utterances(Split::Dev);
    let tune_on_dev =
        !grid.is_empty() && !dev.is_empty() && labelled::lacking(&dev, Need::Alignment).is_empty();
    let set = env.load("test feats", &test, &extractor)?;
    eval::check_shapes(trained.model.classifier(), &set, &trained.targets)?;
    let tally = eval::Tally::new(&trained.targets);
    let prior_scale = decode.map_or(1.0, |c| c.prior_scale);
    let started = Instant::now();
    env.observer.begin(
        if decoder.is_some() {
            "scoring and decoding"
        } else {
            "scoring"
        },
        0,
    );
    // Per utterance: its frame counts, its decoding, its errors at each grid point, and the
    // seconds spent scoring frames and in all.
    let per_utt = set
        .utts
        .par_iter()
        .map_init(SearchScratch::default, |scratch, u| {
            let t0 = Instant::now();
            let out = ModelOutput::of(trained, u.feats.view())?;
            let mut e = tally.empty();
            let (scores, offset) = out.frame_scores(trained);
            tally.add(&mut e, &u.id, scores, offset, &u.labels)?;
            let scoring = t0.elapsed().as_secs_f64();
            let (d, g) = match &decoder {
                Some(dec) => {
                    let s = out.search_scores(trained, prior_scale)?;
                    let d = dec.decode_utt(env.corpus, &u.id, s.view(), scratch)?;
                    let g = grid_counts(&grid, env.corpus, &u.id, s.view(), scratch)?;
                    (Some(d), g)
                }
                None => (None, Vec::new()),
            };
            Ok((e, d, g, scoring, t0.elapsed().as_secs_f64()))
        })
        .collect::<Result<Vec<_>>>();
    env.observer.end();
    let per_utt = per_utt?;
    let wall = started.elapsed().as_secs_f64();
    // Wall time split between frame scoring and the search in proportion to their CPU time.
    let (scoring, all): (f64, f64) = per_utt
        .iter()
        .map(|p| (p.3, p.4))
        .fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
    let eval_seconds = if all > 0.0 {
        wall * scoring / all
    } else {
        wall
    };
    let tuning = if grid.is_empty() {
        None
    } else {
        let test_counts = sum_counts(grid.len(), per_utt.iter().map(|p| &p.2));
        let dev_counts = if tune_on_dev {
            grid_errors(env, trained, &extractor, &dev, &grid, prior_scale)?
        } else {
            Vec::new()
        };
        Some(Tuning {
            points: grid.iter().map(|d| d.config().clone()).collect(),
            test: test_counts,
            dev: dev_counts,
        })
    };
    let mut evaluation = tally.empty();
    let mut utts = Vec::with_capacity(per_utt.len());
    for (e, d, _, _, _) in per_utt {
        evaluation = evaluation.merge(e);
        utts.extend(d);
    }
    Ok(Scored {
        evaluation,
        eval_seconds,
        decoding: decoder.map(|dec| Decoding {
            tuning,
            ..Decoding::new(dec.config().clone(), utts, wall)
        }),
    })
}

/// The summed errors of `utts` decoded at every point of `grid`.
fn grid_errors(
    env: &Env,
    trained: &Trained,
    extractor: &Extractor,
    utts: &[&Utterance],
    grid: &[PhoneDecoder],
    prior_scale: f32,
) -> Result<Vec<EditCounts>> {
    let set = env.load("dev feats (decoding grid)", utts, extractor)?;
    let each = set
        .utts
        .par_iter()
        .map_init(SearchScratch::default, |scratch, u| {
            let s =
                ModelOutput::of(trained, u.feats.view())?.search_scores(trained, prior_scale)?;
            grid_counts(grid, env.corpus, &u.id, s.view(), scratch)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(sum_counts(grid.len(), each.iter()))
}
