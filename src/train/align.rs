//! Forced alignment of a corpus with a trained model: each utterance's phone sequence (its
//! transcript: the 48-set sequence of its labels, `q` deleted) aligned by Viterbi through the
//! model's HMMs, written per utterance as
//!
//! - `<id>.phn`: TIMIT segments in samples, labelled with the utterance's own 61-set labels
//!   (so the corpus reader reads them back and labels every frame as aligned);
//! - `<id>.TextGrid`: Praat, a `phones` tier and, where the corpus has word times, a `words` tier
//!   (each word spans the aligned phones whose hand-labelled centres lie inside it);
//! - `<id>.states`: the state alignment, run-length, `start end tied-state phone state` per line
//!   (frames `start..end`, 48-set phone name, state from 0);
//!
//! and `alignment.json`: what was aligned, what was skipped and why, and the agreement of the
//! automatic boundaries with the hand ones ([`BoundaryErrors`]).

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::Serialize;

use crate::corpus::textgrid::{Interval, format_textgrid};
use crate::corpus::{PhoneSet, Segment, Utterance};
use crate::decode::{
    AlignConfig, Aligner, Alignment, BoundaryErrors, BoundarySummary, SearchScratch, Source,
    format_phn, spans_to_segments,
};
use crate::error::{Error, Result};
use crate::frontend::framing::FrameGeometry;
use crate::io::atomic;
use crate::pipeline::extractor::Extractor;
use crate::train::decode::search_scores;
use crate::train::env::Env;
use crate::train::model_dir::Trained;

/// An utterance left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Skipped {
    /// Utterance id.
    pub utterance: String,
    /// Why it could not be aligned (too few frames, no path, ...).
    pub reason: String,
}

/// What `asrpipe align` did (`alignment.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlignSummary {
    /// Utterances asked for.
    pub utterances: usize,
    /// Utterances aligned and written.
    pub aligned: usize,
    /// Aligned only with the retry beam.
    pub retried: usize,
    /// Utterances left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// Agreement with the hand boundaries (absent when no boundary could be compared).
    pub boundaries: Option<BoundarySummary>,
    /// The aligner's options.
    pub config: AlignConfig,
    /// Wall-clock seconds of scoring and aligning.
    pub seconds: f64,
}

/// One aligned utterance, ready to write.
struct Aligned {
    alignment: Alignment,
    segments: Vec<Segment>,
    textgrid: String,
}

/// Refuse an output directory that is, or lies inside, one of `inputs` (or holds one of them):
/// alignment files would overwrite a corpus's own labels or a model's files.
pub fn check_output(out: &Path, inputs: &[&Path]) -> Result<()> {
    // The output may not exist yet: resolve its nearest existing ancestor.
    let abs = std::path::absolute(out).map_err(|e| Error::io(out, e))?;
    let mut existing = abs.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name().map(|n| n.to_os_string()));
        existing = existing.parent().unwrap_or(Path::new("/"));
    }
    let mut resolved = std::fs::canonicalize(existing).map_err(|e| Error::io(existing, e))?;
    for part in rest.into_iter().rev().flatten() {
        resolved.push(part);
    }
    for input in inputs {
        let Ok(input) = std::fs::canonicalize(input) else {
            continue;
        };
        let input_dir = if input.is_file() {
            input.parent().map(Path::to_path_buf).unwrap_or_default()
        } else {
            input
        };
        if resolved.starts_with(&input_dir) || input_dir.starts_with(&resolved) {
            return Err(Error::format(
                out,
                format!(
                    "the output directory overlaps an input ({}): choose another one, alignment \
                     files would overwrite or mix with it",
                    input_dir.display()
                ),
            ));
        }
    }
    Ok(())
}

/// The output path of utterance `id` under `out` (ids like `dr1-fvmh0/sa1` become subfolders);
/// an id that would leave `out` is an error.
pub fn utt_path(out: &Path, id: &str, ext: &str) -> Result<PathBuf> {
    let rel = Path::new(id);
    if id.is_empty() || rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Error::invalid(format!(
            "utterance id {id:?} cannot name a file inside the output directory"
        )));
    }
    Ok(out.join(format!("{id}.{ext}")))
}

/// The state alignment as run-length lines: `start end tied-state phone state`.
pub fn format_states(alignment: &Alignment, phones: &PhoneSet) -> String {
    let mut s = String::from("# start end tied_state phone state (frames start..end)\n");
    let f = &alignment.frames;
    let mut start = 0;
    for t in 1..=f.len() {
        if t == f.len() || f[t] != f[start] || is_entry(alignment, t) {
            let x = f[start];
            let _ = writeln!(
                s,
                "{start} {t} {} {} {}",
                x.leaf,
                phones.p48.name(x.phone),
                x.state
            );
            start = t;
        }
    }
    s
}

/// True when a phone starts at frame `t` (two occurrences of one phone state in a row stay apart).
fn is_entry(alignment: &Alignment, t: usize) -> bool {
    alignment
        .phones
        .binary_search_by(|p| p.start.cmp(&t))
        .is_ok()
}

/// Align `utts` with `trained` and write the files (see the module comment) under `out`.
/// Utterances that cannot be aligned are skipped with their reason; other errors stop the run.
pub fn align_corpus(
    env: &Env,
    trained: &Trained,
    utts: &[&Utterance],
    cfg: &AlignConfig,
    out: &Path,
) -> Result<AlignSummary> {
    cfg.validate()?;
    let hmm = trained.hmm()?;
    let mut inputs = vec![env.corpus.root.as_path()];
    if let Some(d) = &trained.dir {
        inputs.push(d.as_path());
    }
    check_output(out, &inputs)?;
    let started = std::time::Instant::now();
    let ctx = hmm.context_table(&trained.targets)?;
    let aligner = Aligner::new(&ctx, &hmm.transitions, cfg)?;
    let extractor = trained.extractor()?;
    let one = OneAligner {
        trained,
        aligner: &aligner,
        extractor: &extractor,
        geom: extractor.frontend.framing.geometry,
        rate: trained.pipeline.sample_rate,
        prior_scale: trained.pipeline.hmm.decode.prior_scale,
        phones: PhoneSet::timit(),
    };
    let (geom, rate, phones) = (one.geom, one.rate, one.phones);
    let set = env.load("align feats", utts, &extractor)?;
    env.observer.begin("aligning", utts.len() as u64);
    let results: Vec<(String, std::result::Result<Aligned, String>)> = set
        .utts
        .par_iter()
        .zip(utts)
        .map_init(SearchScratch::default, |scratch, (frames, utt)| {
            let r = one.align(utt, frames.feats.view(), scratch);
            env.observer.step(None);
            r.map(|r| (utt.id.clone(), r))
        })
        .collect::<Result<_>>()?;
    env.observer.end();

    let mut summary = AlignSummary {
        utterances: utts.len(),
        aligned: 0,
        retried: 0,
        skipped: Vec::new(),
        boundaries: None,
        config: cfg.clone(),
        seconds: 0.0,
    };
    let mut boundaries = BoundaryErrors::new();
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    for ((id, r), utt) in results.into_iter().zip(utts) {
        let a = match r {
            Ok(a) => a,
            Err(reason) => {
                summary.skipped.push(Skipped {
                    utterance: id,
                    reason,
                });
                continue;
            }
        };
        let phn = utt_path(out, &id, "phn")?;
        if let Some(parent) = phn.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        atomic::write_bytes(&phn, format_phn(&a.segments).as_bytes())?;
        atomic::write_bytes(&utt_path(out, &id, "TextGrid")?, a.textgrid.as_bytes())?;
        atomic::write_bytes(
            &utt_path(out, &id, "states")?,
            format_states(&a.alignment, phones).as_bytes(),
        )?;
        boundaries.add(&utt.phones, phones, &a.alignment.phones, &geom, rate)?;
        summary.aligned += 1;
        summary.retried += usize::from(a.alignment.retried);
    }
    summary.boundaries = boundaries.summary();
    summary.seconds = started.elapsed().as_secs_f64();
    crate::io::json::write_json(&out.join("alignment.json"), &summary)?;
    Ok(summary)
}

/// What aligning one utterance with a trained model needs.
struct OneAligner<'a> {
    trained: &'a Trained,
    aligner: &'a Aligner<'a>,
    extractor: &'a Extractor,
    geom: FrameGeometry,
    rate: u32,
    prior_scale: f32,
    phones: &'static PhoneSet,
}

impl OneAligner<'_> {
    /// The alignment of `utt` (features `feats`) to its phone transcript, its segments and its
    /// TextGrid; `Ok(Err(reason))` when it cannot be aligned (skipped), `Err` on other errors.
    fn align(
        &self,
        utt: &Utterance,
        feats: ArrayView2<'_, f32>,
        scratch: &mut SearchScratch,
    ) -> Result<std::result::Result<Aligned, String>> {
        if utt.sample_rate != self.rate {
            return Ok(Err(format!(
                "labels at {} Hz but the model's pipeline at {} Hz (alignment output \
                 at another rate is not supported)",
                utt.sample_rate, self.rate
            )));
        }
        // The transcript: kept (non-`q`) segments with their 48-set ids.
        let mut kept: Vec<(u16, &Segment)> = Vec::with_capacity(utt.phones.len());
        for s in &utt.phones {
            let id61 = self.phones.check_label(&s.label, &utt.phone_file, s.line)?;
            if let Some(p) = self.phones.fold_61_to_48(id61) {
                kept.push((p, s));
            }
        }
        let ids: Vec<u16> = kept.iter().map(|k| k.0).collect();
        let scores = search_scores(self.trained, feats, self.prior_scale)?;
        let graph = match self.aligner.compile(&[ids.as_slice()], false) {
            Ok(g) => g,
            Err(why) => return Ok(Err(why.to_string())),
        };
        let alignment = match self.aligner.align(&graph, scores.view(), scratch) {
            Ok(a) => a,
            Err(why) => return Ok(Err(why.to_string())),
        };
        let positions = alignment
            .sources
            .iter()
            .map(|s| match s {
                Source::Word { position, .. } => Ok(*position),
                Source::Silence => Err(Error::invalid(
                    "the aligner inserted a silence into a transcript without optional \
                     silences",
                )),
            })
            .collect::<Result<Vec<usize>>>()?;
        let labels: Vec<&str> = positions
            .iter()
            .map(|&p| kept[p].1.label.as_str())
            .collect();
        let num_samples = self.extractor.read_utterance(utt)?.samples.len() as u64;
        let segments = spans_to_segments(&alignment.phones, &labels, &self.geom, num_samples)?;
        let textgrid = textgrid(utt, &kept, &positions, &segments, num_samples, self.rate);
        Ok(Ok(Aligned {
            alignment,
            segments,
            textgrid,
        }))
    }
}

/// The TextGrid of one alignment: phones as aligned; words (where the corpus has word times)
/// over the aligned phones whose hand-labelled centres lie inside them.
fn textgrid(
    utt: &Utterance,
    kept: &[(u16, &Segment)],
    positions: &[usize],
    segments: &[Segment],
    num_samples: u64,
    rate: u32,
) -> String {
    let sec = |s: u64| s as f64 / rate as f64;
    let phones: Vec<Interval> = segments
        .iter()
        .map(|s| Interval {
            xmin: sec(s.start),
            xmax: sec(s.end),
            text: s.label.clone(),
            line: 0,
        })
        .collect();
    let mut tiers: Vec<(&str, &[Interval])> = vec![("phones", &phones)];
    let mut words = Vec::new();
    if !utt.words.is_empty() {
        // Aligned segment of each transcript position.
        let mut seg_of = vec![None; kept.len()];
        for (i, &p) in positions.iter().enumerate() {
            seg_of[p] = Some(i);
        }
        for w in &utt.words {
            let inside: Vec<usize> = (0..kept.len())
                .filter(|&p| {
                    let c = (kept[p].1.start + kept[p].1.end) / 2;
                    c >= w.start && c < w.end
                })
                .filter_map(|p| seg_of[p])
                .collect();
            if let (Some(&a), Some(&b)) = (inside.first(), inside.last()) {
                let start = sec(segments[a].start);
                // Words never overlap: a word starts where the previous one ended at the latest.
                let start = words.last().map_or(start, |l: &Interval| start.max(l.xmax));
                words.push(Interval {
                    xmin: start,
                    xmax: sec(segments[b].end),
                    text: w.label.clone(),
                    line: 0,
                });
            }
        }
        tiers.push(("words", &words));
    }
    format_textgrid(sec(num_samples), &tiers)
}

/// Draw `utt`'s log-mel spectrogram (Kaldi filter bank, 23 bins) with its hand-labelled phone
/// boundaries and those of the aligned `.phn` file `aligned`, into the image `path`.
pub fn plot_alignment(utt: &Utterance, aligned: &Path, path: &Path) -> Result<()> {
    use crate::frontend::StageKind;
    use crate::pipeline::Pipeline;
    use crate::viz::{Labelled, spectrogram_with_boundaries};
    let set = PhoneSet::timit();
    let auto = crate::corpus::timit::read_phn(aligned, set)?;
    let pipeline = Pipeline::kaldi_mfcc().until(StageKind::Log)?;
    let extractor = Extractor::new(&pipeline)?;
    let wav = extractor.read_utterance(utt)?;
    if wav.sample_rate != utt.sample_rate {
        return Err(Error::format(
            &utt.audio,
            format!(
                "audio at {} Hz, labels at {} Hz: plot at the labels' rate only",
                wav.sample_rate, utt.sample_rate
            ),
        ));
    }
    let feats = extractor.chain_read(&wav, &utt.id, &utt.audio)?;
    let geom = extractor.frontend.framing.geometry;
    let rate = utt.sample_rate as f64;
    let tier = |segs: &[Segment]| -> Vec<Labelled> {
        segs.iter()
            .map(|s| Labelled {
                start: s.start as f64 / rate,
                end: s.end as f64 / rate,
                label: s.label.clone(),
            })
            .collect()
    };
    let (hand, auto) = (tier(&utt.phones), tier(&auto));
    // Frame t covers [t shift, t shift + length): drawn from its start, offset so that its centre
    // lands where the labels put it.
    let shift = geom.shift as f64 / rate;
    let offset = (geom.centre(0) / rate) - shift / 2.0;
    let shifted = |v: Vec<Labelled>| -> Vec<Labelled> {
        v.into_iter()
            .map(|l| Labelled {
                start: l.start - offset,
                end: l.end - offset,
                ..l
            })
            .collect()
    };
    let (hand, auto) = (shifted(hand), shifted(auto));
    spectrogram_with_boundaries(
        path,
        feats.view(),
        shift,
        &[("hand", &hand), ("automatic", &auto)],
        &format!(
            "{}: log mel spectrogram, hand (white, top) and automatic (red, bottom) phone boundaries",
            utt.id
        ),
    )
}
