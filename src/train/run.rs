//! One training/evaluation run: corpus + pipeline (with its `classifier:` section) -> a trained
//! model and a scored test set. GMM and DNN share everything here but the training call.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use ndarray::{Axis, concatenate};

use crate::corpus::Split;
use crate::error::{Error, Result};
use crate::model::dnn;
use crate::model::gmm::GmmClassifier;
use crate::pipeline::Pipeline;
use crate::pipeline::classifier::{ClassifierConfig, Kind};
use crate::pipeline::extractor::Extractor;
use crate::train::dataset::FrameSet;
use crate::train::env::Env;
use crate::train::eval::{self, Evaluation};
use crate::train::model_dir::{About, Model, Trained};
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
