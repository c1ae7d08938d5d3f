//! The hidden layers of a network as one type, parsed once at the edge (YAML, command line):
//! `8x1000` (8 layers of 1000), `1000,500,250` (widths), `2x1000,500`, or `none` (no hidden layer).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Most hidden layers a spec may name: far deeper than any MLP trained here, and small enough
/// that the list of widths itself is never a memory problem (`1000000000x10` would be 8 GB).
pub const MAX_HIDDEN_LAYERS: usize = 1000;

/// Widths of the hidden layers, input side first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HiddenSpec(Vec<usize>);

impl HiddenSpec {
    /// `layers` hidden layers of `width` units.
    pub fn uniform(layers: usize, width: usize) -> HiddenSpec {
        HiddenSpec(vec![width; layers])
    }

    /// Layers of these widths (each at least 1, at most [`MAX_HIDDEN_LAYERS`] of them).
    pub fn new(widths: Vec<usize>) -> Result<HiddenSpec> {
        if widths.len() > MAX_HIDDEN_LAYERS {
            return Err(Error::invalid(format!(
                "{} hidden layers: at most {MAX_HIDDEN_LAYERS} are supported",
                widths.len()
            )));
        }
        if widths.contains(&0) {
            return Err(Error::invalid(format!(
                "hidden layer widths {widths:?}: sizes must be at least 1"
            )));
        }
        Ok(HiddenSpec(widths))
    }

    /// Hidden-layer widths, input side first.
    pub fn widths(&self) -> &[usize] {
        &self.0
    }

    /// Number of hidden layers.
    pub fn depth(&self) -> usize {
        self.0.len()
    }
}

impl FromStr for HiddenSpec {
    type Err = Error;

    /// Comma-separated items, each `W` (one layer of W units) or `NxW` (N layers of W); `none`
    /// means no hidden layer (softmax regression). An empty spec is an error, not `none`.
    fn from_str(spec: &str) -> Result<HiddenSpec> {
        let s = spec.trim();
        if s.eq_ignore_ascii_case("none") {
            return Ok(HiddenSpec(Vec::new()));
        }
        let bad = |why: &str| {
            Error::invalid(format!(
                "hidden layer spec {spec:?}: {why} (expected e.g. 8x1000, 1000,500,250 or none)"
            ))
        };
        if s.is_empty() {
            return Err(bad("empty"));
        }
        let number = |t: &str| -> Result<usize> {
            match t.trim().parse::<usize>() {
                Ok(0) => Err(bad("sizes must be at least 1")),
                Ok(n) => Ok(n),
                Err(_) => Err(bad(&format!("{:?} is not a whole number", t.trim()))),
            }
        };
        let mut widths = Vec::new();
        for item in s.split(',') {
            let (n, w) = match item.split_once(['x', 'X']) {
                Some((n, w)) => (number(n)?, number(w)?),
                None => (1, number(item)?),
            };
            if n > MAX_HIDDEN_LAYERS - widths.len() {
                return Err(bad(&format!("more than {MAX_HIDDEN_LAYERS} hidden layers")));
            }
            widths.extend(std::iter::repeat_n(w, n));
        }
        Ok(HiddenSpec(widths))
    }
}

impl TryFrom<String> for HiddenSpec {
    type Error = Error;
    fn try_from(s: String) -> Result<HiddenSpec> {
        s.parse()
    }
}

impl From<HiddenSpec> for String {
    fn from(h: HiddenSpec) -> String {
        h.to_string()
    }
}

impl fmt::Display for HiddenSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hidden_spec(&self.0))
    }
}

/// Canonical spec of a list of widths: `8x1000` when all are equal, else `1000,500,250`; `none`.
pub fn hidden_spec(widths: &[usize]) -> String {
    match widths {
        [] => "none".to_string(),
        [w, rest @ ..] if !rest.is_empty() && rest.iter().all(|v| v == w) => {
            format!("{}x{w}", widths.len())
        }
        _ => widths
            .iter()
            .map(|w| w.to_string())
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// Parameters of a stack of fully connected layers: sum of `in*out + out` (saturating: a net
/// too large to count is too large to train, which the memory check then says).
pub fn count_params(input_dim: usize, hidden: &[usize], output_dim: usize) -> usize {
    let mut dims = vec![input_dim];
    dims.extend_from_slice(hidden);
    dims.push(output_dim);
    dims.windows(2)
        .map(|w| w[0].saturating_mul(w[1]).saturating_add(w[1]))
        .fold(0, usize::saturating_add)
}

/// Width of the one-hidden-layer net whose parameter count is closest to that of `spec` (for the
/// deep-thin vs shallow-fat comparison). `input_dim` is the network input (after splicing).
/// One hidden layer of width `h` has `h*(input_dim + output_dim + 1) + output_dim` parameters.
pub fn match_params(spec: &HiddenSpec, input_dim: usize, output_dim: usize) -> usize {
    let target = count_params(input_dim, spec.widths(), output_dim);
    let per_unit = input_dim + output_dim + 1;
    let h = (target.saturating_sub(output_dim) / per_unit).max(1);
    let count = |h: usize| h.saturating_mul(per_unit).saturating_add(output_dim);
    if target.abs_diff(count(h + 1)) < target.abs_diff(count(h)) {
        h + 1
    } else {
        h
    }
}
