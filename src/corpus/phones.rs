//! Phone sets as data: TIMIT's 61 transcription labels, the 48 phones models are trained on and the
//! 39 phones results are scored on (Lee & Hon 1989). The table is `data/phones/timit-61-48-39.tsv`,
//! the same folding as Kaldi's `phones.60-48-39.map`, compiled in.
//!
//! Ids within each set are the names sorted (byte order), so they do not depend on row order.
//! `q` (glottal stop) has no 48/39 phone: its frames carry no label (see [`super::labels`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::error::{Error, Result};

const TIMIT_TSV: &str = include_str!("../../data/phones/timit-61-48-39.tsv");
const TIMIT_TSV_PATH: &str = "data/phones/timit-61-48-39.tsv";

/// One list of phone names with their ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneList {
    names: Vec<String>,
    ids: HashMap<String, u16>,
}

impl PhoneList {
    fn new(mut names: Vec<String>) -> PhoneList {
        names.sort();
        names.dedup();
        let ids = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i as u16))
            .collect();
        PhoneList { names, ids }
    }

    /// Number of phones in the list.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the list has no phones.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Id of a phone name; `None` when the name is not in the list.
    pub fn id(&self, name: &str) -> Option<u16> {
        self.ids.get(name).copied()
    }

    /// Name of an id; panics on an id not made by this list (a programming error).
    pub fn name(&self, id: u16) -> &str {
        &self.names[id as usize]
    }

    /// All names, indexed by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// What a transcript token stands for (see [`PhoneSet::token`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneToken {
    /// A 48-set phone.
    Phone(u16),
    /// A label the 48 set deletes (`q`).
    Deleted,
}

/// The three TIMIT phone sets and the folds between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneSet {
    /// The transcription labels (61 for TIMIT, `q` included).
    pub p61: PhoneList,
    /// The training set (48).
    pub p48: PhoneList,
    /// The scoring set (39).
    pub p39: PhoneList,
    to48: Vec<Option<u16>>,
    to39: Vec<u16>,
    silence48: u16,
}

impl PhoneSet {
    /// The standard TIMIT table, parsed once.
    pub fn timit() -> &'static PhoneSet {
        static SET: OnceLock<PhoneSet> = OnceLock::new();
        SET.get_or_init(|| {
            PhoneSet::from_tsv(TIMIT_TSV, Path::new(TIMIT_TSV_PATH))
                .expect("the compiled-in TIMIT phone table is valid")
        })
    }

    /// Parse a folding table: lines `label61 <tab> phone48 <tab> phone39`, `#` comments, an optional
    /// header row starting with `timit61`. A 48/39 column of `-`, or a row with only the first
    /// column (Kaldi's spelling), deletes the label. The 48 set must contain `sil`: it is the
    /// context at utterance edges.
    pub fn from_tsv(text: &str, path: &Path) -> Result<PhoneSet> {
        let mut rows: Vec<(String, Option<(String, String)>)> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let l = raw.trim();
            if l.is_empty() || l.starts_with('#') || l.starts_with("timit61") {
                continue;
            }
            let cols: Vec<&str> = l.split_whitespace().collect();
            let entry = match cols.as_slice() {
                [a] | [a, "-"] | [a, "-", "-"] => (a.to_string(), None),
                [a, b, c] if *b != "-" && *c != "-" => {
                    (a.to_string(), Some((b.to_string(), c.to_string())))
                }
                _ => {
                    return Err(Error::at_line(
                        path,
                        line,
                        format!("expected `label61 phone48 phone39`, got `{l}`"),
                    ));
                }
            };
            if rows.iter().any(|(a, _)| *a == entry.0) {
                return Err(Error::at_line(
                    path,
                    line,
                    format!("label `{}` is listed twice", entry.0),
                ));
            }
            rows.push(entry);
        }
        let p61 = PhoneList::new(rows.iter().map(|(a, _)| a.clone()).collect());
        let p48 = PhoneList::new(
            rows.iter()
                .filter_map(|(_, m)| m.as_ref().map(|(b, _)| b.clone()))
                .collect(),
        );
        let p39 = PhoneList::new(
            rows.iter()
                .filter_map(|(_, m)| m.as_ref().map(|(_, c)| c.clone()))
                .collect(),
        );
        let mut to48 = vec![None; p61.len()];
        let mut to39: Vec<Option<u16>> = vec![None; p48.len()];
        for (a, m) in &rows {
            let Some((b, c)) = m else { continue };
            let (i61, i48, i39) = (p61.id(a).unwrap(), p48.id(b).unwrap(), p39.id(c).unwrap());
            to48[i61 as usize] = Some(i48);
            match to39[i48 as usize] {
                Some(prev) if prev != i39 => {
                    return Err(Error::format(
                        path,
                        format!(
                            "48-set phone `{b}` folds to both `{}` and `{c}`",
                            p39.name(prev)
                        ),
                    ));
                }
                _ => to39[i48 as usize] = Some(i39),
            }
        }
        let silence48 = p48
            .id("sil")
            .ok_or_else(|| Error::format(path, "the 48-phone set has no `sil`"))?;
        Ok(PhoneSet {
            p61,
            p48,
            p39,
            to48,
            to39: to39.into_iter().map(|x| x.unwrap()).collect(),
            silence48,
        })
    }

    /// 48-set id of a 61-set label; `None` for a deleted label (`q`).
    pub fn fold_61_to_48(&self, id61: u16) -> Option<u16> {
        self.to48[id61 as usize]
    }

    /// 39-set id of a 48-set id (Lee & Hon 1989 folding).
    pub fn fold_48_to_39(&self, id48: u16) -> u16 {
        self.to39[id48 as usize]
    }

    /// 39-set id of a 61-set label; `None` for a deleted label (`q`).
    pub fn fold_61_to_39(&self, id61: u16) -> Option<u16> {
        self.fold_61_to_48(id61).map(|p| self.fold_48_to_39(p))
    }

    /// `sil` in the 48 set: the context beyond either end of an utterance.
    pub fn silence48(&self) -> u16 {
        self.silence48
    }

    /// What a transcript or lexicon token names: a TIMIT label (folded to 48; `q` is deleted), a
    /// 48-set name (`cl`, `vcl`, `sil`), or an ARPAbet phone with a stress digit (`AH0`), in any
    /// letter case. `None` when it names no phone.
    pub fn token(&self, token: &str) -> Option<PhoneToken> {
        let lower = token.to_ascii_lowercase();
        let bare = lower.trim_end_matches(|c: char| c.is_ascii_digit());
        for name in [lower.as_str(), bare] {
            if name.is_empty() {
                continue;
            }
            if let Some(id61) = self.p61.id(name) {
                return Some(match self.fold_61_to_48(id61) {
                    Some(p) => PhoneToken::Phone(p),
                    None => PhoneToken::Deleted,
                });
            }
            if let Some(p) = self.p48.id(name) {
                return Some(PhoneToken::Phone(p));
            }
        }
        None
    }

    /// A TIMIT (61-set) label for a 48-set phone, for files the corpus reader reads back: the label
    /// of the same name, `h#` for `sil` at an utterance edge and `pau` inside, `tcl` for `cl` and
    /// `dcl` for `vcl` (each folds back to the phone it stands for).
    pub fn label61(&self, id48: u16, at_edge: bool) -> &str {
        let name = self.p48.name(id48);
        match name {
            "sil" if at_edge => "h#",
            "sil" => "pau",
            "cl" => "tcl",
            "vcl" => "dcl",
            // With the TIMIT table every other 48-set phone is also a 61-set label.
            n => n,
        }
    }

    /// Check a segment label, naming the file and line when it is not in the 61 set.
    pub fn check_label(&self, label: &str, file: &Path, line: usize) -> Result<u16> {
        self.p61.id(label).ok_or_else(|| {
            Error::at_line(
                file,
                line,
                format!(
                    "unknown phone `{label}` (not one of the {} TIMIT labels)",
                    self.p61.len()
                ),
            )
        })
    }
}
