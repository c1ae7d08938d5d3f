//! t-SNE to 2-D (van der Maaten & Hinton 2008; Barnes-Hut, van der Maaten 2014): a map in which
//! points that are near neighbours in the original space stay near, used to see whether a hidden
//! layer groups frames by speaker or by phone.
//!
//! The optimiser is the `bhtsne` crate. What it would otherwise leave to chance is decided here:
//! the input is first cut to `pca_dims` dimensions by PCA (standard, and it makes the neighbour
//! search cheap); the neighbour lists come from [`nearest_neighbours`] (exact, ties by index)
//! instead of the crate's randomly-built vantage-point tree; and the start layout is either the
//! scaled PCA plane or Gaussian noise from a seeded generator. The crate normalises P with a
//! parallel floating-point sum whose rounding depends on thread scheduling, and over a thousand
//! iterations one ulp grows into a different map; so the optimiser runs on a one-thread pool.
//! With all that fixed, the same input and options give bit-identical maps on any machine.
//! [`tsne_many`] gets the cores back by running several maps (e.g. one per layer) side by side.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::check_finite;
use super::knn::nearest_neighbours;
use super::pca::Pca;
use crate::error::{Error, Result};

/// Standard deviation of the start layout: tiny, so that early exaggeration can form the clusters
/// before repulsion spreads them.
const INIT_STD: f32 = 1e-4;

/// How the 2-D layout starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsneInit {
    /// The first two principal components, scaled to a tiny spread: keeps the global arrangement
    /// and makes runs comparable across layers.
    Pca,
    /// Independent Gaussian noise drawn from the seed.
    Random,
}

/// t-SNE settings; the defaults are those of the reference implementation.
#[derive(Clone, Debug)]
pub struct TsneOptions {
    /// Effective number of neighbours; 3 × perplexity must be below the number of points.
    pub perplexity: f32,
    /// Gradient-descent iterations (the first 250 with early exaggeration 12).
    pub epochs: usize,
    /// Barnes-Hut accuracy: a cell of the quadtree is summarised when size / distance < theta.
    pub theta: f32,
    /// Reduce the input to this many dimensions by PCA first (0 = never).
    pub pca_dims: usize,
    /// Start layout.
    pub init: TsneInit,
    /// Seed for the random start layout.
    pub seed: u64,
    /// Step size; `None` = max(n / 12 / 4, 50) as in the reference implementation.
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
        || options.theta <= 0.0
        || options.epochs == 0
    {
        return Err(Error::invalid(format!(
            "t-SNE: needs perplexity >= 1, theta > 0 and epochs >= 1 (got {perplexity}, {}, {})",
            options.theta, options.epochs
        )));
    }
    let neighbours_wanted = (3.0 * perplexity) as usize;
    if neighbours_wanted + 1 > n {
        return Err(Error::invalid(format!(
            "t-SNE: perplexity {perplexity} needs more than {neighbours_wanted} points, got {n}"
        )));
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

    let init = match (options.init, plane) {
        (TsneInit::Pca, Some(p)) if p.ncols() >= 2 => pca_start(&p),
        _ => random_start(n, options.seed),
    };

    let neighbours: Vec<Vec<bhtsne::Neighbor<f32>>> =
        nearest_neighbours(data.view(), neighbours_wanted)?
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|nb| bhtsne::Neighbor {
                        index: nb.index,
                        distance: nb.distance,
                    })
                    .collect()
            })
            .collect();

    // The crate only counts the samples when given the neighbour lists.
    let rows: Vec<&[f32]> = data
        .as_slice()
        .expect("owned standard layout")
        .chunks(data.ncols())
        .collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::invalid(format!("t-SNE: cannot start a worker thread: {e}")))?;
    let y = pool.install(|| {
        let mut fit: bhtsne::tSNE<f32, &[f32], 2> = bhtsne::tSNE::new(&rows);
        fit.perplexity(perplexity)
            .epochs(options.epochs)
            .initial_embedding(init);
        if let Some(rate) = options.learning_rate {
            fit.learning_rate(rate);
        }
        fit.barnes_hut_with_neighbors(options.theta, &neighbours);
        fit.embedding()
    });
    Array2::from_shape_vec((n, 2), y)
        .map_err(|e| Error::invalid(format!("t-SNE: embedding has the wrong size: {e}")))
}

/// Several independent maps with the same options, computed in parallel (each map itself runs on
/// one thread, see the module notes); results in input order, identical to calling [`tsne`] on
/// each.
pub fn tsne_many(inputs: &[ArrayView2<f32>], options: &TsneOptions) -> Result<Vec<Array2<f32>>> {
    use rayon::prelude::*;
    inputs.par_iter().map(|x| tsne(*x, options)).collect()
}

/// The PCA plane rescaled so that the first coordinate has standard deviation `INIT_STD`.
fn pca_start(projected: &Array2<f32>) -> Vec<f32> {
    let first = projected.column(0);
    let n = first.len() as f32;
    let mean = first.sum() / n;
    let std = (first.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n).sqrt();
    let scale = if std > 0.0 { INIT_STD / std } else { 0.0 };
    projected
        .rows()
        .into_iter()
        .flat_map(|r| [r[0] * scale, r[1] * scale])
        .collect()
}

/// Gaussian noise with standard deviation `INIT_STD`, drawn from `seed`.
fn random_start(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let normal = Normal::new(0.0, INIT_STD).expect("positive standard deviation");
    (0..2 * n).map(|_| normal.sample(&mut rng)).collect()
}
