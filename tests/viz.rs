//! Projections keep separated groups separated, k-NN and silhouette give hand-computed values,
//! t-SNE is reproducible from its seed, and every plot is written whole at the promised size.

use std::path::Path;

use asrpipe::viz::{
    self, Panel, Pca, Series, TsneInit, TsneOptions, knn_accuracy, knn_predict_loo,
    nearest_neighbours, silhouette,
};
use ndarray::{Array2, array};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// `clusters` Gaussian blobs of `per` points in `dim` dimensions: unit noise around centres
/// drawn with standard deviation `spread`.
fn blobs(
    clusters: usize,
    per: usize,
    dim: usize,
    spread: f32,
    seed: u64,
) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = || -> f32 { StandardNormal.sample(&mut rng) };
    let centres = Array2::from_shape_fn((clusters, dim), |_| spread * normal());
    let mut x = Array2::zeros((clusters * per, dim));
    let mut labels = Vec::new();
    for c in 0..clusters {
        for p in 0..per {
            let i = c * per + p;
            for j in 0..dim {
                x[[i, j]] = centres[[c, j]] + normal();
            }
            labels.push(c);
        }
    }
    (x, labels)
}

#[test]
fn knn_leave_one_out_matches_hand_count() {
    // Points on a line: 0 1 3 | 10 11 | 13, the last one labelled like the left group.
    let x = array![[0.0f32], [1.0], [3.0], [10.0], [11.0], [13.0]];
    let labels = [0, 0, 0, 1, 1, 0];
    // k = 1: only 13 is wrong (its nearest point, 11, is class 1).
    assert_eq!(
        knn_predict_loo(x.view(), &labels, 1).unwrap(),
        vec![0, 0, 0, 1, 1, 1]
    );
    assert_eq!(knn_accuracy(x.view(), &labels, 1).unwrap(), 5.0 / 6.0);
    // k = 2: 10 and 11 see one vote each and keep the nearer one (class 1); 13 sees 11, 10.
    assert_eq!(
        knn_predict_loo(x.view(), &labels, 2).unwrap(),
        vec![0, 0, 0, 1, 1, 1]
    );
    // k = 3: 10 -> {11, 13, 3} = 1,0,0; 11 -> {10, 13, 3} = 1,0,0; 13 -> {11, 10, 3} = 1,1,0.
    assert_eq!(
        knn_predict_loo(x.view(), &labels, 3).unwrap(),
        vec![0, 0, 0, 0, 0, 1]
    );
    assert_eq!(knn_accuracy(x.view(), &labels, 3).unwrap(), 0.5);
}

#[test]
fn equal_distances_go_to_the_lower_index() {
    let x = array![[0.0f32, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]];
    let nn = nearest_neighbours(x.view(), 3).unwrap();
    let order: Vec<usize> = nn[0].iter().map(|n| n.index).collect();
    assert_eq!(order, vec![1, 2, 3]);
    assert!(nn[0].iter().all(|n| (n.distance - 1.0).abs() < 1e-6));
    assert_eq!(knn_predict_loo(x.view(), &[7, 1, 2, 3], 1).unwrap()[0], 1);
}

#[test]
fn knn_rejects_bad_arguments() {
    let x = array![[0.0f32], [1.0]];
    assert!(knn_accuracy(x.view(), &[0, 1], 2).is_err());
    assert!(knn_accuracy(x.view(), &[0], 1).is_err());
    let bad = array![[0.0f32], [f32::NAN], [1.0]];
    assert!(knn_accuracy(bad.view(), &[0, 1, 0], 1).is_err());
}

#[test]
fn silhouette_of_two_pairs_matches_hand_value() {
    let x = array![[0.0f32], [1.0], [10.0], [11.0]];
    // Outer points: a = 1, b = 10.5; inner points: a = 1, b = 9.5.
    let want = (9.5 / 10.5 + 8.5 / 9.5) / 2.0;
    let got = silhouette(x.view(), &[0, 0, 1, 1]).unwrap();
    assert!((got - want).abs() < 1e-6, "{got} vs {want}");
    assert!(silhouette(x.view(), &[0, 0, 0, 0]).is_err());
}

#[test]
fn pca_finds_the_hand_made_axis_and_its_variance() {
    // t along (0.6, 0.8) and s along (-0.8, 0.6), with t and s uncorrelated and centred.
    let t = [-2.0f32, -1.0, 0.0, 1.0, 2.0];
    let s = [0.1f32, -0.1, 0.0, -0.1, 0.1];
    let x = Array2::from_shape_fn((5, 2), |(i, j)| {
        let (u, v) = if j == 0 { (0.6, -0.8) } else { (0.8, 0.6) };
        5.0 + t[i] * u + s[i] * v
    });
    let p = Pca::fit(x.view(), 2).unwrap();
    // Largest entry positive: (0.6, 0.8) and (-0.8, 0.6) -> (0.8, -0.6).
    let want = array![[0.6f32, 0.8], [0.8, -0.6]];
    for (g, w) in p.components.iter().zip(want.iter()) {
        assert!((g - w).abs() < 1e-5, "{}", p.components);
    }
    assert!((p.variances[0] - 2.5).abs() < 1e-5);
    assert!((p.variances[1] - 0.01).abs() < 1e-6);
    let y = p.transform(x.view()).unwrap();
    for i in 0..5 {
        assert!((y[[i, 0]] - t[i]).abs() < 1e-5);
    }
}

/// Components orthonormal, and each an eigenvector of the covariance with its variance.
fn check_eigen(x: &Array2<f32>, p: &Pca) {
    let n = x.nrows() as f32;
    let c = x - &p.mean;
    let g = p.components.dot(&p.components.t());
    for ((i, j), v) in g.indexed_iter() {
        let want = if i == j { 1.0 } else { 0.0 };
        assert!((v - want).abs() < 1e-3, "gram[{i},{j}] = {v}");
    }
    for (k, comp) in p.components.rows().into_iter().enumerate() {
        let cv = c.t().dot(&c.dot(&comp)) / (n - 1.0);
        let lam = p.variances[k];
        let resid = (&cv - &(&comp * lam)).mapv(|v| v * v).sum().sqrt();
        assert!(
            resid < 2e-3 * p.variances[0],
            "component {k}: residual {resid}, λ {lam}"
        );
    }
    for w in p.variances.windows(2) {
        assert!(w[0] >= w[1]);
    }
}

#[test]
fn pca_subspace_iteration_gives_eigenvectors_in_both_spaces() {
    // More dimensions than points (sample space, Jacobi) and more points than a direct solve
    // allows (feature space, subspace iteration).
    for (n, d) in [(120, 400), (600, 300)] {
        let (x, _) = blobs(6, n / 6, d, 2.0, 3);
        let p = Pca::fit(x.view(), 5).unwrap();
        check_eigen(&x, &p);
        let again = Pca::fit(x.view(), 5).unwrap();
        assert_eq!(p.components, again.components);
    }
}

#[test]
fn pca_keeps_three_separated_clusters_apart() {
    let (x, labels) = blobs(3, 100, 300, 3.0, 1);
    let y = viz::pca(x.view(), 2).unwrap();
    assert_eq!(y.dim(), (300, 2));
    let acc = knn_accuracy(y.view(), &labels, 5).unwrap();
    assert!(acc > 0.99, "PCA k-NN accuracy {acc}");
}

#[test]
fn tsne_keeps_separated_clusters_apart_and_is_reproducible() {
    let (x, labels) = blobs(5, 80, 200, 3.0, 2);
    let opts = TsneOptions {
        init: TsneInit::Random,
        seed: 11,
        epochs: 500,
        ..TsneOptions::default()
    };
    let y = viz::tsne(x.view(), &opts).unwrap();
    assert_eq!(y.dim(), (400, 2));
    let acc = knn_accuracy(y.view(), &labels, 5).unwrap();
    assert!(acc > 0.99, "t-SNE k-NN accuracy {acc}");
    assert!(silhouette(y.view(), &labels).unwrap() > 0.5);

    let again = viz::tsne(x.view(), &opts).unwrap();
    assert_eq!(y, again, "same seed must give the same map");
    let other = viz::tsne(
        x.view(),
        &TsneOptions {
            seed: 12,
            ..opts.clone()
        },
    )
    .unwrap();
    assert_ne!(y, other, "another seed should start elsewhere");

    let pca_init = TsneOptions {
        init: TsneInit::Pca,
        epochs: 500,
        ..TsneOptions::default()
    };
    let a = viz::tsne(x.view(), &pca_init).unwrap();
    let both = viz::tsne_many(&[x.view(), x.view()], &pca_init).unwrap();
    assert_eq!(a, both[0]);
    assert_eq!(a, both[1]);
    assert!(knn_accuracy(a.view(), &labels, 5).unwrap() > 0.99);
}

/// `clusters` groups of `per` points in `dim` dimensions, each spread over a random
/// `sheet`-dimensional plane around its centre (plus a little isotropic noise): data whose
/// neighbourhoods a 2-D map can actually keep.
fn sheets(
    clusters: usize,
    per: usize,
    dim: usize,
    sheet: usize,
    seed: u64,
) -> (Array2<f32>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = || -> f32 { StandardNormal.sample(&mut rng) };
    let mut x = Array2::zeros((clusters * per, dim));
    let mut labels = Vec::new();
    for c in 0..clusters {
        let centre: Vec<f32> = (0..dim).map(|_| 6.0 * normal()).collect();
        let basis = Array2::from_shape_fn((sheet, dim), |_| normal() / (dim as f32).sqrt());
        for p in 0..per {
            let i = c * per + p;
            let w: Vec<f32> = (0..sheet).map(|_| 2.0 * normal()).collect();
            for j in 0..dim {
                let on_sheet: f32 = (0..sheet).map(|a| w[a] * basis[[a, j]]).sum();
                x[[i, j]] = centre[j] + on_sheet + 0.1 * normal();
            }
            labels.push(c);
        }
    }
    (x, labels)
}

/// Mean over points of the share of its `k` nearest neighbours in `x` that are also among its
/// `k` nearest in the map `y`.
fn neighbours_kept(x: &Array2<f32>, y: &Array2<f32>, k: usize) -> f64 {
    let nx = nearest_neighbours(x.view(), k).unwrap();
    let ny = nearest_neighbours(y.view(), k).unwrap();
    let kept: usize = nx
        .iter()
        .zip(&ny)
        .map(|(a, b)| {
            a.iter()
                .filter(|n| b.iter().any(|m| m.index == n.index))
                .count()
        })
        .sum();
    kept as f64 / (k * x.nrows()) as f64
}

#[test]
fn tsne_keeps_the_neighbourhoods_of_low_dimensional_clusters() {
    // 1000 points on ten 3-D sheets in 20-D. The map keeps 73 % of each point's 10 nearest
    // neighbours; the earlier optimiser (the `bhtsne` crate, whose gains stop at 2, with
    // learning rate 50) stalled at 10 %.
    let (x, labels) = sheets(10, 100, 20, 3, 7);
    let y = viz::tsne(x.view(), &TsneOptions::default()).unwrap();
    let kept = neighbours_kept(&x, &y, 10);
    assert!(kept > 0.6, "10-NN kept {kept:.3}");
    assert!(knn_accuracy(y.view(), &labels, 5).unwrap() > 0.99);
}

#[test]
fn tsne_map_is_the_same_for_any_number_of_threads() {
    let (x, _) = sheets(6, 100, 20, 3, 8);
    let opts = TsneOptions {
        epochs: 300,
        ..TsneOptions::default()
    };
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| viz::tsne(x.view(), &opts).unwrap())
    };
    let one = on(1);
    assert!(one.iter().all(|v| v.is_finite()));
    assert_eq!(one, on(2), "2 threads");
    assert_eq!(one, on(3), "3 threads");
}

#[test]
fn tsne_rejects_a_bad_learning_rate() {
    let (x, _) = blobs(2, 100, 5, 3.0, 0);
    for rate in [0.0, -1.0, f32::NAN] {
        let opts = TsneOptions {
            learning_rate: Some(rate),
            ..TsneOptions::default()
        };
        let err = viz::tsne(x.view(), &opts).unwrap_err();
        assert!(err.to_string().contains("learning rate"), "{err}");
    }
}

#[test]
fn tsne_rejects_too_few_points_for_the_perplexity() {
    let (x, _) = blobs(2, 10, 5, 3.0, 0);
    let err = viz::tsne(x.view(), &TsneOptions::default()).unwrap_err();
    assert!(err.to_string().contains("perplexity"), "{err}");
}

#[test]
#[ignore = "timing: cargo test --release --test viz -- --ignored --nocapture"]
fn tsne_timing_2000_by_1000() {
    let (x, labels) = blobs(10, 200, 1000, 1.0, 5);
    let start = std::time::Instant::now();
    let y = viz::tsne(x.view(), &TsneOptions::default()).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let acc = knn_accuracy(y.view(), &labels, 5).unwrap();
    println!("t-SNE 2000 x 1000, 1000 epochs: {secs:.2} s, 5-NN accuracy on the map {acc:.3}");
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

/// The SVG's declared width and height.
fn svg_size(path: &Path) -> (u32, u32) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains("<svg") && text.trim_end().ends_with("</svg>"));
    let attr = |name: &str| -> u32 {
        let start = text.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        let end = start + text[start..].find('"').unwrap();
        text[start..end].parse().unwrap()
    };
    (attr("width"), attr("height"))
}

/// Where a test's plots go: a fresh temporary directory, or $ASRPIPE_KEEP_PLOTS/`name` to look
/// at them afterwards.
fn plot_dir(name: &str) -> (Option<tempfile::TempDir>, std::path::PathBuf) {
    match std::env::var_os("ASRPIPE_KEEP_PLOTS") {
        Some(d) => {
            let d = Path::new(&d).join(name);
            std::fs::create_dir_all(&d).unwrap();
            (None, d)
        }
        None => {
            let t = tempfile::tempdir().unwrap();
            let p = t.path().to_path_buf();
            (Some(t), p)
        }
    }
}

/// Both formats at `size`, and nothing else (no temporary files) left beside them.
fn check_outputs(dir: &Path, stem: &str, size: (u32, u32)) {
    assert_eq!(png_size(&dir.join(format!("{stem}.png"))), size);
    assert_eq!(svg_size(&dir.join(format!("{stem}.svg"))), size);
    let stray: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".asrpipe-"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

#[test]
fn scatter_panels_are_written_at_their_size() {
    let (_keep, dir) = plot_dir("scatter");
    let (x, labels) = blobs(12, 40, 30, 3.0, 4);
    let y = viz::pca(x.view(), 2).unwrap();
    let names: Vec<String> = (0..12).map(|i| format!("speaker {i:02}")).collect();
    let panels: Vec<Panel> = [
        "input features",
        "hidden layer 1",
        "hidden layer 2",
        "hidden layer 4",
    ]
    .iter()
    .map(|t| Panel::new(*t, y.clone(), labels.clone()).axes("PCA 1", "PCA 2"))
    .collect();
    for ext in ["png", "svg"] {
        let path = dir.join(format!("panels.{ext}"));
        viz::scatter_panels(
            &path,
            &panels,
            &names,
            "Sentence sa1, 12 speakers (PCA)",
            "speaker",
        )
        .unwrap();
    }
    check_outputs(&dir, "panels", viz::scatter::PANELS_SIZE);

    let bad = [Panel::new("x", y.clone(), vec![99; y.nrows()])];
    assert!(viz::scatter_panels(&dir.join("bad.png"), &bad, &names, "t", "speaker").is_err());
    assert!(viz::scatter_panels(&dir.join("panels.jpg"), &panels, &names, "t", "s").is_err());
    assert!(!dir.join("bad.png").exists());
}

#[test]
fn accuracy_plot_is_written_at_its_size() {
    let (_keep, dir) = plot_dir("accuracy");
    let deep = Series::new(
        "deep, 2048 wide",
        vec![(3.2e6, 48.1), (7.4e6, 51.0), (1.16e7, 52.3), (2.0e7, 52.9)],
    );
    let shallow = Series::new(
        "one hidden layer",
        vec![(3.2e6, 47.0), (7.4e6, 47.9), (1.16e7, 48.4), (2.0e7, 48.6)],
    );
    for ext in ["png", "svg"] {
        let path = dir.join(format!("accuracy.{ext}"));
        viz::accuracy_vs_params(
            &path,
            &[deep.clone(), shallow.clone()],
            "Deep vs shallow at equal parameters",
            "frame accuracy (%)",
        )
        .unwrap();
    }
    check_outputs(&dir, "accuracy", viz::lines::LINES_SIZE);
    let zero = Series::new("bad", vec![(0.0, 1.0)]);
    assert!(viz::accuracy_vs_params(&dir.join("z.png"), &[zero], "t", "y").is_err());
}

/// Triangular filters: `count` evenly spaced on `bins` bins.
fn triangles(count: usize, bins: usize) -> Array2<f32> {
    Array2::from_shape_fn((count, bins), |(f, b)| {
        let centre = (f + 1) as f32 * bins as f32 / (count + 1) as f32;
        let half = bins as f32 / (count + 1) as f32;
        (1.0 - (b as f32 - centre).abs() / half).max(0.0)
    })
}

#[test]
fn filter_responses_are_written_at_their_size() {
    let (_keep, dir) = plot_dir("filters");
    // Shuffled band-pass "units" with some noise, and a (linear-spaced) 23-filter bank.
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut units = triangles(300, 257);
    for v in units.iter_mut() {
        let e: f32 = StandardNormal.sample(&mut rng);
        *v = *v * if e > 0.0 { 1.0 } else { -1.0 } + 0.05 * e;
    }
    let bank = triangles(23, 257);
    for ext in ["png", "svg"] {
        let path = dir.join(format!("filters.{ext}"));
        viz::filter_responses(
            &path,
            units.view(),
            16000.0,
            Some(bank.view()),
            "First layer vs mel",
        )
        .unwrap();
    }
    check_outputs(&dir, "filters", viz::heatmap::FILTERS_SIZE);
}

#[test]
fn kernels_are_drawn_signed_below_their_responses() {
    let (_keep, dir) = plot_dir("kernels");
    // 40 Gabor kernels of 400 taps (25 ms at 16 kHz), centre frequencies 100 Hz .. 7.5 kHz, some
    // with their sign flipped: the magnitude panels cannot tell those apart, the waveforms can.
    let (n, taps, rate) = (40, 400, 16000.0f32);
    let kernels = Array2::from_shape_fn((n, taps), |(i, t)| {
        let f = 100.0 + 7400.0 * i as f32 / (n - 1) as f32;
        let x = t as f32 - taps as f32 / 2.0;
        let sign = if i % 3 == 0 { -1.0 } else { 1.0 };
        sign * (-(x / 60.0).powi(2)).exp() * (std::f32::consts::TAU * f * x / rate).cos()
    });
    let responses = viz::magnitude_responses(kernels.view(), 512).unwrap();
    let start = kernels.mapv(|v| 0.5 * v);
    let panels = [viz::FilterPanel {
        title: "learned (40)".into(),
        rows: "kernel (sorted by peak frequency)".into(),
        responses: responses.view(),
        signed: false,
    }];
    let kernel_panels = [
        viz::KernelPanel {
            title: "learned kernels, signed".into(),
            kernels: kernels.view(),
            responses: responses.view(),
        },
        viz::KernelPanel {
            title: "at the start".into(),
            kernels: start.view(),
            responses: responses.view(),
        },
    ];
    for ext in ["png", "svg"] {
        let path = dir.join(format!("kernels.{ext}"));
        viz::filter_panels(&path, &panels, &kernel_panels, rate, "Gabor kernels").unwrap();
    }
    let (w, h) = viz::heatmap::FILTERS_SIZE;
    check_outputs(&dir, "kernels", (w, h + 640));
    // Kernels and responses that do not match are refused, not drawn.
    let short = responses.slice(ndarray::s![..10, ..]).to_owned();
    let bad = [viz::KernelPanel {
        title: "bad".into(),
        kernels: kernels.view(),
        responses: short.view(),
    }];
    let err = viz::filter_panels(&dir.join("bad.png"), &panels, &bad, rate, "x").unwrap_err();
    assert!(
        err.to_string().contains("40 kernels but 10 responses"),
        "{err}"
    );
}

#[test]
fn magnitude_response_of_an_impulse_is_flat() {
    let mut taps = Array2::zeros((2, 8));
    taps[[0, 0]] = 2.0;
    taps[[1, 3]] = -1.0;
    let r = viz::magnitude_responses(taps.view(), 16).unwrap();
    assert_eq!(r.dim(), (2, 9));
    assert!(r.row(0).iter().all(|&v| (v - 2.0).abs() < 1e-6));
    assert!(r.row(1).iter().all(|&v| (v - 1.0).abs() < 1e-6));
    assert!(viz::magnitude_responses(taps.view(), 4).is_err());
}

#[test]
fn confusion_matrix_is_written_at_its_size() {
    let (_keep, dir) = plot_dir("confusion");
    let names: Vec<String> = [
        "aa", "ae", "ah", "ao", "aw", "ax", "ay", "b", "ch", "d", "dh", "dx", "eh", "er", "ey",
        "f", "g", "hh", "ih", "iy", "jh", "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s",
        "sh", "sil", "t", "th", "uh", "uw", "v", "w",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let n = names.len();
    let counts = Array2::from_shape_fn((n, n), |(i, j)| {
        if i == j {
            50.0 + i as f64
        } else if (i + 1) % n == j || (j + 1) % n == i {
            15.0
        } else {
            ((i * 7 + j * 3) % 5) as f64
        }
    });
    for ext in ["png", "svg"] {
        let path = dir.join(format!("confusion.{ext}"));
        viz::confusion_matrix(&path, counts.view(), &names, "39-phone confusions (frames)")
            .unwrap();
    }
    check_outputs(&dir, "confusion", viz::heatmap::CONFUSION_SIZE);
    assert!(viz::confusion_matrix(&dir.join("c.png"), counts.view(), &names[..3], "t").is_err());
}
