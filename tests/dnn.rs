//! The DNN: gradients against finite differences, parameter arithmetic, activations, model files
//! (see tests/dnn_training.rs for training). Run with `cargo test --release --test dnn`.

mod dnn_support;

use asrpipe::model::Classifier;
use asrpipe::model::dnn::{
    Activation, Architecture, Dataset, Dnn, DnnConfig, Front, HiddenSpec, TrainOptions,
    count_params, match_params, train,
};
use dnn_support::{clusters, dataset, random};
use ndarray::{Array1, ArrayView2, array};

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

/// Central differences in f32 (loss summed in f64): |analytic - numeric| must be within
/// 2e-4 + 0.2% of the larger, for every parameter and every input feature.
fn check_gradients(hidden: &str, activation: Activation, context: usize) {
    let arch = Architecture {
        feature_dim: 3,
        context,
        hidden: hidden.parse::<HiddenSpec>().unwrap().widths().to_vec(),
        activation,
        num_classes: 4,
        front: Front::None,
    };
    let mut dnn = Dnn::new(arch, 7).unwrap();
    dnn.set_normalisation(array![0.5, -1.0, 0.0], array![2.0, 0.5, 1.0])
        .unwrap();
    // Non-zero biases: with zero biases a unit fed by dead units sits exactly on ReLU's kink.
    for (i, l) in dnn.layers_mut().iter_mut().enumerate() {
        l.bias = random(1, l.bias.len(), 50 + i as u64)
            .row(0)
            .mapv(|v| 0.3 * v);
    }
    let feats = random(6, 3, 3);
    // Frame 2 has no label: it still feeds its neighbours' context.
    let labels = [0u32, 3, u32::MAX, 1, 2, 1];
    let g = dnn.gradients(feats.view(), &labels).unwrap();
    assert!((g.loss - loss_of(&dnn, feats.view(), &labels)).abs() < 1e-6);

    let eps = 1e-3f32;
    let close = |a: f32, n: f64, what: &str| {
        let (a, n) = (f64::from(a), n);
        assert!(
            (a - n).abs() <= 2e-4 + 0.002 * a.abs().max(n.abs()),
            "{hidden} {activation:?}: {what}: analytic {a} vs numeric {n}"
        );
    };
    let mut checked = 0;
    for l in 0..dnn.layers().len() {
        let (rows, cols) = dnn.layers()[l].weight.dim();
        for i in 0..rows {
            for j in 0..cols {
                let w0 = dnn.layers()[l].weight[[i, j]];
                dnn.layers_mut()[l].weight[[i, j]] = w0 + eps;
                let up = loss_of(&dnn, feats.view(), &labels);
                dnn.layers_mut()[l].weight[[i, j]] = w0 - eps;
                let down = loss_of(&dnn, feats.view(), &labels);
                dnn.layers_mut()[l].weight[[i, j]] = w0;
                let numeric = (up - down) / (2.0 * f64::from(eps));
                close(
                    g.weights[l][[i, j]],
                    numeric,
                    &format!("layer {l} weight {i},{j}"),
                );
                checked += 1;
            }
            let b0 = dnn.layers()[l].bias[i];
            dnn.layers_mut()[l].bias[i] = b0 + eps;
            let up = loss_of(&dnn, feats.view(), &labels);
            dnn.layers_mut()[l].bias[i] = b0 - eps;
            let down = loss_of(&dnn, feats.view(), &labels);
            dnn.layers_mut()[l].bias[i] = b0;
            close(
                g.biases[l][i],
                (up - down) / (2.0 * f64::from(eps)),
                &format!("layer {l} bias {i}"),
            );
        }
    }
    // Through splicing (edge frames appear several times) and normalisation.
    for t in 0..feats.nrows() {
        for d in 0..feats.ncols() {
            let mut f = feats.clone();
            f[[t, d]] += eps;
            let up = loss_of(&dnn, f.view(), &labels);
            f[[t, d]] -= 2.0 * eps;
            let down = loss_of(&dnn, f.view(), &labels);
            close(
                g.input[[t, d]],
                (up - down) / (2.0 * f64::from(eps)),
                &format!("input {t},{d}"),
            );
        }
    }
    assert_eq!(
        checked,
        dnn.layers().iter().map(|l| l.weight.len()).sum::<usize>()
    );
    assert!(
        g.input.iter().any(|v| v.abs() > 1e-3),
        "input gradient must not vanish"
    );
}

#[test]
fn gradients_match_finite_differences_relu() {
    check_gradients("5,4", Activation::Relu, 1);
}

#[test]
fn gradients_match_finite_differences_sigmoid() {
    check_gradients("2x5", Activation::Sigmoid, 2);
}

#[test]
fn gradients_match_finite_differences_tanh() {
    check_gradients("4", Activation::Tanh, 1);
}

#[test]
fn gradients_match_finite_differences_softmax_only() {
    check_gradients("none", Activation::Relu, 1);
}

#[test]
fn hidden_specs_parse() {
    let widths = |s: &str| s.parse::<HiddenSpec>().unwrap().widths().to_vec();
    assert_eq!(widths("8x1000"), vec![1000; 8]);
    assert_eq!(widths("1000,500,250"), vec![1000, 500, 250]);
    assert_eq!(widths("2x1000, 500"), vec![1000, 1000, 500]);
    assert_eq!(widths("none"), Vec::<usize>::new());
    // Canonical form, as files and tables write it.
    let canon = |s: &str| s.parse::<HiddenSpec>().unwrap().to_string();
    assert_eq!(canon("1000,1000,1000"), "3x1000");
    assert_eq!(canon("2x1000, 500"), "1000,1000,500");
    assert_eq!(canon("none"), "none");
    for bad in ["8x", "abc", "0", "3x0", "1000,,500", "", "  "] {
        let e = bad.parse::<HiddenSpec>().unwrap_err().to_string();
        assert!(e.contains(bad), "{e}");
    }
}

#[test]
fn match_params_by_hand() {
    // 2x3 hidden, 4 inputs, 2 outputs: (4*3+3) + (3*3+3) + (3*2+2) = 15 + 12 + 8 = 35.
    // One hidden layer of h: 4h + h + 2h + 2 = 7h + 2; h=4 -> 30 (off by 5), h=5 -> 37 (off by 2).
    assert_eq!(count_params(4, &[3, 3], 2), 35);
    assert_eq!(match_params(&"2x3".parse().unwrap(), 4, 2), 5);
    // 1000,500 with 100 in, 10 out: 101000 + 500500 + 5010 = 606510; per unit 111:
    // h=5463 -> 606403 (off 107), h=5464 -> 606514 (off 4).
    assert_eq!(count_params(100, &[1000, 500], 10), 606_510);
    assert_eq!(match_params(&"1000,500".parse().unwrap(), 100, 10), 5464);
    // Seide, Li & Yu (2011) compare 5x2k with 1x3772: 11 frames of 39 features in, 9304 senones.
    assert_eq!(count_params(429, &[2048; 5], 9304), 36_729_944);
    assert_eq!(match_params(&"5x2048".parse().unwrap(), 429, 9304), 3772);
}

#[test]
fn parameter_count_is_sum_of_in_out_plus_out() {
    let arch = Architecture {
        feature_dim: 40,
        context: 5,
        hidden: vec![1000; 8],
        activation: Activation::Relu,
        num_classes: 2000,
        front: Front::None,
    };
    let dnn = Dnn::new(arch, 0).unwrap();
    // 440*1000+1000 + 7*(1000*1000+1000) + 1000*2000+2000
    assert_eq!(dnn.num_params(), 441_000 + 7_007_000 + 2_002_000);
    let counted: usize = dnn
        .layers()
        .iter()
        .map(|l| l.weight.len() + l.bias.len())
        .sum();
    assert_eq!(counted, dnn.num_params());
}

#[test]
fn layer_zero_is_the_normalised_spliced_input() {
    let arch = Architecture {
        feature_dim: 2,
        context: 1,
        hidden: vec![3, 3],
        activation: Activation::Sigmoid,
        num_classes: 2,
        front: Front::None,
    };
    let mut dnn = Dnn::new(arch, 1).unwrap();
    dnn.set_normalisation(array![1.0, 0.0], array![2.0, 4.0])
        .unwrap();
    let f = array![[1.0f32, 4.0], [3.0, 8.0], [5.0, -4.0]];
    let a0 = dnn.activations(f.view(), 0).unwrap();
    // Normalised: [0, 1], [1, 2], [2, -1]; frame 0's left context repeats frame 0.
    assert_eq!(a0.row(0).to_vec(), [0.0, 1.0, 0.0, 1.0, 1.0, 2.0]);
    assert_eq!(a0.row(2).to_vec(), [1.0, 2.0, 2.0, -1.0, 2.0, -1.0]);
    let h2 = dnn.activations(f.view(), 2).unwrap();
    assert_eq!(h2.dim(), (3, 3));
    assert!(h2.iter().all(|v| *v > 0.0 && *v < 1.0), "sigmoid outputs");
    assert!(dnn.activations(f.view(), 3).is_err());
    let lp = dnn.log_scores(f.view()).unwrap();
    for row in lp.rows() {
        assert!((row.iter().map(|v| v.exp()).sum::<f32>() - 1.0).abs() < 1e-6);
    }
}
#[test]
fn save_and_load_give_identical_outputs() {
    let (tf, tl) = clusters(8, 11);
    let data = dataset(&tf, &tl);
    let cfg = DnnConfig {
        hidden: "16,8".parse().unwrap(),
        activation: Activation::Tanh,
        context: 3,
        epochs: 2,
        batch: 8,
        ..Default::default()
    };
    let dnn = train(&cfg, 3, &data, None, TrainOptions::default())
        .unwrap()
        .dnn;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    dnn.save(&path).unwrap();
    let back = Dnn::load(&path).unwrap();
    assert_eq!(back, dnn);
    assert_eq!(
        back.log_scores(tf[0].view()).unwrap(),
        dnn.log_scores(tf[0].view()).unwrap()
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("net.json")).unwrap())
            .unwrap();
    assert_eq!(meta["spec"], "16,8");
    assert_eq!(meta["activation"], "tanh");
    assert_eq!(meta["context"], 3);
    assert_eq!(meta["input_dim"], 35);
    assert_eq!(meta["num_params"], dnn.num_params());
    // Features from another cut of the chain are refused, naming the file.
    assert_eq!(Dnn::load_for(&path, 5).unwrap(), dnn);
    let e = Dnn::load_for(&path, 40).unwrap_err().to_string();
    assert!(
        e.contains("net.safetensors")
            && e.contains("trained on 5-dimensional features, these have 40"),
        "{e}"
    );
    // A truncated or corrupt tensor file is reported with its name.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 7]).unwrap();
    let e = Dnn::load(&path).unwrap_err().to_string();
    assert!(e.contains("net.safetensors"), "{e}");
    std::fs::write(&path, b"garbage").unwrap();
    let e = Dnn::load(&path).unwrap_err().to_string();
    assert!(e.contains("net.safetensors"), "{e}");
    // So is a metadata file cut short, or one whose shapes disagree with the tensors.
    std::fs::write(&path, &bytes).unwrap();
    let meta_path = dir.path().join("net.json");
    let text = std::fs::read_to_string(&meta_path).unwrap();
    std::fs::write(&meta_path, &text[..text.len() / 2]).unwrap();
    let e = Dnn::load(&path).unwrap_err().to_string();
    assert!(e.contains("net.json"), "{e}");
    let mut wrong = meta.clone();
    wrong["hidden"] = serde_json::json!([16, 9]);
    std::fs::write(&meta_path, wrong.to_string()).unwrap();
    let e = Dnn::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("net.safetensors") && e.contains("layers.1.weight"),
        "{e}"
    );
    std::fs::remove_file(&meta_path).unwrap();
    let e = Dnn::load(&path).unwrap_err().to_string();
    assert!(e.contains("net.json"), "{e}");
}

#[test]
fn first_layer_filters_are_weights_per_spliced_frame() {
    let arch = Architecture {
        feature_dim: 4,
        context: 2,
        hidden: vec![6, 3],
        activation: Activation::Relu,
        num_classes: 2,
        front: Front::None,
    };
    let dnn = Dnn::new(arch, 1).unwrap();
    let w = &dnn.layers()[0].weight;
    let f = dnn.first_layer_filters();
    assert_eq!(f.shape(), &[6, 5, 4]);
    // Unit 4, frame t-1 (index 1 of 5, oldest first), dimension 3 = input column 1*4+3.
    assert_eq!(f[[4, 1, 3]], w[[4, 7]]);
    // The forward pass agrees: a one-hot on frame 0, dimension 3 is seen by frame 1 at offset
    // -1 (column 7) and, through edge repetition, at offset -2 (column 3).
    let mut feats = ndarray::Array2::<f32>::zeros((3, 4));
    feats[[0, 3]] = 1.0;
    let x = dnn.activations(feats.view(), 0).unwrap();
    assert_eq!(x.row(1).sum(), 2.0);
    assert_eq!((x[[1, 3]], x[[1, 7]]), (1.0, 1.0));
    let h = dnn.activations(feats.view(), 1).unwrap();
    for u in 0..6 {
        let z = f[[u, 0, 3]] + f[[u, 1, 3]];
        assert!((h[[1, u]] - z.max(0.0)).abs() < 1e-6);
    }
}
#[test]
fn bad_data_is_reported() {
    let f = random(5, 3, 1);
    let l = vec![0u32; 4];
    let e = Dataset::new(vec![f.view()], vec![&l])
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("5 feature frames but 4 labels"), "{e}");
    let l = vec![0u32, 1, 7, 1, 0];
    let data = Dataset::new(vec![f.view()], vec![&l]).unwrap();
    let e = train(
        &DnnConfig::default(),
        3,
        &data,
        None,
        TrainOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("frame 2: label 7"), "{e}");
    let cfg = DnnConfig {
        dropout: 1.0,
        ..Default::default()
    };
    assert!(
        train(&cfg, 8, &data, None, TrainOptions::default())
            .unwrap_err()
            .to_string()
            .contains("dropout")
    );
}

#[test]
fn normalisation_is_training_mean_and_deviation() {
    let a = array![[1.0f32, 5.0], [3.0, 5.0]];
    let b = array![[5.0f32, 5.0]];
    let l1 = [0u32, u32::MAX];
    let l2 = [1u32];
    let data = Dataset::new(vec![a.view(), b.view()], vec![&l1, &l2]).unwrap();
    let (mean, std) = data.normalisation();
    // Column 0: 1, 3, 5 -> mean 3, population std sqrt(8/3); column 1 never varies -> std 1.
    assert_eq!(mean, Array1::from(vec![3.0, 5.0]));
    assert!((std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
    assert_eq!(std[1], 1.0);
    assert_eq!(data.num_labelled(), 2);
}

/// Writes a trained model, one utterance's features, its log posteriors and hidden activations
/// for `scripts/bench_dnn_torch.py --check` (run by `scripts/bench-dnn.sh`). Needs
/// `ASRPIPE_DNN_EXPORT=<dir>`; ignored otherwise.
#[test]
#[ignore]
fn export_for_torch_check() {
    let Some(dir) = std::env::var_os("ASRPIPE_DNN_EXPORT") else {
        eprintln!("ASRPIPE_DNN_EXPORT not set: nothing exported");
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (tf, tl) = clusters(20, 41);
    let cfg = DnnConfig {
        hidden: "3x24".parse().unwrap(),
        activation: Activation::Tanh,
        context: 2,
        epochs: 3,
        batch: 16,
        ..Default::default()
    };
    let dnn = train(&cfg, 3, &dataset(&tf, &tl), None, TrainOptions::default())
        .unwrap()
        .dnn;
    dnn.save(&dir.join("net.safetensors")).unwrap();
    let feats = &tf[0];
    ndarray_npy::write_npy(dir.join("feats.npy"), feats).unwrap();
    ndarray_npy::write_npy(
        dir.join("log_posteriors.npy"),
        &dnn.log_scores(feats.view()).unwrap(),
    )
    .unwrap();
    for layer in 0..=3 {
        let h = dnn.activations(feats.view(), layer).unwrap();
        ndarray_npy::write_npy(dir.join(format!("hidden_{layer}.npy")), &h).unwrap();
    }
}
