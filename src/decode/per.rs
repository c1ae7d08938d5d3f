//! Phone error rate as Kaldi's TIMIT recipe scores it (`local/score_basic.sh`): hypothesis and
//! reference are both mapped from the 48-phone set to the 39 of Lee & Hon (`timit_norm_trans.pl
//! -from 48 -to 39`), then `compute-wer` counts the edit distance. PER = (S + D + I) / N, N the
//! reference length, summed over utterances before dividing.
//!
//! Folding (`data/phones/timit-61-48-39.tsv`, Kaldi's `phones.60-48-39.map`): 61 -> 48 turns
//! `h#` and `pau` into `sil` and the closures into `cl` / `vcl`, and deletes `q`
//! ([`super::transcript::phones48`]); 48 -> 39 then turns `cl`, `vcl` and `epi` into `sil` too
//! (and `ao` into `aa`, `zh` into `sh`, ...).
//! Consecutive `sil`s are NOT merged, neither in the reference nor in the hypothesis: the recipe
//! maps phone by phone and nothing else, so `pcl p` -> `sil p` after `pau` gives `sil sil p`, and
//! a hypothesis must say both to match.
//!
//! Counting: the number of errors is the Levenshtein distance (unit costs). How a tie splits them
//! into substitutions, deletions and insertions follows Kaldi's `LevenshteinAlignment` traceback
//! (as `align-text` shows it): from the end, a match or substitution is preferred, then a deletion,
//! then an insertion. Deterministic, and the total never depends on it.

use serde::Serialize;

use crate::corpus::PhoneSet;

/// Edit counts against a reference of `reference` tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct EditCounts {
    /// Reference length N.
    pub reference: usize,
    /// Reference tokens replaced by another (S).
    pub substitutions: usize,
    /// Reference tokens missing from the hypothesis (D).
    pub deletions: usize,
    /// Hypothesis tokens with no reference token (I).
    pub insertions: usize,
}

impl EditCounts {
    /// S + D + I.
    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// (S + D + I) / N; `None` when the reference is empty.
    pub fn error_rate(&self) -> Option<f64> {
        (self.reference > 0).then(|| self.errors() as f64 / self.reference as f64)
    }
}

impl std::ops::AddAssign for EditCounts {
    fn add_assign(&mut self, o: EditCounts) {
        self.reference += o.reference;
        self.substitutions += o.substitutions;
        self.deletions += o.deletions;
        self.insertions += o.insertions;
    }
}

/// One step of an edit alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditOp<T> {
    /// Reference and hypothesis agree on this token.
    Match(T),
    /// Reference token replaced by another.
    Substitution {
        /// The reference token.
        reference: T,
        /// What the hypothesis has instead.
        hypothesis: T,
    },
    /// A reference token the hypothesis lacks.
    Deletion(T),
    /// A hypothesis token the reference lacks.
    Insertion(T),
}

/// Levenshtein alignment of `hypothesis` against `reference` (see the module comment for ties).
pub fn edit_alignment<T: PartialEq + Copy>(
    reference: &[T],
    hypothesis: &[T],
) -> (EditCounts, Vec<EditOp<T>>) {
    let (m, n) = (reference.len(), hypothesis.len());
    let w = n + 1;
    let mut e = vec![0u32; (m + 1) * w];
    for (j, cell) in e[..=n].iter_mut().enumerate() {
        *cell = j as u32;
    }
    for i in 1..=m {
        e[i * w] = i as u32;
        for j in 1..=n {
            let diag = e[(i - 1) * w + j - 1] + u32::from(reference[i - 1] != hypothesis[j - 1]);
            let del = e[(i - 1) * w + j] + 1;
            let ins = e[i * w + j - 1] + 1;
            e[i * w + j] = diag.min(del).min(ins);
        }
    }
    let mut counts = EditCounts {
        reference: m,
        ..EditCounts::default()
    };
    let mut ops = Vec::with_capacity(m.max(n));
    let (mut i, mut j) = (m, n);
    while i > 0 || j > 0 {
        let step = if i == 0 {
            2
        } else if j == 0 {
            1
        } else {
            let diag = e[(i - 1) * w + j - 1] + u32::from(reference[i - 1] != hypothesis[j - 1]);
            let del = e[(i - 1) * w + j] + 1;
            let ins = e[i * w + j - 1] + 1;
            if diag <= del.min(ins) {
                0
            } else if del <= ins {
                1
            } else {
                2
            }
        };
        match step {
            0 => {
                let (r, h) = (reference[i - 1], hypothesis[j - 1]);
                if r == h {
                    ops.push(EditOp::Match(r));
                } else {
                    counts.substitutions += 1;
                    ops.push(EditOp::Substitution {
                        reference: r,
                        hypothesis: h,
                    });
                }
                i -= 1;
                j -= 1;
            }
            1 => {
                counts.deletions += 1;
                ops.push(EditOp::Deletion(reference[i - 1]));
                i -= 1;
            }
            _ => {
                counts.insertions += 1;
                ops.push(EditOp::Insertion(hypothesis[j - 1]));
                j -= 1;
            }
        }
    }
    ops.reverse();
    (counts, ops)
}

/// 48-set phone ids folded to the 39-set scoring ids, one by one (nothing merged).
pub fn fold_to_39(phones48: &[u16], set: &PhoneSet) -> Vec<u16> {
    phones48.iter().map(|&p| set.fold_48_to_39(p)).collect()
}

/// Score one utterance: both 48-set sequences folded to 39, then aligned.
pub fn score_phones(reference48: &[u16], hypothesis48: &[u16], set: &PhoneSet) -> EditCounts {
    edit_alignment(
        &fold_to_39(reference48, set),
        &fold_to_39(hypothesis48, set),
    )
    .0
}

/// PER over a test set: counts per utterance and their sum.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PerReport {
    /// Sum over all utterances (PER = (S + D + I) / N of this).
    pub total: EditCounts,
    /// Utterance id and its counts, in the order added.
    pub utterances: Vec<(String, EditCounts)>,
}

impl PerReport {
    /// Add one utterance's counts.
    pub fn add(&mut self, utterance: impl Into<String>, counts: EditCounts) {
        self.total += counts;
        self.utterances.push((utterance.into(), counts));
    }

    /// Summed (S + D + I) / summed N; `None` with no reference phones at all.
    pub fn per(&self) -> Option<f64> {
        self.total.error_rate()
    }
}
