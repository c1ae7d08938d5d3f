//! A dense context table: the tied state of every `(left, centre, right, state)` by phone id, built
//! once from any tying lookup so that decoding and alignment index an array instead of walking a
//! tree of phone names.
//!
//! Size: phones³ x max states entries of 4 bytes (48 phones, 3 states: 331,776 entries, 1.3 MB).
//! Contexts are 48-set phone ids; beyond either end of an utterance the context is `sil`, as in
//! the frame labels. A context the tying cannot answer (a `(centre, state)` never seen in
//! training has no tree; a table may lack entries) has no tied state: decoding skips it and
//! alignment through it fails with a clear message.
//!
//! Building asks the lookup once per entry; [`ContextTable::from_tying`] does so through
//! [`Tying::leaf`] by name (a few tenths of a second for 48 phones, once per model).

use super::Topology;
use crate::corpus::phones::PhoneList;
use crate::error::{Error, Result};
use crate::model::tree::Tying;

const NONE: u32 = u32::MAX;

/// Tied state per `(left, centre, right, state)`, dense, by phone id.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextTable {
    names: Vec<String>,
    silence: u16,
    topology: Topology,
    num_leaves: usize,
    stride: usize,
    leaves: Vec<u32>,
    context_independent: bool,
    usable: Vec<bool>,
}

impl ContextTable {
    /// Tabulate `lookup(left, centre, right, state)` for every phone triple and every state of the
    /// centre phone. `names` names the phone ids (for messages); `silence` is the id of `sil`, the
    /// context beyond utterance ends; tied states must be below `num_leaves`.
    pub fn build<S, F>(
        names: &[S],
        silence: u16,
        topology: &Topology,
        num_leaves: usize,
        mut lookup: F,
    ) -> Result<ContextTable>
    where
        S: AsRef<str>,
        F: FnMut(u16, u16, u16, u8) -> Option<u32>,
    {
        let p = names.len();
        if p != topology.num_phones() {
            return Err(Error::invalid(format!(
                "{p} phone names for a topology of {} phones",
                topology.num_phones()
            )));
        }
        if silence as usize >= p {
            return Err(Error::invalid(format!(
                "silence phone id {silence} is outside the {p}-phone set"
            )));
        }
        if num_leaves == 0 || num_leaves >= NONE as usize {
            return Err(Error::invalid(format!(
                "{num_leaves} tied states: need at least 1 (and fewer than 2^32 - 1)"
            )));
        }
        let stride = topology.max_states();
        let mut leaves = vec![NONE; p * p * p * stride];
        for l in 0..p as u16 {
            for c in 0..p as u16 {
                for r in 0..p as u16 {
                    for s in 0..topology.states(c) as u8 {
                        if let Some(leaf) = lookup(l, c, r, s) {
                            if leaf as usize >= num_leaves {
                                return Err(Error::invalid(format!(
                                    "the tying gives tied state {leaf} for {} state {s} between \
                                     {} and {}, but there are only {num_leaves} tied states",
                                    names[c as usize].as_ref(),
                                    names[l as usize].as_ref(),
                                    names[r as usize].as_ref()
                                )));
                            }
                            leaves[((l as usize * p + c as usize) * p + r as usize) * stride
                                + s as usize] = leaf;
                        }
                    }
                }
            }
        }
        let mut table = ContextTable {
            names: names.iter().map(|n| n.as_ref().to_string()).collect(),
            silence,
            topology: topology.clone(),
            num_leaves,
            stride,
            leaves,
            context_independent: false,
            usable: Vec::new(),
        };
        table.context_independent = table.check_context_independent();
        table.usable = (0..p as u16)
            .map(|c| (0..p as u16).any(|l| (0..p as u16).any(|r| table.complete(l, c, r))))
            .collect();
        if !table.usable.iter().any(|&u| u) {
            return Err(Error::invalid(
                "the tying gives no phone a tied state for all its states in any context",
            ));
        }
        Ok(table)
    }

    /// Tabulate a tying (tree or table) over the 48-set `phones`: what the training layer's `Targets`
    /// holds. `sil` must be in `phones`.
    pub fn from_tying(
        tying: &Tying,
        phones: &PhoneList,
        topology: &Topology,
    ) -> Result<ContextTable> {
        let silence = phones
            .id("sil")
            .ok_or_else(|| Error::invalid("the phone list has no `sil`"))?;
        let names = phones.names();
        let p = names.len();
        let max = topology.max_states();
        // A (centre, state) without a tree answers no context: ask once, not p² times.
        let mut has_root = vec![false; p * max];
        for c in 0..p {
            for s in 0..topology.states(c as u16) {
                let sil = &names[silence as usize];
                has_root[c * max + s] = match tying {
                    Tying::Tree(t) => t.leaf(&names[c], s as u8, sil, sil).is_ok(),
                    Tying::Map(_) => true,
                };
            }
        }
        Self::build(
            names,
            silence,
            topology,
            tying.num_leaves(),
            |l, c, r, s| {
                if !has_root[c as usize * max + s as usize] {
                    return None;
                }
                tying
                    .leaf(
                        &names[c as usize],
                        s,
                        &names[l as usize],
                        &names[r as usize],
                    )
                    .ok()
            },
        )
    }

    /// The tied state of `centre`'s `state` between `left` and `right`, if the tying has one.
    #[inline]
    pub fn leaf(&self, left: u16, centre: u16, right: u16, state: u8) -> Option<u32> {
        let p = self.names.len();
        let i = ((left as usize * p + centre as usize) * p + right as usize) * self.stride
            + state as usize;
        match self.leaves[i] {
            NONE => None,
            leaf => Some(leaf),
        }
    }

    /// Do all states of `centre` have a tied state between `left` and `right`?
    pub fn complete(&self, left: u16, centre: u16, right: u16) -> bool {
        (0..self.topology.states(centre) as u8).all(|s| self.leaf(left, centre, right, s).is_some())
    }

    /// True when no tied state depends on its context: every `(centre, state)` has either one tied
    /// state for all contexts or none at all (untied monophone states, e.g. 144 or fewer leaves
    /// for 48 phones x 3 states). The decoder then skips context expansion.
    pub fn is_context_independent(&self) -> bool {
        self.context_independent
    }

    fn check_context_independent(&self) -> bool {
        let p = self.names.len() as u16;
        (0..p).all(|c| {
            (0..self.topology.states(c) as u8).all(|s| {
                let first = self.leaf(0, c, 0, s);
                (0..p).all(|l| (0..p).all(|r| self.leaf(l, c, r, s) == first))
            })
        })
    }

    /// Can `phone` be used at all (all its states tied in at least one context)?
    pub fn is_usable(&self, phone: u16) -> bool {
        self.usable[phone as usize]
    }

    /// Phones the table covers (48 set as trained).
    pub fn num_phones(&self) -> usize {
        self.names.len()
    }

    /// Tied states (leaves of the tying).
    pub fn num_leaves(&self) -> usize {
        self.num_leaves
    }

    /// Id of `sil`, the context beyond utterance ends.
    pub fn silence(&self) -> u16 {
        self.silence
    }

    /// HMM states per phone.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Phone names, indexed by id.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Name of a phone id (for messages).
    pub fn name(&self, phone: u16) -> &str {
        self.names
            .get(phone as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }
}
