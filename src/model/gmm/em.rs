//! Expectation-maximisation for the state GMMs, with initialisation by mixture splitting (HTK
//! `HHEd MU`, Kaldi `gmm-mixup`) or k-means.
//!
//! Each labelled frame belongs to one state, so the E-step scores a frame only against its own
//! state's Gaussians. Frames are grouped by state in blocks; per block the scores are one matrix
//! product [x², x, 1] · W_s, the posteriors a log-sum-exp per row, and the statistics
//! Σγ x², Σγ x, Σγ all at once a second product γᵀ · [x², x, 1]. Block results are summed in f64 in
//! a fixed order, so a run gives the same numbers whatever the number of threads.
//!
//! Minimum occupancy: a Gaussian whose occupancy falls below `min_count` frames (or weight below
//! `min_weight`) is dropped and replaced by splitting the heaviest Gaussian of its state, so
//! every state keeps its count. To make that rare, a state with n frames is given at most
//! n / (2 min_count) Gaussians (Kaldi: gmm-mixup --min-count 20 vs gmm-est's occupancy 10).

use ndarray::{Array1, Array2, ArrayView2, s};
use rayon::prelude::*;

use super::kmeans::kmeans;
use super::linalg::{Parallelism, exp_shifted, matmul_into};
use super::mixture::Mixture;
use super::{BLOCK, GmmConfig, GmmInit, StateGmms, extend_frame};
use crate::error::{Error, Result};

/// Fixed number of work groups: fixes the order of the f64 sums, independent of thread count.
const GROUPS: usize = 32;

/// Reported after every EM iteration.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// 1-based iteration, counting split-round iterations.
    pub iteration: usize,
    /// Iterations this training run will do.
    pub total: usize,
    /// Gaussians over all states during this iteration.
    pub gaussians: usize,
    /// Average log-likelihood per labelled frame under the parameters this iteration started
    /// from (the E-step's by-product, as HTK HERest reports it).
    pub log_likelihood: f64,
    /// Splits or replacements happened since the previous report: only then may the
    /// log-likelihood go down.
    pub structure_changed: bool,
}

/// Labelled frames grouped by state, built once and reused by every iteration.
pub struct TrainingFrames<'a> {
    x: ArrayView2<'a, f32>,
    by_state: Vec<Vec<u32>>,
    /// Soft labels ([`TrainingFrames::weighted`]): the weight of each entry of `by_state`.
    weights: Option<Vec<Vec<f32>>>,
    /// (state, start, end) into `by_state[state]`, at most BLOCK frames each, state-major.
    items: Vec<(usize, usize, usize)>,
    var_floor: Array1<f64>,
    /// Frames in all (soft labels: the sum of their weights).
    frames: f64,
}

impl<'a> TrainingFrames<'a> {
    /// `labels[i]` is frame i's state, or `u32::MAX` to skip it. Every state needs a frame.
    /// The variance floor is `var_floor` times the per-dimension variance of the labelled frames.
    pub fn new(
        x: ArrayView2<'a, f32>,
        labels: &[u32],
        num_states: usize,
        var_floor: f32,
    ) -> Result<Self> {
        if labels.len() != x.nrows() {
            return Err(Error::invalid(format!(
                "{} labels for {} frames",
                labels.len(),
                x.nrows()
            )));
        }
        let entries = labels
            .iter()
            .enumerate()
            .filter(|&(_, &l)| l != u32::MAX)
            .map(|(i, &l)| (i as u32, l, 1.0));
        Self::build(x, entries, num_states, var_floor, false)
    }

    /// Soft labels (Baum-Welch): `(frame, state, weight)` entries, a frame appearing once per
    /// state it shares; weights in (0, 1]. Every state needs some weight; the variance floor is
    /// taken from the weighted frames. EM re-estimates an existing model with them
    /// ([`StateGmms::em_step`]); initialising one needs hard labels.
    pub fn weighted(
        x: ArrayView2<'a, f32>,
        entries: &[(u32, u32, f32)],
        num_states: usize,
        var_floor: f32,
    ) -> Result<Self> {
        if let Some(&(i, s, w)) = entries.iter().find(|e| !(e.2 > 0.0 && e.2 <= 1.0)) {
            return Err(Error::invalid(format!(
                "frame {i} has weight {w} for state {s}; weights must be in (0, 1]"
            )));
        }
        if let Some(&(i, ..)) = entries.iter().find(|e| e.0 as usize >= x.nrows()) {
            return Err(Error::invalid(format!(
                "a soft label names frame {i}, but there are {} frames",
                x.nrows()
            )));
        }
        Self::build(x, entries.iter().copied(), num_states, var_floor, true)
    }

    fn build(
        x: ArrayView2<'a, f32>,
        entries: impl Iterator<Item = (u32, u32, f32)>,
        num_states: usize,
        var_floor: f32,
        soft: bool,
    ) -> Result<Self> {
        if !(var_floor >= 0.0 && var_floor.is_finite()) {
            return Err(Error::invalid("var_floor must be a finite number >= 0"));
        }
        let d = x.ncols();
        let mut by_state = vec![Vec::new(); num_states];
        let mut weights = vec![Vec::new(); if soft { num_states } else { 0 }];
        let mut sum = Array1::<f64>::zeros(d);
        let mut sum_sq = Array1::<f64>::zeros(d);
        let mut checked = u32::MAX;
        let mut frames = 0.0;
        for (i, l, w) in entries {
            let s = l as usize;
            if s >= num_states {
                return Err(Error::invalid(format!(
                    "frame {i} has state {l}, but there are {num_states} states"
                )));
            }
            let row = x.row(i as usize);
            if checked != i {
                if row.iter().any(|v| !v.is_finite()) {
                    return Err(Error::invalid(format!("frame {i} has a non-finite value")));
                }
                checked = i;
            }
            by_state[s].push(i);
            if soft {
                weights[s].push(w);
            }
            let w = w as f64;
            frames += w;
            for (j, &v) in row.iter().enumerate() {
                sum[j] += w * v as f64;
                sum_sq[j] += w * v as f64 * v as f64;
            }
        }
        if let Some(s) = by_state.iter().position(|f| f.is_empty()) {
            return Err(Error::invalid(format!(
                "state {s} has no labelled frames; every state needs training data"
            )));
        }
        let n = frames;
        let var_floor = Array1::from_shape_fn(d, |j| {
            let var = (sum_sq[j] / n - (sum[j] / n).powi(2)).max(0.0);
            // A constant dimension still needs a positive variance.
            (var_floor as f64 * var).max(1e-10)
        });
        let mut items = Vec::new();
        for (s, f) in by_state.iter().enumerate() {
            items.extend(
                (0..f.len())
                    .step_by(BLOCK)
                    .map(|a| (s, a, (a + BLOCK).min(f.len()))),
            );
        }
        Ok(TrainingFrames {
            x,
            by_state,
            weights: soft.then_some(weights),
            items,
            var_floor,
            frames,
        })
    }

    /// Labelled frames per state (soft labels: the sum of their weights).
    pub fn state_counts(&self) -> Vec<f64> {
        match &self.weights {
            None => self.by_state.iter().map(|f| f.len() as f64).collect(),
            Some(w) => w
                .iter()
                .map(|w| w.iter().map(|&x| x as f64).sum())
                .collect(),
        }
    }

    /// Labelled frames in all (soft labels: the sum of their weights).
    pub fn num_frames(&self) -> f64 {
        self.frames
    }

    fn state_frames(&self, s: usize) -> Array2<f32> {
        let f = &self.by_state[s];
        Array2::from_shape_fn((f.len(), self.x.ncols()), |(i, j)| {
            self.x[[f[i] as usize, j]]
        })
    }
}

fn assemble(mixes: &[Mixture]) -> Result<StateGmms> {
    let g: usize = mixes.iter().map(Mixture::len).sum();
    let d = mixes[0].means[0].len();
    let mut means = Array2::zeros((g, d));
    let mut vars = Array2::zeros((g, d));
    let mut weights = Array1::zeros(g);
    let mut c = 0;
    for m in mixes {
        let total: f64 = m.weights.iter().sum();
        for k in 0..m.len() {
            means.row_mut(c).assign(
                &m.means[k]
                    .iter()
                    .map(|&v| v as f32)
                    .collect::<Array1<f32>>(),
            );
            vars.row_mut(c)
                .assign(&m.vars[k].iter().map(|&v| v as f32).collect::<Array1<f32>>());
            weights[c] = (m.weights[k] / total) as f32;
            c += 1;
        }
    }
    let comps: Vec<usize> = mixes.iter().map(Mixture::len).collect();
    StateGmms::new(means, vars, weights, &comps)
}

fn check_config(cfg: &GmmConfig) -> Result<()> {
    if cfg.gaussians_per_state == 0 {
        return Err(Error::invalid("gaussians_per_state must be at least 1"));
    }
    if !(cfg.min_count >= 0.0 && cfg.min_count.is_finite()) {
        return Err(Error::invalid("min_count must be a finite number >= 0"));
    }
    if !(0.0..1.0).contains(&cfg.min_weight) {
        return Err(Error::invalid("min_weight must be in [0, 1)"));
    }
    Ok(())
}

impl StateGmms {
    /// Train one GMM per state by EM (see [`GmmConfig`]); `progress` is called after every
    /// iteration.
    pub fn train(
        x: ArrayView2<f32>,
        labels: &[u32],
        num_states: usize,
        cfg: &GmmConfig,
        progress: impl FnMut(&Progress),
    ) -> Result<StateGmms> {
        let data = TrainingFrames::new(x, labels, num_states, cfg.var_floor)?;
        Self::train_on(&data, cfg, progress)
    }

    /// [`train`](Self::train) on frames already grouped (the floor comes from `data`).
    pub fn train_on(
        data: &TrainingFrames,
        cfg: &GmmConfig,
        mut progress: impl FnMut(&Progress),
    ) -> Result<StateGmms> {
        check_config(cfg)?;
        if data.weights.is_some() {
            return Err(Error::invalid(
                "a GMM is initialised from hard labels; soft labels re-estimate one (em_step)",
            ));
        }
        let targets: Vec<usize> = data
            .by_state
            .iter()
            .map(|f| {
                let cap = if cfg.min_count > 0.0 {
                    (f.len() as f64 / (2.0 * cfg.min_count as f64)).floor() as usize
                } else {
                    f.len()
                };
                cfg.gaussians_per_state.min(cap.max(1))
            })
            .collect();
        let (mut mixes, rounds) = match cfg.init {
            GmmInit::Split => {
                let mixes: Vec<Mixture> = (0..data.by_state.len())
                    .into_par_iter()
                    .map(|s| kmeans(data.state_frames(s).view(), 1, 0, 0, &data.var_floor))
                    .collect();
                let most = *targets.iter().max().unwrap();
                (mixes, most.next_power_of_two().trailing_zeros() as usize)
            }
            GmmInit::Kmeans => {
                let mixes = (0..data.by_state.len())
                    .into_par_iter()
                    .map(|s| {
                        let seed = cfg.seed ^ (s as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                        let x = data.state_frames(s);
                        kmeans(
                            x.view(),
                            targets[s],
                            cfg.kmeans_iterations,
                            seed,
                            &data.var_floor,
                        )
                    })
                    .collect();
                (mixes, 0)
            }
        };
        let total = rounds * cfg.split_iterations + cfg.iterations;
        let mut model = assemble(&mixes)?;
        let mut it = 0;
        let mut changed = true;
        let mut iterate = |model: &mut StateGmms, mixes: &mut Vec<Mixture>, changed: &mut bool| {
            let (next, ll, replaced) = model.em_mixtures(data, cfg);
            *mixes = next;
            *model = assemble(mixes)?;
            it += 1;
            progress(&Progress {
                iteration: it,
                total,
                gaussians: model.num_gaussians(),
                log_likelihood: ll,
                structure_changed: *changed,
            });
            *changed = replaced > 0;
            Result::Ok(ll)
        };
        for _ in 0..rounds {
            for (m, &t) in mixes.iter_mut().zip(&targets) {
                let want = (2 * m.len()).min(t);
                while m.len() < want {
                    m.split_heaviest();
                }
            }
            model = assemble(&mixes)?;
            changed = true;
            for _ in 0..cfg.split_iterations {
                iterate(&mut model, &mut mixes, &mut changed)?;
            }
        }
        // Converged: two iterations in a row on the same structure gain less than the tolerance.
        let mut last: Option<f64> = None;
        for _ in 0..cfg.iterations {
            let fixed = !changed;
            let ll = iterate(&mut model, &mut mixes, &mut changed)?;
            if let Some(prev) = last
                && fixed
                && cfg.tolerance > 0.0
                && ll - prev < f64::from(cfg.tolerance)
            {
                break;
            }
            last = Some(ll);
        }
        Ok(model)
    }

    /// One EM iteration from this model: the re-estimated model and the average log-likelihood
    /// per frame under this one.
    pub fn em_step(&self, data: &TrainingFrames, cfg: &GmmConfig) -> Result<(StateGmms, f64)> {
        check_config(cfg)?;
        self.check_dim(data.x.ncols())?;
        if data.by_state.len() != self.num_states() {
            return Err(Error::invalid(format!(
                "data has {} states, the model {}",
                data.by_state.len(),
                self.num_states()
            )));
        }
        let (mixes, ll, _) = self.em_mixtures(data, cfg);
        Ok((assemble(&mixes)?, ll))
    }

    /// E-step and M-step: new mixtures, log-likelihood per frame, Gaussians replaced.
    fn em_mixtures(&self, data: &TrainingFrames, cfg: &GmmConfig) -> (Vec<Mixture>, f64, usize) {
        let (stats, ll) = self.accumulate(data);
        let mut replaced = 0;
        let mixes = (0..self.num_states())
            .map(|s| {
                let (m, r) = self.maximise(s, &stats, data, cfg);
                replaced += r;
                m
            })
            .collect();
        (mixes, ll / data.frames, replaced)
    }

    /// Σγ[x², x, 1] per Gaussian (Gaussians x (2d + 1), centred frames) and the total
    /// log-likelihood.
    fn accumulate(&self, data: &TrainingFrames) -> (Array2<f64>, f64) {
        let d = self.input_dim();
        let e = 2 * d + 1;
        let max_k = (0..self.num_states())
            .map(|s| self.components(s).len())
            .max()
            .unwrap();
        let per_group = data.items.len().div_ceil(GROUPS).max(1);
        let center = self.center().to_vec();
        let parts: Vec<(usize, Array2<f64>, f64)> = data
            .items
            .par_chunks(per_group)
            .map(|items| {
                let first = self.components(items[0].0).start;
                let last = self.components(items[items.len() - 1].0).end;
                let mut acc = Array2::<f64>::zeros((last - first, e));
                let mut ext = Array2::<f32>::zeros((BLOCK, e));
                let mut post = Array2::<f32>::zeros((BLOCK, max_k));
                let mut part = Array2::<f32>::zeros((max_k, e));
                let mut ll = 0.0f64;
                for &(s, a, b) in items {
                    let rows = b - a;
                    let comps = self.components(s);
                    let k = comps.len();
                    let mut ext = ext.slice_mut(s![..rows, ..]);
                    for (&f, er) in data.by_state[s][a..b].iter().zip(ext.rows_mut()) {
                        let er = er.into_slice().expect("scratch is contiguous");
                        extend_frame(data.x.row(f as usize), &center, er);
                    }
                    let mut post = post.slice_mut(s![..rows, ..k]);
                    let w = self.score_columns(s);
                    matmul_into(ext.view(), w, post.view_mut(), false, Parallelism::None);
                    let weights = data.weights.as_ref().map(|w| &w[s][a..b]);
                    for (i, mut row) in post.rows_mut().into_iter().enumerate() {
                        let row = row.as_slice_mut().expect("scratch rows are contiguous");
                        let frame_ll = posteriors_in_place(row);
                        match weights {
                            None => ll += frame_ll,
                            Some(w) => {
                                row.iter_mut().for_each(|p| *p *= w[i]);
                                ll += w[i] as f64 * frame_ll;
                            }
                        }
                    }
                    let mut part = part.slice_mut(s![..k, ..]);
                    matmul_into(
                        post.t(),
                        ext.view(),
                        part.view_mut(),
                        false,
                        Parallelism::None,
                    );
                    let mut dst = acc.slice_mut(s![comps.start - first..comps.end - first, ..]);
                    dst.zip_mut_with(&part, |a, &p| *a += p as f64);
                }
                (first, acc, ll)
            })
            .collect();
        let mut stats = Array2::<f64>::zeros((self.num_gaussians(), e));
        let mut ll = 0.0;
        for (first, acc, l) in parts {
            let mut dst = stats.slice_mut(s![first..first + acc.nrows(), ..]);
            dst += &acc;
            ll += l;
        }
        (stats, ll)
    }

    /// M-step for state `s`: ML means and floored variances, weights from occupancies; returns
    /// the mixture and how many Gaussians were replaced for too little occupancy.
    fn maximise(
        &self,
        s: usize,
        stats: &Array2<f64>,
        data: &TrainingFrames,
        cfg: &GmmConfig,
    ) -> (Mixture, usize) {
        let d = self.input_dim();
        let comps = self.components(s);
        let k = comps.len();
        let occ = |c: usize| stats[[c, 2 * d]];
        let total: f64 = comps.clone().map(occ).sum();
        let mut keep: Vec<usize> = comps
            .clone()
            .filter(|&c| {
                k == 1
                    || (occ(c) > 0.0
                        && occ(c) >= cfg.min_count as f64
                        && occ(c) >= cfg.min_weight as f64 * total)
            })
            .collect();
        if keep.is_empty() {
            keep.push(
                comps
                    .clone()
                    .max_by(|&a, &b| occ(a).total_cmp(&occ(b)))
                    .unwrap(),
            );
        }
        let mut mix = Mixture {
            weights: Vec::with_capacity(k),
            means: Vec::with_capacity(k),
            vars: Vec::with_capacity(k),
        };
        for &c in &keep {
            let n = occ(c);
            let mut mean = vec![0.0; d];
            let mut var = vec![0.0; d];
            for j in 0..d {
                let m = stats[[c, d + j]] / n;
                var[j] = (stats[[c, j]] / n - m * m).max(data.var_floor[j]);
                mean[j] = m + self.center()[j] as f64;
            }
            mix.weights.push(n / total);
            mix.means.push(mean);
            mix.vars.push(var);
        }
        let replaced = k - keep.len();
        while mix.len() < k {
            mix.split_heaviest();
        }
        (mix, replaced)
    }
}

/// Turn one frame's weighted log densities into posteriors in place; returns the frame's
/// log-likelihood (log-sum-exp).
fn posteriors_in_place(row: &mut [f32]) -> f64 {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        // Not reachable with finite frames and parameters; share the frame evenly.
        let p = 1.0 / row.len() as f32;
        row.fill(p);
        return f64::NEG_INFINITY;
    }
    let sum = exp_shifted(row, max);
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
    max as f64 + (sum as f64).ln()
}

impl StateGmms {
    /// Grow the mixtures by splitting (HTK `HHEd MU`, Kaldi `gmm-mixup`): state `s` ends with
    /// `max(its count, targets[s])` Gaussians, its heaviest split first. Never removes one. The
    /// model between EM passes of a training that also realigns (a flat start).
    pub fn mix_up(&self, targets: &[usize]) -> Result<StateGmms> {
        if targets.len() != self.num_states() {
            return Err(Error::invalid(format!(
                "{} mix-up targets for {} states",
                targets.len(),
                self.num_states()
            )));
        }
        if let Some(&t) = targets
            .iter()
            .find(|&&t| t > super::MAX_GAUSSIANS_PER_STATE)
        {
            return Err(Error::invalid(format!(
                "mix-up target {t} exceeds {} Gaussians per state",
                super::MAX_GAUSSIANS_PER_STATE
            )));
        }
        let mixes: Vec<Mixture> = (0..self.num_states())
            .map(|s| {
                let r = self.components(s);
                let row = |a: &Array2<f32>, k: usize| a.row(k).iter().map(|&v| v as f64).collect();
                let mut m = Mixture {
                    weights: r.clone().map(|k| self.weights[k] as f64).collect(),
                    means: r.clone().map(|k| row(&self.means, k)).collect(),
                    vars: r.map(|k| row(&self.vars, k)).collect(),
                };
                while m.len() < targets[s] {
                    m.split_heaviest();
                }
                m
            })
            .collect();
        assemble(&mixes)
    }
}
