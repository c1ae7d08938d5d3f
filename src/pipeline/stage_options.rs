//! Setting stage options by name on a built pipeline (`Pipeline.kaldi_mfcc(num_ceps=20)` from
//! Python): each option goes to the last stage that has an option of that name, so the energy
//! options (`use_energy`, `raw_energy`, `energy_floor`) land on the stage that ends the chain, as
//! Kaldi's options do. Values are checked by the stages' own deserialisers and constructors, so
//! the messages are those of a YAML file.

use crate::error::{Error, Result};
use crate::pipeline::{Pipeline, StageConfig, stage_docs};

impl Pipeline {
    /// A copy with `options` (name, value) set; `sample_rate` and `resample` set the pipeline's
    /// own fields. Unknown names and bad values are errors naming the option.
    pub fn with_stage_options(&self, options: &[(String, serde_json::Value)]) -> Result<Pipeline> {
        let mut p = self.clone();
        let docs = stage_docs();
        for (name, value) in options {
            let bad = |e: &dyn std::fmt::Display| Error::invalid(format!("option `{name}`: {e}"));
            match name.as_str() {
                "sample_rate" => {
                    p.sample_rate = serde_json::from_value(value.clone()).map_err(|e| bad(&e))?;
                    if p.sample_rate < 1000 {
                        return Err(bad(&format!(
                            "sample_rate {} is too low (at least 1000 Hz)",
                            p.sample_rate
                        )));
                    }
                    continue;
                }
                "resample" => {
                    p.resample = serde_json::from_value(value.clone()).map_err(|e| bad(&e))?;
                    continue;
                }
                _ => {}
            }
            let has = |kind| {
                docs.iter()
                    .any(|(k, d)| *k == kind && d.iter().any(|o| o.name == name))
            };
            let Some(i) = p.stages.iter().rposition(|s| has(s.kind())) else {
                let mut known: Vec<&str> = p
                    .stages
                    .iter()
                    .flat_map(|s| docs.iter().filter(move |(k, _)| *k == s.kind()))
                    .flat_map(|(_, d)| d.iter().map(|o| o.name))
                    .collect();
                known.sort_unstable();
                known.dedup();
                return Err(Error::invalid(format!(
                    "unknown option `{name}` for the stages {} (options: {}, sample_rate, resample)",
                    p.kinds()
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                    known.join(", ")
                )));
            };
            let mut json = serde_json::to_value(&p.stages[i]).expect("stage options serialise");
            json.as_object_mut()
                .and_then(|m| m.values_mut().next())
                .and_then(|o| o.as_object_mut())
                .expect("a stage serialises as { name: { options } }")
                .insert(name.clone(), value.clone());
            p.stages[i] = serde_json::from_value::<StageConfig>(json).map_err(|e| bad(&e))?;
        }
        // Build the chain once: range checks and combinations (mel bins vs FFT size, energy on a
        // stage that is not last) report here, without the built-in file's lines.
        p.frontend().map_err(|e| match e {
            Error::AtLine { msg, .. } => Error::invalid(msg),
            e => e,
        })?;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(p: &Pipeline, name: &str, v: serde_json::Value) -> Result<Pipeline> {
        p.with_stage_options(&[(name.to_string(), v)])
    }

    #[test]
    fn options_land_on_the_last_stage_that_has_them() {
        let mfcc = Pipeline::kaldi_mfcc();
        let p = set(&mfcc, "num_ceps", json!(20)).unwrap();
        assert_eq!(p.frontend().unwrap().dim(), 20);
        let p = set(&mfcc, "use_energy", json!(false)).unwrap();
        let (StageConfig::Log(log), StageConfig::Dct(dct)) = (&p.stages[4], &p.stages[5]) else {
            panic!("kaldi-mfcc ends with log, dct")
        };
        assert!(!dct.use_energy && !log.use_energy);
        let p = set(&Pipeline::kaldi_fbank(), "use_energy", json!(true)).unwrap();
        assert_eq!(p.frontend().unwrap().dim(), 24);
        let p = set(&mfcc, "sample_rate", json!(8000)).unwrap();
        assert_eq!(p.sample_rate, 8000);
    }

    #[test]
    fn bad_names_and_values_are_errors_naming_the_option() {
        let mfcc = Pipeline::kaldi_mfcc();
        let e = set(&mfcc, "num_cepz", json!(20)).unwrap_err().to_string();
        assert!(
            e.starts_with("unknown option `num_cepz` for the stages waveform, dft"),
            "{e}"
        );
        let e = set(&mfcc, "dither", json!("x")).unwrap_err().to_string();
        assert!(
            e.starts_with("option `dither`: invalid type: string \"x\""),
            "{e}"
        );
        let e = set(&mfcc, "dither", json!(-1.0)).unwrap_err().to_string();
        assert!(e.starts_with("dither must be between 0 and 32768"), "{e}");
        let e = set(&mfcc, "sample_rate", json!(10))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "option `sample_rate`: sample_rate 10 is too low (at least 1000 Hz)"
        );
    }
}
