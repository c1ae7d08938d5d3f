//! How a set of vectors is organised by a labelling: leave-one-out k-nearest-neighbour accuracy
//! (is a point's label predictable from its neighbours?) and the silhouette (are the labelled
//! groups compact and apart?).
//!
//! Squared Euclidean distances come from matrix products, ‖a‖² + ‖b‖² − 2 a·b, one block of rows
//! at a time so that memory stays O(block × n) however many points there are. Rows are centred
//! first: it does not change any distance, but it shrinks the norms and with them the rounding
//! error of the subtraction.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

use super::check_finite;
use crate::error::{Error, Result};

/// Rows per distance block: 256 × n floats, a few MB for tens of thousands of points.
const BLOCK: usize = 256;

/// One neighbour of a point: its row index and its Euclidean distance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Neighbour {
    /// Row index of the neighbour.
    pub index: usize,
    /// Euclidean distance.
    pub distance: f32,
}

/// Centred copy of `x` in f32 and the squared norm of every row.
fn centred(x: ArrayView2<f32>) -> (Array2<f32>, Array1<f32>) {
    let mean = x.mean_axis(Axis(0)).expect("non-empty checked by caller");
    let c = &x - &mean;
    let norms = c.rows().into_iter().map(|r| r.dot(&r)).collect();
    (c, norms)
}

/// `f(i, squared distances from row i to every row)` for every row, in row order, computed in
/// parallel over blocks of rows. Distances are clamped at zero (rounding can push them slightly
/// below) and the diagonal is exactly zero.
fn map_distance_rows<T, F>(x: ArrayView2<f32>, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize, &[f32]) -> T + Sync,
{
    let (c, norms) = centred(x);
    let n = c.nrows();
    let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
    let blocks: Vec<Vec<T>> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + BLOCK).min(n);
            // Written into a fresh row-major block so every row is one contiguous slice.
            let mut d = Array2::<f32>::zeros((end - start, n));
            general_mat_mul(1.0, &c.slice(s![start..end, ..]), &c.t(), 0.0, &mut d);
            let mut out = Vec::with_capacity(end - start);
            for (r, mut row) in d.rows_mut().into_iter().enumerate() {
                let i = start + r;
                for (j, v) in row.iter_mut().enumerate() {
                    *v = (norms[i] + norms[j] - 2.0 * *v).max(0.0);
                }
                row[i] = 0.0;
                out.push(f(
                    i,
                    row.as_slice()
                        .expect("rows of a fresh matrix are contiguous"),
                ));
            }
            out
        })
        .collect();
    blocks.into_iter().flatten().collect()
}

/// The `k` nearest neighbours of every row (itself excluded), nearest first. Equal distances are
/// ordered by row index, so the result never depends on thread scheduling.
pub fn nearest_neighbours(x: ArrayView2<f32>, k: usize) -> Result<Vec<Vec<Neighbour>>> {
    check_finite(x, "nearest neighbours")?;
    let n = x.nrows();
    if k == 0 || k >= n {
        return Err(Error::invalid(format!(
            "nearest neighbours: k = {k} must be at least 1 and below the number of points ({n})"
        )));
    }
    nearest_neighbours_where(x, k, |_, _| true)
}

/// The `k` nearest neighbours of every row `i` among the other rows `j` with `admissible(i, j)`,
/// nearest first, ties by row index; fewer than `k` where fewer are admissible. (For example,
/// neighbours only from other utterances, whose frames do not share samples with row `i`.)
pub fn nearest_neighbours_where(
    x: ArrayView2<f32>,
    k: usize,
    admissible: impl Fn(usize, usize) -> bool + Sync,
) -> Result<Vec<Vec<Neighbour>>> {
    check_finite(x, "nearest neighbours")?;
    if k == 0 || x.nrows() == 0 {
        return Err(Error::invalid(format!(
            "nearest neighbours: k = {k} must be at least 1, with at least one point ({})",
            x.nrows()
        )));
    }
    Ok(map_distance_rows(x, |i, d| {
        k_smallest(d, k, |j| j != i && admissible(i, j))
    }))
}

/// Several neighbour searches over one distance computation: for every filter `f` in `filters`,
/// the `k` nearest neighbours of every row `i` among the other rows `j` with `f(i, j)`, as
/// [`nearest_neighbours_where`] gives them. Returned as `[filter][row]`.
pub fn nearest_neighbours_many(
    x: ArrayView2<f32>,
    k: usize,
    filters: &[&(dyn Fn(usize, usize) -> bool + Sync)],
) -> Result<Vec<Vec<Vec<Neighbour>>>> {
    check_finite(x, "nearest neighbours")?;
    if k == 0 || filters.is_empty() {
        return Err(Error::invalid(format!(
            "nearest neighbours: k = {k} must be at least 1, with at least one filter ({})",
            filters.len()
        )));
    }
    let rows = map_distance_rows(x, |i, d| {
        filters
            .iter()
            .map(|f| k_smallest(d, k, |j| j != i && f(i, j)))
            .collect::<Vec<_>>()
    });
    let mut out: Vec<Vec<Vec<Neighbour>>> = (0..filters.len())
        .map(|_| Vec::with_capacity(rows.len()))
        .collect();
    for per_filter in rows {
        for (o, nb) in out.iter_mut().zip(per_filter) {
            o.push(nb);
        }
    }
    Ok(out)
}

/// The `k` smallest entries of `d` among indices `keep` accepts, by (distance, index), as
/// Euclidean distances.
fn k_smallest(d: &[f32], k: usize, keep: impl Fn(usize) -> bool) -> Vec<Neighbour> {
    // total_cmp: a NaN distance (from non-finite input) sorts last instead of panicking.
    let cmp = |a: &usize, b: &usize| d[*a].total_cmp(&d[*b]).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..d.len()).filter(|&j| keep(j)).collect();
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, cmp);
        idx.truncate(k);
    }
    idx.sort_unstable_by(cmp);
    idx.into_iter()
        .map(|j| Neighbour {
            index: j,
            distance: d[j].sqrt(),
        })
        .collect()
}

/// Majority label among `neighbours` (nearest first), `None` when there are none. A tie in votes
/// goes to the tied label whose nearest member comes first, i.e. the label of the closest among
/// the tied ones.
pub fn vote(neighbours: &[Neighbour], labels: &[usize]) -> Option<usize> {
    // (label, votes, rank of first appearance)
    let mut tally: Vec<(usize, usize, usize)> = Vec::new();
    for (rank, nb) in neighbours.iter().enumerate() {
        let l = labels[nb.index];
        match tally.iter_mut().find(|t| t.0 == l) {
            Some(t) => t.1 += 1,
            None => tally.push((l, 1, rank)),
        }
    }
    tally
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)))
        .map(|t| t.0)
}

fn check_labels(x: ArrayView2<f32>, labels: &[usize], what: &str) -> Result<()> {
    if labels.len() != x.nrows() {
        return Err(Error::invalid(format!(
            "{what}: {} labels for {} points",
            labels.len(),
            x.nrows()
        )));
    }
    Ok(())
}

/// Leave-one-out k-NN prediction for every point: the majority label of its `k` nearest other
/// points (Euclidean). Ties in distance go to the lower row index, ties in votes to the label of
/// the nearer neighbour.
pub fn knn_predict_loo(x: ArrayView2<f32>, labels: &[usize], k: usize) -> Result<Vec<usize>> {
    check_labels(x, labels, "k-NN")?;
    let nn = nearest_neighbours(x, k)?;
    Ok(nn
        .iter()
        .map(|row| vote(row, labels).expect("1 <= k < n neighbours"))
        .collect())
}

/// Leave-one-out k-NN classification accuracy in [0, 1]: the fraction of points whose label is
/// the majority label of their `k` nearest other points.
pub fn knn_accuracy(x: ArrayView2<f32>, labels: &[usize], k: usize) -> Result<f64> {
    check_labels(x, labels, "k-NN")?;
    Ok(vote_accuracy(&nearest_neighbours(x, k)?, labels))
}

/// Fraction of points whose label is the [`vote`] of their neighbours (a point without
/// neighbours counts as wrong).
pub fn vote_accuracy(neighbours: &[Vec<Neighbour>], labels: &[usize]) -> f64 {
    let right = neighbours
        .iter()
        .zip(labels)
        .filter(|(nb, l)| vote(nb, labels) == Some(**l))
        .count();
    right as f64 / labels.len().max(1) as f64
}

/// Mean silhouette coefficient in [-1, 1] (Rousseeuw 1987), Euclidean: for each point,
/// (b − a) / max(a, b) with a the mean distance to the other members of its group and b the
/// smallest mean distance to another group. Points alone in their group count as 0.
/// Needs at least two distinct labels.
pub fn silhouette(x: ArrayView2<f32>, labels: &[usize]) -> Result<f64> {
    check_labels(x, labels, "silhouette")?;
    check_finite(x, "silhouette")?;
    let groups = labels.iter().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; groups];
    for &l in labels {
        sizes[l] += 1;
    }
    if sizes.iter().filter(|&&s| s > 0).count() < 2 {
        return Err(Error::invalid(
            "silhouette: needs points from at least two labels",
        ));
    }
    let scores = map_distance_rows(x, |i, d| {
        let own = labels[i];
        if sizes[own] < 2 {
            return 0.0;
        }
        let mut sums = vec![0f64; groups];
        for (j, &dj) in d.iter().enumerate() {
            sums[labels[j]] += f64::from(dj.sqrt());
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..groups)
            .filter(|&g| g != own && sizes[g] > 0)
            .map(|g| sums[g] / sizes[g] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 { (b - a) / m } else { 0.0 }
    });
    Ok(scores.iter().sum::<f64>() / scores.len() as f64)
}
