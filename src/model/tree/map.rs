//! A state tying given as a table instead of a tree, and the choice between the two.
//!
//! TSV (or whitespace) lines `centre state left right leaf`, `#` comments; `*` as left or right
//! matches any phone. A lookup tries (left, right), (left, *), (*, right), then (*, *), so
//! `aa 1 * * 7` alone ties every context of aa's middle state. Leaf ids run 0..N-1, and each
//! leaf belongs to one (centre, state), so tied-state predictions fold to phones.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Tree;
use crate::error::{Error, Result};
use crate::io::atomic;

type Key = (String, u8, String, String);

/// Tying read from a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TyingMap {
    entries: Vec<(Key, u32)>,
    leaves: Vec<(String, u8)>,
}

impl TyingMap {
    /// Read a tying table.
    pub fn load(path: &Path) -> Result<TyingMap> {
        let text = crate::io::yaml::read_text(path)?;
        Self::parse(&text, path)
    }

    /// Parse a tying table; `source` names it in errors.
    pub fn parse(text: &str, source: &Path) -> Result<TyingMap> {
        let mut map: BTreeMap<Key, u32> = BTreeMap::new();
        let mut owner: BTreeMap<u32, ((String, u8), usize)> = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let content = raw.split('#').next().unwrap_or("").trim();
            if content.is_empty() {
                continue;
            }
            let err = |msg: String| Error::at_line(source, line, msg);
            let f: Vec<&str> = content.split_whitespace().collect();
            let [centre, state, left, right, leaf] = f[..] else {
                return Err(err(format!(
                    "expected 5 fields `centre state left right leaf`, found {}",
                    f.len()
                )));
            };
            let state: u8 = state
                .parse()
                .map_err(|_| err(format!("state {state:?} is not a small integer")))?;
            let leaf: u32 = leaf
                .parse()
                .map_err(|_| err(format!("leaf {leaf:?} is not a non-negative integer")))?;
            if centre == "*" {
                return Err(err("the centre phone cannot be a wildcard".to_string()));
            }
            let key = (
                centre.to_string(),
                state,
                left.to_string(),
                right.to_string(),
            );
            if map.insert(key, leaf).is_some() {
                return Err(err(format!(
                    "{centre} {state} {left} {right} is listed twice"
                )));
            }
            let phone = (centre.to_string(), state);
            match owner.get(&leaf) {
                Some((p, first)) if *p != phone => {
                    return Err(err(format!(
                        "leaf {leaf} belongs to {} state {} (line {first}); a tied state must belong to one phone state",
                        p.0, p.1
                    )));
                }
                Some(_) => {}
                None => {
                    owner.insert(leaf, (phone, line));
                }
            }
        }
        if map.is_empty() {
            return Err(Error::format(source, "no tying entries"));
        }
        let n = owner.len();
        if let Some(missing) = (0..n as u32).find(|l| !owner.contains_key(l)) {
            return Err(Error::format(
                source,
                format!(
                    "leaf ids must run from 0 to {} without gaps; {missing} is missing",
                    n - 1
                ),
            ));
        }
        Ok(TyingMap {
            entries: map.into_iter().collect(),
            leaves: owner.into_values().map(|(p, _)| p).collect(),
        })
    }

    /// Tabulate a tree on the given contexts (centre, state, left, right); the leaf numbering
    /// is the tree's, including leaves none of the contexts reach.
    pub fn from_tree<S: AsRef<str>>(tree: &Tree, contexts: &[(S, u8, S, S)]) -> Result<TyingMap> {
        let mut map: BTreeMap<Key, u32> = BTreeMap::new();
        for (c, s, l, r) in contexts {
            let (c, l, r) = (c.as_ref(), l.as_ref(), r.as_ref());
            let leaf = tree.leaf(c, *s, l, r)?;
            map.insert((c.to_string(), *s, l.to_string(), r.to_string()), leaf);
        }
        Ok(TyingMap {
            entries: map.into_iter().collect(),
            leaves: tree.leaves.clone(),
        })
    }

    /// Write the table as TSV.
    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = String::from("# centre\tstate\tleft\tright\tleaf\n");
        for ((c, s, l, r), leaf) in &self.entries {
            text.push_str(&format!("{c}\t{s}\t{l}\t{r}\t{leaf}\n"));
        }
        atomic::write_bytes(path, text.as_bytes())
    }

    /// The table's entries: (centre, state, left, right, leaf), `*` for any context.
    pub fn entries(&self) -> impl Iterator<Item = (&str, u8, &str, &str, u32)> {
        self.entries
            .iter()
            .map(|((c, s, l, r), leaf)| (c.as_str(), *s, l.as_str(), r.as_str(), *leaf))
    }

    /// Tied states in the table.
    pub fn num_leaves(&self) -> usize {
        self.leaves.len()
    }

    /// Centre phone and state position of a tied state.
    pub fn leaf_phone(&self, leaf: u32) -> (&str, u8) {
        let (c, s) = &self.leaves[leaf as usize];
        (c, *s)
    }

    /// The tied state of a context, trying exact then wildcard entries (no allocation: the
    /// sorted keys are compared as borrowed strings).
    pub fn leaf(&self, centre: &str, state: u8, left: &str, right: &str) -> Result<u32> {
        for (l, r) in [(left, right), (left, "*"), ("*", right), ("*", "*")] {
            let key = (centre, state, l, r);
            let found = self.entries.binary_search_by(|((c, s, el, er), _)| {
                (c.as_str(), *s, el.as_str(), er.as_str()).cmp(&key)
            });
            if let Ok(i) = found {
                return Ok(self.entries[i].1);
            }
        }
        Err(Error::invalid(format!(
            "the tying table has no entry for {centre} state {state} between {left} and {right}"
        )))
    }
}

/// The state tying a model uses: grown tree or given table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Tying {
    /// A decision tree grown on the training data.
    Tree(Tree),
    /// A table read from a file (`centre state left right leaf` lines).
    Map(TyingMap),
}

impl Tying {
    /// Tied state of a context-dependent state; an error for a context the tying does not cover.
    pub fn leaf(&self, centre: &str, state: u8, left: &str, right: &str) -> Result<u32> {
        match self {
            Tying::Tree(t) => t.leaf(centre, state, left, right),
            Tying::Map(m) => m.leaf(centre, state, left, right),
        }
    }
    /// Tied states (leaves).
    pub fn num_leaves(&self) -> usize {
        match self {
            Tying::Tree(t) => t.num_leaves(),
            Tying::Map(m) => m.num_leaves(),
        }
    }
    /// The centre phone and state position a tied state belongs to.
    pub fn leaf_phone(&self, leaf: u32) -> (&str, u8) {
        match self {
            Tying::Tree(t) => t.leaf_phone(leaf),
            Tying::Map(m) => m.leaf_phone(leaf),
        }
    }
}
