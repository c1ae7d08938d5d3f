//! TIMIT's layout and label files, in both spellings:
//! - speaker folders at the top, lower case: `dr1-fvmh0/sa1.wav` + `.phn`/`.wrd`/`.txt` (the NLTK
//!   sample; the demo corpus, with `.flac`);
//! - full LDC TIMIT: `TRAIN/DR1/FCJF0/SA1.WAV` + `.PHN`/`.WRD`/`.TXT` under `TRAIN/` and `TEST/`
//!   (also found one level down, in `TIMIT/` or `timit/`). Names match in either letter case.
//!
//! A speaker folder is `<dialect>-<gender letter><initials><digit>`; the gender comes from the letter.
//! Utterance id: `<speaker folder>/<file stem>`, lower case (LDC: `dr1-fcjf0/sa1`). Sentence id: the
//! lower-cased stem. Audio: whichever exists of `.wav`, `.WAV`, `.flac`, `.FLAC`, in that order.
//! File names with a second dot (`SA1.WAV.wav`, made by some conversions) are ignored.
//!
//! `.phn`/`.wrd` lines are `start end label`, in samples at 16 kHz. Phone segments are checked when
//! read: known labels, `end >= start`, no overlap with the previous segment. Gaps are allowed (their
//! frames get no label, see [`super::labels`]). Words may overlap (TIMIT's do where two words share a
//! sound), so only `end >= start` is checked for them.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::{Corpus, CorpusKind, Gender, PhoneSet, Segment, Utterance};
use crate::error::{Error, Result};

/// TIMIT's sample rate; its label files count samples at this rate.
pub const TIMIT_RATE: u32 = 16_000;

/// Audio extensions in order of preference.
const AUDIO_EXTS: [&str; 4] = ["wav", "WAV", "flac", "FLAC"];

/// Read `start end label` lines (TIMIT `.phn`/`.wrd`). Blank lines are skipped.
pub fn read_segment_file(path: &Path) -> Result<Vec<Segment>> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_segments(&text, path)
}

/// Parse the text of a `.phn`/`.wrd` file; `path` is only used to name errors.
pub fn parse_segments(text: &str, path: &Path) -> Result<Vec<Segment>> {
    let mut segs = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let cols: Vec<&str> = raw.split_whitespace().collect();
        if cols.is_empty() {
            continue;
        }
        let [start, end, label] = cols.as_slice() else {
            return Err(Error::at_line(
                path,
                line,
                format!("expected `start end label`, got `{}`", raw.trim()),
            ));
        };
        let num = |s: &str, what: &str| {
            s.parse::<u64>().map_err(|_| {
                Error::at_line(
                    path,
                    line,
                    format!("{what} `{s}` is not a sample number (a non-negative integer)"),
                )
            })
        };
        let (start, end) = (num(start, "start")?, num(end, "end")?);
        if end < start {
            return Err(Error::at_line(
                path,
                line,
                format!("segment `{label}` ends ({end}) before it starts ({start})"),
            ));
        }
        segs.push(Segment {
            start,
            end,
            label: label.to_string(),
            line,
        });
    }
    Ok(segs)
}

/// Check a phone alignment: every label in the 61 set, in time order, no overlaps.
pub fn check_phones(segs: &[Segment], file: &Path, phones: &PhoneSet) -> Result<()> {
    for (i, s) in segs.iter().enumerate() {
        phones.check_label(&s.label, file, s.line)?;
        if s.end < s.start {
            return Err(Error::at_line(
                file,
                s.line,
                format!(
                    "segment `{}` ends ({}) before it starts ({})",
                    s.label, s.end, s.start
                ),
            ));
        }
        if i > 0 && s.start < segs[i - 1].end {
            let p = &segs[i - 1];
            return Err(Error::at_line(
                file,
                s.line,
                format!(
                    "segment `{}` starts at {} inside the previous one (`{}` {}..{}): \
                     phone segments must be in order and must not overlap",
                    s.label, s.start, p.label, p.start, p.end
                ),
            ));
        }
    }
    if segs.is_empty() {
        return Err(Error::format(file, "no phone segments"));
    }
    Ok(())
}

/// Read and check a `.phn` file.
pub fn read_phn(path: &Path, phones: &PhoneSet) -> Result<Vec<Segment>> {
    let segs = read_segment_file(path)?;
    check_phones(&segs, path, phones)?;
    Ok(segs)
}

/// The transcript of a TIMIT `.txt` file: `0 <end> <sentence>` -> the sentence.
fn read_txt(path: &Path) -> Result<String> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut it = text.trim().splitn(3, char::is_whitespace);
    let (a, b, rest) = (it.next(), it.next(), it.next());
    let numeric = |s: Option<&str>| s.is_some_and(|s| s.parse::<u64>().is_ok());
    Ok(match rest {
        Some(rest) if numeric(a) && numeric(b) => rest.trim().to_string(),
        _ => text.trim().to_string(),
    })
}

/// Open `root` if it is in one of TIMIT's layouts; `Ok(None)` if it is not.
pub fn open_dir(root: &Path) -> Result<Option<Corpus>> {
    let phones = PhoneSet::timit();
    for base in std::iter::once(root.to_path_buf()).chain(child_dir(root, "timit")?) {
        let subsets: Vec<(String, PathBuf)> = ["train", "test"]
            .iter()
            .filter_map(|s| child_dir(&base, s).transpose())
            .map(|r| r.map(|p| (file_name_lower(&p), p)))
            .collect::<Result<_>>()?;
        if subsets.is_empty() {
            continue;
        }
        let mut utts = Vec::new();
        for (subset, dir) in &subsets {
            for dr in subdirs(dir)? {
                let dialect = file_name_lower(&dr);
                for spk in subdirs(&dr)? {
                    let code = file_name_lower(&spk);
                    let gender = Gender::from_letter(code.chars().next().unwrap_or('?'));
                    let speaker = format!("{dialect}-{code}");
                    let found = read_speaker(&spk, &speaker, gender, &dialect, phones)?;
                    utts.extend(found.into_iter().map(|mut u| {
                        u.subset = Some(subset.clone());
                        u
                    }));
                }
            }
        }
        return Corpus::from_utterances(root, CorpusKind::TimitLdc, utts).map(Some);
    }

    let mut utts = Vec::new();
    let mut any = false;
    for dir in subdirs(root)? {
        let name = file_name_lower(&dir);
        let Some((dialect, code)) = parse_speaker_dir(&name) else {
            continue;
        };
        any = true;
        let gender = Gender::from_letter(code.chars().next().unwrap());
        utts.extend(read_speaker(&dir, &name, gender, dialect, phones)?);
    }
    if !any {
        return Ok(None);
    }
    Corpus::from_utterances(root, CorpusKind::TimitSpeakers, utts).map(Some)
}

/// `dr1-fvmh0` -> (`dr1`, `fvmh0`): both parts alphanumeric, the code starting with a letter.
fn parse_speaker_dir(name: &str) -> Option<(&str, &str)> {
    let (dialect, code) = name.split_once('-')?;
    let alnum = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    (alnum(dialect) && alnum(code) && code.as_bytes()[0].is_ascii_alphabetic())
        .then_some((dialect, code))
}

/// Utterances of one speaker folder.
fn read_speaker(
    dir: &Path,
    speaker: &str,
    gender: Gender,
    dialect: &str,
    phones: &PhoneSet,
) -> Result<Vec<Utterance>> {
    // Group the files by lower-cased stem: extension -> actual path.
    let mut stems: BTreeMap<String, BTreeMap<String, PathBuf>> = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((stem, ext)) = name.split_once('.') else {
            continue;
        };
        if ext.contains('.') || !path.is_file() {
            continue;
        }
        let kind = ext.to_ascii_lowercase();
        if ["wav", "flac", "phn", "wrd", "txt"].contains(&kind.as_str()) {
            stems
                .entry(stem.to_ascii_lowercase())
                .or_default()
                .insert(ext.to_string(), path);
        }
    }
    let mut utts = Vec::new();
    for (stem, files) in stems {
        let get = |kind: &str| {
            files
                .iter()
                .find(|(e, _)| e.eq_ignore_ascii_case(kind))
                .map(|(_, p)| p.clone())
        };
        let audio = AUDIO_EXTS.iter().find_map(|e| files.get(*e).cloned());
        let phn = get("phn");
        let (audio, phn) = match (audio, phn) {
            (Some(a), Some(p)) => (a, p),
            (Some(a), None) => {
                return Err(Error::format(
                    &a,
                    format!(
                        "no phone alignment next to this audio (expected {stem}.phn; folders \
                         named like TIMIT speakers, `dr1-fvmh0`, make a TIMIT corpus: for audio \
                         without labels, name them otherwise or list the files in a manifest)"
                    ),
                ));
            }
            (None, Some(p)) => {
                return Err(Error::format(
                    &p,
                    format!("no audio next to this alignment (expected {stem}.wav or {stem}.flac)"),
                ));
            }
            (None, None) => continue,
        };
        let phone_segs = read_phn(&phn, phones)?;
        let words = match get("wrd") {
            Some(w) => read_segment_file(&w)?,
            None => Vec::new(),
        };
        let text = get("txt").map(|t| read_txt(&t)).transpose()?;
        utts.push(Utterance {
            id: format!("{speaker}/{stem}"),
            speaker: speaker.to_string(),
            gender,
            dialect: dialect.to_string(),
            sentence: stem,
            audio,
            channel: None,
            phone_file: phn,
            phones: phone_segs,
            words,
            text,
            transcript: None,
            sample_rate: TIMIT_RATE,
            num_samples: None,
            subset: None,
            span: None,
            speed: None,
        });
    }
    Ok(utts)
}

/// Sub-folders of `dir`, sorted by path.
fn subdirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The sub-folder of `dir` called `name` in any letter case.
fn child_dir(dir: &Path, name: &str) -> Result<Option<PathBuf>> {
    Ok(subdirs(dir)?
        .into_iter()
        .find(|p| file_name_lower(p) == name))
}

fn file_name_lower(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default()
}
