//! The `classifier:` section of a pipeline file: which learned box sits at the end of the chain,
//! where it is fed from, and the tied states it predicts; and the one way to override it
//! ([`Pipeline::with_classifier`]), which the command line and the experiment runner both use.
//!
//! ```yaml
//! classifier:
//!   from: spectrogram        # cut the chain after this stage (default: its last stage)
//!   states: { tied: 500 }    # the targets, shared by every classifier on a corpus
//!   dnn: { hidden: 8x1000, epochs: 10 }     # or  gmm: { gaussians_per_state: 8 }
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frontend::StageKind;
use crate::model::ModelKind;
use crate::model::dnn::{DnnConfig, DnnPatch, HiddenSpec, match_params};
use crate::model::gmm::{GmmConfig, GmmPatch};
use crate::model::tree::StatesConfig;
use crate::pipeline::Pipeline;
use crate::pipeline::extractor::Extractor;

/// The `classifier:` section as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Stage whose output feeds the classifier; later stages are dropped.
    pub from: Option<StageKind>,
    /// How many tied states, and how the tree that ties them is grown.
    pub states: StatesConfig,
    /// GMM settings (used when the family is GMM).
    pub gmm: Option<GmmConfig>,
    /// DNN settings (used when the family is DNN).
    pub dnn: Option<DnnConfig>,
    /// Size a one-hidden-layer DNN to the parameter count of this net (e.g. `4x1000`).
    pub match_params: Option<HiddenSpec>,
}

/// Which learned box, with its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassifierSpec {
    /// A GMM over tied states.
    Gmm(GmmConfig),
    /// A DNN over tied states.
    Dnn(DnnConfig),
}

impl ClassifierSpec {
    /// GMM or DNN.
    pub fn kind(&self) -> ModelKind {
        match self {
            ClassifierSpec::Gmm(_) => ModelKind::Gmm,
            ClassifierSpec::Dnn(_) => ModelKind::Dnn,
        }
    }
}

impl ClassifierConfig {
    /// The family this section trains: a DNN when a `dnn` section (or `match_params`) is given,
    /// else a GMM (with defaults when there is no section at all).
    pub fn kind(&self) -> Result<ModelKind> {
        match (&self.gmm, &self.dnn) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "the classifier section has both `gmm` and `dnn`: choose one",
            )),
            (Some(_), None) if self.match_params.is_some() => Err(Error::invalid(
                "`match_params` sizes a DNN; it does not apply to a GMM",
            )),
            (Some(_), None) => Ok(ModelKind::Gmm),
            (None, d) if d.is_some() || self.match_params.is_some() => Ok(ModelKind::Dnn),
            (None, _) => Ok(ModelKind::Gmm),
        }
    }

    /// Check the section: one family, settings in range.
    pub fn validate(&self) -> Result<()> {
        self.states.validate()?;
        match self.spec()? {
            ClassifierSpec::Gmm(g) => g.validate(),
            ClassifierSpec::Dnn(d) if d.epochs == 0 => Err(Error::invalid(
                "dnn options: epochs must be at least 1 (0 would write an untrained model)",
            )),
            ClassifierSpec::Dnn(d) => d.validate(),
        }
    }

    /// The classifier to train, with its settings.
    pub fn spec(&self) -> Result<ClassifierSpec> {
        Ok(match self.kind()? {
            ModelKind::Gmm => ClassifierSpec::Gmm(self.gmm.clone().unwrap_or_default()),
            ModelKind::Dnn => ClassifierSpec::Dnn(self.dnn.clone().unwrap_or_default()),
        })
    }

    /// The DNN's settings once `match_params` is applied for this input and output size: one
    /// hidden layer whose parameter count is closest to that of the named net.
    pub fn resolve_dnn(&self, feature_dim: usize, num_classes: usize) -> DnnConfig {
        let mut cfg = self.dnn.clone().unwrap_or_default();
        if let Some(spec) = &self.match_params {
            let input = cfg.mlp_input_dim(feature_dim);
            cfg.hidden = HiddenSpec::uniform(1, match_params(spec, input, num_classes));
        }
        cfg
    }
}

impl Pipeline {
    /// One line saying what the classifier section trains, for `asrpipe check`.
    pub fn describe_classifier(&self) -> Result<Option<String>> {
        let Some(c) = &self.classifier else {
            return Ok(None);
        };
        let from = c.from.unwrap_or(self.output_kind());
        let what = match c.spec()? {
            ClassifierSpec::Gmm(g) => {
                format!("GMM, up to {} Gaussians per state", g.gaussians_per_state)
            }
            ClassifierSpec::Dnn(d) => match &c.match_params {
                Some(m) => format!(
                    "DNN, one hidden layer as large as {m}, context {}",
                    d.context
                ),
                None => format!("DNN {}, context {}", d.hidden, d.context),
            },
        };
        Ok(Some(format!(
            "{what}, fed from `{from}`, {} tied states",
            c.states.tied
        )))
    }
}

/// Changes to a pipeline's classifier section, from command-line flags or an experiment run.
/// Each set field replaces what the pipeline file says; everything else stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Feed the classifier from this stage instead.
    pub from: Option<StageKind>,
    /// Replace the whole `states:` section.
    pub states: Option<StatesConfig>,
    /// Number of tied states (after `states`).
    pub tied_states: Option<usize>,
    /// Train this family whatever the file says (the other family's section is dropped).
    pub kind: Option<ModelKind>,
    /// A one-hidden-layer DNN as large as this net (implies a DNN).
    pub match_params: Option<HiddenSpec>,
    /// GMM settings; given for a DNN, they are an error.
    pub gmm: GmmPatch,
    /// DNN settings; given for a GMM, they are an error.
    pub dnn: DnnPatch,
    /// Training passes (GMM EM iterations or DNN epochs), whichever family it is.
    pub epochs: Option<usize>,
    /// Seed of every random choice in training, whichever family it is.
    pub seed: Option<u64>,
}

impl Overrides {
    /// The family asked for, if the overrides decide it.
    fn requested_kind(&self) -> Option<ModelKind> {
        self.kind
            .or(self.match_params.as_ref().map(|_| ModelKind::Dnn))
    }
}

impl Pipeline {
    /// The family of the classifier this pipeline trains once `requested` (if any) is applied.
    pub fn classifier_kind(&self, requested: Option<ModelKind>) -> Result<ModelKind> {
        match requested {
            Some(k) => Ok(k),
            None => self.classifier.clone().unwrap_or_default().kind(),
        }
    }

    /// Check that `from` names a stage of this chain (the one place `--from`/`from:` is checked).
    pub fn check_cut(&self, from: StageKind) -> Result<()> {
        if self.kinds().contains(&from) {
            return Ok(());
        }
        let names: Vec<&str> = self.kinds().iter().map(|k| k.name()).collect();
        Err(Error::invalid(format!(
            "from `{from}`: the chain has no such stage (it has: {})",
            names.join(", ")
        )))
    }

    /// This pipeline with `o` applied to its classifier section. Errors say which override does
    /// not fit (a DNN setting for a GMM, a cut the chain does not have, ...).
    pub fn with_classifier(&self, o: &Overrides) -> Result<Pipeline> {
        let mut c = self.classifier.clone().unwrap_or_default();
        let kind = self.classifier_kind(o.requested_kind())?;
        if let Some(from) = o.from {
            self.check_cut(from).map_err(|e| e.in_file(self.path()))?;
            c.from = Some(from);
        }
        if let Some(states) = &o.states {
            c.states = states.clone();
        }
        if let Some(n) = o.tied_states {
            c.states.tied = n;
        }
        if o.match_params.is_some() && o.dnn.hidden.is_some() {
            return Err(Error::invalid(
                "hidden layers and match_params both size the network: choose one",
            ));
        }
        match kind {
            ModelKind::Gmm => {
                if !o.dnn.is_empty() || o.match_params.is_some() {
                    return Err(Error::invalid(
                        "DNN settings (hidden layers, batch, learning rate, context, ...) were \
                         given, but the classifier is a GMM",
                    ));
                }
                let mut g = c.gmm.take().unwrap_or_default();
                o.gmm.apply(&mut g);
                if let Some(e) = o.epochs {
                    g.iterations = e;
                }
                if let Some(s) = o.seed {
                    g.seed = s;
                }
                c.gmm = Some(g);
                c.dnn = None;
                c.match_params = None;
            }
            ModelKind::Dnn => {
                if !o.gmm.is_empty() {
                    return Err(Error::invalid(
                        "GMM settings (Gaussians per state, ...) were given, but the classifier is a DNN",
                    ));
                }
                let mut d = c.dnn.take().unwrap_or_default();
                o.dnn.apply(&mut d);
                if let Some(e) = o.epochs {
                    d.epochs = e;
                }
                if let Some(s) = o.seed {
                    d.seed = s;
                }
                c.dnn = Some(d);
                c.gmm = None;
                // An explicit net replaces the file's sizing rule, and the other way round.
                if o.match_params.is_some() || o.dnn.hidden.is_some() {
                    c.match_params = o.match_params.clone();
                }
            }
        }
        // The file's own section was checked when it was read: what fails now is an override.
        c.validate()
            .map_err(|e| Error::invalid(format!("classifier: {e}")))?;
        let mut p = self.clone();
        p.classifier = Some(c);
        p.check_classifier_memory()
            .map_err(|e| Error::invalid(format!("classifier: {e}")))?;
        Ok(p)
    }

    /// Refuse a DNN that the classifier section alone makes too large to train in memory
    /// ([`crate::memory`]): its parameters on the classifier's input, over at most `states.tied`
    /// states. Minibatches are counted when training, once the data's size caps them.
    pub(crate) fn check_classifier_memory(&self) -> Result<()> {
        let Some(c) = &self.classifier else {
            return Ok(());
        };
        if c.kind()? != ModelKind::Dnn {
            return Ok(());
        }
        let cut = match c.from {
            Some(f) => self.until(f)?,
            None => self.clone(),
        };
        let dim = Extractor::new(&cut)?.dim();
        let d = c.resolve_dnn(dim, c.states.tied);
        d.check_memory(dim, c.states.tied, None)
    }
}

/// What the production line's GMM (the built-in `pipelines/kaldi-mfcc-gmm.yaml`) spends on a
/// number of tied states, at most: for printing beside a DNN's parameter count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GmmBudget {
    /// Largest Gaussian count per state (the built-in GMM's `gaussians_per_state`).
    pub gaussians_per_state: usize,
    /// Feature dimension (MFCC + deltas).
    pub dim: usize,
    /// Means and variances per dimension and a weight, per Gaussian.
    pub params: usize,
}

/// The production line's GMM parameter budget for `tied_states` states.
pub fn production_gmm_budget(tied_states: usize) -> Result<GmmBudget> {
    let p = Pipeline::kaldi_mfcc_gmm();
    let per_state = p
        .classifier
        .clone()
        .and_then(|c| c.gmm)
        .unwrap_or_default()
        .gaussians_per_state;
    let dim = Extractor::new(&p)?.dim();
    Ok(GmmBudget {
        gaussians_per_state: per_state,
        dim,
        params: tied_states * per_state * (2 * dim + 1),
    })
}
