//! Aligned speech: utterances with their speaker, sentence, audio and phone/word segments.
//!
//! Four ways in, all through [`Corpus::open`]:
//! - a directory in TIMIT's layout ([`timit`]): the NLTK sample or the demo corpus (speaker folders
//!   `dr1-fvmh0/` at the top) or full LDC TIMIT (`TRAIN/DR1/FCJF0/`, either letter case);
//! - a manifest file ([`manifest`]) listing audio, and optionally speaker and a `.phn` or
//!   TextGrid alignment or a transcript, per row;
//! - a Kaldi data directory ([`kaldi_dir`]): `wav.scp`, `utt2spk`, optional `segments`, `text`,
//!   alignments;
//! - a plain directory of audio files ([`audio_dir`]), optionally one folder per speaker: no
//!   labels, for what needs none (features, activations, the hidden-layer plots).
//!
//! Everything downstream sees the same [`Utterance`]s, sorted by id so that every run visits them in
//! the same order.

pub mod audio_dir;
pub mod info;
pub mod kaldi_dir;
pub mod labels;
pub mod lexicon;
pub mod manifest;
pub mod perturb;
pub mod phones;
pub mod shard;
pub mod split;
pub mod textgrid;
pub mod timit;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::audio::Channel;
use crate::error::{Error, Result};

pub use info::{CorpusInfo, corpus_info};
pub use kaldi_dir::OpenOptions;
pub use labels::{
    FrameLabel, LabelRow, LabelTable, UtteranceLabels, frame_labels, frame_labels_at,
    utterance_labels,
};
pub use lexicon::Lexicon;
pub use phones::{PhoneSet, PhoneToken};
pub use split::{Split, SplitOptions, SplitRule, Splits};

/// A labelled span of audio, in samples at the audio's rate: `start..end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// First sample of the span.
    pub start: u64,
    /// One past the last sample (`end >= start`).
    pub end: u64,
    /// Label as written in the file (TIMIT 61 set for phones, the word for words).
    pub label: String,
    /// 1-based line of the alignment file this segment came from (0 when not from a file), so that
    /// checks made later (against the audio length) can still name the line.
    pub line: usize,
}

/// Speaker's gender, from TIMIT's speaker folder letter (`f`/`m`) or a manifest column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Gender {
    /// `f`.
    Female,
    /// `m`.
    Male,
    /// Not given (manifests may leave it out).
    Unknown,
}

impl Gender {
    /// TIMIT's convention: the speaker code starts with `f` or `m`.
    pub fn from_letter(c: char) -> Gender {
        match c.to_ascii_lowercase() {
            'f' => Gender::Female,
            'm' => Gender::Male,
            _ => Gender::Unknown,
        }
    }

    /// One letter for tables: `f`, `m`, or `?` when unknown.
    pub fn letter(self) -> char {
        match self {
            Gender::Female => 'f',
            Gender::Male => 'm',
            Gender::Unknown => '?',
        }
    }
}

/// One recording with its alignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Unique id, e.g. `dr1-fvmh0/sa1`.
    pub id: String,
    /// Speaker id; for TIMIT the speaker folder, `dr1-fvmh0`.
    pub speaker: String,
    /// From the speaker folder's first letter (TIMIT) or the manifest.
    pub gender: Gender,
    /// Dialect region (`dr1`), empty when unknown.
    pub dialect: String,
    /// Sentence id shared by all speakers who read the same prompt (`sa1`).
    pub sentence: String,
    /// Audio file (WAV, NIST SPHERE or FLAC).
    pub audio: PathBuf,
    /// Channel of `audio` that holds this utterance (a manifest's `channel` column); `None`: the
    /// pipeline's choice (`waveform: { channel }`).
    pub channel: Option<Channel>,
    /// Where the phone alignment was read from (named in errors).
    pub phone_file: PathBuf,
    /// Phone segments (TIMIT 61 set), in time order, not overlapping; gaps allowed.
    pub phones: Vec<Segment>,
    /// Word segments; may overlap (TIMIT's .wrd does where words share a sound).
    pub words: Vec<Segment>,
    /// Orthographic transcript, when the corpus has one.
    pub text: Option<String>,
    /// A manifest's `transcript` column (phones, or words read through a lexicon), with the line
    /// it came from; `None` when there is none.
    #[serde(default)]
    pub transcript: Option<TranscriptText>,
    /// Rate the segment times are counted in.
    pub sample_rate: u32,
    /// Length of the audio in samples when known without reading it (a manifest column, or filled
    /// in by a caller that has read the audio). `None`: the last phone end stands in for it.
    pub num_samples: Option<u64>,
    /// `train` or `test` for full TIMIT (its top-level folder), `None` elsewhere.
    pub subset: Option<String>,
    /// The part of `audio` this utterance is (a Kaldi `segments` line); `None`: the whole file.
    /// Segment times and `num_samples` count from its start.
    #[serde(default)]
    pub span: Option<Span>,
    /// A speed-perturbed copy ([`perturb`]): the audio played at this speed, in thousandths
    /// (900: 0.9, slower and longer); segment times and `num_samples` are already scaled to it.
    /// `None`: as recorded.
    #[serde(default)]
    pub speed: Option<u32>,
}

/// Samples `start..end` of an audio file, at the file's own rate (`Utterance::sample_rate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// First sample.
    pub start: u64,
    /// One past the last sample (`end > start`).
    pub end: u64,
}

impl Span {
    /// Samples in the span.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// True when the span holds no sample.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// A transcript as written in a corpus file: tokens separated by white space (phone names, or
/// words), and where it was read (named in errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscriptText {
    /// The tokens as written, separated by white space.
    pub text: String,
    /// The file the transcript was read from.
    pub file: PathBuf,
    /// Its line in that file (1-based).
    pub line: usize,
}

impl TranscriptText {
    /// The tokens, in order.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.text.split_whitespace()
    }
}

impl Utterance {
    /// True when the utterance has a phone alignment (segments with times).
    pub fn has_alignment(&self) -> bool {
        !self.phones.is_empty()
    }

    /// TIMIT's dialect sentences (`sa1`, `sa2`), read by every speaker. By convention they are left
    /// out of phone recognition training and scoring (they would over-weight their phones), but the
    /// speaker plots need exactly them.
    pub fn is_sa(&self) -> bool {
        is_sa_sentence(&self.sentence)
    }

    /// End of the last phone segment (0 when there is none).
    pub fn aligned_samples(&self) -> u64 {
        self.phones.iter().map(|s| s.end).max().unwrap_or(0)
    }

    /// Audio length if known, else the end of the alignment.
    pub fn length_samples(&self) -> u64 {
        self.num_samples.unwrap_or_else(|| self.aligned_samples())
    }

    /// The speaker code without the dialect prefix (`dr1-fcjf0` -> `fcjf0`): the form the standard
    /// TIMIT speaker lists use.
    pub fn speaker_code(&self) -> &str {
        speaker_code(&self.speaker)
    }
}

pub(crate) fn is_sa_sentence(sentence: &str) -> bool {
    sentence
        .to_ascii_lowercase()
        .strip_prefix("sa")
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn speaker_code(speaker: &str) -> &str {
    speaker.split_once('-').map_or(speaker, |(_, code)| code)
}

/// How a corpus was found; decides the default speaker split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CorpusKind {
    /// Speaker folders at the top (`dr1-fvmh0/sa1.wav`): the NLTK sample, the demo corpus.
    TimitSpeakers,
    /// Full LDC TIMIT: `TRAIN/` and `TEST/`, then `DR1/`, then `FCJF0/`.
    TimitLdc,
    /// A CSV/TSV manifest.
    Manifest,
    /// A Kaldi data directory (`wav.scp`, `utt2spk`, ...).
    KaldiDir,
    /// A directory of audio files (optionally one folder per speaker), without labels.
    AudioDir,
}

/// A set of utterances, in a fixed (sorted) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    /// Corpus directory, or the manifest file.
    pub root: PathBuf,
    /// Layout the corpus was read as.
    pub kind: CorpusKind,
    /// Every utterance, sorted by id.
    pub utterances: Vec<Utterance>,
}

impl Corpus {
    /// Open a corpus: a Kaldi data directory (it has a `wav.scp`; `wav.scp` itself names its
    /// directory), a directory in TIMIT layout (sample or LDC spelling), a directory holding
    /// `manifest.tsv` or `manifest.csv`, a directory of audio files, or a manifest file. Every
    /// alignment is read and checked (phone names, order, overlaps); audio is not read (a Kaldi
    /// directory's headers are). `wav.scp` commands are refused: [`Corpus::open_with`] can allow
    /// them.
    pub fn open(path: &Path) -> Result<Corpus> {
        Corpus::open_with(path, &OpenOptions::default())
    }

    /// [`Corpus::open`] with options (what a Kaldi data directory may run).
    pub fn open_with(path: &Path, opts: &OpenOptions) -> Result<Corpus> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let scp_dir = (path.file_name().is_some_and(|n| n == "wav.scp") && meta.is_file())
            .then(|| path.parent().unwrap_or(Path::new(".")));
        let corpus = if let Some(dir) = scp_dir {
            kaldi_dir::read(dir, opts)?
        } else if meta.is_dir() {
            if kaldi_dir::is_data_dir(path) {
                kaldi_dir::read(path, opts)?
            } else if let Some(c) = timit::open_dir(path)? {
                c
            } else if let Some(m) = ["manifest.tsv", "manifest.csv"]
                .iter()
                .map(|n| path.join(n))
                .find(|p| p.is_file())
            {
                manifest::read(&m)?
            } else if let Some(c) = audio_dir::open_dir(path)? {
                c
            } else {
                return Err(Error::format(
                    path,
                    format!(
                        "not a corpus: no wav.scp (Kaldi data directory), no speaker folders \
                         like `dr1-fvmh0/`, no `TRAIN/`/`TEST/` (TIMIT layout), no \
                         manifest.tsv/manifest.csv, and no audio files (.{}) here or one folder \
                         down",
                        audio_dir::AUDIO_EXTENSIONS.join(", .")
                    ),
                ));
            }
        } else {
            manifest::read(path)?
        };
        if corpus.utterances.is_empty() {
            return Err(Error::format(path, "the corpus has no utterances"));
        }
        Ok(corpus)
    }

    /// The embedded demo corpus: `audio/demo` under the working directory, else in the source tree
    /// this binary was built from.
    pub fn demo_dir() -> PathBuf {
        let local = PathBuf::from("audio/demo");
        if local.is_dir() {
            local
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/demo")
        }
    }

    /// True for the embedded demo corpus (named in errors: "looked in the demo corpus").
    pub fn is_demo(&self) -> bool {
        let canon = |p: &Path| std::fs::canonicalize(p).ok();
        canon(&self.root).is_some_and(|r| Some(r) == canon(&Corpus::demo_dir()))
    }

    /// The utterances with these ids, in the order given; an id not in the corpus is an error
    /// that names the corpus (and says when it is the embedded demo corpus, which commands read
    /// when no `--corpus` is given).
    pub fn utterances_by_id(&self, ids: &[String]) -> Result<Vec<&Utterance>> {
        ids.iter()
            .map(|id| {
                self.utterance(id).ok_or_else(|| {
                    let hint = if self.is_demo() {
                        " (looked in the embedded demo corpus: give --corpus for your own)"
                    } else {
                        ""
                    };
                    let near: Vec<&str> = self
                        .utterances
                        .iter()
                        .map(|u| u.id.as_str())
                        .take(3)
                        .collect();
                    Error::format(
                        &self.root,
                        format!(
                            "no utterance `{id}`{hint}; ids look like {}",
                            near.join(", ")
                        ),
                    )
                })
            })
            .collect()
    }

    /// Open `path`, or the demo corpus when none is given.
    pub fn open_or_demo(path: Option<&Path>) -> Result<Corpus> {
        match path {
            Some(p) => Corpus::open(p),
            None => Corpus::open(&Corpus::demo_dir()),
        }
    }

    /// Build a corpus from utterances (sorted by id here); duplicate ids are an error.
    pub fn from_utterances(
        root: &Path,
        kind: CorpusKind,
        mut utterances: Vec<Utterance>,
    ) -> Result<Corpus> {
        utterances.sort_by(|a, b| a.id.cmp(&b.id));
        if let Some(w) = utterances.windows(2).find(|w| w[0].id == w[1].id) {
            return Err(Error::format(
                root,
                format!(
                    "two utterances have the id `{}` ({} and {})",
                    w[0].id,
                    w[0].audio.display(),
                    w[1].audio.display()
                ),
            ));
        }
        Ok(Corpus {
            root: root.to_path_buf(),
            kind,
            utterances,
        })
    }

    /// Speaker ids, sorted.
    pub fn speakers(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.utterances.iter().map(|u| u.speaker.as_str()).collect();
        set.into_iter().collect()
    }

    /// Sentence ids, sorted.
    pub fn sentences(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self
            .utterances
            .iter()
            .map(|u| u.sentence.as_str())
            .collect();
        set.into_iter().collect()
    }

    /// The utterance with this id (binary search; `None` when absent).
    pub fn utterance(&self, id: &str) -> Option<&Utterance> {
        self.utterances
            .binary_search_by(|u| u.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.utterances[i])
    }
}
