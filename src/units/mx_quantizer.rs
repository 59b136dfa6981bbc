//! Unit `mx-quantizer`: one block of FP32/BF16/FP16 inputs in, one MX block out.
//!
//! One params object carries the golden model and the emitter: `validate()` once, then
//! `golden()` and `emit()` read the same fields.

use crate::emit::bits_for;
use crate::emit::design::{GenFile, Port, module_ports};
use crate::emit::pipeline::{Cut, Cuts, OutStage, Stage, chain, delay_chain, out_stages};
use crate::emit::tree::{Node, reduce};
use crate::error::Result;
use crate::floor::bundle::{Bundle, Part};
use crate::floor::checks::{MAX_PIPELINE, check_flush, validate_blocking_upto};
use crate::floor::decode::DecodeNumbers;
use crate::format::{ElementFormat, InputFormat, ScaleRule};
use crate::golden::{MxConfig, QuantBlock};
use crate::prove::facts::{CodeRule, Facts, NanRule};
use crate::units::unit::{Hardware, Spec};
use askama::Template;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MxQuantizerParams {
    /// Element format (`mxfp4`, `mxfp8_e4m3`, ... or `e2m1`, ...).
    pub format: ElementFormat,
    #[serde(default = "super::defaults::block_size")]
    pub block_size: usize,
    #[serde(default)]
    pub input_format: InputFormat,
    /// Elements per beat (default: the whole block).
    #[serde(default)]
    pub lanes: Option<usize>,
    /// Register stages placed by the generator (0 = combinational core).
    #[serde(default = "super::defaults::pipeline")]
    pub pipeline: usize,
    #[serde(default)]
    pub flush_subnormals: bool,
    /// Shared-exponent rule: floor (OCP) or rceil (numerics.md 3.1).
    #[serde(default)]
    pub scale_rule: ScaleRule,
}

/// The one-beat MX quantizer has more cut points (every max-tree level, two inside conversion).
pub const MXQ_MAX_PIPELINE: usize = 12;

crate::floor::checks::lanes_and_beats!(MxQuantizerParams);

impl MxQuantizerParams {
    pub const UNIT: &'static str = "mx-quantizer";

    pub fn validate(&self) -> Result<()> {
        // One beat per block (lanes == k) has the extra cut points.
        let most = if self.lanes() == self.block_size {
            MXQ_MAX_PIPELINE
        } else {
            MAX_PIPELINE
        };
        validate_blocking_upto(self.block_size, self.lanes(), self.pipeline, most)?;
        check_flush(self.input_format, self.flush_subnormals)
    }

    pub fn golden(&self) -> MxConfig {
        MxConfig {
            elem: self.format,
            flush_subnormals: self.flush_subnormals,
            scale_rule: self.scale_rule,
        }
    }

    /// Quantize one block of raw input codes (as the hardware receives them).
    pub fn golden_block(&self, raw: &[u32]) -> QuantBlock {
        // FP32 codes are their own FP32 bits: no copy on co-simulation's hot path.
        if self.input_format == InputFormat::F32 {
            return self.golden().quantize(raw);
        }
        let bits: Vec<u32> = raw.iter().map(|&r| self.input_format.widen(r)).collect();
        self.golden().quantize(&bits)
    }

    /// Stable module name carrying the configuration.
    pub fn top_name(&self) -> String {
        format!(
            "mxq_{}_{}_k{}_l{}_p{}{}{}",
            self.format.short_name(),
            self.input_format.name(),
            self.block_size,
            self.lanes(),
            self.pipeline,
            if self.flush_subnormals { "_ftz" } else { "" },
            if self.scale_rule == ScaleRule::Rceil {
                "_rceil"
            } else {
                ""
            }
        )
    }

    fn common<'a>(&self, banner: &'a str, top: &'a str, n: &'a Numbers) -> Common<'a> {
        let l = self.lanes();
        let leaves = (0..l).map(|i| format!("g_lane[{i}].leaf")).collect();
        let (tree, tree_root) = reduce(leaves, "max");
        Common {
            banner,
            name: top,
            n,
            lanes: l,
            k: self.block_size,
            input_format: self.input_format.name(),
            element: self.format.mx_name(),
            port_decls: module_ports(&self.ports()),
            dec_name: format!("{top}_dec"),
            cvt_name: format!("{top}_cvt"),
            tree,
            tree_root,
        }
    }

    /// The fixed cut points of a one-beat pipeline, in the order they fill: after the block
    /// max, the output, after decode (not with the exponent tree), half-way through conversion
    /// (not with a table), after the conversion's subtraction.
    fn fixed_cuts(n: &Numbers) -> usize {
        2 + usize::from(n.exp_tree.is_none()) + usize::from(n.table.is_none()) + 1
    }

    /// Half-way through conversion, after the shift: the last fixed cut but one.
    fn cvt_mid_cut(&self, n: &Numbers) -> bool {
        self.beats() == 1 && n.table.is_none() && self.pipeline + 1 >= Self::fixed_cuts(n)
    }

    /// After the conversion's subtraction: the last fixed cut.
    fn cvt_d_cut(&self, n: &Numbers) -> bool {
        self.beats() == 1 && self.pipeline >= Self::fixed_cuts(n)
    }

    fn parallel_view<'a>(
        &self,
        banner: &'a str,
        top: &'a str,
        n: &'a Numbers,
    ) -> ParallelTemplate<'a> {
        // Cut points by value: after the block max (splits decode+tree from conversion), at the
        // output, after decode (before the tree), then inside the max tree (its levels are the
        // longest paths once decode and conversion are cut off), at the input; more stages go
        // to the output.
        // With the exponent tree there is no decode cut (the first level runs beside the
        // decode) and no cut at the root (it picks between its children's thresholds, so
        // the threshold adds nothing to the root's stage).
        let p = self.pipeline;
        let exp_tree = n.exp_tree.is_some();
        let levels = crate::emit::tree::levels(self.lanes());
        let cut_levels_max = if exp_tree { levels - 1 } else { levels };
        let cut_max = p >= 1;
        let cut_out = p >= 2;
        let cut_dec = p >= 3 && !exp_tree;
        let cut_cvt = self.cvt_mid_cut(n);
        let cut_d = self.cvt_d_cut(n);
        let fixed = Self::fixed_cuts(n);
        let tree_cuts = p.saturating_sub(fixed).min(cut_levels_max);
        let cut_in = p > fixed + tree_cuts;
        let extra_out = p.saturating_sub(fixed + 1 + tree_cuts);
        let (stages, first_en, last_valid) = chain(p, "valid_i", "ready_i");
        let mut cuts = Cuts::new(&stages);
        // Pipeline order: in, dec, tree levels, max, half-way through conversion, out...
        let cut_in = cuts.take(cut_in);
        let cut_dec = cuts.take(cut_dec);
        let cut_levels = crate::emit::tree::cut_levels(cut_levels_max, tree_cuts);
        let tree_regs: Vec<Cut> = cut_levels.iter().map(|_| cuts.take(true)).collect();
        let cut_max = cuts.take(cut_max);
        let cut_d = cuts.take(cut_d);
        let cut_cvt = cuts.take(cut_cvt);
        let mut c = self.common(banner, top, n);
        crate::emit::tree::register_levels(&mut c.tree, &cut_levels, &tree_regs);
        let root = if exp_tree {
            let root = c.tree.pop().expect("an exponent tree has a root node");
            Some([root.a, root.b].map(|x| (format!("{x}_flb_w"), format!("{x}_special_w"))))
        } else {
            None
        };
        let (keep_delay, keep_src) =
            delay_chain(&tree_regs, |i| format!("keep_t{}_q", i + 1), "keep_w");
        let out_names: Vec<String> = cuts.rest().take(usize::from(cut_out) + extra_out).collect();
        // The block's scale and NaN flag keep pace with the conversion's inner registers.
        let (tags, blk_cuts): (Vec<&str>, Vec<Cut>) = [("d", &cut_d), ("c", &cut_cvt)]
            .into_iter()
            .filter(|(_, cut)| cut.registered)
            .map(|(tag, cut)| (tag, cut.clone()))
            .unzip();
        let (scale_regs, scale_src) =
            delay_chain(&blk_cuts, |i| format!("scale_{}_q", tags[i]), "scale_w");
        let (special_regs, special_src) = delay_chain(
            &blk_cuts,
            |i| format!("special_{}_q", tags[i]),
            "blk_special_w",
        );
        let blk_delay: Vec<(String, String, String, String)> = tags
            .iter()
            .zip(scale_regs.into_iter().zip(special_regs))
            .map(|(tag, ((_, en, scale), (_, _, special)))| (tag.to_string(), en, scale, special))
            .collect();
        let (outs, (code_out, scale_out, nan_out, _)) = out_stages(
            &out_names,
            ("code_w", scale_src.as_str(), special_src.as_str(), "1'b1"),
        );
        let tree_summary = cut_levels
            .iter()
            .map(|l| format!("after max-tree level {l}"))
            .collect::<Vec<_>>();
        let registered: Vec<&str> = [
            (cut_in.registered, "input"),
            (cut_dec.registered, "after decode"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| s)
        .chain(tree_summary.iter().map(String::as_str))
        .chain(cut_max.registered.then_some("after the block max"))
        .chain(
            cut_d
                .registered
                .then_some("after the conversion's subtraction"),
        )
        .chain(cut_cvt.registered.then_some("after the conversion's shift"))
        .chain(std::iter::repeat_n("output", outs.len()))
        .collect();
        ParallelTemplate {
            c,
            root,
            keep_delay,
            keep_src,
            keep_expr: n.store.pack(|field| Part::Of {
                bundle: &n.lane,
                wire: "tree_w",
                field,
            }),
            pipeline: p,
            stage_summary: crate::emit::pipeline::stage_summary(&registered),
            stages,
            first_en,
            last_valid,
            cut_in,
            cut_dec,
            cut_max,
            cut_d,
            cut_cvt,
            blk_delay,
            out_stages: outs,
            code_out,
            scale_out,
            nan_out,
        }
    }

    fn serial_view<'a>(&self, banner: &'a str, top: &'a str, n: &'a Numbers) -> SerialTemplate<'a> {
        let beats = self.beats();
        let (stages, first_en, last_valid) = chain(self.pipeline, "rd_full_w", "ready_i");
        let names: Vec<String> = stages.iter().map(|s| s.name.clone()).collect();
        let (outs, (code_out, scale_out, nan_out, last_out)) =
            out_stages(&names, ("code_w", "scale_w", "blk_special_w", "rd_last_w"));
        let beat_w = bits_for(beats as u64 - 1);
        SerialTemplate {
            c: self.common(banner, top, n),
            beats,
            latency: self.latency(),
            beat_w,
            beat_msb: beat_w - 1,
            beat_last: beats - 1,
            mem_last: 2 * beats - 1,
            stages,
            first_en,
            last_valid,
            out_stages: outs,
            code_out,
            scale_out,
            nan_out,
            last_out,
        }
    }
}

/// Every width and constant the templates place, computed once (see the template comments for
/// what the offset form means).
#[derive(Debug, Clone)]
pub struct Numbers {
    pub dec: DecodeNumbers,
    pub in_w: u32,
    pub in_msb: u32,
    pub flb_offset: i64,
    pub flb_w: u32,
    pub flb_msb: u32,
    pub sig_w: u32,
    pub sig_msb: u32,
    pub sig_w_plus1: u32,
    /// Element format as the conversion sees it (INT8: 6 fraction bits, one binade).
    pub elem_man_bits: u32,
    pub emin: i64,
    pub emax: i64,
    pub z: i64,
    pub tz_w: u32,
    pub tz_msb: u32,
    pub tz_pad: u32,
    pub tz_add: i64,
    pub tz_floor: i64,
    pub scale_off: i64,
    pub tz_unused_bits: bool,
    /// Whether the block max lies above the scale floor, from the max itself (in parallel
    /// with the additions, not after them).
    pub above_floor_expr: String,
    /// max flb + this (mod 2^tz_w) is the scale byte above the floor.
    pub scale_add: u64,
    pub eo_w: u32,
    pub eo_msb: u32,
    pub cm_w: u32,
    pub cm_msb: u32,
    pub cm_pad_n: u32,
    pub eoff_pad: u32,
    pub r_w: u32,
    /// Width of the signed lane difference d = flz - tz, and its bounds.
    pub d_w: u32,
    pub d_msb: u32,
    pub d_pad: u32,
    /// Low bits of d kept past a register inside conversion (shift amount and exponent offset).
    pub dl_w: u32,
    pub dl_msb: u32,
    /// T = tz - z from the block max: max flb + tzm_add above the floor, tzm_floor at it
    /// (both mod 2^d_w).
    pub tzm_add: u64,
    pub tzm_floor: u64,
    /// 2^d_w - sig_w: d below this (as unsigned, d negative) means the gap exceeds sig_w.
    pub far_below: u64,
    pub r_msb: u32,
    pub el_w: u32,
    pub el_msb: u32,
    pub mag_w: u32,
    pub mag_msb: u32,
    pub max_mag: u64,
    pub is_int: bool,
    /// One lane's decode: {sign, special, flb, sig, sticky}.
    pub lane: Bundle,
    /// What waits for the shared exponent (special went to the max tree): {sign, flb, sig, sticky}.
    pub store: Bundle,
    /// `rceil`: the max tree compares keys {flb, gt}, gt = the lane's significand exceeds the
    /// element maximum's (`gt_const`, left-aligned to the lane's {sig, sticky}); the shared
    /// exponent then takes flb + gt, capped at `flb_cap` where the scale would pass 2^127.
    pub rceil: bool,
    pub key_msb: u32,
    pub gt_const: String,
    pub flb_capped: bool,
    pub flb_cap: i64,
    /// Small element formats convert by a table instead of shift, round and saturate.
    pub table: Option<CvtTable>,
    /// The one-beat unit takes the block max over the inputs' exponent fields (see ExpTree).
    pub exp_tree: Option<ExpTree>,
    /// Decode subnormal inputs as zeros: flush_subnormals, or none of them can give a nonzero code.
    pub dec_flush: bool,
    /// A lane's flb widened to the subtraction (sign-extended when it is biased by -man_bits).
    pub flb_ext: String,
    /// What the serial unit subtracts from tz to form the conversion's threshold.
    pub tzm_sub: i64,
}

/// Conversion by table: with the threshold lowered by sig_w, a lane's u = flb - T' is negative
/// when every bit lies below the element's smallest subnormal (code 0), and otherwise its low
/// bits, the significand's fraction bits and sticky index the magnitude code. The table holds
/// what the shift, round and saturate arithmetic gives for every such index.
#[derive(Debug, Clone)]
pub struct CvtTable {
    pub u_w: u32,
    pub key_w: u32,
    /// Fraction bits of the significand below its leading one (the key's middle field).
    pub frac_msb: u32,
    /// (key, magnitude code) for every key that can occur.
    pub rows: Vec<(u64, u64)>,
}

/// The block max over the raw exponent fields, for inputs whose every subnormal lies at or
/// below the scale floor (FP32, BF16): such a block's scale is the floor whatever its
/// subnormals are, so the tree needs no leading-one positions and no `+ man_bits` per lane;
/// the leaves are input bits, so the first level starts from the input register beside the
/// decode. The root forms both children's thresholds beside its comparison and picks one.
#[derive(Debug, Clone)]
pub struct ExpTree {
    key_w: u32,
    /// The max is above the floor when it exceeds this exponent.
    pub above_k: u64,
    tz_w: u32,
    d_w: u32,
    /// What an exponent adds to form T' (mod 2^d_w) and the scale byte (mod 2^tz_w).
    tzm_add: u64,
    scale_add: u64,
}

impl ExpTree {
    /// `above_flb`: the max flb the floor stops at; `tzm_add`, `scale_add`: what a max flb adds
    /// to form the threshold and the scale byte.
    fn new(
        dec: &DecodeNumbers,
        above_flb: i64,
        tzm_add: i64,
        scale_add: i64,
        tz_w: u32,
    ) -> ExpTree {
        let man = i64::from(dec.man_bits);
        let d_w = tz_w + 2;
        ExpTree {
            key_w: dec.exp_bits,
            above_k: (above_flb - man) as u64,
            tz_w,
            d_w,
            tzm_add: (tzm_add + man).rem_euclid(1i64 << d_w) as u64,
            scale_add: (scale_add + man).rem_euclid(1i64 << tz_w) as u64,
        }
    }

    /// One beat, the floor rule, and the largest subnormal (flb man_bits) not lifting the
    /// scale off the floor (`above_flb`).
    fn fits(p: &MxQuantizerParams, dec: &DecodeNumbers, above_flb: i64) -> bool {
        p.beats() == 1
            && p.lanes() >= 2
            && p.scale_rule == ScaleRule::Floor
            && above_flb >= i64::from(dec.man_bits)
    }

    /// Whether the exponent `w` lifts the scale above the floor.
    pub fn above(&self, w: &str) -> String {
        format!(
            "{{{}'d0, {w}}} > {}'d{}",
            self.tz_w - self.key_w,
            self.tz_w,
            self.above_k
        )
    }

    /// The conversion's threshold for a max exponent `w` above the floor.
    pub fn tzm(&self, w: &str) -> String {
        format!(
            "{{{}'d0, {w}}} + {}'d{}",
            self.d_w - self.key_w,
            self.d_w,
            self.tzm_add
        )
    }

    /// The scale byte (in tz_w bits) for a max exponent `w` above the floor.
    pub fn scale(&self, w: &str) -> String {
        format!(
            "{{{}'d0, {w}}} + {}'d{}",
            self.tz_w - self.key_w,
            self.tz_w,
            self.scale_add
        )
    }
}

/// Widest table key the conversion uses before it falls back to the arithmetic.
const TABLE_KEY_MAX: u32 = 6;

impl CvtTable {
    /// None when the key would be wider than TABLE_KEY_MAX bits (or for INT8, whose two's
    /// complement codes take the arithmetic path).
    fn of(sig_w: u32, c: i64, m: u32, max_mag: u64, is_int: bool) -> Option<CvtTable> {
        let u_max = c + i64::from(sig_w);
        let u_w = bits_for(u_max as u64);
        let key_w = u_w + sig_w;
        if is_int || key_w > TABLE_KEY_MAX {
            return None;
        }
        let mut rows = Vec::new();
        for u in 0..=u_max {
            for frac in 0..1u64 << (sig_w - 1) {
                for sticky in 0..2u64 {
                    let key = ((u as u64) << sig_w) | (frac << 1) | sticky;
                    let sig = (1u64 << (sig_w - 1)) | frac;
                    rows.push((
                        key,
                        Self::magnitude(u - i64::from(sig_w), sig, sticky == 1, m, max_mag),
                    ));
                }
            }
        }
        Some(CvtTable {
            u_w,
            key_w,
            frac_msb: sig_w - 2,
            rows,
        })
    }

    /// The conversion's arithmetic for one lane at d = flb - T (d >= -sig_w): a right shift
    /// by one (the round bit) plus the gap below the threshold, RNE, then saturation.
    fn magnitude(d: i64, sig: u64, sticky: bool, m: u32, max_mag: u64) -> u64 {
        let ext = sig << 1;
        let shift = if d < 0 { 1 - d } else { 1 } as u32;
        let sh = ext >> shift;
        let tie = sticky || ext & ((1u64 << shift) - 1) != 0;
        let n = (sh >> 1) + u64::from(sh & 1 == 1 && (tie || sh & 2 != 0));
        let mag = if d < 0 { 0 } else { (d as u64) << m } + n;
        mag.min(max_mag)
    }
}

impl Numbers {
    fn of(p: &MxQuantizerParams) -> Numbers {
        let (elem_man_bits, emin, emax, max_mag, is_int) = match p.format.minifloat() {
            Some(mf) => (
                mf.mbits,
                i64::from(mf.emin()),
                i64::from(mf.emax()),
                u64::from(mf.max_mag_code()),
                false,
            ),
            None => (6, 0, 0, 127, true),
        };
        let sig_w = elem_man_bits + 2;
        let dec = DecodeNumbers::new(p.input_format, sig_w);
        // The conversion's threshold never falls below the scale floor's, l (flb units), and an
        // element sig_w + 1 binades below it rounds to zero.
        let floor_t = dec.flb_offset + emin - 127;
        let (dec, dec_flush) = match dec
            .clone()
            .prune_subnormals_below(floor_t - i64::from(sig_w))
        {
            Some(pruned) => (pruned, p.flush_subnormals),
            None => (dec, true),
        };
        // With the exponent tree the lanes' flb is biased by -man_bits (no adder per lane) and
        // the threshold carries the bias instead.
        let exp_fits = ExpTree::fits(p, &dec, floor_t + (emax - emin));
        let lane_bias = if exp_fits { i64::from(dec.man_bits) } else { 0 };
        let dec = if exp_fits { dec.less_man_bits() } else { dec };
        let DecodeNumbers {
            in_w,
            flb_offset,
            flb_max,
            flb_w,
            ..
        } = dec;
        let rceil = p.scale_rule == ScaleRule::Rceil;
        // Under rceil the block max can count one binade higher, up to the cap.
        let flb_cap = 127 + emax + flb_offset;
        let flb_capped = rceil && flb_max + 1 > flb_cap;
        let flb_max = if rceil {
            (flb_max + 1).min(flb_cap)
        } else {
            flb_max
        };
        // The element maximum's significand, leading one at the top of the lane's sig bits.
        let max_sig = p.format.max_quanta() >> p.format.max_quanta().trailing_zeros();
        let m_top = max_sig << (sig_w - bits_for(max_sig));
        let c = emax - emin;
        let l = floor_t;
        let z = c.max(-l).max(0);
        let tz_max = (flb_max + z - c).max(l + z).max(flb_max + z);
        let tz_w = bits_for(tz_max as u64).max(flb_w + 1).max(8);
        let eo_w = bits_for(c as u64);
        let el_w = p.format.bits();
        let mag_w = el_w - 1;
        let cm_w = bits_for(((c as u64) << elem_man_bits) + (1 << (elem_man_bits + 1)))
            .max(eo_w + elem_man_bits + 1)
            .max(sig_w + 1)
            .max(mag_w + 1);
        let r_w = bits_for(u64::from(sig_w) + 1);
        let table = CvtTable::of(sig_w, c, elem_man_bits, max_mag, is_int);
        // The table's threshold sits sig_w lower, so that u = flb - T' is d + sig_w.
        let u_off = if table.is_some() { i64::from(sig_w) } else { 0 };
        Numbers {
            dec: dec.clone(),
            in_w,
            in_msb: in_w - 1,
            flb_offset,
            flb_w,
            flb_msb: flb_w - 1,
            sig_w,
            sig_msb: sig_w - 1,
            sig_w_plus1: sig_w + 1,
            elem_man_bits,
            emin,
            emax,
            z,
            tz_w,
            tz_msb: tz_w - 1,
            tz_pad: tz_w - flb_w,
            tz_add: z - c,
            tz_floor: l + z,
            scale_off: l + z,
            tz_unused_bits: tz_w > 8,
            above_floor_expr: if l + z - (z - c) < 0 {
                "1'b1".into()
            } else {
                format!(
                    "{{{}'d0, max_flb_w}} > {tz_w}'d{}",
                    tz_w - flb_w,
                    l + z - (z - c)
                )
            },
            scale_add: ((z - c) - (l + z)).rem_euclid(1i64 << tz_w) as u64,
            eo_w,
            eo_msb: eo_w - 1,
            cm_w,
            cm_msb: cm_w - 1,
            cm_pad_n: cm_w - sig_w,
            eoff_pad: cm_w - eo_w - elem_man_bits,
            r_w,
            r_msb: r_w - 1,
            d_w: tz_w + 2,
            d_msb: tz_w + 1,
            d_pad: tz_w + 2 - flb_w,
            far_below: (1u64 << (tz_w + 2)) - u64::from(sig_w),
            dl_w: r_w.max(eo_w),
            dl_msb: r_w.max(eo_w) - 1,
            tzm_add: ((z - c) - z - u_off - lane_bias).rem_euclid(1i64 << (tz_w + 2)) as u64,
            tzm_floor: ((l + z) - z - u_off - lane_bias).rem_euclid(1i64 << (tz_w + 2)) as u64,
            flb_ext: if exp_fits {
                format!(
                    "{{{{{}{{flb_i[{}]}}}}, flb_i}}",
                    tz_w + 2 - flb_w,
                    flb_w - 1
                )
            } else {
                format!("{{{}'d0, flb_i}}", tz_w + 2 - flb_w)
            },
            el_w,
            el_msb: el_w - 1,
            mag_w,
            mag_msb: mag_w - 1,
            max_mag,
            is_int,
            lane: Bundle::new(&[
                ("sign", 1),
                ("special", 1),
                ("flb", flb_w),
                ("sig", sig_w),
                ("sticky", 1),
            ]),
            store: Bundle::new(&[("sign", 1), ("flb", flb_w), ("sig", sig_w), ("sticky", 1)]),
            rceil,
            // The exponent tree compares exponent fields, the flb tree flb (and rceil's bit).
            key_msb: if exp_fits {
                dec.exp_bits - 1
            } else {
                flb_w - 1 + u32::from(rceil)
            },
            gt_const: format!("{}'d{}", sig_w + 1, m_top << 1),
            flb_capped,
            flb_cap,
            table,
            exp_tree: exp_fits.then(|| {
                ExpTree::new(
                    &dec,
                    l + c,
                    (z - c) - z - u_off - lane_bias,
                    (z - c) - (l + z),
                    tz_w,
                )
            }),
            dec_flush,
            tzm_sub: z + u_off,
        }
    }
}

#[derive(Template)]
#[template(path = "rtl/mxq_cvt_table.v", escape = "none")]
struct CvtTableTemplate<'a> {
    d_cut: bool,
    banner: &'a str,
    name: &'a str,
    n: &'a Numbers,
    t: &'a CvtTable,
}

#[derive(Template)]
#[template(path = "rtl/mxq_cvt.v", escape = "none")]
struct CvtTemplate<'a> {
    /// Register half-way through conversion, after the shift (deep one-beat pipelines).
    mid_cut: bool,
    /// Register after the conversion's subtraction (deeper still).
    d_cut: bool,
    banner: &'a str,
    name: &'a str,
    n: &'a Numbers,
}

/// Fields both top-level templates use.
struct Common<'a> {
    banner: &'a str,
    name: &'a str,
    n: &'a Numbers,
    lanes: usize,
    k: usize,
    input_format: &'a str,
    element: &'a str,
    port_decls: String,
    dec_name: String,
    cvt_name: String,
    tree: Vec<Node>,
    tree_root: String,
}

#[derive(Template)]
#[template(path = "rtl/mxq_parallel.v", escape = "none")]
struct ParallelTemplate<'a> {
    c: Common<'a>,
    /// The exponent tree's root children (the root itself is placed by the template).
    /// (exponent, special) wires of both.
    root: Option<[(String, String); 2]>,
    /// Per lane, what conversion needs delayed along the registered tree levels:
    /// (register, enable, source).
    keep_delay: Vec<(String, String, String)>,
    keep_src: String,
    /// The stored bundle, read from the registered decode.
    keep_expr: String,
    pipeline: usize,
    stage_summary: String,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    cut_in: Cut,
    cut_dec: Cut,
    cut_max: Cut,
    cut_d: Cut,
    cut_cvt: Cut,
    /// Block-level scale/NaN registers beside the conversion's: (tag, enable, scale source,
    /// NaN source).
    blk_delay: Vec<(String, String, String, String)>,
    out_stages: Vec<OutStage>,
    code_out: String,
    scale_out: String,
    nan_out: String,
}

#[derive(Template)]
#[template(path = "rtl/mxq_serial.v", escape = "none")]
struct SerialTemplate<'a> {
    c: Common<'a>,
    beats: usize,
    latency: u32,
    beat_w: u32,
    beat_msb: u32,
    beat_last: usize,
    mem_last: usize,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    out_stages: Vec<OutStage>,
    code_out: String,
    scale_out: String,
    nan_out: String,
    last_out: String,
}

impl Hardware for MxQuantizerParams {
    fn spec(&self) -> Spec {
        Spec::of(self)
    }

    fn top(&self) -> Result<String> {
        Ok(self.top_name())
    }

    fn formal(&self) -> Facts {
        // One block per registered stage; a serial unit also fills one bank while the other
        // drains.
        let banks = if self.beats() == 1 { 0 } else { 2 };
        Facts {
            capacity: self.pipeline as u32 + banks,
            nan: Some(NanRule {
                input_format: self.input_format,
                scale_bits: 8,
                nan_code: crate::golden::mx::MX_SCALE.nan_code(),
                tensor_scale: None,
            }),
            codes: CodeRule::of(self.format),
            table: None,
            no_miter: None,
        }
    }

    fn latency(&self) -> u32 {
        let pipe = self.pipeline as u32;
        if self.beats() == 1 {
            pipe
        } else {
            self.beats() as u32 + pipe
        }
    }

    fn ports(&self) -> Vec<Port> {
        let l = self.lanes();
        vec![
            Port::input("data_i", self.input_format.bits(), l),
            Port::output("scale_o", 8, 1),
            Port::output("codes_o", self.format.bits(), l),
            Port::output("nan_o", 1, 1),
            Port::output("last_o", 1, 1),
        ]
    }

    fn beats_per_block(&self) -> usize {
        self.beats()
    }

    fn notes(&self) -> Result<Vec<String>> {
        Ok(vec![
            "numerics: docs/numerics.md section 3 (OCP MX v1.0 conversion, RNE, saturating)".into(),
        ])
    }

    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        let nums = Numbers::of(self);
        let render = crate::floor::finish;
        let dec_name = format!("{top}_dec");
        let cvt_name = format!("{top}_cvt");
        let dec = nums.dec.render(banner, &dec_name, nums.dec_flush);
        let cvt = render(match &nums.table {
            Some(t) => CvtTableTemplate {
                banner,
                name: &cvt_name,
                n: &nums,
                t,
                d_cut: self.cvt_d_cut(&nums),
            }
            .render(),
            None => CvtTemplate {
                banner,
                name: &cvt_name,
                n: &nums,
                mid_cut: self.cvt_mid_cut(&nums),
                d_cut: self.cvt_d_cut(&nums),
            }
            .render(),
        });
        let top_text = if self.beats() == 1 {
            render(self.parallel_view(banner, top, &nums).render())
        } else {
            render(self.serial_view(banner, top, &nums).render())
        };
        Ok(vec![
            GenFile::rtl(format!("{dec_name}.v"), dec),
            GenFile::rtl(format!("{cvt_name}.v"), cvt),
            GenFile::rtl(format!("{top}.v"), top_text),
        ])
    }
}

/// Checked MX quantizer settings.
#[derive(Debug, Clone)]
pub struct MxQuantizerChecked {
    pub params: MxQuantizerParams,
}

impl super::Unit for MxQuantizerParams {
    const NAME: &'static str = Self::UNIT;
    type Checked = MxQuantizerChecked;

    fn check(&self) -> Result<MxQuantizerChecked> {
        self.validate()?;
        Ok(MxQuantizerChecked {
            params: self.clone(),
        })
    }

    fn resolved(&self) -> Self {
        MxQuantizerParams {
            lanes: Some(self.lanes()),
            ..self.clone()
        }
    }
}

impl super::Checked for MxQuantizerChecked {
    fn hardware(&self) -> &dyn Hardware {
        &self.params
    }

    fn stimulus_len(&self) -> usize {
        self.params.block_size
    }

    fn stimulus(&self, dist: crate::stimulus::Dist, rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>) {
        let book = crate::format::Formatbook::builtin();
        crate::stimulus::block_into(
            dist,
            self.params.input_format,
            self.params.block_size,
            book,
            rng,
            out,
        );
    }

    fn expected_beats(
        &self,
        layout: &crate::emit::layout::Layout,
        stim: &[u32],
        out: &mut Vec<u8>,
    ) {
        let q = self.params.golden_block(stim);
        let beats = self.params.beats();
        for (b, codes) in q.codes.chunks(self.params.lanes()).enumerate() {
            let mut beat = layout.beat(out);
            beat.set("scale_o", q.scale);
            beat.put("codes_o", codes.iter().map(|&c| i128::from(c)));
            beat.set("nan_o", q.nan);
            beat.set("last_o", b + 1 == beats);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(format: ElementFormat, input: InputFormat) -> MxQuantizerParams {
        MxQuantizerParams {
            format,
            block_size: 32,
            input_format: input,
            lanes: None,
            pipeline: 2,
            flush_subnormals: false,
            scale_rule: ScaleRule::Floor,
        }
    }

    /// Every row of the conversion table against the golden element encoder: the key's
    /// significand 1.f (sig_w - 1 fraction bits) at d = u - sig_w binades from the element's
    /// smallest normal one, with sticky as a bit far below.
    #[test]
    fn conversion_table_rows_are_the_golden_encoding() {
        let format = ElementFormat::E2m1;
        let n = Numbers::of(&params(format, InputFormat::Bf16));
        let t = n.table.as_ref().expect("mxfp4 converts by table");
        let emin = format.minifloat().unwrap().emin();
        let sig_w = n.sig_w;
        // Every u from 0 to c + sig_w, every fraction, both stickies.
        let c = (n.emax - n.emin) as usize;
        assert_eq!(t.rows.len(), (c + sig_w as usize + 1) << sig_w);
        for &(key, mag) in &t.rows {
            let sticky = key & 1;
            let frac = (key >> 1) & ((1 << (sig_w - 1)) - 1);
            let u = (key >> sig_w) as i32;
            let sig = (1u64 << (sig_w - 1)) | frac;
            let mant = (sig << 8) | sticky;
            let exp = u - sig_w as i32 - (sig_w as i32 - 1) - 8 + emin;
            let want = format.encode(false, mant, exp).code;
            assert_eq!(
                mag,
                u64::from(want),
                "key {key:#b}: u {u}, sig {sig:#b}, sticky {sticky}"
            );
        }
    }

    /// Formats whose table key would pass TABLE_KEY_MAX bits keep the arithmetic.
    #[test]
    fn wider_formats_and_int8_convert_by_arithmetic() {
        for f in [
            ElementFormat::E2m3,
            ElementFormat::E3m2,
            ElementFormat::E4m3,
            ElementFormat::Int8,
        ] {
            assert!(
                Numbers::of(&params(f, InputFormat::Bf16)).table.is_none(),
                "{f:?}"
            );
        }
    }

    /// FP32 and BF16 subnormals lie below every MX format's scale floor (their block scale is
    /// 2^-127 whatever they hold), FP16's do not: only the first two take the exponent tree,
    /// and rceil (which lifts by a significand) and multi-beat units keep the flb tree.
    #[test]
    fn the_exponent_tree_applies_where_subnormals_cannot_lift_the_scale() {
        for f in [
            ElementFormat::E2m1,
            ElementFormat::E4m3,
            ElementFormat::E5m2,
            ElementFormat::Int8,
        ] {
            for i in [InputFormat::F32, InputFormat::Bf16] {
                assert!(Numbers::of(&params(f, i)).exp_tree.is_some(), "{f:?} {i:?}");
            }
            assert!(
                Numbers::of(&params(f, InputFormat::F16)).exp_tree.is_none(),
                "{f:?}"
            );
            let rceil = MxQuantizerParams {
                scale_rule: ScaleRule::Rceil,
                ..params(f, InputFormat::Bf16)
            };
            assert!(Numbers::of(&rceil).exp_tree.is_none(), "{f:?} rceil");
            let serial = MxQuantizerParams {
                lanes: Some(8),
                ..params(f, InputFormat::Bf16)
            };
            assert!(Numbers::of(&serial).exp_tree.is_none(), "{f:?} 8 lanes");
        }
    }

    /// BF16 into FP4: the threshold never falls below flb 7 (shared -127), an element more
    /// than sig_w = 3 binades under it rounds to zero, so subnormals with their leading one
    /// in fraction bits 0..2 (flb 1..3) decode as zeros. FP32 into FP4 keeps bits 19..22;
    /// BF16 into E4M3 (threshold floor at flb 1) keeps every bit.
    #[test]
    fn decode_skips_the_subnormals_that_always_round_to_zero() {
        let lead = |f, i| Numbers::of(&params(f, i)).dec.lead_min;
        assert_eq!(lead(ElementFormat::E2m1, InputFormat::Bf16), 3);
        assert_eq!(lead(ElementFormat::E2m1, InputFormat::F32), 19);
        assert_eq!(lead(ElementFormat::E4m3, InputFormat::Bf16), 0);
    }
}
