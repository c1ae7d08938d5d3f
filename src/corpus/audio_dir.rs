//! A plain directory of audio files as a corpus, without labels: what features, activations and
//! the hidden-layer plots need (they use no times), and what training and scoring refuse.
//!
//! Layout: audio files (`.wav`, `.flac`, `.sph`, any letter case) at the top, and/or one folder
//! per speaker holding audio files (one level deep; deeper folders and hidden files are left
//! alone).
//!
//! | field | in a speaker folder `alice/s01.wav` | at the top `s01.wav` |
//! | --- | --- | --- |
//! | id | `alice/s01` | `s01` |
//! | speaker | `alice` (the folder) | `s01`: the utterance is its own speaker |
//! | sentence | `s01` (the file stem) | `s01` |
//!
//! The sentence is the file stem, so parallel recordings (the same file name in every speaker's
//! folder) line up as one sentence read by several speakers. Gender and dialect are unknown.
//! Folders named like TIMIT's speakers (`dr1-fvmh0`) make the directory a TIMIT corpus instead.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Corpus, CorpusKind, Gender, Utterance};
use crate::error::{Error, Result};

/// The extensions read as audio (compared without letter case).
pub const AUDIO_EXTENSIONS: [&str; 3] = ["wav", "flac", "sph"];

fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.iter().any(|a| e.eq_ignore_ascii_case(a)))
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// Entries of `dir`, sorted, hidden ones left out.
fn entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if !is_hidden(&path) {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// `part` of `path`'s name (its stem, or its whole name) as UTF-8, or an error naming the path.
fn utf8(path: &Path, part: Option<&std::ffi::OsStr>) -> Result<String> {
    part.and_then(|s| s.to_str())
        .map(str::to_string)
        .ok_or_else(|| Error::format(path, "the name is not UTF-8 text"))
}

fn utterance(id: String, speaker: String, sentence: String, audio: PathBuf) -> Utterance {
    Utterance {
        id,
        speaker,
        gender: Gender::Unknown,
        dialect: String::new(),
        sentence,
        phone_file: audio.clone(),
        audio,
        channel: None,
        phones: Vec::new(),
        words: Vec::new(),
        text: None,
        transcript: None,
        // Nothing is counted in samples (no segments): the rate only matters for labels.
        sample_rate: crate::audio::DEFAULT_RATE,
        num_samples: None,
        subset: None,
        span: None,
        speed: None,
    }
}

/// Open `root` as a directory of audio files; `Ok(None)` when it holds none (at the top or one
/// folder down).
pub fn open_dir(root: &Path) -> Result<Option<Corpus>> {
    let mut utts = Vec::new();
    for path in entries(root)? {
        if path.is_dir() {
            let speaker = utf8(&path, path.file_name())?;
            for file in entries(&path)? {
                if file.is_file() && is_audio(&file) {
                    let s = utf8(&file, file.file_stem())?;
                    utts.push(utterance(
                        format!("{speaker}/{s}"),
                        speaker.clone(),
                        s,
                        file,
                    ));
                }
            }
        } else if path.is_file() && is_audio(&path) {
            let s = utf8(&path, path.file_stem())?;
            utts.push(utterance(s.clone(), s.clone(), s, path));
        }
    }
    if utts.is_empty() {
        return Ok(None);
    }
    Corpus::from_utterances(root, CorpusKind::AudioDir, utts).map(Some)
}
