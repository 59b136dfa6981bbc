//! Unit `dot`: two quantized blocks in (scale, codes, dialect id for DialectFP4), the exact
//! block sum out (numerics.md section 4), or DotGeneral over n blocks into FP32.

use crate::emit::design::{Design, GenFile, Port};
use crate::emit::pipeline::{Cut, Cuts, Stage, chain, delay_chain};
use crate::emit::tree::{SumNode, sum_tree};
use crate::emit::{bits_for, zero_extend};
use crate::error::{Error, Result};
use crate::floor::checks::validate_blocking;
use crate::floor::{BookRef, finish};
use crate::format::minifloat::Specials;
use crate::format::{ElementFormat, ScaleFormat};
use crate::golden::{
    Accumulation, BdConfig, BdQuantizer, BlockFormat, FracBits, MxConfig, QuantBlock, Selector,
    dot, dot_general, dot_general_fixed,
};
use askama::Template;
use rand::RngExt;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One operand's format: an MX element format, or DialectFP4 (a formatbook) with an E8M0 scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OperandFormat {
    Mx(ElementFormat),
    Dialect,
}

impl FromStr for OperandFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "dialectfp4" {
            return Ok(OperandFormat::Dialect);
        }
        s.parse::<ElementFormat>().map(OperandFormat::Mx).map_err(|_| {
            format!("unknown operand format '{s}' (expected mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8 or dialectfp4)")
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
        }
    }
}

impl OperandFormat {
    fn short(self) -> &'static str {
        match self {
            OperandFormat::Mx(e) => e.short_name(),
            OperandFormat::Dialect => "bd4",
        }
    }

    fn code_bits(self) -> u32 {
        match self {
            OperandFormat::Mx(e) => e.bits(),
            OperandFormat::Dialect => 4,
        }
    }
}

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
    #[serde(default = "super::defaults::block_size")]
    pub block_size: usize,
    #[serde(default)]
    pub lanes: Option<usize>,
    #[serde(default = "super::defaults::pipeline")]
    pub pipeline: usize,
    #[serde(default)]
    pub accumulate: AccumulateKind,
    #[serde(default = "super::defaults::dot_length")]
    pub dot_length: usize,
    /// Fixed accumulator width in bits (two's complement).
    #[serde(default = "super::defaults::acc_width")]
    pub acc_width: u32,
    /// Weight of the fixed accumulator's LSB: 2^acc_lsb.
    #[serde(default = "super::defaults::acc_lsb")]
    pub acc_lsb: i32,
    #[serde(default)]
    pub formatbook: BookRef,
}

/// The largest n the FP32 accumulator counts to.
pub const MAX_DOT_LENGTH: usize = 1 << 16;

/// How one operand's elements decode (see `templates/rtl/dot_dec.v`).
#[derive(Debug, Clone)]
struct SideView {
    code_w: u32,
    code_msb: u32,
    sig_w: u32,
    sig_msb: u32,
    sh_w: u32,
    sh_msb: u32,
    is_dialect: bool,
    is_int: bool,
    mbits: u32,
    mbits_msb: u32,
    ebits_msb: u32,
    e_hi: u32,
    special_nan_all_ones: bool,
    special_ieee: bool,
    /// Largest magnitude of a finite element, in its format's steps.
    max_quanta: u64,
    /// Largest shift a finite element uses.
    max_shift: u32,
    quantum: i32,
}

impl SideView {
    fn of(f: OperandFormat) -> SideView {
        let base = |code_w: u32, sig_w: u32| SideView {
            code_w,
            code_msb: code_w - 1,
            sig_w,
            sig_msb: sig_w - 1,
            sh_w: 1,
            sh_msb: 0,
            is_dialect: false,
            is_int: false,
            mbits: 1,
            mbits_msb: 0,
            ebits_msb: 0,
            e_hi: 0,
            special_nan_all_ones: false,
            special_ieee: false,
            max_quanta: 0,
            max_shift: 0,
            quantum: 0,
        };
        match f {
            OperandFormat::Dialect => SideView {
                is_dialect: true,
                max_quanta: 15,
                quantum: crate::golden::dialect::HALF_UNIT_EXP,
                ..base(4, 4)
            },
            OperandFormat::Mx(ElementFormat::Int8) => SideView {
                is_int: true,
                max_quanta: 128,
                quantum: ElementFormat::Int8.quantum_exp(),
                ..base(8, 8)
            },
            OperandFormat::Mx(e) => {
                let mf = e.minifloat().expect("a minifloat");
                let max_e = mf.max_mag_code() >> mf.mbits;
                let sh_w = bits_for(u64::from(max_e.max(2)));
                SideView {
                    sh_w,
                    sh_msb: sh_w - 1,
                    mbits: mf.mbits,
                    mbits_msb: mf.mbits - 1,
                    ebits_msb: mf.ebits - 1,
                    e_hi: mf.ebits + mf.mbits - 1,
                    special_nan_all_ones: mf.specials == Specials::NanAllOnes,
                    special_ieee: mf.specials == Specials::Ieee,
                    max_quanta: e.max_quanta(),
                    max_shift: max_e - 1,
                    quantum: e.quantum_exp(),
                    ..base(e.bits(), mf.mbits + 1)
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "rtl/dot_dec.v", escape = "none")]
struct DecTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    side: &'a str,
    fmt: String,
    quantum: i32,
    d: &'a SideView,
}

/// Widths of the int-to-FP32 rounding module (`templates/rtl/dot_tof32.v`).
#[derive(Debug, Clone)]
struct ToF32View {
    xb: i64,
    mw_msb: u32,
    xw_msb: u32,
    nw: u32,
    nw_msb: u32,
    nw_plus1: u32,
    lz_w: u32,
    lz_msb: u32,
    pad_expr: String,
    k: i64,
    fw: u32,
    fw_msb: u32,
    fw_pad_x: u32,
    fw_pad_lz: u32,
    normal_min: i64,
    rw: u32,
    rw_msb: u32,
    base_shift: u32,
    max_gap: u32,
    bin_off: i64,
    cw: u32,
    cw_msb: u32,
    cw_pad_n: u32,
    has_unused: bool,
    unused_expr: String,
}

impl ToF32View {
    /// value = mag * 2^(exp - xb), mag `mw` bits, exp `xw` bits.
    fn new(mw: u32, xw: u32, xb: i64) -> ToF32View {
        let nw = mw.max(26);
        let k = xb + i64::from(nw - mw);
        let normal_min = k - 126;
        assert!(
            normal_min > 0,
            "the exponent bias keeps the normal range above zero"
        );
        let lz_w = bits_for(u64::from(nw));
        let flb_max = (1i64 << xw) - 1 + i64::from(nw) - 1;
        let fw = bits_for(flb_max.max(normal_min) as u64) + 1;
        let rw = bits_for(u64::from(nw) + 1);
        let cw = fw + 23;
        let mut unused = Vec::new();
        if nw > 26 {
            unused.push(format!("|sh_w[{nw}:27]"));
        }
        ToF32View {
            xb,
            mw_msb: mw - 1,
            xw_msb: xw - 1,
            nw,
            nw_msb: nw - 1,
            nw_plus1: nw + 1,
            lz_w,
            lz_msb: lz_w - 1,
            pad_expr: if nw > mw {
                format!("{{mag_i, {}'d0}}", nw - mw)
            } else {
                "mag_i".into()
            },
            k,
            fw,
            fw_msb: fw - 1,
            fw_pad_x: fw - xw,
            fw_pad_lz: fw - lz_w,
            normal_min,
            rw,
            rw_msb: rw - 1,
            base_shift: nw - 24,
            max_gap: 25,
            bin_off: normal_min,
            cw,
            cw_msb: cw - 1,
            cw_pad_n: cw - 26,
            has_unused: !unused.is_empty(),
            unused_expr: unused.join(" | "),
        }
    }
}

#[derive(Template)]
#[template(path = "rtl/dot_tof32.v", escape = "none")]
struct ToF32Template<'a> {
    banner: &'a str,
    name: &'a str,
    t: &'a ToF32View,
}

#[derive(Template)]
#[template(path = "rtl/dot_fadd.v", escape = "none")]
struct FaddTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    tof32_name: &'a str,
}

struct DialectRow {
    id: usize,
    bus: String,
}

struct PostStage {
    name: String,
    en: String,
    src: String,
}

#[derive(Template)]
#[template(path = "rtl/dot_top.v", escape = "none")]
struct TopTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    fa: String,
    fb: String,
    k: usize,
    lanes: usize,
    beats: usize,
    qa: i32,
    qb: i32,
    fp32: bool,
    fixed: bool,
    /// fp32 or fixed: results over groups of block pairs.
    accumulating: bool,
    multi: bool,
    /// Beat or block counters exist (several beats per block, or several blocks per result).
    has_counters: bool,
    n: usize,
    a_dialect: bool,
    b_dialect: bool,
    ca_msb: u32,
    cb_msb: u32,
    sum_w: u32,
    sum_msb: u32,
    exp_w: u32,
    exp_msb: u32,
    exp_pad: u32,
    exp_add: u64,
    exp_const: i64,
    pipeline: usize,
    stage_summary: String,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    hdr_msb: u32,
    hdr_expr: String,
    sa_lo: u32,
    sb_hi: u32,
    sb_lo: u32,
    da_hi: u32,
    da_lo: u32,
    db_hi: u32,
    db_lo: u32,
    dialect_rows: Vec<DialectRow>,
    cut_in: Cut,
    cut_prod: Cut,
    da: &'a SideView,
    db: &'a SideView,
    deca_name: String,
    decb_name: String,
    mul_msb: u32,
    mul_expr: String,
    /// Both operands INT8: one signed multiply of the codes (`Some(sign-extension)`), with no
    /// sign-magnitude decode around it.
    int_direct: Option<String>,
    sh_sum_msb: u32,
    shs_expr: String,
    pw: u32,
    pw_msb: u32,
    mag_pad: u32,
    tree: Vec<SumNode>,
    /// The beat's scale facts delayed beside registered tree levels: (register, enable, source).
    sc_delay: Vec<(String, String, String)>,
    sc_final: String,
    tree_root: String,
    beat_msb: u32,
    part_msb: u32,
    post: Vec<PostStage>,
    beat_final: String,
    beat_cnt_w: u32,
    beat_cnt_msb: u32,
    beat_last: usize,
    part_ext: String,
    part_trunc: String,
    part_wider: bool,
    blk_cnt_w: u32,
    blk_cnt_msb: u32,
    blk_last: usize,
    tof32_name: String,
    fadd_name: String,
    // fixed accumulation
    acc_w: u32,
    acc_msb: u32,
    acc_lsb: i32,
    acc_pad: u32,
    acc_max: u128,
    s_w: u32,
    s_msb: u32,
    s_pad: u32,
    acc_lsb_abs_sub: String,
    ls_w: u32,
    ls_msb: u32,
    ls_cap: u32,
    ww_w: u32,
    ww_msb: u32,
    ww_pad: u32,
    cw_w: u32,
    cw_msb: u32,
    rs_w: u32,
    rs_msb: u32,
    cr_pad: u32,
}

impl DotParams {
    pub const UNIT: &'static str = "dot";

    pub fn lanes(&self) -> usize {
        self.lanes.unwrap_or(self.block_size)
    }

    pub fn beats(&self) -> usize {
        self.block_size / self.lanes()
    }

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
        if self.sum_bits() > 128 {
            return Err(Error::input(
                "block sums wider than 128 bits are not supported",
            ));
        }
        self.formatbook.get().map(|_| ())
    }

    pub fn block_format(&self, f: OperandFormat) -> Result<BlockFormat> {
        Ok(match f {
            OperandFormat::Mx(e) => BlockFormat::Mx(e),
            OperandFormat::Dialect => BlockFormat::Dialect {
                book: self.formatbook.get()?,
                scale: ScaleFormat::E8m0,
            },
        })
    }

    /// Bits of the exact block sum (signed): the minimum that can never overflow.
    pub fn sum_bits(&self) -> u32 {
        let (a, b) = (SideView::of(self.format_a), SideView::of(self.format_b));
        let max = u128::from(a.max_quanta) * u128::from(b.max_quanta) * self.block_size as u128;
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
            "dot_{}x{}_k{}_l{}_p{}_{}{}",
            self.format_a.short(),
            self.format_b.short(),
            self.block_size,
            self.lanes(),
            self.pipeline,
            acc,
            self.formatbook.name_suffix()?
        ))
    }

    pub fn command_line(&self) -> String {
        let mut s = format!(
            "blockrtl generate --unit dot --format-a {} --format-b {} --block-size {} --lanes {} --pipeline {} --accumulate {}",
            self.format_a,
            self.format_b,
            self.block_size,
            self.lanes(),
            self.pipeline,
            match self.accumulate {
                AccumulateKind::None => "none",
                AccumulateKind::Fp32 => "fp32",
                AccumulateKind::Fixed => "fixed",
            }
        );
        if self.accumulate != AccumulateKind::None {
            s.push_str(&format!(" --dot-length {}", self.dot_length));
        }
        if self.accumulate == AccumulateKind::Fixed {
            s.push_str(&format!(
                " --acc-width {} --acc-lsb {}",
                self.acc_width, self.acc_lsb
            ));
        }
        if let Some(p) = &self.formatbook.path {
            s.push_str(&format!(" --formatbook {}", p.display()));
        }
        s
    }

    fn exp_const(&self) -> i64 {
        i64::from(SideView::of(self.format_a).quantum)
            + i64::from(SideView::of(self.format_b).quantum)
            - 254
    }

    fn exp_bits(&self) -> u32 {
        let c = self.exp_const();
        bits_for(c.unsigned_abs().max((510 + c).unsigned_abs())) + 1
    }

    pub fn ports(&self) -> Vec<Port> {
        let l = self.lanes();
        let mut v = vec![Port::input("scale_a_i", 8, 1)];
        if self.format_a == OperandFormat::Dialect {
            v.push(Port::input("dialect_a_i", 4, 1));
        }
        v.push(Port::input("codes_a_i", self.format_a.code_bits(), l));
        v.push(Port::input("scale_b_i", 8, 1));
        if self.format_b == OperandFormat::Dialect {
            v.push(Port::input("dialect_b_i", 4, 1));
        }
        v.push(Port::input("codes_b_i", self.format_b.code_bits(), l));
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
    pub fn latency(&self) -> u32 {
        (self.group() * self.beats()) as u32 - 1 + self.pipeline as u32
    }

    /// The hardware of checked settings (`Unit::check` has validated them).
    fn emit_checked(&self) -> Result<Design> {
        let book = self.formatbook.get()?;
        let top = self.top_name()?;
        let mut notes = vec![format!("regenerate: {}", self.command_line())];
        if self.format_a == OperandFormat::Dialect || self.format_b == OperandFormat::Dialect {
            notes.extend(self.formatbook.banner_lines()?);
        }
        notes.push("numerics: shared/docs/numerics.md sections 4 and 5 (exact block sums)".into());
        let config = vec![
            ("format_a".into(), self.format_a.to_string()),
            ("format_b".into(), self.format_b.to_string()),
            ("block_size".into(), self.block_size.to_string()),
            ("lanes".into(), self.lanes().to_string()),
            ("pipeline".into(), self.pipeline.to_string()),
            (
                "accumulate".into(),
                format!("{:?}", self.accumulate).to_lowercase(),
            ),
            ("dot_length".into(), self.dot_length.to_string()),
            ("acc_width".into(), self.acc_width.to_string()),
            ("acc_lsb".into(), self.acc_lsb.to_string()),
        ];
        let banner = crate::emit::banner::banner(Self::UNIT, &config, &notes);
        let (da, db) = (SideView::of(self.format_a), SideView::of(self.format_b));
        let lanes = self.lanes();
        let beats = self.beats();
        let fp32 = self.accumulate == AccumulateKind::Fp32;
        let fixed = self.accumulate == AccumulateKind::Fixed;
        let mut files = Vec::new();
        let deca_name = format!("{top}_deca");
        let decb_name = format!("{top}_decb");
        for (name, side, d, f) in [
            (&deca_name, "A", &da, self.format_a),
            (&decb_name, "B", &db, self.format_b),
        ] {
            files.push(GenFile {
                name: format!("{name}.v"),
                contents: finish(
                    DecTemplate {
                        banner: &banner,
                        name,
                        side,
                        fmt: f.to_string(),
                        quantum: d.quantum,
                        d,
                    }
                    .render(),
                ),
            });
        }
        let sum_w = self.sum_bits();
        let tof32_name = format!("{top}_tof32");
        let tof32a_name = format!("{top}_tof32a");
        let fadd_name = format!("{top}_fadd");
        if fp32 {
            let t = ToF32View::new(sum_w, 9, -self.exp_const());
            files.push(GenFile {
                name: format!("{tof32_name}.v"),
                contents: finish(
                    ToF32Template {
                        banner: &banner,
                        name: &tof32_name,
                        t: &t,
                    }
                    .render(),
                ),
            });
            let ta = ToF32View::new(28, 8, 153);
            files.push(GenFile {
                name: format!("{tof32a_name}.v"),
                contents: finish(
                    ToF32Template {
                        banner: &banner,
                        name: &tof32a_name,
                        t: &ta,
                    }
                    .render(),
                ),
            });
            files.push(GenFile {
                name: format!("{fadd_name}.v"),
                contents: finish(
                    FaddTemplate {
                        banner: &banner,
                        name: &fadd_name,
                        tof32_name: &tof32a_name,
                    }
                    .render(),
                ),
            });
        }
        // Products: significands multiply, then shift by both exponents.
        let mul_w = da.sig_w + db.sig_w;
        let max_prod = u128::from(da.max_quanta) * u128::from(db.max_quanta);
        let pw = (128 - max_prod.leading_zeros()).max(mul_w) + 1;
        let shs_w =
            bits_for(u64::from(da.max_shift + db.max_shift).max(1)).max(da.sh_w.max(db.sh_w)) + 1;
        let leaves = (0..lanes).map(|i| format!("g_lane[{i}].leaf")).collect();
        let (tree, tree_root, part_w) = sum_tree(leaves, pw, "acc");
        // Pipeline: products first, then the beat sum, then the inputs, then inside the adder
        // tree (its levels are the long paths once products are registered); more go after
        // the sum.
        let p = self.pipeline;
        let (stages, first_en, last_valid) = chain(p, "valid_i", "take_w");
        let cut_prod_on = p >= 1;
        let cut_in_on = p >= 3;
        let levels = crate::emit::tree::levels(lanes);
        let tree_cuts = p.saturating_sub(3).min(levels.saturating_sub(1));
        let post_count = usize::from(p >= 2) + p.saturating_sub(3 + tree_cuts);
        let mut cuts = Cuts::new(&stages);
        let cut_in = cuts.take(cut_in_on);
        let cut_prod = cuts.take(cut_prod_on);
        let cut_levels = crate::emit::tree::cut_levels(levels, tree_cuts);
        let tree_regs: Vec<Cut> = cut_levels.iter().map(|_| cuts.take(true)).collect();
        let mut tree = tree;
        crate::emit::tree::register_levels(&mut tree, &cut_levels, &tree_regs);
        // The beat's scale facts keep pace with the registered tree levels.
        let (sc_delay, sc_src) = delay_chain(&tree_regs, |i| format!("sc_l{}_q", i + 1), "sc_t_w");
        let mut post = Vec::new();
        let mut src = "beat_w".to_string();
        for name in cuts.rest().take(post_count) {
            post.push(PostStage {
                en: format!("en_{name}_w"),
                src: src.clone(),
                name: name.clone(),
            });
            src = format!("beat_{name}_q");
        }
        let mut summary = Vec::new();
        if cut_in_on {
            summary.push("inputs".to_string());
        }
        if cut_prod_on {
            summary.push("products".to_string());
        }
        for l in &cut_levels {
            summary.push(format!("after adder-tree level {l}"));
        }
        if post_count > 0 {
            summary.push(format!("{post_count} after the beat sum"));
        }
        // Header: {scale_a, scale_b, dialect_a?, dialect_b?}, scale_a on top.
        let (a_dl, b_dl) = (
            self.format_a == OperandFormat::Dialect,
            self.format_b == OperandFormat::Dialect,
        );
        let hdr_w = 16 + 4 * u32::from(a_dl) + 4 * u32::from(b_dl);
        let mut parts = vec!["scale_a_i", "scale_b_i"];
        if a_dl {
            parts.push("dialect_a_i");
        }
        if b_dl {
            parts.push("dialect_b_i");
        }
        let db_lo = 0;
        let da_lo = if b_dl { 4 } else { 0 };
        let sb_lo = 4 * u32::from(a_dl) + 4 * u32::from(b_dl);
        let exp_w = self.exp_bits();
        let c = self.exp_const();
        let beat_cnt_w = bits_for(beats.saturating_sub(1) as u64);
        let fx = FixedView::new(self.acc_width, self.acc_lsb, sum_w, exp_w);
        let blk_cnt_w = bits_for(self.group().saturating_sub(1) as u64);
        let view = TopTemplate {
            banner: &banner,
            name: &top,
            fa: self.format_a.to_string(),
            fb: self.format_b.to_string(),
            k: self.block_size,
            lanes,
            beats,
            qa: da.quantum,
            qb: db.quantum,
            fp32,
            fixed,
            accumulating: fp32 || fixed,
            multi: self.group() > 1,
            has_counters: beats > 1 || self.group() > 1,
            n: self.dot_length,
            a_dialect: a_dl,
            b_dialect: b_dl,
            ca_msb: lanes as u32 * da.code_w - 1,
            cb_msb: lanes as u32 * db.code_w - 1,
            sum_w,
            sum_msb: sum_w - 1,
            exp_w,
            exp_msb: exp_w - 1,
            exp_pad: exp_w - 8,
            exp_add: (c.rem_euclid(1i64 << exp_w)) as u64,
            exp_const: c,
            pipeline: p,
            stage_summary: if summary.is_empty() {
                String::new()
            } else {
                format!(" ({})", summary.join(", "))
            },
            stages,
            first_en,
            last_valid,
            hdr_msb: hdr_w - 1,
            hdr_expr: format!("{{{}}}", parts.join(", ")),
            sa_lo: hdr_w - 8,
            sb_hi: sb_lo + 7,
            sb_lo,
            da_hi: da_lo + 3,
            da_lo,
            db_hi: db_lo + 3,
            db_lo,
            dialect_rows: book
                .dialects
                .iter()
                .enumerate()
                .map(|(id, v)| DialectRow {
                    id,
                    bus: format!(
                        "{{{}}}",
                        v.iter()
                            .rev()
                            .map(|x| format!("4'd{x}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                })
                .collect(),
            cut_in,
            cut_prod,
            da: &da,
            db: &db,
            deca_name,
            decb_name,
            mul_msb: mul_w - 1,
            int_direct: (self.format_a == OperandFormat::Mx(ElementFormat::Int8)
                && self.format_b == OperandFormat::Mx(ElementFormat::Int8))
            .then(|| {
                if pw > 16 {
                    format!("{{{{{}{{ip_w[15]}}}}, ip_w}}", pw - 16)
                } else {
                    "ip_w".to_string()
                }
            }),
            mul_expr: format!(
                "{} * {}",
                zero_extend("a_sig_w", da.sig_w, mul_w),
                zero_extend("b_sig_w", db.sig_w, mul_w)
            ),
            sh_sum_msb: shs_w - 1,
            shs_expr: format!(
                "{} + {}",
                zero_extend("a_sh_w", da.sh_w, shs_w),
                zero_extend("b_sh_w", db.sh_w, shs_w)
            ),
            pw,
            pw_msb: pw - 1,
            mag_pad: pw - mul_w,
            tree,
            sc_delay,
            sc_final: sc_src,
            tree_root,
            beat_msb: part_w + 16,
            part_msb: part_w - 1,
            post,
            beat_final: src,
            beat_cnt_w,
            beat_cnt_msb: beat_cnt_w - 1,
            beat_last: beats - 1,
            part_ext: if sum_w > part_w {
                format!(
                    "{{{{{}{{part_w[{}]}}}}, part_w}}",
                    sum_w - part_w,
                    part_w - 1
                )
            } else {
                "part_w".into()
            },
            part_trunc: if part_w > sum_w {
                format!("[{}:0]", sum_w - 1)
            } else {
                String::new()
            },
            part_wider: part_w > sum_w,
            blk_cnt_w,
            blk_cnt_msb: blk_cnt_w - 1,
            blk_last: self.group() - 1,
            tof32_name,
            fadd_name,
            acc_w: fx.acc_w,
            acc_msb: fx.acc_w - 1,
            acc_lsb: self.acc_lsb,
            acc_pad: fx.cw - fx.acc_w,
            acc_max: (1u128 << (fx.acc_w - 1)) - 1,
            s_w: fx.s_w,
            s_msb: fx.s_w - 1,
            s_pad: fx.s_w - exp_w,
            acc_lsb_abs_sub: fx.lsb_sub,
            ls_w: fx.ls_w,
            ls_msb: fx.ls_w - 1,
            ls_cap: fx.acc_w + 1,
            ww_w: fx.ww,
            ww_msb: fx.ww - 1,
            ww_pad: fx.ww - sum_w,
            cw_w: fx.cw,
            cw_msb: fx.cw - 1,
            rs_w: fx.rs_w,
            rs_msb: fx.rs_w - 1,
            cr_pad: fx.cw - sum_w,
        };
        files.push(GenFile {
            name: format!("{top}.v"),
            contents: finish(view.render()),
        });
        Ok(Design {
            top: top.clone(),
            unit: Self::UNIT.into(),
            params: serde_json::to_value(self).expect("serializable"),
            files,
            ports: self.ports(),
            latency: self.latency(),
            beats_per_block: beats * self.group(),
            user_rtl: false,
        })
    }
}

/// Widths of the fixed-point accumulation path (see the template).
struct FixedView {
    acc_w: u32,
    /// Signed width of s = exp - lsb.
    s_w: u32,
    /// `- lsb` as a literal subtraction term (a negative lsb adds).
    lsb_sub: String,
    ls_w: u32,
    /// Width of the exact left-shifted sum: sum bits + acc bits + 2.
    ww: u32,
    /// Width of a clamped contribution and of the accumulator sum: acc bits + 2.
    cw: u32,
    rs_w: u32,
}

impl FixedView {
    fn new(acc_w: u32, lsb: i32, sum_w: u32, exp_w: u32) -> FixedView {
        let s_w = exp_w.max(bits_for(u64::from(lsb.unsigned_abs())) + 1) + 2;
        FixedView {
            acc_w,
            s_w,
            lsb_sub: if lsb >= 0 {
                lsb.to_string()
            } else {
                // s = exp - lsb = exp + |lsb|: written as subtracting a two's complement literal.
                ((1u64 << s_w) - u64::from(lsb.unsigned_abs())).to_string()
            },
            ls_w: bits_for(u64::from(acc_w) + 1),
            ww: sum_w + acc_w + 2,
            cw: (acc_w + 2).max(sum_w + 1),
            rs_w: bits_for(u64::from(sum_w)),
        }
    }
}

/// Checked dot settings with both operands' golden quantizers, built once. In co-simulation
/// a "block" is a group of `dot_length` block pairs (one result).
pub struct DotChecked {
    pub params: DotParams,
    fa: BlockFormat,
    fb: BlockFormat,
    qa: Quant,
    qb: Quant,
}

enum Quant {
    Mx(MxConfig),
    Bd(Box<BdQuantizer>),
}

impl Quant {
    fn of(f: OperandFormat, p: &DotParams) -> Result<Quant> {
        Ok(match f {
            OperandFormat::Mx(e) => Quant::Mx(MxConfig {
                elem: e,
                flush_subnormals: false,
            }),
            OperandFormat::Dialect => Quant::Bd(Box::new(BdQuantizer::new(BdConfig {
                book: p.formatbook.get()?,
                selector: Selector::Mse,
                frac_bits: FracBits::Bits(2),
                scale: ScaleFormat::E8m0,
                flush_subnormals: false,
            })?)),
        })
    }

    fn quantize(&self, bits: &[u32]) -> QuantBlock {
        match self {
            Quant::Mx(c) => c.quantize(bits),
            Quant::Bd(q) => q.quantize(bits),
        }
    }
}

/// Values per block pair in the stimulus: scale, dialect and k codes for each side.
fn pair_len(k: usize) -> usize {
    2 * (k + 2)
}

impl super::Unit for DotParams {
    const NAME: &'static str = "dot";
    type Checked = DotChecked;

    fn check(&self) -> Result<DotChecked> {
        self.validate()?;
        Ok(DotChecked {
            fa: self.block_format(self.format_a)?,
            fb: self.block_format(self.format_b)?,
            qa: Quant::of(self.format_a, self)?,
            qb: Quant::of(self.format_b, self)?,
            params: self.clone(),
        })
    }
}

impl DotChecked {
    fn side(
        &self,
        f: OperandFormat,
        q: &Quant,
        dist: crate::stimulus::Dist,
        rng: &mut rand_pcg::Pcg64,
        mode: u32,
    ) -> QuantBlock {
        use crate::stimulus::Dist;
        let k = self.params.block_size;
        let f32in = crate::format::InputFormat::F32;
        let ndialects = self.params.formatbook.get().map(|b| b.len()).unwrap_or(1);
        let max_code = match f {
            OperandFormat::Mx(ElementFormat::Int8) => 0x7f,
            OperandFormat::Mx(e) => e.minifloat().map_or(0, |m| m.max_mag_code()),
            OperandFormat::Dialect => 7,
        };
        let sign = 1u32 << (f.code_bits() - 1);
        let neg = |c: u32| match f {
            OperandFormat::Mx(ElementFormat::Int8) => (c as u8).wrapping_neg() as u32,
            _ => c | sign,
        };
        let random_block = |rng: &mut rand_pcg::Pcg64| QuantBlock {
            scale: if rng.random_range(0..64u32) == 0 {
                0xff
            } else {
                rng.random_range(0..=254u32)
            },
            dialect: (f == OperandFormat::Dialect).then(|| rng.random_range(0..ndialects) as u8),
            codes: (0..k)
                .map(|_| rng.random_range(0..(1u32 << f.code_bits())))
                .collect(),
            nan: false,
            saturated: 0,
        };
        match dist {
            Dist::UniformBits => random_block(rng),
            Dist::Edge => {
                let mut b = random_block(rng);
                b.scale = rng.random_range(100..=154u32);
                match mode % 6 {
                    // Largest magnitudes on every lane: the widest sums.
                    0 => b.codes.iter_mut().for_each(|c| *c = max_code),
                    // All negative maxima.
                    1 => b.codes.iter_mut().for_each(|c| *c = neg(max_code)),
                    // Alternating signs: cancellation through the adder tree.
                    2 => {
                        b.codes.iter_mut().enumerate().for_each(|(i, c)| {
                            *c = if i % 2 == 0 { max_code } else { neg(max_code) }
                        })
                    }
                    // A NaN scale.
                    3 => b.scale = 0xff,
                    // A zero block (all +0 codes, smallest scale).
                    4 => {
                        b.scale = 0;
                        b.codes.iter_mut().for_each(|c| *c = 0);
                    }
                    // The extreme scales.
                    _ => b.scale = if rng.random::<bool>() { 254 } else { 0 },
                }
                b
            }
            _ => {
                // Dialect operands aim at their own book, MX operands at DialectFP4's grids.
                let own;
                let book = match f {
                    OperandFormat::Dialect => {
                        own = self.params.formatbook.get().expect("validated");
                        &*own
                    }
                    OperandFormat::Mx(_) => crate::format::Formatbook::builtin(),
                };
                let raw = crate::stimulus::block(dist, f32in, k, book, rng);
                q.quantize(&raw)
            }
        }
    }
}

impl super::Checked for DotChecked {
    fn emit(&self) -> Result<Design> {
        self.params.emit_checked()
    }

    fn stimulus_len(&self) -> usize {
        self.params.group() * pair_len(self.params.block_size)
    }

    fn stimulus(&self, dist: crate::stimulus::Dist, rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>) {
        let k = self.params.block_size;
        for i in 0..self.params.group() {
            // Now and then the previous pair again with A negated: exact cancellation in the
            // FP32 accumulation.
            if i > 0 && rng.random_range(0..8u32) == 0 {
                let prev: Vec<u32> = out[out.len() - pair_len(k)..].to_vec();
                let sign = 1u32 << (self.params.format_a.code_bits() - 1);
                out.extend_from_slice(&prev[..2]);
                out.extend(prev[2..k + 2].iter().map(|&c| match self.params.format_a {
                    OperandFormat::Mx(ElementFormat::Int8) => (c as u8).wrapping_neg() as u32,
                    _ => c ^ sign,
                }));
                out.extend_from_slice(&prev[k + 2..]);
                continue;
            }
            let mode: u32 = rng.random_range(0..36);
            let a = self.side(self.params.format_a, &self.qa, dist, rng, mode);
            let b = self.side(self.params.format_b, &self.qb, dist, rng, mode / 6);
            for q in [a, b] {
                out.push(q.scale);
                out.push(u32::from(q.dialect.unwrap_or(0)));
                out.extend(&q.codes);
            }
        }
    }

    fn input_beats(&self, layout: &crate::emit::layout::Layout, stim: &[u32], out: &mut Vec<u8>) {
        let k = self.params.block_size;
        let l = self.params.lanes();
        let (a_dl, b_dl) = (
            self.params.format_a == OperandFormat::Dialect,
            self.params.format_b == OperandFormat::Dialect,
        );
        for pair in stim.chunks(pair_len(k)) {
            let (a, b) = pair.split_at(k + 2);
            for beat in 0..k / l {
                let mut f = 0;
                for (side, dl) in [(a, a_dl), (b, b_dl)] {
                    layout.push(f, u64::from(side[0]), out);
                    f += 1;
                    if dl {
                        layout.push(f, u64::from(side[1]), out);
                        f += 1;
                    }
                    for &c in &side[2 + beat * l..2 + (beat + 1) * l] {
                        layout.push(f, u64::from(c), out);
                    }
                    f += 1;
                }
            }
        }
    }

    fn expected_beats(
        &self,
        layout: &crate::emit::layout::Layout,
        stim: &[u32],
        out: &mut Vec<u8>,
    ) {
        let k = self.params.block_size;
        let block = |s: &[u32], f: OperandFormat| QuantBlock {
            scale: s[0],
            dialect: (f == OperandFormat::Dialect).then_some(s[1] as u8),
            codes: s[2..].to_vec(),
            nan: false,
            saturated: 0,
        };
        let (mut av, mut bv) = (Vec::new(), Vec::new());
        for pair in stim.chunks(pair_len(k)) {
            let (a, b) = pair.split_at(k + 2);
            av.push(block(a, self.params.format_a));
            bv.push(block(b, self.params.format_b));
        }
        match self.params.accumulate {
            AccumulateKind::None => {
                let r = dot(&self.fa, &av[0], &self.fb, &bv[0]);
                layout.push_wide(0, r.sum, out);
                layout.push_wide(1, i128::from(r.exp), out);
                layout.push(2, u64::from(r.nan), out);
            }
            AccumulateKind::Fp32 => {
                let v = dot_general(
                    &self.fa,
                    &av,
                    &self.fb,
                    &bv,
                    Accumulation::Fp32 { interleave: 1 },
                );
                let bits = if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() };
                layout.push(0, u64::from(bits), out);
            }
            AccumulateKind::Fixed => {
                let p = &self.params;
                let r = dot_general_fixed(&self.fa, &av, &self.fb, &bv, p.acc_width, p.acc_lsb);
                layout.push_wide(0, r.value, out);
                layout.push(1, u64::from(r.saturated), out);
                layout.push(2, u64::from(r.nan), out);
            }
        }
    }
}
