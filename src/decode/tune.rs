//! The grid of decoding settings a scored model is also decoded with, so that models of
//! different families (a GMM's peaked likelihoods, a DNN's flatter hybrid scores) are compared
//! each at its own best balance of acoustics against the phone LM, as Kaldi's `score.sh` does
//! (it rescans the lattice with `--inv-acoustic-scale` 1..10 and word insertion penalties
//! 0, 0.5, 1). Here each point is a full decode: the search is fast enough (>= 1000x real time)
//! that no lattice is needed.
//!
//! The point is chosen on held-out speakers (the dev split) where a corpus has them; without
//! them, the best point on the test set itself is reported, labelled as such: optimistic, and
//! the way Kaldi's published TIMIT figures are made.

use serde::{Deserialize, Serialize};

use crate::decode::DecodeConfig;
use crate::error::{Error, Result};

/// `hmm.tune`: the acoustic scales and insertion penalties decoded in every combination.
/// Empty lists turn the grid off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TuneConfig {
    /// Acoustic scales to try (Kaldi's LM weights 1..14 seen from the acoustic side: 1/LMWT).
    pub acoustic_scales: Vec<f32>,
    /// Insertion penalties to try (added per phone entered; negative: fewer phones).
    pub insertion_penalties: Vec<f32>,
}

impl Default for TuneConfig {
    fn default() -> Self {
        TuneConfig {
            acoustic_scales: [1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 14.0]
                .iter()
                .map(|k| 1.0 / k)
                .collect(),
            insertion_penalties: vec![-1.0, 0.0, 1.0],
        }
    }
}

impl crate::options::Describe for TuneConfig {
    fn option_docs() -> Vec<crate::options::OptionDoc> {
        let d = TuneConfig::default();
        let list = |v: &[f32]| {
            let items: Vec<String> = v.iter().map(|x| format!("{x:.3}")).collect();
            format!("[{}]", items.join(", "))
        };
        vec![
            crate::options::OptionDoc {
                name: "acoustic_scales",
                help: "Acoustic scales tried (1/LMWT of Kaldi's score.sh); [] with [] below: no grid.",
                default: list(&d.acoustic_scales),
            },
            crate::options::OptionDoc {
                name: "insertion_penalties",
                help: "Insertion penalties tried; the point is chosen on dev, or reported as best on test (optimistic) without dev speakers.",
                default: list(&d.insertion_penalties),
            },
        ]
    }
}

impl TuneConfig {
    /// No grid: only the configured settings are decoded.
    pub fn off() -> TuneConfig {
        TuneConfig {
            acoustic_scales: Vec::new(),
            insertion_penalties: Vec::new(),
        }
    }

    /// True when the grid has at least one point.
    pub fn is_on(&self) -> bool {
        !self.acoustic_scales.is_empty() && !self.insertion_penalties.is_empty()
    }

    /// Check every value (the same ranges as [`DecodeConfig`]) and that both lists are given or
    /// neither is.
    pub fn validate(&self) -> Result<()> {
        if self.acoustic_scales.is_empty() != self.insertion_penalties.is_empty() {
            return Err(Error::invalid(
                "tune: give both acoustic_scales and insertion_penalties, or neither (no grid)",
            ));
        }
        if self.acoustic_scales.len() * self.insertion_penalties.len() > 400 {
            return Err(Error::invalid(format!(
                "tune: {} x {} points is more than 400 decodes of every scored utterance",
                self.acoustic_scales.len(),
                self.insertion_penalties.len()
            )));
        }
        for p in self.points(&DecodeConfig::default()) {
            p.validate()
                .map_err(|e| Error::invalid(format!("tune: {e}")))?;
        }
        Ok(())
    }

    /// The grid's decoding settings: `base` with each acoustic scale and penalty (scales outer).
    pub fn points(&self, base: &DecodeConfig) -> Vec<DecodeConfig> {
        let mut out = Vec::new();
        for &a in &self.acoustic_scales {
            for &p in &self.insertion_penalties {
                out.push(DecodeConfig {
                    acoustic_scale: a,
                    insertion_penalty: p,
                    ..base.clone()
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grid_is_every_combination_with_scales_outer() {
        let t = TuneConfig {
            acoustic_scales: vec![0.1, 0.5],
            insertion_penalties: vec![-1.0, 0.0, 2.0],
        };
        let base = DecodeConfig {
            beam: 9.0,
            ..DecodeConfig::default()
        };
        let p = t.points(&base);
        assert_eq!(p.len(), 6);
        assert_eq!((p[0].acoustic_scale, p[0].insertion_penalty), (0.1, -1.0));
        assert_eq!((p[2].acoustic_scale, p[2].insertion_penalty), (0.1, 2.0));
        assert_eq!((p[3].acoustic_scale, p[3].insertion_penalty), (0.5, -1.0));
        assert!(p.iter().all(|c| c.beam == 9.0));
        assert!(t.validate().is_ok());
        assert!(!TuneConfig::off().is_on() && TuneConfig::off().validate().is_ok());
    }

    #[test]
    fn bad_grids_are_refused_with_the_option_named() {
        let half = TuneConfig {
            acoustic_scales: vec![0.1],
            insertion_penalties: vec![],
        };
        assert!(half.validate().unwrap_err().to_string().contains("neither"));
        let neg = TuneConfig {
            acoustic_scales: vec![-0.1],
            insertion_penalties: vec![0.0],
        };
        let e = neg.validate().unwrap_err().to_string();
        assert!(e.contains("tune") && e.contains("acoustic_scale"), "{e}");
        let nan = TuneConfig {
            acoustic_scales: vec![0.1],
            insertion_penalties: vec![f32::NAN],
        };
        assert!(
            nan.validate()
                .unwrap_err()
                .to_string()
                .contains("insertion_penalty")
        );
    }
}
