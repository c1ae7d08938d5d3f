//! Learned front ends of the DNN (filter bank on the power spectrogram, time convolution on raw
//! samples): gradients against finite differences, non-negative filters, model files,
//! checkpoints, parameter counts, views. Learning band-pass filters from tones is in
//! tests/dnn_front_learning.rs. Run with `cargo test --release --test dnn_front`.

mod dnn_support;

use std::ops::ControlFlow;

use asrpipe::model::Classifier;
use asrpipe::model::dnn::{
    Activation, Architecture, Centre, Dnn, DnnConfig, FilterKind, FilterbankFront, FilterbankInit,
    Front, HiddenSpec, Optimizer, Outcome, Pooling, Positivity, Progress, Rectify, TimeConvFront,
    TrainOptions, centre_order, count_params, match_params, train,
};
use dnn_support::{dataset, power_spectra, random, sine_frames, train_resuming};
use ndarray::{Array1, Array2, ArrayView2, array, s};

/// Mean cross-entropy through the inference path (independent of the training code's loss).
fn loss_of(dnn: &Dnn, feats: ArrayView2<f32>, labels: &[u32]) -> f64 {
    let lp = dnn.log_posteriors(feats).unwrap();
    let (mut sum, mut n) = (0.0f64, 0);
    for (t, &y) in labels.iter().enumerate() {
        if y != u32::MAX {
            sum -= f64::from(lp[[t, y as usize]]);
            n += 1;
        }
    }
    sum / n as f64
}

fn filterbank(filters: usize, positivity: Positivity, floor: f32) -> Front {
    Front::Filterbank(FilterbankFront {
        filters,
        positivity,
        floor,
        ..Default::default()
    })
}

fn timeconv(taps: usize, stride: usize, rectify: Rectify, pooling: Pooling) -> Front {
    Front::Timeconv(TimeConvFront {
        filters: 3,
        taps,
        stride,
        rectify,
        pooling,
        floor: 0.05,
        ..Default::default()
    })
}

fn arch(front: Front, feature_dim: usize, hidden: Vec<usize>, context: usize) -> Architecture {
    Architecture {
        feature_dim,
        context,
        hidden,
        activation: Activation::Tanh,
        num_classes: 3,
        front,
    }
}

/// A network with non-trivial normalisations and biases (so no unit sits on a kink).
fn network(a: Architecture, seed: u64) -> Dnn {
    let mut dnn = Dnn::new(a, seed).unwrap();
    dnn.set_input_scale(1.5).unwrap();
    let n = dnn.arch().frame_dim();
    let mean = random(1, n, seed + 1).row(0).mapv(|v| 0.5 * v);
    let std = random(1, n, seed + 2).row(0).mapv(|v| 0.8 + 0.3 * v.abs());
    dnn.set_front_normalisation(mean, std).unwrap();
    for (i, l) in dnn.layers_mut().iter_mut().enumerate() {
        l.bias = random(1, l.bias.len(), 50 + i as u64)
            .row(0)
            .mapv(|v| 0.3 * v);
    }
    if let Some(p) = dnn.front_params_mut() {
        let b = p.bias.len();
        p.bias = random(1, b, 60).row(0).mapv(|v| 0.2 * v);
    }
    dnn
}

/// Central differences (f32 parameters, loss in f64): every MLP weight and bias, every front-end
/// parameter and every input value, against `Dnn::gradients`.
fn check_gradients(mut dnn: Dnn, feats: Array2<f32>, labels: &[u32], what: &str) {
    let g = dnn.gradients(feats.view(), labels).unwrap();
    assert!(
        (g.loss - loss_of(&dnn, feats.view(), labels)).abs() < 1e-6,
        "{what}"
    );
    let eps = 1e-3f32;
    let close = |a: f32, n: f64, at: &str| {
        let a = f64::from(a);
        assert!(
            (a - n).abs() <= 3e-4 + 0.003 * a.abs().max(n.abs()),
            "{what}: {at}: analytic {a} vs numeric {n}"
        );
    };
    let numeric = |dnn: &mut Dnn, set: &dyn Fn(&mut Dnn, f32)| {
        set(dnn, eps);
        let up = loss_of(dnn, feats.view(), labels);
        set(dnn, -2.0 * eps);
        let down = loss_of(dnn, feats.view(), labels);
        set(dnn, eps);
        (up - down) / (2.0 * f64::from(eps))
    };
    for l in 0..dnn.layers().len() {
        let (rows, cols) = dnn.layers()[l].weight.dim();
        for i in 0..rows {
            for j in 0..cols {
                let n = numeric(&mut dnn, &|d, e| d.layers_mut()[l].weight[[i, j]] += e);
                close(
                    g.weights[l][[i, j]],
                    n,
                    &format!("layer {l} weight {i},{j}"),
                );
            }
            let n = numeric(&mut dnn, &|d, e| d.layers_mut()[l].bias[i] += e);
            close(g.biases[l][i], n, &format!("layer {l} bias {i}"));
        }
    }
    let front = g.front.as_ref().expect("front-end gradients");
    let (rows, cols) = dnn.front_params().unwrap().weight.dim();
    assert_eq!(front.weight.dim(), (rows, cols));
    let mut largest = 0.0f32;
    for i in 0..rows {
        for j in 0..cols {
            let n = numeric(&mut dnn, &|d, e| {
                d.front_params_mut().unwrap().weight[[i, j]] += e
            });
            close(front.weight[[i, j]], n, &format!("front weight {i},{j}"));
            largest = largest.max(front.weight[[i, j]].abs());
        }
    }
    for i in 0..dnn.front_params().unwrap().bias.len() {
        let n = numeric(&mut dnn, &|d, e| d.front_params_mut().unwrap().bias[i] += e);
        close(front.bias[i], n, &format!("front bias {i}"));
    }
    assert!(largest > 1e-3, "{what}: front-end gradient must not vanish");
    // Through the front end, the splice (edge frames appear several times) and the scale.
    for t in 0..feats.nrows() {
        for d in 0..feats.ncols() {
            let mut f = feats.clone();
            f[[t, d]] += eps;
            let up = loss_of(&dnn, f.view(), labels);
            f[[t, d]] -= 2.0 * eps;
            let down = loss_of(&dnn, f.view(), labels);
            close(
                g.input[[t, d]],
                (up - down) / (2.0 * f64::from(eps)),
                &format!("input {t},{d}"),
            );
        }
    }
}

/// Frame 2 has no label: it still feeds its neighbours' context.
const LABELS: [u32; 6] = [0, 2, u32::MAX, 1, 2, 1];

/// Power-like input: positive, spread over two decades.
fn power(frames: usize, bins: usize, seed: u64) -> Array2<f32> {
    random(frames, bins, seed).mapv(|v| (1.2 * v).exp() + 0.05)
}

#[test]
fn filterbank_gradients_match_finite_differences_softplus() {
    let a = arch(filterbank(3, Positivity::Softplus, 0.05), 6, vec![4], 1);
    check_gradients(network(a, 7), power(6, 6, 3), &LABELS, "softplus");
}

#[test]
fn filterbank_gradients_match_finite_differences_square() {
    let a = arch(filterbank(3, Positivity::Square, 0.05), 6, vec![], 2);
    check_gradients(network(a, 8), power(6, 6, 4), &LABELS, "square");
}

#[test]
fn timeconv_gradients_match_finite_differences_relu_max() {
    // 12-sample frames, 5 taps, stride 2: positions 0, 2, 4, 6. Max pooling and ReLU have
    // kinks; in this data no winner changes within ±eps (with input seed 5 one does, and the
    // one-sided differences then straddle the analytic value).
    let a = arch(timeconv(5, 2, Rectify::Relu, Pooling::Max), 12, vec![4], 1);
    check_gradients(network(a, 9), random(6, 12, 15), &LABELS, "relu max");
}

#[test]
fn timeconv_gradients_match_finite_differences_square_mean() {
    let a = arch(
        timeconv(4, 1, Rectify::Square, Pooling::Mean),
        9,
        vec![4],
        2,
    );
    check_gradients(network(a, 10), random(6, 9, 6), &LABELS, "square mean");
}

#[test]
fn timeconv_gradients_match_finite_differences_relu_mean_and_square_max() {
    let a = arch(timeconv(3, 3, Rectify::Relu, Pooling::Mean), 11, vec![5], 1);
    check_gradients(network(a, 11), random(6, 11, 7), &LABELS, "relu mean");
    // One position only: frame as long as the kernel.
    let a = arch(timeconv(8, 1, Rectify::Square, Pooling::Max), 8, vec![], 1);
    check_gradients(network(a, 12), random(6, 8, 8), &LABELS, "square max");
}

/// Sine utterances as 32-sample frames and as their power spectra (17 bins).
struct Sines {
    spectra: Vec<Array2<f32>>,
    waves: Vec<Array2<f32>>,
    labels: Vec<Vec<u32>>,
}

fn sines(utts: usize, seed: u64) -> Sines {
    let (waves, labels) = sine_frames(utts, 32, seed);
    let spectra = waves.iter().map(power_spectra).collect();
    Sines {
        spectra,
        waves,
        labels,
    }
}

fn fb_config(positivity: Positivity, optimizer: Optimizer, lr: f32) -> DnnConfig {
    DnnConfig {
        hidden: "8".parse().unwrap(),
        context: 2,
        epochs: 6,
        batch: 8,
        optimizer,
        lr: Some(lr),
        front: filterbank(4, positivity, 1e-6),
        ..Default::default()
    }
}

#[test]
fn filter_weights_stay_non_negative_under_sgd_and_adam() {
    // Large steps, many of them: the weights move a lot, some towards zero, none below it.
    let Sines {
        spectra, labels, ..
    } = sines(30, 1);
    let data = dataset(&spectra, &labels);
    for positivity in [Positivity::Softplus, Positivity::Square] {
        for (optimizer, lr) in [(Optimizer::Sgd, 0.5), (Optimizer::Adam, 0.1)] {
            let mut cfg = fb_config(positivity, optimizer, lr);
            cfg.epochs = 20;
            let out = train(&cfg, 3, &data, None, TrainOptions::default()).unwrap();
            let steps: usize = 20 * data.num_labelled().div_ceil(8);
            let w = out.dnn.front_filters(0).unwrap().unwrap().weights;
            let w0 = Dnn::new(out.dnn.arch().clone(), 0)
                .unwrap()
                .front_filters(0)
                .unwrap()
                .unwrap()
                .weights;
            let what = format!("{positivity:?} {optimizer:?} after {steps} steps");
            assert!(
                w.iter().all(|v| v.is_finite() && *v >= 0.0),
                "{what}: {w:?}"
            );
            let moved = (&w - &w0).mapv(f32::abs).sum() / w0.sum();
            assert!(
                moved > 0.5,
                "{what}: weights moved by {moved} of their mass"
            );
            let top = w.fold(0.0f32, |m, &v| m.max(v));
            assert!(
                w.iter().any(|v| *v < 1e-2 * top),
                "{what}: no weight was pushed towards zero"
            );
        }
    }
}

/// The mel-like start: three triangles over 8 bins, `[bins, filters]` as `Filterbank::dense()`.
fn triangles() -> Array2<f32> {
    array![
        [0.0f32, 0.0, 0.0],
        [1.0, 0.0, 0.0],
        [0.5, 0.5, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.5, 0.5],
        [0.0, 0.0, 1.0],
        [0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0]
    ]
}

#[test]
fn filter_bank_starts_at_a_given_matrix() {
    let mel = triangles();
    for positivity in [Positivity::Softplus, Positivity::Square] {
        let a = arch(filterbank(3, positivity, 1e-6), 8, vec![4], 1);
        let mut dnn = Dnn::new(a, 3).unwrap();
        dnn.init_front_filters(mel.view()).unwrap();
        let f = dnn.front_filters(0).unwrap().unwrap();
        assert_eq!(f.kind, FilterKind::PowerWeights);
        assert_eq!(f.weights.dim(), (3, 8));
        // Softplus cannot reach zero: zeros start at 1e-4 of the filter's peak.
        for ((j, k), &w) in f.weights.indexed_iter() {
            let want = mel[[k, j]];
            assert!(
                (w - want).abs() <= 1.1e-4 * want.max(1.0),
                "{positivity:?}: filter {j} bin {k}: {w} vs {want}"
            );
        }
        assert_eq!(f.responses, f.weights);
        assert_eq!(centre_order(f.responses.view(), Centre::Peak), [0, 1, 2]);
        // Transposed, negative or empty matrices are refused with the shapes named.
        let e = dnn.init_front_filters(mel.t()).unwrap_err().to_string();
        assert!(
            e.contains("3x8") && e.contains("8 (spectrogram bins) x 3"),
            "{e}"
        );
        let mut bad = mel.clone();
        bad[[2, 1]] = -0.1;
        let e = dnn.init_front_filters(bad.view()).unwrap_err().to_string();
        assert!(e.contains("filter 1") && e.contains("non-negative"), "{e}");
        bad.column_mut(1).fill(0.0);
        let e = dnn.init_front_filters(bad.view()).unwrap_err().to_string();
        assert!(e.contains("filter 1 is all zeros"), "{e}");
    }
}

#[test]
fn mel_start_is_taken_from_the_caller_and_normalises_the_log_mel() {
    // 14-sample frames: 8 power bins, three triangles.
    let (waves, labels) = sine_frames(12, 14, 5);
    let spectra: Vec<Array2<f32>> = waves.iter().map(power_spectra).collect();
    let data = dataset(&spectra, &labels);
    let mel = triangles();
    let mut cfg = fb_config(Positivity::Softplus, Optimizer::Adam, 0.01);
    cfg.front = Front::Filterbank(FilterbankFront {
        filters: 3,
        init: FilterbankInit::Mel,
        ..Default::default()
    });
    let e = train(&cfg, 3, &data, None, TrainOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("init = mel") && e.contains("front_init"), "{e}");
    cfg.epochs = 0;
    let opts = || TrainOptions {
        front_init: Some(mel.view()),
        ..Default::default()
    };
    let start = train(&cfg, 3, &data, None, opts()).unwrap().dnn;
    // Untrained: the front end is the mel matrix, the input scale the mean power, and the log
    // outputs' normalisation their training mean and deviation.
    let mean_power = spectra.iter().map(|s| s.sum()).sum::<f32>()
        / spectra.iter().map(|s| s.len()).sum::<usize>() as f32;
    assert!(start.input_mean().iter().all(|m| *m == 0.0));
    assert!(
        start
            .input_std()
            .iter()
            .all(|s| (s - mean_power).abs() < 1e-4 * mean_power)
    );
    let w = start.front_filters(0).unwrap().unwrap().weights;
    let log_mel: Vec<Array2<f32>> = spectra
        .iter()
        .map(|s| (s / mean_power).dot(&w.t()).mapv(|y| (y + 1e-6).ln()))
        .collect();
    let all = ndarray::concatenate(
        ndarray::Axis(0),
        &log_mel.iter().map(|a| a.view()).collect::<Vec<_>>(),
    )
    .unwrap();
    let (mean, std) = start.front_normalisation().unwrap();
    for j in 0..3 {
        let col = all.column(j);
        let m = col.mean().unwrap();
        let s = col.std(0.0);
        assert!(
            (mean[j] - m).abs() < 1e-4,
            "filter {j}: mean {} vs {m}",
            mean[j]
        );
        assert!(
            (std[j] - s).abs() < 1e-4 * s,
            "filter {j}: std {} vs {s}",
            std[j]
        );
    }
    let z = start.front_features(spectra[0].view()).unwrap();
    assert!((&z - &log_mel[0]).iter().all(|d| d.abs() < 1e-4));
    // A matrix the options do not ask for is refused too.
    let plain = fb_config(Positivity::Softplus, Optimizer::Adam, 0.01);
    let e = train(&plain, 3, &data, None, opts())
        .unwrap_err()
        .to_string();
    assert!(e.contains("do not ask for one"), "{e}");
}

#[test]
fn layer_zero_is_the_normalised_front_end_output_spliced() {
    let a = arch(timeconv(5, 2, Rectify::Relu, Pooling::Max), 12, vec![4], 1);
    let dnn = network(a, 9);
    let feats = random(4, 12, 15);
    let z = dnn.front_features(feats.view()).unwrap();
    assert_eq!(z.dim(), (4, 3));
    let (mean, std) = dnn.front_normalisation().unwrap();
    let norm = (&z - &mean.view().insert_axis(ndarray::Axis(0)))
        / std.view().insert_axis(ndarray::Axis(0));
    let x = dnn.activations(feats.view(), 0).unwrap();
    assert_eq!(x.dim(), (4, 9));
    // Frame 0's left context repeats frame 0.
    for (t, frames) in [(0, [0, 0, 1]), (2, [1, 2, 3]), (3, [2, 3, 3])] {
        for (o, &src) in frames.iter().enumerate() {
            for j in 0..3 {
                assert!((x[[t, o * 3 + j]] - norm[[src, j]]).abs() < 1e-5);
            }
        }
    }
    // The pooled output by hand for frame 1: relu(max over positions of kernel · window + b).
    let p = dnn.front_params().unwrap();
    let scaled = feats.row(1).mapv(|v| v / 1.5);
    for k in 0..3 {
        let best = (0..4)
            .map(|pos| {
                let w = scaled.slice(s![pos * 2..pos * 2 + 5]);
                w.dot(&p.weight.row(k)) + p.bias[k]
            })
            .fold(f32::NEG_INFINITY, f32::max)
            .max(0.0);
        assert!((z[[1, k]] - (best + 0.05).ln()).abs() < 1e-5);
    }
    assert_eq!(dnn.first_layer_filters().shape(), &[4, 3, 3]);
}

#[test]
fn parameters_count_the_front_end_and_matching_compares_the_mlps() {
    let fb = filterbank(40, Positivity::Softplus, 1e-6);
    let a = arch(fb.clone(), 257, vec![1000, 1000], 5);
    let dnn = Dnn::new(a, 0).unwrap();
    // 40*257 filter weights; MLP 440 -> 1000 -> 1000 -> 3.
    let mlp = count_params(440, &[1000, 1000], 3);
    assert_eq!(dnn.num_params(), 40 * 257 + mlp);
    let counted: usize = dnn
        .layers()
        .iter()
        .map(|l| l.weight.len() + l.bias.len())
        .sum::<usize>()
        + dnn
            .front_params()
            .map_or(0, |p| p.weight.len() + p.bias.len());
    assert_eq!(counted, dnn.num_params());
    let cfg = DnnConfig {
        hidden: "2x1000".parse().unwrap(),
        front: fb,
        ..Default::default()
    };
    assert_eq!(cfg.mlp_input_dim(257), 440);
    assert_eq!(cfg.num_params(257, 3), dnn.num_params());
    // A time convolution: 40 kernels of 400 taps and their biases.
    let tc = Front::Timeconv(TimeConvFront::default());
    assert_eq!(tc.num_params(560), 40 * 400 + 40);
    let cfg = DnnConfig { front: tc, ..cfg };
    assert_eq!(
        cfg.num_params(560, 3),
        40 * 400 + 40 + count_params(440, &[1000, 1000], 3)
    );
    // Deep vs shallow with the same front end: the MLPs are matched on the front end's output.
    let h = match_params(&"2x1000".parse().unwrap(), cfg.mlp_input_dim(560), 3);
    let shallow = DnnConfig {
        hidden: HiddenSpec::uniform(1, h),
        ..cfg.clone()
    };
    let (deep, wide) = (cfg.num_params(560, 3), shallow.num_params(560, 3));
    assert!(deep.abs_diff(wide) <= 440 + 3 + 1, "{deep} vs {wide}");
}

#[test]
fn models_with_a_front_end_save_and_load() {
    let Sines {
        spectra,
        waves,
        labels,
    } = sines(8, 2);
    let fb = fb_config(Positivity::Square, Optimizer::Sgd, 0.05);
    let mut tc = fb.clone();
    tc.front = timeconv(9, 2, Rectify::Square, Pooling::Mean);
    for (cfg, feats) in [(fb, &spectra), (tc, &waves)] {
        let data = dataset(feats, &labels);
        let dnn = train(&cfg, 3, &data, None, TrainOptions::default())
            .unwrap()
            .dnn;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("net.safetensors");
        dnn.save(&path).unwrap();
        let back = Dnn::load(&path).unwrap();
        assert_eq!(back, dnn);
        assert_eq!(
            back.log_scores(feats[0].view()).unwrap(),
            dnn.log_scores(feats[0].view()).unwrap()
        );
        let meta: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("net.json")).unwrap())
                .unwrap();
        assert_eq!(meta["num_params"], dnn.num_params());
        assert_eq!(meta["input_dim"], 5 * dnn.arch().frame_dim());
        assert!(meta["usage"].as_str().unwrap().contains("front.norm_mean"));
        let kind = if matches!(cfg.front, Front::Timeconv(_)) {
            "timeconv"
        } else {
            "filterbank"
        };
        assert!(meta["front"][kind].is_object(), "{meta}");
        // A file whose tensors lack the front end is refused, naming the tensor.
        let mut wrong = meta.clone();
        if kind == "timeconv" {
            wrong["front"]["timeconv"]["taps"] = serde_json::json!(8);
        } else {
            wrong["front"]["filterbank"]["filters"] = serde_json::json!(5);
        }
        std::fs::write(dir.path().join("net.json"), wrong.to_string()).unwrap();
        let e = Dnn::load(&path).unwrap_err().to_string();
        assert!(
            e.contains("net.safetensors") && e.contains("front.weight"),
            "{e}"
        );
    }
}

#[test]
fn model_files_from_before_front_ends_still_load() {
    // Written by the DNN code before front ends existed (feature_dim 3, context 1, one tanh
    // layer of 4, 2 classes); the log posteriors below are what that code computed.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dnn_support/v1-model");
    let dnn = Dnn::load(&dir.join("net.safetensors")).unwrap();
    assert!(dnn.arch().front.is_none() && dnn.front_params().is_none());
    let f = array![[1.0f32, 0.0, 2.0], [-1.0, 3.0, 0.5], [0.25, -2.0, 1.0]];
    let want = array![
        [-0.278_666_47f32, -1.413_839_6],
        [-0.251_008_2, -1.505_149_8],
        [-0.139_655_05, -2.037_594_3]
    ];
    let got = dnn.log_posteriors(f.view()).unwrap();
    assert!((&got - &want).iter().all(|d| d.abs() < 1e-6), "{got:?}");
    // Saved again, its metadata is byte for byte what it was: no `front` key appears.
    let out = tempfile::tempdir().unwrap();
    dnn.save(&out.path().join("net.safetensors")).unwrap();
    assert_eq!(
        std::fs::read_to_string(out.path().join("net.json")).unwrap(),
        std::fs::read_to_string(dir.join("net.json")).unwrap()
    );
}

/// Stopped after epoch 2 and resumed, a run ends with the same bits as one that never stopped.
fn resumes_exactly(cfg: &DnnConfig, feats: &[Array2<f32>], labels: &[Vec<u32>]) {
    let (t, d) = (
        dataset(&feats[..10], &labels[..10]),
        dataset(&feats[10..], &labels[10..]),
    );
    let whole = train(cfg, 3, &t, Some(&d), TrainOptions::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut stop = |p: &Progress| match p {
        Progress::Epoch(s) if s.epoch == 2 => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    };
    let first = train(
        cfg,
        3,
        &t,
        Some(&d),
        TrainOptions {
            checkpoint_dir: Some(dir.path()),
            on_progress: Some(&mut stop),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(first.outcome, Outcome::Interrupted);
    let last = train_resuming(cfg, &t, &d, dir.path()).unwrap();
    assert_eq!(last.outcome, Outcome::Completed);
    assert_eq!(last.dnn, whole.dnn, "{:?}", cfg.front);
    assert_eq!(last.best_epoch, whole.best_epoch);
    assert_ne!(
        whole.dnn.front_params(),
        Dnn::new(whole.dnn.arch().clone(), cfg.seed)
            .unwrap()
            .front_params(),
        "the front end must have trained"
    );
    // Another front end is another network: its checkpoint is refused.
    let mut other = cfg.clone();
    other.front = match &cfg.front {
        Front::Filterbank(f) => Front::Filterbank(FilterbankFront {
            filters: f.filters + 1,
            ..f.clone()
        }),
        _ => timeconv(7, 1, Rectify::Relu, Pooling::Max),
    };
    let e = train_resuming(&other, &t, &d, dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("checkpoint.json"), "{e}");
}

#[test]
fn resumed_runs_with_a_front_end_equal_uninterrupted_runs() {
    let Sines {
        spectra,
        waves,
        labels,
    } = sines(14, 3);
    let mut cfg = fb_config(Positivity::Softplus, Optimizer::Adam, 0.01);
    cfg.dropout = 0.1;
    cfg.l2 = 1e-4;
    cfg.halving_threshold = 0.5;
    cfg.seed = 4;
    resumes_exactly(&cfg, &spectra, &labels);
    cfg.optimizer = Optimizer::Sgd;
    cfg.lr = Some(0.05);
    cfg.front = timeconv(9, 2, Rectify::Relu, Pooling::Max);
    resumes_exactly(&cfg, &waves, &labels);
}

#[test]
fn a_step_on_spliced_rows_equals_a_step_on_frames() {
    // Trainer::step takes raw frames side by side; step_frames splices them from utterances.
    // The numbers agree to rounding, not bits: the first runs the front end on every copy of a
    // repeated edge frame, the second once, so sums are taken over different groupings.
    use asrpipe::model::dnn::{MatMul, Trainer};
    let Sines { waves, .. } = sines(2, 4);
    let cfg = DnnConfig {
        hidden: "6".parse().unwrap(),
        context: 2,
        batch: 4,
        front: timeconv(9, 3, Rectify::Relu, Pooling::Mean),
        ..Default::default()
    };
    let a = arch(cfg.front.clone(), 32, vec![6], 2);
    let frames = [(0u32, 0u32), (1, 5), (0, 3), (1, 11)];
    let labels = [0u32, 2, 1, 1];
    let rows = Array2::from_shape_fn((4, 5 * 32), |(r, c)| {
        let (u, t) = frames[r];
        let f = &waves[u as usize];
        let src = (t as isize + (c / 32) as isize - 2).clamp(0, f.nrows() as isize - 1);
        f[[src as usize, c % 32]]
    });
    let mut by_rows = Trainer::new(network(a.clone(), 1), &cfg, MatMul::Gemm).unwrap();
    let mut by_frames = Trainer::new(network(a, 1), &cfg, MatMul::Gemm).unwrap();
    let views: Vec<ArrayView2<f32>> = waves.iter().map(|w| w.view()).collect();
    for _ in 0..3 {
        let x = by_rows.step(rows.view(), &labels, 0.05).unwrap();
        let y = by_frames
            .step_frames(&views, &frames, &labels, 0.05)
            .unwrap();
        assert!(
            (x.loss - y.loss).abs() < 1e-6 && x.correct == y.correct,
            "{x:?} {y:?}"
        );
    }
    let (p, q) = (by_rows.dnn(), by_frames.dnn());
    let far = |a: &Array2<f32>, b: &Array2<f32>| (a - b).iter().fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(
        far(
            &p.front_params().unwrap().weight,
            &q.front_params().unwrap().weight
        ) < 1e-5
    );
    assert!(far(&p.layers()[0].weight, &q.layers()[0].weight) < 1e-5);
    assert_ne!(
        p.front_params(),
        network(p.arch().clone(), 1).front_params()
    );
    let e = by_frames
        .step_frames(&views, &[(1, 99)], &[0], 0.05)
        .unwrap_err()
        .to_string();
    assert!(e.contains("frame (1, 99)"), "{e}");
}

#[test]
fn bad_front_end_input_is_reported() {
    let Sines {
        spectra,
        waves,
        labels,
    } = sines(4, 6);
    // Frames shorter than the kernels: both lengths named.
    let cfg = DnnConfig {
        front: Front::Timeconv(TimeConvFront::default()),
        ..Default::default()
    };
    let e = train(
        &cfg,
        3,
        &dataset(&waves, &labels),
        None,
        TrainOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("400 taps") && e.contains("32 samples"), "{e}");
    // A filter bank fed something that is not a power spectrogram.
    let cfg = fb_config(Positivity::Softplus, Optimizer::Sgd, 0.1);
    let e = train(
        &cfg,
        3,
        &dataset(&waves, &labels),
        None,
        TrainOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("power spectrogram") && e.contains("utterance 0, frame 0"),
        "{e}"
    );
    let dnn = train(
        &cfg,
        3,
        &dataset(&spectra, &labels),
        None,
        TrainOptions::default(),
    )
    .unwrap()
    .dnn;
    let e = dnn
        .log_posteriors(spectra[0].mapv(|v| v - 1.0).view())
        .unwrap_err();
    assert!(e.to_string().contains("non-negative"), "{e}");
    // Options out of range, before any work.
    for (front, what) in [
        (
            filterbank(0, Positivity::Softplus, 1e-6),
            "at least one filter",
        ),
        (filterbank(4, Positivity::Softplus, -1.0), "floor"),
        (timeconv(4, 0, Rectify::Relu, Pooling::Max), "stride"),
    ] {
        let cfg = DnnConfig {
            front,
            ..Default::default()
        };
        assert!(
            cfg.validate().unwrap_err().to_string().contains(what),
            "{what}"
        );
    }
    // A front-end network reads its input at one scale only.
    let mut dnn = Dnn::new(
        arch(filterbank(2, Positivity::Square, 1e-6), 4, vec![], 0),
        0,
    )
    .unwrap();
    let e = dnn
        .set_normalisation(Array1::zeros(4), array![1.0, 2.0, 1.0, 1.0])
        .unwrap_err()
        .to_string();
    assert!(e.contains("one global scale"), "{e}");
}

#[test]
fn kernel_views_keep_signs_and_give_magnitude_responses() {
    let a = arch(timeconv(5, 2, Rectify::Relu, Pooling::Max), 12, vec![4], 1);
    let dnn = Dnn::new(a, 2).unwrap();
    let f = dnn.front_filters(16).unwrap().unwrap();
    assert_eq!(f.kind, FilterKind::Kernels);
    assert_eq!(f.weights, dnn.front_params().unwrap().weight);
    assert!(f.weights.iter().any(|v| *v < 0.0));
    assert_eq!(f.responses.dim(), (3, 9));
    // |H(0)| is the magnitude of the sum of the taps.
    for k in 0..3 {
        assert!((f.responses[[k, 0]] - f.weights.row(k).sum().abs()).abs() < 1e-5);
    }
    assert!(dnn.front_filters(4).is_err(), "fewer FFT points than taps");
    // The same seed gives the same random start; another seed another.
    let again = Dnn::new(dnn.arch().clone(), 2).unwrap();
    assert_eq!(again.front_params(), dnn.front_params());
    let other = Dnn::new(dnn.arch().clone(), 3).unwrap();
    assert_ne!(other.front_params(), dnn.front_params());
    // Without a front end there is nothing to show.
    let plain = Dnn::new(arch(Front::None, 4, vec![], 0), 0).unwrap();
    assert!(plain.front_filters(16).unwrap().is_none());
}
