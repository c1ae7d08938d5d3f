//! Speaker-adaptive training after a flat start (Kaldi's `steps/train_sat.sh`, scaled down, on
//! the flat start's own states): per-speaker fMLLR transforms
//! ([`crate::model::gmm::fmllr`]) estimated from the current alignment, the GMMs re-estimated on
//! the transformed features, and the utterances realigned with the transforms, so that what a
//! voice does differently (its spectral tilt, its formant positions) is taken up by its
//! transform instead of moving the boundaries.
//!
//! Each of `rounds` rounds: estimate every speaker's transform (statistics on the frames as the
//! current transform maps them, posteriors of the current model; `fmllr_iterations` sweeps of
//! row updates from the current transform), realign every utterance on its transformed frames
//! (transitions re-estimated from the new alignment), then `em_passes` EM passes on them. After
//! the last round the transforms are estimated once more and the utterances realigned with
//! them: those are the alignments returned. Kaldi: fMLLR at passes 2, 4, 6, 12 and realignment
//! at 10, 20, 30 of 35; here every round does both, as the model starts from converged
//! flat-start statistics.
//!
//! Off by default (`hmm.sat.rounds: 0`): where the speakers differ by an affine map of the
//! features the first rounds take it up, but on the demo corpus and the TIMIT sample it leaves
//! the boundary agreement where it was (`docs/results/flat-start-variants.md`).

use std::collections::BTreeMap;

use ndarray::{Array2, ArrayView2, Axis, concatenate};
use rayon::prelude::*;

use crate::decode::{AlignConfig, Aligner, Alignment};
use crate::error::{Error, Result};
use crate::model::gmm::TrainingFrames;
use crate::model::gmm::fmllr::{Fmllr, FmllrStats};
pub use crate::model::gmm::sat::SatConfig;
use crate::model::hmm::HmmConfig;
use crate::train::flat_start::{
    FlatStart, FlatStartConfig, FlatStartUtt, align_all, count_transitions, leaf_labels,
};

/// Reported after every round (and the final estimate and realignment, as round `rounds`).
#[derive(Debug, Clone, PartialEq)]
pub struct SatRound {
    /// 0-based round.
    pub round: usize,
    /// fMLLR auxiliary gain per frame of the round's estimate, averaged over speakers by frames.
    pub fmllr_gain: f64,
    /// Speakers that kept their previous transform (too few frames).
    pub kept: usize,
    /// Utterances whose realignment failed (they keep their previous alignment).
    pub failed: usize,
    /// Average log-likelihood per frame of the last EM pass (NaN for the final round, which has
    /// none).
    pub log_likelihood: f64,
}

/// Adapt `fs` (a flat start over `utts`, utterance i spoken by speaker `speakers[i]`) as the
/// module comment says; its model, alignments and transitions are replaced. Returns the
/// speakers' transforms, by speaker id. `fs_cfg` gives the variance floor and minimum Gaussian
/// occupancy of the EM passes.
#[allow(clippy::too_many_arguments)]
pub fn adapt(
    utts: &[FlatStartUtt],
    speakers: &[&str],
    fs: &mut FlatStart,
    cfg: &SatConfig,
    fs_cfg: &FlatStartConfig,
    hmm: &HmmConfig,
    align: &AlignConfig,
    mut progress: impl FnMut(&SatRound),
) -> Result<BTreeMap<String, Fmllr>> {
    cfg.validate()?;
    if speakers.len() != utts.len() {
        return Err(Error::invalid(format!(
            "speaker adaptation: {} speakers for {} utterances",
            speakers.len(),
            utts.len()
        )));
    }
    let dim = fs.model.gmms.input_dim();
    let mut transforms: BTreeMap<String, Fmllr> = speakers
        .iter()
        .map(|s| (s.to_string(), Fmllr::identity(dim)))
        .collect();
    if cfg.rounds == 0 {
        return Ok(transforms);
    }
    let gcfg = fs_cfg.em_config();
    let n_states = fs.model.gmms.num_states();
    for round in 0..=cfg.rounds {
        let (gain, kept) = estimate(utts, speakers, fs, &mut transforms, cfg)?;
        let feats = utts
            .par_iter()
            .zip(speakers)
            .map(|(u, s)| transforms[*s].apply(u.feats))
            .collect::<Result<Vec<Array2<f32>>>>()?;
        let adapted: Vec<FlatStartUtt> = utts
            .iter()
            .zip(&feats)
            .map(|(u, f)| FlatStartUtt {
                feats: f.view(),
                transcript: u.transcript,
            })
            .collect();
        let failed = realign(&adapted, fs, hmm, align)?;
        let mut log_likelihood = f64::NAN;
        if round < cfg.rounds {
            let views: Vec<ArrayView2<f32>> = feats.iter().map(|f| f.view()).collect();
            let x = concatenate(Axis(0), &views).map_err(|e| Error::invalid(e.to_string()))?;
            let labels = leaf_labels(fs.alignments.iter().map(|a| a.as_ref().ok()), utts);
            let data = TrainingFrames::new(x.view(), &labels, n_states, fs_cfg.var_floor)?;
            for _ in 0..cfg.em_passes {
                let (next, ll) = fs.model.gmms.em_step(&data, &gcfg)?;
                if !ll.is_finite() {
                    return Err(Error::invalid(format!(
                        "speaker adaptation round {round}: the log-likelihood is not finite"
                    )));
                }
                fs.model.gmms = next;
                log_likelihood = ll;
            }
        }
        progress(&SatRound {
            round,
            fmllr_gain: gain,
            kept,
            failed,
            log_likelihood,
        });
    }
    Ok(transforms)
}

/// Re-estimate every speaker's transform from the current alignments and model; the gain per
/// frame (frame-weighted over speakers) and how many speakers kept theirs.
fn estimate(
    utts: &[FlatStartUtt],
    speakers: &[&str],
    fs: &FlatStart,
    transforms: &mut BTreeMap<String, Fmllr>,
    cfg: &SatConfig,
) -> Result<(f64, usize)> {
    let gmms = &fs.model.gmms;
    let ids: Vec<String> = transforms.keys().cloned().collect();
    let estimates = ids
        .par_iter()
        .map(|id| {
            let current = &transforms[id];
            let mut stats = FmllrStats::new(gmms.input_dim());
            for ((u, s), a) in utts.iter().zip(speakers).zip(&fs.alignments) {
                if *s == id
                    && let Ok(a) = a
                {
                    stats
                        .accumulate(gmms, u.feats, &a.leaves(), current)
                        .map_err(|e| Error::invalid(format!("speaker {id}: {e}")))?;
                }
            }
            let e = stats
                .estimate(current, cfg.fmllr_iterations, cfg.min_count)
                .map_err(|e| Error::invalid(format!("speaker {id}: {e}")))?;
            Ok((stats.count(), e))
        })
        .collect::<Result<Vec<_>>>()?;
    let (mut gain, mut frames, mut kept) = (0.0, 0.0, 0);
    for (id, (count, e)) in ids.iter().zip(estimates) {
        match (e.objectives.first(), e.objectives.last(), &e.kept) {
            (Some(a), Some(b), None) => {
                gain += (b - a) * count;
                frames += count;
            }
            _ => kept += 1,
        }
        transforms.insert(id.clone(), e.transform);
    }
    Ok((if frames > 0.0 { gain / frames } else { 0.0 }, kept))
}

/// Viterbi-realign every utterance that has an alignment on its transformed frames, and
/// re-estimate the transitions; an utterance whose realignment fails keeps its alignment.
/// Returns how many failed.
fn realign(
    adapted: &[FlatStartUtt],
    fs: &mut FlatStart,
    hmm: &HmmConfig,
    align: &AlignConfig,
) -> Result<usize> {
    let model = &fs.model;
    let aligner = Aligner::new(&model.ctx, &model.trans, align)?;
    let fresh = align_all(
        &aligner,
        adapted,
        |f| model.gmms.log_likelihoods(f),
        |i| fs.alignments[i].is_ok(),
    );
    let mut failed = 0;
    for (slot, a) in fs.alignments.iter_mut().zip(fresh) {
        match a {
            Some(Ok(a)) => *slot = Ok(a),
            Some(Err(_)) => failed += 1,
            None => {}
        }
    }
    let current: Vec<Option<Alignment>> = fs
        .alignments
        .iter()
        .map(|a| a.as_ref().ok().cloned())
        .collect();
    let counts = count_transitions(&current, &fs.model.trans)?;
    fs.model.trans.update_with(&counts, hmm)?;
    Ok(failed)
}
