//! State GMMs: EM recovers known mixtures, never loses likelihood, the one-matrix-product scoring
//! equals the textbook formula, and models survive a save/load unchanged.

use asrpipe::model::Classifier;
use asrpipe::model::gmm::{GmmClassifier, GmmConfig, GmmInit, Progress, StateGmms};
use ndarray::{Array1, Array2, ArrayView2, array};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// A known mixture: (weight, means, standard deviations) per Gaussian.
type Truth = Vec<(f64, Vec<f64>, Vec<f64>)>;

fn truths() -> Vec<Truth> {
    vec![
        vec![
            (0.5, vec![0.0, 0.0, 0.0], vec![1.0, 0.5, 2.0]),
            (0.3, vec![8.0, -6.0, 4.0], vec![0.7, 1.5, 1.0]),
            (0.2, vec![-8.0, 5.0, 10.0], vec![1.2, 0.8, 0.6]),
        ],
        vec![
            (0.6, vec![20.0, 3.0, -5.0], vec![2.0, 1.0, 1.0]),
            (0.4, vec![28.0, -3.0, -5.0], vec![1.0, 0.5, 3.0]),
        ],
    ]
}

/// Frames drawn from the truths, states interleaved at random; `n[s]` frames for state s.
fn sample(truths: &[Truth], n: &[usize], seed: u64) -> (Array2<f32>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut labels: Vec<u32> = n
        .iter()
        .enumerate()
        .flat_map(|(s, &k)| std::iter::repeat_n(s as u32, k))
        .collect();
    for i in (1..labels.len()).rev() {
        labels.swap(i, rng.random_range(0..=i));
    }
    let d = truths[0][0].1.len();
    let mut x = Array2::zeros((labels.len(), d));
    for (i, &s) in labels.iter().enumerate() {
        let t = &truths[s as usize];
        let mut u = rng.random::<f64>();
        let mut c = 0;
        while c + 1 < t.len() && u >= t[c].0 {
            u -= t[c].0;
            c += 1;
        }
        for j in 0..d {
            x[[i, j]] = Normal::new(t[c].1[j], t[c].2[j]).unwrap().sample(&mut rng) as f32;
        }
    }
    (x, labels)
}

fn config(init: GmmInit, per_state: usize) -> GmmConfig {
    GmmConfig {
        gaussians_per_state: per_state,
        iterations: 15,
        // Every iteration runs (the convergence stop has a test of its own).
        tolerance: 0.0,
        split_iterations: 5,
        init,
        seed: 7,
        // The default floor (1 % of a global variance that spans both states) would bind here.
        var_floor: 0.001,
        ..GmmConfig::default()
    }
}

fn train(x: ArrayView2<f32>, labels: &[u32], cfg: &GmmConfig) -> (StateGmms, Vec<Progress>) {
    let mut reports = Vec::new();
    let g = StateGmms::train(x, labels, 2, cfg, |p| reports.push(p.clone())).unwrap();
    (g, reports)
}

fn assert_recovers(g: &StateGmms, truths: &[Truth]) {
    for (s, truth) in truths.iter().enumerate() {
        let comps = g.components(s);
        assert_eq!(comps.len(), truth.len(), "state {s} Gaussian count");
        for (w, mean, sd) in truth {
            // The learned Gaussian closest to this true mean.
            let c = comps
                .clone()
                .min_by(|&a, &b| {
                    let da: f64 = (0..mean.len())
                        .map(|j| (g.means()[[a, j]] as f64 - mean[j]).powi(2))
                        .sum();
                    let db: f64 = (0..mean.len())
                        .map(|j| (g.means()[[b, j]] as f64 - mean[j]).powi(2))
                        .sum();
                    da.total_cmp(&db)
                })
                .unwrap();
            assert!(
                (g.weights()[c] as f64 - w).abs() < 0.02,
                "state {s} weight {} vs {w}",
                g.weights()[c]
            );
            for j in 0..mean.len() {
                let (m, v) = (g.means()[[c, j]] as f64, g.vars()[[c, j]] as f64);
                assert!(
                    (m - mean[j]).abs() < 0.1 * sd[j],
                    "state {s} mean[{j}] {m} vs {}",
                    mean[j]
                );
                let var = sd[j] * sd[j];
                assert!(
                    (v / var - 1.0).abs() < 0.08,
                    "state {s} var[{j}] {v} vs {var}"
                );
            }
        }
    }
}

/// Likelihood never goes down between iterations with the same Gaussians.
fn assert_monotone(reports: &[Progress]) {
    assert!(!reports.is_empty());
    for (i, r) in reports.iter().enumerate() {
        assert_eq!(r.iteration, i + 1);
        assert_eq!(r.total, reports.len());
        assert!(r.log_likelihood.is_finite());
    }
    for p in reports.windows(2) {
        if !p[1].structure_changed {
            assert!(
                p[1].log_likelihood >= p[0].log_likelihood - 1e-6 * p[0].log_likelihood.abs(),
                "log-likelihood fell from {} to {} at iteration {}",
                p[0].log_likelihood,
                p[1].log_likelihood,
                p[1].iteration
            );
        }
    }
}

#[test]
fn em_from_kmeans_recovers_known_mixtures() {
    let t = truths();
    let (x, labels) = sample(&t, &[30_000, 20_000], 1);
    let (g, reports) = train(x.view(), &labels, &config(GmmInit::Kmeans, 3));
    // State 1 has 2 true Gaussians; ask for 2 there by capping with min_count.
    let _ = g;
    let cfg = GmmConfig {
        min_count: 20_000.0 / 4.0,
        ..config(GmmInit::Kmeans, 3)
    };
    let (g, reports2) = train(x.view(), &labels, &cfg);
    assert_eq!(g.components_per_state(), vec![3, 2]);
    assert_recovers(&g, &t);
    assert_monotone(&reports);
    assert_monotone(&reports2);
    assert_eq!(reports.len(), 15);
}

#[test]
fn em_from_splitting_recovers_known_mixtures_and_reports_every_iteration() {
    let t = truths();
    let (x, labels) = sample(&t, &[30_000, 20_000], 2);
    let cfg = GmmConfig {
        min_count: 20_000.0 / 4.0,
        iterations: 30,
        ..config(GmmInit::Split, 3)
    };
    let (g, reports) = train(x.view(), &labels, &cfg);
    assert_eq!(g.components_per_state(), vec![3, 2]);
    assert_recovers(&g, &t);
    assert_monotone(&reports);
    // 1 -> 2 -> 3 Gaussians in state 0: two rounds of 5 iterations, then 30.
    assert_eq!(reports.len(), 2 * 5 + 30);
    assert_eq!(reports[0].gaussians, 2 + 2);
    assert!(reports[0].structure_changed && reports[5].structure_changed);
    assert_eq!(reports[10].gaussians, 5);
    // Splitting only adds likelihood here: the end beats one Gaussian per state by far.
    assert!(reports.last().unwrap().log_likelihood > reports[0].log_likelihood + 0.5);
}

#[test]
fn em_stops_once_the_likelihood_stops_improving() {
    let t = truths();
    let (x, labels) = sample(&t, &[30_000, 20_000], 2);
    let full = GmmConfig {
        min_count: 20_000.0 / 4.0,
        iterations: 200,
        ..config(GmmInit::Split, 3)
    };
    let (_, all) = train(x.view(), &labels, &full);
    assert_eq!(all.len(), 2 * 5 + 200);
    let tol = 1e-4f32;
    let (g, stopped) = train(
        x.view(),
        &labels,
        &GmmConfig {
            tolerance: tol,
            ..full.clone()
        },
    );
    // The same path until the stop: the first iteration whose gain over the previous one (on
    // the same Gaussians) is below the tolerance is the last.
    let n = stopped.len();
    assert!(n < all.len(), "{n} iterations: never converged");
    for i in 0..n {
        assert_eq!(
            stopped[i].log_likelihood, all[i].log_likelihood,
            "iteration {i}"
        );
    }
    let gain = |i: usize| all[i].log_likelihood - all[i - 1].log_likelihood;
    assert!(
        gain(n - 1) < f64::from(tol),
        "stopped at a gain of {}",
        gain(n - 1)
    );
    assert!((11..n - 1).all(|i| gain(i) >= f64::from(tol) || all[i].structure_changed));
    assert_recovers(&g, &t);
}

/// log Σ_c w_c N(x; μ_c, σ²_c) the slow way, in f64.
fn direct(g: &StateGmms, x: &[f32], s: usize) -> f64 {
    let terms: Vec<f64> = g
        .components(s)
        .map(|c| {
            let mut l = (g.weights()[c] as f64).ln();
            for (j, &xj) in x.iter().enumerate() {
                let (m, v) = (g.means()[[c, j]] as f64, g.vars()[[c, j]] as f64);
                l -= 0.5 * ((2.0 * std::f64::consts::PI * v).ln() + (xj as f64 - m).powi(2) / v);
            }
            l
        })
        .collect();
    let max = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
}

#[test]
fn matrix_product_likelihoods_equal_the_direct_formula() {
    // Raw-MFCC-like scales: c0 around 60 with small variances elsewhere.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (d, states, per) = (13, 5, 4);
    let g = states * per;
    let means = Array2::from_shape_fn((g, d), |(_, j)| {
        (if j == 0 { 60.0 } else { 0.0 }) + rng.random_range(-5.0..5.0f32)
    });
    let vars = Array2::from_shape_fn((g, d), |_| rng.random_range(0.3..4.0f32));
    let mut weights = Array1::from_shape_fn(g, |_| rng.random_range(0.1..1.0f32));
    for s in 0..states {
        let sum: f32 = weights.slice(ndarray::s![s * per..(s + 1) * per]).sum();
        weights
            .slice_mut(ndarray::s![s * per..(s + 1) * per])
            .mapv_inplace(|w| w / sum);
    }
    let gmm = StateGmms::new(means, vars, weights, &vec![per; states]).unwrap();
    let x = Array2::from_shape_fn((700, d), |(_, j)| {
        (if j == 0 { 60.0 } else { 0.0 }) + rng.random_range(-8.0..8.0f32)
    });
    let ll = gmm.log_likelihoods(x.view()).unwrap();
    assert_eq!(ll.dim(), (700, states));
    let mut worst = 0.0f64;
    for i in 0..x.nrows() {
        for s in 0..states {
            let want = direct(&gmm, x.row(i).as_slice().unwrap(), s);
            worst = worst.max((ll[[i, s]] as f64 - want).abs() / want.abs().max(1.0));
        }
    }
    assert!(worst < 1e-4, "worst relative difference {worst}");
    assert!(gmm.log_likelihoods(Array2::zeros((2, 12)).view()).is_err());
}

#[test]
fn one_gaussian_per_state_is_the_sample_mean_and_variance() {
    let x = array![
        [1.0f32, 10.0],
        [3.0, 10.0],
        [5.0, 40.0],
        [-1.0, 0.0],
        [1.0, 2.0]
    ];
    let labels = [0, 0, 0, 1, 1];
    let cfg = GmmConfig {
        gaussians_per_state: 1,
        iterations: 2,
        var_floor: 0.0,
        ..Default::default()
    };
    let g = StateGmms::train(x.view(), &labels, 2, &cfg, |_| {}).unwrap();
    let close = |a: f32, b: f32| (a - b).abs() < 1e-5 * b.abs().max(1.0);
    assert!(close(g.means()[[0, 0]], 3.0) && close(g.means()[[0, 1]], 20.0));
    assert!(close(g.vars()[[0, 0]], 8.0 / 3.0) && close(g.vars()[[0, 1]], 200.0));
    assert!(close(g.means()[[1, 0]], 0.0) && close(g.vars()[[1, 1]], 1.0));
    assert_eq!(g.num_params(), 2 * (2 * 2 + 1));
}

#[test]
fn variance_floor_is_a_fraction_of_the_global_variance() {
    // State 0 is a constant frame: its variance must come out at the floor, 0.1 * global.
    let x = array![[2.0f32], [2.0], [2.0], [0.0], [4.0], [2.0]];
    let labels = [0, 0, 0, 1, 1, 1];
    let cfg = GmmConfig {
        gaussians_per_state: 1,
        iterations: 1,
        var_floor: 0.1,
        ..Default::default()
    };
    let g = StateGmms::train(x.view(), &labels, 2, &cfg, |_| {}).unwrap();
    let global = 8.0 / 6.0;
    assert!((g.vars()[[0, 0]] - 0.1 * global as f32).abs() < 1e-6);
}

#[test]
fn unlabelled_frames_are_skipped_and_training_is_deterministic() {
    let t = truths();
    let (x, labels) = sample(&t, &[3_000, 2_000], 4);
    let cfg = config(GmmInit::Kmeans, 4);
    let (a, _) = train(x.view(), &labels, &cfg);
    // Garbage frames labelled u32::MAX in front change nothing.
    let mut x2 = Array2::from_elem((x.nrows() + 10, 3), 1e6f32);
    x2.slice_mut(ndarray::s![10.., ..]).assign(&x);
    let mut l2 = vec![u32::MAX; 10];
    l2.extend_from_slice(&labels);
    let (b, _) = train(x2.view(), &l2, &cfg);
    assert_eq!(a, b);
    // One thread gives exactly the same numbers as many.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let (c, _) = pool.install(|| train(x.view(), &labels, &cfg));
    assert_eq!(a, c);
    let (d, _) = train(x.view(), &labels, &GmmConfig { seed: 8, ..cfg });
    assert_ne!(a, d);
}

#[test]
fn gaussians_are_capped_by_the_data_a_state_has() {
    let t = truths();
    let (x, labels) = sample(&t, &[1_000, 50], 5);
    let cfg = GmmConfig {
        min_count: 10.0,
        ..config(GmmInit::Split, 8)
    };
    let (g, _) = train(x.view(), &labels, &cfg);
    // 50 frames / (2 * 10) = 2 Gaussians at most.
    assert_eq!(g.components_per_state(), vec![8, 2]);
}

#[test]
fn bad_labels_are_clear_errors() {
    let x = Array2::<f32>::zeros((3, 2));
    let cfg = GmmConfig::default();
    let err = StateGmms::train(x.view(), &[0, 5, 1], 2, &cfg, |_| {}).unwrap_err();
    assert!(err.to_string().contains("frame 1 has state 5"), "{err}");
    let err = StateGmms::train(x.view(), &[0, 0, u32::MAX], 2, &cfg, |_| {}).unwrap_err();
    assert!(
        err.to_string().contains("state 1 has no labelled frames"),
        "{err}"
    );
    let err = StateGmms::train(x.view(), &[0, 1], 2, &cfg, |_| {}).unwrap_err();
    assert!(err.to_string().contains("2 labels for 3 frames"), "{err}");
}

#[test]
fn saved_models_predict_identically_and_check_the_dimension() {
    let t = truths();
    let (x, labels) = sample(&t, &[3_000, 1_000], 6);
    let mut model =
        GmmClassifier::train(x.view(), &labels, 2, &config(GmmInit::Split, 4), |_| {}).unwrap();
    model.metadata = serde_json::json!({"tying": "monophone"});
    // Priors are the label frequencies.
    assert!((model.log_priors()[0] - 0.75f32.ln()).abs() < 1e-6);
    let scores = model.log_scores(x.view()).unwrap();
    let ll = model.gmms.log_likelihoods(x.view()).unwrap();
    assert!((scores[[0, 1]] - ll[[0, 1]] - 0.25f32.ln()).abs() < 1e-5);
    assert_eq!(model.num_classes(), 2);
    assert_eq!(model.num_params(), model.gmms.num_gaussians() * 7);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gmm");
    model.save(&path).unwrap();
    assert!(dir.path().join("gmm.safetensors").exists() && dir.path().join("gmm.json").exists());
    let loaded = GmmClassifier::load(&dir.path().join("gmm.safetensors")).unwrap();
    assert_eq!(loaded, model);
    let again = loaded.log_scores(x.view()).unwrap();
    assert!(
        again
            .iter()
            .zip(&scores)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );

    let err = GmmClassifier::load_for_dim(&path, 13)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("gmm.json") && err.contains("3-dimensional") && err.contains("13"),
        "{err}"
    );
    assert!(GmmClassifier::load_for_dim(&path, 3).is_ok());
    let err = GmmClassifier::load(&dir.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.json"), "{err}");
}

#[test]
fn a_starved_gaussian_is_replaced_by_a_split_of_the_heaviest() {
    use asrpipe::model::gmm::TrainingFrames;
    let t = truths();
    let (x, labels) = sample(&t[1..], &[4_000], 9);
    // Gaussian 1 sits far away from every frame: it gets (almost) no occupancy.
    let means = array![[20.0f32, 3.0, -5.0], [-500.0, -500.0, -500.0]];
    let vars = array![[4.0f32, 1.0, 1.0], [1.0, 1.0, 1.0]];
    let init = StateGmms::new(means, vars, array![0.5f32, 0.5], &[2]).unwrap();
    let cfg = GmmConfig {
        min_count: 10.0,
        var_floor: 0.001,
        ..GmmConfig::default()
    };
    let data = TrainingFrames::new(x.view(), &labels, 1, cfg.var_floor).unwrap();
    let (next, ll) = init.em_step(&data, &cfg).unwrap();
    assert!(ll.is_finite());
    // Still 2 Gaussians, both now among the data, splitting the survivor ±0.2σ in its
    // widest dimension (dim 0 or 2 of truth 1: sd 2 or 3 pooled) with half the weight each.
    assert_eq!(next.components_per_state(), vec![2]);
    assert!(
        next.means().iter().all(|m| m.abs() < 40.0),
        "{:?}",
        next.means()
    );
    assert_eq!(next.weights()[0], next.weights()[1]);
    assert_eq!(next.vars().row(0), next.vars().row(1));
    let diff = &next.means().row(0) - &next.means().row(1);
    assert_eq!(diff.iter().filter(|d| **d != 0.0).count(), 1);
    // Without minimums the starved Gaussian is kept, with a negligible weight and finite
    // parameters (its posteriors underflow to the smallest normal number, not to 0/0).
    let none = GmmConfig {
        min_count: 0.0,
        min_weight: 0.0,
        ..cfg
    };
    let (kept, _) = init.em_step(&data, &none).unwrap();
    assert_eq!(kept.components_per_state(), vec![2]);
    assert!(kept.weights()[1] < 1e-30 && kept.weights()[0] > 0.999_999);
    assert!(
        kept.means()
            .iter()
            .chain(kept.vars())
            .all(|v| v.is_finite())
    );
}

#[test]
fn soft_labels_weigh_each_frame_by_its_share() {
    use asrpipe::model::gmm::TrainingFrames;
    let t = truths();
    let (x, labels) = sample(&t, &[600, 400], 11);
    let cfg = GmmConfig {
        var_floor: 0.001,
        min_count: 1.0,
        ..GmmConfig::default()
    };
    let hard = TrainingFrames::new(x.view(), &labels, 2, cfg.var_floor).unwrap();
    let init = StateGmms::train_on(
        &hard,
        &GmmConfig {
            gaussians_per_state: 2,
            ..cfg.clone()
        },
        |_| {},
    )
    .unwrap();
    // Weight 1 everywhere is the hard labels, number for number.
    let ones: Vec<(u32, u32, f32)> = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| (i as u32, l, 1.0))
        .collect();
    let soft = TrainingFrames::weighted(x.view(), &ones, 2, cfg.var_floor).unwrap();
    assert_eq!(soft.state_counts(), hard.state_counts());
    let (a, la) = init.em_step(&hard, &cfg).unwrap();
    let (b, lb) = init.em_step(&soft, &cfg).unwrap();
    assert_eq!(
        (a.means(), a.vars(), a.weights()),
        (b.means(), b.vars(), b.weights())
    );
    assert_eq!(la, lb);
    // Frames shared between the states: one Gaussian per state re-estimates to the weighted
    // mean and variance of every frame (the textbook M-step, in f64 here).
    let one = GmmConfig {
        gaussians_per_state: 1,
        ..cfg.clone()
    };
    let single = StateGmms::train_on(&hard, &one, |_| {}).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let mut shared = Vec::new();
    for i in 0..x.nrows() as u32 {
        let w: f32 = rng.random_range(0.05..0.95);
        shared.push((i, 0, w));
        shared.push((i, 1, 1.0 - w));
    }
    let soft = TrainingFrames::weighted(x.view(), &shared, 2, cfg.var_floor).unwrap();
    let (m, _) = single.em_step(&soft, &one).unwrap();
    for s in 0..2u32 {
        let n: f64 = shared.iter().filter(|e| e.1 == s).map(|e| e.2 as f64).sum();
        assert!((soft.state_counts()[s as usize] - n).abs() < 1e-6 * n);
        for j in 0..3 {
            let mean = shared
                .iter()
                .filter(|e| e.1 == s)
                .map(|e| e.2 as f64 * x[[e.0 as usize, j]] as f64)
                .sum::<f64>()
                / n;
            let var = shared
                .iter()
                .filter(|e| e.1 == s)
                .map(|e| e.2 as f64 * (x[[e.0 as usize, j]] as f64 - mean).powi(2))
                .sum::<f64>()
                / n;
            let (gm, gv) = (
                m.means()[[s as usize, j]] as f64,
                m.vars()[[s as usize, j]] as f64,
            );
            assert!(
                (gm - mean).abs() < 1e-3 * (1.0 + mean.abs()),
                "state {s} dim {j}: {gm} vs {mean}"
            );
            assert!(
                (gv - var).abs() < 1e-3 * var,
                "state {s} dim {j}: {gv} vs {var}"
            );
        }
    }
    // Bad weights and initialising from soft labels are refused.
    for bad in [0.0f32, -0.5, 1.5, f32::NAN] {
        let err = TrainingFrames::weighted(x.view(), &[(0, 0, bad)], 2, cfg.var_floor);
        assert!(err.is_err(), "{bad}");
    }
    let err = TrainingFrames::weighted(x.view(), &[(x.nrows() as u32, 0, 1.0)], 1, 0.01);
    assert!(err.err().unwrap().to_string().contains("frame"));
    let err = StateGmms::train_on(&soft, &cfg, |_| {})
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("hard labels"), "{err}");
}
