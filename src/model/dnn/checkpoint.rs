//! Per-epoch checkpoints: everything a resumed run needs to continue with exactly the numbers an
//! uninterrupted run would have (weights, best weights, optimiser state, learning-rate schedule).
//!
//! A checkpoint directory holds `epoch-NNNN.safetensors` (tensors) and `checkpoint.json` (the
//! rest, naming the tensor file and its blake3 hash). The JSON is written last and atomically, so
//! a run killed at any moment leaves the previous complete checkpoint in place; older tensor files
//! are removed only after that. Floats that steer training are stored as their bit patterns, so
//! reading them back is exact.

use std::path::{Path, PathBuf};

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::file::take_front;
use super::history::{EpochStats, Outcome};
use super::optim::Optim;
use super::{Architecture, Dnn, DnnConfig, Linear, take_layers, tensor_names};
use crate::error::{Error, Result};
use crate::io;

const FORMAT: &str = "asrpipe-dnn-checkpoint";
const META: &str = "checkpoint.json";

/// Learning-rate schedule and early-stopping state (newbob).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Schedule {
    /// Epochs finished.
    pub epochs_done: usize,
    /// Learning rate for the next epoch.
    #[serde(with = "bits_f32")]
    pub lr: f32,
    /// Halving has started (it then continues every epoch).
    pub halving: bool,
    #[serde(with = "bits_opt_f64")]
    pub best_loss: Option<f64>,
    /// 1-based.
    pub best_epoch: Option<usize>,
    /// Epochs since the best one.
    pub bad_epochs: usize,
    /// Set once training has ended (a resumed finished run returns at once).
    pub outcome: Option<Outcome>,
    pub history: Vec<EpochStats>,
}

impl Schedule {
    pub fn new(lr: f32) -> Schedule {
        Schedule {
            epochs_done: 0,
            lr,
            halving: false,
            best_loss: None,
            best_epoch: None,
            bad_epochs: 0,
            outcome: None,
            history: Vec::new(),
        }
    }

    /// Newbob after an epoch (not yet counted in `epochs_done`) scored `dev_loss`: once the relative
    /// improvement over the best loss falls below the threshold, the learning rate is multiplied by
    /// the halving factor after every epoch; after `patience` epochs without a new best (and at
    /// least `min_epochs`), training stops. Returns whether this epoch is the new best.
    pub fn after_dev(&mut self, cfg: &DnnConfig, dev_loss: f64) -> bool {
        let epoch = self.epochs_done + 1;
        let improved = self.best_loss.is_none_or(|b| dev_loss < b);
        if let Some(best) = self.best_loss {
            let gain = (best - dev_loss) / best.abs().max(f64::MIN_POSITIVE);
            if gain < f64::from(cfg.halving_threshold) {
                self.halving = true;
            }
        }
        if improved {
            self.best_loss = Some(dev_loss);
            self.best_epoch = Some(epoch);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        if self.halving {
            self.lr *= cfg.halving_factor;
        }
        if cfg.patience > 0 && epoch >= cfg.min_epochs && self.bad_epochs >= cfg.patience {
            self.outcome = Some(Outcome::EarlyStopped);
        }
        improved
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: String,
    version: u32,
    config: DnnConfig,
    arch: Architecture,
    /// Fingerprint of the training (and dev) data.
    data: String,
    tensors: String,
    tensors_blake3: String,
    optimizer_steps: u64,
    schedule: Schedule,
}

/// The learned numbers of a network (the best epoch's are kept beside the current ones).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Weights {
    pub layers: Vec<Linear>,
    pub front: Option<Linear>,
}

impl Weights {
    pub fn of(dnn: &Dnn) -> Weights {
        Weights {
            layers: dnn.layers.clone(),
            front: dnn.front_params().cloned(),
        }
    }

    /// Overwrite with `dnn`'s numbers, reusing the buffers.
    pub fn copy_from(&mut self, dnn: &Dnn) {
        self.layers
            .iter_mut()
            .zip(&dnn.layers)
            .for_each(|(b, l)| b.clone_from(l));
        if let (Some(b), Some(f)) = (&mut self.front, dnn.front_params()) {
            b.clone_from(f);
        }
    }

    /// Put these numbers into `dnn` (same architecture).
    pub fn restore(self, dnn: &mut Dnn) {
        dnn.layers_mut().clone_from_slice(&self.layers);
        if let (Some(b), Some(f)) = (self.front, dnn.front_params_mut()) {
            *f = b;
        }
    }
}

/// A loaded checkpoint.
pub(crate) struct Checkpoint {
    pub dnn: Dnn,
    pub best: Option<Weights>,
    pub opt: Optim,
    pub schedule: Schedule,
}

fn hash_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(blake3::hash(&bytes).to_hex().to_string())
}

/// Names of a layer's optimiser state (`opt.{i}.*`; the front end's are `opt.front.*`).
fn slot_names(layer: &str) -> [String; 4] {
    ["w1", "b1", "w2", "b2"].map(|s| format!("opt.{layer}.{s}"))
}

/// Write the checkpoint of the epochs done so far into `dir`.
pub(crate) fn save(
    dir: &Path,
    cfg: &DnnConfig,
    data: &str,
    dnn: &Dnn,
    best: Option<&Weights>,
    opt: &Optim,
    schedule: &Schedule,
) -> Result<()> {
    let name = format!("epoch-{:04}.safetensors", schedule.epochs_done);
    let path = dir.join(&name);
    let names = tensor_names(dnn.layers.len());
    let mut tensors = dnn.named_tensors();
    if let Some(best) = best {
        for (l, (w, b)) in best.layers.iter().zip(&names) {
            tensors.push((format!("best.{w}"), l.weight.view().into_dyn()));
            tensors.push((format!("best.{b}"), l.bias.view().into_dyn()));
        }
        if let Some(f) = &best.front {
            tensors.push((
                format!("best.{}", dnn.arch.front.weight_name()),
                f.weight.view().into_dyn(),
            ));
            if !f.bias.is_empty() {
                tensors.push(("best.front.bias".into(), f.bias.view().into_dyn()));
            }
        }
    }
    let layers = (0..opt.slots.len()).map(|i| i.to_string());
    let slots = opt
        .slots
        .iter()
        .zip(layers)
        .chain(opt.front.iter().map(|s| (s, "front".to_string())));
    for (s, layer) in slots {
        for (v, n) in [&s.w1, &s.b1, &s.w2, &s.b2]
            .into_iter()
            .zip(slot_names(&layer))
        {
            if !v.is_empty() {
                tensors.push((n, ArrayView1::from(v.as_slice()).into_dyn()));
            }
        }
    }
    let views: Vec<(&str, _)> = tensors
        .iter()
        .map(|(n, v)| (n.as_str(), v.view()))
        .collect();
    io::write_tensors(&path, &views)?;
    let meta = Meta {
        format: FORMAT.into(),
        version: 1,
        config: cfg.clone(),
        arch: dnn.arch.clone(),
        data: data.into(),
        tensors: name.clone(),
        tensors_blake3: hash_file(&path)?,
        optimizer_steps: opt.steps,
        schedule: schedule.clone(),
    };
    io::write_json(&dir.join(META), &meta)?;
    // Only now is the new checkpoint complete: drop older tensor files.
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries.flatten() {
        let f = entry.file_name().to_string_lossy().into_owned();
        if f.starts_with("epoch-") && f.ends_with(".safetensors") && f != name {
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(())
}

/// Remove the checkpoint in `dir` (its JSON first, so a half-removed one is never resumed), and
/// `dir` itself if nothing else is left in it.
pub(crate) fn remove(dir: &Path) -> Result<()> {
    let meta = dir.join(META);
    if meta.exists() {
        std::fs::remove_file(&meta).map_err(|e| Error::io(&meta, e))?;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let f = entry.file_name().to_string_lossy().into_owned();
            if f.starts_with("epoch-") && f.ends_with(".safetensors") {
                std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
    Ok(())
}

/// Load the checkpoint in `dir`, if there is one, checking it belongs to this configuration
/// (only `epochs` may differ, so a finished run can be extended), architecture and data.
pub(crate) fn load(
    dir: &Path,
    cfg: &DnnConfig,
    arch: &Architecture,
    data: &str,
) -> Result<Option<Checkpoint>> {
    let meta_path = dir.join(META);
    if !meta_path.exists() {
        return Ok(None);
    }
    let meta: Meta = io::read_json(&meta_path)?;
    let wrong = |what: &str| {
        Err(Error::format(
            &meta_path,
            format!(
                "checkpoint was made with {what}; use another checkpoint directory or remove it"
            ),
        ))
    };
    if meta.format != FORMAT {
        return wrong(&format!("another format ({:?})", meta.format));
    }
    let mut same = cfg.clone();
    same.epochs = meta.config.epochs;
    if same != meta.config {
        return wrong("different DNN options");
    }
    if &meta.arch != arch {
        return wrong("a different network shape");
    }
    if meta.data != data {
        return wrong("different training or dev data");
    }
    let path: PathBuf = dir.join(&meta.tensors);
    if hash_file(&path)? != meta.tensors_blake3 {
        return Err(Error::format(
            &path,
            "checkpoint tensors do not match checkpoint.json",
        ));
    }
    let mut tensors = io::read_tensors(&path)?;
    let dnn = Dnn::from_tensors(meta.arch.clone(), &path, &mut tensors, "")?;
    let best = if tensors.contains_key("best.layers.0.weight") {
        Some(Weights {
            layers: take_layers(&meta.arch, &path, &mut tensors, "best.")?,
            front: take_front(&meta.arch, &path, &mut tensors, "best.")?,
        })
    } else {
        None
    };
    let mut opt = Optim::new(
        cfg.optimizer,
        cfg.momentum,
        cfg.l2,
        &dnn.layers,
        dnn.front_params(),
    );
    opt.steps = meta.optimizer_steps;
    let layers = (0..opt.slots.len()).map(|i| i.to_string());
    let slots = opt
        .slots
        .iter_mut()
        .zip(layers)
        .chain(opt.front.iter_mut().map(|s| (s, "front".to_string())));
    for (s, layer) in slots {
        for (v, n) in [&mut s.w1, &mut s.b1, &mut s.w2, &mut s.b2]
            .into_iter()
            .zip(slot_names(&layer))
        {
            if !v.is_empty() {
                *v = io::take_finite(&path, &mut tensors, &n, &[v.len()])?
                    .into_raw_vec_and_offset()
                    .0;
            }
        }
    }
    Ok(Some(Checkpoint {
        dnn,
        best,
        opt,
        schedule: meta.schedule,
    }))
}

/// Floats that steer training, stored by bit pattern (JSON decimal parsing is not guaranteed to
/// round-trip exactly).
mod bits_f32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(v.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
        u32::deserialize(d).map(f32::from_bits)
    }
}

mod bits_opt_f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&v.to_bits()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<u64>::deserialize(d).map(|v| v.map(f64::from_bits))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newbob_halves_after_plateau_and_stops_after_patience() {
        let cfg = DnnConfig {
            halving_threshold: 0.01,
            halving_factor: 0.5,
            min_epochs: 1,
            patience: 2,
            ..Default::default()
        };
        let mut s = Schedule::new(0.1);
        // loss:     1.0  0.8 (gain 20%)  0.795 (gain 0.6%: halving starts)  0.9 (worse)
        //           0.7 (new best)  0.71  0.72 (second epoch without a best: stop)
        let losses = [1.0, 0.8, 0.795, 0.9, 0.7, 0.71, 0.72];
        let best = [true, true, true, false, true, false, false];
        let lrs = [0.1, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125];
        for (i, &loss) in losses.iter().enumerate() {
            assert_eq!(s.outcome, None, "epoch {}", i + 1);
            assert_eq!(s.after_dev(&cfg, loss), best[i], "epoch {}", i + 1);
            s.epochs_done += 1;
            assert!((s.lr - lrs[i]).abs() < 1e-9, "epoch {}: lr {}", i + 1, s.lr);
        }
        assert_eq!(s.outcome, Some(Outcome::EarlyStopped));
        assert_eq!((s.best_epoch, s.best_loss), (Some(5), Some(0.7)));
    }
}
