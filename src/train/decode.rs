//! Phone recognition on a scored set: every utterance decoded with the phone-loop decoder over
//! the model's tied states, scored against its transcript after folding both to 39 phones
//! (Kaldi's TIMIT recipe), and written as `hyp.txt` and `per-utt.tsv`.
//!
//! Decoder input: a GMM's state log-likelihoods (without the state priors its frame
//! classification adds), a DNN's hybrid scores (log posterior minus `prior_scale` x log prior).

use std::fmt::Write as _;
use std::path::Path;

use ndarray::{Array2, ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::corpus::Split;
use crate::corpus::{Corpus, PhoneSet, Utterance};
use crate::decode::{
    DecodeConfig, EditCounts, PhoneLoop, SearchScratch, TuneConfig, hybrid_scores, phones48,
    score_phones,
};
use crate::error::{Error, Result};
use crate::train::env::Env;
use crate::train::model_dir::{Model, Trained};
use rayon::prelude::*;

/// One decoded utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct UttDecode {
    /// Utterance id.
    pub id: String,
    /// Recognised phones (48-set ids).
    pub hyp: Vec<u16>,
    /// Errors against the reference after folding to 39 (none: no transcript to score against).
    pub counts: Option<EditCounts>,
    /// False when no path reached the end of the utterance (the best partial path was kept).
    pub reached_final: bool,
}

/// A decoded set.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoding {
    /// The options decoded with.
    pub config: DecodeConfig,
    /// Per utterance, in the test split's order.
    pub utts: Vec<UttDecode>,
    /// Summed over utterances.
    pub totals: EditCounts,
    /// Wall-clock seconds of scoring and decoding.
    pub seconds: f64,
    /// The same set decoded over the tuning grid, when one was asked for.
    pub tuning: Option<Tuning>,
}

/// What `results.json` gains from decoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerSummary {
    /// Phone error rate, (S + D + I) / N on 39 folded phones.
    pub per: f64,
    /// S: reference phones recognised as another phone.
    pub substitutions: usize,
    /// D: reference phones missing from the hypothesis.
    pub deletions: usize,
    /// I: hypothesis phones matching no reference phone.
    pub insertions: usize,
    /// N: reference phones (39-set, after folding).
    pub ref_phones: usize,
    /// Utterances whose best path did not reach the end (partial paths scored).
    pub partial: usize,
    /// The decoding options.
    pub decode: DecodeConfig,
    /// Wall-clock seconds of scoring and decoding the test set.
    pub decode_seconds: f64,
    /// The test set's PER at the grid point chosen (see [`Tuning`]); absent without a grid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuned: Option<Tuned>,
}

/// The test set's PER at every point of the decoding grid ([`TuneConfig`]), and the point chosen:
/// on the dev split when the corpus has labelled dev speakers, else the best on test (optimistic,
/// as Kaldi's published TIMIT figures are).
#[derive(Debug, Clone, PartialEq)]
pub struct Tuning {
    /// The grid's settings, in [`TuneConfig::points`] order.
    pub points: Vec<DecodeConfig>,
    /// Errors on the test set at each point.
    pub test: Vec<EditCounts>,
    /// Errors on the dev set at each point (empty without dev speakers).
    pub dev: Vec<EditCounts>,
}

/// The chosen point of a [`Tuning`], as `results.json` keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tuned {
    /// Test PER at the chosen point.
    pub per: f64,
    /// The chosen acoustic scale.
    pub acoustic_scale: f32,
    /// The chosen insertion penalty.
    pub insertion_penalty: f32,
    /// Where the point was chosen: `dev`, or `test` (best on the scored set itself: optimistic).
    pub chosen_on: Split,
    /// Grid points decoded.
    pub points: usize,
}

impl Tuning {
    /// The grid point with the lowest PER on dev (or, without dev, on test); the first on ties.
    pub fn chosen(&self) -> Result<Tuned> {
        let (on, counts) = if self.dev.is_empty() {
            (Split::Test, &self.test)
        } else {
            (Split::Dev, &self.dev)
        };
        let rate = |c: &EditCounts| c.error_rate().filter(|p| p.is_finite());
        let mut best: Option<(usize, f64)> = None;
        for (i, c) in counts.iter().enumerate() {
            let r = rate(c).ok_or_else(|| {
                Error::invalid(format!(
                    "tuning: no reference phones in the {} set to choose a decoding point",
                    on.name()
                ))
            })?;
            if best.is_none_or(|(_, b)| r < b) {
                best = Some((i, r));
            }
        }
        let (i, _) = best.ok_or_else(|| Error::invalid("tuning: an empty grid"))?;
        let per = rate(&self.test[i])
            .ok_or_else(|| Error::invalid("tuning: no reference phones in the test set"))?;
        Ok(Tuned {
            per,
            acoustic_scale: self.points[i].acoustic_scale,
            insertion_penalty: self.points[i].insertion_penalty,
            chosen_on: on,
            points: self.points.len(),
        })
    }

    /// The grid as TSV: acoustic scale, insertion penalty, test PER (%) and dev PER (%).
    pub fn tsv(&self) -> String {
        let pct = |c: Option<&EditCounts>| {
            c.and_then(EditCounts::error_rate)
                .map_or("-".to_string(), |p| format!("{:.2}", 100.0 * p))
        };
        let mut s = String::from("acoustic_scale\tinsertion_penalty\ttest_per\tdev_per\n");
        for (i, p) in self.points.iter().enumerate() {
            let _ = writeln!(
                s,
                "{}\t{}\t{}\t{}",
                p.acoustic_scale,
                p.insertion_penalty,
                pct(self.test.get(i)),
                pct(self.dev.get(i))
            );
        }
        s
    }
}

/// Recognise `utts` with `trained` (rayon over utterances): every utterance decoded, and scored
/// where it has a transcript. Labels are not needed; features are computed as the model's own
/// pipeline computes them (CMVN statistics over the scope it defines).
pub fn decode_utterances(
    env: &Env,
    trained: &Trained,
    utts: &[&Utterance],
    cfg: &DecodeConfig,
) -> Result<Decoding> {
    let decoder = PhoneDecoder::new(trained, cfg)?;
    let extractor = trained.extractor()?;
    let set = env.load("features", utts, &extractor)?;
    let started = std::time::Instant::now();
    env.observer.begin("decoding", set.utts.len() as u64);
    let decoded = set
        .utts
        .par_iter()
        .map_init(SearchScratch::default, |scratch, u| {
            let s = search_scores(trained, u.feats.view(), cfg.prior_scale)?;
            let d = decoder.decode_utt(env.corpus, &u.id, s.view(), scratch);
            env.observer.step(None);
            d
        })
        .collect::<Result<Vec<_>>>();
    env.observer.end();
    Ok(Decoding::new(
        cfg.clone(),
        decoded?,
        started.elapsed().as_secs_f64(),
    ))
}

/// The phone-loop decoders of a tuning grid (none when `tune` is off).
pub fn grid_decoders(
    trained: &Trained,
    base: &DecodeConfig,
    tune: &TuneConfig,
) -> Result<Vec<PhoneDecoder>> {
    tune.validate()?;
    tune.points(base)
        .iter()
        .map(|c| PhoneDecoder::new(trained, c))
        .collect()
}

/// Decode one utterance's search `scores` with every decoder of a grid: the errors of each.
pub fn grid_counts(
    grid: &[PhoneDecoder],
    corpus: &Corpus,
    id: &str,
    scores: ArrayView2<f32>,
    scratch: &mut SearchScratch,
) -> Result<Vec<EditCounts>> {
    // The transcript once, for every point.
    let reference = reference_of(corpus, id)?
        .ok_or_else(|| Error::invalid(format!("utterance {id}: no transcript to score")))?;
    grid.iter()
        .map(|d| {
            let (hyp, _) = d.recognise(id, scores, scratch)?;
            Ok(score_phones(&reference, &hyp, PhoneSet::timit()))
        })
        .collect()
}

/// Element-wise sum of per-utterance grid errors.
pub fn sum_counts<'a>(
    n: usize,
    each: impl Iterator<Item = &'a Vec<EditCounts>>,
) -> Vec<EditCounts> {
    let mut total = vec![EditCounts::default(); n];
    for v in each {
        for (t, c) in total.iter_mut().zip(v) {
            *t += *c;
        }
    }
    total
}

impl Decoding {
    /// The summary for results; an error when nothing was scored.
    pub fn summary(&self) -> Result<PerSummary> {
        let t = &self.totals;
        let per = t
            .error_rate()
            .filter(|p| p.is_finite())
            .ok_or_else(|| Error::invalid("no reference phones to score the decoding against"))?;
        Ok(PerSummary {
            per,
            substitutions: t.substitutions,
            deletions: t.deletions,
            insertions: t.insertions,
            ref_phones: t.reference,
            partial: self.utts.iter().filter(|u| !u.reached_final).count(),
            decode: self.config.clone(),
            decode_seconds: self.seconds,
            tuned: self.tuning.as_ref().map(Tuning::chosen).transpose()?,
        })
    }

    /// Kaldi-style hypotheses: `utt-id phone phone ...` (48-set names), one line per utterance.
    pub fn hyp_text(&self) -> String {
        let names = PhoneSet::timit().p48.names();
        let mut s = String::new();
        for u in &self.utts {
            s.push_str(&u.id);
            for &p in &u.hyp {
                s.push(' ');
                s.push_str(&names[p as usize]);
            }
            s.push('\n');
        }
        s
    }

    /// Per-utterance scores as TSV: id, reference phones, S, D, I, PER (%), reached the end
    /// (scored utterances only).
    pub fn per_utt_tsv(&self) -> String {
        let mut s = String::from("utterance\tref_phones\tsub\tdel\tins\tper\treached_final\n");
        for u in &self.utts {
            let Some(c) = &u.counts else { continue };
            let _ = writeln!(
                s,
                "{}\t{}\t{}\t{}\t{}\t{:.2}\t{}",
                u.id,
                c.reference,
                c.substitutions,
                c.deletions,
                c.insertions,
                100.0 * c.error_rate().unwrap_or(0.0),
                u.reached_final
            );
        }
        s
    }

    /// Utterances decoded without a transcript to score against.
    pub fn unscored(&self) -> usize {
        self.utts.iter().filter(|u| u.counts.is_none()).count()
    }

    /// Write `hyp.txt`, `per-utt.tsv` (when any utterance was scored) and, with a grid,
    /// `tuning.tsv` into `dir` (atomically).
    pub fn write(&self, dir: &Path) -> Result<()> {
        crate::io::atomic::write_bytes(&dir.join("hyp.txt"), self.hyp_text().as_bytes())?;
        if self.unscored() == self.utts.len() {
            return Ok(());
        }
        if let Some(t) = &self.tuning {
            crate::io::atomic::write_bytes(&dir.join("tuning.tsv"), t.tsv().as_bytes())?;
        }
        crate::io::atomic::write_bytes(&dir.join("per-utt.tsv"), self.per_utt_tsv().as_bytes())
    }
}

/// The scores the HMM search reads for one utterance's features: state log-likelihoods (GMM) or
/// hybrid scores (DNN, with the model's priors scaled by `prior_scale`).
pub fn search_scores(
    trained: &Trained,
    feats: ndarray::ArrayView2<f32>,
    prior_scale: f32,
) -> Result<Array2<f32>> {
    let raw = ModelOutput::of(trained, feats)?;
    raw.search_scores(trained, prior_scale)
}

/// What the model computes once per utterance, for both frame classification and decoding:
/// a GMM's state log-likelihoods (its frame scores add the state log priors), a DNN's log
/// posteriors (its frame scores as they are).
pub enum ModelOutput {
    /// GMM state log-likelihoods, `[frames, states]`.
    Gmm(Array2<f32>),
    /// DNN log posteriors, `[frames, states]`.
    Dnn(Array2<f32>),
}

impl ModelOutput {
    /// Run `trained`'s classifier on `feats`.
    pub fn of(trained: &Trained, feats: ArrayView2<f32>) -> Result<ModelOutput> {
        Ok(match &trained.model {
            Model::Gmm(m) => ModelOutput::Gmm(m.gmms.log_likelihoods(feats)?),
            Model::Dnn(d) => ModelOutput::Dnn(d.log_posteriors(feats)?),
        })
    }

    /// The output, and what to add to each row to get the classifier's frame scores
    /// ([`crate::model::Classifier::log_scores`]): the GMM's log priors, nothing for a DNN.
    pub fn frame_scores<'a>(
        &'a self,
        trained: &'a Trained,
    ) -> (ArrayView2<'a, f32>, Option<ArrayView1<'a, f32>>) {
        match (self, &trained.model) {
            (ModelOutput::Gmm(ll), Model::Gmm(m)) => (ll.view(), Some(m.log_priors())),
            (ModelOutput::Gmm(ll), _) | (ModelOutput::Dnn(ll), _) => (ll.view(), None),
        }
    }

    /// The scores the HMM search reads (see [`search_scores`]); consumes a GMM's output.
    pub fn search_scores(self, trained: &Trained, prior_scale: f32) -> Result<Array2<f32>> {
        match self {
            ModelOutput::Gmm(ll) => Ok(ll),
            ModelOutput::Dnn(post) => {
                hybrid_scores(post.view(), &trained.hmm()?.log_priors, prior_scale)
            }
        }
    }
}

/// The phone-loop decoder of a trained model, built once, that decodes and scores one utterance
/// at a time.
pub struct PhoneDecoder {
    graph: PhoneLoop,
    config: DecodeConfig,
}

impl PhoneDecoder {
    /// The phone loop over `trained`'s tied states, HMMs and LM; `cfg` is checked first.
    pub fn new(trained: &Trained, cfg: &DecodeConfig) -> Result<PhoneDecoder> {
        cfg.validate()?;
        let hmm = trained.hmm()?;
        let ctx = hmm.context_table(&trained.targets)?;
        Ok(PhoneDecoder {
            graph: PhoneLoop::build(&ctx, &hmm.transitions, hmm.lm()?, cfg)?,
            config: cfg.clone(),
        })
    }

    /// The options it decodes with.
    pub fn config(&self) -> &DecodeConfig {
        &self.config
    }

    /// Decode utterance `id` of `corpus` from its search `scores` and score it against the
    /// utterance's transcript.
    pub fn decode_utt(
        &self,
        corpus: &Corpus,
        id: &str,
        scores: ArrayView2<f32>,
        scratch: &mut SearchScratch,
    ) -> Result<UttDecode> {
        let reference = reference_of(corpus, id)?;
        let (hyp, reached_final) = self.recognise(id, scores, scratch)?;
        Ok(UttDecode {
            id: id.to_string(),
            counts: reference.map(|r| score_phones(&r, &hyp, PhoneSet::timit())),
            hyp,
            reached_final,
        })
    }

    /// The recognised phones (48-set ids) of utterance `id`'s search `scores`, and whether the
    /// best path reached the end.
    fn recognise(
        &self,
        id: &str,
        scores: ArrayView2<f32>,
        scratch: &mut SearchScratch,
    ) -> Result<(Vec<u16>, bool)> {
        let decoded = self
            .graph
            .decode_with(scores, scratch)
            .map_err(|e| Error::invalid(format!("utterance {id}: {e}")))?;
        Ok((decoded.phone_ids(), decoded.reached_final))
    }
}

/// Utterance `id`'s transcript as the 48-set sequence scored against; none for audio without a
/// transcript (recognised, not scored).
fn reference_of(corpus: &Corpus, id: &str) -> Result<Option<Vec<u16>>> {
    let utt = corpus
        .utterance(id)
        .ok_or_else(|| Error::invalid(format!("utterance {id} is not in the corpus")))?;
    if utt.phones.is_empty() {
        return Ok(None);
    }
    phones48(&utt.phones, PhoneSet::timit(), &utt.phone_file).map(Some)
}

impl Decoding {
    /// The decoding of a set from its utterances (in order), totalled.
    pub fn new(config: DecodeConfig, utts: Vec<UttDecode>, seconds: f64) -> Decoding {
        let mut totals = EditCounts::default();
        for c in utts.iter().filter_map(|u| u.counts) {
            totals += c;
        }
        Decoding {
            config,
            utts,
            totals,
            seconds,
            tuning: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(s: usize, d: usize, i: usize) -> EditCounts {
        EditCounts {
            reference: 100,
            substitutions: s,
            deletions: d,
            insertions: i,
        }
    }

    fn grid() -> Vec<DecodeConfig> {
        TuneConfig {
            acoustic_scales: vec![0.1, 0.2],
            insertion_penalties: vec![0.0],
        }
        .points(&DecodeConfig::default())
    }

    #[test]
    fn unscored_utterances_are_left_out_of_the_totals_and_the_scores_table() {
        let u = |id: &str, counts| UttDecode {
            id: id.into(),
            hyp: vec![0],
            counts,
            reached_final: true,
        };
        let d = Decoding::new(
            DecodeConfig::default(),
            vec![u("a", Some(counts(1, 2, 3))), u("b", None)],
            0.0,
        );
        assert_eq!(d.totals, counts(1, 2, 3));
        assert_eq!(d.unscored(), 1);
        assert_eq!(d.hyp_text().lines().count(), 2);
        let tsv = d.per_utt_tsv();
        assert_eq!(tsv.lines().count(), 2, "{tsv}");
        assert!(tsv.contains("a\t100\t1\t2\t3\t6.00\ttrue"), "{tsv}");
    }

    #[test]
    fn dev_chooses_the_point_and_test_is_read_there() {
        let t = Tuning {
            points: grid(),
            test: vec![counts(10, 0, 0), counts(20, 0, 0)],
            dev: vec![counts(30, 0, 0), counts(5, 5, 0)],
        };
        let c = t.chosen().unwrap();
        assert_eq!(
            (c.chosen_on, c.acoustic_scale, c.per),
            (Split::Dev, 0.2, 0.2)
        );
    }

    #[test]
    fn without_dev_the_best_on_test_is_taken_first_on_ties() {
        let t = Tuning {
            points: grid(),
            test: vec![counts(3, 2, 1), counts(1, 2, 3)],
            dev: vec![],
        };
        let c = t.chosen().unwrap();
        assert_eq!(
            (c.chosen_on, c.acoustic_scale, c.per),
            (Split::Test, 0.1, 0.06)
        );
        assert!(t.tsv().contains("0.2\t0\t6.00\t-"), "{}", t.tsv());
    }
}
