//! The two numeric kernels the GMM spends its time in: the shared matrix product on strided views
//! ([`crate::model::matmul`]) and a vectorisable exponential for log-sum-exp over many Gaussians at
//! once.

pub use crate::model::matmul::{Parallelism, matmul_into};

const LOG2E: f32 = std::f32::consts::LOG2_E;
// ln 2 split in a part exact in f32 and a remainder (Cephes), so n*ln2 is subtracted without loss.
const LN2_HI: f32 = 0.693_359_4;
const LN2_LO: f32 = -2.121_944_4e-4;
// 1.5 * 2^23: adding it rounds to the nearest integer in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;

/// e^x to ~2 ulp for x in [-87, 88] (clamped outside), written without branches so that loops
/// over it vectorise. Cephes expf: x = n ln2 + r, |r| <= ln2/2, degree-6 polynomial for e^r.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let t = x.mul_add(LOG2E, ROUND_MAGIC);
    let n = t - ROUND_MAGIC;
    let r = x - n * LN2_HI - n * LN2_LO;
    let z = r * r;
    let mut p = 1.987_569_1e-4_f32;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 0.5);
    let e = p.mul_add(z, r) + 1.0;
    // n + 127 is the biased exponent of 2^n; the clamp keeps it within 1..=254.
    let ni = t.to_bits() as i32 - ROUND_MAGIC.to_bits() as i32;
    e * f32::from_bits(((ni + 127) << 23) as u32)
}

/// In place `v[i] = exp(v[i] - shift)`; returns the sum of the results.
#[inline(always)]
fn exp_shifted_generic(v: &mut [f32], shift: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = v.chunks_exact_mut(8);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c.iter_mut()) {
            *x = exp(*x - shift);
            *a += *x;
        }
    }
    let mut sum = 0.0;
    for x in chunks.into_remainder() {
        *x = exp(*x - shift);
        sum += *x;
    }
    sum + acc.iter().sum::<f32>()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn exp_shifted_avx2(v: &mut [f32], shift: f32) -> f32 {
    exp_shifted_generic(v, shift)
}

/// In place `v[i] = exp(v[i] - shift)`, returning the sum; AVX2+FMA where the CPU has them.
pub fn exp_shifted(v: &mut [f32], shift: f32) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the features this function is compiled for were just detected.
        return unsafe { exp_shifted_avx2(v, shift) };
    }
    exp_shifted_generic(v, shift)
}

/// log Σ exp(v), stable for any magnitudes; −inf for an empty or all −inf slice. `v` is
/// overwritten with exp(v - max) (callers reuse it as scratch or as unnormalised posteriors).
pub fn log_sum_exp_in_place(v: &mut [f32]) -> f32 {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if max == f32::NEG_INFINITY {
        return max;
    }
    let sum = exp_shifted(v, max);
    max + sum.ln()
}

/// ln x for positive normal x, to ~2 ulp, branch-free so that loops over it vectorise
/// (Cephes logf: x = m 2^e with m in [√½, √2), polynomial in m - 1).
#[inline(always)]
pub fn ln(x: f32) -> f32 {
    let bits = x.to_bits();
    let mut e = ((bits >> 23) & 0xff) as i32 - 126;
    let m = f32::from_bits((bits & 0x807f_ffff) | 0x3f00_0000);
    let small = m < std::f32::consts::FRAC_1_SQRT_2;
    e -= small as i32;
    let x = if small { m + m - 1.0 } else { m - 1.0 };
    let z = x * x;
    let mut p = 7.037_683_6e-2_f32;
    p = p.mul_add(x, -1.151_461e-1);
    p = p.mul_add(x, 1.167_699_9e-1);
    p = p.mul_add(x, -1.242_014_1e-1);
    p = p.mul_add(x, 1.424_932_3e-1);
    p = p.mul_add(x, -1.666_805_8e-1);
    p = p.mul_add(x, 2.000_071_4e-1);
    p = p.mul_add(x, -2.499_999_4e-1);
    p = p.mul_add(x, 3.333_333e-1);
    let ef = e as f32;
    let y = p * x * z + ef * LN2_LO - 0.5 * z;
    x + y + ef * LN2_HI
}

/// Max and sum of a slice with 8 independent lanes (vectorises; order-independent for max).
#[inline(always)]
fn max_of(v: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = a.max(x);
        }
    }
    let m = chunks
        .remainder()
        .iter()
        .copied()
        .fold(f32::NEG_INFINITY, f32::max);
    acc.iter().copied().fold(m, f32::max)
}

#[inline(always)]
fn sum_of(v: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut chunks = v.chunks_exact(8);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    chunks.remainder().iter().sum::<f32>() + acc.iter().sum::<f32>()
}

#[inline(always)]
fn segment_lse_generic(row: &mut [f32], offsets: &[usize], out: &mut [f32], shift: &mut [f32]) {
    for (s, r) in offsets.windows(2).enumerate() {
        let max = max_of(&row[r[0]..r[1]]);
        out[s] = max;
        // An all -inf segment stays -inf: shift by 0 so that exp gives 0, not NaN.
        shift[r[0]..r[1]].fill(if max == f32::NEG_INFINITY { 0.0 } else { max });
    }
    for (v, &m) in row.iter_mut().zip(shift.iter()) {
        *v = exp(*v - m);
    }
    // Sums go through `shift` (free now) so that the logs run as one vector loop.
    let sums = &mut shift[..out.len()];
    for (s, r) in offsets.windows(2).enumerate() {
        sums[s] = sum_of(&row[r[0]..r[1]]);
    }
    for (o, &sum) in out.iter_mut().zip(sums.iter()) {
        // sum >= 1 (the maximum contributes e^0) unless the segment is all -inf.
        *o += if sum > 0.0 { ln(sum) } else { 0.0 };
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn segment_lse_avx2(row: &mut [f32], offsets: &[usize], out: &mut [f32], shift: &mut [f32]) {
    segment_lse_generic(row, offsets, out, shift)
}

/// Log-sum-exp of each segment `offsets[s]..offsets[s + 1]` of `row` into `out[s]`; `row` and
/// `shift` (at least as long as `row`) are scratch. Each segment is shifted by its own maximum,
/// so a state far below the best one keeps its exact value.
pub fn segment_log_sum_exp(row: &mut [f32], offsets: &[usize], out: &mut [f32], shift: &mut [f32]) {
    assert!(shift.len() >= row.len() && out.len() + 1 == offsets.len());
    assert!(offsets.last() == Some(&row.len()) && row.len() >= out.len());
    let shift = &mut shift[..row.len()];
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the features this function is compiled for were just detected.
        return unsafe { segment_lse_avx2(row, offsets, out, shift) };
    }
    segment_lse_generic(row, offsets, out, shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_to_a_few_ulp() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let rel = ((exp(x) as f64) - (x as f64).exp()).abs() / (x as f64).exp();
            worst = worst.max(rel);
            x += 0.001_3;
        }
        assert!(
            worst < 4.0 * f32::EPSILON as f64,
            "worst relative error {worst}"
        );
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn ln_matches_std_to_a_few_ulp() {
        let mut worst = 0.0f64;
        let mut x = 1e-30f32;
        while x < 1e30 {
            let want = (x as f64).ln();
            worst = worst.max((ln(x) as f64 - want).abs() / want.abs().max(1.0));
            x *= 1.000_37;
        }
        assert!(worst < 2.0 * f32::EPSILON as f64, "worst error {worst}");
        assert_eq!(ln(1.0), 0.0);
    }

    #[test]
    fn log_sum_exp_of_equal_terms_is_log_n_above() {
        let mut v = vec![-1000.0f32; 4];
        let l = log_sum_exp_in_place(&mut v);
        assert!((l - (-1000.0 + 4f32.ln())).abs() < 1e-4);
        let mut v = vec![f32::NEG_INFINITY; 3];
        assert_eq!(log_sum_exp_in_place(&mut v), f32::NEG_INFINITY);
    }

    #[test]
    fn segments_keep_their_own_scale() {
        let mut row = vec![0.0f32, 0.0, -500.0, -501.0, f32::NEG_INFINITY, 3.0];
        let mut out = [0.0f32; 3];
        segment_log_sum_exp(&mut row, &[0, 2, 4, 6], &mut out, &mut [0.0; 6]);
        assert!((out[0] - 2f32.ln()).abs() < 1e-6);
        assert!((out[1] - (-500.0 + (1.0 + (-1f32).exp()).ln())).abs() < 1e-4);
        assert!((out[2] - 3.0).abs() < 1e-6);
    }
}
