//! `ElementFormat::encode` tabulated, for the golden model's hot path (a tensor of 16 M
//! elements, or a co-simulation of millions of blocks, rounds every element).
//!
//! Round-to-nearest-even and saturation of a positive `mant * 2^exp` into a format whose values
//! have at most S significant bits depend only on floor(log2 value), the top S + 1 bits of
//! `mant` (the kept bits and the round bit) and whether any bit below them is set (sticky):
//! every rounding boundary (a value or a midpoint between two) has at most S + 1 significant
//! bits, so a value and its compression (top P = S + 1 bits, then one sticky bit) fall on the
//! same side of each boundary and never on one unless both do. The table holds `encode` of every
//! compressed value, per binade; binades below the first one that can round up are all zero,
//! and binades above the largest value all saturate, so they clamp to the table's edge rows.

use super::element::{ElementFormat, Encoded};
use std::sync::OnceLock;

pub struct EncodeTable {
    /// Bits kept before the sticky bit (S + 1).
    p: u32,
    /// floor(log2) of the first and last binades held.
    lo: i32,
    hi: i32,
    /// `code | saturated << 15`, indexed by (sign, binade - lo, compressed value - 2^p).
    entries: Vec<u16>,
}

impl EncodeTable {
    /// The table of one format, built on first use from `ElementFormat::encode`.
    pub fn of(elem: ElementFormat) -> &'static EncodeTable {
        static TABLES: [OnceLock<EncodeTable>; 6] = [const { OnceLock::new() }; 6];
        let i = ElementFormat::ALL
            .iter()
            .position(|&e| e == elem)
            .expect("every format is in ALL");
        TABLES[i].get_or_init(|| EncodeTable::build(elem))
    }

    fn build(elem: ElementFormat) -> EncodeTable {
        // Significant bits of the format's values: the significand of a minifloat; 7 for INT8
        // (magnitudes up to 127 quanta).
        let significant = elem.minifloat().map_or(7, |m| m.mbits + 1);
        let p = significant + 1;
        // Below half a quantum everything rounds to zero; from twice the largest binade on,
        // everything saturates.
        let lo = elem.quantum_exp() - 2;
        let hi = elem.emax() + 2;
        let mut entries = Vec::new();
        for neg in [false, true] {
            for binade in lo..=hi {
                for idx in 0..1u64 << p {
                    let e = elem.encode(neg, (1 << p) | idx, binade - p as i32);
                    debug_assert!(e.code < 1 << 15);
                    entries.push(e.code as u16 | u16::from(e.saturated) << 15);
                }
            }
        }
        EncodeTable { p, lo, hi, entries }
    }

    /// The table as a small value a loop can keep in registers.
    pub fn view(&self) -> TableView<'_> {
        TableView {
            p: self.p,
            lo: self.lo,
            hi: self.hi,
            rows: (self.hi - self.lo + 1) as usize,
            entries: &self.entries,
        }
    }

    /// `elem.encode(neg, mant, exp)` for a nonzero `mant` (a zero goes to `encode` itself).
    pub fn encode(&self, neg: bool, mant: u32, exp: i32) -> Encoded {
        self.view().encode(neg, mant, exp)
    }

    /// `encode` of a normal FP32 value given by its bits, scaled by 2^-shift.
    pub fn encode_normal_f32(&self, bits: u32, shift: i32) -> Encoded {
        self.view().encode_normal_f32(bits, shift)
    }

    /// The binades the table holds (for tests of its edges).
    pub fn binades(&self) -> std::ops::RangeInclusive<i32> {
        self.lo..=self.hi
    }
}

/// A borrowed `EncodeTable`.
#[derive(Clone, Copy)]
pub struct TableView<'a> {
    p: u32,
    lo: i32,
    hi: i32,
    rows: usize,
    entries: &'a [u16],
}

impl TableView<'_> {
    /// `elem.encode(neg, mant, exp)` for a nonzero `mant` (a zero goes to `encode` itself).
    #[inline]
    pub fn encode(&self, neg: bool, mant: u32, exp: i32) -> Encoded {
        debug_assert!(mant != 0);
        let len = 32 - mant.leading_zeros();
        let binade = (exp + len as i32 - 1).clamp(self.lo, self.hi);
        let compressed = if len > self.p {
            let cut = len - self.p;
            ((mant >> cut) << 1) | u32::from(mant & ((1 << cut) - 1) != 0)
        } else {
            mant << (self.p + 1 - len)
        };
        let idx = (compressed - (1 << self.p)) as usize;
        let rows = self.rows;
        let row = usize::from(neg) * rows + (binade - self.lo) as usize;
        let entry = self.entries[(row << self.p) + idx];
        Encoded {
            code: u32::from(entry & 0x7fff),
            saturated: entry >> 15 != 0,
        }
    }

    /// `encode` of a normal FP32 value given by its bits, scaled by 2^-shift: the common case,
    /// where the significand always has 24 bits.
    #[inline]
    pub fn encode_normal_f32(&self, bits: u32, shift: i32) -> Encoded {
        debug_assert!(crate::format::exact::is_f32_normal(bits));
        let biased = ((bits >> 23) & 0xff) as i32;
        let binade = (biased - 127 - shift).clamp(self.lo, self.hi);
        let frac = bits & 0x007f_ffff;
        let cut = 24 - self.p;
        let idx = (((frac >> cut) << 1) | u32::from(frac & ((1 << cut) - 1) != 0)) as usize;
        let rows = self.rows;
        let row = (bits >> 31) as usize * rows + (binade - self.lo) as usize;
        let entry = self.entries[(row << self.p) + idx];
        Encoded {
            code: u32::from(entry & 0x7fff),
            saturated: entry >> 15 != 0,
        }
    }
}
