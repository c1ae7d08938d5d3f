//! Phone bigram language model with sentence start `<s>` and end `</s>`, as Kaldi's TIMIT recipe
//! builds it from the training transcripts (48-phone set, `q` deleted; IRSTLM `build-lm.sh -n 2`,
//! whose default smoothing is Witten-Bell).
//!
//! Smoothing: interpolated Witten-Bell, down to a uniform distribution.
//!
//! ```text
//! P_uni(w)    = (c(w) + T / V) / (N + T)              N: predicted tokens, T: distinct ones seen,
//!                                                     V: outcomes (phones + </s>)
//! P(w | h)    = (c(h, w) + T(h) P_uni(w)) / (c(h) + T(h))   T(h): distinct successors of h
//! P(w | h)    = P_uni(w)                              when h was never seen
//! ```
//!
//! Every history's distribution sums to 1 and every phone keeps a non-zero probability. Each
//! training sequence counts `<s> p1 .. pn </s>`. Stored as JSON with the counts it came from.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The smoothing used (recorded in the JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Smoothing {
    /// Interpolated Witten-Bell down to uniform (see the module comment).
    InterpolatedWittenBell,
}

/// A phone bigram. Rows are histories (phone ids, then `<s>`), columns are predicted tokens
/// (phone ids, then `</s>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneBigram {
    /// How unseen bigrams get probability mass.
    pub smoothing: Smoothing,
    phones: Vec<String>,
    /// Bigram counts from the training sequences.
    counts: Vec<Vec<u64>>,
    /// Natural-log probabilities.
    log_prob: Vec<Vec<f64>>,
}

impl PhoneBigram {
    /// Estimate from phone-id sequences over `phones` (48-set ids, `q` already deleted).
    pub fn estimate<'a, S, I>(phones: &[S], sequences: I) -> Result<PhoneBigram>
    where
        S: AsRef<str>,
        I: IntoIterator<Item = &'a [u16]>,
    {
        let p = phones.len();
        if p == 0 || p >= u16::MAX as usize {
            return Err(Error::invalid(format!(
                "a phone LM needs 1 to {} phones, got {p}",
                u16::MAX - 1
            )));
        }
        let v = p + 1;
        let mut counts = vec![vec![0u64; v]; v];
        let mut num_sequences = 0usize;
        for (i, seq) in sequences.into_iter().enumerate() {
            if let Some(&bad) = seq.iter().find(|&&x| x as usize >= p) {
                return Err(Error::invalid(format!(
                    "training sequence {i}: phone id {bad} is outside the {p}-phone set"
                )));
            }
            let mut prev = p; // <s>
            for &x in seq {
                counts[prev][x as usize] += 1;
                prev = x as usize;
            }
            counts[prev][p] += 1; // </s>
            num_sequences += 1;
        }
        if num_sequences == 0 {
            return Err(Error::invalid("no training sequences for the phone LM"));
        }
        let log_prob = witten_bell(&counts);
        Ok(PhoneBigram {
            smoothing: Smoothing::InterpolatedWittenBell,
            phones: phones.iter().map(|s| s.as_ref().to_string()).collect(),
            counts,
            log_prob,
        })
    }

    /// Number of phones (tokens besides `<s>` and `</s>`).
    pub fn num_phones(&self) -> usize {
        self.phones.len()
    }

    /// Phone names, indexed by id.
    pub fn phones(&self) -> &[String] {
        &self.phones
    }

    /// ln P(next | prev): `prev = None` is the sentence start `<s>`, `next = None` the end `</s>`.
    pub fn log_prob(&self, prev: Option<u16>, next: Option<u16>) -> f64 {
        let p = self.phones.len();
        self.log_prob[prev.map_or(p, |x| x as usize)][next.map_or(p, |x| x as usize)]
    }

    /// P(next | prev), see [`PhoneBigram::log_prob`].
    pub fn prob(&self, prev: Option<u16>, next: Option<u16>) -> f64 {
        self.log_prob(prev, next).exp()
    }

    /// Training count of the bigram (`None`: `<s>` / `</s>`).
    pub fn count(&self, prev: Option<u16>, next: Option<u16>) -> u64 {
        let p = self.phones.len();
        self.counts[prev.map_or(p, |x| x as usize)][next.map_or(p, |x| x as usize)]
    }

    /// ln P of a whole sequence, `<s>` and `</s>` included.
    pub fn sequence_log_prob(&self, seq: &[u16]) -> Result<f64> {
        let p = self.phones.len();
        if let Some(&bad) = seq.iter().find(|&&x| x as usize >= p) {
            return Err(Error::invalid(format!(
                "phone id {bad} is outside the LM's {p}-phone set"
            )));
        }
        let mut prev = None;
        let mut total = 0.0;
        for &x in seq {
            total += self.log_prob(prev, Some(x));
            prev = Some(x);
        }
        Ok(total + self.log_prob(prev, None))
    }

    /// Perplexity on held-out sequences: exp of minus the mean ln P per predicted token (each
    /// phone and each `</s>`).
    pub fn perplexity<'a, I>(&self, sequences: I) -> Result<f64>
    where
        I: IntoIterator<Item = &'a [u16]>,
    {
        let (mut total, mut tokens) = (0.0, 0usize);
        for seq in sequences {
            total += self.sequence_log_prob(seq)?;
            tokens += seq.len() + 1;
        }
        if tokens == 0 {
            return Err(Error::invalid("perplexity of no sequences"));
        }
        Ok((-total / tokens as f64).exp())
    }

    /// Write as JSON (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        crate::io::write_json(path, self)
    }

    /// Read JSON written by [`PhoneBigram::save`], checking shapes and that every history's
    /// probabilities sum to 1.
    pub fn load(path: &Path) -> Result<PhoneBigram> {
        let lm: PhoneBigram = crate::io::read_json(path)?;
        lm.validate()
            .map_err(|e| Error::format(path, e.to_string()))?;
        Ok(lm)
    }

    /// Check shapes, finiteness and normalisation (for a model read from elsewhere).
    pub fn validate(&self) -> Result<()> {
        let v = self.phones.len() + 1;
        if self.phones.is_empty()
            || self.counts.len() != v
            || self.log_prob.len() != v
            || self.counts.iter().any(|r| r.len() != v)
            || self.log_prob.iter().any(|r| r.len() != v)
        {
            return Err(Error::invalid(format!(
                "phone LM tables are not {v} x {v} for {} phones",
                self.phones.len()
            )));
        }
        for (h, row) in self.log_prob.iter().enumerate() {
            let sum: f64 = row.iter().map(|x| x.exp()).sum();
            if row.iter().any(|x| x.is_nan() || *x > 0.0) || (sum - 1.0).abs() > 1e-6 {
                return Err(Error::invalid(format!(
                    "phone LM history {h}: probabilities sum to {sum}, not 1"
                )));
            }
        }
        Ok(())
    }
}

/// Interpolated Witten-Bell log-probabilities from a (histories x outcomes) count table.
fn witten_bell(counts: &[Vec<u64>]) -> Vec<Vec<f64>> {
    let v = counts.len();
    let mut uni = vec![0u64; v];
    for row in counts {
        uni.iter_mut().zip(row).for_each(|(u, c)| *u += c);
    }
    let n: u64 = uni.iter().sum();
    let seen = uni.iter().filter(|&&c| c > 0).count() as f64;
    let p_uni: Vec<f64> = uni
        .iter()
        .map(|&c| (c as f64 + seen / v as f64) / (n as f64 + seen))
        .collect();
    counts
        .iter()
        .map(|row| {
            let total: u64 = row.iter().sum();
            let types = row.iter().filter(|&&c| c > 0).count() as f64;
            row.iter()
                .zip(&p_uni)
                .map(|(&c, &pu)| {
                    if total == 0 {
                        pu.ln()
                    } else {
                        ((c as f64 + types * pu) / (total as f64 + types)).ln()
                    }
                })
                .collect()
        })
        .collect()
}
