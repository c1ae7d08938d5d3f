//! The training loop: epochs over shuffled frames, held-out evaluation, newbob learning-rate
//! halving, early stopping with the best epoch kept, and a checkpoint after every epoch.
//!
//! Every epoch's shuffle and dropout masks come from random streams keyed by (seed, epoch), and
//! the checkpoint holds everything else that changes (weights, optimiser state, learning rate,
//! schedule state), so a run resumed from a checkpoint ends with the same bits as one that never
//! stopped.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use ndarray::{Array1, ArrayView2};
use rand::seq::SliceRandom;

use super::checkpoint::{self, Checkpoint, Schedule, Weights};
use super::front::{self, FilterbankInit};
use super::history::{EpochStats, Outcome};
use super::layers::{FrameRef, MatMul};
use super::rng_stream;
use super::step::Trainer;
use super::{Architecture, Dnn, DnnConfig, Front, STREAM_DROPOUT, STREAM_SHUFFLE};
use crate::error::{Error, Result};

/// Target of a frame that is not trained on or scored (e.g. TIMIT `q`, or no segment).
pub const NO_LABEL: u32 = u32::MAX;

/// Utterances of unspliced features with one label per frame. Frames labelled [`NO_LABEL`] stay
/// in the utterance: they are spliced as context of their neighbours but are never a training
/// target nor counted in losses or accuracies, so callers should *not* filter them out (that would
/// splice frames that were not adjacent). Borrowed, not copied.
pub struct Dataset<'a> {
    feats: Vec<ArrayView2<'a, f32>>,
    labels: Vec<&'a [u32]>,
    /// Labelled frames in corpus order.
    frames: Vec<FrameRef>,
    dim: usize,
}

impl<'a> Dataset<'a> {
    /// One feature matrix (frames x dims) and one label slice per utterance.
    pub fn new(feats: Vec<ArrayView2<'a, f32>>, labels: Vec<&'a [u32]>) -> Result<Self> {
        if feats.len() != labels.len() {
            return Err(Error::invalid(format!(
                "{} feature matrices but {} label sequences",
                feats.len(),
                labels.len()
            )));
        }
        let dim = feats.first().map_or(0, |f| f.ncols());
        let mut frames = Vec::new();
        for (u, (f, l)) in feats.iter().zip(&labels).enumerate() {
            if f.ncols() != dim {
                return Err(Error::invalid(format!(
                    "utterance {u} has {}-dimensional features, utterance 0 has {dim}",
                    f.ncols()
                )));
            }
            if f.nrows() != l.len() {
                return Err(Error::invalid(format!(
                    "utterance {u} has {} feature frames but {} labels",
                    f.nrows(),
                    l.len()
                )));
            }
            if u32::try_from(f.nrows()).is_err() || u32::try_from(u).is_err() {
                return Err(Error::invalid(format!("utterance {u} is too long")));
            }
            frames.extend(
                l.iter()
                    .enumerate()
                    .filter(|(_, y)| **y != NO_LABEL)
                    .map(|(t, _)| (u as u32, t as u32)),
            );
        }
        Ok(Dataset {
            feats,
            labels,
            frames,
            dim,
        })
    }

    /// Feature dimension of every utterance.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Utterances in the set.
    pub fn num_utterances(&self) -> usize {
        self.feats.len()
    }

    /// Frames with a label (the ones trained on and scored).
    pub fn num_labelled(&self) -> usize {
        self.frames.len()
    }

    /// Per-dimension mean and standard deviation over all frames (labelled or not), accumulated in
    /// f64 in two passes. A dimension that never varies gets deviation 1 (it is only centred).
    pub fn normalisation(&self) -> (Array1<f32>, Array1<f32>) {
        let d = self.dim;
        let n: usize = self.feats.iter().map(|f| f.nrows()).sum();
        let mut sum = vec![0.0f64; d];
        for row in self.feats.iter().flat_map(|f| f.rows()) {
            sum.iter_mut()
                .zip(row)
                .for_each(|(s, &x)| *s += f64::from(x));
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n.max(1) as f64).collect();
        let mut sq = vec![0.0f64; d];
        for row in self.feats.iter().flat_map(|f| f.rows()) {
            for ((s, &x), m) in sq.iter_mut().zip(row).zip(&mean) {
                *s += (f64::from(x) - m).powi(2);
            }
        }
        let std = sq.iter().zip(&mean).map(|(s, m)| {
            let sd = (s / n.max(1) as f64).sqrt();
            // Relative floor: rounding noise on a constant dimension must not be blown up.
            if sd > 1e-6 * m.abs().max(1e-30) {
                sd as f32
            } else {
                1.0
            }
        });
        (mean.iter().map(|&m| m as f32).collect(), std.collect())
    }

    /// The one scale a front end's input is divided by, so that its level is 1: the mean power
    /// (a filter bank reads a power spectrogram, which is checked to be non-negative) or the
    /// RMS sample (a time convolution), over all frames in f64.
    pub(crate) fn front_scale(&self, front: &Front) -> Result<f32> {
        let (mut sum, mut n) = (0.0f64, 0usize);
        for (u, f) in self.feats.iter().enumerate() {
            if let Front::Filterbank(_) = front {
                front::check_power(*f, u)?;
            }
            for &x in f.iter() {
                let x = f64::from(x);
                sum += match front {
                    Front::Timeconv(_) => x * x,
                    _ => x,
                };
            }
            n += f.len();
        }
        let level = sum / n.max(1) as f64;
        let scale = match front {
            Front::Timeconv(_) => level.sqrt(),
            _ => level,
        } as f32;
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::invalid(format!(
                "the training features' level is {scale}: a front end needs input that is not \
                 all zeros (and finite)"
            )));
        }
        Ok(scale)
    }

    /// Mean and deviation of `dnn`'s front-end log outputs over all frames, in f64 (deviation 1
    /// for an output that never varies, as in [`Self::normalisation`]).
    fn front_normalisation(&self, dnn: &Dnn) -> Result<(Array1<f32>, Array1<f32>)> {
        let n = dnn.arch().frame_dim();
        let (mut sum, mut sq, mut count) = (vec![0.0f64; n], vec![0.0f64; n], 0usize);
        for f in &self.feats {
            let z = dnn.front_features(*f)?;
            for row in z.rows() {
                for ((s, q), &v) in sum.iter_mut().zip(&mut sq).zip(row) {
                    *s += f64::from(v);
                    *q += f64::from(v) * f64::from(v);
                }
            }
            count += z.nrows();
        }
        let count = count.max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std = sq.iter().zip(&mean).map(|(q, m)| {
            let sd = (q / count - m * m).max(0.0).sqrt();
            if sd > 1e-6 * m.abs().max(1e-30) {
                sd as f32
            } else {
                1.0
            }
        });
        if mean.iter().any(|m| !m.is_finite()) {
            return Err(Error::invalid(
                "the front end's initial log outputs are not finite on the training data",
            ));
        }
        Ok((mean.iter().map(|&m| m as f32).collect(), std.collect()))
    }

    fn check_labels(&self, classes: usize, what: &str) -> Result<()> {
        for &(u, t) in &self.frames {
            let y = self.labels[u as usize][t as usize];
            if y as usize >= classes {
                return Err(Error::invalid(format!(
                    "{what} utterance {u}, frame {t}: label {y} but the network has {classes} classes"
                )));
            }
        }
        Ok(())
    }

    /// Hash of the shapes, labels and features: a checkpoint is only resumed on the same data.
    pub(crate) fn fingerprint(&self) -> String {
        let mut h = blake3::Hasher::new();
        h.update(&(self.feats.len() as u64).to_le_bytes());
        for (f, l) in self.feats.iter().zip(&self.labels) {
            h.update(&(f.nrows() as u64).to_le_bytes());
            h.update(&(f.ncols() as u64).to_le_bytes());
            for y in l.iter() {
                h.update(&y.to_le_bytes());
            }
            for v in f.iter() {
                h.update(&v.to_le_bytes());
            }
        }
        h.finalize().to_hex().to_string()
    }
}

/// Reported to the caller's callback, which may stop training by returning `Break`.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress<'a> {
    /// Every `progress_every` minibatches.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based minibatch within the epoch.
        batch: usize,
        /// Minibatches per epoch.
        batches: usize,
        /// Mean training loss over the epoch so far.
        train_loss: f64,
        /// Training frames per second so far in the epoch.
        frames_per_sec: f64,
        /// Learning rate in use.
        lr: f32,
    },
    /// After each epoch (and after its checkpoint was written).
    Epoch(&'a EpochStats),
}

/// Progress callback: return `ControlFlow::Break(())` to stop training.
pub type ProgressFn<'a> = dyn FnMut(&Progress<'_>) -> ControlFlow<()> + 'a;

/// How to run training (not part of the model's configuration).
#[derive(Default)]
pub struct TrainOptions<'a> {
    /// Directory for per-epoch checkpoints; if it holds one, training resumes from it.
    pub checkpoint_dir: Option<&'a Path>,
    /// Report [`Progress::Batch`] every this many minibatches (0 = never).
    pub progress_every: usize,
    /// Called with [`Progress`] reports; may stop training.
    pub on_progress: Option<&'a mut ProgressFn<'a>>,
    /// Which matrix product implementation the steps use.
    pub matmul: MatMul,
    /// The filter bank's starting matrix when its `init` is `mel`: `[bins, filters]`, e.g.
    /// `frontend::filterbank::Filterbank::dense()` for the spectrogram the DNN is fed.
    pub front_init: Option<ArrayView2<'a, f32>>,
}

/// The result: the best epoch's network (the last one without a dev set) and what happened.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The network of the kept epoch.
    pub dnn: Dnn,
    /// One entry per epoch run, resumed ones included.
    pub history: Vec<EpochStats>,
    /// 1-based epoch whose weights were kept.
    pub best_epoch: Option<usize>,
    /// Why training stopped.
    pub outcome: Outcome,
}

/// Train a network on `train` (features unspliced, labels per frame) over `num_classes` tied
/// states, using `dev` (if given) for learning-rate halving, early stopping and choosing the
/// epoch to keep.
pub fn train(
    cfg: &DnnConfig,
    num_classes: usize,
    train: &Dataset<'_>,
    dev: Option<&Dataset<'_>>,
    mut opts: TrainOptions<'_>,
) -> Result<Trained> {
    cfg.validate()?;
    let dev = dev.filter(|d| d.num_labelled() > 0);
    if train.num_labelled() == 0 {
        return Err(Error::invalid("no labelled training frames"));
    }
    // A minibatch larger than the data is the whole data: the same updates, without a workspace
    // sized for frames that do not exist.
    let capped = DnnConfig {
        batch: cfg.batch.min(train.num_labelled()),
        ..cfg.clone()
    };
    let cfg = &capped;
    cfg.check_memory(train.dim(), num_classes, Some(cfg.batch))?;
    check_data(cfg, num_classes, train, dev)?;
    let arch = Architecture {
        feature_dim: train.dim(),
        context: cfg.context,
        hidden: cfg.hidden.widths().to_vec(),
        activation: cfg.activation,
        num_classes,
        front: cfg.front.clone(),
    };
    cfg.front.check_input(train.dim())?;
    let front_init = front_init(cfg, opts.front_init)?;
    // Hashing every feature costs a pass over the data: only when checkpoints need it.
    let data_id = match opts.checkpoint_dir {
        Some(_) => data_id(train, dev, front_init),
        None => String::new(),
    };
    let (mut trainer, mut state) = start(cfg, arch, train, front_init, &opts, &data_id)?;

    let mut perm: Vec<u32> = Vec::with_capacity(train.num_labelled());
    while state.schedule.outcome.is_none() {
        let epoch = state.schedule.epochs_done;
        if epoch >= cfg.epochs {
            state.schedule.outcome = Some(Outcome::Completed);
            break;
        }
        let lr = state.schedule.lr;
        let ControlFlow::Continue((loss, hits, seconds)) =
            run_epoch(&mut trainer, cfg, train, epoch, lr, &mut perm, &mut opts)
        else {
            return Ok(state.finish(trainer, Outcome::Interrupted));
        };
        let n = train.num_labelled() as f64;
        let dev_scores = dev_scores(&mut trainer, dev, epoch, lr, loss / n, num_classes, &opts)?;
        let stats = EpochStats {
            epoch: epoch + 1,
            lr,
            train_loss: loss / n,
            train_accuracy: hits as f64 / n,
            dev_loss: dev_scores.map(|s| s.0),
            dev_accuracy: dev_scores.map(|s| s.1),
            frames_per_sec: n / seconds,
            seconds,
            best: false,
        };
        let stats = state.end_epoch(cfg, &trainer, stats, &opts, &data_id)?;
        if report(&mut opts, &Progress::Epoch(&stats)).is_break()
            && state.schedule.outcome.is_none()
        {
            return Ok(state.finish(trainer, Outcome::Interrupted));
        }
    }
    let outcome = state.schedule.outcome.unwrap_or(Outcome::Completed);
    Ok(state.finish(trainer, outcome))
}

/// Labels within the classes; dev data of the training data's dimension, and (for a filter-bank
/// front end) of non-negative power.
fn check_data(
    cfg: &DnnConfig,
    num_classes: usize,
    train: &Dataset<'_>,
    dev: Option<&Dataset<'_>>,
) -> Result<()> {
    train.check_labels(num_classes, "training")?;
    if let Some(dev) = dev {
        if dev.dim() != train.dim() {
            return Err(Error::invalid(format!(
                "dev features have {} dimensions, training features {}",
                dev.dim(),
                train.dim()
            )));
        }
        dev.check_labels(num_classes, "dev")?;
        if let Front::Filterbank(_) = cfg.front {
            for (u, f) in dev.feats.iter().enumerate() {
                front::check_power(*f, u).map_err(|e| Error::invalid(format!("dev data: {e}")))?;
            }
        }
    }
    Ok(())
}

/// The caller's starting matrix of the front end's filters, given exactly when the options ask
/// for one.
fn front_init<'a>(
    cfg: &DnnConfig,
    given: Option<ArrayView2<'a, f32>>,
) -> Result<Option<ArrayView2<'a, f32>>> {
    match (&cfg.front, given) {
        (Front::Filterbank(f), init) if f.init == FilterbankInit::Mel => {
            Ok(Some(init.ok_or_else(|| {
                Error::invalid(
                    "dnn front end: filterbank init = mel needs the starting matrix from the \
                     caller (TrainOptions::front_init)",
                )
            })?))
        }
        (_, None) => Ok(None),
        (_, Some(_)) => Err(Error::invalid(
            "a front-end init matrix was given but the DNN options do not ask for one \
             (front: {filterbank: {init: mel}})",
        )),
    }
}

/// What a checkpoint was trained on: the data's fingerprints and the front end's starting matrix.
fn data_id(
    train: &Dataset<'_>,
    dev: Option<&Dataset<'_>>,
    front_init: Option<ArrayView2<'_, f32>>,
) -> String {
    let mut id = train.fingerprint() + &dev.map(|d| d.fingerprint()).unwrap_or_default();
    if let Some(m) = front_init {
        let mut h = blake3::Hasher::new();
        h.update(&(m.nrows() as u64).to_le_bytes());
        m.iter().for_each(|v| {
            h.update(&v.to_le_bytes());
        });
        id += &h.finalize().to_hex();
    }
    id
}

/// The trainer and loop state to start from: the checkpoint's if there is one for this data,
/// else a fresh network (seeded) normalised on the training data.
fn start(
    cfg: &DnnConfig,
    arch: Architecture,
    train: &Dataset<'_>,
    front_init: Option<ArrayView2<'_, f32>>,
    opts: &TrainOptions<'_>,
    data_id: &str,
) -> Result<(Trainer, RunState)> {
    let resumed = match opts.checkpoint_dir {
        Some(dir) => checkpoint::load(dir, cfg, &arch, data_id)?,
        None => None,
    };
    Ok(match resumed {
        Some(Checkpoint {
            dnn,
            best,
            opt,
            schedule,
        }) => {
            let mut t = Trainer::new(dnn, cfg, opts.matmul)?;
            t.opt = opt;
            (t, RunState { best, schedule })
        }
        None => {
            let mut dnn = Dnn::new(arch, cfg.seed)?;
            if cfg.front.is_none() {
                let (mean, std) = train.normalisation();
                dnn.set_normalisation(mean, std)?;
            } else {
                if let Some(m) = front_init {
                    dnn.init_front_filters(m)?;
                }
                dnn.set_input_scale(train.front_scale(&cfg.front)?)?;
                let (mean, std) = train.front_normalisation(&dnn)?;
                dnn.set_front_normalisation(mean, std)?;
            }
            let t = Trainer::new(dnn, cfg, opts.matmul)?;
            let schedule = Schedule::new(cfg.initial_lr());
            (
                t,
                RunState {
                    best: None,
                    schedule,
                },
            )
        }
    })
}

/// One pass over the training frames in the epoch's shuffled order: the summed loss, the hits
/// and the seconds taken, or `Break` if the progress callback stopped training.
fn run_epoch(
    trainer: &mut Trainer,
    cfg: &DnnConfig,
    train: &Dataset<'_>,
    epoch: usize,
    lr: f32,
    perm: &mut Vec<u32>,
    opts: &mut TrainOptions<'_>,
) -> ControlFlow<(), (f64, usize, f64)> {
    perm.clear();
    perm.extend(0..train.num_labelled() as u32);
    perm.shuffle(&mut rng_stream(cfg.seed, STREAM_SHUFFLE, epoch as u64));
    trainer.dropout_rng = rng_stream(cfg.seed, STREAM_DROPOUT, epoch as u64);
    let batch = cfg.batch;
    let batches = train.num_labelled().div_ceil(batch);

    let start = Instant::now();
    let (mut loss, mut hits) = (0.0f64, 0usize);
    for (b, chunk) in perm.chunks(batch).enumerate() {
        trainer.ws.frames.clear();
        trainer.ws.labels.clear();
        for &j in chunk {
            let (u, t) = train.frames[j as usize];
            trainer.ws.frames.push((u, t));
            trainer.ws.labels.push(train.labels[u as usize][t as usize]);
        }
        trainer.ws.splice(&trainer.dnn, &train.feats);
        let (l, h) = trainer.step_prepared(chunk.len(), lr);
        loss += l;
        hits += h;
        if opts.progress_every > 0 && (b + 1) % opts.progress_every == 0 {
            let done = ((b + 1) * batch).min(perm.len());
            let p = Progress::Batch {
                epoch: epoch + 1,
                batch: b + 1,
                batches,
                train_loss: loss / done as f64,
                frames_per_sec: done as f64 / start.elapsed().as_secs_f64(),
                lr,
            };
            report(opts, &p)?;
        }
    }
    ControlFlow::Continue((loss, hits, start.elapsed().as_secs_f64()))
}

/// The dev set's loss and accuracy after epoch `epoch` (0-based), or an error if the epoch
/// diverged (see [`divergence`]) or its dev loss is not finite; a diverged run's checkpoint is
/// removed, as it would only diverge again: a rerun must start afresh.
fn dev_scores(
    trainer: &mut Trainer,
    dev: Option<&Dataset<'_>>,
    epoch: usize,
    lr: f32,
    per_frame: f64,
    num_classes: usize,
    opts: &TrainOptions<'_>,
) -> Result<Option<(f64, f64)>> {
    let mut diverged = divergence(&trainer.dnn, epoch, per_frame, num_classes);
    let dev_scores = match diverged {
        None => dev.map(|d| evaluate(trainer, d)),
        Some(_) => None,
    };
    if let Some((l, _)) = dev_scores.filter(|(l, _)| !l.is_finite()) {
        diverged = Some(format!("the dev loss of epoch {} is {l}", epoch + 1));
    }
    if let Some(what) = diverged {
        if let Some(dir) = opts.checkpoint_dir {
            checkpoint::remove(dir)?;
        }
        return Err(Error::invalid(format!(
            "DNN training diverged: {what} (learning rate {lr:e}; try a smaller one, e.g. \
             --lr {:e})",
            lr / 10.0
        )));
    }
    Ok(dev_scores)
}

/// Why epoch `epoch` (0-based) diverged, if it did: a non-finite or exploded training loss
/// (`per_frame`, the mean over the frames), or a non-finite parameter.
fn divergence(dnn: &Dnn, epoch: usize, per_frame: f64, num_classes: usize) -> Option<String> {
    // A uniform guess costs ln(classes) per frame; an epoch a hundred times worse than that
    // means the weights blew up, even if they later settle on a finite, useless net.
    let blown_up = 100.0 * (num_classes as f64).ln().max(1.0);
    if !per_frame.is_finite() {
        Some(format!(
            "the training loss of epoch {} is {per_frame}",
            epoch + 1
        ))
    } else if per_frame > blown_up {
        Some(format!(
            "the training loss of epoch {} is {:.3e} per frame, over 100 times that of a \
             uniform guess ({:.2})",
            epoch + 1,
            per_frame,
            (num_classes as f64).ln()
        ))
    } else {
        non_finite_parameter(dnn)
            .map(|what| format!("after epoch {} {what} is not finite", epoch + 1))
    }
}

/// The first weight or bias tensor of `dnn` holding NaN or an infinity, named as in model files.
fn non_finite_parameter(dnn: &Dnn) -> Option<String> {
    let bad = |v: &[f32]| v.iter().any(|x| !x.is_finite());
    for (i, l) in dnn.layers.iter().enumerate() {
        let w = l.weight.as_slice().is_none_or(bad);
        if w || l.bias.as_slice().is_none_or(bad) {
            let which = if w { "weight" } else { "bias" };
            return Some(format!("layers.{i}.{which}"));
        }
    }
    let front = dnn.front_params()?;
    (front.weight.iter().any(|x| !x.is_finite()) || front.bias.iter().any(|x| !x.is_finite()))
        .then(|| "the front end's parameters".to_string())
}

fn report(opts: &mut TrainOptions<'_>, p: &Progress<'_>) -> ControlFlow<()> {
    match opts.on_progress.as_mut() {
        Some(f) => f(p),
        None => ControlFlow::Continue(()),
    }
}

/// Mean cross-entropy and frame accuracy on a dataset, in minibatches, without dropout.
fn evaluate(trainer: &mut Trainer, data: &Dataset<'_>) -> (f64, f64) {
    let (mut loss, mut hits) = (0.0f64, 0usize);
    let cap = trainer.ws.cap();
    for chunk in data.frames.chunks(cap) {
        trainer.ws.frames.clear();
        trainer.ws.frames.extend_from_slice(chunk);
        trainer.ws.labels.clear();
        trainer.ws.labels.extend(
            chunk
                .iter()
                .map(|&(u, t)| data.labels[u as usize][t as usize]),
        );
        trainer.ws.splice(&trainer.dnn, &data.feats);
        let (l, h) = trainer.evaluate_prepared(chunk.len());
        loss += l;
        hits += h;
    }
    let n = data.num_labelled() as f64;
    (loss / n, hits as f64 / n)
}

/// What the loop carries besides the trainer.
struct RunState {
    /// Weights of the best epoch so far.
    best: Option<Weights>,
    schedule: Schedule,
}

impl RunState {
    fn keep_best(&mut self, dnn: &Dnn) {
        match &mut self.best {
            Some(best) => best.copy_from(dnn),
            None => self.best = Some(Weights::of(dnn)),
        }
    }

    /// Record an epoch that did not diverge: whether it is the best so far (with a dev set),
    /// the schedule's next step, the checkpoint (if asked for) and the history.
    fn end_epoch(
        &mut self,
        cfg: &DnnConfig,
        trainer: &Trainer,
        mut stats: EpochStats,
        opts: &TrainOptions<'_>,
        data_id: &str,
    ) -> Result<EpochStats> {
        if let Some(dev_loss) = stats.dev_loss {
            stats.best = self.schedule.after_dev(cfg, dev_loss);
            if stats.best {
                self.keep_best(&trainer.dnn);
            }
        }
        self.schedule.epochs_done += 1;
        if self.schedule.outcome.is_none() && self.schedule.epochs_done >= cfg.epochs {
            self.schedule.outcome = Some(Outcome::Completed);
        }
        self.schedule.history.push(stats.clone());
        if let Some(dir) = opts.checkpoint_dir {
            checkpoint::save(
                dir,
                cfg,
                data_id,
                &trainer.dnn,
                self.best.as_ref(),
                &trainer.opt,
                &self.schedule,
            )?;
        }
        Ok(stats)
    }

    fn finish(self, trainer: Trainer, outcome: Outcome) -> Trained {
        let mut dnn = trainer.into_dnn();
        if let Some(best) = self.best {
            best.restore(&mut dnn);
        }
        Trained {
            dnn,
            best_epoch: self.schedule.best_epoch,
            history: self.schedule.history,
            outcome,
        }
    }
}
