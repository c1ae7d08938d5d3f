//! Feature-space MLLR (constrained MLLR, Gales 1998): one affine transform x ↦ A x + b per
//! speaker that makes the speaker's frames more likely under a diagonal-covariance GMM, the
//! transform of Kaldi's speaker-adaptive training (`gmm-est-fmllr`, `FmllrDiagGmmAccs`).
//!
//! With W = [A b] (d x (d + 1)), x⁺ = [x; 1] and γ_tg the occupancy of Gaussian g at frame t, the
//! auxiliary function is
//!
//! ```text
//! Q(W) = β log|det A| + Σ_i ( w_i · k_i - ½ w_i G_i w_iᵀ )
//! β = Σ_tg γ_tg,   k_i = Σ_tg γ_tg μ_gi / σ²_gi x⁺_t,   G_i = Σ_tg γ_tg / σ²_gi x⁺_t x⁺_tᵀ
//! ```
//!
//! (w_i the i-th row of W). It is maximised row by row: with p_i the i-th row of A's cofactor
//! matrix (here A⁻ᵀ's, which only rescales it) extended by a zero, the best row is
//! w_i = (α p_i + k_i) G_i⁻¹ where α solves e₁ α² + e₂ α - β = 0 (e₁ = p_i G_i⁻¹ p_iᵀ,
//! e₂ = p_i G_i⁻¹ k_iᵀ), the root with the larger Q. Each row update maximises Q over that row
//! exactly, so Q never decreases (Kaldi's `ComputeFmllrMatrixDiagGmmFull`).
//!
//! The statistics are the frames' sums, not per Gaussian: per frame the occupancy-weighted
//! s_ti = Σ_g γ_tg / σ²_gi and m_ti = Σ_g γ_tg μ_gi / σ²_gi, then K = Mᵀ X⁺ and
//! G_i = (X⁺ ∘ s_i)ᵀ X⁺, matrix products over a speaker's frames.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};

use super::StateGmms;
use super::lu::Lu;
use crate::error::{Error, Result};

/// An affine feature transform x ↦ A x + b, stored as W = [A b].
#[derive(Debug, Clone, PartialEq)]
pub struct Fmllr {
    w: Array2<f64>,
}

impl Fmllr {
    /// x ↦ x on `dim`-dimensional frames.
    pub fn identity(dim: usize) -> Fmllr {
        let mut w = Array2::zeros((dim, dim + 1));
        w.diag_mut().fill(1.0);
        Fmllr { w }
    }

    /// From W = [A b] (d x (d + 1)), finite, A non-singular.
    pub fn from_matrix(w: Array2<f64>) -> Result<Fmllr> {
        let d = w.nrows();
        if w.ncols() != d + 1 || d == 0 {
            return Err(Error::invalid(format!(
                "an fMLLR matrix is d x (d + 1), got {:?}",
                w.dim()
            )));
        }
        Lu::new(w.slice(s![.., ..d]), "the fMLLR matrix A")?;
        Ok(Fmllr { w })
    }

    /// Feature dimension d.
    pub fn dim(&self) -> usize {
        self.w.nrows()
    }

    /// W = [A b].
    pub fn matrix(&self) -> ArrayView2<'_, f64> {
        self.w.view()
    }

    /// The frames (rows of `x`) transformed.
    pub fn apply(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        let d = self.dim();
        if x.ncols() != d {
            return Err(Error::DimensionMismatch {
                what: "the fMLLR transform",
                expected: d,
                got: x.ncols(),
            });
        }
        let at = self.w.slice(s![.., ..d]).t().mapv(|v| v as f32);
        let b = self.w.column(d).mapv(|v| v as f32);
        let mut y = x.dot(&at);
        y += &b;
        Ok(y)
    }
}

/// The sufficient statistics β, K, G_i of one speaker (see the module comment).
#[derive(Debug, Clone, PartialEq)]
pub struct FmllrStats {
    beta: f64,
    k: Array2<f64>,
    g: Vec<Array2<f64>>,
}

/// What [`FmllrStats::estimate`] found.
#[derive(Debug, Clone)]
pub struct FmllrEstimate {
    /// The new transform (the starting one where too few frames were seen).
    pub transform: Fmllr,
    /// Q / β of the starting transform, then after every row update, in order.
    pub objectives: Vec<f64>,
    /// Why the starting transform was kept unchanged, if it was (too few frames).
    pub kept: Option<String>,
}

impl FmllrStats {
    /// Empty statistics for `dim`-dimensional frames.
    pub fn new(dim: usize) -> FmllrStats {
        FmllrStats {
            beta: 0.0,
            k: Array2::zeros((dim, dim + 1)),
            g: vec![Array2::zeros((dim + 1, dim + 1)); dim],
        }
    }

    /// Feature dimension d.
    pub fn dim(&self) -> usize {
        self.k.nrows()
    }

    /// Frames accumulated (β).
    pub fn count(&self) -> f64 {
        self.beta
    }

    /// Add the frames `x` (untransformed), frame t in state `states[t]` (`u32::MAX`: skipped),
    /// its Gaussians' occupancies the posteriors within that state's mixture of the frame as
    /// `current` transforms it (Kaldi accumulates on the features of the transform in use).
    pub fn accumulate(
        &mut self,
        gmms: &StateGmms,
        x: ArrayView2<f32>,
        states: &[u32],
        current: &Fmllr,
    ) -> Result<()> {
        let d = self.dim();
        if x.ncols() != d || gmms.input_dim() != d || current.dim() != d {
            return Err(Error::DimensionMismatch {
                what: "the fMLLR statistics",
                expected: d,
                got: if x.ncols() != d {
                    x.ncols()
                } else if gmms.input_dim() != d {
                    gmms.input_dim()
                } else {
                    current.dim()
                },
            });
        }
        if states.len() != x.nrows() {
            return Err(Error::invalid(format!(
                "fMLLR statistics: {} states for {} frames",
                states.len(),
                x.nrows()
            )));
        }
        if let Some(&bad) = states
            .iter()
            .find(|&&s| s != u32::MAX && s as usize >= gmms.num_states())
        {
            return Err(Error::invalid(format!(
                "fMLLR statistics: state {bad} of an alignment, but the GMM has {} states",
                gmms.num_states()
            )));
        }
        let rows: Vec<usize> = (0..x.nrows()).filter(|&t| states[t] != u32::MAX).collect();
        if rows.is_empty() {
            return Ok(());
        }
        let scores = gmms.weighted_gaussian_log_likelihoods(current.apply(x)?.view())?;
        let inv_var = gmms.vars().mapv(|v| 1.0 / v as f64);
        let mean_iv = &gmms.means().mapv(|v| v as f64) * &inv_var;
        let n = rows.len();
        let mut xp = Array2::<f64>::ones((n, d + 1));
        let mut sw = Array2::<f64>::zeros((n, d));
        let mut mw = Array2::<f64>::zeros((n, d));
        let mut post = Vec::new();
        for (r, &t) in rows.iter().enumerate() {
            for j in 0..d {
                xp[[r, j]] = x[[t, j]] as f64;
            }
            let range = gmms.components(states[t] as usize);
            post.clear();
            post.extend(scores.slice(s![t, range.clone()]).iter().map(|&v| v as f64));
            let max = post.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            if !max.is_finite() {
                return Err(Error::invalid(format!(
                    "fMLLR statistics: frame {t} has no finite likelihood in state {}",
                    states[t]
                )));
            }
            let mut sum = 0.0;
            for p in post.iter_mut() {
                *p = (*p - max).exp();
                sum += *p;
            }
            for (g, p) in range.zip(&post) {
                let gamma = p / sum;
                sw.row_mut(r).scaled_add(gamma, &inv_var.row(g));
                mw.row_mut(r).scaled_add(gamma, &mean_iv.row(g));
            }
        }
        self.beta += n as f64;
        self.k += &mw.t().dot(&xp);
        for (i, g) in self.g.iter_mut().enumerate() {
            let scaled = &xp * &sw.column(i).insert_axis(Axis(1));
            *g += &scaled.t().dot(&xp);
        }
        Ok(())
    }

    /// Add another speaker part's statistics (same dimension).
    pub fn merge(&mut self, other: &FmllrStats) -> Result<()> {
        if other.dim() != self.dim() {
            return Err(Error::DimensionMismatch {
                what: "the fMLLR statistics",
                expected: self.dim(),
                got: other.dim(),
            });
        }
        self.beta += other.beta;
        self.k += &other.k;
        for (a, b) in self.g.iter_mut().zip(&other.g) {
            *a += b;
        }
        Ok(())
    }

    /// Q(W) / β of a transform (the module comment's auxiliary function per frame).
    pub fn objective(&self, t: &Fmllr) -> Result<f64> {
        if self.beta <= 0.0 {
            return Err(Error::invalid("fMLLR statistics: no frames"));
        }
        let d = self.dim();
        let lu = Lu::new(t.w.slice(s![.., ..d]), "the fMLLR matrix A")?;
        let mut q = self.beta * lu.log_abs_det();
        for i in 0..d {
            let w = t.w.row(i);
            q += w.dot(&self.k.row(i)) - 0.5 * w.dot(&self.g[i].dot(&w));
        }
        Ok(q / self.beta)
    }

    /// Maximise Q from `start` by `iterations` sweeps of row updates (module comment). With
    /// fewer than `min_count` frames `start` is kept (Kaldi's fMLLR `min_count`), with the
    /// reason. Refused: singular statistics (e.g. a feature dimension that never varies) or a
    /// non-finite result.
    pub fn estimate(
        &self,
        start: &Fmllr,
        iterations: usize,
        min_count: f64,
    ) -> Result<FmllrEstimate> {
        let d = self.dim();
        if start.dim() != d {
            return Err(Error::DimensionMismatch {
                what: "the starting fMLLR transform",
                expected: d,
                got: start.dim(),
            });
        }
        if self.beta < min_count || self.beta <= 0.0 {
            return Ok(FmllrEstimate {
                transform: start.clone(),
                objectives: Vec::new(),
                kept: Some(format!(
                    "{} frames, fewer than the {min_count} an fMLLR estimate needs",
                    self.beta
                )),
            });
        }
        let g_inv = self
            .g
            .iter()
            .enumerate()
            .map(|(i, g)| Ok(Lu::new(g.view(), &format!("fMLLR statistics G_{i}"))?.inverse()))
            .collect::<Result<Vec<_>>>()?;
        let mut w = start.w.clone();
        let mut objectives = vec![self.objective(start)?];
        let mut p = Array1::<f64>::zeros(d + 1);
        for _ in 0..iterations {
            for (i, g_inv) in g_inv.iter().enumerate() {
                let a_inv = Lu::new(w.slice(s![.., ..d]), "the fMLLR matrix A")?.inverse();
                p.slice_mut(s![..d]).assign(&a_inv.column(i));
                let gp = g_inv.dot(&p);
                let gk = g_inv.dot(&self.k.row(i));
                let (e1, e2) = (p.dot(&gp), p.dot(&gk));
                if !(e1 > 0.0 && e1.is_finite() && e2.is_finite()) {
                    return Err(Error::invalid(format!(
                        "fMLLR row {i}: the statistics are not positive definite (e1 = {e1})"
                    )));
                }
                let root = (e2 * e2 + 4.0 * e1 * self.beta).sqrt();
                let q = |a: f64| self.beta * (a * e1 + e2).abs().ln() - 0.5 * a * a * e1;
                let (a1, a2) = ((-e2 + root) / (2.0 * e1), (-e2 - root) / (2.0 * e1));
                let alpha = if q(a1) >= q(a2) { a1 } else { a2 };
                let row = &gp * alpha + &gk;
                if row.iter().any(|v| !v.is_finite()) {
                    return Err(Error::invalid(format!(
                        "fMLLR row {i}: the update is not finite"
                    )));
                }
                w.row_mut(i).assign(&row);
                objectives.push(self.objective(&Fmllr { w: w.clone() })?);
            }
        }
        Ok(FmllrEstimate {
            transform: Fmllr::from_matrix(w)?,
            objectives,
            kept: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, array};
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal, Uniform};

    /// Three states in 3 dimensions, `k` Gaussians each (means well apart).
    fn model(k: usize) -> StateGmms {
        let centres = [[0.0, 0.0, 0.0], [4.0, -2.0, 1.0], [-3.0, 3.0, 2.0]];
        let mut means = Array2::zeros((3 * k, 3));
        let mut vars = Array2::zeros((3 * k, 3));
        for (s, c) in centres.iter().enumerate() {
            for g in 0..k {
                let row = s * k + g;
                for j in 0..3 {
                    means[[row, j]] = c[j] + 1.5 * g as f32 * (j as f32 - 1.0);
                    vars[[row, j]] = 0.5 + 0.25 * j as f32 + 0.1 * g as f32;
                }
            }
        }
        StateGmms::new(
            means,
            vars,
            Array1::from_elem(3 * k, 1.0 / k as f32),
            &[k; 3],
        )
        .unwrap()
    }

    /// `n` frames drawn from the model (state t % 3, Gaussians uniformly), and their states.
    fn sample(gmms: &StateGmms, n: usize, seed: u64) -> (Array2<f32>, Vec<u32>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::zeros((n, gmms.input_dim()));
        let states: Vec<u32> = (0..n).map(|t| (t % gmms.num_states()) as u32).collect();
        for (t, &st) in states.iter().enumerate() {
            let r = gmms.components(st as usize);
            let g = Uniform::new(r.start, r.end).unwrap().sample(&mut rng);
            for j in 0..gmms.input_dim() {
                let z: f32 = StandardNormal.sample(&mut rng);
                x[[t, j]] = gmms.means()[[g, j]] + gmms.vars()[[g, j]].sqrt() * z;
            }
        }
        (x, states)
    }

    /// Estimate from `x` with `passes` rounds of statistics on the current transform.
    fn fit(gmms: &StateGmms, x: ArrayView2<f32>, states: &[u32], passes: usize) -> FmllrEstimate {
        let mut t = Fmllr::identity(3);
        let mut last = None;
        for _ in 0..passes {
            let mut stats = FmllrStats::new(3);
            stats.accumulate(gmms, x, states, &t).unwrap();
            let e = stats.estimate(&t, 20, 20.0).unwrap();
            t = e.transform.clone();
            last = Some(e);
        }
        last.unwrap()
    }

    #[test]
    fn recovers_the_inverse_of_a_known_affine_distortion() {
        // y from the model, x = M y + c: the estimate maps x back, A ≈ M⁻¹ and b ≈ -M⁻¹ c.
        let m = array![[1.3, 0.2, -0.1], [-0.3, 0.8, 0.2], [0.1, 0.25, 1.1]];
        let c = array![0.7, -1.2, 0.4];
        let m_inv = Lu::new(m.view(), "M").unwrap().inverse();
        let want_b = -m_inv.dot(&c);
        for (k, passes) in [(1, 1), (2, 4)] {
            let gmms = model(k);
            let (y, states) = sample(&gmms, 30_000, 1);
            let x = y.mapv(|v| v as f64).dot(&m.t()) + &c;
            let x = x.mapv(|v| v as f32);
            let e = fit(&gmms, x.view(), &states, passes);
            let w = e.transform.matrix();
            for i in 0..3 {
                for j in 0..3 {
                    assert!(
                        (w[[i, j]] - m_inv[[i, j]]).abs() < 0.03,
                        "{k} Gaussians: A = {w}, M⁻¹ = {m_inv}"
                    );
                }
                assert!(
                    (w[[i, 3]] - want_b[i]).abs() < 0.06,
                    "{k} Gaussians: b = {}, want {want_b}",
                    w.column(3)
                );
            }
        }
    }

    #[test]
    fn the_objective_never_decreases_over_row_updates() {
        let gmms = model(2);
        let (y, states) = sample(&gmms, 3_000, 2);
        let x = y.mapv(|v| 0.6 * v - 0.5);
        let mut stats = FmllrStats::new(3);
        stats
            .accumulate(&gmms, x.view(), &states, &Fmllr::identity(3))
            .unwrap();
        let e = stats.estimate(&Fmllr::identity(3), 5, 20.0).unwrap();
        assert_eq!(e.objectives.len(), 1 + 5 * 3);
        for pair in e.objectives.windows(2) {
            assert!(pair[1] >= pair[0] - 1e-9, "{:?}", e.objectives);
        }
        // The distortion is undone: a large gain from the identity.
        assert!(
            e.objectives.last().unwrap() - e.objectives[0] > 0.5,
            "{:?}",
            e.objectives
        );
        // The objective is the log-likelihood up to terms not in W: its gain equals the gain
        // in the single-Gaussian model's log-likelihood of the transformed frames plus log|det A|.
        let single = model(1);
        let mut s1 = FmllrStats::new(3);
        s1.accumulate(&single, x.view(), &states, &Fmllr::identity(3))
            .unwrap();
        let e1 = s1.estimate(&Fmllr::identity(3), 5, 20.0).unwrap();
        let ll = |t: &Fmllr| {
            let y = t.apply(x.view()).unwrap();
            let l = single.log_likelihoods(y.view()).unwrap();
            let det = Lu::new(t.matrix().slice(s![.., ..3]), "A")
                .unwrap()
                .log_abs_det();
            states
                .iter()
                .enumerate()
                .map(|(f, &st)| l[[f, st as usize]] as f64)
                .sum::<f64>()
                / states.len() as f64
                + det
        };
        let gain = ll(&e1.transform) - ll(&Fmllr::identity(3));
        let q_gain = e1.objectives.last().unwrap() - e1.objectives[0];
        assert!((gain - q_gain).abs() < 1e-3, "{gain} vs {q_gain}");
    }

    #[test]
    fn data_that_already_fits_gives_the_identity() {
        let gmms = model(2);
        let (x, states) = sample(&gmms, 30_000, 3);
        let e = fit(&gmms, x.view(), &states, 2);
        let eye = Fmllr::identity(3);
        for (got, want) in e.transform.matrix().iter().zip(eye.matrix()) {
            assert!((got - want).abs() < 0.03, "{}", e.transform.matrix());
        }
    }

    #[test]
    fn too_few_frames_keep_the_start_and_degenerate_statistics_are_refused() {
        let gmms = model(1);
        let (x, states) = sample(&gmms, 10, 4);
        let mut stats = FmllrStats::new(3);
        stats
            .accumulate(&gmms, x.view(), &states, &Fmllr::identity(3))
            .unwrap();
        let e = stats.estimate(&Fmllr::identity(3), 5, 20.0).unwrap();
        assert_eq!(e.transform, Fmllr::identity(3));
        assert!(e.kept.unwrap().contains("10 frames"));
        // A dimension that never varies: G_i is singular (rank 2 in [x; 1]).
        let (mut x, states) = sample(&gmms, 300, 5);
        x.column_mut(1).fill(2.0);
        let mut stats = FmllrStats::new(3);
        stats
            .accumulate(&gmms, x.view(), &states, &Fmllr::identity(3))
            .unwrap();
        let err = stats
            .estimate(&Fmllr::identity(3), 5, 20.0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("fMLLR statistics G_0: singular"), "{err}");
        // States outside the model, and a singular A.
        let err = stats
            .accumulate(&gmms, x.view(), &vec![7; 300], &Fmllr::identity(3))
            .unwrap_err()
            .to_string();
        assert!(err.contains("state 7"), "{err}");
        assert!(Fmllr::from_matrix(Array2::zeros((3, 4))).is_err());
    }
}
