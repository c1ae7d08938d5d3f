//! Learned front ends learn band-pass filters: frames of noisy sinusoids whose class is the
//! frequency band holding the tone (and a distractor tone elsewhere). After training, the filter bank's weights (and the time
//! convolution's kernel responses) concentrate in the class bands, far more than at random
//! initialisation. Run with `cargo test --release --test dnn_front_learning`.

mod dnn_support;

use asrpipe::model::dnn::{
    Centre, Dnn, DnnConfig, FilterbankFront, Front, FrontFilters, Optimizer, Pooling, Rectify,
    TimeConvFront, TrainOptions, train,
};
use dnn_support::{dataset, power_spectra};
use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// Frames of `len` samples, frequencies on an `n_fft`-point grid: the class-`c` tone lies within
/// `HALF` grid bins of `centres[c]`, with random phase and level, plus a distractor tone as loud
/// at a random frequency outside the class bands (so a filter that takes in energy outside them is
/// misled: the bands must be found, not just any spectral difference), in white noise. The class
/// holds for runs of 6 frames.
fn tones(
    utts: usize,
    len: usize,
    n_fft: usize,
    centres: &[f32],
    seed: u64,
) -> (Vec<Array2<f32>>, Vec<Vec<u32>>) {
    const HALF: f32 = 1.0;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut feats, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..utts {
        let t = 30;
        let mut f = Array2::zeros((t, len));
        let mut l = Vec::with_capacity(t);
        let mut class = 0;
        for i in 0..t {
            if i % 6 == 0 {
                class = rng.random_range(0..centres.len());
            }
            let bin = centres[class] + rng.random_range(-HALF..HALF);
            let omega = 2.0 * std::f32::consts::PI * bin / n_fft as f32;
            let phase = rng.random_range(0.0..2.0 * std::f32::consts::PI);
            let level = rng.random_range(0.5..2.0f32);
            // A distractor anywhere outside the class bands, as loud as the tone.
            let distractor = loop {
                let b = rng.random_range(2.0..(n_fft / 2) as f32 - 2.0);
                if centres.iter().all(|c| (b - c).abs() > HALF + 2.0) {
                    break 2.0 * std::f32::consts::PI * b / n_fft as f32;
                }
            };
            let (phase2, level2) = (
                rng.random_range(0.0..2.0 * std::f32::consts::PI),
                rng.random_range(0.5..2.0f32),
            );
            for (n, x) in f.row_mut(i).iter_mut().enumerate() {
                let noise: f32 = rng.sample(StandardNormal);
                *x = level * (omega * n as f32 + phase).sin()
                    + level2 * (distractor * n as f32 + phase2).sin()
                    + 0.5 * noise;
            }
            l.push(class as u32);
        }
        feats.push(f);
        labels.push(l);
    }
    (feats, labels)
}

/// Share of each row's response inside `±width` bins of the band centres, averaged over rows.
fn share_in_bands(responses: ArrayView2<f32>, centres: &[f32], width: f32) -> f64 {
    let inside = |j: usize| centres.iter().any(|c| (j as f32 - c).abs() <= width);
    let mut total = 0.0;
    for r in responses.rows() {
        let all: f64 = r.iter().map(|&v| f64::from(v)).sum();
        let within: f64 = r
            .iter()
            .enumerate()
            .filter(|(j, _)| inside(*j))
            .map(|(_, &v)| f64::from(v))
            .sum();
        total += within / all;
    }
    total / responses.nrows() as f64
}

/// The front end's filters (responses on an `n_fft`-point grid) after training `cfg` on 4
/// classes of `train`, which must reach 95 % frame accuracy on `dev`, and at the random start.
fn learned_and_random(
    cfg: &DnnConfig,
    train_set: (&[Array2<f32>], &[Vec<u32>]),
    dev: (&[Array2<f32>], &[Vec<u32>]),
    n_fft: usize,
) -> (FrontFilters, FrontFilters) {
    let out = train(
        cfg,
        4,
        &dataset(train_set.0, train_set.1),
        None,
        TrainOptions::default(),
    )
    .unwrap();
    let acc = accuracy(&out.dnn, dev.0, dev.1);
    assert!(acc > 0.95, "dev accuracy {acc}");
    let learned = out.dnn.front_filters(n_fft).unwrap().unwrap();
    let random = Dnn::new(out.dnn.arch().clone(), cfg.seed)
        .unwrap()
        .front_filters(n_fft)
        .unwrap()
        .unwrap();
    (learned, random)
}

fn accuracy(dnn: &Dnn, feats: &[Array2<f32>], labels: &[Vec<u32>]) -> f64 {
    let (mut right, mut n) = (0, 0);
    for (f, l) in feats.iter().zip(labels) {
        let lp = dnn.log_posteriors(f.view()).unwrap();
        for (row, &y) in lp.rows().into_iter().zip(l) {
            let best = (0..row.len())
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .unwrap();
            right += usize::from(best as u32 == y);
            n += 1;
        }
    }
    right as f64 / n as f64
}

/// Is every band centre within `width` bins of some filter's peak?
fn uncovered(responses: ArrayView2<f32>, centres: &[f32], width: f32) -> Vec<f32> {
    let peaks = asrpipe::model::dnn::centres(responses, Centre::Peak);
    centres
        .iter()
        .copied()
        .filter(|c| peaks.iter().all(|p| (p - c).abs() > width))
        .collect()
}

#[test]
fn filter_bank_learns_the_class_bands() {
    // 128-sample frames, 65 power bins; the tone of class c lies within a bin of centres[c].
    let centres = [10.0f32, 22.0, 36.0, 50.0];
    let (waves, labels) = tones(40, 128, 128, &centres, 1);
    let spectra: Vec<Array2<f32>> = waves.iter().map(power_spectra).collect();
    let (dev_waves, dev_labels) = tones(10, 128, 128, &centres, 2);
    let dev_spectra: Vec<Array2<f32>> = dev_waves.iter().map(power_spectra).collect();
    let cfg = DnnConfig {
        hidden: "none".parse().unwrap(),
        context: 1,
        epochs: 30,
        batch: 32,
        optimizer: Optimizer::Adam,
        lr: Some(0.05),
        front: Front::Filterbank(FilterbankFront {
            filters: 8,
            ..Default::default()
        }),
        ..Default::default()
    };
    let (learned, random) =
        learned_and_random(&cfg, (&spectra, &labels), (&dev_spectra, &dev_labels), 0);
    assert!(learned.weights.iter().all(|w| *w >= 0.0));
    // The bands (±2 bins around the centres) are 20 of 65 bins.
    let (l, r) = (
        share_in_bands(learned.weights.view(), &centres, 2.0),
        share_in_bands(random.weights.view(), &centres, 2.0),
    );
    assert!(
        r < 0.35 && l > 0.45 && l > 1.5 * r,
        "weight share in the bands: learned {l}, random {r}"
    );
    let missed = uncovered(learned.responses.view(), &centres, 2.0);
    assert!(missed.is_empty(), "no filter peaks near bins {missed:?}");
}

#[test]
fn time_convolution_learns_the_class_bands() {
    // 96-sample frames, 32-tap kernels at stride 2 (33 positions), responses on a 64-point grid
    // (33 bins); the tone of class c lies within a bin of centres[c].
    let centres = [6.0f32, 12.0, 19.0, 26.0];
    let (waves, labels) = tones(40, 96, 64, &centres, 3);
    let (dev_waves, dev_labels) = tones(10, 96, 64, &centres, 4);
    let cfg = DnnConfig {
        hidden: "none".parse().unwrap(),
        context: 1,
        epochs: 30,
        batch: 32,
        optimizer: Optimizer::Adam,
        lr: Some(0.02),
        front: Front::Timeconv(TimeConvFront {
            filters: 8,
            taps: 32,
            stride: 2,
            rectify: Rectify::Relu,
            pooling: Pooling::Max,
            ..Default::default()
        }),
        ..Default::default()
    };
    let (learned, random) =
        learned_and_random(&cfg, (&waves, &labels), (&dev_waves, &dev_labels), 64);
    // Power gain |H|^2 within ±1 bin of the centres (12 of 33 bins).
    let power = |r: &Array2<f32>| r.mapv(|v| v * v);
    let (l, r) = (
        share_in_bands(power(&learned.responses).view(), &centres, 1.0),
        share_in_bands(power(&random.responses).view(), &centres, 1.0),
    );
    assert!(
        r < 0.45 && l > 0.65 && l > 1.6 * r,
        "power share in the bands: learned {l}, random {r}"
    );
    let missed = uncovered(learned.responses.view(), &centres, 1.0);
    assert!(missed.is_empty(), "no kernel peaks near bins {missed:?}");
}
