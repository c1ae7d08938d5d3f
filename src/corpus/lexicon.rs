//! Pronunciation lexicons in CMUdict format: `WORD  PH1 PH2 ...`, one pronunciation a line, a
//! further pronunciation of the same word as `WORD(2)  ...` (or simply the word again, as Kaldi's
//! `lexicon.txt` writes it); lines starting with `;;;` or `#` are comments.
//!
//! Words match without regard to letter case. Phones are read as [`PhoneSet::token`] reads them:
//! ARPAbet with stress digits (`AH0`), TIMIT labels or 48-set names, in any case; every one is
//! stored as its 48-set phone. CMUdict's 39 phones all have a TIMIT phone of the same name (its
//! stops have no separate closure, so a model trained through it learns closure and release as one
//! phone).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{PhoneSet, PhoneToken};
use crate::error::{Error, Result};

/// Largest lexicon file read (CMUdict is under 4 MiB).
pub const MAX_LEXICON_BYTES: u64 = 256 << 20;

/// Words and their pronunciations (48-set phone ids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexicon {
    /// The file it was read from (named in errors about words).
    pub path: PathBuf,
    entries: HashMap<String, Vec<Vec<u16>>>,
}

impl Lexicon {
    /// Read and check a lexicon file; the error names the line of a malformed entry.
    pub fn load(path: &Path) -> Result<Lexicon> {
        // Checked first: `/dev/zero` or a wrong path must not be read whole.
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::format(path, "is not a regular file"));
        }
        if meta.len() > MAX_LEXICON_BYTES {
            return Err(Error::format(
                path,
                format!(
                    "{} MiB: larger than any pronunciation lexicon ({} MiB at most)",
                    meta.len() >> 20,
                    MAX_LEXICON_BYTES >> 20
                ),
            ));
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8_lossy(&bytes);
        Lexicon::parse(&text, path)
    }

    /// Parse lexicon text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Lexicon> {
        let set = PhoneSet::timit();
        let mut entries: HashMap<String, Vec<Vec<u16>>> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with(";;;") || l.starts_with('#') {
                continue;
            }
            let mut tokens = l.split_whitespace();
            let head = tokens.next().expect("a non-empty line has a token");
            let word = variant_base(head);
            if word.is_empty() {
                return Err(Error::at_line(
                    path,
                    line,
                    format!("malformed lexicon line: `{head}` is not a word"),
                ));
            }
            let mut pron = Vec::new();
            let mut any = false;
            for t in tokens {
                any = true;
                match set.token(t) {
                    Some(PhoneToken::Phone(p)) => pron.push(p),
                    Some(PhoneToken::Deleted) => {}
                    None => {
                        return Err(Error::at_line(
                            path,
                            line,
                            format!(
                                "unknown phone `{t}` in the pronunciation of `{word}` (expected \
                                 ARPAbet, TIMIT or 48-set phones)"
                            ),
                        ));
                    }
                }
            }
            if !any {
                return Err(Error::at_line(
                    path,
                    line,
                    format!(
                        "malformed lexicon line: `{word}` has no phones (expected `WORD  PH1 PH2 ...`)"
                    ),
                ));
            }
            if pron.is_empty() {
                return Err(Error::at_line(
                    path,
                    line,
                    format!("the pronunciation of `{word}` has only deleted phones (q)"),
                ));
            }
            let prons = entries.entry(word.to_lowercase()).or_default();
            if !prons.contains(&pron) {
                prons.push(pron);
            }
        }
        if entries.is_empty() {
            return Err(Error::format(path, "the lexicon has no entries"));
        }
        Ok(Lexicon {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// A lexicon from words and pronunciations given in code (48-set ids).
    pub fn from_entries<S: AsRef<str>>(
        path: &Path,
        entries: impl IntoIterator<Item = (S, Vec<u16>)>,
    ) -> Lexicon {
        let mut map: HashMap<String, Vec<Vec<u16>>> = HashMap::new();
        for (w, pron) in entries {
            let prons = map.entry(w.as_ref().to_lowercase()).or_default();
            if !pron.is_empty() && !prons.contains(&pron) {
                prons.push(pron);
            }
        }
        Lexicon {
            path: path.to_path_buf(),
            entries: map,
        }
    }

    /// The pronunciations of `word` (any letter case), in file order.
    pub fn get(&self, word: &str) -> Option<&[Vec<u16>]> {
        self.entries
            .get(&word.to_lowercase())
            .map(Vec::as_slice)
            .filter(|p| !p.is_empty())
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no words.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// `WORD(2)` -> `WORD`: CMUdict's numbered variants.
fn variant_base(head: &str) -> &str {
    match head.strip_suffix(')').and_then(|h| h.rsplit_once('(')) {
        Some((base, n)) if !base.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => head,
    }
}
