//! Block formats as users name them.

use super::ElementFormat;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A block format as a user names it (`--format`, a dot operand, a dequantizer input): an MX
/// element format, DialectFP4 (a formatbook) with an E8M0 scale, or NVFP4.
/// `golden::BlockFormat` is the same choice with its formatbook or tensor scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OperandFormat {
    Mx(ElementFormat),
    Dialect,
    Nvfp4,
}

impl FromStr for OperandFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "dialectfp4" => return Ok(OperandFormat::Dialect),
            "nvfp4" => return Ok(OperandFormat::Nvfp4),
            _ => {}
        }
        s.parse::<ElementFormat>()
            .map(OperandFormat::Mx)
            .map_err(|_| {
                format!(
                    "unknown format '{s}' (expected one of {})",
                    OperandFormat::NAMES.join(", ")
                )
            })
    }
}

impl TryFrom<String> for OperandFormat {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl From<OperandFormat> for String {
    fn from(f: OperandFormat) -> String {
        f.to_string()
    }
}

impl fmt::Display for OperandFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperandFormat::Mx(e) => f.write_str(e.mx_name()),
            OperandFormat::Dialect => f.write_str("dialectfp4"),
            OperandFormat::Nvfp4 => f.write_str("nvfp4"),
        }
    }
}

impl OperandFormat {
    /// Every name, MX formats first.
    pub const NAMES: [&'static str; 8] = [
        "mxfp8_e4m3",
        "mxfp8_e5m2",
        "mxfp6_e3m2",
        "mxfp6_e2m3",
        "mxfp4",
        "mxint8",
        "dialectfp4",
        "nvfp4",
    ];

    pub fn short(self) -> &'static str {
        match self {
            OperandFormat::Mx(e) => e.short_name(),
            OperandFormat::Dialect => "bd4",
            OperandFormat::Nvfp4 => "nv4",
        }
    }

    pub fn code_bits(self) -> u32 {
        match self {
            OperandFormat::Mx(e) => e.bits(),
            OperandFormat::Dialect | OperandFormat::Nvfp4 => 4,
        }
    }

    /// The block size a format is used with when none is given: 16 for NVFP4, 32 (OCP's)
    /// for the rest.
    pub fn default_block_size(self) -> usize {
        match self {
            OperandFormat::Nvfp4 => crate::golden::nvfp4::DEFAULT_BLOCK_SIZE,
            _ => 32,
        }
    }
}
