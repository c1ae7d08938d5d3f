//! Flat start: monophone HMM-GMMs trained from transcripts without times, as Kaldi's
//! `steps/train_mono.sh` does, ending in a Viterbi alignment of every utterance.
//!
//! 1. One context-independent HMM per phone (3 states, [`ContextTable`] with one tied state per
//!    (phone, state)); only the phones the transcripts use (and `sil`) get states.
//! 2. The equal alignment ([`equal_align`], Kaldi `align-equal-compiled`): a word transcript's
//!    optional silences and pronunciations are drawn at random (seeded per utterance), as Kaldi's
//!    `EqualAlign` draws a random path through the training graph.
//! 3. `iterations` EM passes, each one pass of GMM re-estimation on the current alignment (the
//!    first gives one Gaussian per state: `gmm-init-mono` + the first `gmm-est`), followed by
//!    mix-up toward `total_gaussians`, shared out in proportion to occupancy^`power` and grown by
//!    equal steps over the first `mixup_iterations` passes (`gmm-est --mix-up --power`).
//! 4. Viterbi realignment ([`Aligner`], GMM log-likelihoods as scores) before passes
//!    1-10, 12, 14, ..., 20, 23, 26, ..., 38 (Kaldi's `realign_iters`), transitions re-estimated
//!    from the alignment counts each time.
//!
//! 5. Optionally (`baum_welch_passes`), passes 1..=n instead train on soft occupancies: per
//!    utterance, forward-backward over every path of its transcript ([`Aligner::occupancy`],
//!    scores and transitions unscaled) gives each state's posterior at each frame, and the GMMs
//!    and transitions are re-estimated from those expected counts (HTK `HERest`). The first
//!    Viterbi pass after them realigns; if the last pass is one of them, the model realigns
//!    every utterance at the end, so the alignments handed on are always Viterbi paths.
//!
//! An utterance whose realignment fails keeps its previous alignment for the statistics (the
//! counts stay comparable between passes); it is reported as failed when its last realignment
//! failed. One that cannot even be equally aligned (too few frames, no phones) is left out from
//! the start. Utterances go through rayon (one [`SearchScratch`] per thread); the GMM statistics
//! are summed in a fixed order, so the result does not depend on the thread count.

use ndarray::{Array2, ArrayView2, Axis, concatenate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::corpus::PhoneSet;
use crate::decode::forward_backward::MAX_CELLS;
use crate::decode::{
    AlignConfig, AlignError, AlignGraph, Aligner, Alignment, Occupancy, SearchScratch, equal_align,
};
use crate::error::{Error, Result};
use crate::model::gmm::{GmmConfig, StateGmms, TrainingFrames};
use crate::model::hmm::{ContextTable, HmmConfig, TransitionCounts, Transitions};

/// What was said in one utterance, as the aligner reads it (48-set phone ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transcript {
    /// Phones as they are, silences included (TIMIT's transcripts): no optional silence.
    Phones(Vec<u16>),
    /// Words, each with one or more pronunciations; an optional `sil` between words and at both
    /// ends.
    Words(Vec<Vec<Vec<u16>>>),
}

impl Transcript {
    /// Every phone id the transcript may use.
    fn phones(&self) -> Box<dyn Iterator<Item = u16> + '_> {
        match self {
            Transcript::Phones(p) => Box::new(p.iter().copied()),
            Transcript::Words(w) => Box::new(w.iter().flatten().flatten().copied()),
        }
    }

    /// The transcript's alignment graph.
    pub fn compile(&self, aligner: &Aligner) -> std::result::Result<AlignGraph, AlignError> {
        match self {
            Transcript::Phones(p) => aligner.compile(&[p], false),
            Transcript::Words(w) => aligner.compile_alternatives(w, true),
        }
    }

    /// One path through the transcript for the equal alignment: the phones as they are, or per
    /// word a random pronunciation with an optional `sil` before it (and one at the end), each
    /// taken with probability `silence_prob`.
    fn equal_path(&self, sil: u16, silence_prob: f32, rng: &mut ChaCha8Rng) -> Vec<u16> {
        match self {
            Transcript::Phones(p) => p.clone(),
            Transcript::Words(words) => {
                let mut out = Vec::new();
                for w in words {
                    if rng.random::<f32>() < silence_prob {
                        out.push(sil);
                    }
                    if !w.is_empty() {
                        out.extend_from_slice(&w[rng.random_range(0..w.len())]);
                    }
                }
                if rng.random::<f32>() < silence_prob {
                    out.push(sil);
                }
                out
            }
        }
    }
}

pub use crate::model::gmm::flat_start::FlatStartConfig;

/// Posteriors below this are left out of the Baum-Welch statistics (HTK HERest prunes by beam;
/// a share this small moves no mean).
const MIN_POSTERIOR: f32 = 1e-4;

/// Per frame of `utts` in order, the leaf its utterance's alignment puts it in, or `u32::MAX`
/// (no label: left out of the statistics) over an utterance without an alignment.
pub(crate) fn leaf_labels<'a>(
    alignments: impl IntoIterator<Item = Option<&'a Alignment>>,
    utts: &[FlatStartUtt],
) -> Vec<u32> {
    alignments
        .into_iter()
        .zip(utts)
        .flat_map(|(a, u)| match a {
            Some(a) => a.leaves(),
            None => vec![u32::MAX; u.feats.nrows()],
        })
        .collect()
}

/// Kaldi's `realign_iters` for 40 passes, continued: 1-10, then every 2nd pass to 20, then every
/// 3rd.
pub fn realigns_before(pass: usize) -> bool {
    (1..=10).contains(&pass)
        || (pass > 10 && pass <= 20 && pass.is_multiple_of(2))
        || (pass > 20 && (pass - 20).is_multiple_of(3))
}

/// One utterance to train on.
#[derive(Debug, Clone, Copy)]
pub struct FlatStartUtt<'a> {
    /// Frames x dims (the pipeline's features, e.g. MFCC + deltas with CMVN).
    pub feats: ArrayView2<'a, f32>,
    /// What was said.
    pub transcript: &'a Transcript,
}

/// Reported after every pass.
#[derive(Debug, Clone, PartialEq)]
pub struct Pass {
    /// 0-based pass.
    pub pass: usize,
    /// Whether the utterances were realigned before it.
    pub realigned: bool,
    /// Utterances whose alignment in use failed its last realignment.
    pub failed: usize,
    /// Gaussians after the pass's mix-up.
    pub gaussians: usize,
    /// Average log-likelihood per frame of the alignment under the model the pass started from
    /// (the first pass: under its own single Gaussians; a Baum-Welch pass: of all the
    /// transcripts' paths, the forward probability).
    pub log_likelihood: f64,
}

/// The trained monophone model.
#[derive(Debug, Clone)]
pub struct MonoModel {
    /// Context-independent tying: one tied state per (phone, state) of the phones used.
    pub ctx: ContextTable,
    /// Re-estimated transition probabilities.
    pub trans: Transitions,
    /// One GMM per tied state.
    pub gmms: StateGmms,
}

/// What a flat start produces.
#[derive(Debug, Clone)]
pub struct FlatStart {
    /// The model after the last pass.
    pub model: MonoModel,
    /// Per utterance, in input order: its last successful Viterbi alignment, or why it has none
    /// (it could not be equally aligned, or its last realignment failed).
    pub alignments: Vec<std::result::Result<Alignment, AlignError>>,
    /// One entry per pass.
    pub history: Vec<Pass>,
}

/// Train from `utts` (see the module comment); `progress` is called after every pass.
pub fn flat_start(
    utts: &[FlatStartUtt],
    cfg: &FlatStartConfig,
    hmm: &HmmConfig,
    align: &AlignConfig,
    mut progress: impl FnMut(&Pass),
) -> Result<FlatStart> {
    cfg.validate()?;
    align.validate()?;
    let set = PhoneSet::timit();
    let names = set.p48.names();
    let sil = set.silence48();
    let topo = hmm.topology(names.len(), sil)?;
    check_features(utts)?;
    let (ctx, n_states) = monophone_table(utts, names, sil, &topo)?;
    let mut trans = Transitions::from_config(names, &topo, hmm)?;
    let mut alis = UttAlignments::equal(utts, &ctx, sil, cfg.seed, align.silence_prob)?;
    let views: Vec<ArrayView2<f32>> = utts.iter().map(|u| u.feats).collect();
    let x = concatenate(Axis(0), &views).map_err(|e| Error::invalid(e.to_string()))?;
    let gcfg = cfg.em_config();
    let inc = cfg.total_gaussians.saturating_sub(n_states) / cfg.mixup_iterations.max(1);
    let mut num_gauss = n_states;
    let mut gmms: Option<StateGmms> = None;
    let mut history = Vec::with_capacity(cfg.iterations);
    // A true E-step: scores and transitions unscaled.
    let bw_align = AlignConfig {
        acoustic_scale: 1.0,
        transition_scale: 1.0,
        ..align.clone()
    };
    if cfg.baum_welch_passes > 0 {
        check_forward_backward_memory(utts, &Aligner::new(&ctx, &trans, &bw_align)?)?;
    }
    let soft = |pass: usize| pass > 0 && pass <= cfg.baum_welch_passes;
    for pass in 0..cfg.iterations {
        // The first Viterbi pass after Baum-Welch ones realigns whatever the schedule.
        let realigned = pass > 0 && !soft(pass) && (realigns_before(pass) || soft(pass - 1));
        let (data, ll) = match (&gmms, soft(pass)) {
            (Some(model), true) => {
                let s = alis.occupancies(&Aligner::new(&ctx, &trans, &bw_align)?, utts, model)?;
                trans.update_with(&s.counts, hmm)?;
                let data = TrainingFrames::weighted(x.view(), &s.entries, n_states, cfg.var_floor)?;
                (data, Some(s.log_likelihood))
            }
            _ => {
                if let (true, Some(model)) = (realigned, &gmms) {
                    alis.realign(&Aligner::new(&ctx, &trans, align)?, utts, model);
                }
                if pass == 0 || realigned {
                    trans.update_with(&count_transitions(&alis.current, &trans)?, hmm)?;
                }
                let labels = alis.labels(utts);
                let data = TrainingFrames::new(x.view(), &labels, n_states, cfg.var_floor)?;
                (data, None)
            }
        };
        let (next, em_ll) = em_pass(gmms.as_ref(), &data, &gcfg)?;
        let ll = ll.unwrap_or(em_ll);
        if !ll.is_finite() {
            return Err(Error::invalid(format!(
                "flat start pass {pass}: the log-likelihood is not finite"
            )));
        }
        let targets = mixup_targets(&data.state_counts(), num_gauss, cfg);
        let next = next.mix_up(&targets)?;
        if pass >= 1 && pass <= cfg.mixup_iterations {
            num_gauss += inc;
        }
        let p = Pass {
            pass,
            realigned,
            failed: alis.failed(),
            gaussians: next.num_gaussians(),
            log_likelihood: ll,
        };
        progress(&p);
        history.push(p);
        gmms = Some(next);
    }
    let gmms = gmms.expect("at least one pass");
    if soft(cfg.iterations - 1) {
        // The alignments handed on are Viterbi ones, of the final model.
        let aligner = Aligner::new(&ctx, &trans, align)?;
        alis.realign(&aligner, utts, &gmms);
    }
    Ok(FlatStart {
        model: MonoModel { ctx, trans, gmms },
        alignments: alis.into_results(),
        history,
    })
}

/// Refuse, before any pass, Baum-Welch passes whose forward-backward would not fit in memory:
/// each worker thread holds α (f64) for every frame x state of its utterance, so the largest
/// utterances, one per thread, count. (One beyond [`MAX_CELLS`] is not run: it trains on its
/// Viterbi alignment instead, and is reported as failed.)
fn check_forward_backward_memory(utts: &[FlatStartUtt], aligner: &Aligner) -> Result<()> {
    let mut cells: Vec<usize> = utts
        .par_iter()
        .filter_map(|u| {
            let graph = u.transcript.compile(aligner).ok()?;
            let c = u.feats.nrows().saturating_mul(graph.num_states());
            (c <= MAX_CELLS).then_some(c)
        })
        .collect();
    cells.sort_unstable_by(|a, b| b.cmp(a));
    let threads = rayon::current_num_threads();
    let bytes: f64 = cells.iter().take(threads).map(|&c| c as f64 * 8.0).sum();
    crate::memory::check(
        &format!(
            "forward-backward for the Baum-Welch passes ({threads} threads, each on an \
             utterance's frames x states in f64; the largest {} cells)",
            cells.first().copied().unwrap_or(0)
        ),
        bytes,
    )
}

/// There are utterances, and their features all have the first one's dimension.
fn check_features(utts: &[FlatStartUtt]) -> Result<()> {
    if utts.is_empty() {
        return Err(Error::invalid("a flat start needs at least one utterance"));
    }
    let dim = utts[0].feats.ncols();
    if let Some(u) = utts.iter().find(|u| u.feats.ncols() != dim) {
        return Err(Error::DimensionMismatch {
            what: "the flat start's features",
            expected: dim,
            got: u.feats.ncols(),
        });
    }
    Ok(())
}

/// The context-independent tying and its number of tied states: states only for the phones the
/// transcripts use (every state needs frames), and `sil` always.
fn monophone_table(
    utts: &[FlatStartUtt],
    names: &[String],
    sil: u16,
    topo: &crate::model::hmm::Topology,
) -> Result<(ContextTable, usize)> {
    let mut first_leaf: Vec<Option<u32>> = vec![None; names.len()];
    let mut used = vec![false; names.len()];
    used[sil as usize] = true;
    for u in utts {
        for p in u.transcript.phones() {
            match used.get_mut(p as usize) {
                Some(x) => *x = true,
                None => {
                    return Err(Error::invalid(format!(
                        "phone id {p} in a transcript is outside the {}-phone set",
                        names.len()
                    )));
                }
            }
        }
    }
    let mut num_leaves = 0u32;
    for (p, &u) in used.iter().enumerate() {
        if u {
            first_leaf[p] = Some(num_leaves);
            num_leaves += topo.states(p as u16) as u32;
        }
    }
    let ctx = ContextTable::build(names, sil, topo, num_leaves as usize, |_, c, _, s| {
        first_leaf[c as usize].map(|f| f + s as u32)
    })?;
    Ok((ctx, num_leaves as usize))
}

/// One EM pass over `data`: the first trains one Gaussian per state, later ones re-estimate
/// `gmms`; the new model and the log-likelihood per frame it reports.
fn em_pass(
    gmms: Option<&StateGmms>,
    data: &TrainingFrames,
    gcfg: &GmmConfig,
) -> Result<(StateGmms, f64)> {
    match gmms {
        None => {
            let mut ll = 0.0;
            let m = StateGmms::train_on(data, gcfg, |p| ll = p.log_likelihood)?;
            Ok((m, ll))
        }
        Some(m) => m.em_step(data, gcfg),
    }
}

/// One Baum-Welch E-step over the utterances ([`UttAlignments::occupancies`]).
struct SoftLabels {
    /// `(frame of the concatenated utterances, tied state, posterior)`.
    entries: Vec<(u32, u32, f32)>,
    /// Expected transition counts.
    counts: TransitionCounts,
    /// Log-likelihood per frame over all paths.
    log_likelihood: f64,
}

/// Every utterance's alignment during a flat start.
struct UttAlignments {
    /// What the statistics use: the equal alignment, then the last successful realignment.
    current: Vec<Option<Alignment>>,
    /// Why an utterance has none, or why its last realignment failed.
    failed: Vec<Option<AlignError>>,
}

impl UttAlignments {
    /// Equal alignments, seeded per utterance (so the thread count does not matter); refused
    /// when no utterance could be equally aligned.
    fn equal(
        utts: &[FlatStartUtt],
        ctx: &ContextTable,
        sil: u16,
        seed: u64,
        silence_prob: f32,
    ) -> Result<Self> {
        let equal: Vec<std::result::Result<Alignment, AlignError>> = utts
            .par_iter()
            .enumerate()
            .map(|(i, u)| {
                let mut rng = ChaCha8Rng::seed_from_u64(
                    seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let path = u.transcript.equal_path(sil, silence_prob, &mut rng);
                equal_align(ctx, &path, u.feats.nrows())
            })
            .collect();
        let (current, failed): (Vec<Option<Alignment>>, Vec<Option<AlignError>>) = equal
            .into_iter()
            .map(|a| match a {
                Ok(a) => (Some(a), None),
                Err(e) => (None, Some(e)),
            })
            .unzip();
        if current.iter().all(Option::is_none) {
            let why = failed.iter().flatten().next().cloned();
            return Err(Error::invalid(format!(
                "no utterance could be equally aligned{}",
                why.map_or(String::new(), |w| format!(" (e.g. {w})"))
            )));
        }
        Ok(UttAlignments { current, failed })
    }

    /// Viterbi-realign the utterances that have an alignment with `model`; one whose
    /// realignment fails keeps its previous alignment and records why.
    fn realign(&mut self, aligner: &Aligner, utts: &[FlatStartUtt], model: &StateGmms) {
        let fresh = align_all(
            aligner,
            utts,
            |f| model.log_likelihoods(f),
            |i| self.current[i].is_some(),
        );
        for (i, a) in fresh.into_iter().enumerate() {
            match a {
                None => {}
                Some(Ok(a)) => {
                    self.current[i] = Some(a);
                    self.failed[i] = None;
                }
                Some(Err(e)) => self.failed[i] = Some(e),
            }
        }
    }

    /// Forward-backward over every utterance that has an alignment (see
    /// [`Aligner::occupancy`]): soft labels `(frame of the concatenated utterances, tied state,
    /// posterior)`, the expected transition counts, and the log-likelihood per frame over all
    /// paths. An utterance whose forward-backward fails contributes its current alignment as
    /// hard labels and records why.
    fn occupancies(
        &mut self,
        aligner: &Aligner,
        utts: &[FlatStartUtt],
        model: &StateGmms,
    ) -> Result<SoftLabels> {
        let mut offsets = Vec::with_capacity(utts.len());
        let mut at = 0u32;
        for u in utts {
            offsets.push(at);
            at += u.feats.nrows() as u32;
        }
        let trans = aligner.transitions();
        let fresh: Vec<Option<std::result::Result<(Occupancy, TransitionCounts), AlignError>>> =
            utts.par_iter()
                .enumerate()
                .map(|(i, u)| {
                    self.current[i].as_ref()?;
                    Some((|| {
                        let s = model
                            .log_likelihoods(u.feats)
                            .map_err(|e| AlignError::BadScores(e.to_string()))?;
                        let graph = u.transcript.compile(aligner)?;
                        let mut counts = trans.counts();
                        let occ =
                            aligner.occupancy(&graph, s.view(), MIN_POSTERIOR, &mut counts)?;
                        Ok((occ, counts))
                    })())
                })
                .collect();
        let mut entries = Vec::new();
        let mut counts = trans.counts();
        let (mut ll, mut frames) = (0.0, 0usize);
        for (i, r) in fresh.into_iter().enumerate() {
            let off = offsets[i];
            match r {
                None => {}
                Some(Ok((occ, c))) => {
                    entries.extend(occ.entries.iter().map(|&(t, l, g)| (off + t, l, g)));
                    counts.merge(&c)?;
                    ll += occ.log_likelihood;
                    frames += utts[i].feats.nrows();
                    self.failed[i] = None;
                }
                Some(Err(e)) => {
                    let a = self.current[i]
                        .as_ref()
                        .expect("only aligned utterances are run");
                    entries.extend(
                        a.frames
                            .iter()
                            .enumerate()
                            .map(|(t, f)| (off + t as u32, f.leaf, 1.0)),
                    );
                    a.count_transitions(&mut counts)?;
                    self.failed[i] = Some(e);
                }
            }
        }
        Ok(SoftLabels {
            entries,
            counts,
            log_likelihood: ll / frames.max(1) as f64,
        })
    }

    /// The tied state of every frame of `utts`, in order (`u32::MAX` for an utterance without
    /// an alignment).
    fn labels(&self, utts: &[FlatStartUtt]) -> Vec<u32> {
        leaf_labels(self.current.iter().map(Option::as_ref), utts)
    }

    /// Utterances whose alignment in use failed its last realignment.
    fn failed(&self) -> usize {
        self.current
            .iter()
            .zip(&self.failed)
            .filter(|(a, f)| a.is_some() && f.is_some())
            .count()
    }

    /// Per utterance: its last successful alignment, or why it has none.
    fn into_results(self) -> Vec<std::result::Result<Alignment, AlignError>> {
        self.current
            .into_iter()
            .zip(self.failed)
            .map(|(a, f)| match (a, f) {
                (_, Some(e)) => Err(e),
                (Some(a), None) => Ok(a),
                (None, None) => Err(AlignError::EmptyTranscript),
            })
            .collect()
    }
}

/// Viterbi-align the utterances `which` selects (rayon, one scratch per thread), `scores`
/// giving each one's frames x tied-states log-likelihoods; `None` for the others.
pub fn align_all(
    aligner: &Aligner,
    utts: &[FlatStartUtt],
    scores: impl Fn(ArrayView2<f32>) -> Result<Array2<f32>> + Sync,
    which: impl Fn(usize) -> bool + Sync,
) -> Vec<Option<std::result::Result<Alignment, AlignError>>> {
    utts.par_iter()
        .enumerate()
        .map_init(SearchScratch::default, |scratch, (i, u)| {
            if !which(i) {
                return None;
            }
            Some((|| {
                let s = scores(u.feats).map_err(|e| AlignError::BadScores(e.to_string()))?;
                let graph = u.transcript.compile(aligner)?;
                aligner.align(&graph, s.view(), scratch)
            })())
        })
        .collect()
}

/// Transition counts of the alignments in use (Viterbi ones; the equal alignment's at first).
pub(crate) fn count_transitions(
    current: &[Option<Alignment>],
    trans: &Transitions,
) -> Result<TransitionCounts> {
    current
        .par_iter()
        .flatten()
        .try_fold(
            || trans.counts(),
            |mut c, a| {
                a.count_transitions(&mut c)?;
                Ok(c)
            },
        )
        .try_reduce(
            || trans.counts(),
            |mut a, b| {
                a.merge(&b)?;
                Ok(a)
            },
        )
}

/// Gaussians per state for a total of `total` (Kaldi `GetSplitTargets`): shares in proportion to
/// occupancy^power, at most one per `mixup_min_count` frames (never fewer than one).
fn mixup_targets(occupancy: &[f64], total: usize, cfg: &FlatStartConfig) -> Vec<usize> {
    let w: Vec<f64> = occupancy.iter().map(|&o| o.powf(cfg.power)).collect();
    let sum: f64 = w.iter().sum();
    occupancy
        .iter()
        .zip(&w)
        .map(|(&o, &w)| {
            let share = (total as f64 * w / sum).round() as usize;
            let cap = if cfg.mixup_min_count > 0.0 {
                (o / cfg.mixup_min_count as f64).floor() as usize
            } else {
                usize::MAX
            };
            share.min(cap).max(1)
        })
        .collect()
}
