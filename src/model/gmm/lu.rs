//! LU decomposition with partial pivoting, for the small dense systems of feature transforms
//! (fMLLR's d x d matrix and its (d + 1) x (d + 1) statistics, d at most a few dozen): the
//! determinant, linear solves and the inverse, in f64.

use ndarray::{Array2, ArrayView2};

use crate::error::{Error, Result};

/// P A = L U of a square matrix, L unit lower triangular (below the diagonal of `lu`), U upper.
#[derive(Debug, Clone)]
pub struct Lu {
    lu: Array2<f64>,
    /// Row i of P A is row `perm[i]` of A.
    perm: Vec<usize>,
    /// Sign of the permutation.
    sign: f64,
}

impl Lu {
    /// Factor `a`; `what` names the matrix in errors. Refused: a matrix that is not square, has a
    /// non-finite entry, or is singular to working precision (a pivot below n ε times its
    /// largest entry).
    pub fn new(a: ArrayView2<f64>, what: &str) -> Result<Lu> {
        let n = a.nrows();
        if a.ncols() != n || n == 0 {
            return Err(Error::invalid(format!(
                "{what}: a non-empty square matrix is needed, got {:?}",
                a.dim()
            )));
        }
        if a.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(format!("{what}: has a non-finite entry")));
        }
        let scale = a.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let tiny = scale * n as f64 * f64::EPSILON;
        let mut lu = a.to_owned();
        let mut perm: Vec<usize> = (0..n).collect();
        let mut sign = 1.0;
        for k in 0..n {
            let p = (k..n)
                .max_by(|&i, &j| lu[[i, k]].abs().total_cmp(&lu[[j, k]].abs()))
                .expect("k < n");
            if lu[[p, k]].abs() <= tiny {
                return Err(Error::invalid(format!(
                    "{what}: singular ({n} x {n}, pivot {k} is {:e})",
                    lu[[p, k]]
                )));
            }
            if p != k {
                for j in 0..n {
                    lu.swap([p, j], [k, j]);
                }
                perm.swap(p, k);
                sign = -sign;
            }
            let pivot = lu[[k, k]];
            for i in k + 1..n {
                let f = lu[[i, k]] / pivot;
                lu[[i, k]] = f;
                for j in k + 1..n {
                    lu[[i, j]] -= f * lu[[k, j]];
                }
            }
        }
        Ok(Lu { lu, perm, sign })
    }

    /// ln |det A|.
    pub fn log_abs_det(&self) -> f64 {
        self.lu.diag().iter().map(|u| u.abs().ln()).sum()
    }

    /// The sign of det A (+1 or -1).
    pub fn det_sign(&self) -> f64 {
        self.lu
            .diag()
            .iter()
            .fold(self.sign, |s, u| if *u < 0.0 { -s } else { s })
    }

    /// x with A x = b.
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.perm.len();
        assert_eq!(b.len(), n, "right-hand side length");
        let mut x: Vec<f64> = self.perm.iter().map(|&p| b[p]).collect();
        for i in 0..n {
            let s: f64 = (0..i).map(|j| self.lu[[i, j]] * x[j]).sum();
            x[i] -= s;
        }
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|j| self.lu[[i, j]] * x[j]).sum();
            x[i] = (x[i] - s) / self.lu[[i, i]];
        }
        x
    }

    /// A⁻¹.
    pub fn inverse(&self) -> Array2<f64> {
        let n = self.perm.len();
        let mut inv = Array2::zeros((n, n));
        let mut e = vec![0.0; n];
        for j in 0..n {
            e.fill(0.0);
            e[j] = 1.0;
            for (i, v) in self.solve(&e).into_iter().enumerate() {
                inv[[i, j]] = v;
            }
        }
        inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn determinant_solve_and_inverse_of_a_hand_computed_matrix() {
        // det = 0 (2·1 - 1·0) - 1 (1·1 - 1·3) + 2 (1·0 - 2·3) = 2 - 12 = -10; a zero first pivot.
        let a = array![[0.0, 1.0, 2.0], [1.0, 2.0, 1.0], [3.0, 0.0, 1.0]];
        let lu = Lu::new(a.view(), "a").unwrap();
        assert!((lu.log_abs_det() - 10f64.ln()).abs() < 1e-12);
        assert_eq!(lu.det_sign(), -1.0);
        let x = lu.solve(&[5.0, 8.0, 4.0]);
        for (got, want) in x.iter().zip([1.0, 3.0, 1.0]) {
            assert!((got - want).abs() < 1e-12, "{x:?}");
        }
        let eye = a.dot(&lu.inverse());
        for ((i, j), v) in eye.indexed_iter() {
            assert!((v - f64::from(i == j)).abs() < 1e-12, "{eye}");
        }
    }

    #[test]
    fn singular_and_non_finite_matrices_are_refused_by_name() {
        let a = array![[1.0, 2.0], [2.0, 4.0]];
        let e = Lu::new(a.view(), "G_3").unwrap_err().to_string();
        assert!(e.contains("G_3: singular"), "{e}");
        let a = array![[1.0, f64::NAN], [2.0, 4.0]];
        let e = Lu::new(a.view(), "A").unwrap_err().to_string();
        assert!(e.contains("A: has a non-finite entry"), "{e}");
    }
}
