//! Pipelines as YAML: the schema (serde), validation with file and line in every error, building
//! a [`Frontend`], and cutting a chain after a stage (`--until`, `--from`).
//!
//! ```yaml
//! name: kaldi-mfcc
//! sample_rate: 16000
//! stages:
//!   - waveform: { frame_length_ms: 25, frame_shift_ms: 10, window: povey }
//!   - dft: {}
//!   - spectrogram: { power: true }
//!   - filterbank: { num_bins: 23 }
//!   - log: {}
//!   - dct: { num_ceps: 13, cepstral_lifter: 22 }
//! post:
//!   deltas: { order: 2 }
//! ```

pub mod classifier;
pub mod extractor;
pub mod hmm;
pub mod online;
pub mod stage_options;
pub mod stream;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::error::{Error, Result};
use crate::frontend::cmvn::CmvnOptions;
use crate::frontend::dct::{Dct, DctOptions};
use crate::frontend::deltas::DeltaOptions;
use crate::frontend::dft::{Dft, DftOptions};
use crate::frontend::filterbank::{Filterbank, FilterbankOptions};
use crate::frontend::framing::{EnergyMode, Framing, FramingOptions};
use crate::frontend::log::{Log, LogOptions};
use crate::frontend::spectrogram::{Spectrogram, SpectrogramOptions};
use crate::frontend::splice::SpliceOptions;
use crate::frontend::{Frontend, Stage, StageKind};
use crate::io::yaml;
use crate::model::ModelKind;
use crate::options::{Describe, OptionDoc};
use crate::pipeline::classifier::ClassifierConfig;
use crate::pipeline::hmm::{HmmFile, HmmSection};

/// One entry of `stages:`; the key is the stage name, the value its options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", deny_unknown_fields)]
pub enum StageConfig {
    /// Framing: waveform to windowed frames.
    Waveform(FramingOptions),
    /// Real DFT of each frame.
    Dft(DftOptions),
    /// Power or magnitude spectrum.
    Spectrogram(SpectrogramOptions),
    /// Mel filter bank.
    Filterbank(FilterbankOptions),
    /// Natural log with a floor.
    Log(LogOptions),
    /// DCT-II to cepstra (MFCC); also accepted as `mfcc`.
    #[serde(alias = "mfcc")]
    Dct(DctOptions),
}

impl StageConfig {
    /// The stage this entry configures.
    pub fn kind(&self) -> StageKind {
        match self {
            StageConfig::Waveform(_) => StageKind::Waveform,
            StageConfig::Dft(_) => StageKind::Dft,
            StageConfig::Spectrogram(_) => StageKind::Spectrogram,
            StageConfig::Filterbank(_) => StageKind::Filterbank,
            StageConfig::Log(_) => StageKind::Log,
            StageConfig::Dct(_) => StageKind::Dct,
        }
    }

    /// The energy this stage needs from framing if it ends the chain.
    fn energy_mode(&self) -> EnergyMode {
        match self {
            StageConfig::Log(o) => o.energy_mode(),
            StageConfig::Dct(o) => o.energy_mode(),
            _ => EnergyMode::None,
        }
    }
}

/// The stages that may directly precede each stage: this table is the whole order rule.
pub fn allowed_predecessors(kind: StageKind) -> &'static [StageKind] {
    use StageKind::*;
    match kind {
        Waveform => &[],
        Dft => &[Waveform],
        Spectrogram => &[Dft],
        Filterbank => &[Spectrogram],
        Log => &[Spectrogram, Filterbank],
        Dct => &[Log],
    }
}

/// Options of every stage with help and defaults, for `asrpipe stages`.
pub fn stage_docs() -> Vec<(StageKind, Vec<OptionDoc>)> {
    vec![
        (StageKind::Waveform, FramingOptions::option_docs()),
        (StageKind::Dft, DftOptions::option_docs()),
        (StageKind::Spectrogram, SpectrogramOptions::option_docs()),
        (StageKind::Filterbank, FilterbankOptions::option_docs()),
        (StageKind::Log, LogOptions::option_docs()),
        (StageKind::Dct, DctOptions::option_docs()),
    ]
}

/// Post-processing applied to the chain's output, in this order: CMVN, deltas, splicing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PostConfig {
    /// Mean (and variance) normalisation.
    pub cmvn: CmvnOptions,
    /// Delta and delta-delta features.
    pub deltas: DeltaOptions,
    /// Frame splicing.
    pub splice: SpliceOptions,
}

/// Options of every post-processing step, for `asrpipe stages`.
pub fn post_docs() -> Vec<(&'static str, Vec<OptionDoc>)> {
    vec![
        ("cmvn", CmvnOptions::option_docs()),
        ("deltas", DeltaOptions::option_docs()),
        ("splice", SpliceOptions::option_docs()),
    ]
}

fn default_sample_rate() -> u32 {
    crate::audio::DEFAULT_RATE
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PipelineFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default = "default_sample_rate")]
    sample_rate: u32,
    #[serde(default)]
    resample: bool,
    stages: Vec<Spanned<StageConfig>>,
    #[serde(default)]
    post: PostFile,
    #[serde(default)]
    classifier: Option<Spanned<ClassifierConfig>>,
    #[serde(default)]
    hmm: Option<Spanned<HmmFile>>,
}

/// `post:` as written, with each step's line for errors.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct PostFile {
    cmvn: Option<Spanned<CmvnOptions>>,
    deltas: Option<Spanned<DeltaOptions>>,
    splice: Option<Spanned<SpliceOptions>>,
}

impl PostFile {
    /// The options, and the lines of `deltas` and `splice` (0 when absent).
    fn split(self) -> (PostConfig, usize, usize) {
        fn line<T>(s: &Option<Spanned<T>>) -> usize {
            s.as_ref().map_or(0, |s| s.referenced.line() as usize)
        }
        let lines = (line(&self.deltas), line(&self.splice));
        let post = PostConfig {
            cmvn: self.cmvn.map(|s| s.value).unwrap_or_default(),
            deltas: self.deltas.map(|s| s.value).unwrap_or_default(),
            splice: self.splice.map(|s| s.value).unwrap_or_default(),
        };
        (post, lines.0, lines.1)
    }
}

/// A validated pipeline: stages in order, each with the YAML line it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// File the pipeline was read from (named in errors).
    path: PathBuf,
    /// Short name (`name:`), used in reports and `about.json`.
    pub name: String,
    /// One line saying what the pipeline computes (`description:`).
    pub description: String,
    /// Rate the chain is built for; audio at another rate is an error unless `resample`.
    pub sample_rate: u32,
    /// Resample audio at another rate to `sample_rate` instead of refusing it.
    pub resample: bool,
    /// The stages in chain order, starting with `waveform`.
    pub stages: Vec<StageConfig>,
    /// 1-based YAML line of each stage (0 when unknown).
    lines: Vec<usize>,
    /// Post-processing after the chain.
    pub post: PostConfig,
    /// The learned box, if the file has a `classifier:` section.
    pub classifier: Option<ClassifierConfig>,
    /// 1-based YAML line of the `classifier:` section (0 when absent).
    classifier_line: usize,
    /// The phone HMMs around the classifier: topology, decoding, alignment (`hmm:`).
    pub hmm: HmmSection,
}

/// The built-in Kaldi MFCC pipeline, used when no pipeline is given.
pub const KALDI_MFCC_YAML: &str = include_str!("../../pipelines/kaldi-mfcc.yaml");

/// The built-in Kaldi log mel filter bank pipeline (23 bins).
pub const KALDI_FBANK_YAML: &str = include_str!("../../pipelines/kaldi-fbank.yaml");

/// The built-in production line with its GMM (MFCC + deltas, speaker CMN); also the features
/// that grow the state-tying tree.
pub const KALDI_MFCC_GMM_YAML: &str = include_str!("../../pipelines/kaldi-mfcc-gmm.yaml");

impl Pipeline {
    /// The default GMM pipeline, `pipelines/kaldi-mfcc-gmm.yaml`.
    pub fn kaldi_mfcc_gmm() -> Pipeline {
        Pipeline::parse(
            KALDI_MFCC_GMM_YAML,
            Path::new("pipelines/kaldi-mfcc-gmm.yaml"),
        )
        .expect("the built-in pipeline is valid")
    }

    /// Read and validate a pipeline file.
    pub fn load(path: &Path) -> Result<Pipeline> {
        let text = crate::io::yaml::read_text(path)?;
        Pipeline::parse(&text, path)
    }

    /// The built-in pipeline for a classifier family: the production line's MFCC + deltas for a
    /// GMM (also when none is asked for), plain Kaldi MFCC for a DNN (it splices frames itself).
    pub fn default_for(kind: Option<ModelKind>) -> Pipeline {
        match kind {
            Some(ModelKind::Dnn) => Pipeline::kaldi_mfcc(),
            Some(ModelKind::Gmm) | None => Pipeline::kaldi_mfcc_gmm(),
        }
    }

    /// The default pipeline (Kaldi MFCC, 13 coefficients).
    pub fn kaldi_mfcc() -> Pipeline {
        Pipeline::parse(KALDI_MFCC_YAML, Path::new("pipelines/kaldi-mfcc.yaml"))
            .expect("the built-in pipeline is valid")
    }

    /// Kaldi's log mel filter bank (`pipelines/kaldi-fbank.yaml`, 23 bins).
    pub fn kaldi_fbank() -> Pipeline {
        Pipeline::parse(KALDI_FBANK_YAML, Path::new("pipelines/kaldi-fbank.yaml"))
            .expect("the built-in pipeline is valid")
    }

    /// Parse and validate YAML text; `path` is only used to name errors.
    pub fn parse(text: &str, path: &Path) -> Result<Pipeline> {
        let file: PipelineFile = serde_saphyr::from_str_with_options(text, yaml::options())
            .map_err(|e| yaml::error(&e, path))?;
        if file.stages.is_empty() {
            return Err(Error::format(
                path,
                "`stages` is empty: a pipeline starts with `waveform`",
            ));
        }
        if file.sample_rate < 1000 {
            return Err(Error::format(
                path,
                format!(
                    "sample_rate {} is too low (at least 1000 Hz)",
                    file.sample_rate
                ),
            ));
        }
        let lines: Vec<usize> = file
            .stages
            .iter()
            .map(|s| s.referenced.line() as usize)
            .collect();
        let stages: Vec<StageConfig> = file.stages.into_iter().map(|s| s.value).collect();
        let (post, deltas_line, splice_line) = file.post.split();
        let hmm = match file.hmm {
            None => HmmSection::default(),
            Some(h) => h
                .value
                .resolve(h.referenced.line() as usize)
                .map_err(|(line, prefix, e)| e.at(path, line, prefix))?,
        };
        let pipeline = Pipeline {
            path: path.to_path_buf(),
            name: file.name.unwrap_or_else(|| {
                path.file_stem()
                    .map_or("pipeline".into(), |s| s.to_string_lossy().into_owned())
            }),
            description: file.description.unwrap_or_default(),
            sample_rate: file.sample_rate,
            resample: file.resample,
            stages,
            lines,
            post,
            classifier_line: file
                .classifier
                .as_ref()
                .map_or(0, |c| c.referenced.line() as usize),
            classifier: file.classifier.map(|c| c.value),
            hmm,
        };
        pipeline.check_order()?;
        pipeline.check_classifier()?;
        // Build once so that bad values (too many mel bins, ...) are reported at load time.
        let chain_dim = pipeline.frontend()?.dim();
        let at = |line: usize, step: &str, e: Error| e.at(path, line, &format!("post.{step}: "));
        let (deltas, splice) = (&pipeline.post.deltas, &pipeline.post.splice);
        deltas.check().map_err(|e| at(deltas_line, "deltas", e))?;
        let widened = deltas.order > 0 || splice.context > 0;
        splice
            .output_dim(chain_dim * (deltas.order + 1), widened)
            .map_err(|e| match splice_line {
                0 => at(deltas_line, "deltas", e),
                line => at(line, "splice", e),
            })?;
        pipeline
            .check_classifier_memory()
            .map_err(|e| e.at(path, pipeline.classifier_line, "classifier: "))?;
        Ok(pipeline)
    }

    fn check_order(&self) -> Result<()> {
        let order = "waveform, dft, spectrogram, [filterbank], log, dct";
        let mut prev: Option<StageKind> = None;
        for (stage, &line) in self.stages.iter().zip(&self.lines) {
            let kind = stage.kind();
            let allowed = allowed_predecessors(kind);
            let ok = match prev {
                None => allowed.is_empty(),
                Some(p) => allowed.contains(&p),
            };
            if !ok {
                let msg = match (prev, allowed) {
                    (None, _) => format!("a pipeline starts with `waveform`, not `{kind}`"),
                    (Some(p), []) => {
                        format!("`{kind}` can only be the first stage, not after `{p}`")
                    }
                    (Some(p), a) => {
                        let names: Vec<&str> = a.iter().map(|k| k.name()).collect();
                        format!(
                            "`{kind}` cannot follow `{p}`: it needs the output of {} (stage order: {order})",
                            names.join(" or ")
                        )
                    }
                };
                return Err(Error::at_line(&self.path, line, msg));
            }
            prev = Some(kind);
        }
        Ok(())
    }

    fn check_classifier(&self) -> Result<()> {
        let Some(c) = &self.classifier else {
            return Ok(());
        };
        let at = |e: Error| e.at(&self.path, self.classifier_line, "classifier: ");
        if let Some(from) = c.from {
            self.check_cut(from).map_err(at)?;
        }
        c.validate().map_err(at)
    }

    /// The pipeline as YAML that [`Pipeline::parse`] reads back to an equal pipeline (stored
    /// beside trained models, so a model always knows the features it was trained on).
    pub fn to_yaml(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            name: &'a str,
            description: &'a str,
            sample_rate: u32,
            resample: bool,
            stages: &'a [StageConfig],
            post: &'a PostConfig,
            #[serde(skip_serializing_if = "Option::is_none")]
            classifier: Option<&'a ClassifierConfig>,
            #[serde(skip_serializing_if = "HmmSection::is_default")]
            hmm: &'a HmmSection,
        }
        serde_saphyr::to_string(&Out {
            name: &self.name,
            description: &self.description,
            sample_rate: self.sample_rate,
            resample: self.resample,
            stages: &self.stages,
            post: &self.post,
            classifier: self.classifier.as_ref(),
            hmm: &self.hmm,
        })
        .expect("pipelines serialise")
    }

    /// The file the pipeline was read from (named in errors).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Kinds of the stages, in order.
    pub fn kinds(&self) -> Vec<StageKind> {
        self.stages.iter().map(StageConfig::kind).collect()
    }

    /// The kind of the last stage.
    pub fn output_kind(&self) -> StageKind {
        self.stages
            .last()
            .map_or(StageKind::Waveform, StageConfig::kind)
    }

    /// A copy of the chain ending after `kind` (`--until`, `--from`).
    pub fn until(&self, kind: StageKind) -> Result<Pipeline> {
        let Some(pos) = self.stages.iter().position(|s| s.kind() == kind) else {
            let names: Vec<&str> = self.kinds().iter().map(|k| k.name()).collect();
            return Err(Error::format(
                &self.path,
                format!(
                    "the pipeline has no `{kind}` stage to stop at (it has: {})",
                    names.join(", ")
                ),
            ));
        };
        let mut cut = self.clone();
        cut.stages.truncate(pos + 1);
        cut.lines.truncate(pos + 1);
        Ok(cut)
    }

    /// A copy without post-processing (`post:`): the chain's frames as they are, which is what
    /// the online extractor gives.
    pub fn without_post(&self) -> Pipeline {
        Pipeline {
            post: PostConfig::default(),
            ..self.clone()
        }
    }

    /// The post-processing steps this pipeline applies, as written in YAML (`cmvn: utterance`,
    /// `deltas: order 2`, `splice: context 5`); empty when it applies none.
    pub fn post_steps(&self) -> Vec<String> {
        let p = &self.post;
        let mut steps = Vec::new();
        if p.cmvn.mode != crate::frontend::cmvn::CmvnMode::None {
            steps.push(format!("cmvn: {:?}", p.cmvn.mode).to_lowercase());
        }
        if p.deltas.order > 0 {
            steps.push(format!("deltas: order {}", p.deltas.order));
        }
        if p.splice.context > 0 {
            steps.push(format!("splice: context {}", p.splice.context));
        }
        steps
    }

    /// Build the chain: every table (window, FFT plan, mel weights, DCT) is made here, once.
    pub fn frontend(&self) -> Result<Frontend> {
        let energy = self
            .stages
            .last()
            .map_or(EnergyMode::None, StageConfig::energy_mode);
        let at = |i: usize, e: Error| e.at(&self.path, self.lines[i], "");
        for (i, stage) in self.stages.iter().enumerate() {
            let uses_energy = stage.energy_mode() != EnergyMode::None;
            if uses_energy && i + 1 != self.stages.len() {
                return Err(Error::at_line(
                    &self.path,
                    self.lines[i],
                    format!(
                        "use_energy on `{}` only applies when it is the last stage",
                        stage.kind()
                    ),
                ));
            }
        }
        let StageConfig::Waveform(framing_opts) = &self.stages[0] else {
            return Err(Error::at_line(
                &self.path,
                self.lines[0],
                "a pipeline starts with `waveform`",
            ));
        };
        let framing = Framing::new(framing_opts, self.sample_rate, energy).map_err(|e| at(0, e))?;
        let mut dim = framing.dim();
        let mut stages: Vec<Box<dyn Stage>> = Vec::with_capacity(self.stages.len() - 1);
        for (i, cfg) in self.stages.iter().enumerate().skip(1) {
            let stage: Box<dyn Stage> = match cfg {
                StageConfig::Waveform(_) => unreachable!("order was checked"),
                StageConfig::Dft(o) => Box::new(Dft::new(o, dim).map_err(|e| at(i, e))?),
                StageConfig::Spectrogram(o) => Box::new(Spectrogram::new(o, dim)),
                StageConfig::Filterbank(o) => {
                    Box::new(Filterbank::new(o, self.sample_rate, dim).map_err(|e| at(i, e))?)
                }
                StageConfig::Log(o) => Box::new(Log::new(o, dim).map_err(|e| at(i, e))?),
                StageConfig::Dct(o) => Box::new(Dct::new(o, dim).map_err(|e| at(i, e))?),
            };
            dim = stage.dim();
            stages.push(stage);
        }
        Ok(Frontend::new(framing, stages))
    }

    /// Stable identity of the chain (stages, options, rate) for caches: same hash, same features.
    pub fn chain_hash(&self) -> String {
        let json = serde_json::to_string(&(&self.stages, self.sample_rate))
            .expect("stage options serialise");
        blake3::hash(json.as_bytes()).to_hex()[..16].to_string()
    }
}
