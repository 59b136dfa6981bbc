//! OCP MX block conversion (numerics.md section 3), bit-exact.

use super::{QuantBlock, block_max_magnitude, flush};
use crate::format::encode_table::EncodeTable;
use crate::format::exact::{F32_SIGN, F32Class, classify_f32, is_f32_normal};
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
        let mut out = QuantBlock {
            scale: 0,
            dialect: None,
            codes: Vec::with_capacity(block.len()),
            nan: false,
            saturated: 0,
        };
        self.quantize_into(block, &mut out);
        out
    }

    /// `quantize`, reusing `out`'s storage (the hot path of tensors and co-simulation).
    pub fn quantize_into(&self, block: &[u32], out: &mut QuantBlock) {
        let flushed = |b: u32| flush(b, self.flush_subnormals);
        out.dialect = None;
        out.codes.clear();
        out.saturated = 0;
        let Some(amax) = block_max_magnitude(block.iter().map(|&b| flushed(b))) else {
            out.scale = MX_SCALE.nan_code();
            out.nan = true;
            out.codes.resize(block.len(), 0);
            return;
        };
        out.nan = false;
        // All-zero block: scale 2^-127, and each code the zero of its input's sign (numerics.md
        // 3 item 2; INT8 has one zero).
        let shared = if amax == 0 {
            MX_SCALE.min_exp()
        } else {
            self.shared_exp(amax)
        };
        // Locals (not fields behind references) keep the loop's state in registers.
        let table = EncodeTable::of(self.elem).view();
        let flush_subnormals = self.flush_subnormals;
        let mut saturated = 0;
        out.codes.resize(block.len(), 0);
        for (code, &b) in out.codes.iter_mut().zip(block) {
            let x = flush(b, flush_subnormals);
            let enc = if is_f32_normal(x) {
                table.encode_normal_f32(x, shared)
            } else {
                match classify_f32(x) {
                    F32Class::Finite(d) => table.encode(d.neg, d.mant, d.exp - shared),
                    _ => self.elem.encode(x & F32_SIGN != 0, 0, 0),
                }
            };
            saturated += u32::from(enc.saturated);
            *code = enc.code;
        }
        out.scale = MX_SCALE.encode(shared);
        out.saturated = saturated;
    }
}
