//! Boundary agreement between an automatic alignment and the hand-labelled reference: % of
//! boundaries within 10, 20 and 40 ms, mean and median absolute error in ms.
//!
//! Matching rule (forced alignment: the sequences are the same). The reference's segments are
//! folded to the 48 set with `q` deleted ([`super::transcript::phones48`]); the automatic phones
//! must be that same sequence. Boundary `i` is the start of phone `i` for `i = 1..K-1`: the
//! utterance's outer edges (start of the first phone, end of the last) are not boundaries.
//! Where the reference has a deleted `q` or a gap between phones `i-1` and `i`, the reference
//! has no single boundary there and it is skipped (counted in `skipped`). The automatic boundary
//! is [`super::phn::boundary_sample`]: midway between the centres of the phone's first frame and
//! the frame before.

use serde::Serialize;

use super::path::PhoneSpan;
use super::phn::boundary_sample;
use crate::corpus::{PhoneSet, Segment};
use crate::error::{Error, Result};
use crate::frontend::framing::FrameGeometry;

/// Absolute boundary errors collected over utterances.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundaryErrors {
    errors_ms: Vec<f64>,
    skipped: usize,
}

/// Summary of [`BoundaryErrors`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BoundarySummary {
    /// Boundaries compared.
    pub boundaries: usize,
    /// Reference boundaries with a deleted `q` or a gap, left out.
    pub skipped: usize,
    /// % of boundaries with |error| <= 10 ms.
    pub within_10ms: f64,
    /// % of boundaries with |error| <= 20 ms.
    pub within_20ms: f64,
    /// % of boundaries with |error| <= 40 ms.
    pub within_40ms: f64,
    /// Mean absolute boundary error, ms.
    pub mean_abs_ms: f64,
    /// Median absolute boundary error, ms.
    pub median_abs_ms: f64,
}

impl BoundaryErrors {
    /// Empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Compare one utterance: `reference` its 61-set segments (samples at `sample_rate`),
    /// `hypothesis` the automatic phones (frames of `geom`).
    pub fn add(
        &mut self,
        reference: &[Segment],
        set: &PhoneSet,
        hypothesis: &[PhoneSpan],
        geom: &FrameGeometry,
        sample_rate: u32,
    ) -> Result<()> {
        if sample_rate == 0 {
            return Err(Error::invalid("sample rate 0"));
        }
        // Kept reference phones: (48-set id, start, whether a boundary precedes it cleanly).
        let mut kept: Vec<(u16, u64, bool)> = Vec::new();
        let mut clean = false;
        let mut prev_end: Option<u64> = None;
        for s in reference {
            let id61 = set
                .p61
                .id(&s.label)
                .ok_or_else(|| Error::invalid(format!("unknown reference phone `{}`", s.label)))?;
            match set.fold_61_to_48(id61) {
                None => clean = false,
                Some(p) => {
                    let contiguous = clean && prev_end == Some(s.start);
                    kept.push((p, s.start, contiguous));
                    clean = true;
                }
            }
            prev_end = Some(s.end);
        }
        if kept.len() != hypothesis.len()
            || kept.iter().zip(hypothesis).any(|(k, h)| k.0 != h.phone)
        {
            let at = kept
                .iter()
                .zip(hypothesis)
                .position(|(k, h)| k.0 != h.phone)
                .unwrap_or(kept.len().min(hypothesis.len()));
            return Err(Error::invalid(format!(
                "boundary agreement needs the same phone sequence: the reference has {} phones, \
                 the alignment {}, first difference at phone {at}",
                kept.len(),
                hypothesis.len()
            )));
        }
        let ms = 1000.0 / sample_rate as f64;
        for (k, h) in kept.iter().zip(hypothesis).skip(1) {
            if !k.2 {
                self.skipped += 1;
                continue;
            }
            let auto = boundary_sample(geom, h.start);
            self.errors_ms.push((auto - k.1 as f64).abs() * ms);
        }
        Ok(())
    }

    /// Absolute errors (ms) in the order collected.
    pub fn errors_ms(&self) -> &[f64] {
        &self.errors_ms
    }

    /// The summary; `None` before any boundary was compared.
    pub fn summary(&self) -> Option<BoundarySummary> {
        let n = self.errors_ms.len();
        if n == 0 {
            return None;
        }
        let pct =
            |t: f64| 100.0 * self.errors_ms.iter().filter(|&&e| e <= t).count() as f64 / n as f64;
        let mut sorted = self.errors_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
        };
        Some(BoundarySummary {
            boundaries: n,
            skipped: self.skipped,
            within_10ms: pct(10.0),
            within_20ms: pct(20.0),
            within_40ms: pct(40.0),
            mean_abs_ms: sorted.iter().sum::<f64>() / n as f64,
            median_abs_ms: median,
        })
    }
}
