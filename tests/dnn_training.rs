//! DNN training: toy problems learned, early stopping, determinism and exact resumption from
//! checkpoints. Run with `cargo test --release --test dnn_training`.

mod dnn_support;

use std::ops::ControlFlow;

use asrpipe::model::Classifier;
use asrpipe::model::dnn::{
    Dataset, Dnn, DnnConfig, EpochStats, Optimizer, Outcome, Progress, TrainOptions, train,
};
use dnn_support::{clusters, dataset, train_resuming};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn xor_data() -> (Array2<f32>, Vec<u32>) {
    let mut feats = Array2::zeros((256, 2));
    let mut labels = Vec::new();
    for i in 0..256 {
        let (a, b) = (i % 2, (i / 2) % 2);
        feats[[i, 0]] = a as f32;
        feats[[i, 1]] = b as f32;
        labels.push((a ^ b) as u32);
    }
    (feats, labels)
}

#[test]
fn tiny_net_learns_xor() {
    let (feats, labels) = xor_data();
    let data = Dataset::new(vec![feats.view()], vec![&labels]).unwrap();
    for optimizer in [Optimizer::Sgd, Optimizer::Adam] {
        let cfg = DnnConfig {
            hidden: "8".parse().unwrap(),
            context: 0,
            epochs: 30,
            batch: 16,
            optimizer,
            lr: Some(if optimizer == Optimizer::Sgd {
                0.1
            } else {
                0.02
            }),
            ..Default::default()
        };
        let out = train(&cfg, 2, &data, None, TrainOptions::default()).unwrap();
        assert_eq!(out.outcome, Outcome::Completed);
        assert_eq!(out.history.len(), 30);
        let lp = out.dnn.log_posteriors(feats.view()).unwrap();
        for (t, row) in lp.rows().into_iter().enumerate() {
            let guess = if row[1] > row[0] { 1 } else { 0 };
            assert_eq!(guess, labels[t], "{optimizer:?}: frame {t}");
        }
        assert!(
            out.history.last().unwrap().train_loss < 0.05,
            "{optimizer:?}"
        );
    }
}
#[test]
fn separable_clusters_are_learned_with_dev_set() {
    let (tf, tl) = clusters(40, 1);
    let (df, dl) = clusters(10, 2);
    let (train_set, dev_set) = (dataset(&tf, &tl), dataset(&df, &dl));
    let cfg = DnnConfig {
        hidden: "2x32".parse().unwrap(),
        context: 2,
        epochs: 15,
        batch: 32,
        ..Default::default()
    };
    let out = train(&cfg, 3, &train_set, Some(&dev_set), TrainOptions::default()).unwrap();
    let last = out.history.last().unwrap();
    let best = &out.history[out.best_epoch.unwrap() - 1];
    assert!(best.dev_accuracy.unwrap() > 0.99, "{:?}", out.history);
    assert!(best.best && best.dev_loss.unwrap() <= last.dev_loss.unwrap());
    // The stored normalisation is the training data's (features were offset by +10).
    assert!(out.dnn.input_mean().iter().all(|m| (*m - 10.0).abs() < 3.0));
    let mut right = 0;
    let mut total = 0;
    for (f, l) in df.iter().zip(&dl) {
        let lp = out.dnn.log_scores(f.view()).unwrap();
        for (row, &y) in lp.rows().into_iter().zip(l) {
            if y != u32::MAX {
                total += 1;
                let arg = (0..3).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
                right += usize::from(arg as u32 == y);
            }
        }
    }
    assert!((right as f64 / total as f64 - best.dev_accuracy.unwrap()).abs() < 1e-9);
}

#[test]
fn early_stopping_keeps_the_best_epoch() {
    // Labels are noise: dev loss gets worse as the net memorises, so training stops early and the
    // returned weights are the best epoch's, not the last.
    let (tf, mut tl) = clusters(20, 5);
    let (df, mut dl) = clusters(10, 6);
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    for l in tl.iter_mut().chain(dl.iter_mut()) {
        l.iter_mut().for_each(|y| *y = rng.random_range(0..3));
    }
    let (train_set, dev_set) = (dataset(&tf, &tl), dataset(&df, &dl));
    let cfg = DnnConfig {
        hidden: "2x64".parse().unwrap(),
        epochs: 40,
        batch: 16,
        min_epochs: 2,
        patience: 2,
        optimizer: Optimizer::Adam,
        lr: Some(0.01),
        ..Default::default()
    };
    let out = train(&cfg, 3, &train_set, Some(&dev_set), TrainOptions::default()).unwrap();
    assert_eq!(out.outcome, Outcome::EarlyStopped);
    assert!(out.history.len() < 40);
    let best = out.best_epoch.unwrap();
    assert_eq!(
        out.history.len(),
        best + 2,
        "stops `patience` epochs after the best"
    );
    let mut loss = 0.0;
    let mut n = 0.0;
    for (f, l) in df.iter().zip(&dl) {
        let g = out.dnn.gradients(f.view(), l).unwrap();
        let k = l.iter().filter(|y| **y != u32::MAX).count() as f64;
        loss += g.loss * k;
        n += k;
    }
    let best_loss = out.history[best - 1].dev_loss.unwrap();
    assert!(
        (loss / n - best_loss).abs() < 1e-5,
        "{} vs {best_loss}",
        loss / n
    );
}
fn weights(d: &Dnn) -> Vec<Array2<f32>> {
    d.layers().iter().map(|l| l.weight.clone()).collect()
}

#[test]
fn same_seed_same_weights() {
    let (tf, tl) = clusters(10, 21);
    let (df, dl) = clusters(4, 22);
    let (t, d) = (dataset(&tf, &tl), dataset(&df, &dl));
    let cfg = DnnConfig {
        hidden: "2x16".parse().unwrap(),
        epochs: 3,
        batch: 8,
        dropout: 0.2,
        seed: 5,
        ..Default::default()
    };
    let a = train(&cfg, 3, &t, Some(&d), TrainOptions::default()).unwrap();
    let b = train(&cfg, 3, &t, Some(&d), TrainOptions::default()).unwrap();
    assert_eq!(a.dnn, b.dnn);
    let c = train(
        &DnnConfig { seed: 6, ..cfg },
        3,
        &t,
        Some(&d),
        TrainOptions::default(),
    )
    .unwrap();
    assert_ne!(weights(&a.dnn), weights(&c.dnn));
}

/// A run stopped after epoch 2, then stopped again in the middle of epoch 4, then resumed to the
/// end, must end with the same bits as a run that never stopped.
fn resume_matches(optimizer: Optimizer) {
    let (tf, tl) = clusters(12, 31);
    let (df, dl) = clusters(4, 32);
    let (t, d) = (dataset(&tf, &tl), dataset(&df, &dl));
    let cfg = DnnConfig {
        hidden: "2x16".parse().unwrap(),
        epochs: 6,
        batch: 8,
        dropout: 0.1,
        l2: 1e-4,
        optimizer,
        halving_threshold: 0.5, // halve early so the schedule state matters
        seed: 9,
        ..Default::default()
    };
    let whole = train(&cfg, 3, &t, Some(&d), TrainOptions::default()).unwrap();
    assert_eq!(whole.history.len(), 6);

    let dir = tempfile::tempdir().unwrap();
    let mut stop_after_epoch_2 = |p: &Progress| match p {
        Progress::Epoch(s) if s.epoch == 2 => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    };
    let first = train(
        &cfg,
        3,
        &t,
        Some(&d),
        TrainOptions {
            checkpoint_dir: Some(dir.path()),
            on_progress: Some(&mut stop_after_epoch_2),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (first.outcome, first.history.len()),
        (Outcome::Interrupted, 2)
    );

    let mut stop_in_epoch_4 = |p: &Progress| match p {
        Progress::Batch {
            epoch: 4, batch: 5, ..
        } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    };
    let second = train(
        &cfg,
        3,
        &t,
        Some(&d),
        TrainOptions {
            checkpoint_dir: Some(dir.path()),
            progress_every: 1,
            on_progress: Some(&mut stop_in_epoch_4),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        (second.outcome, second.history.len()),
        (Outcome::Interrupted, 3)
    );

    let last = train_resuming(&cfg, &t, &d, dir.path()).unwrap();
    assert_eq!(last.outcome, Outcome::Completed);
    assert_eq!(last.dnn, whole.dnn, "{optimizer:?}");
    assert_eq!(last.best_epoch, whole.best_epoch);
    let lrs = |h: &[EpochStats]| {
        h.iter()
            .map(|e| (e.lr, e.train_loss, e.dev_loss))
            .collect::<Vec<_>>()
    };
    assert_eq!(lrs(&last.history), lrs(&whole.history));
    assert!(
        whole.history.iter().any(|e| e.lr < whole.history[0].lr),
        "schedule must have moved"
    );
    let files: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files.len(),
        2,
        "only the latest checkpoint is kept: {files:?}"
    );

    // A finished run resumed returns at once; a different configuration is refused.
    let again = train_resuming(&cfg, &t, &d, dir.path()).unwrap();
    assert_eq!(again.dnn, whole.dnn);
    let other = DnnConfig {
        lr: Some(0.5),
        ..cfg
    };
    let e = train_resuming(&other, &t, &d, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("checkpoint.json") && e.contains("different DNN options"),
        "{e}"
    );
}

#[test]
fn resumed_sgd_run_equals_uninterrupted_run() {
    resume_matches(Optimizer::Sgd);
}

#[test]
fn resumed_adam_run_equals_uninterrupted_run() {
    resume_matches(Optimizer::Adam);
}
