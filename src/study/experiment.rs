//! Experiments: a grid of runs defined in YAML, trained and scored on one corpus with shared
//! tied-state targets, then tabulated. Finished runs are not redone: a run whose directory holds
//! `results.json` and the same `spec.json` is read back instead of retrained.
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
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frontend::StageKind;
use crate::model::ModelKind;
use crate::model::dnn::{DnnPatch, HiddenSpec};
use crate::model::gmm::GmmPatch;
use crate::model::tree::StatesConfig;
use crate::pipeline::Pipeline;
use crate::pipeline::classifier::Overrides;
use crate::study::hidden::HiddenOptions;
use crate::train::{self as run, Env, RunResult, Trained};

/// One run as written in the experiment file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunEntry {
    pub name: String,
    /// Pipeline file, relative to the experiment file.
    pub pipeline: PathBuf,
    #[serde(default)]
    pub from: Option<StageKind>,
    #[serde(default)]
    pub gmm: Option<GmmPatch>,
    #[serde(default)]
    pub dnn: Option<DnnPatch>,
    #[serde(default)]
    pub match_params: Option<HiddenSpec>,
}

/// Deep vs shallow: `layers` hidden layers of `width`, and (if `matched`) for each a single
/// hidden layer with the same parameter count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepthGrid {
    pub pipeline: PathBuf,
    #[serde(default)]
    pub from: Option<StageKind>,
    pub width: usize,
    pub layers: Vec<usize>,
    #[serde(default = "yes")]
    pub matched: bool,
    #[serde(default)]
    pub dnn: DnnPatch,
}

fn yes() -> bool {
    true
}

/// Hidden layers by speaker: which run's DNN, which sentence, which layers (0 = the input).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HiddenPlot {
    pub run: String,
    /// Sentences said by every speaker: the first is plotted, all are scored.
    #[serde(default)]
    pub sentences: Option<Vec<String>>,
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
}

impl HiddenPlot {
    /// The analysis settings: what the section gives, defaults for the rest.
    pub fn options(&self) -> HiddenOptions {
        let mut o = HiddenOptions::default();
        if let Some(s) = &self.sentences {
            o.sentences = s.clone();
        }
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

/// First-layer filters of a DNN fed the spectrogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterPlot {
    pub run: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub states: StatesConfig,
    /// `dnn:` / `gmm:` settings merged under every run's own.
    #[serde(default)]
    pub defaults: Defaults,
    #[serde(default)]
    pub runs: Vec<RunEntry>,
    #[serde(default)]
    pub depth: Option<DepthGrid>,
    #[serde(default)]
    pub hidden: Option<HiddenPlot>,
    #[serde(default)]
    pub filters: Option<FilterPlot>,
    /// Directory of the experiment file (pipelines are relative to it).
    #[serde(skip)]
    pub dir: PathBuf,
    #[serde(skip)]
    pub path: PathBuf,
}

/// Settings every run starts from (its own section wins where both set an option).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default)]
    pub dnn: DnnPatch,
    #[serde(default)]
    pub gmm: GmmPatch,
}

/// Which table a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Suffix,
    Deep,
    Shallow,
}

impl Group {
    pub fn name(self) -> &'static str {
        match self {
            Group::Suffix => "suffix",
            Group::Deep => "deep",
            Group::Shallow => "shallow",
        }
    }
}

/// A run ready to train: its pipeline with the classifier section filled in.
#[derive(Debug, Clone)]
pub struct Planned {
    pub name: String,
    pub group: Group,
    /// Hidden layers of the deep net (depth grid rows).
    pub layers: usize,
    pub pipeline: Pipeline,
}

impl Experiment {
    pub fn load(path: &Path) -> Result<Experiment> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut e: Experiment =
            serde_saphyr::from_str_with_options(&text, crate::io::yaml::options())
                .map_err(|err| crate::io::yaml::error(&err, path))?;
        e.path = path.to_path_buf();
        e.dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut names = std::collections::BTreeSet::new();
        for p in e.plan()? {
            if !names.insert(p.name.clone()) {
                return Err(Error::format(
                    path,
                    format!("two runs are named `{}`", p.name),
                ));
            }
        }
        for (what, run) in [
            ("hidden", e.hidden.as_ref().map(|h| &h.run)),
            ("filters", e.filters.as_ref().map(|f| &f.run)),
        ] {
            if let Some(r) = run
                && !names.contains(r)
            {
                return Err(Error::format(
                    path,
                    format!("{what}.run: no run named `{r}`"),
                ));
            }
        }
        Ok(e)
    }

    /// The pipeline of run `name`: `file` with the run's classifier settings over the
    /// experiment's defaults over the file's own section.
    fn pipeline_for(
        &self,
        name: &str,
        file: &Path,
        from: Option<StageKind>,
        gmm: Option<&GmmPatch>,
        dnn: Option<&DnnPatch>,
        match_params: Option<HiddenSpec>,
    ) -> Result<Pipeline> {
        let in_run = |e: Error| Error::format(&self.path, format!("run `{name}`: {e}"));
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
            ..Overrides::default()
        };
        match kind {
            ModelKind::Gmm => o.gmm = gmm.cloned().unwrap_or_default().over(&self.defaults.gmm),
            ModelKind::Dnn => o.dnn = dnn.cloned().unwrap_or_default().over(&self.defaults.dnn),
        }
        p.with_classifier(&o).map_err(in_run)
    }

    /// Every run, in order: the listed runs, then the depth grid (deep, then matched shallow).
    pub fn plan(&self) -> Result<Vec<Planned>> {
        let mut out = Vec::new();
        for r in &self.runs {
            out.push(Planned {
                name: r.name.clone(),
                group: Group::Suffix,
                layers: 0,
                pipeline: self.pipeline_for(
                    &r.name,
                    &r.pipeline,
                    r.from,
                    r.gmm.as_ref(),
                    r.dnn.as_ref(),
                    r.match_params.clone(),
                )?,
            });
        }
        if let Some(g) = &self.depth {
            for &l in &g.layers {
                let spec = HiddenSpec::uniform(l, g.width);
                let deep = DnnPatch {
                    hidden: Some(spec.clone()),
                    ..g.dnn.clone()
                };
                let name = format!("deep-{spec}");
                out.push(Planned {
                    pipeline: self.pipeline_for(
                        &name,
                        &g.pipeline,
                        g.from,
                        None,
                        Some(&deep),
                        None,
                    )?,
                    name,
                    group: Group::Deep,
                    layers: l,
                });
                if g.matched && l > 1 {
                    let name = format!("shallow-as-{spec}");
                    out.push(Planned {
                        pipeline: self.pipeline_for(
                            &name,
                            &g.pipeline,
                            g.from,
                            None,
                            Some(&g.dnn),
                            Some(spec),
                        )?,
                        name,
                        group: Group::Shallow,
                        layers: l,
                    });
                }
            }
        }
        Ok(out)
    }
}

/// What was run, with its results (for results.json / results.csv).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub group: Group,
    pub layers: usize,
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
    let mut rows = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        let dir = out.join("runs").join(&p.name);
        let spec = p.pipeline.to_yaml();
        let spec_path = dir.join("spec.yaml");
        let results_path = dir.join("results.json");
        let done = std::fs::read_to_string(&spec_path).is_ok_and(|s| s == spec)
            && Trained::load(&dir.join("model")).is_ok();
        let result: RunResult = if done && let Ok(r) = crate::io::json::read_json(&results_path) {
            log(&format!(
                "[{}/{}] {}: done before, skipped",
                i + 1,
                plan.len(),
                p.name
            ));
            r
        } else {
            log(&format!("[{}/{}] {}: training", i + 1, plan.len(), p.name));
            let _ = std::fs::remove_file(&results_path);
            let trained = run::train(env, &p.pipeline, &targets, Some(&dir.join("model")))?;
            let (e, secs) = run::evaluate(env, &trained)?;
            let r = RunResult::new(&p.name, &trained, &e, secs);
            run::write_run(&dir, &r, &e, &trained)?;
            crate::io::atomic::write_bytes(&spec_path, spec.as_bytes())?;
            r
        };
        rows.push(Row {
            group: p.group,
            layers: p.layers,
            result,
        });
    }
    Ok(rows)
}

/// The rows as CSV (one line per run).
pub fn csv(rows: &[Row]) -> String {
    let mut s = String::from(
        "name,group,layers,kind,from,spec,params,tied_states,train_frames,test_frames,state_accuracy,phone_accuracy,train_seconds\n",
    );
    for r in rows {
        let (x, a) = (&r.result, &r.result.about);
        s.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{:.5},{:.5},{:.2}\n",
            x.name,
            r.group.name(),
            r.layers,
            a.kind,
            a.from,
            a.spec,
            a.params,
            a.tied_states,
            a.train_frames,
            x.test_frames,
            x.state_accuracy,
            x.phone_accuracy,
            a.train_seconds
        ));
    }
    s
}
