//! Power-of-two block scales: OCP E8M0 and the short biased exponent of BlockDialect's accounting.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScaleFormat {
    /// 8 bits, bias 127, byte 0xFF = NaN, no zero or infinity (OCP MX v1.0).
    #[default]
    E8m0,
    /// 5 bits, bias 15, code 0x1F = NaN: exponents -15..=15 (our choice; the paper gives only the
    /// width). Exponents outside the range clamp, and elements then saturate or underflow.
    E5,
}

impl ScaleFormat {
    pub fn bits(self) -> u32 {
        match self {
            ScaleFormat::E8m0 => 8,
            ScaleFormat::E5 => 5,
        }
    }

    pub fn bias(self) -> i32 {
        match self {
            ScaleFormat::E8m0 => 127,
            ScaleFormat::E5 => 15,
        }
    }

    /// The all-ones code, reserved for NaN.
    pub fn nan_code(self) -> u32 {
        (1 << self.bits()) - 1
    }

    pub fn min_exp(self) -> i32 {
        -self.bias()
    }

    pub fn max_exp(self) -> i32 {
        self.nan_code() as i32 - 1 - self.bias()
    }

    /// Clamp an exponent into the representable range.
    pub fn clamp(self, exp: i32) -> i32 {
        exp.clamp(self.min_exp(), self.max_exp())
    }

    /// Code of an in-range exponent (call `clamp` first).
    pub fn encode(self, exp: i32) -> u32 {
        debug_assert!((self.min_exp()..=self.max_exp()).contains(&exp));
        (exp + self.bias()) as u32
    }

    /// Exponent of a code, or None for the NaN code.
    pub fn decode(self, code: u32) -> Option<i32> {
        (code != self.nan_code()).then(|| code as i32 - self.bias())
    }

    pub fn name(self) -> &'static str {
        match self {
            ScaleFormat::E8m0 => "e8m0",
            ScaleFormat::E5 => "e5",
        }
    }
}

impl fmt::Display for ScaleFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScaleFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "e8m0" => Ok(ScaleFormat::E8m0),
            "e5" => Ok(ScaleFormat::E5),
            _ => Err(format!("unknown scale format '{s}' (expected e8m0 or e5)")),
        }
    }
}

/// How an MX block's shared exponent follows from its largest magnitude (numerics.md 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ScaleRule {
    /// OCP v1.0: floor(log2 amax) - emax_elem; maxima above max_elem x 2^e saturate.
    #[default]
    Floor,
    /// The smallest e with amax <= max_elem x 2^e: the block maximum never saturates.
    Rceil,
}

impl ScaleRule {
    pub const ALL: [ScaleRule; 2] = [ScaleRule::Floor, ScaleRule::Rceil];

    pub fn name(self) -> &'static str {
        match self {
            ScaleRule::Floor => "floor",
            ScaleRule::Rceil => "rceil",
        }
    }
}

impl fmt::Display for ScaleRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ScaleRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ScaleRule::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| format!("unknown scale rule '{s}' (expected floor or rceil)"))
    }
}
