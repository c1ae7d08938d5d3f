//! The emission scores the decoder and aligner read: a frames x tied-states matrix of log scores,
//! GMM log-likelihoods as they are, or hybrid DNN scores made here from log posteriors.
//!
//! Hybrid scores (Bourlard & Morgan; Kaldi nnet1 `--class-frame-counts`): a DNN gives log
//! P(state | frame); dividing by the state prior gives a scaled likelihood,
//! `log P(state | x) - prior_scale x log P(state)`. Priors come from the training alignment's
//! frame counts. A state below `prior_floor` (never seen in training) gets the log prior
//! ln(sqrt(f32::MAX)) ~ 44.4 instead, as Kaldi does: its score sinks far below every other state's
//! and it is effectively never chosen.

use ndarray::{Array2, ArrayView2, Zip};

use crate::error::{Error, Result};

/// Prior floor below which a state is switched off (Kaldi nnet1's `--prior-floor`).
pub const PRIOR_FLOOR: f64 = 1e-10;

/// Log priors from per-state training frame counts; states below `floor` get ln(sqrt(f32::MAX)).
pub fn log_priors(counts: &[u64], floor: f64) -> Result<Vec<f32>> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Err(Error::invalid(
            "state priors from counts that are all zero (no training frames)",
        ));
    }
    if !(0.0..1.0).contains(&floor) {
        return Err(Error::invalid(format!(
            "prior floor must be in [0, 1), got {floor}"
        )));
    }
    let off = (f32::MAX as f64).sqrt().ln() as f32;
    Ok(counts
        .iter()
        .map(|&c| {
            let p = c as f64 / total as f64;
            if p < floor || c == 0 {
                off
            } else {
                p.ln() as f32
            }
        })
        .collect())
}

/// Hybrid scores `log_posteriors - prior_scale x log_priors` (frames x states).
pub fn hybrid_scores(
    log_posteriors: ArrayView2<f32>,
    log_priors: &[f32],
    prior_scale: f32,
) -> Result<Array2<f32>> {
    if log_posteriors.ncols() != log_priors.len() {
        return Err(Error::invalid(format!(
            "{} log posteriors per frame but {} state priors",
            log_posteriors.ncols(),
            log_priors.len()
        )));
    }
    if !(prior_scale >= 0.0 && prior_scale.is_finite()) {
        return Err(Error::invalid(format!(
            "prior_scale must be a number >= 0, got {prior_scale}"
        )));
    }
    check_finite(log_posteriors)?;
    let mut out = log_posteriors.to_owned();
    Zip::from(out.rows_mut()).for_each(|mut row| {
        row.iter_mut()
            .zip(log_priors)
            .for_each(|(x, &lp)| *x -= prior_scale * lp);
    });
    Ok(out)
}

/// Check a score matrix before a search: one column per tied state, every value finite.
pub(crate) fn check_scores(scores: ArrayView2<f32>, num_leaves: usize) -> Result<()> {
    if scores.ncols() != num_leaves {
        return Err(Error::invalid(format!(
            "score matrix has {} columns, but the model has {num_leaves} tied states",
            scores.ncols()
        )));
    }
    check_finite(scores)
}

fn check_finite(scores: ArrayView2<f32>) -> Result<()> {
    // A value is not finite when its exponent bits are all set; or-ing that test over a chunk
    // vectorises, where a short-circuiting `all(is_finite)` does not.
    let non_finite = |c: &[f32]| {
        c.iter()
            .map(|x| u32::from(x.to_bits() & 0x7f80_0000 == 0x7f80_0000))
            .fold(0, |a, b| a | b)
            != 0
    };
    let ok = match scores.as_slice() {
        Some(all) => !all.chunks(4096).any(non_finite),
        None => scores.iter().all(|x| x.is_finite()),
    };
    if ok {
        return Ok(());
    }
    let ((t, j), x) = scores
        .indexed_iter()
        .find(|(_, x)| !x.is_finite())
        .expect("a non-finite value exists");
    Err(Error::invalid(format!(
        "score matrix: frame {t}, tied state {j} is {x} (scores must be finite)"
    )))
}
