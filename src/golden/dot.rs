//! Dot (one block pair, exact) and DotGeneral (n block pairs into FP32), OCP MX section 6.

use super::{BlockFormat, QuantBlock};
use crate::format::InputFormat;
use crate::format::exact::compress_sticky;

/// The exact dot product of one block pair: `sum * 2^exp`, or NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DotResult {
    pub nan: bool,
    pub sum: i128,
    pub exp: i32,
}

/// Exact block dot product: sum_i P_A,i * P_B,i as an integer count of
/// 2^(quantum_A + quantum_B), paired with the exponent scale_A + scale_B + quantum_A + quantum_B.
/// A NaN scale, or a NaN or infinite element code, on either side gives NaN.
pub fn dot(fa: &BlockFormat, a: &QuantBlock, fb: &BlockFormat, b: &QuantBlock) -> DotResult {
    assert_eq!(a.codes.len(), b.codes.len(), "dot needs blocks of one size");
    const NAN: DotResult = DotResult {
        nan: true,
        sum: 0,
        exp: 0,
    };
    // sum_i (x_i s_a)(y_i s_b) = s_a s_b sum_i x_i y_i: the same exact value as the dot of the
    // two dequantized blocks, without materializing them (this runs for every co-simulated pair).
    let (Some((sa, ea)), Some((sb, eb))) = (fa.scale_value(a.scale), fb.scale_value(b.scale))
    else {
        return NAN;
    };
    let mut sum: i128 = 0;
    for (&ca, &cb) in a.codes.iter().zip(&b.codes) {
        let (Some(x), Some(y)) = (
            fa.element_quanta(a.dialect, ca),
            fb.element_quanta(b.dialect, cb),
        ) else {
            return NAN;
        };
        sum += i128::from(x) * i128::from(y);
    }
    DotResult {
        nan: false,
        sum: sum * i128::from(sa) * i128::from(sb),
        exp: ea + eb + fa.quantum_exp() + fb.quantum_exp(),
    }
}

/// Round an exact `sum * 2^exp` to FP32, nearest-even, overflowing to infinity.
pub fn round_to_f32(sum: i128, exp: i32) -> f32 {
    let neg = sum < 0;
    let sign = if neg { 0x8000_0000u32 } else { 0 };
    if sum == 0 {
        return f32::from_bits(0);
    }
    // 62 bits keep far more than the 24 + 2 an RNE decision to 24 bits needs.
    let (mant, exp) = compress_sticky(sum.unsigned_abs(), exp, 62);
    // Overflow is decided after rounding, as IEEE 754 does: a value above FLT_MAX by less
    // than half an ulp is FLT_MAX, not infinity.
    let fp32 = InputFormat::F32.ieee();
    let mag = fp32
        .round_nearest(mant as u64, exp)
        .unwrap_or(fp32.inf_mag_code());
    f32::from_bits(sign | mag)
}

/// How DotGeneral turns per-block exact sums into one FP32 result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accumulation {
    /// Each block's exact sum is rounded to FP32 (RNE). Block i is added (IEEE binary32, RNE,
    /// subnormals kept) into partial sum i mod `interleave`, each partial starting at +0.
    /// The partials are then added in order: ((p0 + p1) + p2) + ...
    /// `interleave` = 1 is plain sequential accumulation in block order.
    Fp32 { interleave: usize },
}

/// DotGeneral over n block pairs. Any NaN block product makes the result NaN.
pub fn dot_general(
    fa: &BlockFormat,
    a: &[QuantBlock],
    fb: &BlockFormat,
    b: &[QuantBlock],
    acc: Accumulation,
) -> f32 {
    assert_eq!(
        a.len(),
        b.len(),
        "dot_general needs as many blocks on each side"
    );
    let Accumulation::Fp32 { interleave } = acc;
    let lanes = interleave.max(1);
    let mut partial = vec![0.0f32; lanes];
    let mut nan = false;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let r = dot(fa, x, fb, y);
        if r.nan {
            nan = true;
            continue;
        }
        partial[i % lanes] += round_to_f32(r.sum, r.exp);
    }
    if nan {
        return f32::NAN;
    }
    let mut total = partial[0];
    for p in &partial[1..] {
        total += *p;
    }
    total
}

/// A DotGeneral result over whole tensors with NVFP4's tensor scales applied, once, in FP32
/// (numerics.md 3.2): RNE(RNE(acc x s_t,A) x s_t,B), each factor only on an NVFP4 side. A
/// tensor scale that is not positive finite gives NaN. Other formats pass `acc` through.
pub fn tensor_scaled(fa: &BlockFormat, fb: &BlockFormat, acc: f32) -> f32 {
    let mut r = acc;
    for f in [fa, fb] {
        if let BlockFormat::Nvfp4 { tensor_scale } = f {
            if f.tensor_factor().is_none() {
                return f32::NAN;
            }
            // One IEEE binary32 multiply, rounded to nearest even.
            r *= f32::from_bits(*tensor_scale);
        }
    }
    r
}

/// A fixed-point DotGeneral result: `value * 2^lsb`, and whether the accumulator saturated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedAcc {
    /// Two's complement, within [-2^(width-1), 2^(width-1) - 1]; 0 when `nan`.
    pub value: i128,
    pub saturated: bool,
    pub nan: bool,
}

/// DotGeneral into a `width`-bit fixed-point accumulator with LSB weight 2^lsb, starting at 0.
/// Block pair i adds floor(sum_i * 2^(exp_i - lsb)) (exact when exp_i >= lsb, else the bits
/// below the LSB are dropped toward minus infinity); after each addition the accumulator
/// saturates to its range, and `saturated` says it did at least once. NaN anywhere gives NaN.
pub fn dot_general_fixed(
    fa: &BlockFormat,
    a: &[QuantBlock],
    fb: &BlockFormat,
    b: &[QuantBlock],
    width: u32,
    lsb: i32,
) -> FixedAcc {
    assert!((2..=120).contains(&width), "accumulator width 2..=120");
    let max = (1i128 << (width - 1)) - 1;
    let min = -(1i128 << (width - 1));
    let mut acc = 0i128;
    let mut saturated = false;
    for (x, y) in a.iter().zip(b) {
        let r = dot(fa, x, fb, y);
        if r.nan {
            return FixedAcc {
                value: 0,
                saturated: false,
                nan: true,
            };
        }
        let shift = i64::from(r.exp) - i64::from(lsb);
        // The contribution, clamped to a range that already saturates any accumulator value.
        let limit = 1i128 << width;
        let c = if r.sum == 0 {
            0
        } else if shift >= 0 {
            if shift > i64::from(width) || r.sum.unsigned_abs() > (limit as u128) >> shift {
                if r.sum > 0 { limit } else { -limit }
            } else {
                r.sum << shift
            }
        } else if -shift >= 127 {
            if r.sum < 0 { -1 } else { 0 }
        } else {
            r.sum >> (-shift)
        };
        let next = acc + c;
        let clamped = next.clamp(min, max);
        saturated |= clamped != next;
        acc = clamped;
    }
    FixedAcc {
        value: acc,
        saturated,
        nan: false,
    }
}
