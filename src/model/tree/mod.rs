//! State tying by phonetic decision tree (Young, Odell & Woodland 1994).
//!
//! Every context-dependent state (centre phone, state position, left phone, right phone) comes
//! with the sufficient statistics of its frames under one diagonal Gaussian: count, Σx, Σx².
//! A node pooling contexts scores L = -½ n (d (1 + log 2π) + Σ_j log σ²_j); a question about the
//! left or right phone splits a node's contexts in two, and its gain is L(yes) + L(no) - L(node).
//!
//! Roots: one tree per (centre phone, state position), as HTK builds them. Kaldi pools phones
//! into shared roots instead; we keep one centre phone per tree so every tied state belongs to
//! exactly one phone, and state predictions fold to phones for phone accuracy.
//! Growth: over all trees at once, the leaf with the best admissible split is split next (a
//! global priority), until the target number of leaves, or until no split gains `min_gain`
//! with at least `min_count` frames on each side. No splits at all gives untied monophone
//! states, the degenerate case.
//!
//! Unseen contexts find a leaf by walking the questions: a left or right phone that never
//! occurred in training (or is in no question) simply answers "no". Only a (centre, state) that
//! had no training frames at all has no tree, and [`Tree::leaf`] says so.
//!
//! Entry points:
//!
//! ```text
//! // Per-frame features + 48-set labels, utterance by utterance:
//! Tree::build_from_frames(
//!     utts: impl IntoIterator<Item = (ArrayView2<f32>, &[Option<FrameLabel>])>,
//!     phones: &PhoneList,            // PhoneSet::timit().p48: names of the label ids
//!     questions: &QuestionSet,       // QuestionSet::builtin() or QuestionSet::load(path)
//!     cfg: &TreeConfig,
//! ) -> Result<Tree>
//! // or ContextAccumulator::{new, add(feats, labels), finish(phones)} -> Vec<ContextStats>,
//! // then Tree::build(&stats, &questions, &cfg) -> Result<Tree>.
//! Tree::leaf(&self, centre: &str, state: u8, left: &str, right: &str) -> Result<u32>
//! Tree::leaf_phone(&self, leaf: u32) -> (&str, u8)      // (centre phone, state) of a leaf
//! ```
//!
//! [`Tree`], [`TyingMap`] and [`Tying`] (either of them) serialise with serde (JSON).

pub mod context;
pub mod ids;
pub mod map;
pub mod questions;
pub mod states;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::options;
pub use context::ContextAccumulator;
pub use ids::TyingIds;
pub use map::{Tying, TyingMap};
pub use questions::{Question, QuestionSet};
pub use states::StatesConfig;

options! {
    /// Decision-tree state tying.
    pub struct TreeConfig {
        /// Target number of tied states (leaves) over all trees; the number of roots or fewer means untied.
        num_leaves: usize = 2500,
        /// Smallest log-likelihood gain worth a split (Kaldi build-tree --thresh).
        min_gain: f64 = 300.0,
        /// Smallest number of frames on each side of a split.
        min_count: f64 = 100.0,
        /// Also ask whether a context is one particular phone.
        singleton_questions: bool = true,
        /// Variance floor of the node Gaussians, as a fraction of the global per-dimension variance.
        var_floor: f64 = 0.01,
    }
}

/// Frames of one context-dependent state, summarised for a single diagonal Gaussian.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextStats {
    /// Centre phone (48 set).
    pub centre: String,
    /// Position of the state within the phone (0, 1, 2 for three-state phones).
    pub state: u8,
    /// Left context phone.
    pub left: String,
    /// Right context phone.
    pub right: String,
    /// Frames summarised.
    pub count: f64,
    /// Per-dimension sum of the frames.
    pub sum: Vec<f64>,
    /// Per-dimension sum of squares.
    pub sum_sq: Vec<f64>,
}

/// Which neighbour a question is asked of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The phone before.
    Left,
    /// The phone after.
    Right,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Node {
    Leaf {
        leaf: u32,
    },
    Split {
        side: Side,
        question: String,
        phones: Vec<String>,
        yes: usize,
        no: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Root {
    centre: String,
    state: u8,
    node: usize,
}

/// One split made while growing, in the order it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitRecord {
    /// Centre phone of the root the split was made under.
    pub centre: String,
    /// State position of that root.
    pub state: u8,
    /// Which neighbour the question was asked of.
    pub side: Side,
    /// Question name (from the question set).
    pub question: String,
    /// Log-likelihood gain L(yes) + L(no) - L(node).
    pub gain: f64,
}

/// The tying trees: maps any (centre, state, left, right) with a known root to a tied state.
/// Leaves are numbered root by root (roots in order of first appearance in the statistics),
/// depth first, the "yes" branch first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    roots: Vec<Root>,
    nodes: Vec<Node>,
    /// (centre, state) of each leaf.
    leaves: Vec<(String, u8)>,
    /// Every split made while growing, in order.
    pub history: Vec<SplitRecord>,
}

/// Pooled single-Gaussian statistics.
#[derive(Debug, Clone)]
struct Stats {
    n: f64,
    sum: Vec<f64>,
    sq: Vec<f64>,
}

impl Stats {
    fn zero(d: usize) -> Stats {
        Stats {
            n: 0.0,
            sum: vec![0.0; d],
            sq: vec![0.0; d],
        }
    }
    fn add(&mut self, o: &Stats) {
        self.n += o.n;
        self.sum.iter_mut().zip(&o.sum).for_each(|(a, b)| *a += b);
        self.sq.iter_mut().zip(&o.sq).for_each(|(a, b)| *a += b);
    }
    fn minus(&self, o: &Stats) -> Stats {
        let mut r = self.clone();
        r.n -= o.n;
        r.sum.iter_mut().zip(&o.sum).for_each(|(a, b)| *a -= b);
        r.sq.iter_mut().zip(&o.sq).for_each(|(a, b)| *a -= b);
        r
    }
    /// Log-likelihood of the pooled frames under their own ML Gaussian (floored variances).
    fn log_likelihood(&self, floor: &[f64]) -> f64 {
        if self.n <= 0.0 {
            return 0.0;
        }
        let d = self.sum.len() as f64;
        let log_det: f64 = (0..self.sum.len())
            .map(|j| {
                let m = self.sum[j] / self.n;
                (self.sq[j] / self.n - m * m).max(floor[j]).ln()
            })
            .sum();
        -0.5 * self.n * (d * (1.0 + (2.0 * std::f64::consts::PI).ln()) + log_det)
    }
}

/// A leaf while growing: its contexts, pooled statistics and best admissible split.
struct Grow {
    root: usize,
    node: usize,
    contexts: Vec<usize>,
    stats: Stats,
    best: Option<(f64, usize, Side)>,
}

/// A context's left phone id, right phone id and statistics.
type Context = (usize, usize, Stats);

/// The statistics' dimension, after checking every context has it and has frames, and the
/// context phones numbered in order of first appearance (left before right).
fn context_phones(stats: &[ContextStats]) -> Result<(usize, BTreeMap<&str, usize>)> {
    let d = stats
        .first()
        .map(|s| s.sum.len())
        .ok_or_else(|| Error::invalid("no context statistics to build a tree from"))?;
    let mut phones: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in stats.iter().enumerate() {
        if c.sum.len() != d || c.sum_sq.len() != d || d == 0 {
            return Err(Error::invalid(format!(
                "context {i}: statistics of another dimension"
            )));
        }
        if !(c.count > 0.0 && c.count.is_finite()) {
            return Err(Error::invalid(format!(
                "context {i} ({} state {} between {} and {}) has no frames",
                c.centre, c.state, c.left, c.right
            )));
        }
        for p in [&c.left, &c.right] {
            let next = phones.len();
            phones.entry(p.as_str()).or_insert(next);
        }
    }
    Ok((d, phones))
}

/// What choosing a split needs: the contexts by phone id, the questions as phone masks and the
/// variance floor.
struct Splitter<'a> {
    questions: &'a QuestionSet,
    /// masks[q][phone id]: does question q contain that context phone?
    masks: Vec<Vec<bool>>,
    ctx: Vec<Context>,
    num_phones: usize,
    floor: Vec<f64>,
    cfg: &'a TreeConfig,
}

impl<'a> Splitter<'a> {
    fn new(
        stats: &[ContextStats],
        questions: &'a QuestionSet,
        phones: &BTreeMap<&str, usize>,
        d: usize,
        cfg: &'a TreeConfig,
    ) -> Splitter<'a> {
        let masks: Vec<Vec<bool>> = questions
            .questions
            .iter()
            .map(|q| {
                let mut m = vec![false; phones.len()];
                for (p, &id) in phones {
                    m[id] = q.phones.contains(*p);
                }
                m
            })
            .collect();
        let ctx: Vec<Context> = stats
            .iter()
            .map(|c| {
                let s = Stats {
                    n: c.count,
                    sum: c.sum.clone(),
                    sq: c.sum_sq.clone(),
                };
                (phones[c.left.as_str()], phones[c.right.as_str()], s)
            })
            .collect();
        let mut total = Stats::zero(d);
        ctx.iter().for_each(|c| total.add(&c.2));
        let floor: Vec<f64> = (0..d)
            .map(|j| {
                let m = total.sum[j] / total.n;
                (cfg.var_floor * (total.sq[j] / total.n - m * m)).max(1e-10)
            })
            .collect();
        Splitter {
            questions,
            masks,
            ctx,
            num_phones: phones.len(),
            floor,
            cfg,
        }
    }

    fn best(&self, g: &Grow) -> Option<(f64, usize, Side)> {
        best_split(
            g,
            &self.ctx,
            &self.masks,
            self.num_phones,
            &self.floor,
            self.cfg,
        )
    }
}

impl Tree {
    /// Grow the trees from per-context statistics (see the module comment).
    pub fn build(
        stats: &[ContextStats],
        questions: &QuestionSet,
        cfg: &TreeConfig,
    ) -> Result<Tree> {
        let (d, phones) = context_phones(stats)?;
        let mut qs = questions.clone();
        if cfg.singleton_questions {
            qs = qs.with_singletons(&phones.keys().copied().collect::<Vec<_>>());
        }
        let splitter = Splitter::new(stats, &qs, &phones, d, cfg);
        let (mut tree, mut grow) = Tree::roots_of(stats, &splitter.ctx, d);
        if cfg.num_leaves > grow.len() {
            grow.iter_mut().for_each(|g| g.best = splitter.best(g));
        }
        while grow.len() < cfg.num_leaves {
            // The leaf whose best split gains most; the first such leaf on ties.
            let Some((i, best)) = grow
                .iter()
                .enumerate()
                .filter_map(|(i, g)| g.best.map(|b| (i, b)))
                .reduce(|a, b| if b.1.0 > a.1.0 { b } else { a })
            else {
                break;
            };
            tree.split_leaf(&mut grow, i, best, &splitter);
        }
        // Number the leaves root by root, depth first.
        for r in 0..tree.roots.len() {
            tree.number(tree.roots[r].node, r);
        }
        Ok(tree)
    }

    /// One unsplit tree per (centre, state) in order of first appearance in `stats`, and the
    /// growing leaf of each, pooling its contexts.
    fn roots_of(stats: &[ContextStats], ctx: &[Context], d: usize) -> (Tree, Vec<Grow>) {
        let mut tree = Tree {
            roots: Vec::new(),
            nodes: Vec::new(),
            leaves: Vec::new(),
            history: Vec::new(),
        };
        let mut grow: Vec<Grow> = Vec::new();
        for (i, c) in stats.iter().enumerate() {
            let r = match tree
                .roots
                .iter()
                .position(|r| r.centre == c.centre && r.state == c.state)
            {
                Some(r) => r,
                None => {
                    tree.nodes.push(Node::Leaf { leaf: 0 });
                    tree.roots.push(Root {
                        centre: c.centre.clone(),
                        state: c.state,
                        node: tree.nodes.len() - 1,
                    });
                    grow.push(Grow {
                        root: tree.roots.len() - 1,
                        node: tree.nodes.len() - 1,
                        contexts: Vec::new(),
                        stats: Stats::zero(d),
                        best: None,
                    });
                    grow.len() - 1
                }
            };
            grow[r].contexts.push(i);
            grow[r].stats.add(&ctx[i].2);
        }
        (tree, grow)
    }

    /// Split growing leaf `i` by its best question: record the split, turn the leaf's node into
    /// a question node, and grow its two children in its place (yes) and at the end (no).
    fn split_leaf(
        &mut self,
        grow: &mut Vec<Grow>,
        i: usize,
        (gain, q, side): (f64, usize, Side),
        splitter: &Splitter<'_>,
    ) {
        let mask = &splitter.masks[q];
        let ctx = &splitter.ctx;
        let on = |c: usize| {
            mask[if side == Side::Left {
                ctx[c].0
            } else {
                ctx[c].1
            }]
        };
        let (yes, no): (Vec<usize>, Vec<usize>) = grow[i].contexts.iter().partition(|&&c| on(c));
        let question = &splitter.questions.questions[q];
        let root = grow[i].root;
        self.history.push(SplitRecord {
            centre: self.roots[root].centre.clone(),
            state: self.roots[root].state,
            side,
            question: question.name.clone(),
            gain,
        });
        let (ny, nn) = (self.nodes.len(), self.nodes.len() + 1);
        self.nodes.push(Node::Leaf { leaf: 0 });
        self.nodes.push(Node::Leaf { leaf: 0 });
        self.nodes[grow[i].node] = Node::Split {
            side,
            question: question.name.clone(),
            phones: question.phones.iter().cloned().collect(),
            yes: ny,
            no: nn,
        };
        let d = splitter.floor.len();
        let child = |contexts: Vec<usize>, node: usize| {
            let mut s = Stats::zero(d);
            contexts.iter().for_each(|&c| s.add(&ctx[c].2));
            let mut g = Grow {
                root,
                node,
                contexts,
                stats: s,
                best: None,
            };
            g.best = splitter.best(&g);
            g
        };
        let (gy, gn) = (child(yes, ny), child(no, nn));
        grow[i] = gy;
        grow.push(gn);
    }

    /// Untied states: one leaf per (centre, state), numbered in the order given.
    pub fn untied<S: AsRef<str>>(roots: &[(S, u8)]) -> Tree {
        let mut tree = Tree {
            roots: Vec::new(),
            nodes: Vec::new(),
            leaves: Vec::new(),
            history: Vec::new(),
        };
        for (r, (centre, state)) in roots.iter().enumerate() {
            tree.nodes.push(Node::Leaf { leaf: 0 });
            tree.roots.push(Root {
                centre: centre.as_ref().to_string(),
                state: *state,
                node: r,
            });
            tree.number(r, r);
        }
        tree
    }

    fn number(&mut self, node: usize, root: usize) {
        match self.nodes[node] {
            Node::Leaf { .. } => {
                self.nodes[node] = Node::Leaf {
                    leaf: self.leaves.len() as u32,
                };
                let r = &self.roots[root];
                self.leaves.push((r.centre.clone(), r.state));
            }
            Node::Split { yes, no, .. } => {
                self.number(yes, root);
                self.number(no, root);
            }
        }
    }

    /// Number of tied states.
    pub fn num_leaves(&self) -> usize {
        self.leaves.len()
    }

    /// The centre phone and state position a leaf belongs to.
    pub fn leaf_phone(&self, leaf: u32) -> (&str, u8) {
        let (c, s) = &self.leaves[leaf as usize];
        (c, *s)
    }

    /// The tied state of a context; an error only if (centre, state) never had a root.
    pub fn leaf(&self, centre: &str, state: u8, left: &str, right: &str) -> Result<u32> {
        let root = self
            .roots
            .iter()
            .find(|r| r.centre == centre && r.state == state)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "the state tying has no tree for phone {centre} state {state}"
                ))
            })?;
        let mut node = root.node;
        loop {
            match &self.nodes[node] {
                Node::Leaf { leaf } => return Ok(*leaf),
                Node::Split {
                    side,
                    phones,
                    yes,
                    no,
                    ..
                } => {
                    let p = if *side == Side::Left { left } else { right };
                    let hit = phones.iter().any(|q| q == p);
                    node = if hit { *yes } else { *no };
                }
            }
        }
    }
}

/// The best admissible split of a growing leaf: (gain, question, side), or none.
fn best_split(
    g: &Grow,
    ctx: &[Context],
    masks: &[Vec<bool>],
    num_phones: usize,
    floor: &[f64],
    cfg: &TreeConfig,
) -> Option<(f64, usize, Side)> {
    let d = floor.len();
    let parent = g.stats.log_likelihood(floor);
    let mut best: Option<(f64, usize, Side)> = None;
    for side in [Side::Left, Side::Right] {
        // Pool the leaf's contexts by the phone on this side: a question then sums a few phones.
        let mut by_phone = vec![(Stats::zero(d), 0usize); num_phones];
        for &c in &g.contexts {
            let p = if side == Side::Left {
                ctx[c].0
            } else {
                ctx[c].1
            };
            by_phone[p].0.add(&ctx[c].2);
            by_phone[p].1 += 1;
        }
        for (q, mask) in masks.iter().enumerate() {
            let mut yes = Stats::zero(d);
            let mut yes_contexts = 0;
            for (p, (s, k)) in by_phone.iter().enumerate() {
                if mask[p] && *k > 0 {
                    yes.add(s);
                    yes_contexts += k;
                }
            }
            if yes_contexts == 0 || yes_contexts == g.contexts.len() {
                continue;
            }
            let no = g.stats.minus(&yes);
            if yes.n < cfg.min_count || no.n < cfg.min_count {
                continue;
            }
            let gain = yes.log_likelihood(floor) + no.log_likelihood(floor) - parent;
            if gain >= cfg.min_gain && best.is_none_or(|b| gain > b.0) {
                best = Some((gain, q, side));
            }
        }
    }
    best
}
