//! Frame labels: which phone, which third of it, and which neighbours, for every feature frame.
//!
//! Rules (frames from the same [`FrameGeometry`] as the features, so they line up exactly):
//! - A frame belongs to the phone segment `start <= centre < end` that holds its centre.
//! - Its phone is that segment's label folded to the 48-phone set. `q` has no 48 phone (Kaldi's
//!   TIMIT recipe deletes it), so frames in a `q` segment get **no label**: they are left out of
//!   training and scoring and counted as `deleted`. Frames whose centre lies in no segment (a gap
//!   between segments, or audio after the last one) also get no label and are counted as
//!   `unaligned`; gaps are allowed, not an error (a `spn` interval from a TextGrid makes one).
//! - State: a segment's `n` frames are cut in thirds by position, frame `k` (0-based) getting state
//!   `floor(3 (2k + 1) / (2n))` — the third its own centre falls in. Thirds differ by at most one
//!   frame and are symmetric (4 frames: 0 1 1 2; 5 frames: 0 0 1 2 2). A 1-frame segment is a
//!   middle (1); a 2-frame segment a begin and an end (0, 2).
//! - Context: the 48-set phones of the previous and next segment, `q` skipped (as if deleted from
//!   the transcript); beyond either end of the utterance, `sil`. Segments too short to hold a frame
//!   centre still count as context.
//! - Checks: every label known, `end >= start`, no overlaps; no segment may end more than
//!   [`end_tolerance`] (10 ms) after the end of the audio. In the TIMIT sample the last segment ends
//!   0 to 119 samples before the audio does (one file 2802), and other corpora round the last
//!   boundary up by a few samples; within the tolerance the part past the end is simply never
//!   reached by a frame centre.
//! - An utterance with a transcript but no alignment (a manifest row without times) has no
//!   labelled frame: every frame counts as `unaligned`.

use std::fmt;

use serde::Serialize;

use super::{PhoneSet, Segment, Utterance, timit};
use crate::error::{Error, Result};
use crate::frontend::framing::FrameGeometry;

/// Label of one frame: phone (48 set), state 0/1/2 (begin/middle/end), context phones (48 set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct FrameLabel {
    /// Phone, id in the 48-phone set.
    pub phone: u16,
    /// State within the phone by frame position: 0 begin, 1 middle, 2 end.
    pub state: u8,
    /// Left context phone (48 set); silence (`sil`) before the first phone.
    pub left: u16,
    /// Right context phone (48 set); silence (`sil`) after the last phone.
    pub right: u16,
}

/// Labels of all frames of one utterance.
#[derive(Debug, Clone, PartialEq)]
pub struct UtteranceLabels {
    /// One per frame; `None` for `q` frames and frames in no segment.
    pub frames: Vec<Option<FrameLabel>>,
    /// 61-set label of the segment holding each frame's centre (`None` when in no segment).
    pub phone61: Vec<Option<u16>>,
    /// Frames inside a deleted (`q`) segment.
    pub deleted: usize,
    /// Frames in no segment.
    pub unaligned: usize,
}

impl UtteranceLabels {
    /// Frames that carry a label.
    pub fn labelled(&self) -> usize {
        self.frames.len() - self.deleted - self.unaligned
    }
}

/// How far (in samples) a segment may run past the end of the audio: 10 ms.
pub fn end_tolerance(sample_rate: u32) -> u64 {
    sample_rate as u64 / 100
}

/// Label every frame of `utt`, whose audio has `num_samples` samples at the utterance's own rate
/// (the rate its segment times are counted in), framed by `geom` at that rate.
pub fn frame_labels(
    utt: &Utterance,
    num_samples: u64,
    geom: &FrameGeometry,
    phones: &PhoneSet,
) -> Result<UtteranceLabels> {
    frame_labels_at(utt, num_samples, geom, utt.sample_rate, phones)
}

/// Label every frame of `utt` when its audio was read at `rate` (e.g. resampled to a pipeline's
/// rate): `num_samples` and `geom` count samples at `rate`, and the segment times, counted at the
/// utterance's own rate, are converted to it.
pub fn frame_labels_at(
    utt: &Utterance,
    num_samples: u64,
    geom: &FrameGeometry,
    rate: u32,
    phones: &PhoneSet,
) -> Result<UtteranceLabels> {
    let file = &utt.phone_file;
    let segs = &utt.phones;
    if segs.is_empty() {
        // No times (a transcript alone, or no labels at all): nothing is labelled.
        let n = geom.num_frames(num_samples as usize);
        return Ok(UtteranceLabels {
            frames: vec![None; n],
            phone61: vec![None; n],
            deleted: 0,
            unaligned: n,
        });
    }
    timit::check_phones(segs, file, phones)?;
    let scale = segment_scale(utt, num_samples, rate)?;

    // Phone ids per segment; contexts skip deleted segments.
    let id61: Vec<u16> =
        segs.iter()
            .map(|s| {
                phones.p61.id(&s.label).ok_or_else(|| {
                    Error::at_line(file, s.line, format!("unknown phone `{}`", s.label))
                })
            })
            .collect::<Result<_>>()?;
    let id48: Vec<Option<u16>> = id61.iter().map(|&p| phones.fold_61_to_48(p)).collect();
    let (left, right) = neighbours(&id48, phones.silence48());

    // Segment of each frame: centres increase and segments are sorted, so one sweep does it.
    let n = geom.num_frames(num_samples as usize);
    let seg_of = segment_of_frames(segs, geom, n, scale);
    let mut count = vec![0usize; segs.len()];
    for s in seg_of.iter().flatten() {
        count[*s] += 1;
    }

    let mut out = UtteranceLabels {
        frames: Vec::with_capacity(n),
        phone61: Vec::with_capacity(n),
        deleted: 0,
        unaligned: 0,
    };
    let mut pos = vec![0usize; segs.len()];
    for s in seg_of {
        let Some(s) = s else {
            out.frames.push(None);
            out.phone61.push(None);
            out.unaligned += 1;
            continue;
        };
        out.phone61.push(Some(id61[s]));
        let k = pos[s];
        pos[s] += 1;
        match id48[s] {
            None => {
                out.frames.push(None);
                out.deleted += 1;
            }
            Some(phone) => out.frames.push(Some(FrameLabel {
                phone,
                state: state_of(k, count[s]),
                left: left[s],
                right: right[s],
            })),
        }
    }
    Ok(out)
}

/// How many samples at `rate` one sample of `utt`'s segment times is, after checking both
/// rates are positive and no segment ends past the audio's `num_samples` (at `rate`) by more
/// than [`end_tolerance`].
fn segment_scale(utt: &Utterance, num_samples: u64, rate: u32) -> Result<f64> {
    let file = &utt.phone_file;
    let segs = &utt.phones;
    if rate == 0 || utt.sample_rate == 0 {
        return Err(Error::format(
            file,
            format!(
                "sample rates must be positive (segments at {} Hz, frames at {rate} Hz)",
                utt.sample_rate
            ),
        ));
    }
    // Segment times (utterance rate) -> samples at `rate`.
    let scale = rate as f64 / utt.sample_rate as f64;
    let audio_in_segment_units = (num_samples as f64 / scale).ceil() as u64;
    let limit = audio_in_segment_units + end_tolerance(utt.sample_rate);
    if let Some(s) = segs.iter().find(|s| s.end > limit) {
        return Err(Error::at_line(
            file,
            s.line,
            format!(
                "segment `{}` {}..{} ends past the end of the audio ({} samples = {:.3} s at {} Hz; \
                 tolerance {} samples)",
                s.label,
                s.start,
                s.end,
                audio_in_segment_units,
                num_samples as f64 / rate as f64,
                utt.sample_rate,
                end_tolerance(utt.sample_rate)
            ),
        ));
    }
    Ok(scale)
}

/// The 48-set phone before and after each segment (`sil` at the ends); deleted segments
/// (`None`) are skipped.
fn neighbours(id48: &[Option<u16>], sil: u16) -> (Vec<u16>, Vec<u16>) {
    let mut left = vec![sil; id48.len()];
    let mut prev = sil;
    for (i, p) in id48.iter().enumerate() {
        left[i] = prev;
        if let Some(p) = p {
            prev = *p;
        }
    }
    let mut right = vec![sil; id48.len()];
    let mut next = sil;
    for (i, p) in id48.iter().enumerate().rev() {
        right[i] = next;
        if let Some(p) = p {
            next = *p;
        }
    }
    (left, right)
}

/// The segment each of `n` frames' centres lies in, if any.
fn segment_of_frames(
    segs: &[Segment],
    geom: &FrameGeometry,
    n: usize,
    scale: f64,
) -> Vec<Option<usize>> {
    let mut seg_of = vec![None; n];
    let mut j = 0;
    for (f, slot) in seg_of.iter_mut().enumerate() {
        // Compared in segment units, so that at the native rate nothing is rounded.
        let c = geom.centre(f) / scale;
        while j < segs.len() && (segs[j].end as f64) <= c {
            j += 1;
        }
        if j < segs.len() && (segs[j].start as f64) <= c {
            *slot = Some(j);
        }
    }
    seg_of
}

/// State (0 begin, 1 middle, 2 end) of frame `k` of a segment of `n` frames: the third of the
/// segment in which the frame's own centre lies, `floor(3 (2k+1) / 2n)`.
pub fn state_of(k: usize, n: usize) -> u8 {
    debug_assert!(k < n);
    ((3 * (2 * k + 1)) / (2 * n)) as u8
}

/// One printable row of [`utterance_labels`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelRow {
    /// Frame index, from 0.
    pub frame: usize,
    /// Time of the frame's first sample, seconds (negative for early frames without snip_edges).
    pub start: f64,
    /// Time of the frame's centre, seconds.
    pub centre: f64,
    /// Label of the segment the frame's centre lies in, 61 set (also for deleted `q`).
    pub phone61: Option<String>,
    /// The frame's phone in the 48 set; `None` when deleted or in no segment.
    pub phone48: Option<String>,
    /// The frame's phone folded to the 39 set.
    pub phone39: Option<String>,
    /// State within the phone: 0 begin, 1 middle, 2 end.
    pub state: Option<u8>,
    /// Left context phone, 48 set.
    pub left: Option<String>,
    /// Right context phone, 48 set.
    pub right: Option<String>,
}

/// Frame-by-frame labels of one utterance, printable as TSV (`-` where a frame has no label).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelTable {
    /// Utterance id.
    pub utterance: String,
    /// Rate the frame times are counted at, Hz (the pipeline's).
    pub sample_rate: u32,
    /// Length of the audio at `sample_rate`, samples.
    pub num_samples: u64,
    /// Frames in `q` segments (no 48-set phone).
    pub deleted: usize,
    /// Frames in no segment.
    pub unaligned: usize,
    /// One row per frame, in order.
    pub rows: Vec<LabelRow>,
}

/// The label of every frame of `utt` with its time and all three phone sets; `num_samples` and
/// `geom` count samples at `rate` (see [`frame_labels_at`]).
pub fn utterance_labels(
    utt: &Utterance,
    num_samples: u64,
    geom: &FrameGeometry,
    rate: u32,
    phones: &PhoneSet,
) -> Result<LabelTable> {
    let labels = frame_labels_at(utt, num_samples, geom, rate, phones)?;
    let sample_rate = rate;
    let rate = rate as f64;
    let name = |id: u16| phones.p48.name(id).to_string();
    let rows = (0..labels.frames.len())
        .map(|f| {
            let lab = labels.frames[f];
            let p61 = labels.phone61[f];
            LabelRow {
                frame: f,
                start: geom.first_sample(f) as f64 / rate,
                centre: geom.centre(f) / rate,
                phone61: p61.map(|p| phones.p61.name(p).to_string()),
                phone48: lab.map(|l| name(l.phone)),
                phone39: lab.map(|l| phones.p39.name(phones.fold_48_to_39(l.phone)).to_string()),
                state: lab.map(|l| l.state),
                left: lab.map(|l| name(l.left)),
                right: lab.map(|l| name(l.right)),
            }
        })
        .collect();
    Ok(LabelTable {
        utterance: utt.id.clone(),
        sample_rate,
        num_samples,
        deleted: labels.deleted,
        unaligned: labels.unaligned,
        rows,
    })
}

impl fmt::Display for LabelTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "# {}: {} frames ({} deleted q, {} unaligned), {} samples at {} Hz",
            self.utterance,
            self.rows.len(),
            self.deleted,
            self.unaligned,
            self.num_samples,
            self.sample_rate
        )?;
        writeln!(
            f,
            "frame\tstart\tcentre\tphone61\tphone48\tphone39\tstate\tleft\tright"
        )?;
        let s = |x: &Option<String>| x.clone().unwrap_or_else(|| "-".into());
        for r in &self.rows {
            writeln!(
                f,
                "{}\t{:.4}\t{:.4}\t{}\t{}\t{}\t{}\t{}\t{}",
                r.frame,
                r.start,
                r.centre,
                s(&r.phone61),
                s(&r.phone48),
                s(&r.phone39),
                r.state.map_or("-".into(), |x| x.to_string()),
                s(&r.left),
                s(&r.right)
            )?;
        }
        Ok(())
    }
}
