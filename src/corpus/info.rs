//! A corpus at a glance: speakers, utterances, minutes, phone counts and frames per split.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::labels::{UtteranceLabels, frame_labels_at};
use super::{Corpus, CorpusKind, Gender, PhoneSet, Split, SplitOptions, Splits};
use crate::audio::resampled_len;
use crate::error::Result;
use crate::frontend::framing::FrameGeometry;

/// Counts for one split (or for the whole corpus, `split = "all"`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitInfo {
    /// `train`, `dev`, `test` or `all`.
    pub split: String,
    /// Distinct speakers.
    pub speakers: usize,
    /// Speakers marked female.
    pub female: usize,
    /// Speakers marked male.
    pub male: usize,
    /// Utterances counted (SA ones only when `include_sa`).
    pub utterances: usize,
    /// SA utterances of this split's speakers that were left out.
    pub sa_left_out: usize,
    /// Audio length, minutes.
    pub minutes: f64,
    /// Frames at the pipeline's framing.
    pub frames: usize,
    /// Frames with a phone label (all frames minus deleted and unaligned).
    pub labelled: usize,
    /// Frames in `q` segments (no 48-set phone).
    pub deleted: usize,
    /// Frames in no segment.
    pub unaligned: usize,
}

/// How often a 61-set label occurs (segments) and what it folds to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhoneCount {
    /// TIMIT 61-set label as written in the `.phn` files.
    pub phone61: String,
    /// What it folds to in the 48-phone training set; `None` for a deleted label (`q`).
    pub phone48: Option<String>,
    /// What it folds to in the 39-phone scoring set (Lee & Hon 1989); `None` for a deleted label.
    pub phone39: Option<String>,
    /// Segments with this label in the whole corpus.
    pub segments: usize,
}

/// Summary of a corpus (what `asrpipe corpus info` prints, also as JSON).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorpusInfo {
    /// Corpus directory (or manifest) as given.
    pub root: String,
    /// Layout the corpus was read as.
    pub kind: CorpusKind,
    /// Distinct speakers in the corpus.
    pub speakers: usize,
    /// Speakers marked female.
    pub female: usize,
    /// Speakers marked male.
    pub male: usize,
    /// All utterances, SA included.
    pub utterances: usize,
    /// Utterances of the two dialect sentences (`sa1`, `sa2`) every TIMIT speaker reads.
    pub sa_utterances: usize,
    /// Distinct prompts (sentence ids).
    pub sentences: usize,
    /// Audio length of all utterances, minutes.
    pub minutes: f64,
    /// Utterances whose length came from the audio; the others count to their last phone end.
    pub lengths_from_audio: usize,
    /// Frame length of the framing frames are counted with, samples.
    pub frame_length: usize,
    /// Frame shift, samples.
    pub frame_shift: usize,
    /// Kaldi's `snip_edges`: true drops frames that do not fit inside the audio.
    pub snip_edges: bool,
    /// How speakers were split (the split rule's description).
    pub split_rule: String,
    /// Whether SA utterances are counted in the splits.
    pub include_sa: bool,
    /// train, dev, test, all.
    pub splits: Vec<SplitInfo>,
    /// Every 61-set label with its folds and segment count, in phone-set order.
    pub phones: Vec<PhoneCount>,
    /// Utterances with a phone alignment (labels with times).
    pub aligned: usize,
    /// Utterances with a transcript or text (labels without times).
    pub transcripts: usize,
}

/// Summarise `corpus`, counting frames with `geom` at `rate` Hz (a pipeline's framing; audio at
/// another rate counts as resampled to it; lengths: [`super::Utterance::length_samples`]).
pub fn corpus_info(
    corpus: &Corpus,
    geom: &FrameGeometry,
    rate: u32,
    opts: &SplitOptions,
) -> Result<CorpusInfo> {
    let phones = PhoneSet::timit();
    let splits = Splits::for_corpus(corpus);
    let labels = corpus
        .utterances
        .iter()
        .map(|u| {
            let len = resampled_len(u.length_samples(), u.sample_rate, rate);
            frame_labels_at(u, len, geom, rate, phones)
        })
        .collect::<Result<Vec<_>>>()?;

    let count = |name: &str, pick: &dyn Fn(usize) -> bool, sa_left_out: usize| {
        split_info(corpus, &labels, name, pick, sa_left_out)
    };
    let mut split_infos: Vec<SplitInfo> = Split::ALL
        .iter()
        .map(|&s| {
            let in_split = |u: &super::Utterance| splits.of_speaker(&u.speaker) == Some(s);
            let left_out = corpus
                .utterances
                .iter()
                .filter(|u| in_split(u) && !splits.uses(u, s, opts))
                .count();
            count(
                s.name(),
                &|i| splits.uses(&corpus.utterances[i], s, opts),
                left_out,
            )
        })
        .collect();
    let all = count("all", &|_| true, 0);

    let phone_counts = phone_counts(corpus, phones);

    let info = CorpusInfo {
        root: corpus.root.display().to_string(),
        kind: corpus.kind,
        speakers: all.speakers,
        female: all.female,
        male: all.male,
        utterances: all.utterances,
        sa_utterances: corpus.utterances.iter().filter(|u| u.is_sa()).count(),
        sentences: corpus.sentences().len(),
        minutes: all.minutes,
        lengths_from_audio: corpus
            .utterances
            .iter()
            .filter(|u| u.num_samples.is_some())
            .count(),
        frame_length: geom.length,
        frame_shift: geom.shift,
        snip_edges: geom.snip_edges,
        split_rule: splits.rule.describe().to_string(),
        include_sa: opts.include_sa,
        splits: {
            split_infos.push(all);
            split_infos
        },
        phones: phone_counts,
        aligned: corpus
            .utterances
            .iter()
            .filter(|u| u.has_alignment())
            .count(),
        transcripts: corpus
            .utterances
            .iter()
            .filter(|u| u.transcript.is_some() || u.text.is_some())
            .count(),
    };
    Ok(info)
}

/// The counts of the utterances `pick` chooses (by index), `labels` being their frame labels.
fn split_info(
    corpus: &Corpus,
    labels: &[UtteranceLabels],
    name: &str,
    pick: &dyn Fn(usize) -> bool,
    sa_left_out: usize,
) -> SplitInfo {
    let mut speakers: BTreeMap<&str, Gender> = BTreeMap::new();
    let mut info = SplitInfo {
        split: name.to_string(),
        speakers: 0,
        female: 0,
        male: 0,
        utterances: 0,
        sa_left_out,
        minutes: 0.0,
        frames: 0,
        labelled: 0,
        deleted: 0,
        unaligned: 0,
    };
    for (i, u) in corpus
        .utterances
        .iter()
        .enumerate()
        .filter(|(i, _)| pick(*i))
    {
        speakers.insert(&u.speaker, u.gender);
        info.utterances += 1;
        info.minutes += u.length_samples() as f64 / u.sample_rate as f64 / 60.0;
        let l = &labels[i];
        info.frames += l.frames.len();
        info.labelled += l.labelled();
        info.deleted += l.deleted;
        info.unaligned += l.unaligned;
    }
    info.speakers = speakers.len();
    info.female = speakers.values().filter(|g| **g == Gender::Female).count();
    info.male = speakers.values().filter(|g| **g == Gender::Male).count();
    info
}

/// Every 61-set label with its folds and how many segments of the corpus carry it.
fn phone_counts(corpus: &Corpus, phones: &PhoneSet) -> Vec<PhoneCount> {
    let mut segs = vec![0usize; phones.p61.len()];
    for u in &corpus.utterances {
        for s in &u.phones {
            // Labels were checked when the corpus was read; an unknown one is not counted.
            if let Some(p) = phones.p61.id(&s.label) {
                segs[p as usize] += 1;
            }
        }
    }
    (0..phones.p61.len() as u16)
        .map(|p| PhoneCount {
            phone61: phones.p61.name(p).to_string(),
            phone48: phones
                .fold_61_to_48(p)
                .map(|q| phones.p48.name(q).to_string()),
            phone39: phones
                .fold_61_to_39(p)
                .map(|q| phones.p39.name(q).to_string()),
            segments: segs[p as usize],
        })
        .collect()
}

impl fmt::Display for CorpusInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            CorpusKind::TimitSpeakers => "TIMIT layout, speaker folders",
            CorpusKind::TimitLdc => "TIMIT layout, LDC TRAIN/TEST",
            CorpusKind::Manifest => "manifest",
            CorpusKind::KaldiDir => "Kaldi data directory",
            CorpusKind::AudioDir => "directory of audio files, no labels",
        };
        writeln!(f, "corpus      {} ({kind})", self.root)?;
        writeln!(
            f,
            "speakers    {} ({} female, {} male)",
            self.speakers, self.female, self.male
        )?;
        writeln!(
            f,
            "utterances  {} ({} SA), {} distinct sentences",
            self.utterances, self.sa_utterances, self.sentences
        )?;
        let src = match self.lengths_from_audio {
            0 => "lengths from the last phone end".to_string(),
            n if n == self.utterances => "lengths from the audio".to_string(),
            n => format!("{n} lengths from the audio, the rest from the last phone end"),
        };
        if self.lengths_from_audio == 0 && self.minutes == 0.0 {
            // A corpus without labels: nothing gives lengths until the audio is read.
            writeln!(
                f,
                "audio       length unknown (no alignments or num_samples)"
            )?;
        } else {
            writeln!(f, "audio       {:.2} min ({src})", self.minutes)?;
        }
        writeln!(
            f,
            "frames      length {} / shift {} samples, snip_edges {}",
            self.frame_length, self.frame_shift, self.snip_edges
        )?;
        writeln!(
            f,
            "split       {}; SA sentences {}",
            self.split_rule,
            if self.include_sa {
                "included"
            } else {
                "left out of train/dev/test"
            }
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "split  speakers (f/m)  utts  SA out  minutes   frames  labelled  q frames  unaligned"
        )?;
        for s in &self.splits {
            writeln!(
                f,
                "{:<6} {:>8} {:>6}  {:>4}  {:>6}  {:>7.2}  {:>7}  {:>8}  {:>8}  {:>9}",
                s.split,
                s.speakers,
                format!("({}/{})", s.female, s.male),
                s.utterances,
                s.sa_left_out,
                s.minutes,
                s.frames,
                s.labelled,
                s.deleted,
                s.unaligned
            )?;
        }
        writeln!(f)?;
        if self.aligned == 0 {
            // A table of zeros says nothing: say what the corpus has instead.
            return match self.transcripts {
                0 => writeln!(
                    f,
                    "no phone labels: {} utterances, audio only",
                    self.utterances
                ),
                n => writeln!(
                    f,
                    "no phone labels: {} utterances, {n} with a transcript (no times)",
                    self.utterances
                ),
            };
        }
        writeln!(f, "phone61  phone48  phone39  segments")?;
        for p in &self.phones {
            let d = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
            writeln!(
                f,
                "{:<8} {:<8} {:<8} {:>8}",
                p.phone61,
                d(&p.phone48),
                d(&p.phone39),
                p.segments
            )?;
        }
        Ok(())
    }
}
