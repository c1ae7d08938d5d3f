//! GMM hot paths: the scoring product (gemm crate vs ndarray's matrixmultiply), all-state
//! log-likelihoods, and one EM iteration.
//!
//! `cargo bench --bench gmm`; the comparison with scikit-learn is scripts/bench-gmm.sh.

use std::hint::black_box;

use asrpipe::model::gmm::linalg::{Parallelism, matmul_into};
use asrpipe::model::gmm::{GmmConfig, StateGmms, TrainingFrames};
use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2, Axis, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

const FRAMES: usize = 50_000;
const DIM: usize = 39;

fn random(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.random_range(-1.0..1.0f32))
}

fn gmms(states: usize, per_state: usize, seed: u64) -> StateGmms {
    let g = states * per_state;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let means = random(g, DIM, seed + 1);
    let vars = Array2::from_shape_fn((g, DIM), |_| rng.random_range(0.2..2.0f32));
    let weights = Array1::from_elem(g, 1.0 / per_state as f32);
    StateGmms::new(means, vars, weights, &vec![per_state; states]).unwrap()
}

/// frames x (2d+1) times (2d+1) x 2048: the scoring product for 256 states x 8 Gaussians.
fn product(c: &mut Criterion) {
    let (n, k, m) = (FRAMES, 2 * DIM + 1, 2048);
    let a = random(n, k, 1);
    let b = random(k, m, 2);
    let mut out = Array2::<f32>::zeros((n, m));
    let mut g = c.benchmark_group("product 50000x79x2048");
    g.sample_size(10);
    g.bench_function("gemm crate, one call, rayon", |bench| {
        bench.iter(|| {
            matmul_into(
                a.view(),
                b.view(),
                out.view_mut(),
                false,
                Parallelism::Rayon(0),
            )
        })
    });
    g.bench_function("gemm crate, rayon over 256-row blocks", |bench| {
        bench.iter(|| {
            out.axis_chunks_iter_mut(Axis(0), 256)
                .into_par_iter()
                .enumerate()
                .for_each(|(i, o)| {
                    let rows = o.nrows();
                    matmul_into(
                        a.slice(s![i * 256..i * 256 + rows, ..]),
                        b.view(),
                        o,
                        false,
                        Parallelism::None,
                    )
                })
        })
    });
    g.bench_function("ndarray dot (matrixmultiply, threaded)", |bench| {
        bench.iter(|| ndarray::linalg::general_mat_mul(1.0, &a, &b, 0.0, &mut out))
    });
    g.finish();
}

fn likelihoods(c: &mut Criterion) {
    let x = random(FRAMES, DIM, 3);
    let model = gmms(256, 8, 4);
    let mut g = c.benchmark_group("log_likelihoods");
    g.sample_size(10);
    g.bench_function("50000 frames x 256 states x 8 Gaussians", |bench| {
        bench.iter(|| black_box(model.log_likelihoods(x.view()).unwrap()))
    });
    g.finish();
}

fn em(c: &mut Criterion) {
    let x = random(FRAMES, DIM, 5);
    let cfg = GmmConfig {
        min_count: 0.0,
        min_weight: 0.0,
        ..GmmConfig::default()
    };
    let mut g = c.benchmark_group("em_step");
    g.sample_size(10);
    let one = gmms(1, 256, 6);
    let labels = vec![0u32; FRAMES];
    let data = TrainingFrames::new(x.view(), &labels, 1, cfg.var_floor).unwrap();
    g.bench_function("50000 frames, 1 state x 256 Gaussians", |bench| {
        bench.iter(|| black_box(one.em_step(&data, &cfg).unwrap()))
    });
    let many = gmms(1000, 16, 7);
    let labels: Vec<u32> = (0..FRAMES as u32)
        .map(|i| i.wrapping_mul(2_654_435_761) % 1000)
        .collect();
    let data = TrainingFrames::new(x.view(), &labels, 1000, cfg.var_floor).unwrap();
    g.bench_function("50000 frames, 1000 states x 16 Gaussians", |bench| {
        bench.iter(|| black_box(many.em_step(&data, &cfg).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, product, likelihoods, em);
criterion_main!(benches);
