//! Phone recognition: Viterbi beam search over a loop of all phones with the bigram LM, an LM
//! weight, a phone insertion penalty and the acoustic scale (Kaldi's TIMIT recipe decodes this way
//! with an HCLG built from the phone bigram).
//!
//! Path score (natural logs; what the search maximises and [`Decoded::score`] reports):
//!
//! ```text
//! acoustic_scale x sum_t score[t, tied state at t]
//!   + transition_scale x sum (log self-loop | log forward, the last phone's exit included)
//!   + lm_weight x (log P(p1 | <s>) + sum_k log P(p_k | p_k-1) + log P(</s> | p_K))
//!   + insertion_penalty x K
//! ```
//!
//! Context dependence. The tied state of a phone's states depends on its left AND right phone, so
//! the right context is hypothesised when a phone is entered, and it commits the next phone. The
//! graph holds, for every (left, centre) pair, a prefix tree over the possible right contexts:
//! at each state, right contexts that still share the same tied states share one node, and the
//! tree branches where a state's tied state starts to depend on the right phone (so a token is
//! multiplied only where the tying makes it differ). Nodes with the same future (same phone,
//! state, tied state and subtree) are merged across left contexts, which is exact Viterbi
//! recombination. A right context of `</s>` (the utterance ends after the phone) looks up its tied
//! states with `sil`, as the frame labels do, and is the only way to end; the first phone's left
//! context is `sil` likewise. With a context-independent tying all of this collapses to one chain
//! of states per phone, built once ([`ContextTable::is_context_independent`]).
//!
//! LM look-ahead: the bigram log-probability of the next phone is known once the right context is
//! hypothesised, so each node carries the best LM term over the right contexts it still covers,
//! pushed forward from the phone's entry and corrected along the tree and at the exit. The path
//! score is unchanged; pruning sees the LM a phone early.
//!
//! Phone boundaries: a phone's exits into a next phone `r` meet in one non-emitting node per
//! (phone, `r`) pair, which then enters the roots of `r`'s tree, so the best exit is found once.
//! Where that saves nothing (one root, or one exit), the exit arcs go straight to the roots.
//!
//! Graph size: with the 48 TIMIT phones, a monophone tying gives 144 emitting nodes and 2,448
//! arcs; a tree-like tying of 2,000 tied states about 1,900 nodes and 9,000 arcs
//! (`examples/bench_decode`). [`PhoneLoop::fst_text`] exports the graph for OpenFst / Kaldi.

use ndarray::ArrayView2;

use super::graph::{Graph, GraphBuilder, NodeInfo};
use super::lm::PhoneBigram;
use super::path::{FrameState, PhoneSpan, frames_and_spans};
use super::scores::check_scores;
use super::search::{Pruning, SearchScratch, search};
use crate::error::{Error, Result};
use crate::model::hmm::{ContextTable, Transitions};
use crate::options;
use std::collections::HashMap;

options! {
    /// Phone-loop decoding: scales, penalties and pruning.
    pub struct DecodeConfig {
        /// Scale on the acoustic scores (Kaldi's --acoustic-scale 0.1).
        acoustic_scale: f32 = 0.1,
        /// Scale on transition log-probabilities (Kaldi's --self-loop-scale 0.1, which for this topology scales every transition).
        transition_scale: f32 = 0.1,
        /// Weight of the phone bigram's log-probabilities.
        lm_weight: f32 = 1.0,
        /// Added to the log score of every phone entered (negative: fewer phones, like HTK's -p).
        insertion_penalty: f32 = 0.0,
        /// Tokens further than this below the frame's best are dropped (scaled log units; Kaldi's decode.sh: 13).
        beam: f32 = 13.0,
        /// Most tokens kept per frame (Kaldi's decode.sh: 7000).
        max_active: usize = 7000,
        /// Scale on the log state priors subtracted from DNN log posteriors (hybrid_scores; GMM scores ignore it).
        prior_scale: f32 = 1.0,
    }
    patch DecodePatch;
}

impl DecodeConfig {
    /// Check value ranges; the error names the option and the allowed range.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: String| Err(Error::invalid(format!("decode options: {what}")));
        let positive = [("acoustic_scale", self.acoustic_scale), ("beam", self.beam)];
        for (name, x) in positive {
            if !(x > 0.0 && x.is_finite()) {
                return bad(format!("{name} must be a number > 0, got {x}"));
            }
        }
        let non_negative = [
            ("transition_scale", self.transition_scale),
            ("lm_weight", self.lm_weight),
            ("prior_scale", self.prior_scale),
        ];
        for (name, x) in non_negative {
            if !(x >= 0.0 && x.is_finite()) {
                return bad(format!("{name} must be a number >= 0, got {x}"));
            }
        }
        if !self.insertion_penalty.is_finite() {
            return bad(format!(
                "insertion_penalty must be a finite number, got {}",
                self.insertion_penalty
            ));
        }
        if self.max_active == 0 {
            return bad("max_active must be at least 1, got 0".into());
        }
        Ok(())
    }
}

/// A decoded utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The recognised phones (48-set ids) with their frames.
    pub phones: Vec<PhoneSpan>,
    /// The state of every frame on the best path.
    pub frames: Vec<FrameState>,
    /// The best path's score (see the module comment).
    pub score: f64,
    /// False when no surviving token could end the utterance and the best partial path is
    /// returned instead (Kaldi's `--allow-partial`); the score then lacks the end terms.
    pub reached_final: bool,
}

impl Decoded {
    /// The recognised phone ids in order.
    pub fn phone_ids(&self) -> Vec<u16> {
        self.phones.iter().map(|s| s.phone).collect()
    }
}

/// The phone-loop decoding graph for one model and one set of options; immutable and shared by
/// threads (each brings its own [`SearchScratch`]).
#[derive(Debug, Clone)]
pub struct PhoneLoop {
    graph: Graph,
    acoustic_scale: f32,
    pruning: Pruning,
    num_leaves: usize,
    context_independent: bool,
    phones: Vec<u16>,
}

/// Sizes of a built graph (for reports and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraphSize {
    /// Emitting nodes (HMM state instances, each reading one tied state's score).
    pub emitting: usize,
    /// Non-emitting nodes (phone boundaries and the start).
    pub boundaries: usize,
    /// Arcs of all kinds (within phones, phone exits, phone entries).
    pub arcs: usize,
}

impl PhoneLoop {
    /// Build the graph. `ctx`, `trans` and `lm` must be over the same phone list.
    pub fn build(
        ctx: &ContextTable,
        trans: &Transitions,
        lm: &PhoneBigram,
        cfg: &DecodeConfig,
    ) -> Result<PhoneLoop> {
        cfg.validate()?;
        lm.validate()?;
        if trans.phones() != ctx.names() || lm.phones() != ctx.names() {
            return Err(Error::invalid(
                "the context table, the transitions and the phone LM are over different phone lists",
            ));
        }
        if trans.topology()? != *ctx.topology() {
            return Err(Error::invalid(
                "the transitions and the context table have different state counts per phone",
            ));
        }
        let mut b = LoopBuilder::new(ctx, trans, lm, cfg);
        b.build();
        let phones = (0..ctx.num_phones() as u16)
            .filter(|&c| b.in_loop[c as usize])
            .collect();
        let start = b.start;
        Ok(PhoneLoop {
            graph: b.graph.finish(start),
            acoustic_scale: cfg.acoustic_scale,
            pruning: Pruning::new(cfg.beam, cfg.max_active),
            num_leaves: ctx.num_leaves(),
            context_independent: ctx.is_context_independent(),
            phones,
        })
    }

    /// Decode one utterance's scores (frames x tied states).
    pub fn decode(&self, scores: ArrayView2<f32>) -> Result<Decoded> {
        self.decode_with(scores, &mut SearchScratch::default())
    }

    /// [`PhoneLoop::decode`] reusing `scratch`'s buffers (one scratch per thread).
    pub fn decode_with(
        &self,
        scores: ArrayView2<f32>,
        scratch: &mut SearchScratch,
    ) -> Result<Decoded> {
        check_scores(scores, self.num_leaves)?;
        if scores.nrows() == 0 {
            return Err(Error::invalid("no frames to decode"));
        }
        let scores = scores.as_standard_layout();
        let path = search(
            &self.graph,
            scores.view(),
            self.acoustic_scale,
            self.pruning,
            scratch,
        )
        .map_err(|e| Error::invalid(format!("decoding: {}", e.message())))?;
        let (frames, phones, _) = frames_and_spans(&self.graph, &path);
        Ok(Decoded {
            phones,
            frames,
            score: path.score,
            reached_final: path.reached_final,
        })
    }

    /// Phones that can be recognised (all their states tied in some context).
    pub fn phones(&self) -> &[u16] {
        &self.phones
    }

    /// Whether the graph was built without context expansion (a monophone tying).
    pub fn is_context_independent(&self) -> bool {
        self.context_independent
    }

    /// The graph in OpenFst's text format with the acoustic scale left out (apply it to the
    /// scores): input labels are tied states + 1, output labels phone ids + 1 where a phone starts.
    /// For inspection with OpenFst tools, or to decode the same graph with Kaldi's decoders.
    pub fn fst_text(&self) -> String {
        self.graph.fst_text()
    }

    /// Sizes of the built graph.
    pub fn size(&self) -> GraphSize {
        GraphSize {
            emitting: self.graph.num_emitting(),
            boundaries: self.graph.num_nonemitting(),
            arcs: self.graph.num_arcs(),
        }
    }
}

const NONE: u32 = u32::MAX;

/// Identity of a node for merging: same phone, state, tied state and future.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A last state: its right contexts (the phones it may be followed by; `p` = `</s>`).
    Last {
        phone: u16,
        state: u8,
        leaf: u32,
        rights: Vec<u16>,
    },
    /// An inner state: its successors.
    Inner {
        phone: u16,
        state: u8,
        leaf: u32,
        children: Vec<u32>,
    },
}

struct LoopBuilder<'a> {
    ctx: &'a ContextTable,
    trans: &'a Transitions,
    lm: &'a PhoneBigram,
    cfg: &'a DecodeConfig,
    p: usize,
    graph: GraphBuilder,
    start: u32,
    nodes: HashMap<Key, u32>,
    /// LM look-ahead of each emitting node.
    lookahead: Vec<f32>,
    /// Phone exits `(last-state node, phone, next phone, weight)`, wired once the trees exist.
    exits: Vec<(u32, u16, u16, f32)>,
    in_loop: Vec<bool>,
}

impl<'a> LoopBuilder<'a> {
    fn new(
        ctx: &'a ContextTable,
        trans: &'a Transitions,
        lm: &'a PhoneBigram,
        cfg: &'a DecodeConfig,
    ) -> Self {
        let p = ctx.num_phones();
        let mut graph = GraphBuilder::default();
        let start = graph.add_nonemitting();
        LoopBuilder {
            ctx,
            trans,
            lm,
            cfg,
            p,
            graph,
            start,
            nodes: HashMap::new(),
            lookahead: Vec::new(),
            exits: Vec::new(),
            in_loop: vec![false; p],
        }
    }

    /// The right context `r` as the tying sees it (`</s>` is `sil`).
    fn right_ctx(&self, r: u16) -> u16 {
        if r as usize == self.p {
            self.ctx.silence()
        } else {
            r
        }
    }

    /// Scaled LM term of `next` after `prev` (`next == p`: `</s>`).
    fn lm(&self, prev: Option<u16>, next: u16) -> f32 {
        let next = (next as usize != self.p).then_some(next);
        self.cfg.lm_weight * self.lm.log_prob(prev, next) as f32
    }

    /// The phone loop: the (previous, current) phone pairs that can occur, a prefix tree of
    /// states for each, entered from the start and from every phone's exits.
    fn build(&mut self) {
        let live = self.live_pairs();
        let (reach, pairs) = self.reachable_pairs(&live);
        let roots = self.prefix_trees(&pairs, &live);
        self.entry_arcs(&reach, &roots);
        self.exit_arcs(&roots);
    }

    /// Whether the tying has every state of `c` between `l` and `r` (`r == p`: `</s>`, i.e.
    /// `sil`).
    fn valid(&self, l: u16, c: u16, r: u16) -> bool {
        self.ctx.complete(l, c, self.right_ctx(r))
    }

    /// Whether `c` after `l` may be followed by `r`: valid, and `r` is the end or `r` after `c`
    /// is live.
    fn continues(&self, live: &[bool], l: u16, c: u16, r: u16) -> bool {
        let end = self.p as u16;
        self.valid(l, c, r) && (r == end || live[c as usize * self.p + r as usize])
    }

    /// `live[l * p + c]`: phone `c` after `l` can reach the end of an utterance.
    fn live_pairs(&self) -> Vec<bool> {
        let p = self.p;
        let end = p as u16;
        let mut live: Vec<bool> = (0..p * p)
            .map(|i| (0..=end).any(|r| self.valid((i / p) as u16, (i % p) as u16, r)))
            .collect();
        loop {
            let mut changed = false;
            for i in 0..p * p {
                if !live[i] {
                    continue;
                }
                let (l, c) = ((i / p) as u16, (i % p) as u16);
                let ok = (0..=end).any(|r| self.continues(&live, l, c, r));
                if !ok {
                    live[i] = false;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        live
    }

    /// The live pairs reachable from the start: as a table (`l * p + c`) and as a list, in a
    /// fixed order.
    fn reachable_pairs(&self, live: &[bool]) -> (Vec<bool>, Vec<(u16, u16)>) {
        let p = self.p;
        let sil = self.ctx.silence();
        let mut reach = vec![false; p * p];
        let mut queue: Vec<(u16, u16)> = (0..p as u16)
            .filter(|&c| live[sil as usize * p + c as usize])
            .map(|c| (sil, c))
            .collect();
        queue
            .iter()
            .for_each(|&(l, c)| reach[l as usize * p + c as usize] = true);
        let mut k = 0;
        while k < queue.len() {
            let (l, c) = queue[k];
            k += 1;
            for r in 0..p as u16 {
                let j = c as usize * p + r as usize;
                if !reach[j] && live[j] && self.valid(l, c, r) {
                    reach[j] = true;
                    queue.push((c, r));
                }
            }
        }
        queue.sort_unstable();
        (reach, queue)
    }

    /// The roots of each reachable pair's prefix tree (`l * p + c`); a context-independent
    /// tying needs one per phone.
    fn prefix_trees(&mut self, pairs: &[(u16, u16)], live: &[bool]) -> Vec<Vec<u32>> {
        let p = self.p;
        let sil = self.ctx.silence();
        let end = p as u16;
        let ci = self.ctx.is_context_independent();
        let mut roots: Vec<Vec<u32>> = vec![Vec::new(); p * p];
        for &(l, c) in pairs {
            self.in_loop[c as usize] = true;
            let i = l as usize * p + c as usize;
            if ci {
                let first = sil as usize * p + c as usize;
                if !roots[first].is_empty() {
                    roots[i] = roots[first].clone();
                    continue;
                }
            }
            let rights: Vec<u16> = (0..=end)
                .filter(|&r| self.continues(live, l, c, r))
                .collect();
            let tree = self.tree(l, c, 0, &rights);
            if ci {
                roots[sil as usize * p + c as usize] = tree.clone();
            }
            roots[i] = tree;
        }
        roots
    }

    /// Entries from the start into the trees of the phones reachable after `sil`.
    fn entry_arcs(&mut self, reach: &[bool], roots: &[Vec<u32>]) {
        let p = self.p;
        let sil = self.ctx.silence();
        let ins = self.cfg.insertion_penalty;
        for c in 0..p as u16 {
            let i = sil as usize * p + c as usize;
            if !reach[i] {
                continue;
            }
            let w = self.lm(None, c) + ins;
            for &v in &roots[i] {
                self.graph
                    .entry_arc(self.start, v, w + self.lookahead[v as usize]);
            }
        }
    }

    /// Exits into the next phone: through a shared boundary node (the best exit into each
    /// next phone is found once, then fans out to that phone's tree roots), or straight to the
    /// roots where that takes no more arcs (one root, or one exit), which saves a step.
    fn exit_arcs(&mut self, roots: &[Vec<u32>]) {
        let p = self.p;
        let ins = self.cfg.insertion_penalty;
        let mut incoming = vec![0usize; p * p];
        for &(_, c, r, _) in &self.exits {
            incoming[c as usize * p + r as usize] += 1;
        }
        let mut boundary = vec![NONE; p * p];
        for &(u, c, r, w) in &self.exits {
            let i = c as usize * p + r as usize;
            let k = roots[i].len();
            if incoming[i] * k <= incoming[i] + k {
                for &v in &roots[i] {
                    let wv = w + ins + self.lookahead[v as usize];
                    self.graph.arc(u, v, wv, true);
                }
                continue;
            }
            if boundary[i] == NONE {
                let b = self.graph.add_nonemitting();
                boundary[i] = b;
                for &v in &roots[i] {
                    self.graph.entry_arc(b, v, ins + self.lookahead[v as usize]);
                }
            }
            self.graph.exit_arc(u, boundary[i], w);
        }
    }

    /// Nodes for states `s..` of `c` after `l`, for the right contexts `rights`: one node per
    /// distinct tied state of state `s`, each with its subtree.
    fn tree(&mut self, l: u16, c: u16, s: u8, rights: &[u16]) -> Vec<u32> {
        let mut groups: Vec<(u32, Vec<u16>)> = Vec::new();
        for &r in rights {
            let leaf = self
                .ctx
                .leaf(l, c, self.right_ctx(r), s)
                .expect("only complete contexts are expanded");
            match groups.iter_mut().find(|g| g.0 == leaf) {
                Some(g) => g.1.push(r),
                None => groups.push((leaf, vec![r])),
            }
        }
        groups.sort_by_key(|g| g.0);
        let last = s as usize + 1 == self.ctx.topology().states(c);
        groups
            .into_iter()
            .map(|(leaf, rs)| {
                if last {
                    self.last_node(c, s, leaf, rs)
                } else {
                    let children = self.tree(l, c, s + 1, &rs);
                    self.inner_node(c, s, leaf, children)
                }
            })
            .collect()
    }

    fn info(c: u16, s: u8, leaf: u32) -> NodeInfo {
        NodeInfo {
            leaf,
            phone: c,
            state: s,
            tag: 0,
        }
    }

    fn last_node(&mut self, c: u16, s: u8, leaf: u32, rights: Vec<u16>) -> u32 {
        let key = Key::Last {
            phone: c,
            state: s,
            leaf,
            rights,
        };
        if let Some(&id) = self.nodes.get(&key) {
            return id;
        }
        let Key::Last { rights, .. } = &key else {
            unreachable!()
        };
        let ts = self.cfg.transition_scale;
        let la = rights
            .iter()
            .map(|&r| self.lm(Some(c), r))
            .fold(f32::NEG_INFINITY, f32::max);
        let id = self.graph.add_emitting(
            Self::info(c, s, leaf),
            ts * self.trans.log_self_loop(c, s) as f32,
        );
        self.lookahead.push(la);
        let exit = ts * self.trans.log_forward(c, s) as f32;
        for &r in rights {
            let w = exit + self.lm(Some(c), r) - la;
            if r as usize == self.p {
                self.graph.set_final(id, w);
            } else {
                self.exits.push((id, c, r, w));
            }
        }
        self.nodes.insert(key, id);
        id
    }

    fn inner_node(&mut self, c: u16, s: u8, leaf: u32, children: Vec<u32>) -> u32 {
        let key = Key::Inner {
            phone: c,
            state: s,
            leaf,
            children,
        };
        if let Some(&id) = self.nodes.get(&key) {
            return id;
        }
        let Key::Inner { children, .. } = &key else {
            unreachable!()
        };
        let ts = self.cfg.transition_scale;
        let la = children
            .iter()
            .map(|&v| self.lookahead[v as usize])
            .fold(f32::NEG_INFINITY, f32::max);
        let id = self.graph.add_emitting(
            Self::info(c, s, leaf),
            ts * self.trans.log_self_loop(c, s) as f32,
        );
        self.lookahead.push(la);
        let fwd = ts * self.trans.log_forward(c, s) as f32;
        for &v in children {
            self.graph
                .arc(id, v, fwd + self.lookahead[v as usize] - la, false);
        }
        self.nodes.insert(key, id);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::hmm::Topology;
    use ndarray::Array2;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Busy frames are computed densely, quiet ones by pushing tokens: both must find the same
    /// survivors and so the same path, whichever is used for which frame.
    #[test]
    fn dense_and_token_passing_frames_agree() {
        let names = ["a", "b", "c", "sil"];
        for seed in 0..6u64 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let topo = Topology::from_counts(vec![3, 2, 3, 1]).unwrap();
            let leaves = 30;
            let ctx = ContextTable::build(&names, 3, &topo, leaves, |l, c, r, s| {
                Some((l as u32 * 7 + c as u32 * 5 + r as u32 * 3 + s as u32 * 11) % leaves as u32)
            })
            .unwrap();
            let mut trans = Transitions::new(&names, &topo, 0.6).unwrap();
            for c in 0..4u16 {
                for s in 0..topo.states(c) as u8 {
                    trans
                        .set_self_loop_prob(c, s, rng.random_range(0.2..0.9))
                        .unwrap();
                }
            }
            let seqs: Vec<Vec<u16>> = (0..20)
                .map(|_| (0..5).map(|_| rng.random_range(0..4u16)).collect())
                .collect();
            let lm = PhoneBigram::estimate(&names, seqs.iter().map(|s| s.as_slice())).unwrap();
            let cfg = DecodeConfig {
                beam: 3.0 + seed as f32,
                max_active: 5 + 5 * seed as usize,
                ..DecodeConfig::default()
            };
            let graph = PhoneLoop::build(&ctx, &trans, &lm, &cfg).unwrap();
            let scores = Array2::from_shape_fn((60, leaves), |_| rng.random_range(-40.0..0.0f32));
            let run = |dense_above: f32| {
                let pruning = Pruning {
                    dense_above,
                    ..graph.pruning
                };
                let mut scratch = SearchScratch::default();
                search(&graph.graph, scores.view(), 0.1, pruning, &mut scratch).unwrap()
            };
            let (dense, pushed, mixed) = (run(0.0), run(f32::INFINITY), run(0.5));
            assert_eq!(dense, pushed, "seed {seed}");
            assert_eq!(mixed, pushed, "seed {seed}");
        }
    }
}
