//! The bit-exact golden model. It implements `docs/numerics.md` and knows nothing about
//! RTL: every value is an integer or an FP32 bit pattern, never a float on the value path.

pub mod dequant;
pub mod dialect;
pub mod dot;
pub mod gemm;
pub mod mx;
pub mod nvfp4;
pub mod stats;

pub use dialect::{BdConfig, BdQuantizer, FracBits, Selector};
pub use dot::{Accumulation, DotResult, FixedAcc, dot, dot_general, dot_general_fixed};
pub use mx::MxConfig;
pub use nvfp4::{Nvfp4Config, Nvfp4Rule};

use crate::format::exact::{F32_MAG, F32_SIGN, is_f32_subnormal};
use crate::format::{ElementFormat, Formatbook, FormatbookError, ScaleFormat};
use std::sync::Arc;

/// One quantized block: scale code, dialect id (BlockDialect only), element codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuantBlock {
    /// E8M0 byte, or the short exponent code for BlockDialect's `e5` scale.
    pub scale: u32,
    pub dialect: Option<u8>,
    /// Element codes as unsigned integers (sign in the top bit).
    pub codes: Vec<u32>,
    /// The block held a NaN or an infinity: the scale is the NaN code and all codes are 0.
    pub nan: bool,
    /// Elements whose magnitude was clamped to the format's largest value.
    pub saturated: u32,
}

impl QuantBlock {
    /// A block that held a NaN or an infinity (or, NVFP4, had no valid tensor scale): the
    /// scale format's NaN code, codes 0.
    pub(crate) fn nan(nan_code: u32, k: usize) -> QuantBlock {
        QuantBlock {
            scale: nan_code,
            dialect: None,
            codes: vec![0; k],
            nan: true,
            saturated: 0,
        }
    }
}

/// Zero a subnormal (keeping its sign) when flushing is asked for.
pub(crate) fn flush(bits: u32, flush_subnormals: bool) -> u32 {
    if flush_subnormals && is_f32_subnormal(bits) {
        bits & F32_SIGN
    } else {
        bits
    }
}

/// Largest magnitude of a block as a 31-bit FP32 pattern (magnitudes order like integers), or
/// None when any element is NaN or infinite.
pub(crate) fn block_max_magnitude(block: impl IntoIterator<Item = u32>) -> Option<u32> {
    let mut amax = 0;
    for b in block {
        let mag = b & F32_MAG;
        if mag >= 0x7f80_0000 {
            return None;
        }
        amax = amax.max(mag);
    }
    Some(amax)
}

/// A block format a user names: an MX element format, a formatbook of dialects, or NVFP4
/// with its tensor scale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockFormat {
    Mx(ElementFormat),
    Dialect {
        book: Arc<Formatbook>,
        scale: ScaleFormat,
    },
    /// E2M1 elements and UE4M3 block scales; every value is also multiplied by the tensor's
    /// FP32 scale s_t (bits here).
    Nvfp4 {
        tensor_scale: u32,
    },
}

impl BlockFormat {
    /// The format a name gives, with `book` for DialectFP4 (E8M0 scale, as MX).
    pub fn named(f: crate::format::OperandFormat, book: Arc<Formatbook>) -> BlockFormat {
        match f {
            crate::format::OperandFormat::Mx(e) => BlockFormat::Mx(e),
            crate::format::OperandFormat::Dialect => BlockFormat::Dialect {
                book,
                scale: ScaleFormat::E8m0,
            },
            crate::format::OperandFormat::Nvfp4 => BlockFormat::Nvfp4 {
                tensor_scale: 1.0f32.to_bits(),
            },
        }
    }

    /// The name this format goes by (the inverse of `named`, forgetting book and scales).
    pub fn operand(&self) -> crate::format::OperandFormat {
        match self {
            BlockFormat::Mx(e) => crate::format::OperandFormat::Mx(*e),
            BlockFormat::Dialect { .. } => crate::format::OperandFormat::Dialect,
            BlockFormat::Nvfp4 { .. } => crate::format::OperandFormat::Nvfp4,
        }
    }

    /// Width of a block scale code.
    pub fn scale_bits(&self) -> u32 {
        match self {
            BlockFormat::Mx(_) => mx::MX_SCALE.bits(),
            BlockFormat::Dialect { scale, .. } => scale.bits(),
            BlockFormat::Nvfp4 { .. } => nvfp4::SCALE_BITS,
        }
    }

    /// The block scale format's name.
    pub fn scale_name(&self) -> &'static str {
        match self {
            BlockFormat::Mx(_) => mx::MX_SCALE.name(),
            BlockFormat::Dialect { scale, .. } => scale.name(),
            BlockFormat::Nvfp4 { .. } => "ue4m3",
        }
    }

    /// The block scale code that marks a block holding a NaN or an infinity.
    pub fn scale_nan_code(&self) -> u32 {
        match self {
            BlockFormat::Mx(_) => mx::MX_SCALE.nan_code(),
            BlockFormat::Dialect { scale, .. } => scale.nan_code(),
            BlockFormat::Nvfp4 { .. } => nvfp4::SCALE_NAN,
        }
    }

    /// A block scale code's value as `sig * 2^exp` (sig is 1 for the power-of-two scales, and
    /// 0 for a UE4M3 zero), or None for the NaN code (and for a UE4M3 code with its sign set).
    pub fn scale_value(&self, code: u32) -> Option<(u64, i32)> {
        match self {
            BlockFormat::Mx(_) => mx::MX_SCALE.decode(code).map(|e| (1, e)),
            BlockFormat::Dialect { scale, .. } => scale.decode(code).map(|e| (1, e)),
            BlockFormat::Nvfp4 { .. } => match crate::format::minifloat::E4M3.decode(code) {
                crate::format::minifloat::Decoded::Finite {
                    neg: false,
                    sig,
                    exp,
                } => Some((u64::from(sig), exp)),
                _ => None,
            },
        }
    }

    /// The factor every value of the tensor carries besides its block scale, as `sig * 2^exp`:
    /// NVFP4's tensor scale s_t, and 1 for the other formats. None when s_t is not a positive
    /// finite FP32 value (zero, negative, infinite or NaN): every value of the tensor is NaN.
    pub fn tensor_factor(&self) -> Option<(u64, i32)> {
        match self {
            BlockFormat::Nvfp4 { tensor_scale } => {
                match crate::format::exact::classify_f32(*tensor_scale) {
                    crate::format::exact::F32Class::Finite(d) if !d.neg => {
                        Some((u64::from(d.mant), d.exp))
                    }
                    _ => None,
                }
            }
            _ => Some((1, 0)),
        }
    }

    /// Exponent of one quantum of the element grid (element values are integers times this).
    pub fn quantum_exp(&self) -> i32 {
        match self {
            BlockFormat::Mx(e) => e.quantum_exp(),
            BlockFormat::Dialect { .. } => dialect::HALF_UNIT_EXP,
            BlockFormat::Nvfp4 { .. } => nvfp4::ELEMENT.quantum_exp(),
        }
    }

    /// Element value as a signed count of quanta; None for NaN/Inf element codes.
    pub fn element_quanta(&self, dialect_id: Option<u8>, code: u32) -> Option<i64> {
        match self {
            BlockFormat::Mx(e) => e.to_quanta(code),
            BlockFormat::Nvfp4 { .. } => nvfp4::ELEMENT.to_quanta(code),
            BlockFormat::Dialect { book, .. } => {
                let d = usize::from(dialect_id.unwrap_or(0));
                let values = book.dialects.get(d)?;
                let v = i64::from(values[(code & 7) as usize]);
                Some(if code & 8 != 0 { -v } else { v })
            }
        }
    }

    /// The exact value of every element times its block scale as `(quanta, exponent)`, or None
    /// for a NaN block. NVFP4's tensor scale is not in it (`tensor_factor`): a dot product
    /// applies it once to the whole result.
    pub fn dequantize_exact(&self, block: &QuantBlock) -> Option<(Vec<i64>, i32)> {
        let (scale_sig, scale_exp) = self.scale_value(block.scale)?;
        let q = block
            .codes
            .iter()
            .map(|&c| {
                self.element_quanta(block.dialect, c)
                    .map(|v| v * scale_sig as i64)
            })
            .collect::<Option<Vec<i64>>>()?;
        Some((q, scale_exp + self.quantum_exp()))
    }

    /// The code bit that makes a zero negative (0 where the format has no negative zero).
    fn negative_zero_bit(&self) -> u32 {
        match self {
            BlockFormat::Mx(e) => e.minifloat().map_or(0, |m| m.sign_bit()),
            BlockFormat::Dialect { .. } => dialect::SIGN_BIT,
            BlockFormat::Nvfp4 { .. } => crate::format::minifloat::E2M1.sign_bit(),
        }
    }

    /// Dequantize to f64 (exact: every value fits f64's range and 53 bits, NVFP4's tensor
    /// scale included). NaN blocks give NaN.
    pub fn dequantize(&self, block: &QuantBlock) -> Vec<f64> {
        match self.tensor_factor().zip(self.dequantize_exact(block)) {
            Some(((t_sig, t_exp), (q, exp))) => {
                let unit = t_sig as f64 * pow2_f64(exp + t_exp);
                let neg_zero_bit = self.negative_zero_bit();
                q.iter()
                    .zip(&block.codes)
                    .map(|(&v, &c)| {
                        // Keep the sign of zero codes, which the integer view loses.
                        if v == 0 && c & neg_zero_bit != 0 {
                            -0.0
                        } else {
                            v as f64 * unit
                        }
                    })
                    .collect()
            }
            None => vec![f64::NAN; block.codes.len()],
        }
    }
}

/// 2^e as an f64, built from its bits (exact for -1022 <= e <= 1023).
pub fn pow2_f64(e: i32) -> f64 {
    assert!(
        (-1022..=1023).contains(&e),
        "2^{e} is outside f64's normal range"
    );
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// A ready quantizer for one block format.
#[derive(Debug, Clone)]
pub enum Quantizer {
    Mx(MxConfig),
    Dialect(Box<BdQuantizer>),
    Nvfp4(Nvfp4Config),
}

impl Quantizer {
    /// The quantizer that makes blocks of a named format as weights are quantized offline:
    /// DialectFP4 picks each block's dialect by least error (two fraction bits, E8M0 scale).
    pub fn weights(
        f: crate::format::OperandFormat,
        book: Arc<Formatbook>,
    ) -> Result<Quantizer, FormatbookError> {
        Ok(match f {
            crate::format::OperandFormat::Mx(elem) => Quantizer::Mx(MxConfig {
                elem,
                flush_subnormals: false,
                scale_rule: crate::format::ScaleRule::Floor,
            }),
            crate::format::OperandFormat::Dialect => {
                Quantizer::Dialect(Box::new(BdQuantizer::new(BdConfig {
                    book,
                    selector: Selector::Mse,
                    frac_bits: FracBits::Bits(2),
                    scale: ScaleFormat::E8m0,
                    flush_subnormals: false,
                })?))
            }
            crate::format::OperandFormat::Nvfp4 => {
                Quantizer::Nvfp4(Nvfp4Config::per_tensor(Nvfp4Rule::Exact, false))
            }
        })
    }

    /// This quantizer for one tensor: NVFP4 with a per-tensor scale computes it from the
    /// tensor; every other quantizer is the same for all tensors.
    /// Borrowed where nothing changes: a DialectFP4 quantizer carries its tables, and
    /// co-simulation asks for one per block.
    pub fn for_tensor(&self, tensor: &[u32]) -> std::borrow::Cow<'_, Quantizer> {
        match self {
            Quantizer::Nvfp4(c) => std::borrow::Cow::Owned(Quantizer::Nvfp4(c.for_tensor(tensor))),
            other => std::borrow::Cow::Borrowed(other),
        }
    }

    pub fn quantize(&self, block: &[u32]) -> QuantBlock {
        match self {
            Quantizer::Mx(c) => c.quantize(block),
            Quantizer::Dialect(q) => q.quantize(block),
            Quantizer::Nvfp4(c) => c.quantize(block),
        }
    }

    /// `quantize` into `out`, reusing its storage where the format allows (MX).
    pub fn quantize_into(&self, block: &[u32], out: &mut QuantBlock) {
        match self {
            Quantizer::Mx(c) => c.quantize_into(block, out),
            Quantizer::Dialect(q) => *out = q.quantize(block),
            Quantizer::Nvfp4(c) => *out = c.quantize(block),
        }
    }

    pub fn block_format(&self) -> BlockFormat {
        match self {
            Quantizer::Mx(c) => BlockFormat::Mx(c.elem),
            Quantizer::Dialect(q) => BlockFormat::Dialect {
                book: q.config.book.clone(),
                scale: q.config.scale,
            },
            Quantizer::Nvfp4(c) => BlockFormat::Nvfp4 {
                tensor_scale: c.tensor_scale(),
            },
        }
    }
}
