//! t-SNE of the points in a .npy file, timed, for the comparison with openTSNE in
//! scripts/bench-tsne.sh and scripts/bench-peers.sh (the data come from
//! `scripts/bench_tsne_opentsne.py gen` or `frames`).
//!
//! Usage: bench_tsne DIR [REPEATS] [SEED]
//! Reads DIR/tsne_x.npy (n x d, f32), embeds it with the default options (PCA to 50 dimensions,
//! perplexity 30, 1000 iterations, theta 0.5, learning rate max(n / 12, 200), PCA start; with
//! SEED, a random start drawn from SEED instead), writes DIR/rust_tsne_y.npy (n x 2) and prints
//! `asrpipe_tsne_s<TAB>best<TAB>median`. The time covers everything `tsne` does: PCA, the exact
//! neighbour search, the affinities and the gradient descent, on rayon's threads
//! (RAYON_NUM_THREADS).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use asrpipe::viz::{TsneInit, TsneOptions, tsne};
use ndarray::Array2;
use ndarray_npy::{read_npy, write_npy};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .context("usage: bench_tsne DIR [REPEATS] [SEED]")?,
    );
    let repeats: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let seed: Option<u64> = args.next().map(|s| s.parse()).transpose()?;
    let path = dir.join("tsne_x.npy");
    let x: Array2<f32> = read_npy(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut opts = TsneOptions::default();
    if let Some(seed) = seed {
        opts.init = TsneInit::Random;
        opts.seed = seed;
    }
    let mut times = Vec::new();
    let mut first: Option<Array2<f32>> = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let y = tsne(x.view(), &opts)?;
        times.push(t.elapsed().as_secs_f64());
        match &first {
            Some(f) => assert_eq!(f, &y, "t-SNE is deterministic"),
            None => first = Some(y),
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "asrpipe_tsne_s\t{:.2}\t{:.2}\t(points {}, dim {}, perplexity {}, iterations {}, theta {}, \
         {} start, {} threads)",
        times[0],
        times[times.len() / 2],
        x.nrows(),
        x.ncols(),
        opts.perplexity,
        opts.epochs,
        opts.theta,
        match seed {
            Some(s) => format!("random (seed {s})"),
            None => "PCA".into(),
        },
        rayon::current_num_threads()
    );
    write_npy(
        dir.join("rust_tsne_y.npy"),
        &first.expect("one run at least"),
    )?;
    Ok(())
}
