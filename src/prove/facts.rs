//! What a unit states for `prove` beyond its ports and timing: how many blocks it can hold, and
//! for quantizers, when its scale is the NaN code and which codes it never writes.

use crate::format::{ElementFormat, InputFormat};

#[derive(Debug, Clone)]
pub struct Facts {
    /// Most blocks the unit holds at once: begun (a first beat taken) and not delivered whole.
    pub capacity: u32,
    pub nan: Option<NanRule>,
    pub codes: Option<CodeRule>,
    pub table: Option<LaneTable>,
    /// Why the pipeline miter does not apply, when it does not.
    pub no_miter: Option<&'static str>,
}

/// A unit whose every output lane is a function of a few input bits (the dequantizer: the
/// scale and one code), tabulated from the golden model: the `table` property checks every
/// input against it.
#[derive(Debug, Clone)]
pub struct LaneTable {
    /// The block-wide input port, then the per-lane input port and output port.
    pub shared: &'static str,
    pub lane_in: &'static str,
    pub lane_out: &'static str,
    /// Entry `(shared << lane_in bits) | lane_in` is the lane's output.
    pub entries: Vec<u64>,
}

/// A quantizer's NaN rule: the scale is the NaN code, and `nan_o` is set, exactly when an
/// element of the block is a NaN or an infinity (or, NVFP4, the tensor scale is not positive
/// finite).
#[derive(Debug, Clone)]
pub struct NanRule {
    pub input_format: InputFormat,
    pub scale_bits: u32,
    pub nan_code: u32,
    /// An FP32 port whose value makes every block NaN unless it is positive and finite.
    pub tensor_scale: Option<&'static str>,
}

/// Element codes that a format holds but a quantizer never writes (NaN and infinity patterns;
/// MXINT8's -128). Formats in which every pattern is a value have no rule: the property would
/// hold by the width of the port alone.
#[derive(Debug, Clone)]
pub struct CodeRule {
    pub bits: u32,
    pub invalid: Vec<u32>,
}

impl CodeRule {
    pub fn of(format: ElementFormat) -> Option<CodeRule> {
        let bits = format.bits();
        let invalid: Vec<u32> = match format.minifloat() {
            Some(mf) => (0..1u32 << bits)
                .filter(|&c| {
                    !matches!(
                        mf.decode(c),
                        crate::format::minifloat::Decoded::Finite { .. }
                    )
                })
                .collect(),
            // Two's complement -128: it decodes (as -2) but the rule clamps to +-127.
            None => vec![1 << (bits - 1)],
        };
        (!invalid.is_empty()).then_some(CodeRule { bits, invalid })
    }
}

impl Facts {
    pub fn stream(capacity: u32) -> Facts {
        Facts {
            capacity,
            nan: None,
            codes: None,
            table: None,
            no_miter: None,
        }
    }
}
