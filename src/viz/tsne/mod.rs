//! t-SNE to 2-D (van der Maaten & Hinton 2008; Barnes-Hut, van der Maaten 2014): a map in which
//! points that are near neighbours in the original space stay near, used to see whether a hidden
//! layer groups frames by speaker or by phone.
//!
//! The steps, each with the reference implementations' defaults:
//! - the input is cut to `pca_dims` dimensions by PCA (standard, and it makes the neighbour
//!   search cheap);
//! - P: every point's 3 × perplexity exact nearest neighbours ([`nearest_neighbours`], ties by
//!   index), a Gaussian over them calibrated to the perplexity, symmetrised (`tsne/affinity.rs`);
//! - the start layout is the PCA plane or seeded Gaussian noise, both with standard deviation
//!   1e-4;
//! - gradient descent on KL(P‖Q): attraction summed exactly over P's entries, repulsion by
//!   Barnes-Hut (`tsne/barnes_hut.rs`), all in f64; momentum 0.5 and P exaggerated 12 times for the first 250
//!   iterations, then momentum 0.8; per-coordinate gains (Jacobs 1988: +0.2 while the gradient
//!   keeps changing sign, ×0.8 while it does not, never below 0.01 and with no upper bound);
//!   learning rate max(n / 12, 200) (Belkina et al. 2019).
//!
//! The gains are left unbounded on purpose: capping them (the `bhtsne` crate caps at 2) stalls
//! the descent on a few thousand points, whose map then keeps a third fewer of each point's
//! nearest neighbours (docs/BENCHMARKS.md has the numbers).
//!
//! Every point's forces are computed on their own and every sum runs in a fixed order, so the
//! work is spread over rayon's threads and the map is still bit-identical for any number of
//! threads: the same input and options give the same map.

mod affinity;
mod barnes_hut;

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use super::check_finite;
use super::knn::nearest_neighbours;
use super::pca::Pca;
use crate::error::{Error, Result};
use affinity::Affinities;
use barnes_hut::{QuadTree, Scratch};

/// Standard deviation of the start layout: tiny, so that early exaggeration can form the clusters
/// before repulsion spreads them.
const INIT_STD: f64 = 1e-4;
/// P is multiplied by this during the first phase, which pulls clusters together early.
const EARLY_EXAGGERATION: f64 = 12.0;
/// Length of the first phase (at most half of the run).
const EARLY_EPOCHS: usize = 250;
const EARLY_MOMENTUM: f64 = 0.5;
const FINAL_MOMENTUM: f64 = 0.8;
/// Gain rules (Jacobs 1988, as in van der Maaten's code and openTSNE).
const GAIN_STEP: f64 = 0.2;
const GAIN_DECAY: f64 = 0.8;
const MIN_GAIN: f64 = 0.01;
/// Points are renumbered in map order at these epochs (`epoch % EVERY == AT`), which keeps the
/// attraction's reads of neighbours' positions mostly in cache.
const RENUMBER_EVERY: usize = 200;
const RENUMBER_AT: usize = 50;
/// Floor of the automatic learning rate: the classic default, for small maps.
const MIN_AUTO_RATE: f64 = 200.0;

/// How the 2-D layout starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsneInit {
    /// The first two principal components, scaled to a tiny spread: keeps the global arrangement
    /// and makes runs comparable across layers.
    Pca,
    /// Independent Gaussian noise drawn from the seed.
    Random,
}

/// t-SNE settings; the defaults are those of the reference implementations.
#[derive(Clone, Debug)]
pub struct TsneOptions {
    /// Effective number of neighbours; 3 × perplexity must be below the number of points.
    pub perplexity: f32,
    /// Gradient-descent iterations (the first 250, at most half, with early exaggeration 12).
    pub epochs: usize,
    /// Barnes-Hut accuracy: a quadtree cell is summarised by its centre of mass when its side /
    /// distance < theta (openTSNE's convention; the `bhtsne` crate's theta is half this one);
    /// 0 sums every pair exactly (n² work).
    pub theta: f32,
    /// Reduce the input to this many dimensions by PCA first (0 = never).
    pub pca_dims: usize,
    /// Start layout.
    pub init: TsneInit,
    /// Seed for the random start layout.
    pub seed: u64,
    /// Step size; `None` = max(n / 12, 200) (Belkina et al. 2019; openTSNE's and
    /// scikit-learn's "auto" in this gradient's scale, which has no factor 4).
    pub learning_rate: Option<f32>,
}

impl Default for TsneOptions {
    fn default() -> Self {
        TsneOptions {
            perplexity: 30.0,
            epochs: 1000,
            theta: 0.5,
            pca_dims: 50,
            init: TsneInit::Pca,
            seed: 0,
            learning_rate: None,
        }
    }
}

/// Embed the rows of `x` (n × d) in 2-D; returns n × 2.
pub fn tsne(x: ArrayView2<f32>, options: &TsneOptions) -> Result<Array2<f32>> {
    check_finite(x, "t-SNE")?;
    let (n, d) = x.dim();
    let perplexity = options.perplexity;
    if !perplexity.is_finite()
        || perplexity < 1.0
        || !options.theta.is_finite()
        || options.theta < 0.0
        || options.epochs == 0
    {
        return Err(Error::invalid(format!(
            "t-SNE: needs perplexity >= 1, theta >= 0 and epochs >= 1 (got {perplexity}, {}, {})",
            options.theta, options.epochs
        )));
    }
    if let Some(rate) = options.learning_rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(Error::invalid(format!(
            "t-SNE: the learning rate must be positive (got {rate})"
        )));
    }
    let neighbours_wanted = (3.0 * perplexity) as usize;
    if neighbours_wanted + 1 > n {
        return Err(Error::invalid(format!(
            "t-SNE: perplexity {perplexity} needs more than {neighbours_wanted} points, got {n}"
        )));
    }
    if n > u32::MAX as usize {
        return Err(Error::invalid(format!("t-SNE: too many points ({n})")));
    }

    // PCA first: both for speed and to drop the noisy low-variance directions.
    let reduced_dims = if options.pca_dims > 0 {
        options.pca_dims.min(d).min(n)
    } else {
        d
    };
    let (data, plane) = if reduced_dims < d || options.init == TsneInit::Pca {
        let fitted = Pca::fit(x, reduced_dims.max(2.min(d)))?;
        let projected = fitted.transform(x)?;
        let data = if reduced_dims < d {
            projected.slice(ndarray::s![.., ..reduced_dims]).to_owned()
        } else {
            x.to_owned()
        };
        (data, Some(projected))
    } else {
        (x.to_owned(), None)
    };

    let start = match (options.init, plane) {
        (TsneInit::Pca, Some(p)) if p.ncols() >= 2 => pca_start(&p),
        _ => random_start(n, options.seed),
    };
    let p = Affinities::from_neighbours(
        &nearest_neighbours(data.view(), neighbours_wanted)?,
        f64::from(perplexity),
    )?;
    let rate = options.learning_rate.map_or(
        (n as f64 / EARLY_EXAGGERATION).max(MIN_AUTO_RATE),
        f64::from,
    );
    let y = optimise(p, start, options.epochs, f64::from(options.theta), rate);

    if let Some(i) = y
        .iter()
        .position(|v| !(v[0].is_finite() && v[1].is_finite()))
    {
        return Err(Error::invalid(format!(
            "t-SNE: the map diverged (point {i} is not finite); lower the learning rate"
        )));
    }
    Ok(Array2::from_shape_fn((n, 2), |(i, a)| y[i][a] as f32))
}

/// Several independent maps with the same options, computed in parallel; results in input
/// order, identical to calling [`tsne`] on each.
pub fn tsne_many(inputs: &[ArrayView2<f32>], options: &TsneOptions) -> Result<Vec<Array2<f32>>> {
    inputs.par_iter().map(|x| tsne(*x, options)).collect()
}

/// Per-point results of one gradient pass, in tree order.
#[derive(Clone, Copy, Default)]
struct Forces {
    /// Σ_j p_ij q_ij (y_i − y_j), q unnormalised.
    attraction: [f64; 2],
    /// Σ_j q_ij² (y_i − y_j).
    repulsion: [f64; 2],
    /// Σ_j q_ij, this point's share of the normaliser Z.
    z: f64,
}

/// Gradient descent from `y` on KL(P‖Q); see the module notes for the schedule.
fn optimise(
    mut p: Affinities,
    mut y: Vec<[f64; 2]>,
    epochs: usize,
    theta: f64,
    rate: f64,
) -> Vec<[f64; 2]> {
    let n = p.len();
    // `original[i]` is the caller's index of point i (see `RENUMBER_EVERY`).
    let mut original: Vec<u32> = (0..n as u32).collect();
    let early = EARLY_EPOCHS.min(epochs / 2);
    let theta_sq = theta * theta;
    let mut tree = QuadTree::default();
    let mut forces = vec![Forces::default(); n];
    let mut update = vec![[0.0f64; 2]; n];
    let mut gains = vec![[1.0f64; 2]; n];
    for epoch in 0..epochs {
        let (exaggeration, momentum) = if epoch < early {
            (EARLY_EXAGGERATION, EARLY_MOMENTUM)
        } else {
            (1.0, FINAL_MOMENTUM)
        };
        if epoch % RENUMBER_EVERY == RENUMBER_AT {
            // Number the points in tree order, so that neighbours in the map, which P's
            // neighbours mostly are by now, sit near each other in memory.
            tree.rebuild(&y);
            let old = tree.order().to_vec();
            p = p.renumbered(&old);
            let pick = |v: &[[f64; 2]]| old.iter().map(|&o| v[o as usize]).collect::<Vec<_>>();
            y = pick(&y);
            update = pick(&update);
            gains = pick(&gains);
            original = old.iter().map(|&o| original[o as usize]).collect();
        }
        tree.rebuild(&y);
        let order = tree.order();
        let groups = tree.groups();
        // One output slice per group (groups are consecutive runs of tree positions).
        let mut slices: Vec<&mut [Forces]> = Vec::with_capacity(groups.len());
        let mut rest = &mut forces[..];
        for &(start, end) in groups {
            let (head, tail) = rest.split_at_mut(end - start);
            slices.push(head);
            rest = tail;
        }
        let (y_ref, p_ref) = (&y, &p);
        slices
            .into_par_iter()
            .enumerate()
            .for_each_init(Scratch::default, |scratch, (g, out)| {
                let first = groups[g].0;
                tree.repulsion(g, theta_sq, scratch, |t, repulsion, z| {
                    out[t - first] = Forces {
                        attraction: p_ref.attraction(y_ref, order[t] as usize),
                        repulsion,
                        z,
                    };
                });
            });
        // Z in tree order: a fixed order, whatever the threads did.
        let z: f64 = forces.iter().map(|f| f.z).sum();
        let mut mean = [0.0f64; 2];
        for (f, &i) in forces.iter().zip(order) {
            let i = i as usize;
            for a in 0..2 {
                let gradient = exaggeration * f.attraction[a] - f.repulsion[a] / z;
                let gain = &mut gains[i][a];
                *gain = if sign(gradient) != sign(update[i][a]) {
                    *gain + GAIN_STEP
                } else {
                    (*gain * GAIN_DECAY).max(MIN_GAIN)
                };
                update[i][a] = momentum * update[i][a] - rate * *gain * gradient;
                y[i][a] += update[i][a];
                mean[a] += y[i][a];
            }
        }
        // Keep the map centred (the gradient is translation-invariant, rounding is not).
        let mean = [mean[0] / n as f64, mean[1] / n as f64];
        for v in &mut y {
            v[0] -= mean[0];
            v[1] -= mean[1];
        }
    }
    let mut out = vec![[0.0; 2]; n];
    for (v, &o) in y.iter().zip(&original) {
        out[o as usize] = *v;
    }
    out
}

/// −1, 0 or 1 (unlike `f64::signum`, zero is its own sign: the first step, from a zero update,
/// counts as a change of direction, as in the reference code).
fn sign(v: f64) -> i8 {
    (v > 0.0) as i8 - (v < 0.0) as i8
}

/// The PCA plane rescaled so that the first coordinate has standard deviation `INIT_STD`.
fn pca_start(projected: &Array2<f32>) -> Vec<[f64; 2]> {
    let first = projected.column(0);
    let n = first.len() as f64;
    let mean = first.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = first
        .iter()
        .map(|&v| (f64::from(v) - mean).powi(2))
        .sum::<f64>()
        / n;
    let scale = if var > 0.0 {
        INIT_STD / var.sqrt()
    } else {
        0.0
    };
    projected
        .rows()
        .into_iter()
        .map(|r| [f64::from(r[0]) * scale, f64::from(r[1]) * scale])
        .collect()
}

/// Gaussian noise with standard deviation `INIT_STD`, drawn from `seed`.
fn random_start(n: usize, seed: u64) -> Vec<[f64; 2]> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, INIT_STD).expect("positive standard deviation");
    (0..n)
        .map(|_| [normal.sample(&mut rng), normal.sample(&mut rng)])
        .collect()
}
