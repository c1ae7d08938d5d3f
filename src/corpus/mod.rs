//! Aligned speech: utterances with their speaker, sentence, audio and phone/word segments.

pub mod labels;
pub mod phones;
pub mod timit;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A labelled span of audio, in samples at the audio's rate: `start..end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub start: u64,
    pub end: u64,
    pub label: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Gender {
    Female,
    Male,
    Unknown,
}

/// One recording with its alignment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Utterance {
    /// Unique id, e.g. `dr1-fvmh0/sa1`.
    pub id: String,
    pub speaker: String,
    pub gender: Gender,
    pub dialect: String,
    /// Sentence id shared by all speakers who read the same prompt (`sa1`).
    pub sentence: String,
    pub audio: PathBuf,
    /// Where the phone alignment was read from (named in errors).
    pub phone_file: PathBuf,
    pub phones: Vec<Segment>,
    pub words: Vec<Segment>,
}

/// A set of utterances, in a fixed (sorted) order.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    pub root: PathBuf,
    pub utterances: Vec<Utterance>,
}
