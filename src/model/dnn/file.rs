//! Model files: tensors in safetensors with PyTorch `nn.Linear` names, metadata in JSON beside
//! them (see the module documentation for the layout).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, ArrayD, ArrayViewD, Ix1, Ix2};
use serde::{Deserialize, Serialize};

use super::{Architecture, Dnn, Front, Linear, hidden_spec};
use crate::error::{Error, Result};
use crate::io;

impl Dnn {
    /// Where [`save`](Self::save) puts the metadata beside the tensors: same name, `.json`.
    pub fn metadata_path(path: &Path) -> PathBuf {
        path.with_extension("json")
    }

    /// Write the tensors (safetensors) to `path` and the metadata to [`Self::metadata_path`].
    pub fn save(&self, path: &Path) -> Result<()> {
        let meta_path = Self::metadata_path(path);
        if meta_path == path {
            return Err(Error::invalid(format!(
                "{}: a DNN model file cannot end in .json (its metadata goes there)",
                path.display()
            )));
        }
        let tensors = self.named_tensors();
        let views: Vec<(&str, _)> = tensors
            .iter()
            .map(|(n, v)| (n.as_str(), v.view()))
            .collect();
        io::write_tensors(path, &views)?;
        io::write_json(&meta_path, &Metadata::new(&self.arch))
    }

    /// The model's tensors by name, as [`save`](Self::save) writes them (checkpoints add theirs
    /// beside).
    pub(crate) fn named_tensors(&self) -> Vec<(String, ArrayViewD<'_, f32>)> {
        let mut tensors = Vec::new();
        for (l, (w, b)) in self.layers.iter().zip(tensor_names(self.layers.len())) {
            tensors.push((w, l.weight.view().into_dyn()));
            tensors.push((b, l.bias.view().into_dyn()));
        }
        tensors.push(("input_mean".into(), self.mean.view().into_dyn()));
        tensors.push(("input_std".into(), self.std.view().into_dyn()));
        if let Some(f) = &self.front {
            let w = self.arch.front.weight_name();
            tensors.push((w.into(), f.params.weight.view().into_dyn()));
            if !f.params.bias.is_empty() {
                tensors.push((FRONT_BIAS.into(), f.params.bias.view().into_dyn()));
            }
            tensors.push((FRONT_MEAN.into(), f.mean.view().into_dyn()));
            tensors.push((FRONT_STD.into(), f.std.view().into_dyn()));
        }
        tensors
    }

    /// Read a model written by [`save`](Self::save), checking every shape against the metadata.
    pub fn load(path: &Path) -> Result<Dnn> {
        let meta_path = Self::metadata_path(path);
        let meta: Metadata = io::read_json(&meta_path)?;
        if meta.format != FORMAT {
            return Err(Error::format(
                &meta_path,
                format!("not an asrpipe DNN (format {:?})", meta.format),
            ));
        }
        let mut tensors = io::read_tensors(path)?;
        Self::from_tensors(meta.arch, path, &mut tensors, "")
    }

    /// [`load`](Self::load) a model to run on features of `feature_dim` dimensions per frame
    /// (unspliced): a model trained on another cut of the chain is refused, naming the file.
    pub fn load_for(path: &Path, feature_dim: usize) -> Result<Dnn> {
        let dnn = Self::load(path)?;
        if dnn.arch.feature_dim != feature_dim {
            return Err(Error::format(
                path,
                format!(
                    "the DNN was trained on {}-dimensional features, these have {feature_dim} \
                     (was it trained from another stage of the pipeline?)",
                    dnn.arch.feature_dim
                ),
            ));
        }
        Ok(dnn)
    }

    /// Rebuild from named tensors (layers and front-end parameters under `prefix`,
    /// normalisations without prefix).
    pub(crate) fn from_tensors(
        arch: Architecture,
        path: &Path,
        tensors: &mut BTreeMap<String, ArrayD<f32>>,
        prefix: &str,
    ) -> Result<Dnn> {
        let d = arch.feature_dim;
        let front = take_front(&arch, path, tensors, prefix)?;
        let layers = take_layers(&arch, path, tensors, prefix)?;
        let mut dnn = Dnn::new(arch, 0).map_err(|e| Error::format(path, e.to_string()))?;
        dnn.layers = layers;
        let in_file = |e: Error| Error::format(path, e.to_string());
        if let Some(params) = front {
            let n = dnn.arch.frame_dim();
            let mean = into_1d(io::take_finite(path, tensors, FRONT_MEAN, &[n])?);
            let std = into_1d(io::take_finite(path, tensors, FRONT_STD, &[n])?);
            dnn.set_front_normalisation(mean, std).map_err(in_file)?;
            dnn.front.as_mut().expect("built from arch").params = params;
        }
        let mean = into_1d(io::take_finite(path, tensors, "input_mean", &[d])?);
        let std = into_1d(io::take_finite(path, tensors, "input_std", &[d])?);
        dnn.set_normalisation(mean, std).map_err(in_file)?;
        Ok(dnn)
    }
}

const FRONT_BIAS: &str = "front.bias";
const FRONT_MEAN: &str = "front.norm_mean";
const FRONT_STD: &str = "front.norm_std";

/// Take the front end's parameters (`{prefix}front.weight` or `.weight_param`, and `.bias` for a
/// time convolution) out of loaded tensors, checking shapes; `None` without a front end.
pub(crate) fn take_front(
    arch: &Architecture,
    path: &Path,
    tensors: &mut BTreeMap<String, ArrayD<f32>>,
    prefix: &str,
) -> Result<Option<Linear>> {
    let (rows, cols, bias) = match &arch.front {
        Front::None => return Ok(None),
        Front::Filterbank(f) => (f.filters, arch.feature_dim, 0),
        Front::Timeconv(t) => (t.filters, t.taps, t.filters),
    };
    let name = format!("{prefix}{}", arch.front.weight_name());
    let weight = into_2d(io::take_finite(path, tensors, &name, &[rows, cols])?);
    let bias = match bias {
        0 => Array1::zeros(0),
        n => into_1d(io::take_finite(
            path,
            tensors,
            &format!("{prefix}{FRONT_BIAS}"),
            &[n],
        )?),
    };
    Ok(Some(Linear { weight, bias }))
}

/// Take `{prefix}layers.{i}.weight` / `.bias` out of loaded tensors, checking shapes.
pub(crate) fn take_layers(
    arch: &Architecture,
    path: &Path,
    tensors: &mut BTreeMap<String, ArrayD<f32>>,
    prefix: &str,
) -> Result<Vec<Linear>> {
    let dims = arch.layer_dims();
    let names = tensor_names(dims.len());
    dims.iter()
        .zip(names)
        .map(|(&(fan_in, fan_out), (w, b))| {
            Ok(Linear {
                weight: into_2d(io::take_finite(
                    path,
                    tensors,
                    &format!("{prefix}{w}"),
                    &[fan_out, fan_in],
                )?),
                bias: into_1d(io::take_finite(
                    path,
                    tensors,
                    &format!("{prefix}{b}"),
                    &[fan_out],
                )?),
            })
        })
        .collect()
}

pub(crate) fn tensor_names(layers: usize) -> Vec<(String, String)> {
    (0..layers)
        .map(|i| (format!("layers.{i}.weight"), format!("layers.{i}.bias")))
        .collect()
}

pub(crate) fn into_2d(a: ArrayD<f32>) -> Array2<f32> {
    a.into_dimensionality::<Ix2>().expect("shape checked")
}

pub(crate) fn into_1d(a: ArrayD<f32>) -> Array1<f32> {
    a.into_dimensionality::<Ix1>().expect("shape checked")
}

const FORMAT: &str = "asrpipe-dnn";

/// The JSON beside a model file.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Metadata {
    format: String,
    version: u32,
    /// Hidden layers as a spec string (informative; `hidden` is authoritative).
    spec: String,
    #[serde(flatten)]
    pub(crate) arch: Architecture,
    /// Width of the MLP's input (after the front end, if any).
    input_dim: usize,
    num_params: usize,
    /// How to use the tensors without asrpipe.
    usage: String,
}

impl Metadata {
    pub(crate) fn new(arch: &Architecture) -> Metadata {
        Metadata {
            format: FORMAT.to_string(),
            version: 1,
            spec: hidden_spec(&arch.hidden),
            arch: arch.clone(),
            input_dim: arch.input_dim(),
            num_params: arch.num_params(),
            usage: match arch.front {
                Front::None => "x = (feats - input_mean) / input_std; splice frames \
                    t-context..t+context (edges repeat), concatenated oldest first; layers.{i} \
                    are torch.nn.Linear; activation after every layer but the last; log_softmax \
                    at the end"
                    .to_string(),
                _ => format!(
                    "{}; x = z of frames t-context..t+context (edges repeat), concatenated \
                     oldest first; layers.{{i}} are torch.nn.Linear; activation after every \
                     layer but the last; log_softmax at the end",
                    arch.front.usage()
                ),
            },
        }
    }
}
