//! Unit `dot`: two quantized blocks in (scale, codes, dialect id for DialectFP4), the exact
//! block sum out (numerics.md section 4), or DotGeneral over n blocks into FP32.

mod cosim;
mod emit;

use crate::floor::element::ElementView;
pub use cosim::DotChecked;

use crate::emit::design::{GenFile, Port, module_ports};
use crate::emit::pipeline::{Cut, Cuts, Stage, chain, delay_chain};
use crate::emit::tree::{SumNode, sum_tree};
use crate::emit::{bits_for, zero_extend};
use crate::error::{Error, Result};
use crate::floor::checks::validate_blocking;
use crate::floor::{BookRef, finish};
use crate::format::ElementFormat;
pub use crate::format::OperandFormat;
use crate::golden::{
    Accumulation, BlockFormat, QuantBlock, Quantizer, dot, dot_general, dot_general_fixed,
};
use crate::prove::facts::Facts;
use crate::units::unit::{Hardware, Spec};
use askama::Template;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccumulateKind {
    /// One exact block sum per block pair.
    #[default]
    None,
    /// DotGeneral over `dot_length` block pairs into FP32.
    Fp32,
    /// DotGeneral over `dot_length` block pairs into a saturating fixed-point accumulator.
    Fixed,
}

/// How an MXINT8 x MXINT8 dot multiplies (other formats multiply a few significand bits in
/// LUTs either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Multiplier {
    /// Radix-4 Booth partial products of all lanes in one carry-save tree and one final
    /// adder: the fewest LUTs.
    #[default]
    Luts,
    /// A multiply per lane and an adder tree, which synthesis maps to DSP blocks.
    Dsp,
}

impl FromStr for Multiplier {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "luts" => Ok(Multiplier::Luts),
            "dsp" => Ok(Multiplier::Dsp),
            _ => Err(format!("unknown multiplier '{s}' (expected luts or dsp)")),
        }
    }
}

/// Both operands INT8: products are signed multiplies of the codes themselves.
pub fn int8_pair(a: OperandFormat, b: OperandFormat) -> bool {
    let int8 = OperandFormat::Mx(ElementFormat::Int8);
    a == int8 && b == int8
}

impl Multiplier {
    /// `dsp` is a choice for INT8 pairs only.
    pub fn check(self, a: OperandFormat, b: OperandFormat) -> Result<()> {
        if self == Multiplier::Dsp && !int8_pair(a, b) {
            return Err(Error::input(format!(
                "--multiplier dsp applies to mxint8 x mxint8 only ({a} x {b} multiplies a few significand bits in LUTs)"
            )));
        }
        Ok(())
    }

    /// What a top module's name carries for it.
    pub fn name_suffix(self) -> &'static str {
        match self {
            Multiplier::Luts => "",
            Multiplier::Dsp => "_dsp",
        }
    }
}

/// Each operand's input ports (scale, dialect, codes), A then B.
const OPERAND_PORTS: [[&str; 3]; 2] = [
    ["scale_a_i", "dialect_a_i", "codes_a_i"],
    ["scale_b_i", "dialect_b_i", "codes_b_i"],
];

impl FromStr for AccumulateKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "none" => Ok(AccumulateKind::None),
            "fp32" => Ok(AccumulateKind::Fp32),
            "fixed" => Ok(AccumulateKind::Fixed),
            _ => Err(format!(
                "unknown accumulation '{s}' (expected none, fp32 or fixed)"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DotParams {
    pub format_a: OperandFormat,
    pub format_b: OperandFormat,
    #[serde(default = "crate::units::defaults::block_size")]
    pub block_size: usize,
    #[serde(default)]
    pub lanes: Option<usize>,
    #[serde(default = "crate::units::defaults::pipeline")]
    pub pipeline: usize,
    #[serde(default)]
    pub accumulate: AccumulateKind,
    #[serde(default = "crate::units::defaults::dot_length")]
    pub dot_length: usize,
    /// Fixed accumulator width in bits (two's complement).
    #[serde(default = "crate::units::defaults::acc_width")]
    pub acc_width: u32,
    /// Weight of the fixed accumulator's LSB: 2^acc_lsb.
    #[serde(default = "crate::units::defaults::acc_lsb")]
    pub acc_lsb: i32,
    #[serde(default)]
    pub formatbook: BookRef,
    #[serde(default)]
    pub multiplier: Multiplier,
}

/// The largest n the FP32 accumulator counts to.
pub const MAX_DOT_LENGTH: usize = 1 << 16;

crate::floor::checks::lanes_and_beats!(DotParams);

impl DotParams {
    pub const UNIT: &'static str = "dot";

    /// Block pairs per result.
    pub fn group(&self) -> usize {
        match self.accumulate {
            AccumulateKind::None => 1,
            AccumulateKind::Fp32 | AccumulateKind::Fixed => self.dot_length,
        }
    }

    pub fn validate(&self) -> Result<()> {
        // The book first: widths below depend on it.
        self.formatbook.get()?;
        validate_blocking(self.block_size, self.lanes(), self.pipeline)?;
        if self.dot_length == 0 || self.dot_length > MAX_DOT_LENGTH {
            return Err(Error::input(format!(
                "dot length {} must be 1 to {MAX_DOT_LENGTH}",
                self.dot_length
            )));
        }
        if self.accumulate == AccumulateKind::None && self.dot_length != 1 {
            return Err(Error::input(
                "--dot-length needs --accumulate fp32 or fixed (without accumulation each block pair gives one result)",
            ));
        }
        if self.accumulate == AccumulateKind::Fixed {
            if !(2..=96).contains(&self.acc_width) {
                return Err(Error::input(format!(
                    "acc width {} must be 2 to 96 bits",
                    self.acc_width
                )));
            }
            if !(-400..=400).contains(&self.acc_lsb) {
                return Err(Error::input(format!(
                    "acc lsb {} must be within -400..=400",
                    self.acc_lsb
                )));
            }
        }
        self.multiplier.check(self.format_a, self.format_b)?;
        if self.sum_bits() > 128 {
            return Err(Error::input(
                "block sums wider than 128 bits are not supported",
            ));
        }
        self.formatbook.get().map(|_| ())
    }

    pub fn int8_pair(&self) -> bool {
        int8_pair(self.format_a, self.format_b)
    }

    pub fn block_format(&self, f: OperandFormat) -> Result<BlockFormat> {
        Ok(BlockFormat::named(f, self.formatbook.get()?))
    }

    /// Bits of the exact block sum (signed): the minimum that can never overflow. An NVFP4
    /// side counts its scale's significand too (`sum_quanta`).
    pub fn sum_bits(&self) -> u32 {
        self.signed_sum_bits(sum_quanta(self.format_a) * sum_quanta(self.format_b))
    }

    /// Bits of the sum of the element products alone, before NVFP4 scale significands.
    pub fn element_sum_bits(&self) -> u32 {
        let (a, b) = (
            ElementView::of(self.format_a),
            ElementView::of(self.format_b),
        );
        self.signed_sum_bits(u128::from(a.max_quanta) * u128::from(b.max_quanta))
    }

    /// Signed bits of a sum of `block_size` products each at most `max_product` in magnitude.
    fn signed_sum_bits(&self, max_product: u128) -> u32 {
        let max = max_product * self.block_size as u128;
        128 - max.leading_zeros() + 1
    }

    pub fn top_name(&self) -> Result<String> {
        let acc = match self.accumulate {
            AccumulateKind::None => "none".to_string(),
            AccumulateKind::Fp32 => format!("fp32n{}", self.dot_length),
            AccumulateKind::Fixed => format!(
                "fx{}l{}{}n{}",
                self.acc_width,
                if self.acc_lsb < 0 { "m" } else { "" },
                self.acc_lsb.unsigned_abs(),
                self.dot_length
            ),
        };
        Ok(format!(
            "dot_{}x{}_k{}_l{}_p{}_{}{}{}",
            self.format_a.short(),
            self.format_b.short(),
            self.block_size,
            self.lanes(),
            self.pipeline,
            acc,
            self.formatbook.name_suffix()?,
            self.multiplier.name_suffix()
        ))
    }

    fn exp_const(&self) -> i64 {
        i64::from(ElementView::of(self.format_a).quantum)
            + i64::from(ElementView::of(self.format_b).quantum)
            - 254
    }

    fn exp_bits(&self) -> u32 {
        let c = self.exp_const();
        bits_for(c.unsigned_abs().max((510 + c).unsigned_abs())) + 1
    }
}

/// The largest element magnitude, in quanta, as the block sum counts it: an NVFP4 element
/// times its block's UE4M3 significand (up to 15), which multiplies the block's element sum
/// once, so the sum is in the same quanta as an MX one and the rest of the scale is a power of
/// two.
fn sum_quanta(f: OperandFormat) -> u128 {
    let q = u128::from(ElementView::of(f).max_quanta);
    if f == OperandFormat::Nvfp4 { q * 15 } else { q }
}

impl Hardware for DotParams {
    fn spec(&self) -> Spec {
        Spec::of(self)
    }

    fn top(&self) -> Result<String> {
        self.top_name()
    }

    fn ports(&self) -> Vec<Port> {
        let l = self.lanes();
        let mut v = Vec::new();
        for (f, [scale, dialect, codes]) in [
            (self.format_a, OPERAND_PORTS[0]),
            (self.format_b, OPERAND_PORTS[1]),
        ] {
            v.push(Port::input(scale, 8, 1));
            if f == OperandFormat::Dialect {
                v.push(Port::input(dialect, 4, 1));
            }
            v.push(Port::input(codes, f.code_bits(), l));
        }
        match self.accumulate {
            AccumulateKind::None => {
                v.push(Port::output("sum_o", self.sum_bits(), 1));
                v.push(Port::output("exp_o", self.exp_bits(), 1));
                v.push(Port::output("nan_o", 1, 1));
            }
            AccumulateKind::Fp32 => v.push(Port::output("result_o", 32, 1)),
            AccumulateKind::Fixed => {
                v.push(Port::output("acc_o", self.acc_width, 1));
                v.push(Port::output("sat_o", 1, 1));
                v.push(Port::output("nan_o", 1, 1));
            }
        }
        v
    }

    /// Cycles from a group's first input beat to its result, with no stalls.
    fn formal(&self) -> Facts {
        // One block per registered stage, and the group being summed beat by beat.
        let summing = if self.beats_per_block() == 1 { 0 } else { 1 };
        Facts::stream(self.pipeline as u32 + summing)
    }

    fn latency(&self) -> u32 {
        (self.group() * self.beats()) as u32 - 1 + self.pipeline as u32
    }

    /// A "block" of the dot unit is a group of `dot_length` block pairs (one result).
    fn beats_per_block(&self) -> usize {
        self.beats() * self.group()
    }

    fn notes(&self) -> Result<Vec<String>> {
        let mut notes = Vec::new();
        if self.format_a == OperandFormat::Dialect || self.format_b == OperandFormat::Dialect {
            notes.extend(self.formatbook.banner_lines()?);
        }
        notes.push("numerics: docs/numerics.md sections 4 and 5 (exact block sums)".into());
        if self.format_a == OperandFormat::Nvfp4 || self.format_b == OperandFormat::Nvfp4 {
            notes.push("nvfp4 operands: UE4M3 block scales (0x7F or a set sign bit = NaN); the exact element sum times the scales' significands, once per block; the FP32 tensor scales are left to the user (docs/numerics.md 3.3)".into());
        }
        Ok(notes)
    }

    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        self.emit_files(top, banner)
    }
}
