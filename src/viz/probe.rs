//! A linear probe: multinomial logistic regression on standardised features, trained on some
//! points and tested on others. How much of a labelling (e.g. the speaker) a linear read-out
//! can recover from a representation.
//!
//! Training minimises the mean cross-entropy plus `l2/2 · ‖W‖²` (the bias is not penalised) by
//! full-batch Nesterov-accelerated gradient descent from zero weights, so there is no random
//! choice to seed. The step is `1 / L` with `L = ½·max(λ_max(XᵀX/n), 1) + l2`, Böhning's bound on
//! the Hessian of the multinomial log-likelihood (X standardised with the training statistics,
//! so its columns are centred and the bias column adds an eigenvalue of 1); `λ_max` comes from
//! power iteration with a 10 % margin.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, Axis};

use super::check_finite;
use crate::error::{Error, Result};

/// Settings of [`LinearProbe::fit`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ProbeOptions {
    /// Gradient steps (full batch).
    pub iterations: usize,
    /// L2 penalty on the weights (features are standardised, so one value suits any layer).
    pub l2: f32,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            iterations: 300,
            l2: 1e-2,
        }
    }
}

/// A fitted multinomial logistic regression.
#[derive(Clone, Debug)]
pub struct LinearProbe {
    mean: Array1<f32>,
    inv_std: Array1<f32>,
    /// `[d, classes]`.
    weight: Array2<f32>,
    bias: Array1<f32>,
}

/// Rows of `x` standardised by `mean` and `inv_std`.
fn standardise(x: ArrayView2<f32>, mean: &Array1<f32>, inv_std: &Array1<f32>) -> Array2<f32> {
    (&x - mean) * inv_std
}

/// Largest eigenvalue of `xᵀx / n` by power iteration.
fn top_eigenvalue(x: &Array2<f32>) -> f32 {
    let n = x.nrows().max(1) as f32;
    let mut v = Array1::<f32>::from_elem(x.ncols(), 1.0 / (x.ncols() as f32).sqrt());
    let mut lambda = 0.0;
    for _ in 0..50 {
        let w = x.t().dot(&x.dot(&v)) / n;
        lambda = w.dot(&w).sqrt();
        if lambda <= 0.0 {
            return 0.0;
        }
        v = w / lambda;
    }
    lambda
}

impl LinearProbe {
    /// Fit `classes`-way logistic regression to the rows of `x` and their `labels`.
    pub fn fit(
        x: ArrayView2<f32>,
        labels: &[usize],
        classes: usize,
        opts: &ProbeOptions,
    ) -> Result<LinearProbe> {
        check_finite(x, "linear probe")?;
        let (n, d) = x.dim();
        if labels.len() != n {
            return Err(Error::invalid(format!(
                "linear probe: {} labels for {n} points",
                labels.len()
            )));
        }
        if let Some(&l) = labels.iter().find(|&&l| l >= classes) {
            return Err(Error::invalid(format!(
                "linear probe: label {l} with only {classes} classes"
            )));
        }
        if !(opts.l2.is_finite() && opts.l2 >= 0.0) {
            return Err(Error::invalid(format!(
                "linear probe: the L2 penalty must be >= 0, got {}",
                opts.l2
            )));
        }
        let mean = x.mean_axis(Axis(0)).expect("non-empty checked");
        let inv_std = x
            .var_axis(Axis(0), 0.0)
            .mapv(|v| if v > 1e-12 { 1.0 / v.sqrt() } else { 0.0 });
        let xs = standardise(x, &mean, &inv_std);
        let step = 1.0 / (1.1 * 0.5 * top_eigenvalue(&xs).max(1.0) + opts.l2);

        let mut w = Array2::<f32>::zeros((d, classes));
        let mut b = Array1::<f32>::zeros(classes);
        let (mut w_prev, mut b_prev) = (w.clone(), b.clone());
        let mut logits = Array2::<f32>::zeros((n, classes));
        let mut grad = Array2::<f32>::zeros((d, classes));
        for it in 0..opts.iterations {
            // Nesterov look-ahead point.
            let mom = it as f32 / (it as f32 + 3.0);
            let yw = &w + &((&w - &w_prev) * mom);
            let yb = &b + &((&b - &b_prev) * mom);
            general_mat_mul(1.0, &xs, &yw, 0.0, &mut logits);
            // logits -> (softmax - one-hot) / n, row by row.
            for (mut row, &l) in logits.rows_mut().into_iter().zip(labels) {
                row += &yb;
                let m = row.fold(f32::NEG_INFINITY, |a, &v| a.max(v));
                row.mapv_inplace(|v| (v - m).exp());
                let s = row.sum();
                row /= s * n as f32;
                row[l] -= 1.0 / n as f32;
            }
            general_mat_mul(1.0, &xs.t(), &logits, 0.0, &mut grad);
            grad.scaled_add(opts.l2, &yw);
            let gb = logits.sum_axis(Axis(0));
            w_prev = std::mem::replace(&mut w, yw - &(&grad * step));
            b_prev = std::mem::replace(&mut b, yb - &(gb * step));
        }
        if w.iter().chain(b.iter()).any(|v| !v.is_finite()) {
            return Err(Error::invalid(
                "linear probe: training diverged (non-finite weights)",
            ));
        }
        Ok(LinearProbe {
            mean,
            inv_std,
            weight: w,
            bias: b,
        })
    }

    /// The most probable class of every row of `x`.
    pub fn predict(&self, x: ArrayView2<f32>) -> Result<Vec<usize>> {
        check_finite(x, "linear probe")?;
        if x.ncols() != self.mean.len() {
            return Err(Error::DimensionMismatch {
                what: "the linear probe",
                expected: self.mean.len(),
                got: x.ncols(),
            });
        }
        let z = standardise(x, &self.mean, &self.inv_std).dot(&self.weight) + &self.bias;
        Ok(z.rows()
            .into_iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .fold((0, f32::NEG_INFINITY), |best, (i, &v)| {
                        if v > best.1 { (i, v) } else { best }
                    })
                    .0
            })
            .collect())
    }
}

/// Accuracy of a probe on held-out points, with the majority-class chance level.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeScore {
    /// Fraction of test points whose label the probe predicts.
    pub accuracy: f64,
    /// Accuracy of always guessing the most frequent label of each test fold (pooled over folds).
    pub chance: f64,
    /// Test points, over all folds.
    pub tested: usize,
}

/// Cross-validated probe over folds: for every fold `f` (the values of `fold`), fit on the points
/// of the other folds and test on those of `f`; accuracy and chance are pooled over all test
/// points. Points with `fold[i] == None` are not used. Needs at least two folds.
pub fn probe_score(
    x: ArrayView2<f32>,
    labels: &[usize],
    fold: &[Option<usize>],
    opts: &ProbeOptions,
) -> Result<ProbeScore> {
    if labels.len() != x.nrows() || fold.len() != x.nrows() {
        return Err(Error::invalid(format!(
            "linear probe: {} labels and {} folds for {} points",
            labels.len(),
            fold.len(),
            x.nrows()
        )));
    }
    let classes = labels.iter().max().map_or(0, |m| m + 1);
    let folds = fold.iter().flatten().max().map_or(0, |m| m + 1);
    let (mut right, mut tested, mut majority) = (0usize, 0usize, 0usize);
    let mut used = 0;
    for f in 0..folds {
        let test: Vec<usize> = (0..fold.len()).filter(|&i| fold[i] == Some(f)).collect();
        let train: Vec<usize> = (0..fold.len())
            .filter(|&i| fold[i].is_some_and(|g| g != f))
            .collect();
        if test.is_empty() {
            continue;
        }
        if train.is_empty() {
            return Err(Error::invalid(format!(
                "linear probe: fold {f} has no other fold to train on"
            )));
        }
        used += 1;
        let train_labels: Vec<usize> = train.iter().map(|&i| labels[i]).collect();
        let probe = LinearProbe::fit(
            x.select(Axis(0), &train).view(),
            &train_labels,
            classes,
            opts,
        )?;
        let pred = probe.predict(x.select(Axis(0), &test).view())?;
        let mut freq = vec![0usize; classes];
        for (&i, &p) in test.iter().zip(&pred) {
            freq[labels[i]] += 1;
            right += usize::from(p == labels[i]);
        }
        majority += freq.iter().max().copied().unwrap_or(0);
        tested += test.len();
    }
    if used < 2 {
        return Err(Error::invalid(
            "linear probe: needs test points in at least two folds",
        ));
    }
    Ok(ProbeScore {
        accuracy: right as f64 / tested as f64,
        chance: majority as f64 / tested as f64,
        tested,
    })
}
