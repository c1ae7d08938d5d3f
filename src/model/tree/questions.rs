//! Named phone sets the tying tree may ask of a context ("is the right phone a nasal?").
//!
//! Text format, one question per line, `#` starts a comment:
//!
//! ```text
//! nasal: m n en ng
//! ```
//!
//! The built-in set (data/questions.txt) covers the 48-phone TIMIT training set; a user file
//! replaces it. Errors name the file and line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const BUILTIN: &str = include_str!("../../../data/questions.txt");

/// One question: is the context phone in `phones`?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// Name, unique in its set (e.g. `vowel`, `closure`).
    pub name: String,
    /// Phones (48 set) for which the answer is yes.
    pub phones: BTreeSet<String>,
    /// Line in the file it came from (0 for generated questions).
    #[serde(skip)]
    pub line: usize,
}

/// An ordered list of questions; the order breaks ties between equally good splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionSet {
    /// In file order (the order breaks ties).
    pub questions: Vec<Question>,
    /// Where the questions came from, for error messages.
    pub source: PathBuf,
}

impl QuestionSet {
    /// The built-in TIMIT 48-phone questions.
    pub fn builtin() -> QuestionSet {
        Self::parse(BUILTIN, Path::new("data/questions.txt (built in)"))
            .expect("the built-in questions parse")
    }

    /// Read a question file.
    pub fn load(path: &Path) -> Result<QuestionSet> {
        let text = crate::io::yaml::read_text(path)?;
        Self::parse(&text, path)
    }

    /// Parse question text; `source` names it in errors.
    pub fn parse(text: &str, source: &Path) -> Result<QuestionSet> {
        let mut questions: Vec<Question> = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let err = |msg: String| Error::at_line(source, line, msg);
            let (name, rest) = content
                .split_once(':')
                .ok_or_else(|| err("expected `name: phone phone ...`".to_string()))?;
            let name = name.trim();
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(err(format!("question name {name:?} must be one word")));
            }
            if questions.iter().any(|q| q.name == name) {
                return Err(err(format!("question {name} is defined twice")));
            }
            let mut phones = BTreeSet::new();
            for p in rest.split_whitespace() {
                if !phones.insert(p.to_string()) {
                    return Err(err(format!("question {name} lists phone {p} twice")));
                }
            }
            if phones.is_empty() {
                return Err(err(format!("question {name} has no phones")));
            }
            questions.push(Question {
                name: name.to_string(),
                phones,
                line,
            });
        }
        if questions.is_empty() {
            return Err(Error::format(source, "no questions"));
        }
        Ok(QuestionSet {
            questions,
            source: source.to_path_buf(),
        })
    }

    /// Refuse phones that are not in `inventory` (a typo would silently never match).
    pub fn check_phones<S: AsRef<str>>(&self, inventory: &[S]) -> Result<()> {
        let known: BTreeSet<&str> = inventory.iter().map(AsRef::as_ref).collect();
        for q in &self.questions {
            if let Some(p) = q.phones.iter().find(|p| !known.contains(p.as_str())) {
                let msg = format!("question {}: unknown phone {p}", q.name);
                return Err(if q.line > 0 {
                    Error::at_line(&self.source, q.line, msg)
                } else {
                    Error::format(&self.source, msg)
                });
            }
        }
        Ok(())
    }

    /// Add "is it exactly p?" for every phone in `phones` whose singleton set is not there yet.
    pub fn with_singletons<S: AsRef<str>>(mut self, phones: &[S]) -> QuestionSet {
        for p in phones {
            let set = BTreeSet::from([p.as_ref().to_string()]);
            if !self.questions.iter().any(|q| q.phones == set) {
                self.questions.push(Question {
                    name: format!("is_{}", p.as_ref()),
                    phones: set,
                    line: 0,
                });
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONES_48: [&str; 48] = [
        "iy", "ih", "eh", "ae", "ix", "ax", "ah", "uw", "uh", "ao", "aa", "ey", "ay", "oy", "aw",
        "ow", "er", "l", "el", "r", "y", "w", "m", "n", "en", "ng", "ch", "jh", "dh", "b", "d",
        "dx", "g", "p", "t", "k", "z", "zh", "v", "f", "th", "s", "sh", "hh", "cl", "vcl", "epi",
        "sil",
    ];

    #[test]
    fn builtin_questions_speak_only_of_the_48_timit_phones() {
        let q = QuestionSet::builtin();
        q.check_phones(&PHONES_48).unwrap();
        let nasal = q.questions.iter().find(|q| q.name == "nasal").unwrap();
        assert_eq!(nasal.phones.len(), 4);
        // Every phone is a vowel, a consonant or a pause, and no phone is two of them.
        let class = |n: &str| &q.questions.iter().find(|q| q.name == n).unwrap().phones;
        for p in PHONES_48 {
            let hits = ["vowel", "consonant", "pause_or_closure"]
                .iter()
                .filter(|c| class(c).contains(p))
                .count();
            assert_eq!(hits, 1, "{p}");
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let f = Path::new("q.txt");
        let e = QuestionSet::parse("# c\nnasal: m n\nnasal: ng\n", f).unwrap_err();
        assert_eq!(e.to_string(), "q.txt:3: question nasal is defined twice");
        let e = QuestionSet::parse("\nstop b d\n", f).unwrap_err();
        assert!(e.to_string().starts_with("q.txt:2: expected"), "{e}");
        let e = QuestionSet::parse("a: x\nb:\n", f).unwrap_err();
        assert_eq!(e.to_string(), "q.txt:2: question b has no phones");
        let q = QuestionSet::parse("a: m\nb: m nn  # typo\n", f).unwrap();
        let e = q.check_phones(&["m", "n"]).unwrap_err();
        assert_eq!(e.to_string(), "q.txt:2: question b: unknown phone nn");
    }

    #[test]
    fn singletons_are_added_once() {
        let q = QuestionSet::parse("lone_m: m\nnasal: m n\n", Path::new("q"))
            .unwrap()
            .with_singletons(&["m", "n"]);
        let names: Vec<&str> = q.questions.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["lone_m", "nasal", "is_n"]);
    }
}
