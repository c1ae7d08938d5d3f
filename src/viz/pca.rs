//! Principal component analysis: the directions of largest variance, used to draw activations in
//! 2-D and to cut them to ~50 dimensions before t-SNE.
//!
//! The covariance is formed in whichever space is smaller (d × d features, or n × n samples when
//! there are fewer points than dimensions). Its top eigenvectors come from cyclic Jacobi when the
//! matrix is small, else from subspace iteration with a Rayleigh-Ritz step (a few products with a
//! thin block, no LAPACK). The start block is drawn from a fixed seed and every component's
//! largest entry is made positive, so the same input always gives the same output.

use ndarray::{Array1, Array2, ArrayView2, Axis, s};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::check_finite;
use crate::error::{Error, Result};

/// Matrices up to this size are diagonalised directly by Jacobi.
const DIRECT_MAX: usize = 160;
/// Extra vectors carried by subspace iteration: convergence goes as (λ_{k+p} / λ_k)^iterations.
const OVERSAMPLE: usize = 10;
/// Enough for the leading components, which are what the plots and t-SNE use; trailing ones in a
/// flat noise spectrum may still be mixed (their variances are then nearly equal anyway).
const MAX_ITERATIONS: usize = 60;

/// A fitted projection onto the top principal components.
#[derive(Clone, Debug)]
pub struct Pca {
    /// Mean of the training rows (length d).
    pub mean: Array1<f32>,
    /// Principal directions, one orthonormal row each (k × d), largest variance first.
    pub components: Array2<f32>,
    /// Variance along each component (eigenvalues of the covariance, divisor n − 1).
    pub variances: Array1<f32>,
    /// Total variance (trace of the covariance), for explained-variance ratios.
    pub total_variance: f32,
}

impl Pca {
    /// Fit the top `k` components of the rows of `x` (n × d), k ≤ min(n, d).
    pub fn fit(x: ArrayView2<f32>, k: usize) -> Result<Pca> {
        check_finite(x, "PCA")?;
        let (n, d) = x.dim();
        if n < 2 || k == 0 || k > n.min(d) {
            return Err(Error::invalid(format!(
                "PCA: cannot take {k} components of {n} points in {d} dimensions \
                 (needs n >= 2 and 1 <= k <= min(n, d))"
            )));
        }
        let mean = x.mean_axis(Axis(0)).expect("n >= 2");
        let c = &x - &mean;
        let scale = 1.0 / (n - 1) as f32;
        let total_variance = c.iter().map(|v| v * v).sum::<f32>() * scale;

        // Gram matrix in the smaller space; both share their non-zero eigenvalues.
        let feature_space = d <= n;
        let m = if feature_space {
            c.t().dot(&c) * scale
        } else {
            c.dot(&c.t()) * scale
        };
        let (values, vectors) = top_eigen(&m, k);

        let mut components = Array2::<f32>::zeros((k, d));
        for j in 0..k {
            let u = vectors.column(j);
            let mut v = if feature_space {
                u.to_owned()
            } else {
                // Sample-space eigenvector u maps to the feature-space direction cᵀu.
                c.t().dot(&u)
            };
            let norm = v.dot(&v).sqrt();
            if norm > 0.0 {
                v /= norm;
            }
            // Sign convention: the entry of largest magnitude (first one on ties) is positive.
            let big = v
                .iter()
                .enumerate()
                .fold(
                    (0, 0f32),
                    |b, (i, &a)| if a.abs() > b.1 { (i, a.abs()) } else { b },
                )
                .0;
            if v[big] < 0.0 {
                v.mapv_inplace(|a| -a);
            }
            components.row_mut(j).assign(&v);
        }
        Ok(Pca {
            mean,
            components,
            variances: values.mapv(|v| v.max(0.0) as f32),
            total_variance,
        })
    }

    /// Coordinates of the rows of `x` on the components (n × k).
    pub fn transform(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        if x.ncols() != self.mean.len() {
            return Err(Error::invalid(format!(
                "PCA: fitted on {} dimensions, given {}",
                self.mean.len(),
                x.ncols()
            )));
        }
        Ok((&x - &self.mean).dot(&self.components.t()))
    }

    /// Fraction of the total variance carried by each component.
    pub fn explained_variance_ratio(&self) -> Array1<f32> {
        if self.total_variance > 0.0 {
            &self.variances / self.total_variance
        } else {
            Array1::zeros(self.variances.len())
        }
    }
}

/// Fit and project in one call: the rows of `x` on their top `k` principal components.
pub fn pca(x: ArrayView2<f32>, k: usize) -> Result<Array2<f32>> {
    Pca::fit(x, k)?.transform(x)
}

/// Top `k` eigenpairs of the symmetric matrix `m`, largest first: (values, vectors as columns).
fn top_eigen(m: &Array2<f32>, k: usize) -> (Array1<f64>, Array2<f32>) {
    let size = m.nrows();
    if size <= DIRECT_MAX {
        let (vals, vecs) = jacobi_eigen(m.mapv(f64::from));
        return (
            vals.slice(s![..k]).to_owned(),
            vecs.slice(s![.., ..k]).mapv(|v| v as f32),
        );
    }
    let p = (k + OVERSAMPLE).min(size);
    let mut rng = ChaCha8Rng::seed_from_u64(0x5ca1ab1e);
    let mut q = Array2::<f32>::from_shape_fn((size, p), |_| StandardNormal.sample(&mut rng));
    orthonormalise(&mut q);
    let mut previous = Array1::<f64>::zeros(k);
    let mut ritz = (Array1::zeros(p), q.clone());
    for _ in 0..MAX_ITERATIONS {
        let mut z = m.dot(&q);
        orthonormalise(&mut z);
        // Rayleigh-Ritz: the best approximations to eigenpairs within span(z).
        let small = z.t().dot(&m.dot(&z)).mapv(f64::from);
        let (vals, vecs) = jacobi_eigen(small);
        q = z.dot(&vecs.mapv(|v| v as f32));
        let top = vals.slice(s![..k]).to_owned();
        let change = (&top - &previous)
            .iter()
            .zip(top.iter())
            .map(|(d, v)| d.abs() / v.abs().max(1e-30))
            .fold(0f64, f64::max);
        previous = top;
        ritz = (vals, q.clone());
        if change < 1e-6 {
            break;
        }
    }
    (
        ritz.0.slice(s![..k]).to_owned(),
        ritz.1.slice(s![.., ..k]).to_owned(),
    )
}

/// Modified Gram-Schmidt on the columns, in f64 for stability; a column that vanishes becomes 0.
fn orthonormalise(a: &mut Array2<f32>) {
    let mut w = a.mapv(f64::from);
    for j in 0..w.ncols() {
        for i in 0..j {
            let proj = w.column(i).dot(&w.column(j));
            let qi = w.column(i).to_owned();
            w.column_mut(j).scaled_add(-proj, &qi);
        }
        let norm = w.column(j).dot(&w.column(j)).sqrt();
        let inv = if norm > 1e-30 { 1.0 / norm } else { 0.0 };
        w.column_mut(j).mapv_inplace(|v| v * inv);
    }
    a.assign(&w.mapv(|v| v as f32));
}

/// All eigenpairs of a symmetric matrix by cyclic Jacobi rotations, sorted by decreasing value
/// (vectors as columns). Works on flat row-major buffers: the rotations touch two rows and two
/// columns at a time, and strided ndarray indexing in this loop costs more than the arithmetic.
pub(crate) fn jacobi_eigen(m: Array2<f64>) -> (Array1<f64>, Array2<f64>) {
    let n = m.nrows();
    // Products rounded in f32 are symmetric only to rounding; the rotations assume exact symmetry.
    let mut a: Vec<f64> = Array2::from_shape_fn((n, n), |(i, j)| 0.5 * (m[[i, j]] + m[[j, i]]))
        .iter()
        .copied()
        .collect();
    // Rows of vt are the eigenvectors (the transpose of V), so its updates are row operations too.
    let mut vt = vec![0f64; n * n];
    for i in 0..n {
        vt[i * n + i] = 1.0;
    }
    let rotate_rows = |buf: &mut [f64], p: usize, q: usize, cs: f64, sn: f64| {
        let (lo, hi) = buf.split_at_mut(q * n);
        let (rp, rq) = (&mut lo[p * n..p * n + n], &mut hi[..n]);
        for (x, y) in rp.iter_mut().zip(rq.iter_mut()) {
            let (u, v) = (*x, *y);
            *x = cs * u - sn * v;
            *y = sn * u + cs * v;
        }
    };
    let mut last_off = f64::INFINITY;
    for _sweep in 0..100 {
        let mut off = 0f64;
        let mut diag = 0f64;
        for i in 0..n {
            for j in 0..n {
                let v = a[i * n + j] * a[i * n + j];
                if i == j {
                    diag += v;
                } else {
                    off += v;
                }
            }
        }
        // Converged, or stuck at the rounding floor.
        if off <= 1e-22 * diag.max(1e-300) || off >= last_off {
            break;
        }
        last_off = off;
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                // Rotation angle that zeroes a[p][q] (Golub & Van Loan, sym.schur2).
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let cs = 1.0 / (t * t + 1.0).sqrt();
                let sn = t * cs;
                // A <- Jᵀ A J: rows p, q, then columns p, q (A stays symmetric).
                rotate_rows(&mut a, p, q, cs, sn);
                for k in 0..n {
                    let (u, v) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = cs * u - sn * v;
                    a[k * n + q] = sn * u + cs * v;
                }
                rotate_rows(&mut vt, p, q, cs, sn);
            }
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| a[j * n + j].total_cmp(&a[i * n + i]).then(i.cmp(&j)));
    let values = order.iter().map(|&i| a[i * n + i]).collect();
    let vectors = Array2::from_shape_fn((n, n), |(r, c)| vt[order[c] * n + r]);
    (values, vectors)
}
