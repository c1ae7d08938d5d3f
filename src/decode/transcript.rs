//! From a corpus alignment (61-set segments) to what the HMM layer reads: the 48-set phone
//! sequence, `q` deleted, as Kaldi's TIMIT data preparation writes it (`timit_norm_trans.pl
//! -from 60 -to 48`). It is the transcript to align, the LM's training text and the PER
//! reference. Nothing is merged: `pau` before `h#` stays `sil sil`.

use std::path::Path;

use crate::corpus::{PhoneSet, Segment};
use crate::error::{Error, Result};

/// 48-set ids of `segments` (61-set labels) in order, `q` deleted; `file` names them in errors.
pub fn phones48(segments: &[Segment], set: &PhoneSet, file: &Path) -> Result<Vec<u16>> {
    let mut out = Vec::with_capacity(segments.len());
    for s in segments {
        let id61 = set.check_label(&s.label, file, s.line)?;
        if let Some(p) = set.fold_61_to_48(id61) {
            out.push(p);
        }
    }
    Ok(out)
}

/// 48-set ids of phone names (`sil`, `cl`, ...), e.g. a hand-written transcript.
pub fn ids48<S: AsRef<str>>(names: &[S], set: &PhoneSet) -> Result<Vec<u16>> {
    names
        .iter()
        .map(|n| {
            let n = n.as_ref();
            set.p48.id(n).ok_or_else(|| {
                Error::invalid(format!(
                    "unknown phone `{n}` (not one of the {} phones of the 48-phone set)",
                    set.p48.len()
                ))
            })
        })
        .collect()
}
