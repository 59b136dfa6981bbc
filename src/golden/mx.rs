//! OCP MX block conversion (numerics.md section 3), bit-exact.

use super::{QuantBlock, block_max_magnitude, flush};
use crate::format::exact::{F32_SIGN, F32Class, classify_f32};
use crate::format::{ElementFormat, ScaleFormat, ScaleRule};

/// One MX conversion: an element format and the subnormal policy. Scale is always E8M0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MxConfig {
    pub elem: ElementFormat,
    pub flush_subnormals: bool,
    pub scale_rule: ScaleRule,
}

pub const MX_SCALE: ScaleFormat = ScaleFormat::E8m0;

impl MxConfig {
    /// The shared exponent for a block whose largest magnitude is the FP32 pattern `amax`
    /// (positive, finite, nonzero), clamped to the E8M0 range: floor(log2 amax) - emax_elem,
    /// plus one under `rceil` when amax's significand exceeds max_elem's (both normalized to
    /// [1, 2) from their bits), so amax <= max_elem x 2^shared.
    pub fn shared_exp(&self, amax: u32) -> i32 {
        let F32Class::Finite(d) = classify_f32(amax) else {
            unreachable!("shared_exp needs a finite nonzero block maximum")
        };
        let up = match self.scale_rule {
            ScaleRule::Floor => 0,
            ScaleRule::Rceil => {
                let top = |x: u64| x << x.leading_zeros();
                i32::from(top(u64::from(d.mant)) > top(self.elem.max_quanta()))
            }
        };
        MX_SCALE.clamp(d.floor_log2() - self.elem.emax() + up)
    }

    /// Quantize one block of FP32 bit patterns (any length >= 1).
    pub fn quantize(&self, block: &[u32]) -> QuantBlock {
        let flushed = |b: u32| flush(b, self.flush_subnormals);
        let Some(amax) = block_max_magnitude(block.iter().map(|&b| flushed(b))) else {
            return QuantBlock::nan(MX_SCALE, block.len());
        };
        // All-zero block: scale 2^-127, and each code the zero of its input's sign (numerics.md
        // 3 item 2; INT8 has one zero).
        let shared = if amax == 0 {
            MX_SCALE.min_exp()
        } else {
            self.shared_exp(amax)
        };
        let mut saturated = 0;
        let codes = block
            .iter()
            .map(|&b| {
                let x = flushed(b);
                let enc = match classify_f32(x) {
                    F32Class::Finite(d) => {
                        self.elem.encode(d.neg, u64::from(d.mant), d.exp - shared)
                    }
                    _ => self.elem.encode(x & F32_SIGN != 0, 0, 0),
                };
                saturated += u32::from(enc.saturated);
                enc.code
            })
            .collect();
        QuantBlock {
            scale: MX_SCALE.encode(shared),
            dialect: None,
            codes,
            nan: false,
            saturated,
        }
    }
}
