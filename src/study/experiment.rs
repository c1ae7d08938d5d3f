//! Experiments: a grid of runs defined in YAML, trained and scored on one corpus with shared
//! tied-state targets, then tabulated. Finished runs are not redone: a run whose directory holds
//! `results.json`, the same `spec.yaml` and the same `provenance.json` (corpus content, split,
//! targets, asrpipe version: see [`crate::train::provenance`]) is read back instead of retrained.
//!
//! ```yaml
//! name: why-deep
//! states: { tied: 500 }
//! defaults: { dnn: { epochs: 10 } }       # merged under every run's dnn/gmm section
//! runs:                                     # production line vs learned suffixes
//!   - { name: gmm-mfcc, pipeline: kaldi-mfcc-gmm.yaml }
//!   - { name: dnn-log, pipeline: kaldi-mfcc.yaml, from: log, dnn: { hidden: 4x512 } }
//! depth:                                    # deep vs shallow at equal parameters
//!   { pipeline: kaldi-fbank.yaml, from: log, width: 512, layers: [1, 2, 4], matched: true }
//! hidden: { run: dnn-log, sentence: sa1, layers: [0, 1, 2, 4] }
//! filters: { run: dnn-spectrogram }
//! alignment: { run: gmm-mfcc }             # forced alignment of the test speakers, one figure
//! ```

use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::corpus::Utterance;
use crate::error::{Error, Result};
use crate::frontend::StageKind;
use crate::model::ModelKind;
use crate::model::dnn::{DnnPatch, HiddenSpec};
use crate::model::gmm::GmmPatch;
use crate::model::tree::StatesConfig;
use crate::pipeline::Pipeline;
use crate::pipeline::classifier::Overrides;
use crate::study::hidden::HiddenOptions;
use crate::train::provenance::{self, Provenance};
use crate::train::targets::Targets;
use crate::train::{self as run, Env, RunResult, Trained};

/// One run as written in the experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    /// Run name, unique in the experiment (its directory under `runs/`).
    pub name: String,
    /// Pipeline file, relative to the experiment file.
    pub pipeline: PathBuf,
    /// Cut the pipeline's chain at this stage (`--from`).
    #[serde(default)]
    pub from: Option<StageKind>,
    /// GMM settings over the pipeline's and the experiment's defaults.
    #[serde(default)]
    pub gmm: Option<GmmPatch>,
    /// DNN settings over the pipeline's and the experiment's defaults.
    #[serde(default)]
    pub dnn: Option<DnnPatch>,
    /// Size a one-hidden-layer DNN to this net's parameter count.
    #[serde(default)]
    pub match_params: Option<HiddenSpec>,
    /// Train once per seed (over the experiment's `seeds`).
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
}

/// Deep vs shallow: `layers` hidden layers of `width`, and (if `matched`) for each a single
/// hidden layer with the same parameter count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthGrid {
    /// Pipeline file, relative to the experiment file.
    pub pipeline: PathBuf,
    /// Cut the pipeline's chain at this stage.
    #[serde(default)]
    pub from: Option<StageKind>,
    /// Units per hidden layer of the deep nets.
    pub width: usize,
    /// Hidden-layer counts, one deep run each.
    pub layers: Vec<usize>,
    /// Also run a one-hidden-layer net of equal parameter count for each depth (default true).
    #[serde(default = "yes")]
    pub matched: bool,
    /// DNN settings for every run of the grid.
    #[serde(default)]
    pub dnn: DnnPatch,
    /// Widths of "much wider" one-hidden-layer nets (far more parameters than the deep ones),
    /// one run each.
    #[serde(default)]
    pub wide: Vec<usize>,
    /// Train every run of the grid once per seed (over the experiment's `seeds`).
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
}

/// Learning curves: one deep net and its matched one-hidden-layer net, each trained on shares
/// of the training speakers (whole speakers, drawn with the run's seed, genders in proportion).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurveGrid {
    /// Pipeline file, relative to the experiment file.
    pub pipeline: PathBuf,
    /// Cut the pipeline's chain at this stage.
    #[serde(default)]
    pub from: Option<StageKind>,
    /// Units per hidden layer of the deep net.
    pub width: usize,
    /// Hidden layers of the deep net (the shallow one has one, of equal parameter count).
    pub layers: usize,
    /// Shares of the training speakers, each in (0, 1].
    pub fractions: Vec<f64>,
    /// DNN settings for every run of the curves.
    #[serde(default)]
    pub dnn: DnnPatch,
    /// Train every point once per seed (over the experiment's `seeds`).
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
}

fn yes() -> bool {
    true
}

/// Hidden layers by speaker: which run's DNN, which sentence, which layers (0 = the input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenPlot {
    /// Name of the run whose DNN is analysed.
    pub run: String,
    /// Sentences said by several speakers: the first is plotted, all are scored (default: TIMIT's
    /// sa1, sa2 where the corpus has them, else the two said by the most speakers).
    #[serde(default)]
    pub sentences: Option<Vec<String>>,
    /// Layers to show: 0 = the input, 1.. = hidden layers.
    #[serde(default)]
    pub layers: Option<Vec<usize>>,
    /// Neighbours of the k-NN scores.
    #[serde(default)]
    pub k: Option<usize>,
    /// t-SNE perplexity.
    #[serde(default)]
    pub perplexity: Option<f32>,
    /// Speaker k-NN candidates only of the frame's own phone (default true).
    #[serde(default)]
    pub same_phone: Option<bool>,
    /// Further runs analysed the same way (e.g. one fed globally normalised input).
    #[serde(default)]
    pub runs: Vec<String>,
}

impl HiddenPlot {
    /// The analysis settings: what the section gives, defaults for the rest.
    pub fn options(&self) -> HiddenOptions {
        let mut o = HiddenOptions {
            sentences: self.sentences.clone(),
            ..HiddenOptions::default()
        };
        if let Some(l) = &self.layers {
            o.layers = l.clone();
        }
        if let Some(k) = self.k {
            o.k = k;
        }
        if let Some(p) = self.perplexity {
            o.perplexity = p;
        }
        if let Some(b) = self.same_phone {
            o.same_phone = b;
        }
        o
    }
}

/// Vowel frames per layer beside the F1/F2 chart, with a vowel-identification score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VowelPlot {
    /// Name of the run whose DNN is analysed.
    pub run: String,
    /// Layers to show: 0 = the input, 1.. = hidden layers.
    #[serde(default)]
    pub layers: Option<Vec<usize>>,
}

/// First-layer filters of a DNN fed the spectrogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterPlot {
    /// Name of the run whose DNN is plotted (it must read the spectrogram, or have a learned
    /// front end).
    pub run: String,
    /// Further runs plotted the same way (`filters-<run>.png`), e.g. learned front ends.
    #[serde(default)]
    pub runs: Vec<String>,
}

/// Forced alignment of the test speakers with one run's model, scored against their hand
/// boundaries, and a spectrogram of one utterance with both sets of boundaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlignmentPlot {
    /// Name of the run whose model aligns.
    pub run: String,
    /// The utterance drawn (default: the first test utterance).
    #[serde(default)]
    pub utterance: Option<String>,
}

/// An experiment grid as read from YAML: runs, depth grid and analyses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Experiment name (report title).
    pub name: String,
    /// One paragraph for the report.
    #[serde(default)]
    pub description: String,
    /// Tied states shared by every run (one `targets.json` for all).
    #[serde(default)]
    pub states: StatesConfig,
    /// `dnn:` / `gmm:` settings merged under every run's own.
    #[serde(default)]
    pub defaults: Defaults,
    /// Runs as listed.
    #[serde(default)]
    pub runs: Vec<RunEntry>,
    /// Deep vs shallow grid, expanded into runs.
    #[serde(default)]
    pub depth: Option<DepthGrid>,
    /// Learning curves of deep vs shallow, expanded into runs.
    #[serde(default)]
    pub curve: Option<CurveGrid>,
    /// Train every run once per seed (a run's or grid's own `seeds` win); each seed sets the
    /// classifier's `seed` and, for learning curves, which speakers are drawn. Results keep a
    /// row per seed; the report gives mean ± sd.
    #[serde(default)]
    pub seeds: Option<Vec<u64>>,
    /// Hidden layers by speaker.
    #[serde(default)]
    pub hidden: Option<HiddenPlot>,
    /// First-layer filters.
    #[serde(default)]
    pub filters: Option<FilterPlot>,
    /// Forced alignment of the test speakers and its figure.
    #[serde(default)]
    pub alignment: Option<AlignmentPlot>,
    /// Vowel maps per layer.
    #[serde(default)]
    pub vowels: Option<VowelPlot>,
    /// Directory of the experiment file (pipelines are relative to it).
    #[serde(skip)]
    pub dir: PathBuf,
    /// The experiment file (named in errors).
    #[serde(skip)]
    pub path: PathBuf,
    /// Where its parts are in the file, for errors.
    #[serde(skip)]
    lines: Lines,
}

/// 1-based lines of an experiment file's parts (0: absent), so that errors found after parsing
/// (an empty seed list, a run that names a missing pipeline, an analysis of a run that does not
/// exist) name the line as parse errors do.
#[derive(Debug, Clone, Default, PartialEq)]
struct Lines {
    seeds: usize,
    runs: Vec<EntryLines>,
    depth: EntryLines,
    curve: EntryLines,
    hidden: usize,
    filters: usize,
    vowels: usize,
    alignment: usize,
}

/// Lines of one run entry or grid.
#[derive(Debug, Clone, Default, PartialEq)]
struct EntryLines {
    at: usize,
    seeds: usize,
    pipeline: usize,
    fractions: usize,
}

/// The file read again for its lines only (every other key is skipped here; the typed read
/// checks them).
#[derive(Default, Deserialize)]
#[serde(default)]
struct LinesFile {
    seeds: Option<Spanned<IgnoredAny>>,
    runs: Vec<Spanned<EntryFile>>,
    depth: Option<Spanned<EntryFile>>,
    curve: Option<Spanned<EntryFile>>,
    hidden: Option<Spanned<IgnoredAny>>,
    filters: Option<Spanned<IgnoredAny>>,
    vowels: Option<Spanned<IgnoredAny>>,
    alignment: Option<Spanned<IgnoredAny>>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
struct EntryFile {
    seeds: Option<Spanned<IgnoredAny>>,
    pipeline: Option<Spanned<IgnoredAny>>,
    fractions: Option<Spanned<IgnoredAny>>,
}

fn line_of<T>(s: &Option<Spanned<T>>) -> usize {
    s.as_ref().map_or(0, |s| s.referenced.line() as usize)
}

impl EntryLines {
    fn of(e: &Spanned<EntryFile>) -> EntryLines {
        EntryLines {
            at: e.referenced.line() as usize,
            seeds: line_of(&e.value.seeds),
            pipeline: line_of(&e.value.pipeline),
            fractions: line_of(&e.value.fractions),
        }
    }
}

impl Lines {
    fn read(text: &str, path: &Path) -> Result<Lines> {
        let f: LinesFile = serde_saphyr::from_str_with_options(text, crate::io::yaml::options())
            .map_err(|err| crate::io::yaml::error(&err, path))?;
        let grid =
            |g: &Option<Spanned<EntryFile>>| g.as_ref().map(EntryLines::of).unwrap_or_default();
        Ok(Lines {
            seeds: line_of(&f.seeds),
            runs: f.runs.iter().map(EntryLines::of).collect(),
            depth: grid(&f.depth),
            curve: grid(&f.curve),
            hidden: line_of(&f.hidden),
            filters: line_of(&f.filters),
            vowels: line_of(&f.vowels),
            alignment: line_of(&f.alignment),
        })
    }
}

/// Settings every run starts from (its own section wins where both set an option).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// DNN defaults.
    #[serde(default)]
    pub dnn: DnnPatch,
    /// GMM defaults.
    #[serde(default)]
    pub gmm: GmmPatch,
}

/// Which table a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Production line and learned suffixes (a run listed in `runs:`).
    Suffix,
    /// A deep net of the depth grid.
    Deep,
    /// The one-hidden-layer net matched to a deep net's parameter count.
    Shallow,
    /// A one-hidden-layer net far larger than the deep nets.
    Wide,
    /// The deep net of the learning curves.
    CurveDeep,
    /// The matched one-hidden-layer net of the learning curves.
    CurveShallow,
}

impl Group {
    /// Lower-case name as in results files.
    pub fn name(self) -> &'static str {
        match self {
            Group::Suffix => "suffix",
            Group::Deep => "deep",
            Group::Shallow => "shallow",
            Group::Wide => "wide",
            Group::CurveDeep => "curve-deep",
            Group::CurveShallow => "curve-shallow",
        }
    }
}

/// A run ready to train: its pipeline with the classifier section filled in.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Run name (its directory): `run`, then `-s<seed>` when trained once per seed.
    pub name: String,
    /// The run as the experiment names it, the same for all its seeds.
    pub run: String,
    /// The seed that decides this run (`None`: the classifier's own).
    pub seed: Option<u64>,
    /// Which table it belongs to.
    pub group: Group,
    /// Hidden layers of the deep net (depth grid rows).
    pub layers: usize,
    /// Share of the training speakers it is trained on (1 = all).
    pub fraction: f64,
    /// Pipeline with its `classifier:` section filled in.
    pub pipeline: Pipeline,
    /// Line of the experiment file that defines it (its run entry or grid; 0: unknown).
    pub line: usize,
}

impl Experiment {
    /// Read and validate an experiment file; runs' pipelines are read relative to it. Errors
    /// name the file and, where the part at fault is known, its line.
    pub fn load(path: &Path) -> Result<Experiment> {
        let text = crate::io::yaml::read_text(path)?;
        let mut e: Experiment =
            serde_saphyr::from_str_with_options(&text, crate::io::yaml::options())
                .map_err(|err| crate::io::yaml::error(&err, path))?;
        e.path = path.to_path_buf();
        e.dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        e.lines = Lines::read(&text, path)?;
        e.check_seeds()?;
        let plan = e.plan()?;
        e.check_run_names(&plan)?;
        // The analyses are checked now, not after every run has trained.
        e.check_analyses(&plan)?;
        Ok(e)
    }

    /// Every list of seeds (the experiment's, the depth grid's, the curve's, each run's) is
    /// non-empty and names no seed twice.
    fn check_seeds(&self) -> Result<()> {
        let l = &self.lines;
        let run_line = |i: usize| l.runs.get(i).map_or(0, |r| r.seeds);
        for (seeds, line) in [
            (self.seeds.as_ref(), l.seeds),
            (
                self.depth.as_ref().and_then(|d| d.seeds.as_ref()),
                l.depth.seeds,
            ),
            (
                self.curve.as_ref().and_then(|c| c.seeds.as_ref()),
                l.curve.seeds,
            ),
        ]
        .into_iter()
        .chain(
            self.runs
                .iter()
                .enumerate()
                .map(|(i, r)| (r.seeds.as_ref(), run_line(i))),
        ) {
            let Some(seeds) = seeds else { continue };
            if seeds.is_empty() {
                return Err(self.error_at(line, "`seeds:` is empty: give at least one seed"));
            }
            if let Some(s) = seeds
                .iter()
                .find(|s| seeds.iter().filter(|t| t == s).count() > 1)
            {
                return Err(self.error_at(line, format!("seed {s} is listed twice")));
            }
        }
        Ok(())
    }

    /// The plan has runs, and their names are distinct plain file names.
    fn check_run_names(&self, plan: &[Planned]) -> Result<()> {
        if plan.is_empty() {
            return Err(Error::format(
                &self.path,
                "no runs: give `runs:` or a `depth:` grid (an empty table would report nothing)",
            ));
        }
        let mut names = std::collections::BTreeSet::new();
        for p in plan {
            check_run_name(&p.name).map_err(|m| self.error_at(p.line, m))?;
            if !names.insert(p.name.clone()) {
                return Err(self.error_at(p.line, format!("two runs are named `{}`", p.name)));
            }
        }
        Ok(())
    }

    /// The analyses name planned runs of the right kind (a DNN; fed the spectrogram or with a
    /// learned front end for the filter plot), and the hidden-layer options are valid.
    fn check_analyses(&self, plan: &[Planned]) -> Result<()> {
        if let Some(a) = &self.alignment
            && !plan.iter().any(|p| p.run == a.run)
        {
            return Err(self.error_at(
                self.lines.alignment,
                format!("alignment.run: no run named `{}`", a.run),
            ));
        }
        let l = &self.lines;
        let analysed = [
            ("hidden", l.hidden, self.hidden.as_ref().map(|h| &h.run)),
            ("filters", l.filters, self.filters.as_ref().map(|f| &f.run)),
            ("vowels", l.vowels, self.vowels.as_ref().map(|v| &v.run)),
        ]
        .into_iter()
        .chain(
            self.hidden
                .iter()
                .flat_map(|h| h.runs.iter().map(|r| ("hidden", l.hidden, Some(r)))),
        )
        .chain(
            self.filters
                .iter()
                .flat_map(|f| f.runs.iter().map(|r| ("filters", l.filters, Some(r)))),
        );
        for (what, line, run) in analysed {
            let Some(r) = run else { continue };
            let Some(p) = plan.iter().find(|p| &p.run == r) else {
                return Err(self.error_at(line, format!("{what}.run: no run named `{r}`")));
            };
            let c = p.pipeline.classifier.as_ref();
            if c.and_then(|c| c.kind().ok()) != Some(ModelKind::Dnn) {
                return Err(self.error_at(
                    line,
                    format!("{what}.run: run `{r}` trains a GMM; the {what} analysis needs a DNN"),
                ));
            }
            let from = c.and_then(|c| c.from).unwrap_or(p.pipeline.output_kind());
            let front = c
                .and_then(|c| c.dnn.as_ref())
                .is_some_and(|d| !d.front.is_none());
            if what == "filters" && from != StageKind::Spectrogram && !front {
                return Err(self.error_at(
                    line,
                    format!(
                        "filters: run `{r}` reads `{from}`; the filter plot needs a DNN fed \
                         the spectrogram, or one with a learned front end"
                    ),
                ));
            }
        }
        if let Some(h) = &self.hidden {
            h.options()
                .validate()
                .map_err(|err| self.error_at(self.lines.hidden, format!("hidden: {err}")))?;
        }
        Ok(())
    }

    /// Whether `path` holds an experiment (a `runs:`, `depth:` or `curve:` section and no
    /// `stages:`) rather than a pipeline. Only the top-level keys are looked at; a file that is
    /// not YAML is left to the pipeline reader, which says why.
    pub fn is_experiment_file(path: &Path) -> Result<bool> {
        #[derive(Deserialize)]
        struct Keys {
            #[serde(default)]
            stages: Option<IgnoredAny>,
            #[serde(default)]
            runs: Option<IgnoredAny>,
            #[serde(default)]
            depth: Option<IgnoredAny>,
            #[serde(default)]
            curve: Option<IgnoredAny>,
        }
        let text = crate::io::yaml::read_text(path)?;
        Ok(
            serde_saphyr::from_str_with_options::<Keys>(&text, crate::io::yaml::options())
                .is_ok_and(|k| {
                    k.stages.is_none()
                        && (k.runs.is_some() || k.depth.is_some() || k.curve.is_some())
                }),
        )
    }

    /// Validate what [`Experiment::load`] leaves to training time: every planned run's pipeline
    /// builds its feature extractor and its classifier section reads (errors name the run's
    /// line). Returns a summary, one line per item, for `asrpipe check`.
    pub fn check(&self) -> Result<Vec<String>> {
        let plan = self.plan()?;
        for p in &plan {
            crate::pipeline::extractor::Extractor::new(&p.pipeline)
                .map(|_| ())
                .and_then(|()| p.pipeline.describe_classifier().map(|_| ()))
                .map_err(|e| self.error_at(p.line, format!("run `{}`: {e}", p.name)))?;
        }
        let mut runs: Vec<&str> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        for p in &plan {
            if !runs.contains(&p.run.as_str()) {
                runs.push(&p.run);
            }
        }
        let listed = self.runs.iter().map(|r| &r.pipeline);
        let grids = self
            .depth
            .iter()
            .map(|d| &d.pipeline)
            .chain(self.curve.iter().map(|c| &c.pipeline));
        for f in listed.chain(grids) {
            let f = f.display().to_string();
            if !files.contains(&f) {
                files.push(f);
            }
        }
        let seeds: std::collections::BTreeSet<u64> = plan.iter().filter_map(|p| p.seed).collect();
        let mut out = vec![format!(
            "{}: ok — experiment `{}`: {} runs, {} trainings{}",
            self.path.display(),
            self.name,
            runs.len(),
            plan.len(),
            if seeds.is_empty() {
                String::new()
            } else {
                format!(
                    " (seeds {})",
                    seeds
                        .iter()
                        .map(|s| s.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        )];
        if let Some(d) = &self.depth {
            out.push(format!(
                "  depth: {:?} hidden layers of {}{}{}",
                d.layers,
                d.width,
                if d.matched {
                    ", each with a matched one-layer net"
                } else {
                    ""
                },
                if d.wide.is_empty() {
                    String::new()
                } else {
                    format!(", wide one-layer nets {:?}", d.wide)
                }
            ));
        }
        if let Some(c) = &self.curve {
            out.push(format!(
                "  curve: {}x{} and its matched one-layer net on {:?} of the training speakers",
                c.layers, c.width, c.fractions
            ));
        }
        let analyses: Vec<String> = [
            ("hidden", self.hidden.as_ref().map(|h| &h.run)),
            ("vowels", self.vowels.as_ref().map(|v| &v.run)),
            ("filters", self.filters.as_ref().map(|f| &f.run)),
            ("alignment", self.alignment.as_ref().map(|a| &a.run)),
        ]
        .into_iter()
        .filter_map(|(what, run)| run.map(|r| format!("{what} of `{r}`")))
        .collect();
        if !analyses.is_empty() {
            out.push(format!("  analyses: {}", analyses.join(", ")));
        }
        out.push(format!("  pipelines: {}", files.join(", ")));
        Ok(out)
    }

    /// An error in this experiment's file, at `line` when it is known (not 0).
    fn error_at(&self, line: usize, msg: impl Into<String>) -> Error {
        if line > 0 {
            Error::at_line(&self.path, line, msg)
        } else {
            Error::format(&self.path, msg)
        }
    }

    /// The pipeline of run `name`: `file` with the run's classifier settings over the
    /// experiment's defaults over the file's own section (and `seed`, when given, over all).
    #[allow(clippy::too_many_arguments)]
    fn pipeline_for(
        &self,
        name: &str,
        file: &Path,
        from: Option<StageKind>,
        gmm: Option<&GmmPatch>,
        dnn: Option<&DnnPatch>,
        match_params: Option<HiddenSpec>,
        seed: Option<u64>,
        line: usize,
    ) -> Result<Pipeline> {
        let in_run = |e: Error| self.error_at(line, format!("run `{name}`: {e}"));
        let p = Pipeline::load(&self.dir.join(file)).map_err(in_run)?;
        let wants_dnn = dnn.is_some() || match_params.is_some();
        if wants_dnn && gmm.is_some() {
            return Err(in_run(Error::invalid(
                "both `gmm` and `dnn` settings: a run trains one classifier, choose one",
            )));
        }
        let requested = if wants_dnn {
            Some(ModelKind::Dnn)
        } else if gmm.is_some() {
            Some(ModelKind::Gmm)
        } else {
            None
        };
        let kind = p.classifier_kind(requested).map_err(in_run)?;
        let mut o = Overrides {
            from,
            states: Some(self.states.clone()),
            kind: Some(kind),
            match_params,
            seed,
            ..Overrides::default()
        };
        match kind {
            ModelKind::Gmm => o.gmm = gmm.cloned().unwrap_or_default().over(&self.defaults.gmm),
            ModelKind::Dnn => o.dnn = dnn.cloned().unwrap_or_default().over(&self.defaults.dnn),
        }
        p.with_classifier(&o).map_err(in_run)
    }

    /// Every run, in order: the listed runs, then the depth grid (deep, then matched shallow,
    /// then the wide nets), then the learning curves; each once per seed.
    pub fn plan(&self) -> Result<Vec<Planned>> {
        let mut out = Vec::new();
        for (i, r) in self.runs.iter().enumerate() {
            let line = self.lines.runs.get(i).map_or(0, |l| l.at);
            let key = RunKey {
                run: r.name.clone(),
                group: Group::Suffix,
                layers: 0,
                fraction: 1.0,
            };
            self.add_seeds(&mut out, key, r.seeds.as_ref(), line, &|name, seed| {
                self.pipeline_for(
                    name,
                    &r.pipeline,
                    r.from,
                    r.gmm.as_ref(),
                    r.dnn.as_ref(),
                    r.match_params.clone(),
                    seed,
                    line,
                )
            })?;
        }
        if let Some(g) = &self.depth {
            self.plan_depth(g, &mut out)?;
        }
        if let Some(c) = &self.curve {
            self.plan_curve(c, &mut out)?;
        }
        Ok(out)
    }

    /// The depth grid's nets: per depth the deep net and (`matched`) its one-layer match, then
    /// the wide nets.
    fn plan_depth(&self, g: &DepthGrid, out: &mut Vec<Planned>) -> Result<()> {
        let arm = Arm {
            pipeline: &g.pipeline,
            from: g.from,
            seeds: g.seeds.as_ref(),
            line: self.lines.depth.at,
        };
        for &l in &g.layers {
            let spec = HiddenSpec::uniform(l, g.width);
            let deep = DnnPatch {
                hidden: Some(spec.clone()),
                ..g.dnn.clone()
            };
            let key = RunKey {
                run: format!("deep-{spec}"),
                group: Group::Deep,
                layers: l,
                fraction: 1.0,
            };
            self.add_net(out, &arm, key, &deep, None)?;
            if g.matched && l > 1 {
                let key = RunKey {
                    run: format!("shallow-as-{spec}"),
                    group: Group::Shallow,
                    layers: l,
                    fraction: 1.0,
                };
                self.add_net(out, &arm, key, &g.dnn, Some(spec))?;
            }
        }
        for &w in &g.wide {
            let spec = HiddenSpec::uniform(1, w);
            let wide = DnnPatch {
                hidden: Some(spec.clone()),
                ..g.dnn.clone()
            };
            let key = RunKey {
                run: format!("wide-{spec}"),
                group: Group::Wide,
                layers: 1,
                fraction: 1.0,
            };
            self.add_net(out, &arm, key, &wide, None)?;
        }
        Ok(())
    }

    /// The learning curve's nets: per training share the deep net and its one-layer match.
    fn plan_curve(&self, c: &CurveGrid, out: &mut Vec<Planned>) -> Result<()> {
        let arm = Arm {
            pipeline: &c.pipeline,
            from: c.from,
            seeds: c.seeds.as_ref(),
            line: self.lines.curve.at,
        };
        let spec = HiddenSpec::uniform(c.layers, c.width);
        let deep = DnnPatch {
            hidden: Some(spec.clone()),
            ..c.dnn.clone()
        };
        for &f in &c.fractions {
            crate::train::subset::check_fraction(f).map_err(|e| {
                self.error_at(self.lines.curve.fractions, format!("curve.fractions: {e}"))
            })?;
            let pc = (100.0 * f).round();
            let key = RunKey {
                run: format!("curve-{spec}-{pc}pc"),
                group: Group::CurveDeep,
                layers: c.layers,
                fraction: f,
            };
            self.add_net(out, &arm, key, &deep, None)?;
            if c.layers > 1 {
                let key = RunKey {
                    run: format!("curve-shallow-as-{spec}-{pc}pc"),
                    group: Group::CurveShallow,
                    layers: c.layers,
                    fraction: f,
                };
                self.add_net(out, &arm, key, &c.dnn, Some(spec.clone()))?;
            }
        }
        Ok(())
    }

    /// A net of the depth grid or the learning curve: DNN settings over the section's pipeline
    /// and cut, with its seeds and line.
    fn add_net(
        &self,
        out: &mut Vec<Planned>,
        arm: &Arm,
        key: RunKey,
        dnn: &DnnPatch,
        matched: Option<HiddenSpec>,
    ) -> Result<()> {
        self.add_seeds(out, key, arm.seeds, arm.line, &|name, seed| {
            self.pipeline_for(
                name,
                arm.pipeline,
                arm.from,
                None,
                Some(dnn),
                matched.clone(),
                seed,
                arm.line,
            )
        })
    }

    /// One planned run per seed of `seeds`, else of the experiment's (or one with the
    /// classifier's own seed), its pipeline made by `make` from its name and seed.
    fn add_seeds(
        &self,
        out: &mut Vec<Planned>,
        key: RunKey,
        seeds: Option<&Vec<u64>>,
        line: usize,
        make: &dyn Fn(&str, Option<u64>) -> Result<Pipeline>,
    ) -> Result<()> {
        let seeds: Vec<Option<u64>> = match seeds.or(self.seeds.as_ref()) {
            Some(list) => list.iter().map(|&s| Some(s)).collect(),
            None => vec![None],
        };
        let RunKey {
            run,
            group,
            layers,
            fraction,
        } = key;
        for seed in seeds {
            let name = match seed {
                Some(s) => format!("{run}-s{s}"),
                None => run.clone(),
            };
            out.push(Planned {
                pipeline: make(&name, seed)?,
                name,
                run: run.clone(),
                seed,
                group,
                layers,
                fraction,
                line,
            });
        }
        Ok(())
    }

    /// The first planned run (first seed) of the run the experiment names `run`.
    pub fn first_of<'p>(plan: &'p [Planned], run: &str) -> Option<&'p Planned> {
        plan.iter().find(|p| p.run == run)
    }
}

/// A run of the plan before its seeds: its name, table, deep net's hidden layers and share
/// of the training speakers.
struct RunKey {
    run: String,
    group: Group,
    layers: usize,
    fraction: f64,
}

/// One section of generated nets (the depth grid or the learning curve): its pipeline, cut,
/// seeds and line.
struct Arm<'a> {
    pipeline: &'a Path,
    from: Option<StageKind>,
    seeds: Option<&'a Vec<u64>>,
    line: usize,
}

/// A run's name becomes a directory under `runs/`: it must be a plain file name.
fn check_run_name(name: &str) -> std::result::Result<(), String> {
    let bad = if name.is_empty() {
        Some("is empty")
    } else if name == "." || name == ".." {
        Some("is not a file name")
    } else if name.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.len() > 200 {
        Some("is longer than 200 bytes")
    } else {
        None
    };
    match bad {
        Some(why) => Err(format!(
            "run name {name:?} {why}: run names become directories under runs/, so they must be \
             plain file names"
        )),
        None => Ok(()),
    }
}

/// What was run, with its results (for results.json / results.csv).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The run as the experiment names it (the same for all its seeds).
    pub run: String,
    /// Which table the run belongs to.
    pub group: Group,
    /// Hidden layers of the deep net (depth-grid rows; 0 otherwise).
    pub layers: usize,
    /// Share of the training speakers it was trained on (1 = all).
    pub fraction: f64,
    /// Model facts and test scores.
    #[serde(flatten)]
    pub result: RunResult,
}

/// Train and score every planned run that is not already done, in `out/runs/<name>/`.
pub fn run_all(
    env: &Env,
    exp: &Experiment,
    out: &Path,
    mut log: impl FnMut(&str),
) -> Result<Vec<Row>> {
    let plan = exp.plan()?;
    let targets = env.targets(&exp.states)?;
    let corpus_hash = provenance::corpus_hash(env)?;
    let mut rows = Vec::new();
    let mut same_as: std::collections::HashMap<String, (String, RunResult)> = Default::default();
    for (i, p) in plan.iter().enumerate() {
        let files = RunFiles::new(out.join("runs").join(&p.name));
        let seed = p.seed.unwrap_or_default();
        let train_utts = crate::train::subset::train_subset(env, p.fraction, seed)?;
        let spec = run_spec(p, &train_utts, seed);
        let now = Provenance::new(env, &corpus_hash, &spec, &targets)?;
        let head = format!("[{}/{}] {}", i + 1, plan.len(), p.name);
        let before: Option<Provenance> = crate::io::json::read_json(&files.provenance).ok();
        let twin = same_as.get(&spec).cloned();
        let result: RunResult = if let Some(r) = files.previous_result(&now, before.as_ref(), &spec)
        {
            log(&format!(
                "{head}: done before with the same inputs, skipped"
            ));
            r
        } else if let Some((other, r)) = twin {
            // Another run of this experiment is the very same training (e.g. a learning curve's
            // 100 % point and the depth grid's net with the same seed): its model and scores.
            log(&format!(
                "{head}: the same training as `{other}`, taken from it"
            ));
            let other = out.join("runs").join(&other);
            files.copy_from(&other, r, &p.name, &spec, &now)?
        } else {
            match &before {
                Some(b) if !now.changes(b).is_empty() => log(&format!(
                    "{head}: training again, changed since the last run: {}",
                    now.changes(b).join(", ")
                )),
                _ => log(&format!("{head}: training")),
            }
            files.clear_stale(&spec, &now, before.as_ref())?;
            let r = train_and_score(env, p, &targets, &files.dir, train_utts)?;
            files.record(&spec, &now)?;
            r
        };
        same_as.insert(spec, (p.name.clone(), result.clone()));
        rows.push(Row {
            run: p.run.clone(),
            group: p.group,
            layers: p.layers,
            fraction: p.fraction,
            result,
        });
    }
    Ok(rows)
}

/// What decides a run: its pipeline and, when it trains on a share of the speakers, which.
fn run_spec(p: &Planned, train_utts: &[&Utterance], seed: u64) -> String {
    let mut spec = p.pipeline.to_yaml();
    if p.fraction < 1.0 {
        // What the run trains on is part of what decides it.
        let mut speakers: Vec<&str> = train_utts.iter().map(|u| u.speaker.as_str()).collect();
        speakers.dedup();
        spec.push_str(&format!(
            "# trained on {} of the training speakers (seed {seed}): {}\n",
            p.fraction,
            speakers.join(" ")
        ));
    }
    spec
}

/// Train run `p` on `train_utts` into `dir/model`, score it on the test speakers and write its
/// results into `dir`.
fn train_and_score(
    env: &Env,
    p: &Planned,
    targets: &Targets,
    dir: &Path,
    train_utts: Vec<&Utterance>,
) -> Result<RunResult> {
    let trained = run::train_on(
        env,
        &p.pipeline,
        targets,
        Some(&dir.join("model")),
        train_utts,
    )?;
    let scored = run::score(
        env,
        &trained,
        Some(&trained.pipeline.hmm.decode),
        &trained.pipeline.hmm.tune,
    )?;
    let r = scored.result(&p.name, &trained)?;
    scored.write(dir, &r, &trained)?;
    Ok(r)
}

/// The files of one run's directory that say what it was and what it scored.
struct RunFiles {
    dir: PathBuf,
    /// `spec.yaml`: what decided the run ([`run_spec`]).
    spec: PathBuf,
    /// `results.json`: its scores.
    results: PathBuf,
    /// `provenance.json`: the inputs it was trained from.
    provenance: PathBuf,
}

impl RunFiles {
    fn new(dir: PathBuf) -> Self {
        RunFiles {
            spec: dir.join("spec.yaml"),
            results: dir.join("results.json"),
            provenance: dir.join("provenance.json"),
            dir,
        }
    }

    /// The result of an earlier run, reused only when everything that decided it is unchanged.
    fn previous_result(
        &self,
        now: &Provenance,
        before: Option<&Provenance>,
        spec: &str,
    ) -> Option<RunResult> {
        let reusable = match before {
            Some(b) if now.changes(b).is_empty() => {
                std::fs::read_to_string(&self.spec).is_ok_and(|s| s == spec)
                    && Trained::load(&self.dir.join("model")).is_ok()
            }
            _ => false,
        };
        if reusable {
            crate::io::json::read_json(&self.results).ok()
        } else {
            None
        }
    }

    /// Take the model and result `r` of the run in `other` (the same training) as run `name`'s.
    fn copy_from(
        &self,
        other: &Path,
        mut r: RunResult,
        name: &str,
        spec: &str,
        now: &Provenance,
    ) -> Result<RunResult> {
        let trained = Trained::load(&other.join("model"))?;
        trained.save(&self.dir.join("model"))?;
        r.name = name.to_string();
        crate::io::json::write_json(&self.results, &r)?;
        self.record(spec, now)?;
        Ok(r)
    }

    /// Before training: remove what an earlier run of other settings left. Its checkpoints
    /// must not be resumed from (a killed run, which wrote no spec, keeps its checkpoints), and
    /// nothing of it may pass for the new run if this one is interrupted.
    fn clear_stale(&self, spec: &str, now: &Provenance, before: Option<&Provenance>) -> Result<()> {
        if std::fs::read_to_string(&self.spec).is_ok_and(|s| s != spec)
            || before.is_some_and(|b| !now.changes(b).is_empty())
        {
            let ckpt = self.dir.join("model").join("checkpoints");
            match std::fs::remove_dir_all(&ckpt) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(&ckpt, e));
                }
                _ => {}
            }
        }
        for stale in [&self.provenance, &self.results, &self.spec] {
            match std::fs::remove_file(stale) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(stale, e));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Write what decided the run, last: its spec and provenance.
    fn record(&self, spec: &str, now: &Provenance) -> Result<()> {
        crate::io::atomic::write_bytes(&self.spec, spec.as_bytes())?;
        crate::io::json::write_json(&self.provenance, now)
    }
}

/// The epoch whose weights a DNN kept (the last with the best dev loss so far); none for a GMM.
pub fn kept_epoch(about: &crate::train::About) -> Option<usize> {
    about.epochs.iter().rev().find(|e| e.best).map(|e| e.epoch)
}

/// The rows as CSV (one line per run and seed).
pub fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "name,run,seed,group,layers,train_fraction,kind,from,spec,params,tied_states,train_frames,test_frames,epoch_kept,state_accuracy,phone_accuracy,per,per_tuned,tuned_acoustic_scale,tuned_insertion_penalty,tuned_on,train_seconds\n",
    );
    for r in rows {
        let (x, a) = (&r.result, &r.result.about);
        // per_tuned, tuned_acoustic_scale, tuned_insertion_penalty, tuned_on
        let tuned = x.tuned.as_ref().map_or(",,,".to_string(), |t| {
            format!(
                "{:.5},{},{},{}",
                t.per,
                t.acoustic_scale,
                t.insertion_penalty,
                t.chosen_on.name()
            )
        });
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.5},{:.5},{},{},{:.2}\n",
            x.name,
            r.run,
            a.seed,
            r.group.name(),
            r.layers,
            r.fraction,
            a.kind,
            a.from,
            a.spec,
            a.params,
            a.tied_states,
            a.train_frames,
            x.test_frames,
            kept_epoch(a).map_or(String::new(), |e| e.to_string()),
            x.state_accuracy,
            x.phone_accuracy,
            x.per.map_or(String::new(), |p| format!("{p:.5}")),
            tuned,
            a.train_seconds
        ));
    }
    s
}
