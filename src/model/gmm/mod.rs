//! Diagonal-covariance Gaussian mixtures, one per (tied) HMM state: the learned box at the end of
//! the production line.
//!
//! Scoring never loops over Gaussians per frame. With the frame x (centred, see below) extended to
//! [x², x, 1], every weighted Gaussian's log density is one dot product
//!
//! ```text
//! log w + log N(x; μ, σ²) = Σ_j x_j² (-1/(2σ_j²)) + Σ_j x_j (μ_j/σ_j²)
//!                         + (log w - ½ Σ_j log(2π σ_j²) - ½ Σ_j μ_j²/σ_j²)
//! ```
//!
//! so a block of frames against all Gaussians of all states is a single matrix product
//! [x², x, 1] (frames x (2d+1)) · W ((2d+1) x Gaussians), followed per state by a log-sum-exp over
//! its columns. Frames are shifted by a fixed centre (the mean of the state means) first: that is
//! exact, and it keeps x² and μ²/σ² small enough that the f32 product loses nothing that matters
//! for raw MFCCs with large c0.
//!
//! Training (EM on hard or soft labels, initialisation by splitting or k-means) is in [`em`] and
//! [`kmeans`]; speaker transforms in [`fmllr`]; the options of the recipes around it (flat start,
//! speaker-adaptive training) in [`flat_start`] and [`sat`].

pub mod em;
pub mod flat_start;
pub mod fmllr;
pub mod kmeans;
pub mod linalg;
pub mod lu;
mod mixture;
pub mod sat;

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, s};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::io;
use crate::model::Classifier;
use crate::options;
pub use em::{Progress, TrainingFrames};
use linalg::{Parallelism, matmul_into, segment_log_sum_exp};

/// How the mixtures are initialised before EM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GmmInit {
    /// Start from one Gaussian per state and split the heaviest components (HTK `MU`, Kaldi
    /// gmm-mixup), doubling the count each round with EM iterations in between.
    Split,
    /// Seeded k-means++ and Lloyd iterations on each state's frames.
    Kmeans,
}

options! {
    /// Diagonal-covariance GMM per state, trained by EM.
    pub struct GmmConfig {
        /// Target number of Gaussians per state (a state with n frames gets at most n / (2 min_count)).
        gaussians_per_state: usize = 16,
        /// EM iterations once the target count is reached (at most; see tolerance), 1 to 1000.
        iterations: usize = 10,
        /// Stop those iterations early when the average log-likelihood per frame gains less than this (0 = never stop early).
        tolerance: f32 = 1e-5,
        /// EM iterations after each splitting round (init split).
        split_iterations: usize = 4,
        /// Initialisation: split (grow from one Gaussian by splitting) or kmeans.
        init: GmmInit = GmmInit::Split,
        /// Variance floor, as a fraction of the global per-dimension variance of the training frames.
        var_floor: f32 = 0.01,
        /// Minimum occupancy (frames) of a Gaussian; one below it is replaced by a split of the heaviest.
        min_count: f32 = 10.0,
        /// Minimum weight of a Gaussian within its state; one below it is replaced like min_count.
        min_weight: f32 = 1e-5,
        /// Lloyd iterations of the k-means initialisation (init kmeans).
        kmeans_iterations: usize = 10,
        /// Seed of the k-means++ initialisation (init split is deterministic without one).
        seed: u64 = 0,
    }
    patch GmmPatch;
}

impl GmmConfig {
    /// Check value ranges; errors say which option is wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("gmm options: {what}")));
        if !(1..=MAX_GAUSSIANS_PER_STATE).contains(&self.gaussians_per_state) {
            return bad(format!(
                "gaussians_per_state must be between 1 and {MAX_GAUSSIANS_PER_STATE}, got {}",
                self.gaussians_per_state
            ));
        }
        if self.iterations == 0 {
            return bad("iterations must be at least 1 (0 would write an untrained model)".into());
        }
        if self.iterations > 1000 || self.split_iterations > 1000 || self.kmeans_iterations > 1000 {
            return bad(format!(
                "iterations, split_iterations and kmeans_iterations must be at most 1000, got \
                 {}, {} and {}",
                self.iterations, self.split_iterations, self.kmeans_iterations
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance >= 0.0) {
            return bad(format!(
                "tolerance must be a number >= 0, got {}",
                self.tolerance
            ));
        }
        if !(self.var_floor > 0.0 && self.var_floor <= 1.0) {
            return bad(format!(
                "var_floor must be in (0, 1], got {}",
                self.var_floor
            ));
        }
        if !(self.min_count.is_finite() && self.min_count >= 0.0) {
            return bad(format!("min_count must be >= 0, got {}", self.min_count));
        }
        if !(0.0..1.0).contains(&self.min_weight) {
            return bad(format!(
                "min_weight must be in [0, 1), got {}",
                self.min_weight
            ));
        }
        if self.init == GmmInit::Kmeans && self.kmeans_iterations == 0 {
            return bad("kmeans_iterations must be at least 1 with init kmeans".into());
        }
        Ok(())
    }
}

/// Most Gaussians per state accepted.
pub const MAX_GAUSSIANS_PER_STATE: usize = 4096;

/// Frames per block: one block's [x², x, 1] and scores stay in cache-sized scratch per thread.
pub(crate) const BLOCK: usize = 256;

/// One diagonal GMM per state, stored flat: state s owns Gaussians `offsets[s]..offsets[s + 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateGmms {
    offsets: Vec<usize>,
    means: Array2<f32>,
    vars: Array2<f32>,
    weights: Array1<f32>,
    /// Subtracted from frames (and means) before the product; derived from the parameters.
    center: Array1<f32>,
    /// [(-1/2σ²); μ/σ²; constant] per Gaussian, (2d + 1) x total Gaussians.
    w: Array2<f32>,
}

impl StateGmms {
    /// Assemble mixtures from their parameters, `components[s]` Gaussians for state s in order.
    /// Checks shapes, positive finite variances and weights, and that each state's weights sum
    /// to one.
    pub fn new(
        means: Array2<f32>,
        vars: Array2<f32>,
        weights: Array1<f32>,
        components: &[usize],
    ) -> Result<Self> {
        let (g, d) = means.dim();
        if vars.dim() != (g, d) || weights.len() != g {
            return Err(Error::invalid(format!(
                "GMM parameters disagree: means {:?}, vars {:?}, weights {}",
                means.dim(),
                vars.dim(),
                weights.len()
            )));
        }
        if d == 0 || components.is_empty() || components.contains(&0) {
            return Err(Error::invalid(
                "a GMM needs a feature dimension and at least one Gaussian per state",
            ));
        }
        let mut offsets = vec![0];
        for &k in components {
            offsets.push(offsets.last().unwrap() + k);
        }
        if *offsets.last().unwrap() != g {
            return Err(Error::invalid(format!(
                "components per state add up to {}, but there are {g} Gaussians",
                offsets.last().unwrap()
            )));
        }
        if let Some(bad) = means.iter().position(|v| !v.is_finite()) {
            return Err(Error::invalid(format!(
                "Gaussian {} has a non-finite mean",
                bad / d
            )));
        }
        if let Some(bad) = vars.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::invalid(format!(
                "Gaussian {} has a variance that is not positive and finite",
                bad / d
            )));
        }
        for (s, r) in offsets.windows(2).enumerate() {
            let ws = weights.slice(s![r[0]..r[1]]);
            let sum: f64 = ws.iter().map(|&w| w as f64).sum();
            if ws.iter().any(|w| !(w.is_finite() && *w > 0.0)) || (sum - 1.0).abs() > 1e-3 {
                return Err(Error::invalid(format!(
                    "state {s}: mixture weights must be positive and sum to 1 (sum {sum})"
                )));
            }
        }
        let center = mean_of_state_means(&offsets, means.view(), weights.view());
        let w = score_matrix(means.view(), vars.view(), weights.view(), center.view());
        Ok(StateGmms {
            offsets,
            means,
            vars,
            weights,
            center,
            w,
        })
    }

    /// Feature dimension of a frame.
    pub fn input_dim(&self) -> usize {
        self.means.ncols()
    }
    /// Number of states (each a mixture).
    pub fn num_states(&self) -> usize {
        self.offsets.len() - 1
    }
    /// Total Gaussians over all states.
    pub fn num_gaussians(&self) -> usize {
        self.means.nrows()
    }
    /// Range of state `s`'s Gaussians in [`means`](Self::means) etc.
    pub fn components(&self, s: usize) -> std::ops::Range<usize> {
        self.offsets[s]..self.offsets[s + 1]
    }
    /// Gaussians in each state, by state.
    pub fn components_per_state(&self) -> Vec<usize> {
        self.offsets.windows(2).map(|r| r[1] - r[0]).collect()
    }
    /// Means, one row per Gaussian, states' Gaussians contiguous (see
    /// [`components`](Self::components)).
    pub fn means(&self) -> ArrayView2<'_, f32> {
        self.means.view()
    }
    /// Diagonal variances, one row per Gaussian (floored when estimated).
    pub fn vars(&self) -> ArrayView2<'_, f32> {
        self.vars.view()
    }
    /// Mixture weights, one per Gaussian; each state's sum to 1.
    pub fn weights(&self) -> ArrayView1<'_, f32> {
        self.weights.view()
    }
    /// Learned numbers: a mean and a variance vector and a weight per Gaussian.
    pub fn num_params(&self) -> usize {
        self.num_gaussians() * (2 * self.input_dim() + 1)
    }

    fn check_dim(&self, dim: usize) -> Result<()> {
        if dim != self.input_dim() {
            return Err(Error::DimensionMismatch {
                what: "the GMM",
                expected: self.input_dim(),
                got: dim,
            });
        }
        Ok(())
    }

    /// log p(x | state) for every frame and state (frames x states).
    pub fn log_likelihoods(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.check_dim(x.ncols())?;
        let mut out = Array2::zeros((x.nrows(), self.num_states()));
        self.for_each_block(x, out.view_mut(), |mut scores, mut out_block| {
            let mut shift = vec![0.0; self.num_gaussians()];
            for (mut row, mut o) in scores.rows_mut().into_iter().zip(out_block.rows_mut()) {
                let row = row.as_slice_mut().expect("scratch is contiguous");
                let o = o.as_slice_mut().expect("output rows are contiguous");
                segment_log_sum_exp(row, &self.offsets, o, &mut shift);
            }
        });
        Ok(out)
    }

    /// log(w_g) + log N(x; μ_g, σ²_g) for every frame and Gaussian (frames x Gaussians).
    pub fn weighted_gaussian_log_likelihoods(&self, x: ArrayView2<f32>) -> Result<Array2<f32>> {
        self.check_dim(x.ncols())?;
        let mut out = Array2::zeros((x.nrows(), self.num_gaussians()));
        self.for_each_block(x, out.view_mut(), |scores, mut out_block| {
            out_block.assign(&scores)
        });
        Ok(out)
    }

    /// Score blocks of frames in parallel: `f(scores of the block (rows x Gaussians), out rows)`.
    fn for_each_block(
        &self,
        x: ArrayView2<f32>,
        mut out: ArrayViewMut2<f32>,
        f: impl Fn(ArrayViewMut2<f32>, ArrayViewMut2<f32>) + Sync,
    ) {
        let (d, g) = (self.input_dim(), self.num_gaussians());
        out.axis_chunks_iter_mut(Axis(0), BLOCK)
            .into_par_iter()
            .enumerate()
            .for_each_init(
                || {
                    (
                        Array2::<f32>::zeros((BLOCK, 2 * d + 1)),
                        Array2::<f32>::zeros((BLOCK, g)),
                    )
                },
                |(ext, scores), (b, out_block)| {
                    let rows = out_block.nrows();
                    let xb = x.slice(s![b * BLOCK..b * BLOCK + rows, ..]);
                    let mut ext = ext.slice_mut(s![..rows, ..]);
                    for (xr, er) in xb.rows().into_iter().zip(ext.rows_mut()) {
                        let er = er.into_slice().expect("scratch is contiguous");
                        extend_frame(xr, self.center.as_slice().unwrap(), er);
                    }
                    let mut scores = scores.slice_mut(s![..rows, ..]);
                    matmul_into(
                        ext.view(),
                        self.w.view(),
                        scores.view_mut(),
                        false,
                        Parallelism::None,
                    );
                    f(scores, out_block);
                },
            );
    }

    pub(crate) fn center(&self) -> ArrayView1<'_, f32> {
        self.center.view()
    }
    pub(crate) fn score_columns(&self, s: usize) -> ArrayView2<'_, f32> {
        self.w.slice(s![.., self.offsets[s]..self.offsets[s + 1]])
    }
}

/// out = [(x - c)², x - c, 1].
#[inline]
pub(crate) fn extend_frame(x: ArrayView1<f32>, center: &[f32], out: &mut [f32]) {
    let d = center.len();
    let (sq, rest) = out.split_at_mut(d);
    let (lin, one) = rest.split_at_mut(d);
    for (j, &xj) in x.iter().enumerate() {
        let v = xj - center[j];
        sq[j] = v * v;
        lin[j] = v;
    }
    one[0] = 1.0;
}

/// Average over states of each state's mixture mean: near the data mean, and a pure function of
/// the parameters, so a loaded model rebuilds exactly the same score matrix.
fn mean_of_state_means(
    offsets: &[usize],
    means: ArrayView2<f32>,
    w: ArrayView1<f32>,
) -> Array1<f32> {
    let mut c = Array1::<f64>::zeros(means.ncols());
    for r in offsets.windows(2) {
        for g in r[0]..r[1] {
            c.scaled_add(w[g] as f64, &means.row(g).mapv(|v| v as f64));
        }
    }
    c.mapv(|v| (v / (offsets.len() - 1) as f64) as f32)
}

/// The (2d + 1) x G matrix W of the module comment, computed in f64 then rounded once.
fn score_matrix(
    means: ArrayView2<f32>,
    vars: ArrayView2<f32>,
    weights: ArrayView1<f32>,
    center: ArrayView1<f32>,
) -> Array2<f32> {
    let (g, d) = means.dim();
    let log_2pi = (2.0 * std::f64::consts::PI).ln();
    let mut w = Array2::zeros((2 * d + 1, g));
    for c in 0..g {
        let mut constant = (weights[c] as f64).ln();
        for j in 0..d {
            let var = vars[[c, j]] as f64;
            let mean = means[[c, j]] as f64 - center[j] as f64;
            w[[j, c]] = (-0.5 / var) as f32;
            w[[d + j, c]] = (mean / var) as f32;
            constant -= 0.5 * (log_2pi + var.ln() + mean * mean / var);
        }
        w[[2 * d, c]] = constant as f32;
    }
    w
}

/// What sits beside the tensors of a saved [`GmmClassifier`].
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GmmMeta {
    format: String,
    version: u32,
    input_dim: usize,
    num_states: usize,
    components_per_state: Vec<usize>,
    #[serde(default)]
    config: Option<GmmConfig>,
    #[serde(default)]
    metadata: serde_json::Value,
}

const FORMAT: &str = "asrpipe-gmm";

/// State GMMs plus log state priors from the training labels: log p(x|s) + log P(s) per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct GmmClassifier {
    /// One diagonal-covariance mixture per tied state.
    pub gmms: StateGmms,
    log_priors: Array1<f32>,
    /// How the model was trained (kept in the metadata file).
    pub config: Option<GmmConfig>,
    /// Free-form description stored with the model (pipeline, state tying, ...).
    pub metadata: serde_json::Value,
}

impl GmmClassifier {
    /// Combine trained GMMs with priors proportional to `state_counts` (every count must be > 0).
    pub fn new(gmms: StateGmms, state_counts: &[f64]) -> Result<Self> {
        if state_counts.len() != gmms.num_states() {
            return Err(Error::invalid(format!(
                "{} state counts for {} states",
                state_counts.len(),
                gmms.num_states()
            )));
        }
        if let Some(s) = state_counts
            .iter()
            .position(|&c| !(c > 0.0 && c.is_finite()))
        {
            return Err(Error::invalid(format!("state {s} has no training frames")));
        }
        let total: f64 = state_counts.iter().sum();
        let log_priors = state_counts
            .iter()
            .map(|&c| (c / total).ln() as f32)
            .collect();
        Ok(GmmClassifier {
            gmms,
            log_priors,
            config: None,
            metadata: serde_json::Value::Null,
        })
    }

    /// Train state GMMs by EM on labelled frames (`u32::MAX` = unlabelled, skipped) and take
    /// the priors from the label counts.
    pub fn train(
        x: ArrayView2<f32>,
        labels: &[u32],
        num_states: usize,
        config: &GmmConfig,
        progress: impl FnMut(&Progress),
    ) -> Result<Self> {
        let data = TrainingFrames::new(x, labels, num_states, config.var_floor)?;
        let gmms = StateGmms::train_on(&data, config, progress)?;
        let mut model = GmmClassifier::new(gmms, &data.state_counts())?;
        model.config = Some(config.clone());
        Ok(model)
    }

    /// Log prior of each tied state, from its frame share in the training labels.
    pub fn log_priors(&self) -> ArrayView1<'_, f32> {
        self.log_priors.view()
    }

    /// Write `<stem>.safetensors` (tensors `means`, `vars` `[Gaussians, d]`, `weights` `[Gaussians]`,
    /// `log_priors` `[states]`) and `<stem>.json` (dimensions, components per state, config).
    /// `path` may name either file or the stem.
    pub fn save(&self, path: &Path) -> Result<()> {
        let (tensors, json) = model_paths(path);
        let g = &self.gmms;
        io::write_tensors(
            &tensors,
            &[
                ("means", g.means.view().into_dyn()),
                ("vars", g.vars.view().into_dyn()),
                ("weights", g.weights.view().into_dyn()),
                ("log_priors", self.log_priors.view().into_dyn()),
            ],
        )?;
        let meta = GmmMeta {
            format: FORMAT.to_string(),
            version: 1,
            input_dim: g.input_dim(),
            num_states: g.num_states(),
            components_per_state: g.components_per_state(),
            config: self.config.clone(),
            metadata: self.metadata.clone(),
        };
        io::write_json(&json, &meta)
    }

    /// Read a model written by [`save`](Self::save).
    pub fn load(path: &Path) -> Result<Self> {
        let (tensors_path, json) = model_paths(path);
        let meta: GmmMeta = io::read_json(&json)?;
        if meta.format != FORMAT {
            return Err(Error::format(
                &json,
                format!("not a GMM model (format {:?})", meta.format),
            ));
        }
        let (d, s) = (meta.input_dim, meta.num_states);
        let g: usize = meta.components_per_state.iter().sum();
        if meta.components_per_state.len() != s {
            return Err(Error::format(
                &json,
                "components_per_state does not list every state",
            ));
        }
        let mut t = io::read_tensors(&tensors_path)?;
        let mut take2 = |name: &str, shape: &[usize]| -> Result<ArrayD2> {
            io::take_finite(&tensors_path, &mut t, name, shape)
        };
        let means = into2(take2("means", &[g, d])?);
        let vars = into2(take2("vars", &[g, d])?);
        let weights = into1(take2("weights", &[g])?);
        let log_priors = into1(take2("log_priors", &[s])?);
        let gmms = StateGmms::new(means, vars, weights, &meta.components_per_state)
            .map_err(|e| Error::format(&tensors_path, e.to_string()))?;
        Ok(GmmClassifier {
            gmms,
            log_priors,
            config: meta.config,
            metadata: meta.metadata,
        })
    }

    /// [`load`](Self::load), then refuse a model trained on features of another dimension.
    pub fn load_for_dim(path: &Path, input_dim: usize) -> Result<Self> {
        let model = Self::load(path)?;
        if model.input_dim() != input_dim {
            return Err(Error::format(
                model_paths(path).1,
                format!(
                    "the model was trained on {}-dimensional features, but these are {input_dim}-dimensional",
                    model.input_dim()
                ),
            ));
        }
        Ok(model)
    }
}

type ArrayD2 = ndarray::ArrayD<f32>;

fn into2(a: ArrayD2) -> Array2<f32> {
    a.into_dimensionality().expect("shape checked on load")
}
fn into1(a: ArrayD2) -> Array1<f32> {
    a.into_dimensionality().expect("shape checked on load")
}

/// `<stem>.safetensors` and `<stem>.json` from a stem or either file name.
pub fn model_paths(path: &Path) -> (PathBuf, PathBuf) {
    let stem = match path.extension().and_then(|e| e.to_str()) {
        Some("safetensors" | "json") => path.with_extension(""),
        _ => path.to_path_buf(),
    };
    let with = |ext: &str| {
        let mut p = stem.clone().into_os_string();
        p.push(".");
        p.push(ext);
        PathBuf::from(p)
    };
    (with("safetensors"), with("json"))
}

impl Classifier for GmmClassifier {
    fn input_dim(&self) -> usize {
        self.gmms.input_dim()
    }
    fn num_classes(&self) -> usize {
        self.gmms.num_states()
    }
    fn num_params(&self) -> usize {
        self.gmms.num_params()
    }
    /// log p(x | state) + log P(state).
    fn log_scores(&self, features: ArrayView2<f32>) -> Result<Array2<f32>> {
        let mut ll = self.gmms.log_likelihoods(features)?;
        ll += &self.log_priors;
        Ok(ll)
    }
}
