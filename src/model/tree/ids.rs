//! The tying looked up by phone ids: the per-frame question "which tied state is this (left,
//! centre, right, state)?" answered without phone-name strings. Built from a [`Tying`] over a
//! phone list in microseconds (a tree's questions become bit sets, a table's keys ids), unlike
//! the dense [`crate::model::hmm::ContextTable`], which tabulates every context up front.
//!
//! It answers exactly what [`Tying::leaf`] answers for the same names: phones of a question
//! that are not in the list can never be asked about, and a centre outside the list has no
//! tree.

use std::collections::HashMap;

use super::{Node, Side, Tree, Tying, TyingMap};
use crate::corpus::phones::PhoneList;
use crate::error::{Error, Result};

/// Phone sets as bits: phone ids below this many.
const MAX_PHONES: usize = 128;

/// A [`Tying`] keyed by phone ids of one phone list.
#[derive(Debug, Clone, PartialEq)]
pub struct TyingIds {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Tree {
        /// Root node per (centre, state): index `centre * states + state`.
        roots: Vec<Option<usize>>,
        states: usize,
        nodes: Vec<IdNode>,
    },
    Map {
        /// (centre, state, left, right) with [`ANY`] for `*`.
        entries: HashMap<(u16, u8, u16, u16), u32>,
    },
}

/// `*` in a table key.
const ANY: u16 = u16::MAX;

#[derive(Debug, Clone, PartialEq)]
enum IdNode {
    Leaf(u32),
    Split {
        side: Side,
        phones: u128,
        yes: usize,
        no: usize,
    },
}

impl TyingIds {
    /// `tying` over `phones` (at most 128 phones).
    pub fn new(tying: &Tying, phones: &PhoneList) -> Result<TyingIds> {
        if phones.len() > MAX_PHONES {
            return Err(Error::invalid(format!(
                "a phone list of {} phones; the id lookup takes at most {MAX_PHONES}",
                phones.len()
            )));
        }
        let kind = match tying {
            Tying::Tree(t) => tree(t, phones),
            Tying::Map(m) => map(m, phones),
        };
        Ok(TyingIds { kind })
    }

    /// The tied state of `centre`'s `state` between `left` and `right` (ids in the phone list
    /// it was built over), or `None` where [`Tying::leaf`] is an error.
    #[inline]
    pub fn leaf(&self, left: u16, centre: u16, right: u16, state: u8) -> Option<u32> {
        match &self.kind {
            Kind::Tree {
                roots,
                states,
                nodes,
            } => {
                if state as usize >= *states {
                    return None;
                }
                let mut node = (*roots.get(centre as usize * states + state as usize)?)?;
                loop {
                    match nodes[node] {
                        IdNode::Leaf(leaf) => return Some(leaf),
                        IdNode::Split {
                            side,
                            phones,
                            yes,
                            no,
                        } => {
                            let p = if side == Side::Left { left } else { right };
                            let hit = (p as usize) < MAX_PHONES && phones >> p & 1 == 1;
                            node = if hit { yes } else { no };
                        }
                    }
                }
            }
            Kind::Map { entries } => [(left, right), (left, ANY), (ANY, right), (ANY, ANY)]
                .into_iter()
                .find_map(|(l, r)| entries.get(&(centre, state, l, r)).copied()),
        }
    }
}

fn tree(t: &Tree, phones: &PhoneList) -> Kind {
    let states = t
        .roots
        .iter()
        .map(|r| r.state as usize + 1)
        .max()
        .unwrap_or(0);
    let mut roots = vec![None; phones.len() * states];
    for r in &t.roots {
        if let Some(c) = phones.id(&r.centre) {
            let slot = &mut roots[c as usize * states + r.state as usize];
            // The first root of a (centre, state) is the one a name lookup finds.
            if slot.is_none() {
                *slot = Some(r.node);
            }
        }
    }
    let nodes = t
        .nodes
        .iter()
        .map(|n| match n {
            Node::Leaf { leaf } => IdNode::Leaf(*leaf),
            Node::Split {
                side,
                phones: set,
                yes,
                no,
                ..
            } => IdNode::Split {
                side: *side,
                phones: set
                    .iter()
                    .filter_map(|p| phones.id(p))
                    .fold(0u128, |bits, id| bits | 1 << id),
                yes: *yes,
                no: *no,
            },
        })
        .collect();
    Kind::Tree {
        roots,
        states,
        nodes,
    }
}

fn map(m: &TyingMap, phones: &PhoneList) -> Kind {
    let id = |name: &str| {
        if name == "*" {
            Some(ANY)
        } else {
            phones.id(name)
        }
    };
    let entries = m
        .entries()
        .filter_map(|(c, s, l, r, leaf)| {
            // Keys naming a phone outside the list can never be asked for.
            Some(((phones.id(c)?, s, id(l)?, id(r)?), leaf))
        })
        .collect();
    Kind::Map { entries }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::PhoneSet;

    /// Every (left, centre, right, state) of the 48-phone set: the id lookup agrees with the
    /// name lookup, leaf for leaf and miss for miss.
    fn agrees(tying: &Tying) {
        let p48 = &PhoneSet::timit().p48;
        let ids = TyingIds::new(tying, p48).unwrap();
        let n = p48.len() as u16;
        let mut hits = 0;
        for c in 0..n {
            for s in 0..4u8 {
                for l in 0..n {
                    for r in 0..n {
                        let by_name = tying.leaf(p48.name(c), s, p48.name(l), p48.name(r)).ok();
                        assert_eq!(ids.leaf(l, c, r, s), by_name, "{c} {s} {l} {r}");
                        hits += usize::from(by_name.is_some());
                    }
                }
            }
        }
        assert!(hits > 0);
    }

    #[test]
    fn a_table_with_wildcards_answers_as_by_name() {
        let text = "aa 0 * * 0\naa 1 b * 1\naa 1 * * 2\naa 2 * iy 3\naa 2 * * 4\n\
                    iy 1 sil sil 5\niy 1 * * 6\n";
        let m = TyingMap::parse(text, std::path::Path::new("t.tsv")).unwrap();
        agrees(&Tying::Map(m));
    }

    #[test]
    fn a_tree_answers_as_by_name() {
        // Splits on both sides, nested; a question naming a phone outside the 48-set, roots
        // shared and missing (iy states 0 and 2), and a root of a centre outside the set.
        let json = r#"{
            "roots": [
                {"centre": "aa", "state": 0, "node": 0},
                {"centre": "aa", "state": 1, "node": 5},
                {"centre": "aa", "state": 2, "node": 6},
                {"centre": "iy", "state": 1, "node": 5},
                {"centre": "zz", "state": 0, "node": 1}
            ],
            "nodes": [
                {"split": {"side": "left", "question": "l", "phones": ["b", "p", "zz"], "yes": 1, "no": 2}},
                {"leaf": {"leaf": 0}},
                {"split": {"side": "right", "question": "r", "phones": ["iy", "ih"], "yes": 3, "no": 4}},
                {"leaf": {"leaf": 1}},
                {"leaf": {"leaf": 2}},
                {"leaf": {"leaf": 3}},
                {"split": {"side": "right", "question": "s", "phones": ["sil"], "yes": 7, "no": 8}},
                {"leaf": {"leaf": 4}},
                {"leaf": {"leaf": 5}}
            ],
            "leaves": [["aa", 0], ["aa", 0], ["aa", 0], ["aa", 1], ["aa", 2], ["aa", 2]],
            "history": []
        }"#;
        let tree: Tree = serde_json::from_str(json).unwrap();
        agrees(&Tying::Tree(tree));
    }
}
