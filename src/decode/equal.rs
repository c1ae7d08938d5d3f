//! Equal-spaced alignment, where Kaldi's flat start begins (`align-equal-compiled`, `EqualAlign`
//! in fstext-utils): the states of the transcript in order, each given one frame, and the frames
//! left over shared out as self-loops as evenly as possible, the earlier states taking one more
//! when they do not divide evenly. With `n` states and `T` frames, state `j` (0-based) gets
//! `1 + floor((T - n) / n) + [j < (T - n) mod n]` frames.
//!
//! Kaldi picks a random path when the training graph has optional silences; here the phone
//! sequence is given as it is (TIMIT's transcripts have their silences), so nothing is random.

use super::align::{AlignError, Alignment, Source, tied_state};
use super::path::{FrameState, PhoneSpan};
use crate::model::hmm::ContextTable;

/// Spread the states of `phones` (48-set ids, contexts `sil` beyond the ends) evenly over
/// `num_frames` frames.
pub fn equal_align(
    ctx: &ContextTable,
    phones: &[u16],
    num_frames: usize,
) -> Result<Alignment, AlignError> {
    if phones.is_empty() {
        return Err(AlignError::EmptyTranscript);
    }
    let p = ctx.num_phones();
    if let Some(&phone) = phones.iter().find(|&&x| x as usize >= p) {
        return Err(AlignError::UnknownPhone {
            phone,
            num_phones: p,
        });
    }
    let sil = ctx.silence();
    let mut states: Vec<FrameState> = Vec::new();
    for (i, &c) in phones.iter().enumerate() {
        let left = if i > 0 { phones[i - 1] } else { sil };
        let right = phones.get(i + 1).copied().unwrap_or(sil);
        for s in 0..ctx.topology().states(c) as u8 {
            let leaf = tied_state(ctx, left, c, right, s)?;
            states.push(FrameState {
                leaf,
                phone: c,
                state: s,
            });
        }
    }
    let n = states.len();
    if num_frames < n {
        return Err(AlignError::TooFewFrames {
            needed: n,
            phones: phones.len(),
            frames: num_frames,
        });
    }
    let (each, more) = ((num_frames - n) / n, (num_frames - n) % n);
    let mut frames = Vec::with_capacity(num_frames);
    let mut spans = Vec::with_capacity(phones.len());
    let mut sources = Vec::with_capacity(phones.len());
    for (j, st) in states.iter().enumerate() {
        if st.state == 0 {
            spans.push(PhoneSpan {
                phone: st.phone,
                start: frames.len(),
                end: frames.len(),
            });
            sources.push(Source::Word {
                word: 0,
                position: spans.len() - 1,
            });
        }
        let len = 1 + each + usize::from(j < more);
        frames.extend(std::iter::repeat_n(*st, len));
        if let Some(span) = spans.last_mut() {
            span.end = frames.len();
        }
    }
    Ok(Alignment {
        frames,
        phones: spans,
        sources,
        score: None,
        retried: false,
    })
}
