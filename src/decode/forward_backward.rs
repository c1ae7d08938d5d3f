//! Forward-backward over an alignment graph: the posterior of every HMM state at every frame given
//! the transcript, the utterance's total log-likelihood over all its paths, and the expected
//! transition counts (HTK HERest's E-step, "embedded re-estimation"). A flat start can train on
//! these soft occupancies instead of on one Viterbi path
//! ([`crate::model::gmm::flat_start::FlatStartConfig`]'s `baum_welch_passes`).
//!
//! Recursions, in the log domain (f64), over emitting nodes `u, v`, non-emitting boundary nodes
//! `b`, arc weights `w` and `a` = acoustic scale:
//!
//! - α_t(v) = a·s_t(v) + logsum over the arcs into v of α_{t-1}(u) + w (emitting sources and the
//!   self-loop) or ε_{t-1}(b) + w (phone entries), where ε_t(b) = logsum over exits u -> b of
//!   α_t(u) + w; at t = 0 only the start's entries count.
//! - β_{T-1}(u) = final(u); β_t(u) = logsum over u's self-loop and arcs of
//!   w + a·s_{t+1}(v) + β_{t+1}(v), exits going through their boundary's entries.
//! - γ_t(u) = α_t(u) + β_t(u) - log p(x), with log p(x) = logsum_u α_{T-1}(u) + final(u).
//!
//! Dense: α of every emitting node at every frame is kept, β for one frame at a time (an
//! alignment graph has a few hundred nodes: 300 frames x 300 nodes is 0.7 MB), no pruning, so the
//! result is exact. An utterance needing more than [`MAX_CELLS`] of α is refused (a long
//! recording should be cut into segments first; Viterbi alignment keeps far less).

use ndarray::ArrayView2;

use super::graph::{Graph, NEW_PHONE};
use crate::model::hmm::TransitionCounts;

/// Most frames x nodes of α one utterance may take (8 bytes each: 512 MiB).
pub const MAX_CELLS: usize = 1 << 26;

/// What forward-backward gives for one utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Occupancy {
    /// `(frame, tied state, posterior)`, frame-major and tied states ascending within a frame;
    /// a tied state read by several nodes gets their sum. Posteriors below the caller's
    /// `min_posterior` are left out, so a frame's may sum to slightly under 1.
    pub entries: Vec<(u32, u32, f32)>,
    /// log p(frames | transcript): every path of the graph, scores scaled by the acoustic scale.
    pub log_likelihood: f64,
}

/// log(e^a + e^b), exact for infinities.
fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        hi
    } else {
        hi + (lo - hi).exp().ln_1p()
    }
}

/// Forward-backward over `graph` for `scores` (frames x tied states, standard layout, finite,
/// at least one frame); expected transitions are added to `counts` per (phone, state). `Ok(None)`
/// when no path of the graph fits the frames; an error when `counts` is over another topology.
pub(crate) fn forward_backward(
    graph: &Graph,
    scores: ArrayView2<f32>,
    acoustic_scale: f32,
    min_posterior: f32,
    counts: &mut TransitionCounts,
) -> crate::error::Result<Option<Occupancy>> {
    let a = acoustic_scale as f64;
    let emit = |t: usize, v: usize| a * scores[[t, graph.leaf[v] as usize]] as f64;
    let (frames, n) = (scores.nrows(), graph.num_emitting());
    let alpha = forward(graph, frames, &emit);
    let last = &alpha[(frames - 1) * n..];
    let total = (0..n).fold(NINF, |acc, u| {
        log_add(acc, last[u] + graph.final_weight[u] as f64)
    });
    if total == NINF {
        return Ok(None);
    }
    // Backward, one frame at a time; γ and the self-loop counts are taken as β becomes known.
    let mut acc = Accumulator::new(n);
    let mut back = Backward::new(graph, total);
    for t in (0..frames).rev() {
        let alpha_t = &alpha[t * n..(t + 1) * n];
        if t + 1 < frames {
            back.step(graph, t, &emit, alpha_t, &mut acc);
        }
        acc.frame(graph, t, alpha_t, &back.beta, total, min_posterior);
    }
    // Built backwards (frames descending, leaves descending within a frame): reversed, in order.
    acc.entries.reverse();
    for u in 0..n {
        let info = graph.info[u];
        // Every visit leaves the state once: by its self-loop or forward (the utterance's last
        // frame counts as a forward step, as in the Viterbi counts).
        counts.add_expected(
            info.phone,
            info.state,
            acc.self_loops[u],
            (acc.occupancy[u] - acc.self_loops[u]).max(0.0),
        )?;
    }
    Ok(Some(Occupancy {
        entries: acc.entries,
        log_likelihood: total,
    }))
}

const NINF: f64 = f64::NEG_INFINITY;

/// α of every emitting node at every frame (frame-major), `emit(t, v)` the scaled score.
fn forward(graph: &Graph, frames: usize, emit: &impl Fn(usize, usize) -> f64) -> Vec<f64> {
    let n = graph.num_emitting();
    let mut alpha = vec![NINF; frames * n];
    // ε of the boundary nodes after the previous frame (the start's before the first).
    let mut eps = vec![NINF; graph.num_nonemitting()];
    eps[graph.start as usize] = 0.0;
    for t in 0..frames {
        let (done, rest) = alpha.split_at_mut(t * n);
        let prev = (t > 0).then(|| &done[(t - 1) * n..]);
        let cur = &mut rest[..n];
        for (v, cur_v) in cur.iter_mut().enumerate() {
            let mut acc = NINF;
            for &(src, w) in
                &graph.in_arcs[graph.in_begin[v] as usize..graph.in_begin[v + 1] as usize]
            {
                let src = (src & !NEW_PHONE) as usize;
                let from = if src < n {
                    prev.map_or(NINF, |p| p[src])
                } else {
                    eps[src - n]
                };
                acc = log_add(acc, from + w as f64);
            }
            *cur_v = acc + emit(t, v);
        }
        eps.fill(NINF);
        for (u, &au) in cur.iter().enumerate() {
            for &(b, w) in exits(graph, u) {
                eps[b as usize] = log_add(eps[b as usize], au + w as f64);
            }
        }
    }
    alpha
}

/// The backward pass: β of the current frame and buffers reused frame to frame.
struct Backward {
    /// log p(x), for the posteriors.
    total: f64,
    /// β of the frame last computed (the last frame's: the final weights).
    beta: Vec<f64>,
    /// β of the frame being built.
    next: Vec<f64>,
    /// Per emitting node v: the emission of the next frame and everything after, seen from an
    /// arc into v.
    ahead: Vec<f64>,
    /// Per boundary node: the same through its entry arcs.
    eps: Vec<f64>,
}

impl Backward {
    fn new(graph: &Graph, total: f64) -> Self {
        Backward {
            total,
            beta: graph.final_weight.iter().map(|&w| w as f64).collect(),
            next: vec![NINF; graph.num_emitting()],
            ahead: vec![NINF; graph.num_emitting()],
            eps: vec![NINF; graph.num_nonemitting()],
        }
    }

    /// β from frame t+1's to frame t's; adds frame t's expected self-loops to `acc`.
    fn step(
        &mut self,
        graph: &Graph,
        t: usize,
        emit: &impl Fn(usize, usize) -> f64,
        alpha_t: &[f64],
        acc: &mut Accumulator,
    ) {
        for (v, x) in self.ahead.iter_mut().enumerate() {
            *x = emit(t + 1, v) + self.beta[v];
        }
        for (b, e) in self.eps.iter_mut().enumerate() {
            let lo = graph.entry_begin[b] as usize;
            let hi = graph.entry_begin[b + 1] as usize;
            *e = graph.entry_arcs[lo..hi].iter().fold(NINF, |a, &(v, w)| {
                log_add(a, w as f64 + self.ahead[v as usize])
            });
        }
        for (u, &a_u) in alpha_t.iter().enumerate() {
            let stay = graph.self_loop[u] as f64 + self.ahead[u];
            acc.self_loops[u] += (a_u + stay - self.total).exp();
            let mut b = stay;
            let (lo, hi) = (
                graph.emit_begin[u] as usize,
                graph.emit_begin[u + 1] as usize,
            );
            for &(v, w) in &graph.emit_arcs[lo..hi] {
                b = log_add(b, w as f64 + self.ahead[(v & !NEW_PHONE) as usize]);
            }
            for &(e, w) in exits(graph, u) {
                b = log_add(b, w as f64 + self.eps[e as usize]);
            }
            self.next[u] = b;
        }
        std::mem::swap(&mut self.beta, &mut self.next);
    }
}

/// What the backward pass collects: per node its occupancy and expected self-loops, and the
/// posterior entries per (frame, tied state).
struct Accumulator {
    self_loops: Vec<f64>,
    occupancy: Vec<f64>,
    entries: Vec<(u32, u32, f32)>,
    by_leaf: Vec<(u32, f64)>,
}

impl Accumulator {
    fn new(n: usize) -> Self {
        Accumulator {
            self_loops: vec![0.0; n],
            occupancy: vec![0.0; n],
            entries: Vec::new(),
            by_leaf: Vec::new(),
        }
    }

    /// Frame t's posteriors γ = α + β - total, summed per tied state (leaves descending), those
    /// of at least `min_posterior` kept.
    fn frame(
        &mut self,
        graph: &Graph,
        t: usize,
        alpha_t: &[f64],
        beta: &[f64],
        total: f64,
        min_posterior: f32,
    ) {
        self.by_leaf.clear();
        for (u, (&a_u, &b_u)) in alpha_t.iter().zip(beta).enumerate() {
            let g = (a_u + b_u - total).exp();
            if g > 0.0 {
                self.occupancy[u] += g;
                self.by_leaf.push((graph.leaf[u], g));
            }
        }
        self.by_leaf
            .sort_unstable_by_key(|&(l, _)| std::cmp::Reverse(l));
        let mut i = 0;
        while i < self.by_leaf.len() {
            let leaf = self.by_leaf[i].0;
            let mut g = 0.0;
            while i < self.by_leaf.len() && self.by_leaf[i].0 == leaf {
                g += self.by_leaf[i].1;
                i += 1;
            }
            if g >= min_posterior as f64 {
                self.entries.push((t as u32, leaf, g.min(1.0) as f32));
            }
        }
    }
}

/// The exit arcs of emitting node `u`.
fn exits(graph: &Graph, u: usize) -> &[(u32, f32)] {
    &graph.exit_arcs[graph.exit_begin[u] as usize..graph.exit_begin[u + 1] as usize]
}
