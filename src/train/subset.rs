//! A share of the training speakers, for learning curves: whole speakers (all their utterances),
//! drawn with a seed, each gender in proportion, so that a quarter of the data is a quarter of
//! the voices and not a quarter of every voice.

use std::collections::BTreeMap;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::corpus::{Gender, Split, Utterance};
use crate::error::{Error, Result};
use crate::train::env::Env;

/// The training utterances of `round(fraction · n_g)` speakers of each gender `g` (at least one
/// per gender present), drawn with `seed`; `fraction` 1 gives the whole training split.
pub fn train_subset<'a>(env: &'a Env<'_>, fraction: f64, seed: u64) -> Result<Vec<&'a Utterance>> {
    check_fraction(fraction)?;
    let all = env.utterances(Split::Train);
    if fraction >= 1.0 {
        return Ok(all);
    }
    let mut by_gender: BTreeMap<Gender, Vec<&str>> = BTreeMap::new();
    for u in &all {
        let list = by_gender.entry(u.gender).or_default();
        if !list.contains(&u.speaker.as_str()) {
            list.push(&u.speaker);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut keep = Vec::new();
    for speakers in by_gender.values_mut() {
        speakers.sort_unstable();
        speakers.shuffle(&mut rng);
        let n = ((fraction * speakers.len() as f64).round() as usize).clamp(1, speakers.len());
        keep.extend_from_slice(&speakers[..n]);
    }
    Ok(all
        .into_iter()
        .filter(|u| keep.contains(&u.speaker.as_str()))
        .collect())
}

/// A share of the training data must be in (0, 1].
pub fn check_fraction(fraction: f64) -> Result<()> {
    if fraction.is_finite() && fraction > 0.0 && fraction <= 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "train fraction must be in (0, 1], got {fraction}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    #[test]
    fn whole_speakers_by_gender_and_seed() {
        let corpus = Corpus::open(&Corpus::demo_dir()).unwrap();
        let env = Env::new(&corpus);
        let all = train_subset(&env, 1.0, 0).unwrap();
        let speakers = |utts: &[&Utterance]| {
            let mut s: Vec<(String, Gender)> =
                utts.iter().map(|u| (u.speaker.clone(), u.gender)).collect();
            s.sort();
            s.dedup();
            s
        };
        let everyone = speakers(&all);
        let half = train_subset(&env, 0.5, 7).unwrap();
        let chosen = speakers(&half);
        // Every utterance of a chosen speaker is kept, none of the others.
        for u in &all {
            let kept = half.iter().any(|h| h.id == u.id);
            assert_eq!(
                kept,
                chosen.iter().any(|(s, _)| *s == u.speaker),
                "{}",
                u.id
            );
        }
        for g in [Gender::Female, Gender::Male] {
            let n = everyone.iter().filter(|(_, x)| *x == g).count();
            let k = chosen.iter().filter(|(_, x)| *x == g).count();
            assert_eq!(k, ((n as f64) * 0.5).round() as usize, "{g:?}");
        }
        assert_eq!(speakers(&train_subset(&env, 0.5, 7).unwrap()), chosen);
        let others: Vec<_> = (0..8)
            .map(|s| speakers(&train_subset(&env, 0.5, s).unwrap()))
            .collect();
        assert!(
            others.iter().any(|o| *o != chosen),
            "seeds draw other speakers"
        );
        assert!(train_subset(&env, 0.0, 0).is_err());
        assert!(train_subset(&env, 1.5, 0).is_err());
    }
}
