//! Log: natural log of each value, floored first (Kaldi floors at the float epsilon).
//! As the last stage of a filter-bank chain it can also add the frame's log energy (Kaldi fbank's
//! `use_energy`), first or, HTK style, last.

use ndarray::{ArrayView2, ArrayViewMut2, s};

use super::framing::EnergyMode;
use super::{Stage, StageKind, StageScratch};
use crate::error::{Error, Result};
use crate::options;

options! {
    /// Natural log with a floor.
    pub struct LogOptions {
        /// Values below this are raised to it before the log; positive and finite (the log of 0 is -inf).
        floor: f32 = f32::EPSILON,
        /// Add the frame's log energy as an extra column (only when log is the last stage).
        use_energy: bool = false,
        /// Energy before pre-emphasis and window (true) or after the window.
        raw_energy: bool = true,
        /// Floor on the energy (not its log), finite and >= 0; 0 = none.
        energy_floor: f32 = 0.0,
        /// Put the energy column last (HTK order) instead of first (Kaldi).
        energy_last: bool = false,
    }
}

impl LogOptions {
    /// Which energy the framing stage must compute for this stage (`use_energy`, `raw_energy`).
    pub fn energy_mode(&self) -> EnergyMode {
        energy_mode(self.use_energy, self.raw_energy)
    }

    /// Refuse values that can only give non-finite output.
    pub fn check(&self) -> Result<()> {
        if !(self.floor > 0.0 && self.floor.is_finite()) {
            return Err(Error::invalid(format!(
                "log floor must be positive and finite (the log of 0 is -inf), got {}",
                self.floor
            )));
        }
        check_energy_floor(self.energy_floor)
    }
}

/// `energy_floor` of log and dct: 0 (none) or a positive, finite energy.
pub(crate) fn check_energy_floor(energy_floor: f32) -> Result<()> {
    if !(energy_floor >= 0.0 && energy_floor.is_finite()) {
        return Err(Error::invalid(format!(
            "energy_floor must be finite and >= 0 (0 = none), got {energy_floor}"
        )));
    }
    Ok(())
}

/// The energy a final stage asks framing for.
pub(crate) fn energy_mode(use_energy: bool, raw: bool) -> EnergyMode {
    match (use_energy, raw) {
        (false, _) => EnergyMode::None,
        (true, true) => EnergyMode::Raw,
        (true, false) => EnergyMode::Windowed,
    }
}

/// Kaldi's energy floor: applied to the log energy as log(energy_floor) when positive.
pub(crate) fn floored_log_energy(log_energy: f32, energy_floor: f32) -> f32 {
    if energy_floor > 0.0 {
        log_energy.max(energy_floor.ln())
    } else {
        log_energy
    }
}

/// The log stage: natural log of each value after the floor, with an optional energy column.
#[derive(Debug, Clone)]
pub struct Log {
    opts: LogOptions,
    input_dim: usize,
}

impl Log {
    /// A log stage for `input_dim`-dimensional input; refuses options that give non-finite output.
    pub fn new(opts: &LogOptions, input_dim: usize) -> Result<Self> {
        opts.check()?;
        Ok(Log {
            opts: opts.clone(),
            input_dim,
        })
    }
}

impl Stage for Log {
    fn kind(&self) -> StageKind {
        StageKind::Log
    }

    fn dim(&self) -> usize {
        self.input_dim + usize::from(self.opts.use_energy)
    }

    fn process_into(
        &self,
        input: ArrayView2<f32>,
        energy: Option<&[f32]>,
        mut output: ArrayViewMut2<f32>,
        _scratch: &mut StageScratch,
    ) {
        let floor = self.opts.floor;
        let log = |o: &mut f32, &v: &f32| *o = v.max(floor).ln();
        match (energy, self.opts.use_energy) {
            (Some(energy), true) => {
                let (e_col, range) = if self.opts.energy_last {
                    (self.input_dim, s![.., ..self.input_dim])
                } else {
                    (0, s![.., 1..])
                };
                output.slice_mut(range).zip_mut_with(&input, log);
                for (f, &e) in energy.iter().enumerate() {
                    output[[f, e_col]] = floored_log_energy(e, self.opts.energy_floor);
                }
            }
            _ => output.zip_mut_with(&input, log),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::Frames;
    use ndarray::array;

    #[test]
    fn floors_then_logs_and_places_energy() {
        let frames = Frames {
            data: array![[1.0f32, 0.0, 4.0]],
            log_energy: Some(array![2.5f32]),
        };
        let plain = Log::new(&LogOptions::default(), 3)
            .unwrap()
            .process(frames.clone());
        let ln4 = 4f32.ln();
        assert_eq!(plain.data, array![[0.0, f32::EPSILON.ln(), ln4]]);
        let first = LogOptions {
            use_energy: true,
            ..Default::default()
        };
        let out = Log::new(&first, 3).unwrap().process(frames.clone());
        assert_eq!(out.data, array![[2.5, 0.0, f32::EPSILON.ln(), ln4]]);
        let last = LogOptions {
            use_energy: true,
            energy_last: true,
            energy_floor: 100.0,
            ..Default::default()
        };
        let out = Log::new(&last, 3).unwrap().process(frames);
        assert_eq!(out.data, array![[0.0, f32::EPSILON.ln(), ln4, 100f32.ln()]]);
    }

    #[test]
    fn floors_that_can_only_give_infinities_are_refused() {
        for floor in [0.0, -1.0, f32::NAN, f32::INFINITY] {
            let opts = LogOptions {
                floor,
                ..Default::default()
            };
            let e = Log::new(&opts, 3).unwrap_err().to_string();
            assert_eq!(
                e,
                format!(
                    "log floor must be positive and finite (the log of 0 is -inf), got {floor}"
                )
            );
        }
        let opts = LogOptions {
            energy_floor: -1.0,
            ..Default::default()
        };
        let e = Log::new(&opts, 3).unwrap_err().to_string();
        assert_eq!(e, "energy_floor must be finite and >= 0 (0 = none), got -1");
        let tiny = LogOptions {
            floor: f32::MIN_POSITIVE,
            ..Default::default()
        };
        let out = Log::new(&tiny, 1).unwrap().process(Frames {
            data: array![[0.0f32]],
            log_energy: None,
        });
        assert!(out.data[[0, 0]].is_finite());
    }
}
