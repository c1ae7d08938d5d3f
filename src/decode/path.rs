//! A state path as the rest of the crate reads it: per frame the tied state and the (phone, state)
//! it came from, and the phones as spans of frames.

use serde::{Deserialize, Serialize};

use super::graph::Graph;
use super::search::BestPath;
use crate::error::{Error, Result};
use crate::model::hmm::TransitionCounts;

/// The HMM state of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FrameState {
    /// Tied state (column of the score matrix; the classifiers' target).
    pub leaf: u32,
    /// 48-set phone id.
    pub phone: u16,
    /// State position within the phone (0 = first).
    pub state: u8,
}

/// One phone occurrence: frames `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PhoneSpan {
    /// 48-set phone id.
    pub phone: u16,
    /// First frame.
    pub start: usize,
    /// One past the last frame.
    pub end: usize,
}

impl PhoneSpan {
    /// Frames covered.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True for a span of no frames.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Frames and phone spans of a best path, and the graph tag of each span's first frame.
pub(crate) fn frames_and_spans(
    graph: &Graph,
    path: &BestPath,
) -> (Vec<FrameState>, Vec<PhoneSpan>, Vec<u32>) {
    let mut frames = Vec::with_capacity(path.nodes.len());
    let mut spans: Vec<PhoneSpan> = Vec::new();
    let mut tags = Vec::new();
    for (t, (&node, &entry)) in path.nodes.iter().zip(&path.entries).enumerate() {
        let info = graph.info[node as usize];
        frames.push(FrameState {
            leaf: info.leaf,
            phone: info.phone,
            state: info.state,
        });
        if entry || spans.is_empty() {
            spans.push(PhoneSpan {
                phone: info.phone,
                start: t,
                end: t + 1,
            });
            tags.push(info.tag);
        } else if let Some(last) = spans.last_mut() {
            last.end = t + 1;
        }
    }
    (frames, spans, tags)
}

/// Add the transitions of a path (`frames` and its `spans`) to `counts`.
pub fn count_transitions(
    frames: &[FrameState],
    spans: &[PhoneSpan],
    counts: &mut TransitionCounts,
) -> Result<()> {
    let mut states = Vec::new();
    for span in spans {
        states.clear();
        let Some(fs) = frames.get(span.start..span.end) else {
            return Err(Error::invalid(format!(
                "phone span {}..{} outside the {} frames of its path",
                span.start,
                span.end,
                frames.len()
            )));
        };
        states.extend(fs.iter().map(|f| f.state));
        counts.add_segment(span.phone, &states)?;
    }
    Ok(())
}
