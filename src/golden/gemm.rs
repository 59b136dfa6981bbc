//! A linear layer's outputs from quantized blocks: the order the gemm tile accumulates in.

use super::{Accumulation, BlockFormat, QuantBlock, dot_general};

/// The canonical quiet NaN every unit writes.
pub const F32_NAN: u32 = 0x7fc0_0000;

/// One output y = sum over block pairs b of x_b . w_b: each block pair's exact sum rounded to
/// FP32 (RNE), added in block order to a sum that starts at +0 (IEEE binary32, RNE; DotGeneral
/// with one partial sum). Any NaN block, or an invalid operation on the way, gives F32_NAN.
pub fn output(fx: &BlockFormat, x: &[QuantBlock], fw: &BlockFormat, w: &[QuantBlock]) -> u32 {
    let y = dot_general(fx, x, fw, w, Accumulation::Fp32 { interleave: 1 });
    if y.is_nan() { F32_NAN } else { y.to_bits() }
}

/// FP32 bits to BF16 bits, nearest even: a carry out of the kept bits steps the exponent (into
/// infinity from the top binade). NaN inputs must be canonical (`F32_NAN` gives 0x7FC0).
pub fn f32_to_bf16(bits: u32) -> u32 {
    let up = 0x7fff + ((bits >> 16) & 1);
    (bits + up) >> 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bf16_rounding_matches_the_half_crate_on_every_16_bit_pattern_around_ties() {
        // Every upper half with the lower halves that decide rounding: just below, at and above
        // the tie, the extremes; NaN aside (the tile's NaNs are canonical).
        for hi in 0..=0xffffu32 {
            for lo in [0u32, 1, 0x7fff, 0x8000, 0x8001, 0xffff] {
                let bits = (hi << 16) | lo;
                let f = f32::from_bits(bits);
                if f.is_nan() {
                    continue;
                }
                let want = u32::from(half::bf16::from_f32(f).to_bits());
                assert_eq!(f32_to_bf16(bits), want, "{bits:#010x}");
            }
        }
        assert_eq!(f32_to_bf16(F32_NAN), 0x7fc0);
    }
}
