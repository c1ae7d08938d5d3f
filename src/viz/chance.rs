//! The chance level of a k-NN vote, computed from the candidate sets rather than assumed.
//!
//! A point's neighbours are drawn from its *candidates* (the points it may be compared with). If
//! the representation says nothing about the labels, which candidates come nearest is arbitrary:
//! the `k' = min(k, N)` neighbours are then a uniformly random ordered `k'`-subset of the `N`
//! candidates. The chance accuracy of a point with label `c` is the probability that [`vote`]
//! names `c` under that draw. With `n_l` candidates of label `l`, the label counts `m` of the
//! subset are multivariate hypergeometric, `P(m) = Π_l C(n_l, m_l) / C(N, k')`, and [`vote`]
//! returns the most frequent label, ties going to the tied label whose nearest member comes first:
//! for a random order each of the `t` tied labels wins with probability `1 / t`. Hence
//!
//! ```text
//! chance(c) = Σ_m P(m) · [m_c = max_l m_l] / #{l : m_l = max_l m_l}
//! ```
//!
//! summed exactly (a dynamic programme over the other labels for each `m_c = a`, keeping the
//! number drawn and the number of labels tied at `a`). The chance level of a score is the mean of
//! `chance(c_i)` over the scored points; its standard deviation treats points as independent
//! Bernoulli trials, `sqrt(Σ p_i (1 − p_i)) / n`.
//!
//! [`vote`]: super::knn::vote

use std::collections::HashMap;

use super::knn::{Neighbour, vote};

/// Probability that [`vote`] over `min(k, N)` neighbours drawn uniformly at
/// random from candidates with label counts `counts` (`N` = their sum) names label `own`. Zero
/// when there are no candidates or none of label `own`.
pub fn vote_chance(counts: &[usize], own: usize, k: usize) -> f64 {
    let total: usize = counts.iter().sum();
    let n_own = counts.get(own).copied().unwrap_or(0);
    let k = k.min(total);
    if k == 0 || n_own == 0 {
        return 0.0;
    }
    // Every factor C(n, m) is scaled by rho^m with rho = k / N: the product over labels of any
    // subset then carries rho^k, a constant divided out at the end, and the terms stay near 1
    // however large N and k are.
    let rho = k as f64 / total as f64;
    let scaled_binom = |n: usize, m: usize| -> f64 {
        (0..m).fold(1.0, |acc, i| acc * (n - i) as f64 * rho / (i + 1) as f64)
    };
    let others: Vec<usize> = counts
        .iter()
        .enumerate()
        .filter(|&(l, &n)| l != own && n > 0)
        .map(|(_, &n)| n)
        .collect();
    let mut sum = 0.0;
    for a in 1..=k.min(n_own) {
        let rest = k - a;
        let max_ties = rest / a;
        // f[s][t]: weight of draws from the labels seen so far with s points in all, every label
        // at most a, t of them exactly a.
        let mut f = vec![vec![0.0f64; max_ties + 1]; rest + 1];
        f[0][0] = 1.0;
        for &n in &others {
            let mut g = vec![vec![0.0f64; max_ties + 1]; rest + 1];
            for (s, row) in f.iter().enumerate() {
                for (t, &w) in row.iter().enumerate() {
                    if w == 0.0 {
                        continue;
                    }
                    for m in 0..=a.min(n).min(rest - s) {
                        let t2 = t + usize::from(m == a);
                        g[s + m][t2] += w * scaled_binom(n, m);
                    }
                }
            }
            f = g;
        }
        let tied: f64 = f[rest]
            .iter()
            .enumerate()
            .map(|(t, w)| w / (t + 1) as f64)
            .sum();
        sum += scaled_binom(n_own, a) * tied;
    }
    sum / scaled_binom(total, k)
}

/// A k-NN vote score with its computed chance level.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct VoteScore {
    /// Fraction of scored points whose label is the vote of their neighbours.
    pub accuracy: f64,
    /// Mean over the scored points of [`vote_chance`] on their candidates.
    pub chance: f64,
    /// Standard deviation of the accuracy of random neighbours, points taken as independent:
    /// `sqrt(Σ p_i (1 − p_i)) / n`. Nearby points share neighbours, so the real spread is
    /// somewhat larger (about 1.2 times in the shuffled-label test).
    pub chance_sd: f64,
    /// Points with at least one candidate (the others are not scored).
    pub scored: usize,
}

/// Score votes whose candidates are described by keys: point `i` may take as neighbour every
/// point `j` with `admissible(i, j)`, where `admissible` depends on `i` only through `keys[i]`
/// and is false for `j == i` (e.g. key = sentence, candidates = frames of the other sentences).
/// `neighbours[i]` must be the nearest of those candidates (at most `k`). Points without
/// candidates are left out of accuracy and chance alike.
pub fn keyed_vote_score(
    neighbours: &[Vec<Neighbour>],
    labels: &[usize],
    keys: &[usize],
    k: usize,
    admissible: impl Fn(usize, usize) -> bool,
) -> VoteScore {
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    // Label counts of the candidates of each key, from its first point.
    let mut counts: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, &key) in keys.iter().enumerate() {
        counts.entry(key).or_insert_with(|| {
            let mut c = vec![0usize; classes];
            for (j, &l) in labels.iter().enumerate() {
                if admissible(i, j) {
                    c[l] += 1;
                }
            }
            c
        });
    }
    let mut memo: HashMap<(usize, usize), f64> = HashMap::new();
    let (mut right, mut scored, mut chance, mut var) = (0usize, 0usize, 0.0f64, 0.0f64);
    for (i, nb) in neighbours.iter().enumerate() {
        let c = &counts[&keys[i]];
        if c.iter().all(|&n| n == 0) {
            continue;
        }
        scored += 1;
        if vote(nb, labels) == Some(labels[i]) {
            right += 1;
        }
        let p = *memo
            .entry((keys[i], labels[i]))
            .or_insert_with(|| vote_chance(c, labels[i], k));
        chance += p;
        var += p * (1.0 - p);
    }
    let n = scored.max(1) as f64;
    VoteScore {
        accuracy: right as f64 / n,
        chance: chance / n,
        chance_sd: var.sqrt() / n,
        scored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_neighbour_is_the_label_share() {
        // k = 1: the vote is the one drawn candidate.
        assert!((vote_chance(&[3, 1, 6], 0, 1) - 0.3).abs() < 1e-12);
        assert!((vote_chance(&[3, 1, 6], 2, 1) - 0.6).abs() < 1e-12);
        assert_eq!(vote_chance(&[0, 4], 0, 3), 0.0);
    }

    #[test]
    fn three_of_four_by_hand() {
        // Candidates a, a, b, c; k = 3: the four 3-subsets are {a,a,b} and {a,a,c} (a wins),
        // {a,b,c} twice (three-way tie: each label wins 1/3). P(a) = 2/4 + 2/4 * 1/3 = 2/3,
        // P(b) = P(c) = 1/6.
        let c = [2, 1, 1];
        assert!((vote_chance(&c, 0, 3) - 2.0 / 3.0).abs() < 1e-12);
        assert!((vote_chance(&c, 1, 3) - 1.0 / 6.0).abs() < 1e-12);
        let total: f64 = (0..3).map(|l| vote_chance(&c, l, 3)).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }

    /// Every ordered draw of k distinct candidates, voted by `vote` itself.
    fn brute_force(labels: &[usize], own: usize, k: usize) -> f64 {
        fn walk(labels: &[usize], k: usize, own: usize, used: &mut Vec<usize>) -> (u64, u64) {
            if used.len() == k {
                let nb: Vec<Neighbour> = used
                    .iter()
                    .map(|&index| Neighbour {
                        index,
                        distance: 0.0,
                    })
                    .collect();
                return (u64::from(vote(&nb, labels) == Some(own)), 1);
            }
            let (mut hit, mut all) = (0, 0);
            for j in 0..labels.len() {
                if !used.contains(&j) {
                    used.push(j);
                    let (h, a) = walk(labels, k, own, used);
                    used.pop();
                    hit += h;
                    all += a;
                }
            }
            (hit, all)
        }
        let (hit, all) = walk(labels, k, own, &mut Vec::new());
        hit as f64 / all as f64
    }

    #[test]
    fn matches_every_ordered_draw() {
        let labels = [0, 0, 1, 2, 2, 2, 3];
        let mut counts = [0usize; 4];
        for &l in &labels {
            counts[l] += 1;
        }
        for k in 1..=5 {
            for own in 0..4 {
                let exact = vote_chance(&counts, own, k);
                let brute = brute_force(&labels, own, k);
                assert!(
                    (exact - brute).abs() < 1e-12,
                    "k {k} label {own}: {exact} vs {brute}"
                );
            }
        }
    }

    #[test]
    fn probabilities_sum_to_one_and_k_is_capped() {
        let c = [7, 3, 0, 12, 5, 1];
        for k in [1, 2, 5, 9, 28, 40] {
            let total: f64 = (0..c.len()).map(|l| vote_chance(&c, l, k)).sum();
            assert!((total - 1.0).abs() < 1e-9, "k = {k}: {total}");
        }
        // k beyond the 28 candidates: all are taken, the majority label always wins.
        assert!((vote_chance(&c, 3, 40) - 1.0).abs() < 1e-12);
    }
}
