//! What training and scoring need of each utterance, and what they do with those that lack it:
//! refuse, naming how many and which, or (when asked) leave them out.
//!
//! Features, activations and the hidden-layer plots need no labels; a corpus without them (a
//! directory of audio files, a manifest with only `audio`) feeds those. Training on hand times
//! and frame scoring need a phone alignment; a flat start and training on another model's
//! alignment need at least a transcript.

use crate::corpus::{Corpus, Utterance};
use crate::error::{Error, Result};

/// Ids named in a refusal; the count is always given in full.
const SHOWN: usize = 5;

/// What a command needs of each utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Phone segments with times (training on hand labels, frame accuracy, phone error rate).
    Alignment,
    /// What was said, with or without times (a flat start, Viterbi realignment).
    Transcript,
}

impl Need {
    /// True when `u` lacks what this needs.
    pub fn lacks(self, u: &Utterance) -> bool {
        match self {
            Need::Alignment => !u.has_alignment(),
            Need::Transcript => !u.has_alignment() && u.transcript.is_none(),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Need::Alignment => "phone alignment (times)",
            Need::Transcript => "transcript or alignment",
        }
    }
}

/// The utterances of `utts` that lack what `need` asks for, in order.
pub fn lacking<'a>(utts: &[&'a Utterance], need: Need) -> Vec<&'a Utterance> {
    utts.iter().copied().filter(|u| need.lacks(u)).collect()
}

/// "3 of 10 (a, b, c)": how many of `total` utterances lack it and the first few ids.
fn count_and_ids(missing: &[&Utterance], total: usize) -> String {
    let ids: Vec<&str> = missing.iter().take(SHOWN).map(|u| u.id.as_str()).collect();
    let more = if missing.len() > SHOWN { ", ..." } else { "" };
    format!("{} of {total} ({}{more})", missing.len(), ids.join(", "))
}

/// Refuse `utts` (the utterances `what` uses, e.g. "training") when any lacks what `need` asks
/// for: one error with their count and the first few ids, and how to go on.
pub fn require(corpus: &Corpus, utts: &[&Utterance], need: Need, what: &str) -> Result<()> {
    let missing = lacking(utts, need);
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::format(
        &corpus.root,
        format!(
            "{} {what} utterances have no {}, which every one needs here; give \
             --skip-unlabelled to leave them out{}",
            count_and_ids(&missing, utts.len()),
            need.noun(),
            match (need, what) {
                (Need::Alignment, "training") => {
                    ", or train with --flat-start where they have transcripts"
                }
                _ => "",
            }
        ),
    ))
}

/// `corpus` without the utterances that lack what `need` asks for, and a line saying what was
/// left out (`None` when nothing was).
pub fn skip_lacking(corpus: &Corpus, need: Need) -> (Corpus, Option<String>) {
    let all: Vec<&Utterance> = corpus.utterances.iter().collect();
    let missing = lacking(&all, need);
    if missing.is_empty() {
        return (corpus.clone(), None);
    }
    let note = format!(
        "skipping {} utterances without {}",
        count_and_ids(&missing, all.len()),
        need.noun()
    );
    let mut kept = corpus.clone();
    kept.utterances.retain(|u| !need.lacks(u));
    (kept, Some(note))
}
