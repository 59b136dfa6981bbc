//! The OCP MX element formats as one enum: names, widths, encode and exact decode.

use super::exact::{shift_rne, split_shift};
use super::minifloat::{Decoded, E2M1, E2M3, E3M2, E4M3, E5M2, MiniFloat};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Serialized by its MX name (`mxfp4`); parsed from either name (`mxfp4` or `e2m1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ElementFormat {
    E4m3,
    E5m2,
    E3m2,
    E2m3,
    E2m1,
    Int8,
}

/// An element rounded into its format: the full code (sign included) and whether it saturated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoded {
    pub code: u32,
    pub saturated: bool,
}

/// INT8 elements are two's complement integers in units of 2^-6.
pub const INT8_FRAC_BITS: u32 = 6;
pub const INT8_MAX: u64 = 127;

impl ElementFormat {
    pub const ALL: [ElementFormat; 6] = [
        ElementFormat::E4m3,
        ElementFormat::E5m2,
        ElementFormat::E3m2,
        ElementFormat::E2m3,
        ElementFormat::E2m1,
        ElementFormat::Int8,
    ];

    pub fn minifloat(self) -> Option<MiniFloat> {
        match self {
            ElementFormat::E4m3 => Some(E4M3),
            ElementFormat::E5m2 => Some(E5M2),
            ElementFormat::E3m2 => Some(E3M2),
            ElementFormat::E2m3 => Some(E2M3),
            ElementFormat::E2m1 => Some(E2M1),
            ElementFormat::Int8 => None,
        }
    }

    pub fn bits(self) -> u32 {
        self.minifloat().map_or(8, |m| m.bits())
    }

    /// floor(log2) of the largest finite element magnitude: the `emax_elem` the scale subtracts.
    pub fn emax(self) -> i32 {
        self.minifloat().map_or(0, |m| m.emax())
    }

    /// Exponent of the format's finest step: every finite value is an integer times 2^this.
    pub fn quantum_exp(self) -> i32 {
        self.minifloat()
            .map_or(-(INT8_FRAC_BITS as i32), |m| m.quantum_exp())
    }

    /// The lowercase short name used in module names and reports (`e2m1`, `int8`).
    pub fn short_name(self) -> &'static str {
        match self {
            ElementFormat::E4m3 => "e4m3",
            ElementFormat::E5m2 => "e5m2",
            ElementFormat::E3m2 => "e3m2",
            ElementFormat::E2m3 => "e2m3",
            ElementFormat::E2m1 => "e2m1",
            ElementFormat::Int8 => "int8",
        }
    }

    /// The MX format name a user types (`mxfp4`, `mxint8`).
    pub fn mx_name(self) -> &'static str {
        match self {
            ElementFormat::E4m3 => "mxfp8_e4m3",
            ElementFormat::E5m2 => "mxfp8_e5m2",
            ElementFormat::E3m2 => "mxfp6_e3m2",
            ElementFormat::E2m3 => "mxfp6_e2m3",
            ElementFormat::E2m1 => "mxfp4",
            ElementFormat::Int8 => "mxint8",
        }
    }

    /// Round the (already scaled) value `(-1)^neg * mant * 2^exp` into this format, RNE then
    /// saturate. `mant == 0` is a signed zero. INT8 has no negative zero.
    pub fn encode(self, neg: bool, mant: u64, exp: i32) -> Encoded {
        match self.minifloat() {
            Some(mf) => {
                if mant == 0 {
                    return Encoded {
                        code: if neg { mf.sign_bit() } else { 0 },
                        saturated: false,
                    };
                }
                let r = mf.round_saturate(mant, exp);
                Encoded {
                    code: r.mag_code | if neg { mf.sign_bit() } else { 0 },
                    saturated: r.saturated,
                }
            }
            None => {
                // 64 * value, rounded to an integer; above 2^8 it is far past 127 anyway.
                let scaled_exp = exp + INT8_FRAC_BITS as i32;
                let (n, saturated) = if mant == 0 {
                    (0, false)
                } else if scaled_exp > 8 {
                    (INT8_MAX, true)
                } else {
                    let (kept, inexact) = split_shift(mant, -scaled_exp);
                    let above = kept > INT8_MAX || (kept == INT8_MAX && inexact);
                    (shift_rne(mant, -scaled_exp).min(INT8_MAX), above)
                };
                let n = n as i32;
                let v = if neg { -n } else { n };
                Encoded {
                    code: (v as u8) as u32,
                    saturated,
                }
            }
        }
    }

    pub fn decode(self, code: u32) -> Decoded {
        match self.minifloat() {
            Some(mf) => mf.decode(code),
            None => {
                let v = code as u8 as i8 as i32;
                Decoded::Finite {
                    neg: v < 0,
                    sig: v.unsigned_abs(),
                    exp: -(INT8_FRAC_BITS as i32),
                }
            }
        }
    }

    /// The value of a code as a signed integer count of `2^quantum_exp()`, or None for NaN/Inf.
    pub fn to_quanta(self, code: u32) -> Option<i64> {
        // Every code of every format, decoded once: dot products decode two codes per lane.
        static TABLES: [std::sync::OnceLock<Vec<Option<i64>>>; 6] =
            [const { std::sync::OnceLock::new() }; 6];
        let table = TABLES[self as usize].get_or_init(|| {
            (0..1u32 << self.bits())
                .map(|c| self.decode_quanta(c))
                .collect()
        });
        match table.get(code as usize) {
            Some(&q) => q,
            None => self.decode_quanta(code),
        }
    }

    fn decode_quanta(self, code: u32) -> Option<i64> {
        match self.decode(code) {
            Decoded::Finite { neg, sig, exp } => {
                let q = i64::from(sig) << (exp - self.quantum_exp());
                Some(if neg { -q } else { q })
            }
            _ => None,
        }
    }

    /// Largest finite magnitude in quanta (`to_quanta` of the max code).
    pub fn max_quanta(self) -> u64 {
        match self.minifloat() {
            Some(mf) => self.to_quanta(mf.max_mag_code()).unwrap_or(0) as u64,
            None => INT8_MAX,
        }
    }
}

impl fmt::Display for ElementFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
    }
}

impl TryFrom<String> for ElementFormat {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ElementFormat> for String {
    fn from(f: ElementFormat) -> String {
        f.mx_name().to_string()
    }
}

impl FromStr for ElementFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ElementFormat::ALL
            .into_iter()
            .find(|f| f.short_name() == s || f.mx_name() == s)
            .ok_or_else(|| {
                format!("unknown element format '{s}' (expected one of mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8)")
            })
    }
}
