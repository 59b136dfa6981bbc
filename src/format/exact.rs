//! Exact dyadic values and the two integer rounding primitives everything else is built on.
//!
//! Every finite FP32 number is `(-1)^neg * mant * 2^exp` with `mant < 2^24`, so all format
//! conversions reduce to shifting an integer and rounding the bits shifted out. No float
//! arithmetic touches a value here.

/// What an FP32 bit pattern holds, with the finite case split into sign, integer mantissa and
/// power-of-two exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum F32Class {
    Zero { neg: bool },
    Finite(Dyadic),
    Inf { neg: bool },
    Nan,
}

/// `(-1)^neg * mant * 2^exp`, with `mant > 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dyadic {
    pub neg: bool,
    pub mant: u32,
    pub exp: i32,
}

impl Dyadic {
    /// floor(log2 |value|), from the position of the leading one: exact, never a float `log2`.
    pub fn floor_log2(&self) -> i32 {
        self.exp + 31 - self.mant.leading_zeros() as i32
    }
}

pub const F32_SIGN: u32 = 0x8000_0000;
pub const F32_MAG: u32 = 0x7fff_ffff;
pub const F32_EXP_MASK: u32 = 0x7f80_0000;
pub const F32_FRAC_MASK: u32 = 0x007f_ffff;

pub fn classify_f32(bits: u32) -> F32Class {
    let neg = bits & F32_SIGN != 0;
    let biased = (bits & F32_EXP_MASK) >> 23;
    let frac = bits & F32_FRAC_MASK;
    match (biased, frac) {
        (0, 0) => F32Class::Zero { neg },
        (0, f) => F32Class::Finite(Dyadic {
            neg,
            mant: f,
            exp: -149,
        }),
        (0xff, 0) => F32Class::Inf { neg },
        (0xff, _) => F32Class::Nan,
        (e, f) => F32Class::Finite(Dyadic {
            neg,
            mant: f | 0x0080_0000,
            exp: e as i32 - 150,
        }),
    }
}

/// True for a normal FP32 value (neither zero, subnormal, infinite nor NaN).
pub fn is_f32_normal(bits: u32) -> bool {
    let biased = bits & F32_EXP_MASK;
    biased != 0 && biased != F32_EXP_MASK
}

/// True for an FP32 subnormal (nonzero with a zero exponent field).
pub fn is_f32_subnormal(bits: u32) -> bool {
    bits & F32_EXP_MASK == 0 && bits & F32_FRAC_MASK != 0
}

/// Defines a round-to-nearest-even right shift for one integer width.
macro_rules! shift_rne_for {
    ($name:ident, $t:ty) => {
        /// `mant * 2^-shift`, rounded to the nearest integer, ties to even. A negative shift is
        /// an exact left shift (the caller keeps it small enough not to overflow).
        pub fn $name(mant: $t, shift: i32) -> $t {
            const BITS: i32 = <$t>::BITS as i32;
            if shift <= 0 {
                return mant << (-shift) as u32;
            }
            if shift > BITS {
                return 0;
            }
            if shift == BITS {
                // Only the half-way test is left: the value is below 1.
                return <$t>::from(mant > 1 << (BITS - 1));
            }
            let kept = mant >> shift;
            let rest = mant & ((1 << shift) - 1);
            let half = 1 << (shift - 1);
            if rest > half || (rest == half && kept & 1 == 1) {
                kept + 1
            } else {
                kept
            }
        }
    };
}

shift_rne_for!(shift_rne, u64);
shift_rne_for!(shift_rne_wide, u128);

/// Shrink `mant * 2^exp` to at most `bits` significant bits, OR-ing what falls off into the
/// lowest kept bit (a sticky bit). Any later rounding to fewer than `bits - 2` bits gives the
/// same result as rounding the original.
pub fn compress_sticky(mant: u128, exp: i32, bits: u32) -> (u128, i32) {
    let len = bit_len(mant);
    if len <= bits {
        return (mant, exp);
    }
    let s = len - bits;
    let sticky = u128::from(mant & ((1u128 << s) - 1) != 0);
    ((mant >> s) | sticky, exp + s as i32)
}

/// `mant * 2^-shift` truncated, and whether any nonzero bit was dropped.
pub fn split_shift(mant: u64, shift: i32) -> (u64, bool) {
    if shift <= 0 {
        (mant << (-shift) as u32, false)
    } else if shift >= 64 {
        (0, mant != 0)
    } else {
        (mant >> shift, mant & ((1u64 << shift) - 1) != 0)
    }
}

/// The exact quotient `(num * 2^num_exp) / (den * 2^den_exp)` (num, den > 0, each below 2^40)
/// as `mant * 2^exp` with 63 or 64 significant bits, the lowest of them a sticky bit (set when
/// the division left a remainder). Rounding it to any format of 60 bits or fewer gives the
/// rounding of the exact quotient: the bits a rounding looks at are all kept or summarized.
pub fn div_sticky(num: u64, num_exp: i32, den: u64, den_exp: i32) -> (u64, i32) {
    debug_assert!(num > 0 && den > 0 && num < 1 << 40 && den < 1 << 40);
    let shift = 62 + bit_len(u128::from(den)) as i32 - bit_len(u128::from(num)) as i32;
    let wide = u128::from(num) << shift;
    let (q, r) = (wide / u128::from(den), wide % u128::from(den));
    (
        ((q as u64) << 1) | u64::from(r != 0),
        num_exp - den_exp - shift - 1,
    )
}

/// Number of significant bits of `x` (0 for 0).
pub fn bit_len(x: u128) -> u32 {
    128 - x.leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_covers_every_kind() {
        assert_eq!(classify_f32(0x8000_0000), F32Class::Zero { neg: true });
        assert_eq!(classify_f32(0x7f80_0000), F32Class::Inf { neg: false });
        assert_eq!(classify_f32(0xffc0_0001), F32Class::Nan);
        // Smallest subnormal is 2^-149.
        let F32Class::Finite(d) = classify_f32(1) else {
            panic!()
        };
        assert_eq!((d.mant, d.exp, d.floor_log2()), (1, -149, -149));
        // 1.0 has the implicit bit.
        let F32Class::Finite(d) = classify_f32(1.0f32.to_bits()) else {
            panic!()
        };
        assert_eq!(d.floor_log2(), 0);
        // FLT_MAX sits in binade 127.
        let F32Class::Finite(d) = classify_f32(f32::MAX.to_bits()) else {
            panic!()
        };
        assert_eq!(d.floor_log2(), 127);
    }

    #[test]
    fn div_sticky_keeps_the_remainder() {
        // 1/3 = 0.0101...: inexact, so the sticky bit is set; 6/3 is exact.
        let (m, e) = div_sticky(1, 0, 3, 0);
        assert_eq!(m & 1, 1);
        assert_eq!(bit_len(u128::from(m)), 63);
        assert_eq!(m >> 1, ((1u128 << (-e - 1)) / 3) as u64);
        let (m, e) = div_sticky(6, 4, 3, 1);
        assert_eq!(m & 1, 0);
        assert_eq!(u128::from(m) >> (-e), 1 << 4);
    }

    #[test]
    fn rne_ties_go_to_even() {
        // 2.5 -> 2, 3.5 -> 4, 2.75 -> 3, 2.25 -> 2 (value = mant / 4).
        assert_eq!(shift_rne(10, 2), 2);
        assert_eq!(shift_rne(14, 2), 4);
        assert_eq!(shift_rne(11, 2), 3);
        assert_eq!(shift_rne(9, 2), 2);
        // Exactly one half at the 64-bit edge rounds to even zero, just above rounds to one.
        assert_eq!(shift_rne(1 << 63, 64), 0);
        assert_eq!(shift_rne((1 << 63) + 1, 64), 1);
        assert_eq!(shift_rne_wide(1 << 127, 128), 0);
        assert_eq!(shift_rne_wide((1 << 127) + 1, 128), 1);
        assert_eq!(shift_rne_wide(u128::MAX, 129), 0);
    }
}
