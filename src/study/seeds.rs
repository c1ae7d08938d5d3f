//! A run trained once per seed, summarised: mean and sample standard deviation of every score
//! over its seeds, as the report's tables and figures show them.

use crate::model::ModelKind;
use crate::study::experiment::{Group, Row, kept_epoch};

/// Mean and sample standard deviation (`n - 1` in the denominator) of `n` values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation; 0 for a single value.
    pub sd: f64,
    /// Number of values.
    pub n: usize,
}

impl Stat {
    /// Mean and sample sd of `values` (none: `None`).
    pub fn of(values: &[f64]) -> Option<Stat> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Stat { mean, sd, n })
    }

    /// As a percentage with one decimal: `47.3 ± 0.4` (or `47.3` for one value).
    pub fn pct(&self) -> String {
        if self.n > 1 {
            format!("{:.1} ± {:.1}", 100.0 * self.mean, 100.0 * self.sd)
        } else {
            format!("{:.1}", 100.0 * self.mean)
        }
    }
}

/// One run over all its seeds.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The run as the experiment names it.
    pub run: String,
    /// Which table it belongs to.
    pub group: Group,
    /// Hidden layers of the deep net (depth-grid and curve rows).
    pub layers: usize,
    /// Share of the training speakers.
    pub fraction: f64,
    /// GMM or DNN.
    pub kind: ModelKind,
    /// Stage the classifier reads.
    pub from: String,
    /// Model size in words.
    pub spec: String,
    /// Learned parameters (the same for every seed).
    pub params: usize,
    /// The seeds, in the order run.
    pub seeds: Vec<u64>,
    /// Epoch kept per seed (DNNs).
    pub kept: Vec<usize>,
    /// Tied-state frame accuracy.
    pub state_accuracy: Stat,
    /// 39-phone frame accuracy.
    pub phone_accuracy: Stat,
    /// Phone error rate (when every seed was decoded).
    pub per: Option<Stat>,
    /// Phone error rate at the decoding grid's chosen point (when every seed has one; see
    /// [`crate::train::decode::Tuning`]).
    pub per_tuned: Option<Stat>,
    /// Where that point was chosen (`dev`, or `test`: optimistic), when all seeds agree.
    pub tuned_on: Option<crate::corpus::Split>,
    /// Labelled training frames (mean over seeds: learning-curve subsets differ).
    pub train_frames: Stat,
    /// Training seconds.
    pub train_seconds: Stat,
}

impl Summary {
    /// Seeds as the report lists them: `n = 3 (seeds 1, 2, 3)`.
    pub fn seeds_text(&self) -> String {
        let list: Vec<String> = self.seeds.iter().map(|s| s.to_string()).collect();
        format!("n = {} (seed {})", self.seeds.len(), list.join(", "))
    }
}

/// The rows grouped by run, in the order the runs first appear.
pub fn summarise(rows: &[Row]) -> Vec<Summary> {
    let mut order: Vec<&str> = Vec::new();
    for r in rows {
        if !order.contains(&r.run.as_str()) {
            order.push(&r.run);
        }
    }
    order
        .into_iter()
        .map(|run| {
            let mine: Vec<&Row> = rows.iter().filter(|r| r.run == run).collect();
            let first = mine[0];
            let a = &first.result.about;
            let values = |f: &dyn Fn(&Row) -> f64| -> Stat {
                Stat::of(&mine.iter().map(|r| f(r)).collect::<Vec<_>>()).expect("one row at least")
            };
            let pers: Vec<f64> = mine.iter().filter_map(|r| r.result.per).collect();
            let tuned: Vec<_> = mine
                .iter()
                .filter_map(|r| r.result.tuned.as_ref())
                .collect();
            let tuned_per: Vec<f64> = tuned.iter().map(|t| t.per).collect();
            Summary {
                run: run.to_string(),
                group: first.group,
                layers: first.layers,
                fraction: first.fraction,
                kind: a.kind,
                from: a.from.to_string(),
                spec: a.spec.clone(),
                params: a.params,
                seeds: mine.iter().map(|r| r.result.about.seed).collect(),
                kept: mine
                    .iter()
                    .filter_map(|r| kept_epoch(&r.result.about))
                    .collect(),
                state_accuracy: values(&|r| r.result.state_accuracy),
                phone_accuracy: values(&|r| r.result.phone_accuracy),
                per: (pers.len() == mine.len())
                    .then(|| Stat::of(&pers))
                    .flatten(),
                per_tuned: (tuned.len() == mine.len())
                    .then(|| Stat::of(&tuned_per))
                    .flatten(),
                tuned_on: tuned
                    .first()
                    .map(|t| t.chosen_on)
                    .filter(|on| tuned.iter().all(|t| t.chosen_on == *on)),
                train_frames: values(&|r| r.result.about.train_frames as f64),
                train_seconds: values(&|r| r.result.about.train_seconds),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_sd_by_hand() {
        let s = Stat::of(&[0.40, 0.42, 0.44]).unwrap();
        assert!((s.mean - 0.42).abs() < 1e-12);
        // Deviations -0.02, 0, 0.02: (4e-4 + 4e-4) / 2 = 4e-4, sd 0.02.
        assert!((s.sd - 0.02).abs() < 1e-12, "{}", s.sd);
        assert_eq!(s.n, 3);
        assert_eq!(s.pct(), "42.0 ± 2.0");
        let one = Stat::of(&[0.5]).unwrap();
        assert_eq!((one.sd, one.pct().as_str()), (0.0, "50.0"));
        assert!(Stat::of(&[]).is_none());
    }
}
