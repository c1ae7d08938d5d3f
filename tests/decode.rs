//! Decoder and aligner against brute-force enumeration of every path on tiny HMMs (with and
//! without context dependence and LM, pruning off), constructed score matrices whose answer is
//! known, equal alignment as Kaldi spreads it, and bad input.

#[path = "../examples/bench_decode/synthetic.rs"]
mod synthetic;

use std::collections::HashMap;

use asrpipe::decode::{
    AlignConfig, AlignError, Aligner, DecodeConfig, FrameState, PhoneBigram, PhoneLoop, Source,
    equal_align,
};
use asrpipe::model::hmm::{ContextTable, Topology, Transitions};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const NAMES: [&str; 3] = ["a", "b", "sil"];
const SIL: u16 = 2;

/// A tiny model over `a`, `b`, `sil`: random tied states (a pool of up to 3 per (phone, state)
/// chosen by the context when context-dependent), random transition probabilities, a bigram
/// from random sequences.
struct Tiny {
    ctx: ContextTable,
    trans: Transitions,
    lm: PhoneBigram,
}

fn tiny(seed: u64, states: &[u8], context_dependent: bool) -> Tiny {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let topo = Topology::from_counts(states.to_vec()).unwrap();
    let mut pools = HashMap::new();
    let mut next = 0u32;
    for c in 0..3u16 {
        for s in 0..states[c as usize] {
            let k = if context_dependent {
                rng.random_range(1..=3)
            } else {
                1
            };
            pools.insert((c, s), (next, k));
            next += k;
        }
    }
    let mut pick = HashMap::new();
    for l in 0..3u16 {
        for c in 0..3u16 {
            for r in 0..3u16 {
                for s in 0..states[c as usize] {
                    let (base, k) = pools[&(c, s)];
                    pick.insert((l, c, r, s), base + rng.random_range(0..k));
                }
            }
        }
    }
    let ctx = ContextTable::build(&NAMES, SIL, &topo, next as usize, |l, c, r, s| {
        Some(pick[&(l, c, r, s)])
    })
    .unwrap();
    assert_eq!(
        ctx.is_context_independent(),
        !context_dependent || next == 6
    );
    let mut trans = Transitions::new(&NAMES, &topo, 0.5).unwrap();
    for c in 0..3u16 {
        for s in 0..states[c as usize] {
            trans
                .set_self_loop_prob(c, s, rng.random_range(0.2..0.9))
                .unwrap();
        }
    }
    let seqs: Vec<Vec<u16>> = (0..8)
        .map(|_| {
            let n = rng.random_range(1..6);
            (0..n).map(|_| rng.random_range(0..3u16)).collect()
        })
        .collect();
    let lm = PhoneBigram::estimate(&NAMES, seqs.iter().map(|s| s.as_slice())).unwrap();
    Tiny { ctx, trans, lm }
}

fn random_scores(seed: u64, frames: usize, leaves: usize) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((frames, leaves), |_| rng.random_range(-30.0..0.0f32))
}

/// Scales of a brute-force path score.
struct Weights {
    ac: f64,
    ts: f64,
    lmw: f64,
    ins: f64,
}

/// Score and frames of one path (phones `seq`, frames per state `durs`), contexts `sil` beyond
/// the ends; `None` when a context has no tied state. With `lm`, the bigram and the insertion
/// penalty are added.
fn path_score(
    m: &Tiny,
    w: &Weights,
    scores: &Array2<f32>,
    seq: &[u16],
    durs: &[usize],
    lm: bool,
) -> Option<(f64, Vec<FrameState>)> {
    let (mut t, mut total, mut frames, mut d) = (0, 0.0, Vec::new(), durs.iter());
    for (k, &c) in seq.iter().enumerate() {
        let left = if k == 0 { SIL } else { seq[k - 1] };
        let right = seq.get(k + 1).copied().unwrap_or(SIL);
        for s in 0..m.ctx.topology().states(c) as u8 {
            let leaf = m.ctx.leaf(left, c, right, s)?;
            let dur = *d.next().unwrap();
            for _ in 0..dur {
                total += w.ac * scores[[t, leaf as usize]] as f64;
                frames.push(FrameState {
                    leaf,
                    phone: c,
                    state: s,
                });
                t += 1;
            }
            total +=
                w.ts * ((dur - 1) as f64 * m.trans.log_self_loop(c, s) + m.trans.log_forward(c, s));
        }
        if lm {
            let prev = (k > 0).then(|| seq[k - 1]);
            total += w.lmw * m.lm.log_prob(prev, Some(c)) + w.ins;
        }
    }
    if lm {
        total += w.lmw * m.lm.log_prob(seq.last().copied(), None);
    }
    Some((total, frames))
}

/// Every way of cutting `total` frames into `parts` non-empty runs.
fn compositions(total: usize, parts: usize, cur: &mut Vec<usize>, f: &mut dyn FnMut(&[usize])) {
    if parts == 0 {
        if total == 0 {
            f(cur);
        }
        return;
    }
    if total < parts {
        return;
    }
    for first in 1..=total - (parts - 1) {
        cur.push(first);
        compositions(total - first, parts - 1, cur, f);
        cur.pop();
    }
}

type Best = Option<(f64, Vec<u16>, Vec<FrameState>)>;

/// The best phone-loop path by enumerating every phone sequence and every segmentation.
fn brute_decode(m: &Tiny, w: &Weights, scores: &Array2<f32>) -> (f64, Vec<u16>, Vec<FrameState>) {
    let frames = scores.nrows();
    let mut best: Best = None;
    for k in 1..=frames {
        for code in 0..3usize.pow(k as u32) {
            let seq: Vec<u16> = (0..k)
                .map(|i| ((code / 3usize.pow(i as u32)) % 3) as u16)
                .collect();
            let parts: usize = seq.iter().map(|&c| m.ctx.topology().states(c)).sum();
            if parts > frames {
                continue;
            }
            compositions(frames, parts, &mut Vec::new(), &mut |durs| {
                if let Some((s, fr)) = path_score(m, w, scores, &seq, durs, true)
                    && best.as_ref().is_none_or(|b| s > b.0)
                {
                    best = Some((s, seq.clone(), fr));
                }
            });
        }
    }
    best.expect("some path fits")
}

/// One alignment path of a brute-force enumeration: its score, phones, frames per state, frames
/// and phone sources.
struct AlignPath<'a> {
    score: f64,
    seq: &'a [u16],
    durs: &'a [usize],
    frames: Vec<FrameState>,
    sources: &'a [Source],
}

/// Every alignment path of `words` (optional silence between words and at both ends when
/// `optional`): every silence choice and every segmentation.
fn each_alignment(
    m: &Tiny,
    w: &Weights,
    silence_prob: f64,
    scores: &Array2<f32>,
    words: &[Vec<u16>],
    optional: bool,
    f: &mut dyn FnMut(AlignPath),
) {
    let slots = if optional { words.len() + 1 } else { 0 };
    for choice in 0..(1usize << slots) {
        let mut seq = Vec::new();
        let mut sources = Vec::new();
        let mut extra = 0.0;
        for slot in 0..=words.len() {
            if optional {
                if choice >> slot & 1 == 1 {
                    seq.push(SIL);
                    sources.push(Source::Silence);
                    extra += silence_prob.ln();
                } else {
                    extra += (1.0 - silence_prob).ln();
                }
            }
            for (k, &p) in words.get(slot).into_iter().flatten().enumerate() {
                seq.push(p);
                sources.push(Source::Word {
                    word: slot,
                    position: k,
                });
            }
        }
        let parts: usize = seq.iter().map(|&c| m.ctx.topology().states(c)).sum();
        if parts > scores.nrows() {
            continue;
        }
        compositions(scores.nrows(), parts, &mut Vec::new(), &mut |durs| {
            if let Some((s, frames)) = path_score(m, w, scores, &seq, durs, false) {
                f(AlignPath {
                    score: s + extra,
                    seq: &seq,
                    durs,
                    frames,
                    sources: &sources,
                });
            }
        });
    }
}

/// The best alignment of `words` by enumerating every path ([`each_alignment`]). Returns the
/// score, the frames and the phone sources.
fn brute_align(
    m: &Tiny,
    w: &Weights,
    silence_prob: f64,
    scores: &Array2<f32>,
    words: &[Vec<u16>],
    optional: bool,
) -> Option<(f64, Vec<FrameState>, Vec<Source>)> {
    let mut best: Option<(f64, Vec<FrameState>, Vec<Source>)> = None;
    each_alignment(m, w, silence_prob, scores, words, optional, &mut |p| {
        if best.as_ref().is_none_or(|b| p.score > b.0) {
            best = Some((p.score, p.frames, p.sources.to_vec()));
        }
    });
    best
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-3 * (1.0 + a.abs().max(b.abs()))
}

#[test]
fn phone_loop_viterbi_equals_brute_force_without_pruning() {
    let cases: [(&[u8], bool, f32, f32, usize); 6] = [
        // (states per phone, context-dependent, lm weight, insertion penalty, frames)
        (&[2, 2, 2], false, 0.0, 0.0, 7),
        (&[2, 2, 2], false, 1.0, -0.7, 7),
        (&[2, 2, 2], true, 0.0, 0.0, 7),
        (&[2, 2, 2], true, 1.5, 0.4, 8),
        (&[3, 3, 3], true, 1.0, -0.3, 9),
        (&[3, 2, 1], true, 0.8, 0.2, 8),
    ];
    let mut checked = 0;
    for (case, &(states, cd, lmw, ins, frames)) in cases.iter().enumerate() {
        for seed in 0..4u64 {
            let m = tiny(100 * case as u64 + seed, states, cd);
            let cfg = DecodeConfig {
                lm_weight: lmw,
                insertion_penalty: ins,
                beam: 1e9,
                max_active: usize::MAX,
                ..DecodeConfig::default()
            };
            let w = Weights {
                ac: cfg.acoustic_scale as f64,
                ts: cfg.transition_scale as f64,
                lmw: lmw as f64,
                ins: ins as f64,
            };
            let graph = PhoneLoop::build(&m.ctx, &m.trans, &m.lm, &cfg).unwrap();
            assert_eq!(
                graph.is_context_independent(),
                m.ctx.is_context_independent()
            );
            let scores = random_scores(seed + 7, frames, m.ctx.num_leaves());
            let got = graph.decode(scores.view()).unwrap();
            let (score, seq, fr) = brute_decode(&m, &w, &scores);
            assert!(got.reached_final);
            assert_eq!(got.phone_ids(), seq, "case {case} seed {seed}");
            assert_eq!(got.frames, fr, "case {case} seed {seed}");
            assert!(
                close(got.score, score),
                "case {case} seed {seed}: {} vs {score}",
                got.score
            );
            // Spans agree with the frames.
            let mut t = 0;
            for span in &got.phones {
                assert_eq!(span.start, t);
                assert!(
                    got.frames[span.start..span.end]
                        .iter()
                        .all(|f| f.phone == span.phone)
                );
                assert_eq!(got.frames[span.start].state, 0);
                t = span.end;
            }
            assert_eq!(t, frames);
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

#[test]
fn phone_loop_pruned_to_one_token_still_returns_a_path() {
    let m = tiny(5, &[2, 2, 2], true);
    let cfg = DecodeConfig {
        max_active: 1,
        ..DecodeConfig::default()
    };
    let graph = PhoneLoop::build(&m.ctx, &m.trans, &m.lm, &cfg).unwrap();
    let scores = random_scores(9, 40, m.ctx.num_leaves());
    let got = graph.decode(scores.view()).unwrap();
    assert_eq!(got.frames.len(), 40);
    let exact = PhoneLoop::build(
        &m.ctx,
        &m.trans,
        &m.lm,
        &DecodeConfig {
            beam: 1e9,
            max_active: usize::MAX,
            ..DecodeConfig::default()
        },
    )
    .unwrap()
    .decode(scores.view())
    .unwrap();
    // Pruning can only lose: the exact search scores at least as well.
    assert!(!got.reached_final || exact.score >= got.score - 1e-3);
}

#[test]
fn forced_alignment_equals_brute_force_without_pruning() {
    // (states per phone, context-dependent, words, optional silence, frames)
    type Case = (&'static [u8], bool, Vec<Vec<u16>>, bool, usize);
    let cases: [Case; 6] = [
        (&[2, 2, 2], false, vec![vec![0, 1]], false, 7),
        (&[2, 2, 2], true, vec![vec![0, 1, 0]], false, 8),
        (&[2, 2, 2], true, vec![vec![0], vec![1]], true, 8),
        (&[3, 3, 3], true, vec![vec![1, 0], vec![0]], true, 12),
        (&[2, 2, 1], true, vec![vec![0, 1], vec![1]], true, 9),
        (&[3, 2, 2], true, vec![vec![2, 0], vec![1, 1]], true, 11),
    ];
    for (case, (states, cd, words, optional, frames)) in cases.iter().enumerate() {
        for seed in 0..3u64 {
            let m = tiny(1000 + 10 * case as u64 + seed, states, *cd);
            let cfg = AlignConfig {
                beam: 1e9,
                retry_beam: 0.0,
                silence_prob: 0.3,
                ..AlignConfig::default()
            };
            let w = Weights {
                ac: cfg.acoustic_scale as f64,
                ts: cfg.transition_scale as f64,
                lmw: 0.0,
                ins: 0.0,
            };
            let aligner = Aligner::new(&m.ctx, &m.trans, &cfg).unwrap();
            let scores = random_scores(seed + 50, *frames, m.ctx.num_leaves());
            let got = if *optional {
                aligner.align_words(words, scores.view()).unwrap()
            } else {
                aligner.align_phones(&words[0], scores.view()).unwrap()
            };
            let (score, fr, sources) = brute_align(&m, &w, 0.3, &scores, words, *optional).unwrap();
            assert_eq!(got.frames, fr, "case {case} seed {seed}");
            assert_eq!(got.sources, sources, "case {case} seed {seed}");
            assert!(close(got.score.unwrap(), score), "case {case} seed {seed}");
            assert!(!got.retried);
            assert_eq!(got.leaves(), fr.iter().map(|f| f.leaf).collect::<Vec<_>>());
        }
    }
}

#[test]
fn forward_backward_equals_a_sum_over_every_path() {
    // (states per phone, context-dependent, words, optional silence, frames)
    type Case = (&'static [u8], bool, Vec<Vec<u16>>, bool, usize);
    let cases: [Case; 5] = [
        (&[2, 2, 2], false, vec![vec![0, 1]], false, 7),
        (&[2, 2, 2], true, vec![vec![0, 1, 0]], false, 8),
        (&[2, 2, 2], true, vec![vec![0], vec![1]], true, 8),
        (&[3, 2, 2], true, vec![vec![2, 0], vec![1, 1]], true, 11),
        (&[1, 1, 1], true, vec![vec![0, 0], vec![1]], true, 6),
    ];
    for (case, (states, cd, words, optional, frames)) in cases.iter().enumerate() {
        for seed in 0..3u64 {
            let m = tiny(2000 + 10 * case as u64 + seed, states, *cd);
            // A true E-step: scores and transitions unscaled (the scores made less peaked so
            // that many paths matter).
            let cfg = AlignConfig {
                acoustic_scale: 1.0,
                transition_scale: 1.0,
                silence_prob: 0.3,
                ..AlignConfig::default()
            };
            let w = Weights {
                ac: 1.0,
                ts: 1.0,
                lmw: 0.0,
                ins: 0.0,
            };
            let aligner = Aligner::new(&m.ctx, &m.trans, &cfg).unwrap();
            let scores = random_scores(seed + 60, *frames, m.ctx.num_leaves()).mapv(|x| x / 10.0);
            let leaves = m.ctx.num_leaves();
            // Brute force: log p(x) = logsum over paths; posteriors and transitions weighted by
            // each path's share.
            // (score, frames, per state: phone, state, self-loops, forwards)
            type Path = (f64, Vec<FrameState>, Vec<(u16, u8, f64, f64)>);
            let mut paths: Vec<Path> = Vec::new();
            each_alignment(&m, &w, 0.3, &scores, words, *optional, &mut |p| {
                let mut trans = Vec::new();
                let mut d = p.durs.iter();
                for &c in p.seq {
                    for s in 0..m.ctx.topology().states(c) as u8 {
                        let n = *d.next().unwrap() as f64;
                        trans.push((c, s, n - 1.0, 1.0));
                    }
                }
                paths.push((p.score, p.frames, trans));
            });
            let max = paths.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
            let total = max + paths.iter().map(|p| (p.0 - max).exp()).sum::<f64>().ln();
            let mut post = Array2::<f64>::zeros((*frames, leaves));
            let mut want = m.trans.counts();
            for (score, fr, trans) in &paths {
                let share = (score - total).exp();
                for (t, f) in fr.iter().enumerate() {
                    post[[t, f.leaf as usize]] += share;
                }
                for &(c, s, loops, fwd) in trans {
                    want.add_expected(c, s, share * loops, share * fwd).unwrap();
                }
            }
            let graph = if *optional {
                let alts: Vec<Vec<Vec<u16>>> = words.iter().map(|w| vec![w.clone()]).collect();
                aligner.compile_alternatives(&alts, true).unwrap()
            } else {
                aligner.compile(&[&words[0]], false).unwrap()
            };
            let mut got_counts = m.trans.counts();
            let got = aligner
                .occupancy(&graph, scores.view(), 0.0, &mut got_counts)
                .unwrap();
            let what = format!("case {case} seed {seed}");
            assert!(
                (got.log_likelihood - total).abs() < 1e-6,
                "{what}: {} vs {total}",
                got.log_likelihood
            );
            let mut got_post = Array2::<f64>::zeros((*frames, leaves));
            let mut last = None;
            for &(t, l, g) in &got.entries {
                assert!(last < Some((t, l)), "{what}: entries out of order");
                last = Some((t, l));
                got_post[[t as usize, l as usize]] = g as f64;
            }
            for ((t, l), &p) in post.indexed_iter() {
                assert!(
                    (got_post[[t, l]] - p).abs() < 1e-5,
                    "{what}: frame {t} leaf {l}"
                );
            }
            for t in 0..*frames {
                assert!(
                    (got_post.row(t).sum() - 1.0).abs() < 1e-5,
                    "{what}: frame {t}"
                );
            }
            for c in 0..3u16 {
                for s in 0..states[c as usize] {
                    for (a, b) in [
                        (got_counts.self_loops(c, s), want.self_loops(c, s)),
                        (got_counts.forwards(c, s), want.forwards(c, s)),
                    ] {
                        assert!(
                            (a - b).abs() < 1e-6,
                            "{what}: phone {c} state {s}: {a} vs {b}"
                        );
                    }
                }
            }
            // With a pruning threshold, only what is at least that likely stays.
            let pruned = aligner
                .occupancy(&graph, scores.view(), 0.2, &mut m.trans.counts())
                .unwrap();
            let kept = post.iter().filter(|&&p| p >= 0.2).count();
            assert_eq!(pruned.entries.len(), kept, "{what}");
        }
    }
}

/// Scores where frame t's own tied state scores 0 and every other -20: the path through them is
/// the answer.
fn clean_scores(frames: &[FrameState], leaves: usize) -> Array2<f32> {
    Array2::from_shape_fn((frames.len(), leaves), |(t, j)| {
        if frames[t].leaf as usize == j {
            0.0
        } else {
            -20.0
        }
    })
}

#[test]
fn alignment_recovers_known_boundaries() {
    let m = tiny(77, &[3, 3, 3], true);
    // sil a b a sil with known state durations.
    let seq = [SIL, 0, 1, 0, SIL];
    let durs = [2, 3, 1, 1, 1, 4, 2, 2, 2, 1, 5, 1, 3, 1, 2];
    let w = Weights {
        ac: 1.0,
        ts: 0.0,
        lmw: 0.0,
        ins: 0.0,
    };
    let zeros = Array2::zeros((31, m.ctx.num_leaves()));
    let (_, truth) = path_score(&m, &w, &zeros, &seq, &durs, false).unwrap();
    // Different (phone, state)s have different tied states here, so the answer is unique.
    let scores = clean_scores(&truth, m.ctx.num_leaves());
    let aligner = Aligner::new(&m.ctx, &m.trans, &AlignConfig::default()).unwrap();
    let got = aligner.align_phones(&seq, scores.view()).unwrap();
    assert_eq!(got.frames, truth);
    let starts: Vec<usize> = got.phones.iter().map(|s| s.start).collect();
    assert_eq!(starts, vec![0, 6, 12, 18, 25]);
    assert_eq!(
        got.phones.iter().map(|s| s.phone).collect::<Vec<_>>(),
        seq.to_vec()
    );
    let mut counts = m.trans.counts();
    got.count_transitions(&mut counts).unwrap();
    // b (phone 1) states 0, 1, 2 last 2, 2, 2 frames: one self-loop and one forward each.
    for s in 0..3 {
        assert_eq!((counts.self_loops(1, s), counts.forwards(1, s)), (1.0, 1.0));
    }
}

#[test]
fn alignment_retries_with_the_wider_beam_and_fails_clearly_without() {
    // One state per phone; `a` scores well everywhere, `b` badly: a 1-token beam follows `a` to
    // the last frame and cannot end, since the transcript ends with `b`.
    let topo = Topology::uniform(3, 1).unwrap();
    let ctx = ContextTable::build(&NAMES, SIL, &topo, 3, |_, c, _, _| Some(c as u32)).unwrap();
    let trans = Transitions::new(&NAMES, &topo, 0.5).unwrap();
    let scores = Array2::from_shape_fn((4, 3), |(_, j)| if j == 0 { 0.0 } else { -5.0 });
    let cfg = AlignConfig {
        beam: 1e-4,
        retry_beam: 40.0,
        ..AlignConfig::default()
    };
    let got = Aligner::new(&ctx, &trans, &cfg)
        .unwrap()
        .align_phones(&[0, 1], scores.view())
        .unwrap();
    assert!(got.retried);
    assert_eq!(
        got.frames.iter().map(|f| f.phone).collect::<Vec<_>>(),
        vec![0, 0, 0, 1]
    );
    let no_retry = AlignConfig {
        retry_beam: 0.0,
        ..cfg
    };
    let e = Aligner::new(&ctx, &trans, &no_retry)
        .unwrap()
        .align_phones(&[0, 1], scores.view())
        .unwrap_err();
    assert!(matches!(e, AlignError::NoPath { .. }));
    assert!(e.to_string().contains("beam"), "{e}");
}

#[test]
fn equal_alignment_spreads_states_as_kaldi() {
    let m = tiny(3, &[3, 3, 3], false);
    // 2 phones x 3 states over 10 frames: 4 extra frames go to the first 4 states.
    let ali = equal_align(&m.ctx, &[0, 1], 10).unwrap();
    let states: Vec<(u16, u8)> = ali.frames.iter().map(|f| (f.phone, f.state)).collect();
    assert_eq!(
        states,
        vec![
            (0, 0),
            (0, 0),
            (0, 1),
            (0, 1),
            (0, 2),
            (0, 2),
            (1, 0),
            (1, 0),
            (1, 1),
            (1, 2)
        ]
    );
    // 14 frames: 8 extra, one more each, the first 2 states a second one: 3 3 2 2 2 2.
    let ali = equal_align(&m.ctx, &[0, 1], 14).unwrap();
    let lens: Vec<usize> = ali
        .frames
        .chunk_by(|a, b| a == b)
        .map(|run| run.len())
        .collect();
    assert_eq!(lens, vec![3, 3, 2, 2, 2, 2]);
    assert_eq!(
        ali.phones
            .iter()
            .map(|s| (s.start, s.end))
            .collect::<Vec<_>>(),
        vec![(0, 8), (8, 14)]
    );
    assert_eq!(ali.frames[0].leaf, m.ctx.leaf(SIL, 0, 1, 0).unwrap());
    assert_eq!(ali.score, None);
    // Exactly one frame per state, and one too few.
    assert_eq!(equal_align(&m.ctx, &[0, 1], 6).unwrap().frames.len(), 6);
    let e = equal_align(&m.ctx, &[0, 1], 5).unwrap_err();
    assert_eq!(
        e,
        AlignError::TooFewFrames {
            needed: 6,
            phones: 2,
            frames: 5
        }
    );
}

#[test]
fn bad_alignment_input_gets_clear_errors() {
    let m = tiny(1, &[3, 3, 3], true);
    let aligner = Aligner::new(&m.ctx, &m.trans, &AlignConfig::default()).unwrap();
    let scores = random_scores(1, 5, m.ctx.num_leaves());
    let empty: [u16; 0] = [];
    assert_eq!(
        aligner.align_phones(&empty, scores.view()).unwrap_err(),
        AlignError::EmptyTranscript
    );
    assert_eq!(
        aligner
            .align_words(&[vec![0u16], vec![]], scores.view())
            .unwrap_err(),
        AlignError::EmptyWord { word: 1 }
    );
    let e = aligner.align_phones(&[0, 7], scores.view()).unwrap_err();
    assert_eq!(
        e,
        AlignError::UnknownPhone {
            phone: 7,
            num_phones: 3
        }
    );
    let e = aligner.align_phones(&[0, 1], scores.view()).unwrap_err();
    assert_eq!(
        e,
        AlignError::TooFewFrames {
            needed: 6,
            phones: 2,
            frames: 5
        }
    );
    assert!(e.to_string().contains("needs at least 6 frames"), "{e}");
    let wrong = random_scores(1, 9, m.ctx.num_leaves() + 1);
    let e = aligner
        .align_phones(&[0], wrong.view())
        .unwrap_err()
        .to_string();
    assert!(e.contains("columns"), "{e}");
    let mut nan = random_scores(1, 9, m.ctx.num_leaves());
    nan[[4, 1]] = f32::NAN;
    let e = aligner
        .align_phones(&[0], nan.view())
        .unwrap_err()
        .to_string();
    assert!(e.contains("frame 4") && e.contains("finite"), "{e}");

    // A phone the tying cannot answer.
    let topo = Topology::uniform(3, 2).unwrap();
    let gaps = ContextTable::build(&NAMES, SIL, &topo, 4, |_, c, _, s| {
        (c != 1).then_some(c as u32 + s as u32)
    })
    .unwrap();
    let trans = Transitions::new(&NAMES, &topo, 0.5).unwrap();
    let e = Aligner::new(&gaps, &trans, &AlignConfig::default())
        .unwrap()
        .align_phones(&[0, 1], random_scores(2, 9, 4).view())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no tied state for b state 0 between a and sil"),
        "{e}"
    );
}

#[test]
fn decode_and_align_options_refuse_nonsense() {
    let bad_decode = [
        (
            DecodeConfig {
                beam: -1.0,
                ..DecodeConfig::default()
            },
            "beam must be a number > 0",
        ),
        (
            DecodeConfig {
                lm_weight: f32::NAN,
                ..DecodeConfig::default()
            },
            "lm_weight",
        ),
        (
            DecodeConfig {
                insertion_penalty: f32::INFINITY,
                ..DecodeConfig::default()
            },
            "insertion_penalty",
        ),
        (
            DecodeConfig {
                max_active: 0,
                ..DecodeConfig::default()
            },
            "max_active",
        ),
        (
            DecodeConfig {
                acoustic_scale: 0.0,
                ..DecodeConfig::default()
            },
            "acoustic_scale",
        ),
        (
            DecodeConfig {
                prior_scale: -0.5,
                ..DecodeConfig::default()
            },
            "prior_scale",
        ),
    ];
    for (cfg, want) in bad_decode {
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.starts_with("decode options: ") && e.contains(want), "{e}");
    }
    let bad_align = [
        (
            AlignConfig {
                retry_beam: 5.0,
                ..AlignConfig::default()
            },
            "retry_beam must be 0 (no retry) or a number >= beam",
        ),
        (
            AlignConfig {
                silence_prob: 1.0,
                ..AlignConfig::default()
            },
            "silence_prob",
        ),
        (
            AlignConfig {
                beam: f32::NAN,
                ..AlignConfig::default()
            },
            "beam",
        ),
    ];
    for (cfg, want) in bad_align {
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.starts_with("align options: ") && e.contains(want), "{e}");
    }
    // Building with bad options fails before any work.
    let m = tiny(1, &[2, 2, 2], false);
    let e = PhoneLoop::build(
        &m.ctx,
        &m.trans,
        &m.lm,
        &DecodeConfig {
            beam: f32::NAN,
            ..DecodeConfig::default()
        },
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("beam"), "{e}");
    let graph = PhoneLoop::build(&m.ctx, &m.trans, &m.lm, &DecodeConfig::default()).unwrap();
    let e = graph
        .decode(Array2::<f32>::zeros((0, m.ctx.num_leaves())).view())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no frames"), "{e}");
}

#[test]
fn decoding_a_constructed_score_matrix_recovers_the_phone_string() {
    // The 48 TIMIT phones, monophone and tree-like tyings; scores where every frame's own tied
    // state stands 30-50 nats above all others. Default options: the decoder must return the
    // utterance's phones, and the aligner its states and boundaries, exactly.
    for leaves in [144, 2000] {
        let m = synthetic::model(leaves, 3);
        let graph = PhoneLoop::build(&m.ctx, &m.trans, &m.lm, &DecodeConfig::default()).unwrap();
        assert_eq!(graph.is_context_independent(), leaves == 144);
        assert_eq!(graph.phones().len(), 48);
        let aligner = Aligner::new(&m.ctx, &m.trans, &AlignConfig::default()).unwrap();
        for seed in 0..3 {
            let u = m.utterance(300, seed);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let scores = Array2::from_shape_fn((u.frames.len(), m.ctx.num_leaves()), |(t, j)| {
                if u.frames[t].leaf as usize == j {
                    0.0
                } else {
                    -rng.random_range(30.0..50.0f32)
                }
            });
            let got = graph.decode(scores.view()).unwrap();
            assert!(got.reached_final);
            assert_eq!(
                got.phone_ids(),
                u.phones,
                "{leaves} tied states, seed {seed}"
            );
            assert_eq!(got.frames, u.frames);
            let ali = aligner.align_phones(&u.phones, scores.view()).unwrap();
            assert_eq!(ali.phones, u.spans);
            assert_eq!(ali.frames, u.frames);
        }
    }
}
