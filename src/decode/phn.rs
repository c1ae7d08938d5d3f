//! From frames back to samples: phone boundaries in the signal, and TIMIT-style `.phn` files.
//!
//! The frame labels give a frame to the segment that holds its centre
//! ([`crate::corpus::labels`]), so a reference boundary `b` makes frame `f` the first of the next
//! phone exactly when `centre(f-1) < b <= centre(f)`. Given only the frames, the boundary is thus
//! known to lie between two frame centres; we place it midway, at `centre(f) - shift / 2`
//! ([`boundary_sample`]), which is unbiased for boundaries spread evenly between the centres.
//! Frame starts would be biased: with 25 ms frames every 10 ms they sit 7.5 ms before the midpoint.
//!
//! Written `.phn` files use the same boundary rounded up to a whole sample, which still lies in
//! `(centre(f-1), centre(f)]`; the first phone starts at sample 0 and the last ends at the end of
//! the audio. Read back by the corpus reader and labelled, every frame gets the phone it was
//! aligned to.

use std::path::Path;

use super::path::PhoneSpan;
use crate::corpus::Segment;
use crate::error::{Error, Result};
use crate::frontend::framing::FrameGeometry;
use crate::io::atomic;

/// Where a phone that starts at `frame` begins, in samples (fractional): midway between the
/// centres of frames `frame - 1` and `frame`.
pub fn boundary_sample(geom: &FrameGeometry, frame: usize) -> f64 {
    geom.centre(frame) - geom.shift as f64 / 2.0
}

/// TIMIT segments (sample offsets) of phone spans covering all frames of an utterance of
/// `num_samples` samples; `labels` gives each span's label (e.g. its 48-set name, or the 61-set
/// label of the transcript position it aligned).
pub fn spans_to_segments<S: AsRef<str>>(
    spans: &[PhoneSpan],
    labels: &[S],
    geom: &FrameGeometry,
    num_samples: u64,
) -> Result<Vec<Segment>> {
    if spans.len() != labels.len() {
        return Err(Error::invalid(format!(
            "{} phone spans but {} labels",
            spans.len(),
            labels.len()
        )));
    }
    if let Some(bad) = labels
        .iter()
        .map(|l| l.as_ref())
        .find(|l| l.is_empty() || l.contains(char::is_whitespace))
    {
        return Err(Error::invalid(format!(
            "phone label {bad:?} cannot be written to a .phn file (empty or with spaces)"
        )));
    }
    let frames = geom.num_frames(num_samples as usize);
    let mut expect = 0;
    for (i, s) in spans.iter().enumerate() {
        if s.start != expect || s.end <= s.start {
            return Err(Error::invalid(format!(
                "phone span {i} covers frames {}..{}; spans must be non-empty and follow each \
                 other from frame 0",
                s.start, s.end
            )));
        }
        expect = s.end;
    }
    if expect != frames {
        return Err(Error::invalid(format!(
            "the phone spans cover {expect} frames, but {num_samples} samples make {frames}"
        )));
    }
    let sample = |f: usize| -> Result<u64> {
        let b = boundary_sample(geom, f).ceil().max(0.0) as u64;
        if b > num_samples {
            return Err(Error::invalid(format!(
                "frame {f} starts a phone at sample {b}, past the end of the audio ({num_samples})"
            )));
        }
        Ok(b)
    };
    let mut out = Vec::with_capacity(spans.len());
    for (i, (s, label)) in spans.iter().zip(labels).enumerate() {
        let start = if i == 0 { 0 } else { sample(s.start)? };
        let end = if i + 1 == spans.len() {
            num_samples
        } else {
            sample(s.end)?
        };
        out.push(Segment {
            start,
            end,
            label: label.as_ref().to_string(),
            line: i + 1,
        });
    }
    Ok(out)
}

/// The text of a `.phn` file: `start end label` lines.
pub fn format_phn(segments: &[Segment]) -> String {
    let mut text = String::new();
    for s in segments {
        text.push_str(&format!("{} {} {}\n", s.start, s.end, s.label));
    }
    text
}

/// Write a `.phn` file (atomically).
pub fn write_phn(path: &Path, segments: &[Segment]) -> Result<()> {
    atomic::write_bytes(path, format_phn(segments).as_bytes())
}
