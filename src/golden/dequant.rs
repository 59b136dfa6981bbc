//! Dequantization: a quantized block back to FP32, BF16 or FP16 (numerics.md section 3.2's
//! "dequantized value" rule, applied to MX and DialectFP4 blocks): each element is the exact
//! value scale x element, rounded once (nearest, ties to even) into the output format, with
//! subnormals kept, overflow to infinity, the sign of zero kept, and the canonical quiet NaN for
//! a NaN scale, a NaN or infinite element code, or a dialect id the formatbook does not have.

use super::BlockFormat;
use crate::format::InputFormat;
use crate::format::minifloat::Decoded;

/// One element's exact value: `(-1)^neg * sig * 2^exp`, or None for NaN / infinity.
fn element(format: &BlockFormat, dialect: u8, code: u32) -> Option<(bool, u64, i32)> {
    match format {
        BlockFormat::Nvfp4 { .. } => match super::nvfp4::ELEMENT.decode(code) {
            Decoded::Finite { neg, sig, exp } => Some((neg, u64::from(sig), exp)),
            Decoded::Inf { .. } | Decoded::Nan => None,
        },
        BlockFormat::Mx(e) => match e.decode(code) {
            Decoded::Finite { neg, sig, exp } => Some((neg, u64::from(sig), exp)),
            Decoded::Inf { .. } | Decoded::Nan => None,
        },
        BlockFormat::Dialect { book, .. } => {
            let values = book.dialects.get(usize::from(dialect))?;
            let half_units = u64::from(values[(code & 7) as usize]);
            Some((code & 8 != 0, half_units, super::dialect::HALF_UNIT_EXP))
        }
    }
}

/// The output code of one element of a block with scale code `scale` and dialect id `dialect`
/// (ignored by MX and NVFP4). NVFP4 values carry the tensor scale too: s_t x s_b x element,
/// exact (at most 4 + 4 + 24 significand bits) before the one rounding.
pub fn dequantize_element(
    format: &BlockFormat,
    out: InputFormat,
    scale: u32,
    dialect: u8,
    code: u32,
) -> u32 {
    let nan = out.canonical_nan();
    let Some((scale_sig, scale_exp)) = format.scale_value(scale) else {
        return nan;
    };
    let Some((t_sig, t_exp)) = format.tensor_factor() else {
        return nan;
    };
    let Some((neg, sig, exp)) = element(format, dialect, code) else {
        return nan;
    };
    let ieee = out.ieee();
    let sign = if neg { ieee.sign_bit() } else { 0 };
    let sig = sig * scale_sig * t_sig;
    if sig == 0 {
        return sign;
    }
    sign | ieee
        .round_nearest(sig, exp + scale_exp + t_exp)
        .unwrap_or(ieee.inf_mag_code())
}

/// Every element of a block, in order.
pub fn dequantize_block(
    format: &BlockFormat,
    out: InputFormat,
    scale: u32,
    dialect: u8,
    codes: &[u32],
) -> Vec<u32> {
    codes
        .iter()
        .map(|&c| dequantize_element(format, out, scale, dialect, c))
        .collect()
}
