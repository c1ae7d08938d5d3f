//! Features computed elsewhere (`asrpipe features --list ... --scp`, on a cluster) as a run's
//! input: `train`/`eval --features feats.scp`. They stand for the features of one pipeline (the
//! run's, given with `--pipeline`): wherever a run loads that pipeline's features (same chain, same
//! post-processing) it reads them from the script file instead of computing them, and the labels
//! still come from the corpus. Each utterance's matrix is checked against what the pipeline would
//! make of its audio: the feature dimension, and the frame count from the audio's length (read
//! from the corpus, or the audio file's header; the samples are not read).
//!
//! Post-processing pools statistics over the utterances the features were computed with: for
//! speaker CMVN that is each speaker (as a run pools it); for global CMVN, the whole list rather
//! than a run's split.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::audio;
use crate::corpus::{PhoneSet, Utterance, frame_labels_at};
use crate::error::{Error, Result};
use crate::io::scp::{ScpEntry, ScpReader, read_scp};
use crate::pipeline::Pipeline;
use crate::pipeline::extractor::Extractor;
use crate::train::dataset::{FrameSet, UttFrames};

/// A script file of features, standing for one pipeline's.
#[derive(Debug)]
pub struct Precomputed {
    scp: PathBuf,
    entries: HashMap<String, ScpEntry>,
    pipeline: Pipeline,
}

impl Precomputed {
    /// Read the script file `scp` (not the archives yet): features of `pipeline`.
    pub fn open(scp: &Path, pipeline: &Pipeline) -> Result<Precomputed> {
        let entries: HashMap<String, ScpEntry> = read_scp(scp)?
            .into_iter()
            .map(|e| (e.key.clone(), e))
            .collect();
        if entries.is_empty() {
            return Err(Error::format(scp, "the script file lists no features"));
        }
        Ok(Precomputed {
            scp: scp.to_path_buf(),
            entries,
            pipeline: pipeline.clone(),
        })
    }

    /// The script file.
    pub fn path(&self) -> &Path {
        &self.scp
    }

    /// True when `extractor` computes the features these stand for (same chain and
    /// post-processing).
    pub fn serves(&self, extractor: &Extractor) -> bool {
        extractor.pipeline.chain_hash() == self.pipeline.chain_hash()
            && extractor.pipeline.post == self.pipeline.post
            && extractor.pipeline.sample_rate == self.pipeline.sample_rate
    }

    /// Features of `utts` from the script file and their labels from the corpus, as
    /// [`dataset::load`](crate::train::dataset::load) would compute them through `extractor`.
    pub fn load(
        &self,
        utts: &[&Utterance],
        extractor: &Extractor,
        progress: impl Fn() + Sync,
    ) -> Result<FrameSet> {
        let phones = PhoneSet::timit();
        let geom = extractor.frontend.framing.geometry;
        let dim = extractor.dim();
        let rate = extractor.pipeline.sample_rate;
        let loaded: Vec<UttFrames> = utts
            .par_iter()
            .map(|u| {
                let e = self.entries.get(&u.id).ok_or_else(|| {
                    Error::format(
                        &self.scp,
                        format!(
                            "no features for utterance `{}` of the corpus (the script file has \
                             {} entries; compute features for the whole corpus, or a corpus \
                             that matches them)",
                            u.id,
                            self.entries.len()
                        ),
                    )
                })?;
                let feats = ScpReader::new(&self.scp).read(e)?;
                let at =
                    |msg: String| Error::at_line(&self.scp, e.line, format!("`{}`: {msg}", u.id));
                if feats.ncols() != dim {
                    return Err(at(format!(
                        "{}-dimensional features, but pipeline `{}` makes {dim} (after \
                         post-processing): were they computed with another pipeline?",
                        feats.ncols(),
                        extractor.pipeline.name
                    )));
                }
                let native = utterance_samples(u)?;
                let num_samples = match u.sample_rate {
                    r if r == rate => native,
                    r if extractor.pipeline.resample => audio::resampled_len(native, r, rate),
                    r => {
                        return Err(Error::RateMismatch {
                            expected: rate,
                            got: r,
                        }
                        .in_file(&u.audio));
                    }
                };
                let labels = frame_labels_at(u, num_samples, &geom, rate, phones)?;
                if labels.frames.len() != feats.nrows() {
                    return Err(at(format!(
                        "{} frames, but its audio ({num_samples} samples at {rate} Hz) makes {} \
                         with pipeline `{}`'s framing: were they computed from other audio or \
                         another pipeline?",
                        feats.nrows(),
                        labels.frames.len(),
                        extractor.pipeline.name
                    )));
                }
                progress();
                Ok(UttFrames {
                    id: u.id.clone(),
                    speaker: u.speaker.clone(),
                    sentence: u.sentence.clone(),
                    feats,
                    labels: labels.frames,
                    num_samples,
                    sample_rate: rate,
                })
            })
            .collect::<Result<_>>()?;
        Ok(FrameSet { utts: loaded, dim })
    }
}

/// Samples of `u` at its own rate: the corpus's count, else the audio header's (its span, if cut).
fn utterance_samples(u: &Utterance) -> Result<u64> {
    if let Some(n) = u.num_samples {
        return Ok(n);
    }
    if let Some(s) = u.span {
        return Ok(s.len());
    }
    Ok(audio::probe(&u.audio)?.frames)
}
