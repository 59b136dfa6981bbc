//! Input formats of a block (FP32, BF16, FP16) and their exact widening to FP32 bits.

use super::minifloat::{MiniFloat, Specials};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum InputFormat {
    #[default]
    F32,
    Bf16,
    F16,
}

impl InputFormat {
    pub fn bits(self) -> u32 {
        match self {
            InputFormat::F32 => 32,
            InputFormat::Bf16 | InputFormat::F16 => 16,
        }
    }

    /// Widen a raw code of this format to the FP32 bit pattern of the same value (exact: both
    /// narrow formats are subsets of FP32). NaNs stay NaNs; payloads are not meaningful.
    pub fn widen(self, raw: u32) -> u32 {
        match self {
            InputFormat::F32 => raw,
            InputFormat::Bf16 => (raw & 0xffff) << 16,
            InputFormat::F16 => widen_f16(raw as u16),
        }
    }

    /// The raw code of an FP32 value that this format holds exactly (the inverse of `widen` on
    /// its image); None when the value is not exactly representable.
    pub fn narrow_exact(self, f32_bits: u32) -> Option<u32> {
        let raw = match self {
            InputFormat::F32 => f32_bits,
            InputFormat::Bf16 => f32_bits >> 16,
            InputFormat::F16 => narrow_f16_exact(f32_bits)?,
        };
        let back = self.widen(raw);
        let both_nan = is_nan32(back) && is_nan32(f32_bits);
        (back == f32_bits || both_nan).then_some(raw)
    }

    /// The format as a minifloat, for rounding into it (IEEE 754 specials).
    pub fn ieee(self) -> MiniFloat {
        let (ebits, mbits, bias) = match self {
            InputFormat::F32 => (8, 23, 127),
            InputFormat::Bf16 => (8, 7, 127),
            InputFormat::F16 => (5, 10, 15),
        };
        MiniFloat {
            ebits,
            mbits,
            bias,
            specials: Specials::Ieee,
        }
    }

    /// The quiet NaN every unit writes in this format (sign 0, top mantissa bit only).
    pub fn canonical_nan(self) -> u32 {
        match self {
            InputFormat::F32 => 0x7fc0_0000,
            InputFormat::Bf16 => 0x7fc0,
            InputFormat::F16 => 0x7e00,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            InputFormat::F32 => "f32",
            InputFormat::Bf16 => "bf16",
            InputFormat::F16 => "f16",
        }
    }
}

fn is_nan32(bits: u32) -> bool {
    bits & 0x7f80_0000 == 0x7f80_0000 && bits & 0x007f_ffff != 0
}

fn widen_f16(h: u16) -> u32 {
    let sign = u32::from(h & 0x8000) << 16;
    let e = u32::from(h >> 10) & 0x1f;
    let f = u32::from(h & 0x3ff);
    match (e, f) {
        (0, 0) => sign,
        (0, f) => {
            // Subnormal f * 2^-24: renormalise around the leading one.
            let lead = 31 - f.leading_zeros(); // 0..=9
            let frac = (f << (23 - lead)) & 0x007f_ffff;
            let exp = lead + 127 - 24;
            sign | (exp << 23) | frac
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, f) => sign | 0x7fc0_0000 | (f << 13),
        (e, f) => sign | ((e + 127 - 15) << 23) | (f << 13),
    }
}

fn narrow_f16_exact(bits: u32) -> Option<u32> {
    let sign = (bits >> 16) & 0x8000;
    let mag = bits & 0x7fff_ffff;
    if mag == 0 {
        return Some(sign);
    }
    if mag >= 0x7f80_0000 {
        return Some(sign | if mag == 0x7f80_0000 { 0x7c00 } else { 0x7e00 });
    }
    let e = (mag >> 23) as i32 - 127;
    let f = mag & 0x007f_ffff;
    if (-14..=15).contains(&e) {
        Some(sign | (((e + 15) as u32) << 10) | (f >> 13))
    } else if (-24..-14).contains(&e) {
        let full = f | 0x0080_0000;
        // Subnormal: count of 2^-24 steps (exactness is checked by widening back).
        Some(sign | (full >> (-1 - e) as u32))
    } else {
        None
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for InputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "fp32" => Ok(InputFormat::F32),
            "bf16" => Ok(InputFormat::Bf16),
            "f16" | "fp16" => Ok(InputFormat::F16),
            _ => Err(format!(
                "unknown input format '{s}' (expected f32, bf16 or f16)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every FP16 code widens to the same value the `half` crate computes (an independent
    /// implementation), NaN to NaN, and narrows back to itself.
    #[test]
    fn every_f16_code_widens_exactly() {
        for h in 0..=u16::MAX {
            let ours = InputFormat::F16.widen(u32::from(h));
            let theirs = npyz::half::f16::from_bits(h).to_f32();
            if theirs.is_nan() {
                assert!(f32::from_bits(ours).is_nan(), "{h:#06x}");
            } else {
                assert_eq!(ours, theirs.to_bits(), "{h:#06x}");
                assert_eq!(InputFormat::F16.narrow_exact(ours), Some(u32::from(h)));
            }
        }
    }

    #[test]
    fn every_bf16_code_widens_exactly() {
        for h in 0..=u16::MAX {
            let ours = InputFormat::Bf16.widen(u32::from(h));
            let theirs = npyz::half::bf16::from_bits(h).to_f32();
            if theirs.is_nan() {
                assert!(f32::from_bits(ours).is_nan());
            } else {
                assert_eq!(ours, theirs.to_bits());
            }
        }
    }

    #[test]
    fn narrowing_refuses_inexact_values() {
        // 1 + 2^-23 needs 23 fraction bits: not an FP16 or BF16 value.
        let v = (1.0f32 + f32::EPSILON).to_bits();
        assert_eq!(InputFormat::F16.narrow_exact(v), None);
        assert_eq!(InputFormat::Bf16.narrow_exact(v), None);
        // 2^-25 is below FP16's smallest subnormal 2^-24.
        assert_eq!(
            InputFormat::F16.narrow_exact(2f32.powi(-25).to_bits()),
            None
        );
    }
}
