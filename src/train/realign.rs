//! Training on alignments instead of hand times: the transcripts of a corpus's utterances, a flat
//! start over them ([`Env::flat_start`]), the Viterbi alignment of a trained GMM
//! ([`Env::align_with`]), and a copy of the corpus whose phone segments are those alignments, so
//! that the tree, the tied-state GMM and the DNN train on it unchanged (Kaldi's mono -> tri1 ->
//! hybrid DNN recipe).
//!
//! Transcripts: a manifest's `transcript` column (phones, or words with a lexicon); otherwise
//! the utterance's words through the lexicon when one is given (TIMIT's `.wrd`); otherwise the
//! hand labels' phone sequence (48-set, `q` deleted), their times ignored.

use std::collections::BTreeMap;
use std::path::Path;

use super::flat_start::{
    FlatStart, FlatStartConfig, FlatStartUtt, MonoModel, Transcript, align_all, flat_start,
};
use crate::corpus::{
    Corpus, Lexicon, PhoneSet, PhoneToken, Segment, Split, TranscriptText, Utterance,
};
use crate::decode::{
    AlignConfig, AlignError, Aligner, Alignment, BoundaryErrors, BoundarySummary, phones48,
    spans_to_segments,
};
use crate::error::{Error, Result};
use crate::frontend::framing::FrameGeometry;
use crate::model::hmm::{ContextTable, HmmConfig, Transitions};
use crate::pipeline::Pipeline;
use crate::pipeline::extractor::Extractor;
use crate::train::dataset::FrameSet;
use crate::train::env::Env;
use crate::train::model_dir::{Model, Trained};
use crate::train::sat::{SatConfig, adapt};

/// Refuse, before any feature is computed, a flat start whose features, their pooled copy, its
/// labels and its Gaussians cannot be held in memory ([`crate::memory`]). (Baum-Welch's
/// forward-backward is checked once the transcripts' graphs exist.)
fn check_flat_start_memory(
    utts: &[&Utterance],
    extractor: &Extractor,
    cfg: &FlatStartConfig,
) -> Result<()> {
    const F32: f64 = 4.0;
    let frames = crate::train::run::frames_of(utts, extractor);
    let dim = extractor.dim() as f64;
    // The chain's output and the post-processed features, their pooled copy; per frame a label
    // (a Baum-Welch pass: about three soft ones of 12 bytes).
    let feats = frames * F32 * (extractor.chain_dim() as f64 + 2.0 * dim);
    let labels = frames * if cfg.baum_welch_passes > 0 { 40.0 } else { 4.0 };
    let gaussians = cfg.total_gaussians as f64;
    let model = crate::train::run::gmm_memory(gaussians, dim);
    crate::memory::check(
        &format!("the flat start ({frames:.0} frames of {dim} values, {gaussians} Gaussians)"),
        feats + labels + model,
    )
}

/// Words not in the lexicon that a refusal lists by name.
const MAX_NAMED_WORDS: usize = 10;

/// The transcript of every utterance (see the module comment). Refused with the file and line:
/// an empty transcript, a token that is no phone (without a lexicon); refused with the words
/// named and how many utterances each affects: words missing from the lexicon.
pub fn transcripts(utts: &[&Utterance], lexicon: Option<&Lexicon>) -> Result<Vec<Transcript>> {
    let set = PhoneSet::timit();
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(utts.len());
    for u in utts {
        let words = words_to_look_up(u, lexicon);
        if let Some(t) = &u.transcript
            && t.tokens().next().is_none()
        {
            return Err(Error::at_line(
                &t.file,
                t.line,
                format!("utterance {}: empty transcript", u.id),
            ));
        }
        let transcript = match (words, lexicon) {
            (Some(words), Some(lex)) => pronounce(&words, lex, &mut missing),
            _ => match &u.transcript {
                Some(t) => Transcript::Phones(transcript_phones(u, t, set)?),
                None => {
                    let phones = phones48(&u.phones, set, &u.phone_file)?;
                    if phones.is_empty() {
                        return Err(Error::format(
                            &u.phone_file,
                            format!("utterance {}: no phones to align", u.id),
                        ));
                    }
                    Transcript::Phones(phones)
                }
            },
        };
        out.push(transcript);
    }
    if !missing.is_empty() {
        return Err(missing_words(&missing, lexicon));
    }
    Ok(out)
}

/// The words of `u` to look up in the lexicon, when there is one: its transcript's tokens, or
/// else its word labels; `None` when its phones are the transcript.
fn words_to_look_up<'u>(u: &'u Utterance, lexicon: Option<&Lexicon>) -> Option<Vec<&'u str>> {
    match (&u.transcript, lexicon) {
        (Some(t), Some(_)) => Some(t.tokens().collect()),
        (None, Some(_)) if !u.words.is_empty() => {
            Some(u.words.iter().map(|w| w.label.as_str()).collect())
        }
        _ => None,
    }
}

/// The pronunciations of `words` in `lex`; each word it lacks counts once in `missing` (by its
/// lower-case spelling) for this utterance.
fn pronounce(words: &[&str], lex: &Lexicon, missing: &mut BTreeMap<String, usize>) -> Transcript {
    let mut prons = Vec::with_capacity(words.len());
    let mut unknown: Vec<&str> = Vec::new();
    for &w in words {
        match lex.get(w) {
            Some(p) => prons.push(p.to_vec()),
            None if !unknown.contains(&w) => unknown.push(w),
            None => {}
        }
    }
    for w in unknown {
        *missing.entry(w.to_lowercase()).or_default() += 1;
    }
    Transcript::Words(prons)
}

/// The 48-set phones of `u`'s transcript `t` (`q` deleted); a token that is no phone, or no
/// phone but `q`, is refused with the file and line.
fn transcript_phones(u: &Utterance, t: &TranscriptText, set: &PhoneSet) -> Result<Vec<u16>> {
    let mut phones = Vec::new();
    for tok in t.tokens() {
        match set.token(tok) {
            Some(PhoneToken::Phone(p)) => phones.push(p),
            Some(PhoneToken::Deleted) => {}
            None => {
                return Err(Error::at_line(
                    &t.file,
                    t.line,
                    format!(
                        "utterance {}: `{tok}` in the transcript is not a phone \
                         (a transcript of words needs a lexicon: --lexicon)",
                        u.id
                    ),
                ));
            }
        }
    }
    if phones.is_empty() {
        return Err(Error::at_line(
            &t.file,
            t.line,
            format!("utterance {}: the transcript has no phone but `q`", u.id),
        ));
    }
    Ok(phones)
}

/// The refusal of words missing from the lexicon: how many, and the first
/// [`MAX_NAMED_WORDS`] by the number of utterances they are in.
fn missing_words(missing: &BTreeMap<String, usize>, lexicon: Option<&Lexicon>) -> Error {
    let path = lexicon.map_or_else(|| Path::new("-").to_path_buf(), |l| l.path.clone());
    let mut by_count: Vec<(&String, &usize)> = missing.iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let named: Vec<String> = by_count
        .iter()
        .take(MAX_NAMED_WORDS)
        .map(|(w, n)| format!("`{w}` ({n} utterance{})", if **n == 1 { "" } else { "s" }))
        .collect();
    Error::format(
        &path,
        format!(
            "{} word{} of the transcripts {} not in the lexicon: {}{}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            if missing.len() == 1 { "is" } else { "are" },
            named.join(", "),
            if missing.len() > MAX_NAMED_WORDS {
                ", ..."
            } else {
                ""
            }
        ),
    )
}

/// A corpus whose utterances' phone segments came from an alignment.
#[derive(Debug, Clone)]
pub struct Realigned {
    /// The corpus with the aligned utterances' segments replaced and the ones that could not
    /// be aligned left out; other utterances (e.g. the test split) as they were.
    pub corpus: Corpus,
    /// Utterances aligned.
    pub aligned: usize,
    /// Their ids, in the order aligned.
    pub aligned_ids: Vec<String>,
    /// Utterances left out: id and why.
    pub skipped: Vec<(String, AlignError)>,
    /// Agreement with the hand times, over the utterances whose transcript was their hand
    /// labels' phone sequence; `None` when there were none.
    pub boundaries: Option<BoundarySummary>,
}

impl Realigned {
    /// The reasons utterances were skipped, with counts, most frequent first (for a report).
    pub fn skip_reasons(&self) -> Vec<(String, usize)> {
        let mut m: BTreeMap<String, usize> = BTreeMap::new();
        for (_, why) in &self.skipped {
            let kind = format!("{why:?}");
            let kind = kind.split([' ', '{', '(']).next().unwrap_or("").to_string();
            *m.entry(kind).or_default() += 1;
        }
        let mut v: Vec<(String, usize)> = m.into_iter().collect();
        v.sort_by_key(|x| std::cmp::Reverse(x.1));
        v
    }

    /// Write each aligned utterance's segments as a `.phn` file under `dir` (`<id>.phn`; an id's
    /// `/` makes a folder).
    pub fn write_phn(&self, dir: &Path, ids: &[String]) -> Result<()> {
        for u in self
            .corpus
            .utterances
            .iter()
            .filter(|u| ids.contains(&u.id))
        {
            let path = dir.join(format!("{}.phn", u.id));
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            crate::decode::write_phn(&path, &u.phones)?;
        }
        Ok(())
    }
}

/// Segments (TIMIT labels, samples at the utterance's own rate) of an alignment of `frames`
/// frames of audio `num_samples` long at `rate`, framed by `geom`.
fn segments(
    ali: &Alignment,
    geom: &FrameGeometry,
    num_samples: u64,
    rate: u32,
    utt_rate: u32,
) -> Result<Vec<Segment>> {
    let set = PhoneSet::timit();
    let last = ali.phones.len().saturating_sub(1);
    let labels: Vec<&str> = ali
        .phones
        .iter()
        .enumerate()
        .map(|(k, s)| set.label61(s.phone, k == 0 || k == last))
        .collect();
    let mut segs = spans_to_segments(&ali.phones, &labels, geom, num_samples)?;
    if rate != utt_rate {
        let scale = |x: u64| (x as f64 * utt_rate as f64 / rate as f64).round() as u64;
        for s in &mut segs {
            s.start = scale(s.start);
            s.end = scale(s.end);
        }
    }
    Ok(segs)
}

/// Replace the segments of `utts` (loaded as `set` through a chain framed by `geom`) by their
/// alignments; `compare[i]`: utterance i's transcript was its hand labels' phones.
fn apply(
    corpus: &Corpus,
    utts: &[&Utterance],
    set: &FrameSet,
    geom: &FrameGeometry,
    alignments: Vec<std::result::Result<Alignment, AlignError>>,
    compare: &[bool],
) -> Result<Realigned> {
    let phones = PhoneSet::timit();
    let mut new: BTreeMap<&str, Option<Vec<Segment>>> = BTreeMap::new();
    let mut skipped = Vec::new();
    let mut aligned_ids = Vec::new();
    let mut boundaries = BoundaryErrors::new();
    for (i, (ali, (u, f))) in alignments
        .into_iter()
        .zip(utts.iter().zip(&set.utts))
        .enumerate()
    {
        match ali {
            Ok(a) => {
                if compare[i] && u.sample_rate == f.sample_rate {
                    boundaries.add(&u.phones, phones, &a.phones, geom, f.sample_rate)?;
                }
                let segs = segments(&a, geom, f.num_samples, f.sample_rate, u.sample_rate)
                    .map_err(|e| e.in_file(&u.audio))?;
                new.insert(&u.id, Some(segs));
                aligned_ids.push(u.id.clone());
            }
            Err(why) => {
                skipped.push((u.id.clone(), why));
                new.insert(&u.id, None);
            }
        }
    }
    let mut out = corpus.clone();
    out.utterances = corpus
        .utterances
        .iter()
        .filter_map(|u| match new.get(u.id.as_str()) {
            None => Some(u.clone()),
            Some(None) => None,
            Some(Some(segs)) => {
                let mut u = u.clone();
                u.phones = segs.clone();
                u.num_samples = u.num_samples.or(segs.last().map(|s| s.end));
                Some(u)
            }
        })
        .collect();
    Ok(Realigned {
        corpus: out,
        aligned: utts.len() - skipped.len(),
        aligned_ids,
        skipped,
        boundaries: boundaries.summary(),
    })
}

/// Utterances whose transcript is their hand labels' phone sequence (their boundaries compare).
fn from_hand_labels(utts: &[&Utterance], transcripts: &[Transcript]) -> Vec<bool> {
    utts.iter()
        .zip(transcripts)
        .map(|(u, t)| u.transcript.is_none() && matches!(t, Transcript::Phones(_)))
        .collect()
}

impl Env<'_> {
    /// Flat-start the training split (see [`super::flat_start`]) on the production line's features
    /// (`pipelines/kaldi-mfcc-gmm.yaml`: MFCC + Δ + ΔΔ, per-speaker CMVN), adapt it to the
    /// speakers (`sat`, [`super::sat`]; `rounds` 0 skips it), and the corpus with the training
    /// utterances' segments replaced by the final alignments.
    pub fn flat_start(
        &self,
        lexicon: Option<&Lexicon>,
        cfg: &FlatStartConfig,
        sat: &SatConfig,
        hmm: &HmmConfig,
        align: &AlignConfig,
    ) -> Result<(FlatStart, Realigned)> {
        cfg.validate()?;
        sat.validate()?;
        hmm.validate()?;
        align.validate()?;
        let utts = self.utterances(Split::Train);
        let transcripts = transcripts(&utts, lexicon)?;
        let extractor = Extractor::new(&Pipeline::kaldi_mfcc_gmm())?;
        check_flat_start_memory(&utts, &extractor, cfg)?;
        let set = self.load("flat-start feats", &utts, &extractor)?;
        let fu: Vec<FlatStartUtt> = set
            .utts
            .iter()
            .zip(&transcripts)
            .map(|(u, t)| FlatStartUtt {
                feats: u.feats.view(),
                transcript: t,
            })
            .collect();
        self.observer.begin("flat start", cfg.iterations as u64);
        let fs = flat_start(&fu, cfg, hmm, align, |p| {
            self.observer.step(Some(format!(
                "pass {} {} gauss, log-lik/frame {:.3}{}",
                p.pass,
                p.gaussians,
                p.log_likelihood,
                if p.realigned { ", realigned" } else { "" }
            )))
        });
        self.observer.end();
        let mut fs = fs?;
        if sat.rounds > 0 {
            let speakers: Vec<&str> = utts.iter().map(|u| u.speaker.as_str()).collect();
            self.observer
                .begin("speaker-adaptive training", sat.rounds as u64 + 1);
            let adapted = adapt(&fu, &speakers, &mut fs, sat, cfg, hmm, align, |r| {
                self.observer.step(Some(format!(
                    "round {} fMLLR gain/frame {:.3}, log-lik/frame {:.3}",
                    r.round, r.fmllr_gain, r.log_likelihood
                )))
            });
            self.observer.end();
            adapted?;
        }
        let geom = extractor.frontend.framing.geometry;
        let compare = from_hand_labels(&utts, &transcripts);
        let r = apply(
            self.corpus,
            &utts,
            &set,
            &geom,
            fs.alignments.clone(),
            &compare,
        )?;
        Ok((fs, r))
    }

    /// Align the training and dev utterances with a trained GMM (its pipeline, tying, state
    /// log-likelihoods and, unless `trans` overrides them, its own transitions from `hmm.json`, as
    /// `asrpipe align --model` uses them), and the corpus with their segments replaced: DNN
    /// targets from a GMM's alignment instead of hand labels. A model without stored HMMs is
    /// refused.
    pub fn align_with(
        &self,
        gmm: &Trained,
        trans: Option<&Transitions>,
        lexicon: Option<&Lexicon>,
        align: &AlignConfig,
    ) -> Result<Realigned> {
        let Model::Gmm(model) = &gmm.model else {
            return Err(Error::invalid(
                "aligning needs a GMM model (state log-likelihoods); this one is a DNN",
            ));
        };
        let hmm = gmm.hmm()?;
        let ctx = hmm.context_table(&gmm.targets)?;
        let trans = trans.unwrap_or(&hmm.transitions);
        let mut utts = self.utterances(Split::Train);
        utts.extend(self.utterances(Split::Dev));
        let extractor = gmm.extractor()?;
        self.align_utts(&utts, &extractor, &ctx, trans, lexicon, align, |f| {
            model.gmms.log_likelihoods(f)
        })
    }

    /// Align one split with a flat start's monophones (e.g. the test speakers, to score the
    /// alignments against their hand times).
    pub fn align_mono(
        &self,
        model: &MonoModel,
        split: Split,
        lexicon: Option<&Lexicon>,
        align: &AlignConfig,
    ) -> Result<Realigned> {
        let utts = self.utterances(split);
        if utts.is_empty() {
            return Err(Error::format(
                &self.corpus.root,
                format!("the {split:?} split has no utterances to align"),
            ));
        }
        let extractor = Extractor::new(&Pipeline::kaldi_mfcc_gmm())?;
        self.align_utts(
            &utts,
            &extractor,
            &model.ctx,
            &model.trans,
            lexicon,
            align,
            |f| model.gmms.log_likelihoods(f),
        )
    }

    /// Viterbi-align `utts` through `extractor`'s features scored by `scores`.
    #[allow(clippy::too_many_arguments)]
    fn align_utts(
        &self,
        utts: &[&Utterance],
        extractor: &Extractor,
        ctx: &ContextTable,
        trans: &Transitions,
        lexicon: Option<&Lexicon>,
        align: &AlignConfig,
        scores: impl Fn(ndarray::ArrayView2<f32>) -> Result<ndarray::Array2<f32>> + Sync,
    ) -> Result<Realigned> {
        let aligner = Aligner::new(ctx, trans, align)?;
        let transcripts = transcripts(utts, lexicon)?;
        let set = self.load("align feats", utts, extractor)?;
        let fu: Vec<FlatStartUtt> = set
            .utts
            .iter()
            .zip(&transcripts)
            .map(|(u, t)| FlatStartUtt {
                feats: u.feats.view(),
                transcript: t,
            })
            .collect();
        self.observer.begin("aligning", 0);
        let alis: Vec<_> = align_all(&aligner, &fu, scores, |_| true)
            .into_iter()
            .map(|a| a.unwrap_or(Err(AlignError::EmptyTranscript)))
            .collect();
        self.observer.end();
        let geom = extractor.frontend.framing.geometry;
        let compare = from_hand_labels(utts, &transcripts);
        apply(self.corpus, utts, &set, &geom, alis, &compare)
    }
}
