//! What a run reports: one row of results per trained and scored model, written beside the model
//! as `results.json` with the confusion matrix, and printed as a table.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::decode::DecodeConfig;
use crate::error::{Error, Result};
use crate::train::decode::{PerSummary, Tuned};
use crate::train::eval::{self, Evaluation};
use crate::train::model_dir::{About, Trained};

/// One row of results: what was trained and how well it does on the test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Run name.
    pub name: String,
    /// The trained model's facts (flattened into the row).
    #[serde(flatten)]
    pub about: About,
    /// Labelled test frames scored.
    pub test_frames: usize,
    /// Tied-state frame accuracy on test, 0..1.
    pub state_accuracy: f64,
    /// Frame accuracy folded to 39 phones on test, 0..1.
    pub phone_accuracy: f64,
    /// Test frames whose phone state never occurred in training.
    pub unseen_frames: usize,
    /// Scoring wall-clock time, seconds.
    pub eval_seconds: f64,
    /// Phone error rate of the decoded test set, 39 folded phones (absent: not decoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<f64>,
    /// S of the PER: substituted phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substitutions: Option<usize>,
    /// D of the PER: deleted phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletions: Option<usize>,
    /// I of the PER: inserted phones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insertions: Option<usize>,
    /// N of the PER: reference phones (39-set, after folding).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ref_phones: Option<usize>,
    /// Test utterances whose best path did not reach the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_paths: Option<usize>,
    /// The decoding options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<DecodeConfig>,
    /// Wall-clock seconds of scoring and decoding the test set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_seconds: Option<f64>,
    /// The PER at the decoding grid's chosen point (see [`crate::train::decode::Tuning`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuned: Option<Tuned>,
}

impl RunResult {
    /// A row from a trained model and its evaluation.
    pub fn new(name: &str, trained: &Trained, e: &Evaluation, eval_seconds: f64) -> RunResult {
        RunResult {
            name: name.into(),
            about: trained.about.clone(),
            test_frames: e.frames,
            state_accuracy: e.state_accuracy(),
            phone_accuracy: e.phone_accuracy(),
            unseen_frames: e.unseen,
            eval_seconds,
            per: None,
            substitutions: None,
            deletions: None,
            insertions: None,
            ref_phones: None,
            partial_paths: None,
            decode: None,
            decode_seconds: None,
            tuned: None,
        }
    }

    /// This result with the decoding's phone error rate.
    pub fn with_per(mut self, s: &PerSummary) -> RunResult {
        self.per = Some(s.per);
        self.substitutions = Some(s.substitutions);
        self.deletions = Some(s.deletions);
        self.insertions = Some(s.insertions);
        self.ref_phones = Some(s.ref_phones);
        self.partial_paths = Some(s.partial);
        self.decode = Some(s.decode.clone());
        self.decode_seconds = Some(s.decode_seconds);
        self.tuned = s.tuned.clone();
        self
    }
}

/// Write a run directory: `results.json`, `confusion.csv`, and the model under `model/`.
pub fn write_run(dir: &Path, result: &RunResult, e: &Evaluation, trained: &Trained) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    trained.save(&dir.join("model"))?;
    eval::write_confusion_csv(&dir.join("confusion.csv"), e)?;
    let names = crate::corpus::PhoneSet::timit().p39.names();
    crate::viz::confusion_matrix(
        &dir.join("confusion.png"),
        e.confusion.mapv(|c| c as f64).view(),
        names,
        &format!(
            "{}: 39-phone frame confusions (rows: reference), {:.1}% correct",
            result.name,
            100.0 * result.phone_accuracy
        ),
    )?;
    crate::io::json::write_json(&dir.join("results.json"), result)
}

/// Results as an aligned text table (one row per run).
pub fn table(results: &[RunResult]) -> String {
    use std::fmt::Write as _;
    let w = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(3)
        .max(3);
    let mut s = format!(
        "{:<w$}  {:<4}  {:<11}  {:<22}  {:>10}  {:>5}  {:>9}  {:>11}  {:>6}  {:>8}\n",
        "run",
        "kind",
        "from",
        "model",
        "params",
        "tied",
        "state acc",
        "phone39 acc",
        "PER",
        "train s"
    );
    for r in results {
        let a = &r.about;
        let _ = writeln!(
            s,
            "{:<w$}  {:<4}  {:<11}  {:<22}  {:>10}  {:>5}  {:>8.1}%  {:>10.1}%  {:>6}  {:>8.1}",
            r.name,
            a.kind,
            a.from,
            a.spec,
            a.params,
            a.tied_states,
            100.0 * r.state_accuracy,
            100.0 * r.phone_accuracy,
            r.per.map_or("-".into(), |p| format!("{:.1}%", 100.0 * p)),
            a.train_seconds
        );
    }
    s
}
