//! Seeded k-means (k-means++ seeding, Lloyd iterations) to initialise a state's mixture: means
//! from the centroids, variances and weights from the clusters.
//!
//! Distances to all centroids are one matrix product per block of points,
//! |x - c|² = |x|² - 2 x·c + |c|², on data centred by its mean so the expansion stays accurate.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::linalg::{Parallelism, matmul_into};
use super::mixture::Mixture;

const ROWS: usize = 1024;

/// Cluster `x` (points x d) into at most `k` clusters (never more than there are points) and
/// describe each by mean, variance (floored at `var_floor`) and share of the points. `k == 1`
/// gives the exact mean and variance of `x` without any iteration.
pub(crate) fn kmeans(
    x: ArrayView2<f32>,
    k: usize,
    iterations: usize,
    seed: u64,
    var_floor: &Array1<f64>,
) -> Mixture {
    let (n, d) = x.dim();
    assert!(n > 0, "kmeans needs points");
    let k = k.clamp(1, n);
    let mean: Array1<f64> = x.mapv(|v| v as f64).mean_axis(Axis(0)).unwrap();
    let xc = Array2::from_shape_fn((n, d), |(i, j)| (x[[i, j]] as f64 - mean[j]) as f32);
    let norms: Vec<f32> = xc.rows().into_iter().map(|r| r.dot(&r)).collect();

    let mut assign = vec![0u32; n];
    let mut dist = vec![0f32; n];
    if k > 1 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut centroids = seed_plus_plus(xc.view(), &norms, k, &mut rng);
        for it in 0..=iterations {
            let changed = nearest(xc.view(), &norms, centroids.view(), &mut assign, &mut dist);
            if it == iterations || (it > 0 && !changed) {
                break;
            }
            centroids = update(xc.view(), &assign, &mut dist, k);
        }
    }

    // Cluster statistics, two-pass for accurate variances; empty clusters are dropped.
    let mut count = vec![0usize; k];
    let mut sum = Array2::<f64>::zeros((k, d));
    for (i, &a) in assign.iter().enumerate() {
        count[a as usize] += 1;
        sum.row_mut(a as usize)
            .zip_mut_with(&xc.row(i), |s, &v| *s += v as f64);
    }
    let mut sq = Array2::<f64>::zeros((k, d));
    for (i, &a) in assign.iter().enumerate() {
        let c = a as usize;
        for j in 0..d {
            let dv = xc[[i, j]] as f64 - sum[[c, j]] / count[c] as f64;
            sq[[c, j]] += dv * dv;
        }
    }
    let mut mix = Mixture {
        weights: Vec::new(),
        means: Vec::new(),
        vars: Vec::new(),
    };
    for c in (0..k).filter(|&c| count[c] > 0) {
        let m = count[c] as f64;
        mix.weights.push(m / n as f64);
        mix.means
            .push((0..d).map(|j| sum[[c, j]] / m + mean[j]).collect());
        mix.vars
            .push((0..d).map(|j| (sq[[c, j]] / m).max(var_floor[j])).collect());
    }
    mix
}

/// k-means++ (Arthur & Vassilvitskii 2007): each next centroid drawn with probability
/// proportional to its squared distance from the nearest centroid so far.
fn seed_plus_plus(
    x: ArrayView2<f32>,
    norms: &[f32],
    k: usize,
    rng: &mut ChaCha8Rng,
) -> Array2<f32> {
    let n = x.nrows();
    let mut centroids = Array2::zeros((k, x.ncols()));
    let first = rng.random_range(0..n);
    centroids.row_mut(0).assign(&x.row(first));
    let mut d2: Vec<f64> = (0..n).map(|i| sq_dist(x, norms, i, first)).collect();
    for c in 1..k {
        let total: f64 = d2.iter().sum();
        let pick = if total > 0.0 {
            let mut r = rng.random::<f64>() * total;
            let mut pick = n - 1;
            for (i, &w) in d2.iter().enumerate() {
                if r < w {
                    pick = i;
                    break;
                }
                r -= w;
            }
            pick
        } else {
            rng.random_range(0..n)
        };
        centroids.row_mut(c).assign(&x.row(pick));
        for (i, v) in d2.iter_mut().enumerate() {
            *v = v.min(sq_dist(x, norms, i, pick));
        }
    }
    centroids
}

fn sq_dist(x: ArrayView2<f32>, norms: &[f32], i: usize, j: usize) -> f64 {
    (norms[i] + norms[j] - 2.0 * x.row(i).dot(&x.row(j))).max(0.0) as f64
}

/// Assign every point to its nearest centroid; `dist` gets the squared distance. Returns whether
/// any assignment changed.
fn nearest(
    x: ArrayView2<f32>,
    norms: &[f32],
    centroids: ArrayView2<f32>,
    assign: &mut [u32],
    dist: &mut [f32],
) -> bool {
    let k = centroids.nrows();
    let c_norms: Vec<f32> = centroids.rows().into_iter().map(|r| r.dot(&r)).collect();
    assign
        .par_chunks_mut(ROWS)
        .zip(dist.par_chunks_mut(ROWS))
        .enumerate()
        .map(|(b, (assign, dist))| {
            let rows = assign.len();
            let xb = x.slice(s![b * ROWS..b * ROWS + rows, ..]);
            let mut dots = Array2::<f32>::zeros((rows, k));
            matmul_into(xb, centroids.t(), dots.view_mut(), false, Parallelism::None);
            let mut changed = false;
            for (r, row) in dots.rows().into_iter().enumerate() {
                let (mut best, mut best_d) = (0, f32::INFINITY);
                for (c, &dot) in row.iter().enumerate() {
                    let dd = c_norms[c] - 2.0 * dot;
                    if dd < best_d {
                        (best, best_d) = (c, dd);
                    }
                }
                changed |= assign[r] != best as u32;
                assign[r] = best as u32;
                dist[r] = (best_d + norms[b * ROWS + r]).max(0.0);
            }
            changed
        })
        .reduce(|| false, |a, b| a | b)
}

/// New centroids as cluster means; an empty cluster takes the point farthest from its own
/// centroid (which then counts as taken).
fn update(x: ArrayView2<f32>, assign: &[u32], dist: &mut [f32], k: usize) -> Array2<f32> {
    let d = x.ncols();
    let mut sum = Array2::<f64>::zeros((k, d));
    let mut count = vec![0usize; k];
    for (i, &a) in assign.iter().enumerate() {
        count[a as usize] += 1;
        sum.row_mut(a as usize)
            .zip_mut_with(&x.row(i), |s, &v| *s += v as f64);
    }
    let mut centroids = Array2::zeros((k, d));
    for (c, &n) in count.iter().enumerate() {
        if n > 0 {
            centroids
                .row_mut(c)
                .assign(&sum.row(c).mapv(|v| (v / n as f64) as f32));
        } else {
            let far = (0..dist.len())
                .max_by(|&a, &b| dist[a].total_cmp(&dist[b]).then(b.cmp(&a)))
                .unwrap();
            dist[far] = 0.0;
            centroids.row_mut(c).assign(&x.row(far));
        }
    }
    centroids
}
