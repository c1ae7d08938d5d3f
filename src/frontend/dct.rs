//! DCT: orthonormal DCT-II of the log filter bank, keeping the first coefficients, then Kaldi's
//! cepstral lifter 1 + Q/2 sin(pi i / Q). With `use_energy`, c0 is replaced by the log frame energy.
//! The transform is one matrix product per block of frames.

use ndarray::linalg::general_mat_mul;
use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2};

use super::framing::EnergyMode;
use super::log::{check_energy_floor, energy_mode, floored_log_energy};
use super::{Stage, StageKind, StageScratch};
use crate::error::{Error, Result};
use crate::options;

options! {
    /// DCT-II with lifter: MFCC from the log filter bank.
    pub struct DctOptions {
        /// Number of cepstral coefficients kept (including c0), 1 to the input dimension.
        num_ceps: usize = 13,
        /// Lifter coefficient Q, finite and >= 0 (0 = no lifter).
        cepstral_lifter: f32 = 22.0,
        /// Replace c0 with the log frame energy.
        use_energy: bool = true,
        /// Energy before pre-emphasis and window (true) or after the window.
        raw_energy: bool = true,
        /// Floor on the energy (not its log), finite and >= 0; 0 = none.
        energy_floor: f32 = 0.0,
    }
}

impl DctOptions {
    /// Which energy the framing stage must compute for this DCT (`use_energy`, `raw_energy`).
    pub fn energy_mode(&self) -> EnergyMode {
        energy_mode(self.use_energy, self.raw_energy)
    }
}

/// The DCT stage: DCT-II of the log-mel energies keeping `num_ceps`, with the cepstral lifter
/// folded into one matrix, optionally c0 replaced by the log energy (Kaldi's `use_energy`).
#[derive(Debug, Clone)]
pub struct Dct {
    /// (input dim x num_ceps): DCT rows transposed, lifter folded in.
    matrix: Array2<f32>,
    opts: DctOptions,
}

impl Dct {
    /// Build the matrix for `input_dim` mel bins; refuses `num_ceps` outside 1..=`input_dim`.
    pub fn new(opts: &DctOptions, input_dim: usize) -> Result<Self> {
        if opts.num_ceps == 0 || opts.num_ceps > input_dim {
            return Err(Error::invalid(format!(
                "dct num_ceps must be between 1 and the input dimension {input_dim}, got {}",
                opts.num_ceps
            )));
        }
        // 1 + Q/2 sin(pi i / Q) stays within 1 + pi i / 2 for any finite Q >= 0.
        if !(opts.cepstral_lifter >= 0.0 && opts.cepstral_lifter.is_finite()) {
            return Err(Error::invalid(format!(
                "dct cepstral_lifter must be finite and >= 0 (0 = none), got {}",
                opts.cepstral_lifter
            )));
        }
        check_energy_floor(opts.energy_floor)?;
        let dct = dct_matrix(opts.num_ceps, input_dim);
        let lifter = lifter_coefficients(opts.num_ceps, opts.cepstral_lifter);
        let matrix =
            Array2::from_shape_fn((input_dim, opts.num_ceps), |(n, k)| dct[[k, n]] * lifter[k]);
        Ok(Dct {
            matrix,
            opts: opts.clone(),
        })
    }
}

/// Kaldi's `ComputeDctMatrix`: row k, column n = sqrt(2/N) cos(pi/N (n + 1/2) k), row 0 = sqrt(1/N).
pub fn dct_matrix(num_ceps: usize, n: usize) -> Array2<f32> {
    Array2::from_shape_fn((num_ceps, n), |(k, j)| {
        if k == 0 {
            (1.0 / n as f64).sqrt() as f32
        } else {
            ((2.0 / n as f64).sqrt()
                * (std::f64::consts::PI / n as f64 * (j as f64 + 0.5) * k as f64).cos())
                as f32
        }
    })
}

/// Kaldi's `ComputeLifterCoeffs`: 1 + Q/2 sin(pi i / Q); all ones when Q is 0.
pub fn lifter_coefficients(num_ceps: usize, q: f32) -> Array1<f32> {
    Array1::from_shape_fn(num_ceps, |i| {
        if q == 0.0 {
            1.0
        } else {
            (1.0 + 0.5 * q as f64 * (std::f64::consts::PI * i as f64 / q as f64).sin()) as f32
        }
    })
}

impl Stage for Dct {
    fn kind(&self) -> StageKind {
        StageKind::Dct
    }

    fn dim(&self) -> usize {
        self.opts.num_ceps
    }

    fn process_into(
        &self,
        input: ArrayView2<f32>,
        energy: Option<&[f32]>,
        mut output: ArrayViewMut2<f32>,
        _scratch: &mut StageScratch,
    ) {
        general_mat_mul(1.0, &input, &self.matrix, 0.0, &mut output);
        if let (Some(energy), true) = (energy, self.opts.use_energy) {
            for (f, &e) in energy.iter().enumerate() {
                output[[f, 0]] = floored_log_energy(e, self.opts.energy_floor);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::Frames;
    use ndarray::array;

    #[test]
    fn dct_is_orthonormal() {
        let m = dct_matrix(23, 23);
        let eye = m.dot(&m.t());
        for i in 0..23 {
            for j in 0..23 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((eye[[i, j]] - want).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn lifter_values_by_hand() {
        let l = lifter_coefficients(13, 22.0);
        assert_eq!(l[0], 1.0);
        // 1 + 11 sin(pi/22) = 1 + 11 * 0.142315 = 2.565463
        assert!((l[1] - 2.565_463).abs() < 1e-5);
        // 1 + 11 sin(pi 11/22) = 12
        assert!((lifter_coefficients(12, 22.0)[11] - 12.0).abs() < 1e-5);
    }

    #[test]
    fn constant_log_spectrum_has_only_c0() {
        // A flat log spectrum of value v over N bins has c0 = sqrt(N) v and nothing else.
        let opts = DctOptions {
            use_energy: false,
            ..Default::default()
        };
        let dct = Dct::new(&opts, 23).unwrap();
        let out = dct.process(Frames {
            data: Array2::from_elem((1, 23), 2.0),
            log_energy: None,
        });
        assert!((out.data[[0, 0]] - 2.0 * 23f32.sqrt()).abs() < 1e-4);
        assert!(out.data.iter().skip(1).all(|v| v.abs() < 1e-4));
        let with_energy = Dct::new(&DctOptions::default(), 23)
            .unwrap()
            .process(Frames {
                data: Array2::from_elem((1, 23), 2.0),
                log_energy: Some(array![7.0f32]),
            });
        assert_eq!(with_energy.data[[0, 0]], 7.0);
    }
}
