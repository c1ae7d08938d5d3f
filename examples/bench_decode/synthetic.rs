//! Synthetic phone recognition data over the 48 TIMIT phones, shared by `examples/bench_decode`,
//! `benches/decode.rs` and `tests/decode.rs`:
//!
//! - a tree-like state tying: one tree per (phone, state) asking the built-in phonetic questions
//!   (`data/questions.txt`), state 0 mostly about the left phone, state 2 mostly about the right,
//!   grown by random splits to the requested number of tied states (144 or fewer: monophone);
//! - transition probabilities drawn per state, and a phone bigram estimated from sequences of a
//!   random Markov chain that starts and ends in `sil`, as TIMIT transcripts do;
//! - utterances from the same chain with 1-5 frames per state, scored like a diagonal GMM: every
//!   tied state has a mean in 13 dimensions (near its phone's mean), frames are the true state's
//!   mean plus unit noise, scores are the Gaussian log-likelihoods (a dynamic range of tens of
//!   nats per frame across states, as real GMM scores have).

#![allow(dead_code)]

use asrpipe::corpus::PhoneSet;
use asrpipe::decode::{FrameState, PhoneBigram, PhoneSpan};
use asrpipe::model::hmm::{ContextTable, HmmConfig, Transitions};
use asrpipe::model::tree::QuestionSet;
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

const DIM: usize = 13;

/// A model and the generator of its data.
pub struct Model {
    pub ctx: ContextTable,
    pub trans: Transitions,
    pub lm: PhoneBigram,
    /// Cumulative next-phone probabilities of the Markov chain, per phone.
    chain: Vec<Vec<f64>>,
    means: Array2<f32>,
}

/// One utterance: its phones, true states and score matrix.
pub struct Utterance {
    pub phones: Vec<u16>,
    pub spans: Vec<PhoneSpan>,
    pub frames: Vec<FrameState>,
    pub scores: Array2<f32>,
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    StandardNormal.sample(rng)
}

enum Node {
    Leaf(u32),
    Split {
        right: bool,
        question: usize,
        yes: usize,
        no: usize,
    },
}

/// A model with about `leaves` tied states (exactly, unless 144 or fewer: then 144 untied).
pub fn model(leaves: usize, seed: u64) -> Model {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let set = PhoneSet::timit();
    let names = set.p48.names();
    let p = names.len();
    let sil = set.silence48();
    let topo = HmmConfig::default().topology(p, sil).unwrap();
    let questions: Vec<Vec<bool>> = QuestionSet::builtin()
        .questions
        .iter()
        .map(|q| names.iter().map(|n| q.phones.contains(n)).collect())
        .collect();

    // Trees: start from one leaf per (phone, state), split random leaves.
    let roots = p * 3;
    let mut trees: Vec<Vec<Node>> = (0..roots).map(|_| vec![Node::Leaf(0)]).collect();
    let mut open: Vec<(usize, usize)> = (0..roots).map(|r| (r, 0)).collect();
    for _ in 0..leaves.saturating_sub(roots) {
        let k = rng.random_range(0..open.len());
        let (r, node) = open[k];
        let state = r % 3;
        let p_right = [0.15, 0.5, 0.85][state];
        let right = rng.random_bool(p_right);
        let question = rng.random_range(0..questions.len());
        let tree = &mut trees[r];
        let (yes, no) = (tree.len(), tree.len() + 1);
        tree.push(Node::Leaf(0));
        tree.push(Node::Leaf(0));
        tree[node] = Node::Split {
            right,
            question,
            yes,
            no,
        };
        open[k] = (r, yes);
        open.push((r, no));
    }
    let mut next = 0u32;
    let mut leaf_phone = Vec::new();
    for (r, tree) in trees.iter_mut().enumerate() {
        for node in tree.iter_mut() {
            if let Node::Leaf(id) = node {
                *id = next;
                next += 1;
                leaf_phone.push(r / 3);
            }
        }
    }
    let lookup = |l: u16, c: u16, r: u16, s: u8| {
        let tree = &trees[c as usize * 3 + s as usize];
        let mut node = 0;
        loop {
            match tree[node] {
                Node::Leaf(id) => return Some(id),
                Node::Split {
                    right,
                    question,
                    yes,
                    no,
                } => {
                    let phone = if right { r } else { l };
                    node = if questions[question][phone as usize] {
                        yes
                    } else {
                        no
                    };
                }
            }
        }
    };
    let ctx = ContextTable::build(names, sil, &topo, next as usize, lookup).unwrap();

    let mut trans = Transitions::from_config(names, &topo, &HmmConfig::default()).unwrap();
    for c in 0..p as u16 {
        for s in 0..3 {
            trans
                .set_self_loop_prob(c, s, rng.random_range(0.5..0.85))
                .unwrap();
        }
    }

    // A skewed Markov chain over phones.
    let chain: Vec<Vec<f64>> = (0..p)
        .map(|_| {
            let w: Vec<f64> = (0..p)
                .map(|_| (1.5 * normal(&mut rng) as f64).exp())
                .collect();
            let total: f64 = w.iter().sum();
            w.iter()
                .scan(0.0, |acc, x| {
                    *acc += x / total;
                    Some(*acc)
                })
                .collect()
        })
        .collect();

    // Tied-state means: near their phone's mean, a little apart from each other.
    let phone_means = Array2::from_shape_fn((p, DIM), |_| 0.55 * normal(&mut rng));
    let mut means = Array2::zeros((next as usize, DIM));
    for (leaf, &phone) in leaf_phone.iter().enumerate() {
        for d in 0..DIM {
            means[[leaf, d]] = phone_means[[phone, d]] + 0.35 * normal(&mut rng);
        }
    }

    let mut m = Model {
        ctx,
        trans,
        lm: PhoneBigram::estimate(names, [&[sil][..]]).unwrap(),
        chain,
        means,
    };
    let seqs: Vec<Vec<u16>> = (0..500).map(|_| m.sequence(&mut rng, 30)).collect();
    m.lm = PhoneBigram::estimate(names, seqs.iter().map(|s| s.as_slice())).unwrap();
    m
}

impl Model {
    /// `sil`, about `len` phones from the chain, `sil`.
    fn sequence(&self, rng: &mut ChaCha8Rng, len: usize) -> Vec<u16> {
        let sil = self.ctx.silence();
        let mut seq = vec![sil];
        let mut prev = sil;
        for _ in 0..len {
            let u: f64 = rng.random();
            let row = &self.chain[prev as usize];
            let next = row.iter().position(|&c| u < c).unwrap_or(row.len() - 1) as u16;
            seq.push(next);
            prev = next;
        }
        seq.push(sil);
        seq
    }

    /// An utterance of about `frames` frames (whole phones: a few more or fewer).
    pub fn utterance(&self, frames: usize, seed: u64) -> Utterance {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let phones = self.sequence(&mut rng, (frames / 9).saturating_sub(2).max(1));
        let mut states = Vec::new();
        let mut spans = Vec::new();
        for (i, &c) in phones.iter().enumerate() {
            let left = if i > 0 {
                phones[i - 1]
            } else {
                self.ctx.silence()
            };
            let right = phones.get(i + 1).copied().unwrap_or(self.ctx.silence());
            let start = states.len();
            for s in 0..3u8 {
                let leaf = self.ctx.leaf(left, c, right, s).unwrap();
                for _ in 0..rng.random_range(1..=5) {
                    states.push(FrameState {
                        leaf,
                        phone: c,
                        state: s,
                    });
                }
            }
            spans.push(PhoneSpan {
                phone: c,
                start,
                end: states.len(),
            });
        }
        let leaves = self.means.nrows();
        let mut scores = Array2::zeros((states.len(), leaves));
        let norm = -0.5 * DIM as f32 * (2.0 * std::f32::consts::PI).ln();
        let mut x = [0f32; DIM];
        for (t, st) in states.iter().enumerate() {
            for (d, xd) in x.iter_mut().enumerate() {
                *xd = self.means[[st.leaf as usize, d]] + normal(&mut rng);
            }
            for j in 0..leaves {
                let mut dist = 0.0;
                for (d, xd) in x.iter().enumerate() {
                    let e = xd - self.means[[j, d]];
                    dist += e * e;
                }
                scores[[t, j]] = norm - 0.5 * dist;
            }
        }
        Utterance {
            phones,
            spans,
            frames: states,
            scores,
        }
    }
}
