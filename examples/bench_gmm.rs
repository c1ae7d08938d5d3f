//! One EM iteration of a 1-state, k-Gaussian diagonal GMM on frames from .npy files, timed, for
//! the comparison with scikit-learn in scripts/bench-gmm.sh.
//!
//! Usage: bench_gmm DIR [REPEATS]
//! Reads DIR/x.npy (frames x d, f32), DIR/means0.npy, DIR/vars0.npy (k x d), DIR/weights0.npy (k);
//! writes the re-estimated DIR/rust_means1.npy, rust_vars1.npy, rust_weights1.npy and prints
//! `asrpipe_em_iteration_ms<TAB>best<TAB>median` and the log-likelihood per frame.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use asrpipe::model::gmm::{GmmConfig, StateGmms, TrainingFrames};
use ndarray::{Array1, Array2};
use ndarray_npy::{read_npy, write_npy};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().context("usage: bench_gmm DIR [REPEATS]")?);
    let repeats: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(5);
    let read2 = |n: &str| -> anyhow::Result<Array2<f32>> {
        read_npy(dir.join(n)).with_context(|| format!("reading {}", dir.join(n).display()))
    };
    let x = read2("x.npy")?;
    let means = read2("means0.npy")?;
    let vars = read2("vars0.npy")?;
    let weights: Array1<f32> =
        read_npy(dir.join("weights0.npy")).context("reading weights0.npy")?;
    let k = means.nrows();
    let init = StateGmms::new(means, vars, weights, &[k])?;
    // scikit-learn neither floors variances nor drops Gaussians: neither do we here.
    let cfg = GmmConfig {
        var_floor: 0.0,
        min_count: 0.0,
        min_weight: 0.0,
        ..GmmConfig::default()
    };
    let labels = vec![0u32; x.nrows()];
    let data = TrainingFrames::new(x.view(), &labels, 1, cfg.var_floor)?;

    let (next, ll) = init.em_step(&data, &cfg)?;
    let mut times = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        let (again, _) = init.em_step(&data, &cfg)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(again, next, "EM is deterministic");
    }
    times.sort_by(f64::total_cmp);
    println!(
        "asrpipe_em_iteration_ms\t{:.1}\t{:.1}\t(frames {}, dim {}, gaussians {k}, threads {})",
        times[0],
        times[times.len() / 2],
        x.nrows(),
        x.ncols(),
        rayon::current_num_threads()
    );
    println!("asrpipe_log_likelihood_per_frame\t{ll:.6}");
    write_npy(dir.join("rust_means1.npy"), &next.means().to_owned())?;
    write_npy(dir.join("rust_vars1.npy"), &next.vars().to_owned())?;
    write_npy(dir.join("rust_weights1.npy"), &next.weights().to_owned())?;
    Ok(())
}
