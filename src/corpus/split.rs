//! Train/dev/test splits by speaker: no speaker is in two splits, so test results measure
//! generalisation to new voices. Which rule applies is decided by the corpus:
//!
//! - **Full TIMIT** (LDC layout): train = every speaker under `TRAIN/` (462); test = the 24-speaker
//!   core test set; dev = the 50-speaker development set (both from `TEST/`, lists as in Kaldi's
//!   `conf/test_spk.list` and `conf/dev_spk.list`, in `data/splits/`). The other 94 `TEST/` speakers
//!   are in no split.
//! - **The NLTK TIMIT sample** (exactly its 16 speakers, in whatever layout): the fixed list in
//!   `data/splits/timit-sample.tsv`, 12 train / 4 test (2 female, 2 male, four dialect regions).
//! - **Any other corpus** (the demo corpus, manifests): per gender, speakers sorted by id,
//!   `k = floor((n + 2) / 4)` of them (a quarter, rounded half up) go to test, taken at evenly spread
//!   positions `floor((2j + 1) n / 2k)`, `j = 0..k`; the rest is train. Both genders are then in test
//!   in proportion; a gender with a single speaker stays in train.
//!
//! Only full TIMIT has dev speakers; elsewhere dev is empty and a trainer that needs held-out data
//! takes it from the training speakers' utterances.
//!
//! SA sentences (`sa1`, `sa2`) are read by every speaker; by TIMIT convention they are left out of
//! training and scoring ([`SplitOptions::include_sa`] = false). The speaker plots use them directly.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Corpus, CorpusKind, Gender, Utterance};

const CORE_TEST: &str = include_str!("../../data/splits/timit-core-test.txt");
const DEV: &str = include_str!("../../data/splits/timit-dev.txt");
const SAMPLE: &str = include_str!("../../data/splits/timit-sample.tsv");

/// One of the three disjoint speaker sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training speakers (GMM/DNN estimation, tree, LM).
    Train,
    /// Held-out speakers for early stopping and tuning.
    Dev,
    /// Test speakers, scored once.
    Test,
}

impl Split {
    /// The three splits in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Dev, Split::Test];

    /// Lower-case name as in files and the CLI: `train`, `dev`, `test`.
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}

/// Which utterances of a split's speakers are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SplitOptions {
    /// Use the SA sentences in train/dev/test too (default: no, TIMIT's convention).
    pub include_sa: bool,
}

/// How the speakers of a corpus are assigned to splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SplitRule {
    /// LDC TIMIT: TRAIN speakers / 50-speaker dev / 24-speaker core test.
    TimitStandard,
    /// The 16-speaker NLTK sample: fixed 12/4 list.
    TimitSample,
    /// Every 4th speaker per gender, evenly spread, to test.
    Balanced,
}

impl SplitRule {
    /// One-line description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            SplitRule::TimitStandard => {
                "TIMIT standard: TRAIN speakers / 50-speaker dev set / 24-speaker core test set"
            }
            SplitRule::TimitSample => "TIMIT sample: fixed list, 12 train / 4 test speakers",
            SplitRule::Balanced => {
                "balanced: per gender, a quarter of the speakers (sorted, evenly spread) to test"
            }
        }
    }
}

/// The split of every speaker of a corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splits {
    /// Rule the assignment was made by.
    pub rule: SplitRule,
    by_speaker: BTreeMap<String, Option<Split>>,
}

fn list(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Speaker codes of the core test set (24), as in Kaldi's `test_spk.list`.
pub fn timit_core_test() -> Vec<&'static str> {
    list(CORE_TEST).collect()
}

/// Speaker codes of the development set (50), as in Kaldi's `dev_spk.list`.
pub fn timit_dev() -> Vec<&'static str> {
    list(DEV).collect()
}

/// The sample's 16 speakers with their split.
pub fn timit_sample() -> Vec<(&'static str, Split)> {
    list(SAMPLE)
        .filter(|l| !l.starts_with("speaker"))
        .filter_map(|l| {
            let (spk, split) = l.split_once('\t')?;
            let split = match split.trim() {
                "train" => Split::Train,
                "dev" => Split::Dev,
                _ => Split::Test,
            };
            Some((spk, split))
        })
        .collect()
}

impl Splits {
    /// Choose the rule for `corpus` (see the module notes) and assign every speaker.
    pub fn for_corpus(corpus: &Corpus) -> Splits {
        // Speed-perturbed copies follow the speaker they copy; the rule sees the originals only.
        if corpus.utterances.iter().any(|u| u.speed.is_some()) {
            let originals = Corpus {
                root: corpus.root.clone(),
                kind: corpus.kind,
                utterances: corpus
                    .utterances
                    .iter()
                    .filter(|u| u.speed.is_none())
                    .cloned()
                    .collect(),
            };
            let mut splits = Splits::for_corpus(&originals);
            for u in &corpus.utterances {
                if let Some(base) = super::perturb::base_speaker(u) {
                    let split = splits.of_speaker(base);
                    splits.by_speaker.insert(u.speaker.clone(), split);
                }
            }
            return splits;
        }
        let speakers = corpus.speakers();
        let sample = timit_sample();
        let sample_set: BTreeSet<&str> = sample.iter().map(|(s, _)| *s).collect();
        let spk_set: BTreeSet<&str> = speakers.iter().copied().collect();
        if spk_set == sample_set {
            return Splits {
                rule: SplitRule::TimitSample,
                by_speaker: sample
                    .into_iter()
                    .map(|(s, sp)| (s.to_string(), Some(sp)))
                    .collect(),
            };
        }
        if corpus.kind == CorpusKind::TimitLdc {
            let core: BTreeSet<&str> = timit_core_test().into_iter().collect();
            let dev: BTreeSet<&str> = timit_dev().into_iter().collect();
            let mut by_speaker = BTreeMap::new();
            for u in &corpus.utterances {
                let code = u.speaker_code();
                let split = match u.subset.as_deref() {
                    Some("train") => Some(Split::Train),
                    _ if core.contains(code) => Some(Split::Test),
                    _ if dev.contains(code) => Some(Split::Dev),
                    _ => None,
                };
                by_speaker.insert(u.speaker.clone(), split);
            }
            return Splits {
                rule: SplitRule::TimitStandard,
                by_speaker,
            };
        }
        let gender_of: BTreeMap<&str, Gender> = corpus
            .utterances
            .iter()
            .map(|u| (u.speaker.as_str(), u.gender))
            .collect();
        let mut by_speaker = BTreeMap::new();
        for g in [Gender::Female, Gender::Male, Gender::Unknown] {
            let group: Vec<&str> = speakers
                .iter()
                .copied()
                .filter(|s| gender_of[s] == g)
                .collect();
            let n = group.len();
            let k = (n + 2) / 4;
            let test: BTreeSet<usize> = (0..k).map(|j| (2 * j + 1) * n / (2 * k)).collect();
            for (i, s) in group.iter().enumerate() {
                let split = if test.contains(&i) {
                    Split::Test
                } else {
                    Split::Train
                };
                by_speaker.insert(s.to_string(), Some(split));
            }
        }
        Splits {
            rule: SplitRule::Balanced,
            by_speaker,
        }
    }

    /// The split of a speaker (`None`: in no split, or not in the corpus).
    pub fn of_speaker(&self, speaker: &str) -> Option<Split> {
        self.by_speaker.get(speaker).copied().flatten()
    }

    /// Speakers of a split, sorted.
    pub fn speakers(&self, split: Split) -> Vec<&str> {
        self.by_speaker
            .iter()
            .filter(|(_, s)| **s == Some(split))
            .map(|(k, _)| k.as_str())
            .collect()
    }

    /// Whether `utt` is used in `split` under `opts`.
    pub fn uses(&self, utt: &Utterance, split: Split, opts: &SplitOptions) -> bool {
        self.of_speaker(&utt.speaker) == Some(split) && (opts.include_sa || !utt.is_sa())
    }

    /// Utterances of a split, in corpus order.
    pub fn utterances<'a>(
        &self,
        corpus: &'a Corpus,
        split: Split,
        opts: &SplitOptions,
    ) -> Vec<&'a Utterance> {
        corpus
            .utterances
            .iter()
            .filter(|u| self.uses(u, split, opts))
            .collect()
    }
}
