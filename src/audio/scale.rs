//! The scale of float samples handed over in memory. Files decode to 16-bit scale (Kaldi's
//! convention, which every stage's floors and dither assume); float audio from other tools is
//! often in [-1, 1). The two cannot be told apart in general, so the caller says which, and the
//! one case that is almost surely a mistake (no scale given, and fractional samples that never
//! leave [-1, 1]) is refused.

use crate::error::{Error, Result};

/// What float samples are scaled to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleScale {
    /// 16-bit scale: full scale is 32768 (Kaldi, kaldi-native-fbank, torchaudio.compliance.kaldi).
    Int16,
    /// Unit scale: full scale is 1 (soundfile, librosa, torchaudio.load).
    Unit,
}

impl SampleScale {
    /// Parse `int16` or `unit`.
    pub fn parse(name: &str) -> Result<SampleScale> {
        match name {
            "int16" => Ok(SampleScale::Int16),
            "unit" => Ok(SampleScale::Unit),
            _ => Err(Error::invalid(format!(
                "unknown sample scale `{name}` (int16: full scale 32768, unit: full scale 1)"
            ))),
        }
    }
}

/// Bring float samples to 16-bit scale. `None` takes them as 16-bit scale but refuses samples
/// that look unit-scaled: all within [-1, 1] and not all whole numbers (16-bit audio is whole
/// numbers; silence, all zeros, passes). Non-finite samples are left for the frontend to report.
pub fn to_int16_scale(samples: &mut [f32], scale: Option<SampleScale>) -> Result<()> {
    let finite = || samples.iter().filter(|v| v.is_finite());
    match scale {
        Some(SampleScale::Int16) => Ok(()),
        None => {
            let peak = finite().fold(0f32, |m, v| m.max(v.abs()));
            if peak <= 1.0 && finite().any(|v| v.fract() != 0.0) {
                return Err(Error::invalid(format!(
                    "float samples all lie within [-1, 1] (peak {peak}) and are not whole \
                     numbers: they look scaled to [-1, 1), but the features expect 16-bit scale; \
                     say scale=\"unit\" to multiply them by 32768, or scale=\"int16\" if they \
                     really are 16-bit values"
                )));
            }
            Ok(())
        }
        Some(SampleScale::Unit) => {
            let peak = finite().fold(0f32, |m, v| m.max(v.abs()));
            if peak > 1.0 {
                return Err(Error::invalid(format!(
                    "scale \"unit\" but the samples reach {peak}: unit-scale audio lies within \
                     [-1, 1]; say scale=\"int16\" for 16-bit-scale samples"
                )));
            }
            samples.iter_mut().for_each(|v| *v *= 32768.0);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_scale_is_multiplied_and_ambiguous_floats_are_refused() {
        let mut x = [0.5f32, -0.25, 1.0];
        to_int16_scale(&mut x, Some(SampleScale::Unit)).unwrap();
        assert_eq!(x, [16384.0, -8192.0, 32768.0]);
        let mut x = [0.5f32, -0.25];
        let e = to_int16_scale(&mut x, None).unwrap_err().to_string();
        assert!(
            e.starts_with("float samples all lie within [-1, 1] (peak 0.5)"),
            "{e}"
        );
        to_int16_scale(&mut x, Some(SampleScale::Int16)).unwrap();
        // Whole numbers within [-1, 1] (quiet 16-bit audio, silence) and loud floats pass.
        to_int16_scale(&mut [0.0, 1.0, -1.0], None).unwrap();
        to_int16_scale(&mut [0.5, 300.25], None).unwrap();
        let e = to_int16_scale(&mut [2.0], Some(SampleScale::Unit)).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("scale \"unit\" but the samples reach 2")
        );
        assert!(SampleScale::parse("float").is_err());
    }
}
