//! What decides a run's result besides its own YAML: the corpus (which utterances, their labels,
//! their audio bytes and how they split), the tied-state targets, and the version of asrpipe.
//! Recorded beside every finished experiment run, so that a resumed experiment reuses a result
//! only when all of it is unchanged, and otherwise says what changed and trains again.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::corpus::Split;
use crate::error::{Error, Result};
use crate::io::cache::file_hash;
use crate::train::env::Env;
use crate::train::targets::Targets;

/// The fingerprint of a run's inputs (hex blake3 hashes, plus the readable parts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// asrpipe's version (`CARGO_PKG_VERSION`).
    pub version: String,
    /// The corpus as given (informative; the hash decides).
    pub corpus: String,
    /// Utterance ids, speakers, splits, rates, channels, phone segments and audio bytes.
    pub corpus_hash: String,
    /// The run's pipeline and classifier, as YAML.
    pub spec_hash: String,
    /// The tied-state table and counts.
    pub targets_hash: String,
}

impl Provenance {
    /// The provenance of a run with YAML `spec` on `corpus_hash` (see [`corpus_hash`]).
    pub fn new(env: &Env, corpus_hash: &str, spec: &str, targets: &Targets) -> Result<Provenance> {
        let targets_json = serde_json::to_vec(targets)
            .map_err(|e| Error::invalid(format!("cannot encode the targets: {e}")))?;
        Ok(Provenance {
            version: env!("CARGO_PKG_VERSION").to_string(),
            corpus: env.corpus.root.display().to_string(),
            corpus_hash: corpus_hash.to_string(),
            spec_hash: blake3::hash(spec.as_bytes()).to_hex().to_string(),
            targets_hash: blake3::hash(&targets_json).to_hex().to_string(),
        })
    }

    /// What differs from `other`, in words; empty when nothing that decides a result does (the
    /// corpus's path alone does not: the same bytes elsewhere give the same result).
    pub fn changes(&self, other: &Provenance) -> Vec<String> {
        let mut out = Vec::new();
        if self.version != other.version {
            out.push(format!("asrpipe {} -> {}", other.version, self.version));
        }
        if self.corpus_hash != other.corpus_hash {
            out.push(if self.corpus != other.corpus {
                format!("the corpus's content ({} -> {})", other.corpus, self.corpus)
            } else {
                format!("the corpus's content ({})", self.corpus)
            });
        }
        if self.spec_hash != other.spec_hash {
            out.push("the run's pipeline or classifier".into());
        }
        if self.targets_hash != other.targets_hash {
            out.push("the tied-state targets".into());
        }
        out
    }
}

/// A hash of everything in `env`'s corpus that decides a result: per utterance its id, speaker,
/// sentence, split, sample rate, channel, span, speed, phone segments and the bytes of its audio (each file
/// read once, hashed in parallel; blake3 runs at GB/s).
pub fn corpus_hash(env: &Env) -> Result<String> {
    let mut split_of = std::collections::HashMap::new();
    for split in Split::ALL {
        for u in env.utterances(split) {
            split_of.insert(u.id.as_str(), split);
        }
    }
    // Each file once: utterances cut from one recording (Kaldi `segments`) share it.
    let files: Vec<&std::path::Path> = env
        .corpus
        .utterances
        .iter()
        .map(|u| u.audio.as_path())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let hashes: std::collections::HashMap<&std::path::Path, blake3::Hash> = files
        .par_iter()
        .map(|&p| Ok((p, file_hash(p)?)))
        .collect::<Result<_>>()?;
    let mut h = blake3::Hasher::new();
    for u in &env.corpus.utterances {
        let a = &hashes[u.audio.as_path()];
        let split = split_of.get(u.id.as_str()).map_or("-", |s| s.name());
        let line = format!(
            "{}\t{}\t{}\t{split}\t{}\t{:?}\t{}\n",
            u.id,
            u.speaker,
            u.sentence,
            u.sample_rate,
            u.channel,
            a.to_hex()
        );
        h.update(line.as_bytes());
        if let Some(s) = u.span {
            h.update(format!("span {} {}\n", s.start, s.end).as_bytes());
        }
        if let Some(m) = u.speed {
            h.update(format!("speed {m}\n").as_bytes());
        }
        for s in &u.phones {
            h.update(format!("{} {} {}\n", s.start, s.end, s.label).as_bytes());
        }
    }
    Ok(h.finalize().to_hex().to_string())
}
