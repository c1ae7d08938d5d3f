//! Shared fixtures of the DNN tests: seeded random matrices and a toy corpus of separable classes.

#![allow(dead_code)]

use std::path::Path;

use asrpipe::Result;
use asrpipe::model::dnn::{Dataset, DnnConfig, TrainOptions, Trained, train};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

pub fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || rng.sample(StandardNormal))
}

/// Utterances drawn from 3 well-separated Gaussian classes in 5-D; a class holds for runs of
/// frames, so context helps but is not needed.
pub fn clusters(utts: usize, seed: u64) -> (Vec<Array2<f32>>, Vec<Vec<u32>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres = random(3, 5, 99) * 6.0;
    let mut feats = Vec::new();
    let mut labels = Vec::new();
    for _ in 0..utts {
        let t = rng.random_range(20..40);
        let mut f = Array2::zeros((t, 5));
        let mut l = Vec::new();
        let mut class = rng.random_range(0..3u32);
        for i in 0..t {
            if i % 7 == 0 {
                class = rng.random_range(0..3);
            }
            for d in 0..5 {
                let noise: f32 = rng.sample(StandardNormal);
                f[[i, d]] = centres[[class as usize, d]] + noise + 10.0;
            }
            l.push(if i == 3 { u32::MAX } else { class });
        }
        feats.push(f);
        labels.push(l);
    }
    (feats, labels)
}

pub fn dataset<'a>(f: &'a [Array2<f32>], l: &'a [Vec<u32>]) -> Dataset<'a> {
    Dataset::new(
        f.iter().map(|f| f.view()).collect(),
        l.iter().map(|l| l.as_slice()).collect(),
    )
    .unwrap()
}

/// Utterances of `len`-sample frames holding a sinusoid whose frequency depends on the class (3
/// classes, in runs of 5 frames), with random phase and level, in white noise.
pub fn sine_frames(utts: usize, len: usize, seed: u64) -> (Vec<Array2<f32>>, Vec<Vec<u32>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut feats, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..utts {
        let t = rng.random_range(12..24);
        let mut f = Array2::zeros((t, len));
        let mut l = Vec::new();
        let mut class = 0u32;
        for i in 0..t {
            if i % 5 == 0 {
                class = rng.random_range(0..3);
            }
            let omega = std::f32::consts::PI * (0.15 + 0.25 * class as f32);
            let phase = rng.random_range(0.0..6.3f32);
            let level = rng.random_range(0.5..2.0f32);
            for (n, x) in f.row_mut(i).iter_mut().enumerate() {
                let noise: f32 = rng.sample(StandardNormal);
                *x = level * (omega * n as f32 + phase).sin() + 0.3 * noise;
            }
            l.push(if i == 2 { u32::MAX } else { class });
        }
        feats.push(f);
        labels.push(l);
    }
    (feats, labels)
}

/// Hann-windowed power spectrum of every frame (row): `n / 2 + 1` bins.
pub fn power_spectra(frames: &Array2<f32>) -> Array2<f32> {
    use realfft::RealFftPlanner;
    let n = frames.ncols();
    let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
    let (mut input, mut spectrum) = (fft.make_input_vec(), fft.make_output_vec());
    let mut out = Array2::zeros((frames.nrows(), n / 2 + 1));
    for (row, mut dst) in frames.rows().into_iter().zip(out.rows_mut()) {
        for (i, (d, &x)) in input.iter_mut().zip(row).enumerate() {
            let w = 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos();
            *d = w * x;
        }
        fft.process(&mut input, &mut spectrum)
            .expect("sized buffers");
        dst.iter_mut()
            .zip(&spectrum)
            .for_each(|(d, c)| *d = c.norm_sqr());
    }
    out
}

/// `train` on 3 classes with the dev set `dev`, checkpointing in `dir` and resuming from the
/// checkpoint it holds.
pub fn train_resuming(
    cfg: &DnnConfig,
    t: &Dataset<'_>,
    dev: &Dataset<'_>,
    dir: &Path,
) -> Result<Trained> {
    train(
        cfg,
        3,
        t,
        Some(dev),
        TrainOptions {
            checkpoint_dir: Some(dir),
            ..Default::default()
        },
    )
}
