//! Shared fixtures of the DNN tests: seeded random matrices and a toy corpus of separable classes.

#![allow(dead_code)]

use asrpipe::model::dnn::Dataset;
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
