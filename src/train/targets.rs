//! Tied-state targets: what every classifier predicts, so that GMM and DNN numbers compare.
//!
//! The tying is grown once per corpus from the training split with the production line's own
//! features (MFCC + Δ + ΔΔ, per-speaker CMVN: `pipelines/kaldi-mfcc-gmm.yaml`), whatever the
//! classifier later reads: a DNN fed the spectrogram still predicts the same tied states as the
//! GMM on MFCC. A user-given tying table replaces the tree.

use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::corpus::{FrameLabel, PhoneSet, Split};
use crate::error::{Error, Result};
use crate::model::tree::{QuestionSet, StatesConfig, Tree, Tying, TyingIds, TyingMap};
use crate::pipeline::Pipeline;
use crate::pipeline::extractor::Extractor;
use crate::train::dataset::FrameSet;
use crate::train::env::Env;

/// A tying plus what scoring needs about each tied state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    /// The tying: tree or table.
    pub tying: Tying,
    /// 48-set phone id of each tied state's centre phone.
    pub leaf_phone48: Vec<u16>,
    /// Training frames per tied state (the GMM's priors; the DNN's class balance).
    pub train_counts: Vec<u64>,
    /// The tying by 48-set phone ids, for the per-frame lookup; built on first use.
    #[serde(skip)]
    by_ids: ByIds,
}

/// A lazily built [`TyingIds`]: not stored, and no part of equality (it is a function of the
/// tying).
#[derive(Debug, Clone, Default)]
struct ByIds(OnceLock<Option<TyingIds>>);

impl PartialEq for ByIds {
    fn eq(&self, _: &ByIds) -> bool {
        true
    }
}

impl Targets {
    /// Grow the tying tree on `train` (features + labels; see the module comment for which
    /// features), or read the table `cfg.map`.
    pub fn build(train: &FrameSet, cfg: &StatesConfig) -> Result<Targets> {
        let phones = PhoneSet::timit();
        let tying = match &cfg.map {
            Some(path) => Tying::Map(TyingMap::load(path)?),
            None => {
                let questions = match &cfg.questions {
                    Some(p) => QuestionSet::load(p)?,
                    None => QuestionSet::builtin(),
                };
                Tying::Tree(Tree::build_from_frames(
                    train
                        .utts
                        .iter()
                        .map(|u| (u.feats.view(), u.labels.as_slice())),
                    &phones.p48,
                    &questions,
                    &cfg.tree_config(),
                )?)
            }
        };
        Targets::from_tying(tying, train)
    }

    /// The most tied states `cfg` can give: a tying map's leaves, or the tree's limit. Reads the
    /// map or the questions file as [`Targets::build`] will, so that a missing or malformed one
    /// is refused before the work that comes first (a flat start, an alignment).
    pub fn most_states(cfg: &StatesConfig) -> Result<usize> {
        match &cfg.map {
            Some(path) => Ok(TyingMap::load(path)?.num_leaves()),
            None => {
                if let Some(path) = &cfg.questions {
                    QuestionSet::load(path)?;
                }
                Ok(cfg.tied)
            }
        }
    }

    /// Targets over an existing `tying` (e.g. the tree of the GMM whose alignment gave `train`'s
    /// labels), with the training counts of `train`.
    pub fn from_tying(tying: Tying, train: &FrameSet) -> Result<Targets> {
        let phones = PhoneSet::timit();
        let leaf_phone48 = (0..tying.num_leaves() as u32)
            .map(|leaf| {
                let (name, _) = tying.leaf_phone(leaf);
                phones.p48.id(name).ok_or_else(|| {
                    Error::invalid(format!(
                        "tied state {leaf} belongs to `{name}`, not a phone of the 48-phone set"
                    ))
                })
            })
            .collect::<Result<Vec<u16>>>()?;
        let mut targets = Targets {
            tying,
            leaf_phone48,
            train_counts: Vec::new(),
            by_ids: ByIds::default(),
        };
        let mut counts = vec![0u64; targets.num_states()];
        for u in &train.utts {
            for t in targets.frame_targets(&u.labels).into_iter().flatten() {
                counts[t as usize] += 1;
            }
        }
        targets.train_counts = counts;
        Ok(targets)
    }

    /// Tied states.
    pub fn num_states(&self) -> usize {
        self.tying.num_leaves()
    }

    /// Tied state of one labelled frame; `None` when its (phone, state) was never seen in training.
    /// Looked up by phone ids, without strings; by names only for a tying the id lookup cannot
    /// take.
    pub fn state_of(&self, label: &FrameLabel) -> Option<u32> {
        let p = &PhoneSet::timit().p48;
        let ids = self
            .by_ids
            .0
            .get_or_init(|| TyingIds::new(&self.tying, p).ok());
        if let Some(ids) = ids {
            return ids.leaf(label.left, label.phone, label.right, label.state);
        }
        self.tying
            .leaf(
                p.name(label.phone),
                label.state,
                p.name(label.left),
                p.name(label.right),
            )
            .ok()
    }

    /// Tied state per frame (`None`: unlabelled, or a phone state the tying does not know).
    pub fn frame_targets(&self, labels: &[Option<FrameLabel>]) -> Vec<Option<u32>> {
        labels
            .iter()
            .map(|l| l.as_ref().and_then(|l| self.state_of(l)))
            .collect()
    }

    /// 39-set phone of each tied state (for folded accuracy).
    pub fn leaf_phone39(&self) -> Vec<u16> {
        let phones = PhoneSet::timit();
        self.leaf_phone48
            .iter()
            .map(|&p| phones.fold_48_to_39(p))
            .collect()
    }

    /// Write as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::json::write_json(path, self)
    }

    /// Read a `targets.json`, checking its per-state tables have one entry per tied state.
    pub fn load(path: &Path) -> Result<Targets> {
        let t: Targets = crate::io::json::read_json(path)?;
        if t.leaf_phone48.len() != t.num_states() || t.train_counts.len() != t.num_states() {
            return Err(Error::format(
                path,
                "tied-state tables of different lengths (damaged file?)",
            ));
        }
        Ok(t)
    }
}

impl Env<'_> {
    /// Targets over `tying` with this corpus's training-split counts, counted on the frames the
    /// tree is grown on (as [`Env::targets`] counts them).
    pub fn targets_over(&self, tying: Tying) -> Result<Targets> {
        let extractor = Extractor::new(&Pipeline::kaldi_mfcc_gmm())?;
        let set = self.load("tree feats", &self.utterances(Split::Train), &extractor)?;
        Targets::from_tying(tying, &set)
    }

    /// The tied-state targets for this corpus, grown on its training split (cached by corpus,
    /// training utterances and settings).
    pub fn targets(&self, cfg: &StatesConfig) -> Result<Targets> {
        cfg.validate()?;
        let tree_pipeline = Pipeline::kaldi_mfcc_gmm();
        let train = self.utterances(Split::Train);
        let key = {
            let mut h = blake3::Hasher::new();
            let root = std::fs::canonicalize(&self.corpus.root).unwrap_or(self.corpus.root.clone());
            h.update(root.to_string_lossy().as_bytes());
            for u in &train {
                h.update(u.id.as_bytes());
                h.update(&[0]);
                // The segments too: a realigned corpus has the same ids and other times.
                for s in &u.phones {
                    h.update(&s.start.to_le_bytes());
                    h.update(&s.end.to_le_bytes());
                    h.update(s.label.as_bytes());
                    h.update(&[0]);
                }
            }
            h.update(serde_json::to_string(cfg).expect("serialisable").as_bytes());
            h.update(tree_pipeline.chain_hash().as_bytes());
            h.update(
                serde_json::to_string(&tree_pipeline.post)
                    .expect("serialisable")
                    .as_bytes(),
            );
            for p in [&cfg.questions, &cfg.map].into_iter().flatten() {
                h.update(&std::fs::read(p).map_err(|e| Error::io(p, e))?);
            }
            h.finalize().to_hex()[..16].to_string()
        };
        let cached = self
            .cache
            .as_ref()
            .map(|c| c.dir().join("targets").join(format!("{key}.json")));
        if let Some(path) = &cached
            && let Ok(t) = Targets::load(path)
        {
            return Ok(t);
        }
        let extractor = Extractor::new(&tree_pipeline)?;
        let set = self.load("tree feats", &train, &extractor)?;
        self.observer.begin("tying tree", 0);
        let targets = Targets::build(&set, cfg);
        self.observer.end();
        let targets = targets?;
        if let Some(path) = &cached {
            // A cache that cannot be written only costs time.
            let _ = targets.save(path);
        }
        Ok(targets)
    }
}
