//! NVFP4 (docs/numerics.md 3.3): E2M1 elements, an unsigned E4M3 (UE4M3) block scale and an
//! FP32 tensor scale s_t.
//!
//! Rule `exact` is the team's definition and the RTL's: both roundings are of exact quotients
//! (integer division with a sticky bit, `exact::div_sticky`), never of floats. The `te` and
//! `modelopt` rules reproduce two public implementations step by step, each step one IEEE 754
//! binary32 operation rounded to nearest even, as those implementations run it on the CPU. Rust's
//! `f32` `*` and `/` are exactly those operations (IEEE 754 binary32, RNE, subnormals kept, on
//! every target Rust supports), so the variants use them directly; every comparison, clamp and
//! NaN rule is written out, because PyTorch's `minimum` and `clamp` propagate NaN where
//! `f32::min` does not.

use super::{QuantBlock, block_max_magnitude, flush};
use crate::format::exact::{F32_MAG, F32_SIGN, F32Class, classify_f32, div_sticky};
use crate::format::minifloat::{Decoded, E4M3};
use crate::format::{ElementFormat, InputFormat};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// NVFP4's block size when none is given.
pub const DEFAULT_BLOCK_SIZE: usize = 16;
/// The UE4M3 code of a block that held a NaN or an infinity (E4M3's S.1111.111 with S = 0).
pub const SCALE_NAN: u32 = 0x7f;
/// Bits of a stored block scale (an E4M3 byte whose sign is 0).
pub const SCALE_BITS: u32 = 8;
/// Largest E2M1 magnitude times the largest UE4M3 one (6 x 448): the tensor maximum the default
/// tensor scale maps onto.
pub const RANGE: u32 = 2688;
/// Elements are E2M1; the sign is the code's bit 3.
pub const ELEMENT: ElementFormat = ElementFormat::E2m1;
const SIGN_BIT: u32 = 8;

/// How blocks are quantized: the exact definition or one of the public implementations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Nvfp4Rule {
    /// docs/numerics.md 3.3: the block scale and every element are the exact quotients rounded once.
    #[default]
    Exact,
    /// TransformerEngine's NVFP4 reference quantizer (an FP32 reciprocal-multiply sequence).
    Te,
    /// NVIDIA Model-Optimizer's NVFP4 tensor quantizer (an FP32 division sequence).
    Modelopt,
}

impl Nvfp4Rule {
    pub const ALL: [Nvfp4Rule; 3] = [Nvfp4Rule::Exact, Nvfp4Rule::Te, Nvfp4Rule::Modelopt];

    pub fn name(self) -> &'static str {
        match self {
            Nvfp4Rule::Exact => "exact",
            Nvfp4Rule::Te => "te",
            Nvfp4Rule::Modelopt => "modelopt",
        }
    }
}

impl fmt::Display for Nvfp4Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Nvfp4Rule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Nvfp4Rule::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown NVFP4 rule '{s}' (expected exact, te or modelopt)"))
    }
}

/// The tensor's two FP32 scales: `decode` is s_t (value = s_t x s_b x element); `encode` is the
/// multiplier TransformerEngine quantizes with (only the `te` rule reads it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorScales {
    pub decode: u32,
    pub encode: u32,
}

/// Tensor scales at the edges, for stimulus: the smallest subnormal, the largest subnormal, 1,
/// FLT_MAX, and ones that are not positive finite (0, -1, infinity, NaN).
pub const EDGE_TENSOR_SCALES: [u32; 8] = [
    0x0000_0001,
    0x007f_ffff,
    0x3f80_0000,
    0x7f7f_ffff,
    0x0000_0000,
    0xbf80_0000,
    0x7f80_0000,
    0x7fc0_0000,
];

/// Check a user's tensor scale: a positive finite FP32 value (subnormals allowed).
pub fn check_tensor_scale(bits: u32) -> Result<(), String> {
    match classify_f32(bits) {
        F32Class::Finite(d) if !d.neg => Ok(()),
        _ => Err(format!(
            "tensor scale {} must be a positive finite FP32 value",
            f32::from_bits(bits)
        )),
    }
}

/// The default tensor scale of docs/numerics.md 3.3: RNE_fp32(amax / 2688), or 1 when that is 0.
/// `amax` is the largest finite magnitude of the tensor, as FP32 bits.
pub fn default_tensor_scale(amax: u32) -> u32 {
    let one = 1.0f32.to_bits();
    let F32Class::Finite(a) = classify_f32(amax & F32_MAG) else {
        return one;
    };
    let (m, e) = div_sticky(u64::from(a.mant), a.exp, u64::from(RANGE), 0);
    match InputFormat::F32.ieee().round_nearest(m, e) {
        Some(0) | None => one,
        Some(bits) => bits,
    }
}

/// The largest finite magnitude of some FP32 values (bits, 0 when there is none): what the
/// default tensor scale is computed from, NaNs and infinities left out.
pub fn finite_amax(values: impl IntoIterator<Item = u32>) -> u32 {
    values
        .into_iter()
        .map(|b| b & F32_MAG)
        .filter(|&m| m < 0x7f80_0000)
        .max()
        .unwrap_or(0)
}

/// One NVFP4 quantization: a rule, the tensor scales, and the subnormal policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nvfp4Config {
    pub rule: Nvfp4Rule,
    pub scales: TensorScales,
    /// The tensor scale is recomputed from each tensor (`for_tensor`) rather than given.
    pub per_tensor: bool,
    pub flush_subnormals: bool,
}

impl Nvfp4Config {
    /// A quantizer with the user's tensor scale s_t (checked by the caller with
    /// `check_tensor_scale`). Under `te`, g_dec = s_t and g_enc = RNE_fp32(1 / s_t).
    pub fn given(rule: Nvfp4Rule, tensor_scale: u32, flush_subnormals: bool) -> Nvfp4Config {
        let encode = (1.0f32 / f32::from_bits(tensor_scale)).to_bits();
        Nvfp4Config {
            rule,
            scales: TensorScales {
                decode: tensor_scale,
                encode,
            },
            per_tensor: false,
            flush_subnormals,
        }
    }

    /// A quantizer whose tensor scale comes from each tensor's finite maximum. Until
    /// `for_tensor` pins it, the scales are those of an all-zero tensor.
    pub fn per_tensor(rule: Nvfp4Rule, flush_subnormals: bool) -> Nvfp4Config {
        Nvfp4Config {
            rule,
            scales: Self::scales_from_amax(rule, 0),
            per_tensor: true,
            flush_subnormals,
        }
    }

    /// The scales a rule derives from a tensor maximum. `exact` and `modelopt` use the default
    /// tensor scale (Model-Optimizer's own is the same RNE(amax / 2688), but it divides by
    /// zero on an all-zero tensor where numerics.md takes 1). TransformerEngine computes
    /// g_enc = min(2688 / amax, FLT_MAX), 1 if that is 0, and g_dec = 1 / g_enc, in FP32.
    fn scales_from_amax(rule: Nvfp4Rule, amax: u32) -> TensorScales {
        match rule {
            Nvfp4Rule::Te => {
                let mut enc = torch_minimum(RANGE as f32 / f32::from_bits(amax), f32::MAX);
                if enc == 0.0 {
                    enc = 1.0;
                }
                TensorScales {
                    decode: (1.0 / enc).to_bits(),
                    encode: enc.to_bits(),
                }
            }
            Nvfp4Rule::Exact | Nvfp4Rule::Modelopt => {
                let s = default_tensor_scale(amax);
                TensorScales {
                    decode: s,
                    encode: (1.0f32 / f32::from_bits(s)).to_bits(),
                }
            }
        }
    }

    /// This quantizer for one tensor: a per-tensor scale is computed from the tensor's largest
    /// finite magnitude (after flushing, when asked); a given one is kept.
    pub fn for_tensor(&self, tensor: &[u32]) -> Nvfp4Config {
        if !self.per_tensor {
            return *self;
        }
        let flushed = tensor.iter().map(|&b| flush(b, self.flush_subnormals));
        let amax = finite_amax(flushed);
        Nvfp4Config {
            scales: Self::scales_from_amax(self.rule, amax),
            ..*self
        }
    }

    /// The tensor scale s_t the blocks decode with, as FP32 bits.
    pub fn tensor_scale(&self) -> u32 {
        self.scales.decode
    }

    pub fn quantize(&self, block: &[u32]) -> QuantBlock {
        let x: Vec<u32> = block
            .iter()
            .map(|&b| flush(b, self.flush_subnormals))
            .collect();
        match self.rule {
            Nvfp4Rule::Exact => self.quantize_exact(&x),
            Nvfp4Rule::Te => self.quantize_te(&x),
            Nvfp4Rule::Modelopt => self.quantize_modelopt(&x),
        }
    }

    fn quantize_exact(&self, x: &[u32]) -> QuantBlock {
        let signed_zeros = |scale: u32| QuantBlock {
            scale,
            dialect: None,
            codes: x
                .iter()
                .map(|&b| if b & F32_SIGN != 0 { SIGN_BIT } else { 0 })
                .collect(),
            nan: false,
            saturated: 0,
        };
        let nan_block = || QuantBlock::nan(SCALE_NAN, x.len());
        // A tensor scale that is not positive finite (only the RTL's port can carry one; the
        // CLI refuses it) has no defined blocks: NaN, as the dequantizer reads it.
        let F32Class::Finite(t) = classify_f32(self.scales.decode) else {
            return nan_block();
        };
        if t.neg {
            return nan_block();
        }
        let Some(amax) = block_max_magnitude(x.iter().copied()) else {
            return nan_block();
        };
        let F32Class::Finite(a) = classify_f32(amax) else {
            return signed_zeros(0);
        };
        // s_b = RNE(amax / (6 s_t)) onto the UE4M3 grid, saturating at 448.
        let (m, e) = div_sticky(u64::from(a.mant), a.exp, 6 * u64::from(t.mant), t.exp);
        let scale = E4M3.round_saturate(m, e).mag_code;
        let Decoded::Finite { sig, exp, .. } = E4M3.decode(scale) else {
            unreachable!("a saturated UE4M3 code is finite")
        };
        if sig == 0 {
            return signed_zeros(0);
        }
        // Elements: RNE(x / (s_b s_t)) onto E2M1, saturating at 6, the sign of zero kept.
        let (den, den_exp) = (u64::from(sig) * u64::from(t.mant), exp + t.exp);
        let mut saturated = 0;
        let codes = x
            .iter()
            .map(|&b| match classify_f32(b) {
                F32Class::Finite(d) => {
                    let (m, e) = div_sticky(u64::from(d.mant), d.exp, den, den_exp);
                    let enc = ELEMENT.encode(d.neg, m, e);
                    saturated += u32::from(enc.saturated);
                    enc.code
                }
                _ => {
                    if b & F32_SIGN != 0 {
                        SIGN_BIT
                    } else {
                        0
                    }
                }
            })
            .collect();
        QuantBlock {
            scale,
            dialect: None,
            codes,
            nan: false,
            saturated,
        }
    }

    /// TransformerEngine's reference, `NVFP4QuantizerRef._quantize_blockwise_reference` for
    /// 1 x k tiles without the Hadamard transform, 4over6 or power-of-two scales, in
    /// transformer_engine/pytorch/custom_recipes/quantization_ref_nvfp4.py (NVIDIA/
    /// TransformerEngine at 0a6e0d6a3eda92fc9506401fd4f9e9b512bc709c):
    ///   vec_max = amax|x| (NaN if the block holds one); mult = g_enc * reciprocal(6);
    ///   ds = min(vec_max * mult, FLT_MAX), clamped to [-448, 448], cast to E4M3;
    ///   es = min(1 / (ds * g_dec), FLT_MAX); y = clamp(x * es, -6, 6); cast_to_fp4x2(y).
    /// Its corner cases follow: an infinity saturates (scale 448, element +-6), a scale that
    /// rounds to 0 leaves es = FLT_MAX (nonzero elements saturate), -0.0 gets code 0, and a NaN
    /// block gets scale 0x7F with codes 0.
    fn quantize_te(&self, x: &[u32]) -> QuantBlock {
        let vec_max = torch_amax_abs(x);
        let mult = f32::from_bits(self.scales.encode) * (1.0f32 / 6.0);
        let ds = torch_clamp(torch_minimum(vec_max * mult, f32::MAX), -448.0, 448.0);
        let scale = torch_e4m3fn(ds);
        let es = torch_minimum(
            1.0 / (ue4m3_value(scale) * f32::from_bits(self.scales.decode)),
            f32::MAX,
        );
        let mut saturated = 0;
        let codes = x
            .iter()
            .map(|&b| {
                let y = f32::from_bits(b) * es;
                saturated += u32::from(y.abs() > 6.0);
                let y = torch_clamp(y, -6.0, 6.0);
                if y.is_nan() {
                    0
                } else {
                    (if y < 0.0 { SIGN_BIT } else { 0 }) | e2m1_index_rne(y.abs())
                }
            })
            .collect();
        QuantBlock {
            scale,
            dialect: None,
            codes,
            nan: scale == SCALE_NAN,
            saturated,
        }
    }

    /// Model-Optimizer's dynamic path, `NVFP4QTensor.get_weights_scaling_factor` and
    /// `quantize` in modelopt/torch/quantization/qtensor/nvfp4_tensor.py (NVIDIA/Model-Optimizer
    /// at 211c6b3413c52b2fd7a671eda3ce8b2139a4fedd):
    ///   pbs = amax|x| / (6 * s_t); 1.0 where that is 0; clamp(min = 2^-9); cast to E4M3
    ///   (PyTorch's cast: RNE, and NaN from 464 up, since nothing clamps it to 448);
    ///   y = x / (pbs * s_t); `_cast_fp4(y)`: sign = y < 0, magnitude index by
    ///   searchsorted over the midpoints plus one at the midpoints 0.75, 1.75 and 3.5.
    /// Its corner cases follow: an all-zero block gets scale 1.0, a tiny block 2^-9, an
    /// infinity or a block maximum above 464 x 6 s_t makes the scale NaN, and PyTorch's CPU
    /// searchsorted puts a NaN magnitude past every midpoint, so those blocks' codes are 7.
    fn quantize_modelopt(&self, x: &[u32]) -> QuantBlock {
        let s_t = f32::from_bits(self.scales.decode);
        let mut pbs = torch_amax_abs(x) / (6.0 * s_t);
        if pbs == 0.0 {
            pbs = 1.0;
        }
        let pbs = torch_clamp_min(pbs, f32::from_bits(0x3b00_0000)); // 2^-9
        let scale = torch_e4m3fn(pbs);
        let d = ue4m3_value(scale) * s_t;
        let mut saturated = 0;
        let codes = x
            .iter()
            .map(|&b| {
                let y = f32::from_bits(b) / d;
                let mag = y.abs();
                saturated += u32::from(mag > 6.0);
                let index = if mag.is_nan() { 7 } else { e2m1_index_rne(mag) };
                (if y < 0.0 { SIGN_BIT } else { 0 }) | index
            })
            .collect();
        QuantBlock {
            scale,
            dialect: None,
            codes,
            nan: scale == SCALE_NAN,
            saturated,
        }
    }
}

/// `torch.amax(|x|)`: NaN when any element is NaN.
fn torch_amax_abs(x: &[u32]) -> f32 {
    let mut m = 0.0f32;
    for &b in x {
        let v = f32::from_bits(b & F32_MAG);
        if v.is_nan() {
            return f32::NAN;
        }
        if v > m {
            m = v;
        }
    }
    m
}

/// `torch.minimum(a, b)`: NaN when either is NaN.
fn torch_minimum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a < b {
        a
    } else {
        b
    }
}

/// `torch.clamp(x, min = lo)`: NaN stays NaN.
fn torch_clamp_min(x: f32, lo: f32) -> f32 {
    if x < lo { lo } else { x }
}

/// `torch.clamp(x, lo, hi)`: NaN stays NaN.
fn torch_clamp(x: f32, lo: f32, hi: f32) -> f32 {
    if x < lo {
        lo
    } else if x > hi {
        hi
    } else {
        x
    }
}

/// PyTorch's FP32 -> float8_e4m3fn cast (c10 `fp8e4m3fn_from_fp32_value`) of a value >= 0:
/// round to nearest even, subnormals kept; NaN, and anything that rounds above 448, is NaN
/// (0x7F).
fn torch_e4m3fn(v: f32) -> u32 {
    match classify_f32(v.to_bits()) {
        F32Class::Zero { .. } => 0,
        F32Class::Finite(d) => E4M3
            .round_nearest(u64::from(d.mant), d.exp)
            .unwrap_or(SCALE_NAN),
        F32Class::Inf { .. } | F32Class::Nan => SCALE_NAN,
    }
}

/// A UE4M3 code's value as an FP32 (exact: every E4M3 value is one); NaN for 0x7F.
pub fn ue4m3_value(code: u32) -> f32 {
    match E4M3.decode(code & 0x7f) {
        Decoded::Finite { sig, exp, .. } => {
            let (m, e) = (u64::from(sig), exp);
            if m == 0 {
                return 0.0;
            }
            f32::from_bits(
                InputFormat::F32
                    .ieee()
                    .round_nearest(m, e)
                    .expect("E4M3 values are FP32 values"),
            )
        }
        _ => f32::NAN,
    }
}

/// The E2M1 magnitude index (0..=7, values 0, 0.5, 1, 1.5, 2, 3, 4, 6) nearest a finite
/// magnitude, ties to the even index, saturating at 6: each midpoint between two neighbours
/// belongs to the even one of them.
fn e2m1_index_rne(mag: f32) -> u32 {
    const MIDPOINTS: [f32; 7] = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0];
    let mut index = 0;
    for (i, &m) in MIDPOINTS.iter().enumerate() {
        let lower_is_even = i % 2 == 0;
        if mag > m || (mag == m && !lower_is_even) {
            index = i as u32 + 1;
        }
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e4m3_cast_rounds_to_even_and_turns_nan_above_464() {
        // 464 is the midpoint of 448 and the (NaN) code above it: the tie goes to 448.
        assert_eq!(torch_e4m3fn(464.0), 0x7e);
        assert_eq!(torch_e4m3fn(464.01), SCALE_NAN);
        // 2^-10 is half the smallest subnormal: to the even code 0.
        assert_eq!(torch_e4m3fn(f32::from_bits(0x3a80_0000)), 0);
        assert_eq!(torch_e4m3fn(f32::from_bits(0x3a80_0001)), 1);
    }

    #[test]
    fn midpoints_go_to_the_even_index() {
        let got: Vec<u32> = [0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0, 9.0]
            .iter()
            .map(|&m| e2m1_index_rne(m))
            .collect();
        assert_eq!(got, [0, 2, 2, 4, 4, 6, 6, 7]);
    }
}
