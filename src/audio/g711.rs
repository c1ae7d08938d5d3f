//! G.711 mu-law and A-law (8-bit logarithmic telephone coding) to 16-bit linear, as in the ITU
//! reference code that sox and sph2pipe use. Used by SPHERE (`sample_coding ulaw/alaw`) and WAV
//! (format tags 7 and 6). Both decode through a 256-entry table built at compile time.

/// mu-law byte to 16-bit linear.
pub(super) static ULAW: [i16; 256] = table(false);

/// A-law byte to 16-bit linear.
pub(super) static ALAW: [i16; 256] = table(true);

const fn table(alaw: bool) -> [i16; 256] {
    let mut t = [0i16; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = if alaw {
            alaw_to_linear(b as u8)
        } else {
            ulaw_to_linear(b as u8)
        };
        b += 1;
    }
    t
}

/// G.711 mu-law: complement the byte, then (((mantissa << 3) + 0x84) << exponent) - 0x84.
const fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let exponent = (u >> 4) & 7;
    let mantissa = (u & 0x0f) as i32;
    let t = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    (if u & 0x80 != 0 { -t } else { t }) as i16
}

/// G.711 A-law: even bits inverted (xor 0x55), sign bit set for positive values.
const fn alaw_to_linear(a: u8) -> i16 {
    let a = a ^ 0x55;
    let exponent = (a >> 4) & 7;
    let mut t = (((a & 0x0f) as i32) << 4) + 8;
    if exponent != 0 {
        t = (t + 0x100) << (exponent - 1);
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_tables_match_the_reference_values() {
        // Reference values: sox -t raw -e u-law / -e a-law -b 8 over the bytes 0..=255.
        assert_eq!(ULAW[0x00], -32124);
        assert_eq!(ULAW[0x80], 32124);
        assert_eq!(ULAW[0xff], 0);
        assert_eq!(ULAW[0x7f], 0);
        assert_eq!(ULAW[0x55], -716);
        assert_eq!(ULAW[0x01], -31100);
        assert_eq!(ALAW[0x00], -5504);
        assert_eq!(ALAW[0x80], 5504);
        assert_eq!(ALAW[0x55], -8);
        assert_eq!(ALAW[0xd5], 8);
        assert_eq!(ALAW[0x7f], -848);
        let ss = |t: &[i16; 256]| t.iter().map(|&v| i64::from(v).pow(2)).sum::<i64>();
        assert_eq!(ss(&ULAW), 26_310_951_424);
        assert_eq!(ss(&ALAW), 26_719_580_160);
        let max = |t: &[i16; 256]| *t.iter().max().unwrap();
        assert_eq!((max(&ULAW), max(&ALAW)), (32124, 32256));
    }
}
