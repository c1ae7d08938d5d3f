//! Where a run's frame labels come from, and the training recipe for each: the hand times, a flat
//! start from transcripts alone (Kaldi's `train_mono.sh`, then the tied-state model on its
//! alignments, realigned once with that model as Kaldi's tri1 is), or the Viterbi alignment of
//! an existing GMM (the hybrid recipe's DNN targets).

use std::path::{Path, PathBuf};

use crate::corpus::{Lexicon, Split};
use crate::error::Result;
use crate::model::ModelKind;
use crate::model::hmm::Transitions;
use crate::model::tree::Tying;
use crate::pipeline::Pipeline;
use crate::train::env::Env;
use crate::train::flat_start::FlatStartConfig;
use crate::train::model_dir::Trained;
use crate::train::realign::Realigned;
use crate::train::targets::Targets;

/// The labels a run trains on.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// The corpus's own phone times.
    Hand,
    /// Only each utterance's phone (or word) sequence: a flat start with the pipeline's
    /// `hmm.flat_start` options, its seed replaced by `seed` when given.
    FlatStart {
        /// Seed of the random choices (optional silences, pronunciations).
        seed: Option<u64>,
    },
    /// The Viterbi alignment of the GMM model directory given.
    AlignWith(PathBuf),
}

/// Train `pipeline`'s classifier on `env`'s training split with `labels` (word transcripts need
/// `lexicon`), with its work in model directory `out`. Alignments made on the way are written
/// under `alignments` (the CLI stages `out/flat_start/` there, so that it appears whole with the
/// model); `log` hears one line per step, with skip counts and agreement with the hand times.
/// The returned model's `about.labels` says where its labels came from.
pub fn train_with(
    env: &Env,
    pipeline: &Pipeline,
    labels: &Labels,
    lexicon: Option<&Lexicon>,
    out: &Path,
    alignments: &Path,
    mut log: impl FnMut(&str),
) -> Result<Trained> {
    let hmm = &pipeline.hmm.topology;
    let align = &pipeline.hmm.align;
    let cfg = pipeline.classifier.clone().unwrap_or_default();
    // A model trained on a GMM's alignment predicts that GMM's tied states (its tree, counted
    // anew on the alignment), so that its states are the aligner's; otherwise the tree is grown
    // on the labels trained on.
    let mut tying: Option<Tying> = None;
    let train_on = |corpus, tying: &Option<Tying>| -> Result<Trained> {
        let env = env.over(corpus);
        let targets = match tying {
            Some(t) => env.targets_over(t.clone())?,
            None => env.targets(&cfg.states)?,
        };
        crate::train::run::train(&env, pipeline, &targets, Some(out))
    };
    // (alignment, what it is, the flat start's transitions)
    let realigned: Option<(Realigned, String, Option<Transitions>)> = match labels {
        Labels::Hand => None,
        Labels::FlatStart { seed } => {
            // Before the flat start's work: the files the tree step will read, and the
            // classifier's memory for as many tied states as there may be.
            let max_states = Targets::most_states(&cfg.states)?;
            crate::train::run::check_memory_ahead(env, pipeline, max_states)?;
            let fs_cfg = FlatStartConfig {
                seed: seed.unwrap_or(pipeline.hmm.flat_start.seed),
                ..pipeline.hmm.flat_start.clone()
            };
            let sat = &pipeline.hmm.sat;
            let (fs, r) = env.flat_start(lexicon, &fs_cfg, sat, hmm, align)?;
            r.write_phn(&alignments.join("mono"), &r.aligned_ids)?;
            fs.model.trans.save(&alignments.join("transitions.json"))?;
            let last = fs.history.last().map_or(0, |p| p.gaussians);
            let adapted = match sat.rounds {
                0 => String::new(),
                n => format!(", {n} rounds of speaker-adaptive training"),
            };
            let what = format!(
                "flat start: {} passes{adapted}, {} monophone states, {last} Gaussians; {} \
                 utterances aligned",
                fs.history.len(),
                fs.model.ctx.num_leaves(),
                r.aligned
            );
            report(&r, &what, &mut log);
            // The test speakers too, when they have hand times to compare with (not with
            // speaker-adapted monophones: those score only features of a speaker's transform).
            if sat.rounds == 0
                && env
                    .utterances(Split::Test)
                    .iter()
                    .any(|u| u.has_alignment())
            {
                let t = env.align_mono(&fs.model, Split::Test, lexicon, align)?;
                report(
                    &t,
                    "test speakers aligned with the flat-start monophones",
                    &mut log,
                );
            }
            Some((r, what, Some(fs.model.trans)))
        }
        Labels::AlignWith(dir) => {
            // The GMM's own HMMs (hmm.json), as `asrpipe align --model` aligns with them.
            let gmm = Trained::load(dir)?;
            crate::train::run::check_memory_ahead(env, pipeline, gmm.targets.num_states())?;
            let r = env.align_with(&gmm, None, lexicon, align)?;
            let what = format!(
                "Viterbi alignment of {}; {} utterances aligned; its {} tied states",
                dir.display(),
                r.aligned,
                gmm.targets.num_states()
            );
            report(&r, &what, &mut log);
            tying = Some(gmm.targets.tying);
            Some((r, what, None))
        }
    };
    let mut trained = train_on(
        realigned.as_ref().map_or(env.corpus, |r| &r.0.corpus),
        &tying,
    )?;
    let mut source = realigned.as_ref().map(|r| r.1.clone());
    if let Some((_, what, Some(trans))) = &realigned
        && trained.about.kind == ModelKind::Gmm
    {
        // Kaldi's tri1 on the monophone alignments: realigned once with the tied-state GMM, and
        // trained again on that.
        let r = env.align_with(&trained, Some(trans), lexicon, align)?;
        let what = format!(
            "{what}; realigned once with the tied-state GMM ({} utterances aligned)",
            r.aligned
        );
        report(&r, &what, &mut log);
        r.write_phn(&alignments.join("alignments"), &r.aligned_ids)?;
        trained = train_on(&r.corpus, &None)?;
        source = Some(what);
    }
    trained.about.labels = source;
    Ok(trained)
}

/// What an alignment step did: counts, reasons for skipping, agreement with the hand times.
fn report(r: &Realigned, what: &str, log: &mut impl FnMut(&str)) {
    log(what);
    for (why, n) in r.skip_reasons() {
        log(&format!("  skipped {n} utterances: {why}"));
    }
    if let Some(b) = &r.boundaries {
        log(&format!(
            "  boundaries vs the hand times: {:.1}% within 20 ms, {:.1}% within 10 ms, mean \
             {:.1} ms, median {:.1} ms ({} boundaries)",
            b.within_20ms, b.within_10ms, b.mean_abs_ms, b.median_abs_ms, b.boundaries
        ));
    }
}
