//! Speed perturbation, Kaldi's way of tripling a small training set
//! (`utils/data/perturb_data_dir_speed_3way.sh`): beside every training utterance, copies played
//! at other speeds (0.9 and 1.1), each a new utterance of a new pseudo-speaker named as Kaldi names
//! them (`sp0.9-SPK`, utterance `sp0.9-UTT`); speed 1.0 is the original itself, kept as it is.
//!
//! Playing at speed `f` is what `sox speed f` does: the samples are taken as recorded at `f`
//! times the rate and resampled to the rate, so the copy lasts `1/f` as long and its pitch moves
//! with it. Sample positions scale by `1/f` (rounded to the nearest sample), so the alignment
//! stays on the audio. The copies' speakers go to the split of the speaker they copy (see
//! [`Splits::for_corpus`](super::Splits::for_corpus)): a perturbed test speaker never trains.

use super::{Corpus, Segment, Split, Splits, Utterance};
use crate::error::{Error, Result};

/// Kaldi's three-way recipe: 0.9, 1.0 (the original) and 1.1, in thousandths.
pub const KALDI_3WAY: [u32; 3] = [900, 1000, 1100];

/// A speed in thousandths as Kaldi writes it in names: 900 -> `0.9`, 1100 -> `1.1`, 950 -> `0.95`.
pub fn speed_name(milli: u32) -> String {
    let mut s = format!("{}.{:03}", milli / 1000, milli % 1000);
    while s.ends_with('0') && !s.ends_with(".0") {
        s.pop();
    }
    s
}

/// Parse a list of speeds (`0.9,1.0,1.1`) into thousandths; each in 0.5..=2.0.
pub fn parse_speeds(text: &str) -> std::result::Result<Vec<u32>, String> {
    text.split(',')
        .map(|t| {
            let v: f64 = t
                .trim()
                .parse()
                .map_err(|_| format!("speed `{t}` is not a number (e.g. 0.9,1.0,1.1)"))?;
            if !(0.5..=2.0).contains(&v) {
                return Err(format!("speed {v} is outside 0.5..2.0"));
            }
            let milli = (v * 1000.0).round() as u32;
            if (f64::from(milli) - v * 1000.0).abs() > 1e-6 {
                return Err(format!("speed {v}: give at most three decimals"));
            }
            Ok(milli)
        })
        .collect()
}

/// The rate the samples of `u` are taken as recorded at when played at `milli` thousandths: the
/// audio's rate times the speed, which must be a whole number of Hz.
pub fn played_rate(rate: u32, milli: u32) -> Result<u32> {
    let r = u64::from(rate) * u64::from(milli);
    if r % 1000 != 0 {
        return Err(Error::invalid(format!(
            "speed {} of audio at {rate} Hz would play it at {} Hz, not a whole number",
            speed_name(milli),
            r as f64 / 1000.0
        )));
    }
    Ok((r / 1000) as u32)
}

/// A sample position scaled from the played rate `from` back to `to`, to the nearest sample.
fn scale(s: u64, from: u32, to: u32) -> u64 {
    ((u128::from(s) * u128::from(to) * 2 + u128::from(from)) / (2 * u128::from(from))) as u64
}

/// `u` played at `milli` thousandths: a new utterance of a new speaker, times scaled.
pub fn perturbed(u: &Utterance, milli: u32) -> Result<Utterance> {
    let from = played_rate(u.sample_rate, milli)?;
    let to = u.sample_rate;
    let prefix = format!("sp{}-", speed_name(milli));
    let seg = |s: &Segment| Segment {
        start: scale(s.start, from, to),
        end: scale(s.end, from, to),
        ..s.clone()
    };
    Ok(Utterance {
        id: format!("{prefix}{}", u.id),
        speaker: format!("{prefix}{}", u.speaker),
        phones: u.phones.iter().map(seg).collect(),
        words: u.words.iter().map(seg).collect(),
        num_samples: u
            .num_samples
            .map(|n| crate::audio::resampled_len(n, from, to)),
        speed: Some(milli),
        ..u.clone()
    })
}

/// The base speaker of a perturbed copy's speaker (`sp0.9-SPK` -> `SPK`), `None` for others.
pub fn base_speaker(u: &Utterance) -> Option<&str> {
    u.speed?;
    u.speaker.split_once('-').map(|(_, base)| base)
}

/// `corpus` with, for every training utterance (its standard split), a copy at each speed of
/// `speeds` other than 1.0 (the original stays as it is).
pub fn speed_perturb(corpus: &Corpus, speeds: &[u32]) -> Result<Corpus> {
    let splits = Splits::for_corpus(corpus);
    let mut utts = corpus.utterances.clone();
    for u in &corpus.utterances {
        if u.speed.is_some() || splits.of_speaker(&u.speaker) != Some(Split::Train) {
            continue;
        }
        for &m in speeds.iter().filter(|&&m| m != 1000) {
            utts.push(perturbed(u, m)?);
        }
    }
    Corpus::from_utterances(&corpus.root, corpus.kind, utts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_are_named_as_kaldi_names_them() {
        assert_eq!(speed_name(900), "0.9");
        assert_eq!(speed_name(1000), "1.0");
        assert_eq!(speed_name(1100), "1.1");
        assert_eq!(speed_name(950), "0.95");
        assert_eq!(parse_speeds("0.9,1.0,1.1").unwrap(), KALDI_3WAY);
        assert!(parse_speeds("3").is_err());
        assert!(parse_speeds("0.9x").is_err());
        assert!(parse_speeds("0.9001").is_err());
        assert_eq!(played_rate(16_000, 900).unwrap(), 14_400);
        assert!(played_rate(16_001, 900).is_err());
    }
}
