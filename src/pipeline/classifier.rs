//! The `classifier:` section of a pipeline file: which learned box sits at the end of the chain,
//! where it is fed from, and the tied states it predicts.
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
use crate::model::dnn::{DnnConfig, count_params, match_params, parse_hidden};
use crate::model::gmm::GmmConfig;
use crate::model::tree::StatesConfig;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClassifierConfig {
    /// Stage whose output feeds the classifier; later stages are dropped.
    pub from: Option<StageKind>,
    pub states: StatesConfig,
    pub gmm: Option<GmmConfig>,
    pub dnn: Option<DnnConfig>,
    /// Size a one-hidden-layer DNN to the parameter count of this `LxW` net (e.g. `4x1000`).
    pub match_params: Option<String>,
}

/// Which learned box, with its settings.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Gmm(GmmConfig),
    Dnn(DnnConfig),
}

impl ClassifierConfig {
    /// The classifier to train: a DNN when a `dnn` section (or `match_params`) is given, else a
    /// GMM (with defaults when there is no section at all).
    pub fn kind(&self) -> Result<Kind> {
        match (&self.gmm, &self.dnn) {
            (Some(_), Some(_)) => Err(Error::invalid(
                "the classifier section has both `gmm` and `dnn`: choose one",
            )),
            (Some(g), None) if self.match_params.is_none() => Ok(Kind::Gmm(g.clone())),
            (Some(_), None) => Err(Error::invalid(
                "`match_params` sizes a DNN; it does not apply to a GMM",
            )),
            (None, d) if d.is_some() || self.match_params.is_some() => {
                Ok(Kind::Dnn(d.clone().unwrap_or_default()))
            }
            (None, _) => Ok(Kind::Gmm(GmmConfig::default())),
        }
    }

    /// The DNN's hidden layers once `match_params` is applied for this input and output size:
    /// one layer whose parameter count equals that of the named net.
    pub fn resolve_dnn(&self, feature_dim: usize, num_classes: usize) -> Result<DnnConfig> {
        let mut cfg = self.dnn.clone().unwrap_or_default();
        if let Some(spec) = &self.match_params {
            let input = feature_dim * (2 * cfg.context + 1);
            let width = match_params(spec, input, num_classes)?;
            cfg.hidden = width.to_string();
        }
        parse_hidden(&cfg.hidden)?;
        Ok(cfg)
    }
}

/// Parameters of a DNN with `hidden` layers (a spec such as `8x1000`) for this input and output.
pub fn dnn_params(
    hidden: &str,
    feature_dim: usize,
    context: usize,
    num_classes: usize,
) -> Result<usize> {
    Ok(count_params(
        feature_dim * (2 * context + 1),
        &parse_hidden(hidden)?,
        num_classes,
    ))
}
