//! From audio files to feature matrices: read, run the chain, then post-process (CMVN, deltas,
//! splicing). Utterances are processed in parallel (rayon); each gets a dither seed derived from
//! its name, so results do not depend on thread scheduling or file order.

use std::path::Path;

use ndarray::Array2;
use rayon::prelude::*;

use crate::audio::{self, ReadOptions, Waveform};
use crate::corpus::Utterance;
use crate::error::{Error, Result};
use crate::frontend::cmvn::{CmvnMode, CmvnStats};
use crate::frontend::deltas::Deltas;
use crate::frontend::splice::splice;
use crate::frontend::{Frontend, StageKind};
use crate::pipeline::Pipeline;

/// The part of `wave` (read at its own rate) that is utterance `u`: its span, or all of it.
fn cut(u: &Utterance, mut wave: Waveform) -> Result<Waveform> {
    let Some(span) = u.span else {
        return Ok(wave);
    };
    let have = wave.samples.len() as u64;
    if span.end > have || span.is_empty() {
        return Err(Error::format(
            &u.audio,
            format!(
                "utterance `{}` is samples {}..{} of this recording, which has {have}",
                u.id, span.start, span.end
            ),
        ));
    }
    wave.samples.truncate(span.end as usize);
    wave.samples.drain(..span.start as usize);
    Ok(wave)
}

/// `wave` played at the speed of a speed-perturbed copy (`sox speed`): taken as recorded at the
/// speed times its rate and resampled to its rate.
fn speed(u: &Utterance, wave: Waveform) -> Result<Waveform> {
    match u.speed {
        None | Some(1000) => Ok(wave),
        Some(milli) => {
            let rate = wave.sample_rate;
            let played = Waveform {
                sample_rate: crate::corpus::perturb::played_rate(rate, milli)
                    .map_err(|e| e.in_file(&u.audio))?,
                samples: wave.samples,
            };
            let opts = ReadOptions {
                sample_rate: Some(rate),
                resample: true,
                ..ReadOptions::default()
            };
            audio::conform(&u.audio, played, &opts)
        }
    }
}

/// Where CMVN takes its statistics from.
pub(super) enum CmvnSource<'a> {
    /// No normalisation.
    None,
    /// The utterance's own statistics.
    Utterance,
    /// Statistics computed beforehand over the utterance's set.
    Pooled(&'a CmvnStats),
}

/// A built pipeline ready to turn audio into features.
#[derive(Debug)]
pub struct Extractor {
    /// The pipeline it was built from.
    pub pipeline: Pipeline,
    /// The built chain (framing and stages).
    pub frontend: Frontend,
    pub(super) deltas: Deltas,
    /// Base seed for dither (mixed with each utterance's name).
    pub seed: u64,
    /// Global CMVN statistics stored with a trained model (mode `global`), used as they are.
    pub global_cmvn: Option<CmvnStats>,
}

impl Extractor {
    /// Build the chain and post-processing once; refuses options out of range.
    pub fn new(pipeline: &Pipeline) -> Result<Self> {
        pipeline
            .post
            .splice
            .check()
            .map_err(|e| Error::format(&pipeline.path, format!("post.splice: {e}")))?;
        Ok(Extractor {
            frontend: pipeline.frontend()?,
            deltas: Deltas::new(&pipeline.post.deltas)
                .map_err(|e| Error::format(&pipeline.path, format!("post.deltas: {e}")))?,
            pipeline: pipeline.clone(),
            seed: 0,
            global_cmvn: None,
        })
    }

    /// Stage the chain ends with.
    pub fn output_kind(&self) -> StageKind {
        self.frontend.output_kind()
    }

    /// Dimension after the chain, before post-processing.
    pub fn chain_dim(&self) -> usize {
        self.frontend.dim()
    }

    /// Dimension after post-processing (deltas, splicing).
    pub fn dim(&self) -> usize {
        let d = self.deltas.output_dim(self.chain_dim());
        d * (2 * self.pipeline.post.splice.context + 1)
    }

    /// Bytes that computing the chain on a file of `file_bytes` bytes whose header
    /// ([`crate::audio::probe`]) says `info`
    /// may hold at once, and the frames it gives: the file's bytes, its samples decoded (every
    /// channel, f32), the channel kept and, when resampled, its copy at the pipeline's rate, two
    /// blocks (a stage's input and output) of the widest stage's frames, and the output. In
    /// `f64`, so that an absurd header cannot overflow on the way to the comparison.
    pub fn file_memory(&self, info: &crate::audio::Info, file_bytes: u64) -> (f64, f64) {
        let samples = info.frames as f64;
        let rate = f64::from(self.pipeline.sample_rate);
        let kept = match info.sample_rate {
            r if r > 0 && self.pipeline.resample => samples * rate / f64::from(r),
            _ => samples,
        };
        let geometry = &self.frontend.framing.geometry;
        let frames = geometry.num_frames(kept.min(usize::MAX as f64) as usize) as f64;
        let widest = self.widest() as f64;
        let f32s = samples * info.channels as f64 + 2.0 * kept + 2.0 * frames * widest;
        let bytes = file_bytes as f64 + 4.0 * f32s + 4.0 * frames * self.dim() as f64;
        (bytes, frames)
    }

    /// The widest block of frames on the way: framing's, a stage's, or post-processing's.
    pub(super) fn widest(&self) -> usize {
        self.frontend
            .stages
            .iter()
            .map(|s| s.dim())
            .chain([self.frontend.framing.dim(), self.dim()])
            .max()
            .unwrap_or(1)
    }

    /// How to read audio for this pipeline: its channel choice, its rate, resampling on or off.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            channel: self.frontend.framing.opts.channel,
            sample_rate: Some(self.pipeline.sample_rate),
            resample: self.pipeline.resample,
        }
    }

    /// Read one audio file as the pipeline needs it (rate checked or resampled).
    pub fn read_audio(&self, path: &Path) -> Result<Waveform> {
        audio::read(path, &self.read_options())
    }

    /// Read an utterance's audio at the pipeline's rate; its own channel (a manifest column)
    /// overrides the pipeline's. The audio must be at the rate the utterance's segment times are
    /// counted in (TIMIT: 16 kHz; a manifest: its `sample_rate` column) when it has segments:
    /// labels are converted from that rate, so a wrong one would stretch them.
    pub fn read_utterance(&self, u: &Utterance) -> Result<Waveform> {
        let mut opts = self.read_options();
        opts.channel = u.channel.unwrap_or(opts.channel);
        let native = audio::read(
            &u.audio,
            &ReadOptions {
                sample_rate: None,
                ..opts.clone()
            },
        )?;
        // Without segments nothing is counted at the utterance's rate: any rate will do.
        let timed = u.has_alignment() || !u.words.is_empty();
        if timed && native.sample_rate != u.sample_rate {
            return Err(Error::format(
                &u.audio,
                format!(
                    "the audio is at {} Hz but utterance `{}` counts its segment times at {} Hz \
                     (a manifest's `sample_rate` column, 16000 when absent): give the audio's rate",
                    native.sample_rate, u.id, u.sample_rate
                ),
            ));
        }
        let wave = speed(u, cut(u, native)?)?;
        audio::conform(&u.audio, wave, &opts)
    }

    /// The feature-cache key of an utterance's chain output: the chain hash, which covers the
    /// pipeline's channel, and the utterance's own channel where that differs.
    /// With dither on, the utterance id too: it seeds the noise, and the cache is keyed on the
    /// audio's bytes, which two utterances may share.
    pub fn cache_key(&self, u: &Utterance) -> String {
        let mut key = self.pipeline.chain_hash();
        if let Some(c) = u
            .channel
            .filter(|&c| c != self.frontend.framing.opts.channel)
        {
            key += &format!("-channel-{c}");
        }
        // Utterances cut from one recording share its bytes, which the cache hashes.
        if let Some(s) = u.span {
            key += &format!("-span-{}-{}", s.start, s.end);
        }
        if let Some(m) = u.speed {
            key += &format!("-speed-{m}");
        }
        if self.frontend.framing.opts.dither != 0.0 {
            key += &format!("-dither-{}", &blake3::hash(u.id.as_bytes()).to_hex()[..16]);
        }
        key
    }

    /// Run the chain on one waveform; `name` (utterance id or file name) seeds the dither.
    pub fn chain(&self, wav: &Waveform, name: &str) -> Result<Array2<f32>> {
        Ok(self.frontend.compute(wav, self.utterance_seed(name))?.data)
    }

    /// The dither seed of the utterance called `name`: the base seed mixed with the name, so an
    /// utterance's dither does not depend on the order utterances are processed in.
    pub fn utterance_seed(&self, name: &str) -> u64 {
        self.seed
            ^ u64::from_le_bytes(
                blake3::hash(name.as_bytes()).as_bytes()[..8]
                    .try_into()
                    .expect("8 bytes"),
            )
    }

    /// Read and run the chain on one file, naming the file in any error.
    pub fn chain_file(&self, path: &Path) -> Result<Array2<f32>> {
        let wav = self.read_audio(path)?;
        self.chain_read(&wav, &path.to_string_lossy(), path)
    }

    /// [`chain`](Self::chain) on audio read from `path`, naming that file in any error.
    pub fn chain_read(&self, wav: &Waveform, name: &str, path: &Path) -> Result<Array2<f32>> {
        self.chain(wav, name).map_err(|e| e.in_file(path))
    }

    /// Post-process one utterance: CMVN, then deltas, then splicing. `pooled` is the statistics
    /// of the set the pipeline's `post.cmvn` mode pools over (the speaker's utterances in the
    /// corpus, or a training set), computed beforehand: never the other utterances of a call,
    /// so an utterance's features are the same alone or in a batch. Mode `utterance` uses the
    /// utterance's own statistics and `none` nothing; both ignore `pooled`.
    pub fn post_one(&self, mut x: Array2<f32>, pooled: Option<&CmvnStats>) -> Result<Array2<f32>> {
        let norm_vars = self.pipeline.post.cmvn.norm_vars;
        match self.cmvn_source(pooled, x.ncols())? {
            CmvnSource::None => {}
            CmvnSource::Utterance => {
                let mut st = CmvnStats::new(x.ncols());
                st.accumulate(x.view());
                st.apply(&mut x, norm_vars);
            }
            CmvnSource::Pooled(st) => st.apply(&mut x, norm_vars),
        }
        if self.pipeline.post.deltas.order > 0 {
            x = self.deltas.apply(x.view());
        }
        let context = self.pipeline.post.splice.context;
        Ok(if context > 0 {
            splice(x.view(), context)
        } else {
            x
        })
    }

    /// Where `post.cmvn` takes its statistics from for `dim`-wide frames, given the pooled
    /// statistics of the utterance's set (see [`post_one`](Self::post_one)); refuses pooled
    /// statistics of another width, and pooled modes without statistics.
    pub(super) fn cmvn_source<'a>(
        &self,
        pooled: Option<&'a CmvnStats>,
        dim: usize,
    ) -> Result<CmvnSource<'a>> {
        let cmvn = &self.pipeline.post.cmvn;
        match (cmvn.mode, pooled) {
            (CmvnMode::None, _) => Ok(CmvnSource::None),
            (CmvnMode::Utterance, _) => Ok(CmvnSource::Utterance),
            (CmvnMode::Speaker | CmvnMode::Global, Some(st)) => {
                if st.sum.len() != dim {
                    return Err(Error::format(
                        &self.pipeline.path,
                        format!(
                            "post.cmvn: statistics of {} dimensions for features of {dim}",
                            st.sum.len(),
                        ),
                    ));
                }
                Ok(CmvnSource::Pooled(st))
            }
            (mode @ (CmvnMode::Speaker | CmvnMode::Global), None) => Err(Error::format(
                &self.pipeline.path,
                format!(
                    "post.cmvn mode `{}` pools {}: these features have no such set (give a \
                     corpus, --corpus; from Python, compute_many with speakers), or use mode \
                     utterance",
                    format!("{mode:?}").to_lowercase(),
                    mode.scope()
                ),
            )),
        }
    }

    /// [`post_one`](Self::post_one) of every utterance, in parallel; `pooled[i]` (when given) is
    /// the statistics for `feats[i]`.
    pub fn post(
        &self,
        feats: Vec<Array2<f32>>,
        pooled: Option<&[Option<CmvnStats>]>,
    ) -> Result<Vec<Array2<f32>>> {
        if let Some(p) = pooled
            && p.len() != feats.len()
        {
            return Err(Error::invalid(format!(
                "{} CMVN statistics for {} utterances",
                p.len(),
                feats.len()
            )));
        }
        feats
            .into_par_iter()
            .enumerate()
            .map(|(i, x)| self.post_one(x, pooled.and_then(|p| p[i].as_ref())))
            .collect()
    }

    /// Chain + post-processing for a list of files, in parallel, in input order. Files have no
    /// speaker and no training set: CMVN mode `speaker` is refused, and `global` unless this
    /// extractor holds a trained model's stored statistics (a corpus defines the other sets).
    pub fn files(
        &self,
        paths: &[impl AsRef<Path> + Sync],
        progress: impl Fn() + Sync,
    ) -> Result<Vec<Array2<f32>>> {
        let feats = paths
            .par_iter()
            .map(|p| {
                let r = self.chain_file(p.as_ref());
                progress();
                r
            })
            .collect::<Result<Vec<_>>>()?;
        let pooled = self
            .global_cmvn
            .as_ref()
            .map(|g| vec![Some(g.clone()); feats.len()]);
        self.post(feats, pooled.as_deref())
    }
}
