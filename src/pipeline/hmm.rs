//! The `hmm:` section of a pipeline file: the phone HMMs trained with every model, and how they
//! decode and align. Every subsection is optional; absent options take their defaults.
//!
//! ```yaml
//! hmm:
//!   topology: { states_per_phone: 3, self_loop_prob: 0.75 }   # only 3 states per phone today
//!   decode: { lm_weight: 1, insertion_penalty: 0, beam: 13, acoustic_scale: 0.1 }
//!   align: { beam: 10, retry_beam: 40 }
//!   tune: { acoustic_scales: [1, 0.5, 0.25, 0.1], insertion_penalties: [-1, 0, 1] }   # [] [] : off
//!   flat_start: { iterations: 40, total_gaussians: 1000, baum_welch_passes: 0 }   # --flat-start
//!   sat: { rounds: 0 }   # speaker-adaptive training after a flat start; 0: off
//! ```

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::decode::{AlignConfig, DecodeConfig, TuneConfig};
use crate::error::Result;
use crate::model::gmm::flat_start::FlatStartConfig;
use crate::model::gmm::sat::SatConfig;
use crate::model::hmm::HmmConfig;
use crate::options::{Describe, OptionDoc};

/// The `hmm:` section: topology and transitions, decoding, forced alignment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HmmSection {
    /// States per phone and transition estimation (stored with the model at training).
    pub topology: HmmConfig,
    /// Phone-loop decoding at `asrpipe eval` (flags override it).
    pub decode: DecodeConfig,
    /// Forced alignment at `asrpipe align`.
    pub align: AlignConfig,
    /// The grid of decoding settings every scored model is also decoded with.
    pub tune: TuneConfig,
    /// Monophone training from transcripts alone (`asrpipe train --flat-start`; `--seed`
    /// replaces its seed).
    pub flat_start: FlatStartConfig,
    /// Speaker-adaptive training (fMLLR) after a flat start (`asrpipe train --flat-start`).
    pub sat: SatConfig,
}

impl HmmSection {
    /// True when every option has its default (the section is then not written out).
    pub fn is_default(&self) -> bool {
        *self == HmmSection::default()
    }

    /// Check every subsection's ranges.
    pub fn validate(&self) -> Result<()> {
        self.topology.validate()?;
        self.decode.validate()?;
        self.align.validate()?;
        self.tune.validate()?;
        self.flat_start.validate()?;
        self.sat.validate()
    }
}

/// `hmm:` as written, with each subsection's line for errors.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct HmmFile {
    topology: Option<Spanned<HmmConfig>>,
    decode: Option<Spanned<DecodeConfig>>,
    align: Option<Spanned<AlignConfig>>,
    tune: Option<Spanned<TuneConfig>>,
    flat_start: Option<Spanned<FlatStartConfig>>,
    sat: Option<Spanned<SatConfig>>,
}

impl HmmFile {
    /// The section, or the first subsection whose options are out of range as
    /// (1-based line, `hmm.<name>: `, error).
    pub(super) fn resolve(
        self,
        section_line: usize,
    ) -> std::result::Result<HmmSection, (usize, &'static str, crate::error::Error)> {
        fn line<T>(s: &Option<Spanned<T>>, or: usize) -> usize {
            s.as_ref().map_or(or, |s| s.referenced.line() as usize)
        }
        let lines = [
            line(&self.topology, section_line),
            line(&self.decode, section_line),
            line(&self.align, section_line),
            line(&self.tune, section_line),
            line(&self.flat_start, section_line),
            line(&self.sat, section_line),
        ];
        let section = HmmSection {
            topology: self.topology.map(|s| s.value).unwrap_or_default(),
            decode: self.decode.map(|s| s.value).unwrap_or_default(),
            align: self.align.map(|s| s.value).unwrap_or_default(),
            tune: self.tune.map(|s| s.value).unwrap_or_default(),
            flat_start: self.flat_start.map(|s| s.value).unwrap_or_default(),
            sat: self.sat.map(|s| s.value).unwrap_or_default(),
        };
        let checks = [
            ("hmm.topology: ", section.topology.validate()),
            ("hmm.decode: ", section.decode.validate()),
            ("hmm.align: ", section.align.validate()),
            ("hmm.tune: ", section.tune.validate()),
            ("hmm.flat_start: ", section.flat_start.validate()),
            ("hmm.sat: ", section.sat.validate()),
        ];
        for ((name, check), line) in checks.into_iter().zip(lines) {
            if let Err(e) = check {
                return Err((line, name, e));
            }
        }
        Ok(section)
    }
}

impl crate::pipeline::Pipeline {
    /// One line saying what the `hmm:` section asks for, for `asrpipe check`.
    pub fn describe_hmm(&self) -> String {
        let (t, d) = (&self.hmm.topology, &self.hmm.decode);
        format!(
            "{} states per phone, initial self-loop {}; decoding with LM weight {}, insertion \
             penalty {}, acoustic scale {}, prior scale {}, beam {}, max active {}; {}; {}; {}{}",
            t.states_per_phone,
            t.self_loop_prob,
            d.lm_weight,
            d.insertion_penalty,
            d.acoustic_scale,
            d.prior_scale,
            d.beam,
            d.max_active,
            if self.hmm.tune.is_on() {
                format!(
                    "also decoded at {} acoustic scales x {} insertion penalties",
                    self.hmm.tune.acoustic_scales.len(),
                    self.hmm.tune.insertion_penalties.len()
                )
            } else {
                "no tuning grid".to_string()
            },
            self.describe_flat_start(),
            match self.hmm.sat.rounds {
                0 => "no speaker adaptation after a flat start".to_string(),
                n => format!("{n} rounds of speaker-adaptive training after a flat start"),
            },
            if self.hmm.is_default() {
                " (defaults)"
            } else {
                ""
            }
        )
    }

    /// The flat start's passes, Gaussians and training kind, for [`Self::describe_hmm`].
    fn describe_flat_start(&self) -> String {
        let f = &self.hmm.flat_start;
        format!(
            "a flat start trains {} passes toward {} Gaussians, {}",
            f.iterations,
            f.total_gaussians,
            match f.baum_welch_passes {
                0 => "Viterbi training throughout".to_string(),
                n => format!("the first {n} after the first by Baum-Welch"),
            }
        )
    }
}

/// Options of every `hmm:` subsection, for `asrpipe stages`.
pub fn hmm_docs() -> Vec<(&'static str, Vec<OptionDoc>)> {
    vec![
        ("topology", HmmConfig::option_docs()),
        ("decode", DecodeConfig::option_docs()),
        ("align", AlignConfig::option_docs()),
        ("tune", TuneConfig::option_docs()),
        ("flat_start", FlatStartConfig::option_docs()),
        ("sat", SatConfig::option_docs()),
    ]
}
