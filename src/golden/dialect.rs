//! BlockDialect quantization with a formatbook (numerics.md section 5), bit-exact.
//!
//! Units used throughout: a scaled magnitude m = |x| * 2^-e is held as the integer
//! `M = floor(m * 2^F)` (F fraction bits, truncated), and dialect values are integers `v` in
//! half-units (value = v / 2). Comparisons are done on integers scaled so both sides are exact.

use super::{QuantBlock, block_max_magnitude, flush};
use crate::format::exact::{F32Class, classify_f32, split_shift};
use crate::format::formatbook::{DIALECT_VALUES, MAX_DIALECTS};
use crate::format::{DialectPair, Formatbook, FormatbookError, ScaleFormat};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// Dialect values are half-units: one quantum is 2^-1.
pub const HALF_UNIT_EXP: i32 = -1;
/// Element codes are {sign, 3-bit index}.
pub const SIGN_BIT: u32 = 8;
/// e = floor(log2 amax) - 2, so the scaled block maximum lies in [4, 8).
pub const EXP_OFFSET: i32 = 2;
/// Scaled magnitudes are below 8: three integer bits.
pub const INT_BITS: u32 = 3;
/// Largest F a user may ask for.
pub const MAX_FRAC_BITS: u32 = 16;
/// F used for `exact`. Every magnitude that can round to a nonzero value is >= 0.25, and an FP32
/// value >= 2^-2 has no bit below 2^-25, so 25 fraction bits hold it exactly; magnitudes below
/// 0.25 round to 0 in every dialect, so their truncation changes neither the rounding nor the
/// ranking of dialects by squared error (their error term is the same for every dialect).
pub const EXACT_FRAC_BITS: u32 = 25;
/// Precompute per-dialect tables when there are at most this many magnitude codes.
const TABLE_LIMIT_BITS: u32 = 11;
/// Blocks of up to this many elements keep their magnitudes on the stack: co-simulation
/// quantizes a block every few hundred nanoseconds.
const STACK_BLOCK: usize = 64;
/// Stage 1 reads t = floor(2 M_max / 2^F) < 2 * 8: one table entry per t.
const STAGE1_TS: usize = 2 << INT_BITS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Selector {
    /// Least sum of squared error over the block, ties to the lower id (offline weights).
    Mse,
    /// Pair from the block max, then the member whose beneficial range holds more elements.
    TwoStage,
}

impl Selector {
    pub fn name(self) -> &'static str {
        match self {
            Selector::Mse => "mse",
            Selector::TwoStage => "two-stage",
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Selector {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "mse" => Ok(Selector::Mse),
            "two-stage" => Ok(Selector::TwoStage),
            _ => Err(format!(
                "unknown selector '{s}' (expected mse or two-stage)"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FracBits {
    Bits(u32),
    Exact,
}

impl FracBits {
    pub fn effective(self) -> u32 {
        match self {
            FracBits::Bits(n) => n,
            FracBits::Exact => EXACT_FRAC_BITS,
        }
    }
}

/// A number of bits as a JSON number, `exact` as the string "exact".
impl serde::Serialize for FracBits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FracBits::Bits(n) => s.serialize_u32(*n),
            FracBits::Exact => s.serialize_str("exact"),
        }
    }
}

impl Default for FracBits {
    fn default() -> Self {
        FracBits::Bits(2)
    }
}

impl fmt::Display for FracBits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FracBits::Bits(n) => write!(f, "{n}"),
            FracBits::Exact => f.write_str("exact"),
        }
    }
}

impl FromStr for FracBits {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "exact" {
            return Ok(FracBits::Exact);
        }
        match s.parse::<u32>() {
            Ok(n) if n <= MAX_FRAC_BITS => Ok(FracBits::Bits(n)),
            _ => Err(format!(
                "frac bits must be an integer 0..={MAX_FRAC_BITS} or 'exact', not '{s}'"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BdConfig {
    pub book: Arc<Formatbook>,
    pub selector: Selector,
    pub frac_bits: FracBits,
    pub scale: ScaleFormat,
    pub flush_subnormals: bool,
}

/// A validated BlockDialect configuration with its derived tables.
#[derive(Debug, Clone)]
pub struct BdQuantizer {
    pub config: BdConfig,
    frac: u32,
    pairs: Vec<DialectPair>,
    /// `index_table[d][M]`: rounded index of magnitude code M in dialect d (small F only).
    index_table: Vec<Vec<u8>>,
    /// `error_table[M * dialects + d]`: `squared_error(d, M)`, with the index table: the
    /// least-error selector adds one row per element into all dialects' sums at once.
    error_table: Vec<u32>,
    /// `pair_of_t[t]`: `stage1_pair` of a block whose maximum gives t (two-stage only).
    pair_of_t: Vec<u8>,
}

impl BdQuantizer {
    pub fn new(config: BdConfig) -> Result<BdQuantizer, FormatbookError> {
        let pairs = match config.selector {
            Selector::TwoStage => config.book.pairs()?,
            Selector::Mse => Vec::new(),
        };
        let frac = config.frac_bits.effective();
        let mut q = BdQuantizer {
            config,
            frac,
            pairs,
            index_table: Vec::new(),
            error_table: Vec::new(),
            pair_of_t: Vec::new(),
        };
        if !q.pairs.is_empty() {
            q.pair_of_t = (0..STAGE1_TS as u64)
                .map(|t| q.pair_for_t(t) as u8)
                .collect();
        }
        if frac + INT_BITS <= TABLE_LIMIT_BITS {
            q.index_table = (0..q.config.book.len())
                .map(|d| {
                    (0..q.m_limit() + 1)
                        .map(|m| q.round_index_direct(d, m))
                        .collect()
                })
                .collect();
            // Errors stay below 2^(2 * TABLE_LIMIT_BITS + 2): u32 entries, u64 sums.
            let dialects = q.config.book.len();
            q.error_table = (0..q.m_limit() + 1)
                .flat_map(|m| (0..dialects).map(move |d| (d, m)))
                .map(|(d, m)| u32::try_from(q.squared_error(d, m)).expect("small F"))
                .collect();
        }
        Ok(q)
    }

    pub fn frac_bits(&self) -> u32 {
        self.frac
    }

    /// Largest magnitude code: scaled magnitudes saturate just below 8.
    pub fn m_limit(&self) -> u64 {
        (8u64 << self.frac) - 1
    }

    pub fn pairs(&self) -> &[DialectPair] {
        &self.pairs
    }

    /// e = floor(log2 amax) - 2, clamped to the scale format's range.
    pub fn shared_exp(&self, amax: u32) -> i32 {
        let F32Class::Finite(d) = classify_f32(amax) else {
            unreachable!("shared_exp needs a finite nonzero block maximum")
        };
        self.config.scale.clamp(d.floor_log2() - EXP_OFFSET)
    }

    /// M = floor(|x| * 2^(F - e)), saturated at 8 - 2^-F (the width of the fixed-point field).
    pub fn scaled_magnitude(&self, x: u32, e: i32) -> u64 {
        match classify_f32(x) {
            F32Class::Finite(d) if d.floor_log2() - e >= INT_BITS as i32 => self.m_limit(),
            F32Class::Finite(d) => split_shift(u64::from(d.mant), e - d.exp - self.frac as i32)
                .0
                .min(self.m_limit()),
            _ => 0,
        }
    }

    /// Index of the nearest value of dialect d, ties to the larger magnitude, saturating at the
    /// dialect's maximum: the number of midpoints at or below m.
    pub fn round_index(&self, d: usize, m: u64) -> u8 {
        match self.index_table.get(d) {
            Some(t) => t[m as usize],
            None => self.round_index_direct(d, m),
        }
    }

    fn round_index_direct(&self, d: usize, m: u64) -> u8 {
        let v = &self.config.book.dialects[d];
        // m >= (v_j + v_j+1) / 2 half-units  <=>  4M >= (v_j + v_j+1) * 2^F.
        (0..DIALECT_VALUES - 1)
            .filter(|&j| 4 * m >= (u64::from(v[j]) + u64::from(v[j + 1])) << self.frac)
            .count() as u8
    }

    /// Squared error of magnitude code m in dialect d, in units of 2^-(2F+2).
    pub fn squared_error(&self, d: usize, m: u64) -> u128 {
        let q = u64::from(self.config.book.dialects[d][usize::from(self.round_index(d, m))]);
        let diff = (2 * m).abs_diff(q << self.frac);
        u128::from(diff) * u128::from(diff)
    }

    /// The dialect with least total squared error; ties to the lower id.
    pub fn select_mse(&self, ms: &[u64]) -> u8 {
        if !self.error_table.is_empty() {
            let dialects = self.config.book.len();
            let mut sums = [0u64; MAX_DIALECTS];
            let sums = &mut sums[..dialects];
            for &m in ms {
                let row = &self.error_table[m as usize * dialects..(m as usize + 1) * dialects];
                for (sum, &e) in sums.iter_mut().zip(row) {
                    *sum += u64::from(e);
                }
            }
            let mut best = (u64::MAX, 0u8);
            for (d, &err) in sums.iter().enumerate() {
                if err < best.0 {
                    best = (err, d as u8);
                }
            }
            return best.1;
        }
        let mut best = (u128::MAX, 0u8);
        for d in 0..self.config.book.len() {
            let err: u128 = ms.iter().map(|&m| self.squared_error(d, m)).sum();
            if err < best.0 {
                best = (err, d as u8);
            }
        }
        best.1
    }

    /// Stage 1: the pair whose maximum is the smallest at or above floor(block max in
    /// half-units) (the largest pair maximum if none is). For DialectFP4 that is
    /// p = 15 - floor(2 m_max), clamped to 0..=7.
    pub fn stage1_pair(&self, ms: &[u64]) -> usize {
        let m_max = ms.iter().copied().max().unwrap_or(0);
        let t = (2 * m_max) >> self.frac;
        match self.pair_of_t.get(t as usize) {
            Some(&p) => usize::from(p),
            None => self.pair_for_t(t),
        }
    }

    fn pair_for_t(&self, t: u64) -> usize {
        let above = self
            .pairs
            .iter()
            .enumerate()
            .filter(|(_, p)| u64::from(p.max) >= t)
            .min_by_key(|(_, p)| p.max);
        match above {
            Some((i, _)) => i,
            None => {
                let (i, _) = self
                    .pairs
                    .iter()
                    .enumerate()
                    .max_by_key(|(_, p)| p.max)
                    .expect("a two-stage book has pairs");
                i
            }
        }
    }

    /// Stage 2: count the elements in each member's beneficial range; more wins, ties to the
    /// even (first) member.
    pub fn stage2_counts(&self, pair: usize, ms: &[u64]) -> [u32; 2] {
        let [r0, r1] = self.pairs[pair]
            .range2
            .map(|(lo2, hi2)| (u64::from(lo2) << self.frac)..(u64::from(hi2) << self.frac));
        let mut counts = [0u32; 2];
        for &m in ms {
            counts[0] += u32::from(r0.contains(&(4 * m)));
            counts[1] += u32::from(r1.contains(&(4 * m)));
        }
        counts
    }

    pub fn select_two_stage(&self, ms: &[u64]) -> u8 {
        let pair = self.stage1_pair(ms);
        let [even, odd] = self.stage2_counts(pair, ms);
        let ids = self.pairs[pair].ids;
        (if odd > even { ids[1] } else { ids[0] }) as u8
    }

    pub fn select(&self, ms: &[u64]) -> u8 {
        match self.config.selector {
            Selector::Mse => self.select_mse(ms),
            Selector::TwoStage => self.select_two_stage(ms),
        }
    }

    /// Quantize one block of FP32 bit patterns (any length >= 1).
    pub fn quantize(&self, block: &[u32]) -> QuantBlock {
        let scale = self.config.scale;
        let flush_subnormals = self.config.flush_subnormals;
        let xs = || block.iter().map(move |&b| flush(b, flush_subnormals));
        let Some(amax) = block_max_magnitude(xs()) else {
            let mut q = QuantBlock::nan(scale.nan_code(), block.len());
            q.dialect = Some(0);
            return q;
        };
        // An all-zero block keeps the smallest exponent and each zero's sign (section 3), and
        // its dialect is whatever the selector picks from all-zero magnitudes.
        let e = if amax == 0 {
            scale.min_exp()
        } else {
            self.shared_exp(amax)
        };
        let (mut stack, mut heap) = ([0u64; STACK_BLOCK], Vec::new());
        let ms = if block.len() <= STACK_BLOCK {
            &mut stack[..block.len()]
        } else {
            heap.resize(block.len(), 0);
            &mut heap[..]
        };
        for (m, x) in ms.iter_mut().zip(xs()) {
            *m = self.scaled_magnitude(x, e);
        }
        let ms = &*ms;
        let d = self.select(ms);
        let dmax = u64::from(self.config.book.dialects[usize::from(d)][DIALECT_VALUES - 1]);
        let mut saturated = 0;
        let codes = xs()
            .zip(ms)
            .map(|(x, &m)| {
                saturated += u32::from(2 * m > dmax << self.frac);
                let sign = if x >> 31 != 0 { SIGN_BIT } else { 0 };
                sign | u32::from(self.round_index(usize::from(d), m))
            })
            .collect();
        QuantBlock {
            scale: scale.encode(e),
            dialect: Some(d),
            codes,
            nan: false,
            saturated,
        }
    }
}
