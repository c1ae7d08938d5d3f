//! One DNN training step (8x1000 hidden, 440 inputs = 40 dims x 11 frames, 2000 outputs, batch
//! 256, SGD with momentum) with each matrix-product implementation, plus inference; and the same
//! step with a learned front end before the splice: a 40-filter bank on 257-bin power spectra,
//! and 40 time-convolution kernels of 400 taps on 400- and 560-sample frames (1 and 161
//! positions), for batches of random frames from 20 utterances of 300 frames (so about 11x256
//! distinct frames go through the front end per step).
//!
//! `cargo bench --bench dnn` runs criterion; `cargo bench --bench dnn -- --plain [steps]
//! [gemm|ndarray]` prints ms/step and GFLOP/s (6·batch·in·out per layer: forward, input gradient
//! and weight gradient) for `scripts/bench-dnn.sh`, and the throughput of the bare matrix product
//! the step is made of (256x1000 times 1000x1000), the ceiling the step is measured against;
//! `--plain [steps] front` times only the front-end steps.

use std::hint::black_box;
use std::time::Instant;

use asrpipe::model::dnn::{
    Activation, Architecture, Dnn, DnnConfig, FilterbankFront, Front, MatMul, Pooling,
    TimeConvFront, Trainer,
};
use criterion::Criterion;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

const BATCH: usize = 256;
const CLASSES: usize = 2000;

fn arch() -> Architecture {
    Architecture {
        feature_dim: 40,
        context: 5,
        hidden: vec![1000; 8],
        activation: Activation::Relu,
        num_classes: CLASSES,
        front: Front::None,
    }
}

fn batch() -> (Array2<f32>, Vec<u32>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let x =
        Array2::from_shape_simple_fn((BATCH, arch().input_dim()), || rng.sample(StandardNormal));
    let y = (0..BATCH)
        .map(|_| rng.random_range(0..CLASSES as u32))
        .collect();
    (x, y)
}

fn trainer(mm: MatMul) -> Trainer {
    let cfg = DnnConfig {
        hidden: "8x1000".parse().unwrap(),
        batch: BATCH,
        momentum: 0.9,
        ..Default::default()
    };
    Trainer::new(Dnn::new(arch(), 0).unwrap(), &cfg, mm).unwrap()
}

fn flops_per_step() -> f64 {
    6.0 * BATCH as f64
        * arch()
            .layer_dims()
            .iter()
            .map(|(i, o)| (i * o) as f64)
            .sum::<f64>()
}

fn plain(steps: usize, only: Option<&str>) {
    let (x, y) = batch();
    println!(
        "asrpipe DNN step: 8x1000 relu, 440 in, {CLASSES} out, batch {BATCH}, SGD momentum 0.9, \
         {} rayon threads",
        rayon::current_num_threads()
    );
    for (name, mm) in [("gemm", MatMul::Gemm), ("ndarray", MatMul::Ndarray)] {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let mut t = trainer(mm);
        for _ in 0..3 {
            t.step(x.view(), &y, 0.001).unwrap();
        }
        let mut times = Vec::with_capacity(steps);
        for _ in 0..steps {
            let start = Instant::now();
            black_box(t.step(x.view(), &y, 0.001).unwrap());
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let median = times[steps / 2];
        println!(
            "asrpipe ({name:7}): {:7.1} ms/step (median of {steps}, min {:.1}), {:6.1} GFLOP/s",
            median * 1e3,
            times[0] * 1e3,
            flops_per_step() / median / 1e9
        );
        let a = Array2::<f32>::ones((BATCH, 1000));
        let b = Array2::<f32>::ones((1000, 1000));
        let mut c = Array2::<f32>::zeros((BATCH, 1000));
        let reps = 10 * steps;
        let mut times = Vec::with_capacity(reps);
        for _ in 0..reps + 3 {
            let start = Instant::now();
            mm.product(a.view(), b.view(), c.view_mut(), false);
            times.push(start.elapsed().as_secs_f64());
        }
        times.drain(..3);
        times.sort_by(f64::total_cmp);
        let flops = 2.0 * (BATCH * 1000 * 1000) as f64;
        println!(
            "  bare {name} product {BATCH}x1000 * 1000x1000: {:6.1} GFLOP/s (median of {reps})",
            flops / times[reps / 2] / 1e9
        );
    }
}

/// The front ends timed: name, front end, frame width.
fn front_cases() -> Vec<(&'static str, Front, usize)> {
    let tc = |pooling| {
        Front::Timeconv(TimeConvFront {
            pooling,
            ..Default::default()
        })
    };
    vec![
        (
            "filterbank 40 on 257 bins",
            Front::Filterbank(FilterbankFront::default()),
            257,
        ),
        (
            "timeconv 40x400 max, 400-sample frames",
            tc(Pooling::Max),
            400,
        ),
        (
            "timeconv 40x400 max, 560-sample frames",
            tc(Pooling::Max),
            560,
        ),
        (
            "timeconv 40x400 mean, 560-sample frames",
            tc(Pooling::Mean),
            560,
        ),
    ]
}

/// A trainer for the 8x1000 net behind `front`, 20 utterances of 300 random frames (positive
/// for the filter bank) and 8 batches of 256 random frames with labels.
#[allow(clippy::type_complexity)]
fn front_setup(
    front: &Front,
    dim: usize,
) -> (Trainer, Vec<Array2<f32>>, Vec<(Vec<(u32, u32)>, Vec<u32>)>) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let positive = matches!(front, Front::Filterbank(_));
    let utts: Vec<Array2<f32>> = (0..20)
        .map(|_| {
            Array2::from_shape_simple_fn((300, dim), || {
                let v: f32 = rng.sample(StandardNormal);
                if positive { (2.0 * v).exp() } else { v }
            })
        })
        .collect();
    let batches = (0..8)
        .map(|_| {
            let frames = (0..BATCH)
                .map(|_| (rng.random_range(0..20u32), rng.random_range(0..300u32)))
                .collect();
            let labels = (0..BATCH)
                .map(|_| rng.random_range(0..CLASSES as u32))
                .collect();
            (frames, labels)
        })
        .collect();
    let arch = Architecture {
        feature_dim: dim,
        front: front.clone(),
        ..arch()
    };
    let cfg = DnnConfig {
        hidden: "8x1000".parse().unwrap(),
        batch: BATCH,
        momentum: 0.9,
        front: front.clone(),
        ..Default::default()
    };
    let t = Trainer::new(Dnn::new(arch, 0).unwrap(), &cfg, MatMul::Gemm).unwrap();
    (t, utts, batches)
}

fn plain_front(steps: usize) {
    println!("asrpipe DNN step with a front end, 8x1000 behind it, context 5, batch {BATCH}:");
    for (name, front, dim) in front_cases() {
        let (mut t, utts, batches) = front_setup(&front, dim);
        let views: Vec<_> = utts.iter().map(|u| u.view()).collect();
        let mut step = |i: usize| {
            let (frames, labels) = &batches[i % batches.len()];
            t.step_frames(&views, frames, labels, 0.001).unwrap()
        };
        for i in 0..3 {
            step(i);
        }
        let mut times = Vec::with_capacity(steps);
        for i in 0..steps {
            let start = Instant::now();
            black_box(step(i));
            times.push(start.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        println!(
            "  {name:40}: {:7.1} ms/step (median of {steps}, min {:.1})",
            times[steps / 2] * 1e3,
            times[0] * 1e3
        );
    }
}

fn criterion_benches(c: &mut Criterion) {
    let (x, y) = batch();
    let mut group = c.benchmark_group("dnn_train_step_8x1000");
    group.sample_size(20);
    for (name, mm) in [("gemm", MatMul::Gemm), ("ndarray", MatMul::Ndarray)] {
        let mut t = trainer(mm);
        group.bench_function(name, |b| b.iter(|| t.step(x.view(), &y, 0.001).unwrap()));
    }
    group.finish();
    let mut group = c.benchmark_group("dnn_train_step_front_8x1000");
    group.sample_size(10);
    for (name, front, dim) in front_cases() {
        let (mut t, utts, batches) = front_setup(&front, dim);
        let views: Vec<_> = utts.iter().map(|u| u.view()).collect();
        let mut i = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let (frames, labels) = &batches[i % batches.len()];
                i += 1;
                t.step_frames(&views, frames, labels, 0.001).unwrap()
            })
        });
    }
    group.finish();
    let dnn = Dnn::new(arch(), 0).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let utt = Array2::from_shape_simple_fn((300, 40), || rng.sample::<f32, _>(StandardNormal));
    c.bench_function("dnn_log_posteriors_300_frames", |b| {
        b.iter(|| dnn.log_posteriors(utt.view()).unwrap())
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--plain") {
        let steps = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(20);
        // `cargo bench` appends `--bench`: only a bare word names the product to time.
        let only = args
            .get(i + 2)
            .map(String::as_str)
            .filter(|a| !a.starts_with('-'));
        if only == Some("front") {
            plain_front(steps);
        } else {
            plain(steps, only);
            if only.is_none() {
                plain_front(steps);
            }
        }
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c);
    c.final_summary();
}
