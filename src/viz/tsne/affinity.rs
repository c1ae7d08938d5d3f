//! The input-space similarities P of t-SNE (van der Maaten 2014, section 4.1): for each point a
//! Gaussian over its 3 × perplexity nearest neighbours whose width is set by binary search so that
//! the distribution has the requested perplexity, then symmetrised, p_ij = (p_j|i + p_i|j) / 2n,
//! and kept as a sparse row-compressed matrix whose entries sum to one.

use rayon::prelude::*;

use super::super::knn::Neighbour;
use crate::error::{Error, Result};

/// Stop the search when the entropy is this close (in nats) to ln(perplexity).
const ENTROPY_TOLERANCE: f64 = 1e-5;
/// Halvings of the bracket; 200 is far more than f64 can resolve.
const MAX_STEPS: usize = 200;
/// Independent partial sums in the force loop (see [`Affinities::attraction`]).
const LANES: usize = 4;

/// The joint similarities P, symmetric, one compressed row per point, entries summing to one.
#[derive(Clone, Debug)]
pub(crate) struct Affinities {
    /// Row i's entries are `columns[starts[i]..starts[i + 1]]`, ascending.
    pub starts: Vec<usize>,
    pub columns: Vec<u32>,
    pub values: Vec<f64>,
}

impl Affinities {
    /// P from each point's nearest neighbours (itself excluded, nearest first) and the wanted
    /// perplexity, which must be below the number of neighbours.
    pub fn from_neighbours(neighbours: &[Vec<Neighbour>], perplexity: f64) -> Result<Affinities> {
        let n = neighbours.len();
        if n > u32::MAX as usize {
            return Err(Error::invalid(format!("t-SNE: too many points ({n})")));
        }
        let conditional: Vec<Vec<f64>> = neighbours
            .par_iter()
            .map(|row| {
                let squared: Vec<f64> = row
                    .iter()
                    .map(|nb| f64::from(nb.distance) * f64::from(nb.distance))
                    .collect();
                conditional_row(&squared, perplexity)
            })
            .collect();

        // Every (i, j, p_j|i) goes to row i and, mirrored, to row j; a pair that is a neighbour
        // both ways meets itself and is summed. Rows are then sorted by column, so the layout and
        // every sum are fixed by the input alone.
        let mut counts = vec![0usize; n + 1];
        for (i, row) in neighbours.iter().enumerate() {
            counts[i + 1] += row.len();
            for nb in row {
                counts[nb.index + 1] += 1;
            }
        }
        for i in 0..n {
            counts[i + 1] += counts[i];
        }
        let offsets = counts;
        let mut fill = offsets.clone();
        let mut entries = vec![(0u32, 0.0f64); offsets[n]];
        for (i, (row, probs)) in neighbours.iter().zip(&conditional).enumerate() {
            for (nb, &p) in row.iter().zip(probs) {
                entries[fill[i]] = (nb.index as u32, p);
                fill[i] += 1;
                entries[fill[nb.index]] = (i as u32, p);
                fill[nb.index] += 1;
            }
        }
        let merged: Vec<Vec<(u32, f64)>> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut row = entries[offsets[i]..offsets[i + 1]].to_vec();
                row.sort_unstable_by_key(|e| e.0);
                let mut out: Vec<(u32, f64)> = Vec::with_capacity(row.len());
                for &(j, p) in row.iter() {
                    match out.last_mut() {
                        // At most two terms meet, and a + b == b + a, so the order within the
                        // unstable sort does not matter.
                        Some(last) if last.0 == j => last.1 += p,
                        _ => out.push((j, p)),
                    }
                }
                out
            })
            .collect();

        let scale = 1.0 / (2.0 * n as f64);
        let mut starts = Vec::with_capacity(n + 1);
        starts.push(0);
        let mut columns = Vec::new();
        let mut values = Vec::new();
        for row in merged {
            for (j, p) in row {
                columns.push(j);
                values.push(p * scale);
            }
            starts.push(columns.len());
        }
        Ok(Affinities {
            starts,
            columns,
            values,
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The same P for the points renumbered so that new point `r` is old point `old[r]`
    /// (`old` a permutation).
    pub fn renumbered(&self, old: &[u32]) -> Affinities {
        let mut new_of = vec![0u32; old.len()];
        for (r, &o) in old.iter().enumerate() {
            new_of[o as usize] = r as u32;
        }
        let mut starts = Vec::with_capacity(self.starts.len());
        starts.push(0);
        let mut columns = Vec::with_capacity(self.columns.len());
        let mut values = Vec::with_capacity(self.values.len());
        let mut row: Vec<(u32, f64)> = Vec::new();
        for &o in old {
            let range = self.starts[o as usize]..self.starts[o as usize + 1];
            row.clear();
            row.extend(
                self.columns[range.clone()]
                    .iter()
                    .zip(&self.values[range])
                    .map(|(&j, &v)| (new_of[j as usize], v)),
            );
            row.sort_unstable_by_key(|e| e.0);
            columns.extend(row.iter().map(|e| e.0));
            values.extend(row.iter().map(|e| e.1));
            starts.push(columns.len());
        }
        Affinities {
            starts,
            columns,
            values,
        }
    }

    /// Row `i`: (column, p_ij) pairs.
    #[cfg(test)]
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let range = self.starts[i]..self.starts[i + 1];
        self.columns[range.clone()]
            .iter()
            .zip(&self.values[range])
            .map(|(&j, &p)| (j as usize, p))
    }

    /// The attractive force on point i of the map `y`: Σ_j p_ij (y_i − y_j) / (1 + |y_i − y_j|²),
    /// summed in `LANES` fixed interleaved partial sums, then the lanes in order.
    pub fn attraction(&self, y: &[[f64; 2]], i: usize) -> [f64; 2] {
        let range = self.starts[i]..self.starts[i + 1];
        let (columns, values) = (&self.columns[range.clone()], &self.values[range]);
        let yi = y[i];
        let mut fx = [0.0f64; LANES];
        let mut fy = [0.0f64; LANES];
        let term = |j: u32, p: f64| {
            let yj = y[j as usize];
            let (dx, dy) = (yi[0] - yj[0], yi[1] - yj[1]);
            let w = p / (1.0 + dx * dx + dy * dy);
            (w * dx, w * dy)
        };
        let full = columns.len() / LANES * LANES;
        for (js, ps) in columns[..full]
            .chunks_exact(LANES)
            .zip(values[..full].chunks_exact(LANES))
        {
            for l in 0..LANES {
                let (x, y) = term(js[l], ps[l]);
                fx[l] += x;
                fy[l] += y;
            }
        }
        for (&j, &p) in columns[full..].iter().zip(&values[full..]) {
            let (x, y) = term(j, p);
            fx[0] += x;
            fy[0] += y;
        }
        [fx.iter().sum(), fy.iter().sum()]
    }
}

/// p_j|i over one point's neighbours, given their squared distances: exp(−β d²) normalised,
/// with β found by bisection so that the entropy is ln(perplexity).
fn conditional_row(squared: &[f64], perplexity: f64) -> Vec<f64> {
    // Distances relative to the nearest one: the same distribution after normalising, and the
    // largest weight is 1, so the exponentials cannot all underflow however large β gets.
    let nearest = squared.iter().copied().fold(f64::INFINITY, f64::min);
    let shifted: Vec<f64> = squared.iter().map(|d| d - nearest).collect();
    let target = perplexity.ln();
    let mut p = vec![0.0; shifted.len()];
    let (mut beta, mut low, mut high) = (1.0f64, 0.0f64, f64::INFINITY);
    for _ in 0..MAX_STEPS {
        let mut sum = 0.0;
        let mut weighted = 0.0;
        for (pj, &d) in p.iter_mut().zip(&shifted) {
            *pj = (-beta * d).exp();
            sum += *pj;
            weighted += *pj * d;
        }
        // H = ln Σ w + β Σ w d / Σ w for w = exp(−β d).
        let entropy = sum.ln() + beta * weighted / sum;
        let diff = entropy - target;
        if diff.abs() < ENTROPY_TOLERANCE {
            break;
        }
        if diff > 0.0 {
            // Too flat: narrow the Gaussian.
            low = beta;
            beta = if high.is_finite() {
                (beta + high) / 2.0
            } else {
                beta * 2.0
            };
        } else {
            high = beta;
            beta = (beta + low) / 2.0;
        }
    }
    let sum: f64 = p.iter().sum();
    p.iter_mut().for_each(|v| *v /= sum);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entropy(p: &[f64]) -> f64 {
        -p.iter()
            .filter(|&&v| v > 0.0)
            .map(|v| v * v.ln())
            .sum::<f64>()
    }

    #[test]
    fn each_row_reaches_the_wanted_perplexity() {
        let squared: Vec<f64> = (1..=30).map(|k| (k as f64).powf(1.3)).collect();
        for perplexity in [2.0, 5.0, 10.0] {
            let p = conditional_row(&squared, perplexity);
            assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
            assert!((entropy(&p) - f64::ln(perplexity)).abs() < 1e-4);
            assert!(p.windows(2).all(|w| w[0] >= w[1]), "nearer is likelier");
        }
    }

    #[test]
    fn equal_distances_give_a_uniform_row() {
        let p = conditional_row(&[4.0; 6], 3.0);
        assert!(p.iter().all(|&v| (v - 1.0 / 6.0).abs() < 1e-12), "{p:?}");
    }

    #[test]
    fn joint_p_is_symmetric_and_sums_to_one() {
        // Four points on a line at 0, 1, 3, 7; two neighbours each.
        let at = [0.0f32, 1.0, 3.0, 7.0];
        let neighbours: Vec<Vec<Neighbour>> = (0..4)
            .map(|i| {
                let mut others: Vec<usize> = (0..4).filter(|&j| j != i).collect();
                others.sort_by(|&a, &b| (at[a] - at[i]).abs().total_cmp(&(at[b] - at[i]).abs()));
                others[..2]
                    .iter()
                    .map(|&j| Neighbour {
                        index: j,
                        distance: (at[j] - at[i]).abs(),
                    })
                    .collect()
            })
            .collect();
        let p = Affinities::from_neighbours(&neighbours, 1.5).unwrap();
        let dense = |i: usize, j: usize| p.row(i).find(|e| e.0 == j).map_or(0.0, |e| e.1);
        let total: f64 = p.values.iter().sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        for i in 0..4 {
            assert_eq!(dense(i, i), 0.0);
            for j in 0..4 {
                assert_eq!(dense(i, j), dense(j, i));
            }
        }
        // 3's neighbours are 2 and 1 and no one has 3 as a neighbour, so (0, 3) is absent.
        assert_eq!(dense(0, 3), 0.0);
        assert!(dense(2, 3) > 0.0);
        // p_{1|0}: the two neighbours of 0 sit at squared distances 1 and 9.
        let row0 = conditional_row(&[1.0, 9.0], 1.5);
        let row1 = conditional_row(&[1.0, 4.0], 1.5);
        assert!((dense(0, 1) - (row0[0] + row1[0]) / 8.0).abs() < 1e-15);
    }
}
