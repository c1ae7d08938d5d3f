//! CMVN statistics over defined sets of utterances: each speaker's utterances in the corpus
//! (`post.cmvn: speaker`) or the corpus's training split, unless a trained model stored its own
//! (`global`). The sets depend on the corpus alone, never on which utterances one command is
//! given, so an utterance's features are the same extracted alone or in a batch.
//!
//! Statistics are accumulated per utterance and merged in corpus order: the sums, and so the
//! normalised features, are bit-identical whatever else a command processes.

use std::collections::{BTreeMap, HashMap};

use ndarray::Array2;
use rayon::prelude::*;

use crate::corpus::{Corpus, Split, SplitOptions, Splits, Utterance};
use crate::error::{Error, Result};
use crate::frontend::cmvn::{CmvnMode, CmvnStats};
use crate::io::cache::FeatureCache;
use crate::pipeline::extractor::Extractor;

/// The chain output of `u` through `extractor`, from the cache when it holds it. `wav` is its
/// audio when the caller has already read it.
pub(crate) fn chain_cached(
    extractor: &Extractor,
    cache: Option<&FeatureCache>,
    u: &Utterance,
    wav: Option<&crate::audio::Waveform>,
) -> Result<Array2<f32>> {
    let compute = || match wav {
        Some(w) => extractor.chain_read(w, &u.id, &u.audio),
        None => {
            let w = extractor.read_utterance(u)?;
            extractor.chain_read(&w, &u.id, &u.audio)
        }
    };
    match cache {
        Some(c) => c.get_or_compute(&u.audio, &extractor.cache_key(u), compute),
        None => compute(),
    }
}

/// Statistics of `members` (in this order), reusing `known` chain outputs by utterance id and
/// computing (or reading from the cache) the others.
pub fn pool(
    members: &[&Utterance],
    extractor: &Extractor,
    cache: Option<&FeatureCache>,
    known: &HashMap<&str, &Array2<f32>>,
) -> Result<CmvnStats> {
    let per_utt = members
        .par_iter()
        .map(|u| {
            let mut st = CmvnStats::new(extractor.chain_dim());
            match known.get(u.id.as_str()) {
                Some(x) => st.accumulate(x.view()),
                None => {
                    let x = chain_cached(extractor, cache, u, None).map_err(|e| {
                        Error::invalid(format!(
                            "{e} (read for the CMVN statistics of speaker `{}`, or of the \
                             training set: they pool every utterance of it in the corpus)",
                            u.speaker
                        ))
                    })?;
                    st.accumulate(x.view())
                }
            }
            Ok(st)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut total = CmvnStats::new(extractor.chain_dim());
    for st in &per_utt {
        total.merge(st);
    }
    Ok(total)
}

/// The utterances the training split's statistics (`global`) are pooled over.
pub fn training_set(corpus: &Corpus) -> Vec<&Utterance> {
    Splits::for_corpus(corpus).utterances(corpus, Split::Train, &SplitOptions::default())
}

/// For each of `utts` (utterances of `corpus`, with their chain outputs `chained`), the
/// statistics its pipeline's `post.cmvn` pools over; `None` where the mode needs none.
pub fn pooled_stats(
    corpus: &Corpus,
    utts: &[&Utterance],
    chained: &[Array2<f32>],
    extractor: &Extractor,
    cache: Option<&FeatureCache>,
) -> Result<Vec<Option<CmvnStats>>> {
    let known: HashMap<&str, &Array2<f32>> =
        utts.iter().map(|u| u.id.as_str()).zip(chained).collect();
    match extractor.pipeline.post.cmvn.mode {
        CmvnMode::None | CmvnMode::Utterance => Ok(vec![None; utts.len()]),
        CmvnMode::Global => {
            let stats = match &extractor.global_cmvn {
                Some(g) => g.clone(),
                None => {
                    let members = training_set(corpus);
                    if members.is_empty() {
                        return Err(Error::format(
                            &corpus.root,
                            "post.cmvn mode `global` pools the training split, and this corpus \
                             has none",
                        ));
                    }
                    pool(&members, extractor, cache, &known)?
                }
            };
            Ok(vec![Some(stats); utts.len()])
        }
        CmvnMode::Speaker => {
            let mut by_speaker: BTreeMap<&str, Vec<&Utterance>> = utts
                .iter()
                .map(|u| (u.speaker.as_str(), Vec::new()))
                .collect();
            for u in &corpus.utterances {
                if let Some(m) = by_speaker.get_mut(u.speaker.as_str()) {
                    m.push(u);
                }
            }
            let mut stats = BTreeMap::new();
            for (speaker, members) in by_speaker {
                if members.is_empty() {
                    return Err(Error::format(
                        &corpus.root,
                        format!("speaker `{speaker}` has no utterances in the corpus"),
                    ));
                }
                stats.insert(speaker, pool(&members, extractor, cache, &known)?);
            }
            Ok(utts
                .iter()
                .map(|u| Some(stats[u.speaker.as_str()].clone()))
                .collect())
        }
    }
}
