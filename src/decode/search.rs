//! Time-synchronous Viterbi beam search over a [`Graph`] (Kaldi's `FasterDecoder` scheme), shared
//! by the phone-loop decoder and the aligner.
//!
//! Per frame t: every surviving token of frame t-1 takes its self-loop and its emitting arcs, and
//! every live phone boundary (non-emitting token) its entry arcs, each adding the arc weight and
//! `acoustic_scale x score[t, tied state]`; the best candidate per node is kept. Candidates are
//! dropped on the fly once they fall `beam` below the best seen so far in the frame (the best
//! survivor of t-1 goes first, so the estimate is good from the start). Then the frame is pruned
//! to `beam` below its best and, when more than `max_active` remain, to the `max_active`-th best
//! score (quickselect). Survivors then take their phone exits into the non-emitting boundary
//! nodes, pruned with the same cutoff, which the next frame enters.
//!
//! Busy frames: when more than a quarter of the graph's nodes survived the previous frame (wide
//! beams on confusable scores keep most of a phone-loop graph alive), passing tokens arc by arc
//! costs more than letting every node pull the best of its in-arcs from dense arrays and adding
//! its emission once. Such frames are computed that way. Both ways keep exactly the same
//! survivors (a candidate dropped on the fly is below the frame's final cutoff anyway), so the
//! choice changes speed only.
//!
//! Traceback memory: each survivor of each frame leaves one 8-byte record (its node, a "new phone"
//! bit, and the index of its predecessor's record), so an utterance keeps
//! O(frames x surviving tokens) records, and never the trellis of all nodes x frames: 300 frames
//! with 1,500 survivors each are 3.6 MB. The best final token's chain of records is the path. No
//! allocation per frame: buffers live in [`SearchScratch`] and are reused across utterances.

use ndarray::ArrayView2;

use super::graph::{Graph, NEW_PHONE};

/// "No predecessor" (the start); below the new-phone bit so that flags can be or-ed onto it.
const NO_RECORD: u32 = !NEW_PHONE;

/// Beam and token cap of one search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pruning {
    pub beam: f32,
    pub max_active: usize,
    /// A frame is computed densely (every node pulls from its predecessors) when more than this
    /// fraction of the graph's nodes survived the previous frame; tokens are pushed otherwise.
    pub dense_above: f32,
}

impl Pruning {
    pub fn new(beam: f32, max_active: usize) -> Pruning {
        Pruning {
            beam,
            max_active,
            dense_above: 0.25,
        }
    }
}

/// One traceback record: node (top bit: entered a new phone) and the predecessor's record.
#[derive(Debug, Clone, Copy)]
struct Record {
    node: u32,
    prev: u32,
}

/// Buffers of the search, reused across utterances (one per thread).
#[derive(Debug, Default)]
pub struct SearchScratch {
    /// Per emitting node: best score in the frame being built (`-inf`: not reached).
    next_score: Vec<f32>,
    /// Per emitting node: predecessor record, top bit set when the arc entered a new phone.
    next_prev: Vec<u32>,
    /// Nodes reached in the frame being built.
    next_active: Vec<u32>,
    /// Survivors of the last frame: node, score, record.
    cur: Vec<(u32, f32, u32)>,
    /// Dense frames: score and record of every source (emitting nodes, then non-emitting).
    src_score: Vec<f32>,
    src_rec: Vec<u32>,
    eps_score: Vec<f32>,
    eps_prev: Vec<u32>,
    eps_active: Vec<u32>,
    records: Vec<Record>,
    select: Vec<f32>,
    /// Most tokens alive in any frame of the last search (for diagnostics and benchmarks).
    pub peak_active: usize,
}

/// The best path: the emitting node of every frame, where new phones start, and its score.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BestPath {
    pub nodes: Vec<u32>,
    pub entries: Vec<bool>,
    pub score: f64,
    /// False when no surviving token could end the utterance (the best token is returned).
    pub reached_final: bool,
}

/// Why a search returned no path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoPath {
    /// The utterance has no frames.
    NoFrames,
    /// Every token died (a graph without arcs out of the start).
    Empty,
    /// More than 2^31 traceback records (frames x survivors): cut long recordings into segments.
    TooLong,
}

impl NoPath {
    pub fn message(self) -> &'static str {
        match self {
            NoPath::NoFrames => "no frames to search",
            NoPath::Empty => "the search graph leads nowhere from its start",
            NoPath::TooLong => {
                "too many frames x tokens for the traceback (over 2^31 records): cut the \
                 recording into shorter segments, or lower max_active"
            }
        }
    }
}

/// The best path through `graph` for `scores` (frames x tied states, standard layout; finite).
pub(crate) fn search(
    graph: &Graph,
    scores: ArrayView2<f32>,
    acoustic_scale: f32,
    pruning: Pruning,
    scratch: &mut SearchScratch,
) -> Result<BestPath, NoPath> {
    let frames = scores.nrows();
    if frames == 0 {
        return Err(NoPath::NoFrames);
    }
    let sc = scratch;
    sc.reset(graph);
    let n = graph.num_emitting();
    let mut best_cur = 0usize;
    for t in 0..frames {
        let row = scores.row(t);
        let row = row
            .as_slice()
            .expect("the caller passes scores in standard layout");
        let best = if sc.cur.len() as f32 > pruning.dense_above * n as f32 {
            sc.pull_frame(graph, row, acoustic_scale, pruning.beam)
        } else {
            sc.push_frame(graph, row, acoustic_scale, pruning.beam, best_cur)
        };
        sc.eps_active.clear();
        if sc.next_active.is_empty() {
            return Err(NoPath::Empty);
        }
        if sc.records.len() + sc.next_active.len() >= NO_RECORD as usize {
            return Err(NoPath::TooLong);
        }
        let cutoff;
        (cutoff, best_cur) = sc.prune(best, pruning);
        // Phone exits into the boundaries, for the next frame.
        if t + 1 < frames {
            sc.exits(graph, cutoff);
        }
    }
    Ok(sc.traceback(frames, graph, best_cur))
}

impl SearchScratch {
    /// Empty buffers sized for `graph`, the start boundary the only live token.
    fn reset(&mut self, graph: &Graph) {
        let n = graph.num_emitting();
        self.next_score.clear();
        self.next_score.resize(n, f32::NEG_INFINITY);
        self.next_prev.clear();
        self.next_prev.resize(n, NO_RECORD);
        self.next_active.clear();
        self.eps_score.clear();
        self.eps_score
            .resize(graph.num_nonemitting(), f32::NEG_INFINITY);
        self.eps_prev.clear();
        self.eps_prev.resize(graph.num_nonemitting(), NO_RECORD);
        self.eps_active.clear();
        self.records.clear();
        self.cur.clear();
        self.peak_active = 0;

        self.eps_score[graph.start as usize] = 0.0;
        self.eps_active.push(graph.start);
    }

    /// A busy frame (emission scores `row`): every node takes the best of its in-arcs, no token
    /// lists. The frame's best score.
    fn pull_frame(&mut self, graph: &Graph, row: &[f32], ac: f32, beam: f32) -> f32 {
        let sc = self;
        let n = graph.num_emitting();
        let mut best = f32::NEG_INFINITY;
        sc.src_score.clear();
        sc.src_score
            .resize(n + graph.num_nonemitting(), f32::NEG_INFINITY);
        sc.src_rec.resize(n + graph.num_nonemitting(), NO_RECORD);
        for &(u, s, rec) in &sc.cur {
            sc.src_score[u as usize] = s;
            sc.src_rec[u as usize] = rec;
        }
        for &b in &sc.eps_active {
            let bi = b as usize;
            sc.src_score[n + bi] = sc.eps_score[bi];
            sc.src_rec[n + bi] = sc.eps_prev[bi];
            sc.eps_score[bi] = f32::NEG_INFINITY;
        }
        for v in 0..n {
            let arcs = &graph.in_arcs[graph.in_begin[v] as usize..graph.in_begin[v + 1] as usize];
            let src_score = &sc.src_score;
            let (top, arg) =
                arcs.iter()
                    .fold((f32::NEG_INFINITY, 0u32), |(top, arg), &(src, w)| {
                        let c = src_score[(src & !NEW_PHONE) as usize] + w;
                        if c > top { (c, src) } else { (top, arg) }
                    });
            if top == f32::NEG_INFINITY {
                continue;
            }
            let score = top + ac * row[graph.leaf[v] as usize];
            if score < best - beam {
                continue;
            }
            best = best.max(score);
            sc.next_score[v] = score;
            sc.next_prev[v] = sc.src_rec[(arg & !NEW_PHONE) as usize] | (arg & NEW_PHONE);
            sc.next_active.push(v as u32);
        }
        best
    }

    /// A frame (emission scores `row`) by passing tokens: the survivors' self-loops and
    /// emitting arcs, the best survivor (`best_cur`) first, then the phone entries from the live
    /// boundaries. The frame's best score.
    fn push_frame(
        &mut self,
        graph: &Graph,
        row: &[f32],
        ac: f32,
        beam: f32,
        best_cur: usize,
    ) -> f32 {
        let sc = self;
        let mut best = f32::NEG_INFINITY;
        let (next_score, next_prev, next_active) =
            (&mut sc.next_score, &mut sc.next_prev, &mut sc.next_active);
        // `prev` carries the new-phone flag in its top bit.
        let mut relax = |node: u32, score: f32, prev: u32, best: &mut f32| {
            if score < *best - beam {
                return;
            }
            if score > *best {
                *best = score;
            }
            let v = node as usize;
            let old = next_score[v];
            if old == f32::NEG_INFINITY {
                next_active.push(node);
            }
            if score > old {
                next_score[v] = score;
                next_prev[v] = prev;
            }
        };

        // Emitting tokens, the best first so that the running cutoff is tight from the start.
        let n_cur = sc.cur.len();
        for k in 0..n_cur {
            let i = match k {
                0 => best_cur,
                k if k == best_cur => 0,
                k => k,
            };
            let (u, s, rec) = sc.cur[i];
            let ui = u as usize;
            relax(
                u,
                s + graph.self_loop[ui] + ac * row[graph.leaf[ui] as usize],
                rec,
                &mut best,
            );
            let arcs =
                &graph.emit_arcs[graph.emit_begin[ui] as usize..graph.emit_begin[ui + 1] as usize];
            for &(to, w) in arcs {
                let v = to & !NEW_PHONE;
                relax(
                    v,
                    s + w + ac * row[graph.leaf[v as usize] as usize],
                    rec | (to & NEW_PHONE),
                    &mut best,
                );
            }
        }
        // Phone entries from the boundaries reached after the previous frame.
        for &b in &sc.eps_active {
            let bi = b as usize;
            let (s, prev) = (sc.eps_score[bi], sc.eps_prev[bi]);
            sc.eps_score[bi] = f32::NEG_INFINITY;
            let arcs = &graph.entry_arcs
                [graph.entry_begin[bi] as usize..graph.entry_begin[bi + 1] as usize];
            for &(v, w) in arcs {
                relax(
                    v,
                    s + w + ac * row[graph.leaf[v as usize] as usize],
                    prev | NEW_PHONE,
                    &mut best,
                );
            }
        }
        best
    }

    /// Prune the frame just built (its best score `best`): beam, then the token cap. The
    /// survivors become the current tokens, each leaving a traceback record. The cutoff used
    /// and the index of the best survivor.
    fn prune(&mut self, best: f32, pruning: Pruning) -> (f32, usize) {
        let sc = self;
        let mut cutoff = best - pruning.beam;
        if sc.next_active.len() > pruning.max_active {
            sc.select.clear();
            sc.select
                .extend(sc.next_active.iter().map(|&v| sc.next_score[v as usize]));
            let k = pruning.max_active.max(1) - 1;
            let (_, kth, _) = sc.select.select_nth_unstable_by(k, |a, b| b.total_cmp(a));
            cutoff = cutoff.max(*kth);
        }
        sc.cur.clear();
        let mut best_cur = 0;
        let mut best_score = f32::NEG_INFINITY;
        for &v in &sc.next_active {
            let vi = v as usize;
            let score = sc.next_score[vi];
            sc.next_score[vi] = f32::NEG_INFINITY;
            if score >= cutoff {
                if score > best_score {
                    best_score = score;
                    best_cur = sc.cur.len();
                }
                let prev = sc.next_prev[vi];
                let rec = sc.records.len() as u32;
                sc.records.push(Record {
                    node: v | (prev & NEW_PHONE),
                    prev: prev & !NEW_PHONE,
                });
                sc.cur.push((v, score, rec));
            }
        }
        sc.next_active.clear();
        sc.peak_active = sc.peak_active.max(sc.cur.len());
        (cutoff, best_cur)
    }

    /// The current tokens' phone exits into the boundaries the next frame enters, pruned with
    /// `cutoff`.
    fn exits(&mut self, graph: &Graph, cutoff: f32) {
        let sc = self;
        for &(u, s, rec) in &sc.cur {
            let ui = u as usize;
            let arcs =
                &graph.exit_arcs[graph.exit_begin[ui] as usize..graph.exit_begin[ui + 1] as usize];
            for &(b, w) in arcs {
                let cand = s + w;
                let bi = b as usize;
                if cand >= cutoff && cand > sc.eps_score[bi] {
                    if sc.eps_score[bi] == f32::NEG_INFINITY {
                        sc.eps_active.push(b);
                    }
                    sc.eps_score[bi] = cand;
                    sc.eps_prev[bi] = rec;
                }
            }
        }
    }

    /// The path of the best token that may end the utterance, else of the best token
    /// (`best_cur`), after the last of `frames` frames.
    fn traceback(&self, frames: usize, graph: &Graph, best_cur: usize) -> BestPath {
        let sc = self;
        let mut end: Option<(f32, u32)> = None;
        for &(u, s, rec) in &sc.cur {
            let f = graph.final_weight[u as usize];
            if f > f32::NEG_INFINITY && end.is_none_or(|(b, _)| s + f > b) {
                end = Some((s + f, rec));
            }
        }
        let reached_final = end.is_some();
        let (score, mut rec) = match end {
            Some(e) => e,
            None => {
                let (_, s, rec) = sc.cur[best_cur];
                (s, rec)
            }
        };
        let mut nodes = Vec::with_capacity(frames);
        let mut entries = Vec::with_capacity(frames);
        while rec != NO_RECORD {
            let r = sc.records[rec as usize];
            nodes.push(r.node & !NEW_PHONE);
            entries.push(r.node & NEW_PHONE != 0);
            rec = r.prev;
        }
        nodes.reverse();
        entries.reverse();
        debug_assert_eq!(nodes.len(), frames);
        BestPath {
            nodes,
            entries,
            score: score as f64,
            reached_final,
        }
    }
}
