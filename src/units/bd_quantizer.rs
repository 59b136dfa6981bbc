//! Unit `bd-quantizer`: one block of FP32/BF16/FP16 inputs in; shared exponent, dialect id and
//! 4-bit {sign, index} codes out (numerics.md section 5).

use crate::emit::design::{GenFile, Port, module_ports};
use crate::emit::pipeline::{Cut, Cuts, Stage, chain, delay_chain};
use crate::emit::tree::{Node, reduce};
use crate::emit::{bits_for, zero_extend};
use crate::error::Result;
use crate::floor::bundle::{Bundle, Part};
use crate::floor::checks::{MAX_PIPELINE, check_flush, check_frac_bits, validate_blocking_upto};
use crate::floor::decode::DecodeNumbers;
use crate::floor::selector::{SelView, selector_files, selector_tag};
use crate::floor::{BookRef, finish};
use crate::format::formatbook::DIALECT_VALUES;
use crate::format::{InputFormat, ScaleFormat};
use crate::golden::{BdConfig, BdQuantizer, FracBits, QuantBlock, Selector};
use crate::prove::facts::{Facts, NanRule};
use crate::units::unit::{Hardware, Spec};
use askama::Template;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BdQuantizerParams {
    #[serde(default = "super::defaults::block_size")]
    pub block_size: usize,
    #[serde(default)]
    pub input_format: InputFormat,
    #[serde(default = "super::defaults::selector")]
    pub selector: Selector,
    #[serde(default = "super::defaults::frac_bits")]
    pub frac_bits: u32,
    #[serde(default)]
    pub scale: ScaleFormat,
    #[serde(default)]
    pub lanes: Option<usize>,
    #[serde(default = "super::defaults::pipeline")]
    pub pipeline: usize,
    #[serde(default)]
    pub formatbook: BookRef,
    #[serde(default)]
    pub flush_subnormals: bool,
}

/// The one-beat quantizer has more cut points (inside the two-stage selector, in the max tree).
pub const BDQ_MAX_PIPELINE: usize = 16;

crate::floor::checks::lanes_and_beats!(BdQuantizerParams);

impl BdQuantizerParams {
    pub const UNIT: &'static str = "bd-quantizer";

    pub fn validate(&self) -> Result<()> {
        // One beat per block (lanes == k) has the extra cut points (see `plan`).
        let most = if self.lanes() == self.block_size {
            BDQ_MAX_PIPELINE
        } else {
            MAX_PIPELINE
        };
        validate_blocking_upto(self.block_size, self.lanes(), self.pipeline, most)?;
        check_flush(self.input_format, self.flush_subnormals)?;
        check_frac_bits(self.frac_bits)?;
        self.golden().map(|_| ())
    }

    /// The golden model configured exactly as the hardware.
    pub fn golden(&self) -> Result<BdQuantizer> {
        Ok(BdQuantizer::new(BdConfig {
            book: self.formatbook.get()?,
            selector: self.selector,
            frac_bits: FracBits::Bits(self.frac_bits),
            scale: self.scale,
            flush_subnormals: self.flush_subnormals,
        })?)
    }

    pub fn top_name(&self) -> Result<String> {
        Ok(format!(
            "bdq_{}_{}_k{}_l{}_p{}_f{}_{}{}{}",
            selector_tag(self.selector),
            self.input_format.name(),
            self.block_size,
            self.lanes(),
            self.pipeline,
            self.frac_bits,
            self.scale.name(),
            if self.flush_subnormals { "_ftz" } else { "" },
            self.formatbook.name_suffix()?
        ))
    }

    /// The hardware of checked settings (`Unit::check` has validated them).
    fn emit_files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        let book = self.formatbook.get()?;
        let n = BdNumbers::of(
            self.input_format,
            self.scale,
            self.frac_bits,
            book.id_bits(),
        );
        let names = |s: &str| format!("{top}_{s}");
        let lanes = self.lanes();
        let serial = self.beats() > 1;
        let plan = self.plan();
        let mut stats = SelView::new(&book, self.selector, self.frac_bits, lanes)?;
        if !serial && self.selector == Selector::TwoStage {
            stats = stats.pipelined(plan.pair, plan.count);
        }
        let whole = SelView::new(&book, self.selector, self.frac_bits, self.block_size)?;
        let mut files = vec![
            GenFile::rtl(
                format!("{}.v", names("dec")),
                n.dec.render(banner, &names("dec"), self.flush_subnormals),
            ),
            GenFile::rtl(
                format!("{}.v", names("mag")),
                finish(
                    MagTemplate {
                        banner,
                        name: &names("mag"),
                        n: &n,
                        gap: Cut {
                            registered: !serial && plan.gap,
                            en: "en_i".into(),
                        },
                    }
                    .render(),
                ),
            ),
            GenFile::rtl(
                format!("{}.v", names("enc")),
                finish(
                    EncTemplate {
                        banner,
                        name: &names("enc"),
                        n: &n,
                    }
                    .render(),
                ),
            ),
        ];
        files.extend(selector_files(banner, top, &stats, &whole, !serial));
        let thresholds = book
            .dialects
            .iter()
            .enumerate()
            .map(|(id, v)| {
                let thr: Vec<String> = (0..DIALECT_VALUES - 1)
                    .rev()
                    .map(|j| {
                        format!(
                            "{}'d{}",
                            n.q_w,
                            (u64::from(v[j]) + u64::from(v[j + 1])) << self.frac_bits
                        )
                    })
                    .collect();
                ThresholdRow {
                    id,
                    bus: format!("{{{}}}", thr.join(", ")),
                }
            })
            .collect();
        let leaves = (0..lanes).map(|i| format!("g_lane[{i}].leaf")).collect();
        let (tree, tree_root) = reduce(leaves, "max");
        let common = Common {
            banner,
            name: top,
            n: &n,
            lanes,
            input_format: self.input_format.name(),
            scale_desc: match self.scale {
                ScaleFormat::E8m0 => "E8M0 byte (0xFF = NaN)".into(),
                ScaleFormat::E5 => "5-bit exponent, bias 15 (0x1F = NaN)".into(),
            },
            selector: self.selector.name(),
            port_decls: module_ports(&self.ports()),
            m_bus_msb: lanes as u32 * n.mw - 1,
            dec_name: names("dec"),
            mag_name: names("mag"),
            sel_name: names("sel"),
            enc_name: names("enc"),
            tree,
            tree_root,
            thresholds,
        };
        let text = if serial {
            finish(self.serial_view(common, &stats, &whole, top).render())
        } else {
            finish(self.parallel_view(common, &plan).render())
        };
        files.push(GenFile::rtl(format!("{top}.v"), text));
        Ok(files)
    }

    /// Where a one-beat quantizer's registers go: the first `pipeline` entries of a priority
    /// list. After the block max and after selection first; then, for the two-stage selector,
    /// inside it (after stage 1, in the count tree); after the magnitudes, at the output, after
    /// decode, in the max tree, after the exponent gaps, at the input, then tree levels. Stages
    /// past the list go to the output.
    fn plan(&self) -> Plan {
        use Point::*;
        // A one-off cut point is taken the first time the list names it.
        let once = |taken: &mut bool| !std::mem::replace(taken, true);
        let levels = crate::emit::tree::levels(self.lanes());
        let priority: Vec<Point> = if self.selector == Selector::TwoStage {
            let inner = [Tree, Count].repeat(levels);
            [
                Max, Sel, Pair, Mag, Count, Out, Dec, Tree, Count, Tree, Gap, In,
            ]
            .into_iter()
            .chain(inner)
            .collect()
        } else {
            [Max, Sel, Out, Mag, Dec, In, Gap]
                .into_iter()
                .chain(std::iter::repeat_n(Tree, levels))
                .collect()
        };
        let mut plan = Plan::default();
        let mut left = self.pipeline;
        for pt in priority {
            if left == 0 {
                break;
            }
            let taken = match pt {
                Count if plan.count == levels => false,
                Tree if plan.tree == levels => false,
                Max => once(&mut plan.max),
                Sel => once(&mut plan.sel),
                Pair => once(&mut plan.pair),
                Mag => once(&mut plan.mag),
                Gap => once(&mut plan.gap),
                Dec => once(&mut plan.dec),
                In => once(&mut plan.input),
                Out => {
                    plan.out += 1;
                    true
                }
                Count => {
                    plan.count += 1;
                    true
                }
                Tree => {
                    plan.tree += 1;
                    true
                }
            };
            left -= usize::from(taken);
        }
        plan.out += left;
        plan
    }

    fn parallel_view<'a>(&self, mut c: Common<'a>, plan: &Plan) -> ParallelTemplate<'a> {
        let p = self.pipeline;
        let (stages, first_en, last_valid) = chain(p, "valid_i", "ready_i");
        // Pipeline order: in, dec, max-tree levels, max, gap, mag, the selector's own, sel, out.
        let mut cuts = Cuts::new(&stages);
        let cut_in = cuts.take(plan.input);
        let cut_dec = cuts.take(plan.dec);
        let levels = crate::emit::tree::levels(self.lanes());
        let tree_at = max_tree_cuts(levels, plan.tree);
        let tree_regs: Vec<Cut> = tree_at.iter().map(|_| cuts.take(true)).collect();
        crate::emit::tree::register_levels(&mut c.tree, &tree_at, &tree_regs);
        let cut_max = cuts.take(plan.max);
        let cut_gap = cuts.take(plan.gap);
        let cut_mag = cuts.take(plan.mag);
        let sel_regs: Vec<Cut> = (0..usize::from(plan.pair) + plan.count)
            .map(|_| cuts.take(true))
            .collect();
        let cut_sel = cuts.take(plan.sel);
        let (keep_delay, keep_src) =
            delay_chain(&tree_regs, |i| format!("keep_t{}_q", i + 1), "keep_w");
        let (late_delay, late_src) =
            delay_chain(&sel_regs, |i| format!("sm_s{}_q", i + 1), "sel_in_w");
        let (blk_late_delay, blk_late_src) =
            delay_chain(&sel_regs, |i| format!("blk_s{}_q", i + 1), "blk_sel_w");
        let sel_en = match sel_regs.len() {
            0 => String::new(),
            _ => format!(
                "{{{}}}",
                sel_regs
                    .iter()
                    .rev()
                    .map(|cut| cut.en.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let (outs, code_out, out_final) = bundle_stages(cuts.rest().take(plan.out));
        let summary: Vec<String> = [(plan.input, "input"), (plan.dec, "after decode")]
            .into_iter()
            .filter(|(on, _)| *on)
            .map(|(_, s)| s.to_string())
            .chain(tree_at.iter().map(|l| format!("after max-tree level {l}")))
            .chain(plan.max.then(|| "after the block max".to_string()))
            .chain(plan.gap.then(|| "after the exponent gaps".to_string()))
            .chain(plan.mag.then(|| "after the magnitudes".to_string()))
            .chain(plan.pair.then(|| "after selector stage 1".to_string()))
            .chain((0..plan.count).map(|_| "in the count tree".to_string()))
            .chain(plan.sel.then(|| "after selection".to_string()))
            .chain(std::iter::repeat_n("output".to_string(), outs.len()))
            .collect();
        let n = c.n;
        let keep_expr = n.store.pack(|field| Part::Of {
            bundle: &n.lane,
            wire: "tree_w",
            field,
        });
        let out_expr = n.out.pack(|field| match field {
            "dialect" => Part::Expr("dialect_enc_w".into()),
            "nan" => Part::Of {
                bundle: &n.blk,
                wire: "blk_enc_w",
                field: "special",
            },
            _ => Part::Of {
                bundle: &n.blk,
                wire: "blk_enc_w",
                field,
            },
        });
        let blk_expr = n.blk.pack(|field| {
            Part::Expr(
                if field == "scale" {
                    "scale_w"
                } else {
                    "blk_special_w"
                }
                .into(),
            )
        });
        ParallelTemplate {
            c,
            blk_expr,
            keep_expr,
            out_expr,
            pipeline: p,
            stage_summary: crate::emit::pipeline::stage_summary(&summary),
            stages,
            first_en,
            last_valid,
            cut_in,
            cut_dec,
            cut_max,
            cut_gap,
            cut_mag,
            cut_sel,
            keep_delay,
            keep_src,
            late_delay,
            late_src,
            blk_late_delay,
            blk_late_src,
            sel_en,
            outs,
            code_out,
            out_final,
        }
    }

    fn serial_view<'a>(
        &self,
        c: Common<'a>,
        s: &'a SelView,
        a: &'a SelView,
        top: &str,
    ) -> SerialTemplate<'a> {
        let beats = self.beats();
        let (stages, first_en, last_valid) = chain(self.pipeline, "em_ready_w", "ready_i");
        let (outs, code_out, out_final) = bundle_stages(stages.iter().map(|st| st.name.clone()));
        let beat_w = bits_for(beats as u64 - 1);
        let acc_w = bits_for(self.block_size as u64);
        let n = c.n;
        let mse_rows = s
            .dialects
            .iter()
            .zip(&a.dialects)
            .map(|(d, t)| MseRow {
                id: d.id,
                hi: d.hi,
                lo: d.lo,
                thi: t.thi,
                tlo: t.tlo,
            })
            .collect();
        let out = Bundle::new(&[
            ("scale", n.scale_bits),
            ("dialect", 4),
            ("nan", 1),
            ("last", 1),
        ]);
        SerialTemplate {
            k: self.block_size,
            beats,
            latency: self.latency(),
            beat_w,
            beat_msb: beat_w - 1,
            beat_last: beats - 1,
            mem_last: 3 * beats - 1,
            out_expr: out.pack(|field| {
                Part::Expr(
                    match field {
                        "scale" => "scale_w",
                        "dialect" => "dialect_w",
                        "nan" => "special_em_w",
                        _ => "em_last_w",
                    }
                    .into(),
                )
            }),
            out,
            two_stage: self.selector == Selector::TwoStage,
            s,
            a,
            pair_name: format!("{top}_pair"),
            stats_name: format!("{top}_stats"),
            amin_name: format!("{top}_amin"),
            acc_w,
            acc_msb: acc_w - 1,
            cnt_pad: acc_w.saturating_sub(s.cnt_w).max(1),
            err_pad: a.sum_w.saturating_sub(s.sum_w).max(1),
            mse_rows,
            decided_ext: zero_extend("decided_w", n.id_w, 4),
            stages,
            first_en,
            last_valid,
            outs,
            code_out,
            out_final,
            c,
        }
    }

    /// Quantize one block of raw input codes with the golden model.
    pub fn golden_block(&self, q: &BdQuantizer, raw: &[u32]) -> QuantBlock {
        // FP32 codes are their own FP32 bits: no copy on co-simulation's hot path.
        if self.input_format == InputFormat::F32 {
            return q.quantize(raw);
        }
        let bits: Vec<u32> = raw.iter().map(|&r| self.input_format.widen(r)).collect();
        q.quantize(&bits)
    }
}

/// The max-tree levels after which `cuts` registers go: the spread whose longest stage is
/// shortest, a tree level weighing 2 and the root's tz (a constant add and compare, then a mux)
/// 1; ties to the earliest levels.
fn max_tree_cuts(levels: usize, cuts: usize) -> Vec<usize> {
    let cost = |at: &[usize]| {
        let mut longest = 0;
        let mut start = 0;
        for &end in at.iter().chain([&levels]) {
            let tz = usize::from(end == levels);
            longest = longest.max(2 * (end - start) + tz);
            start = end;
        }
        longest
    };
    let mut best: Option<(usize, Vec<usize>)> = None;
    // Subsets of 1..=levels with `cuts` members, as bit masks in increasing order.
    for mask in 0u32..1 << levels {
        if mask.count_ones() as usize != cuts {
            continue;
        }
        let at: Vec<usize> = (1..=levels).filter(|l| mask >> (l - 1) & 1 == 1).collect();
        let c = cost(&at);
        if best
            .as_ref()
            .is_none_or(|(b, prev)| c < *b || (c == *b && at < *prev))
        {
            best = Some((c, at));
        }
    }
    best.map(|(_, at)| at).unwrap_or_default()
}

#[derive(Clone, Copy)]
enum Point {
    In,
    Dec,
    Tree,
    Max,
    Gap,
    Mag,
    Pair,
    Count,
    Sel,
    Out,
}

/// The registers of a one-beat quantizer (see `BdQuantizerParams::plan`).
#[derive(Debug, Default)]
struct Plan {
    input: bool,
    dec: bool,
    tree: usize,
    max: bool,
    gap: bool,
    mag: bool,
    pair: bool,
    count: usize,
    sel: bool,
    out: usize,
}

/// Widths and constants of the BlockDialect datapath.
#[derive(Debug, Clone)]
pub struct BdNumbers {
    pub dec: DecodeNumbers,
    pub frac: u32,
    /// M = floor(m * 2^F): 3 integer bits + F fraction bits.
    pub mw: u32,
    pub m_msb: u32,
    /// Index of the sign bit in a {sign, M} bundle.
    pub m_w: u32,
    /// 4M, compared against midpoint thresholds.
    pub q_w: u32,
    pub q_msb: u32,
    pub sh_msb: u32,
    pub z: i64,
    pub tz_w: u32,
    pub tz_msb: u32,
    pub tz_pad: u32,
    pub tz_lo: i64,
    pub tz_hi: i64,
    /// Whether the exponent can fall below / rise above the scale's range for this input.
    pub clamp_lo: bool,
    pub clamp_hi: bool,
    /// The block flb below / above which tz clamps (where `clamp_lo` / `clamp_hi`).
    pub flb_lo: i64,
    pub flb_hi: i64,
    pub scale_off: i64,
    pub scale_bits: u32,
    pub scale_msb: u32,
    pub scale_nan: u32,
    pub thr_bus_w: u32,
    pub thr_bus_msb: u32,
    pub thr_index: Vec<ThrIndex>,
    pub idx_sum: String,
    /// One lane's decode: {sign, special, flb, sig}.
    pub lane: Bundle,
    /// What the magnitude needs once the block exponent is known: {sign, flb, sig}.
    pub store: Bundle,
    /// The beat / block maximum: {flb, sig} (for normalized values that orders by magnitude).
    pub top: Bundle,
    /// What a lane's shift needs: {sat, gone, shift, sig}.
    pub sh_in: Bundle,
    /// Block facts that travel with the lanes: {scale, special}.
    pub blk: Bundle,
    /// One block's outputs: {scale, dialect, nan}.
    pub out: Bundle,
    pub id_w: u32,
    pub id_msb: u32,
    pub id_ext: String,
}

#[derive(Debug, Clone)]
pub struct ThrIndex {
    pub j: usize,
    pub hi: u32,
    pub lo: u32,
}

impl BdNumbers {
    pub fn of(input: InputFormat, scale: ScaleFormat, frac: u32, id_w: u32) -> BdNumbers {
        let mw = frac + 3;
        let dec = DecodeNumbers::new(input, mw);
        let q_w = mw + 2;
        // T = flb of 2^(e + 2) = e + 2 + flb_offset, with e clamped to the scale's range.
        let lo = i64::from(scale.min_exp()) + 2 + dec.flb_offset;
        let hi = i64::from(scale.max_exp()) + 2 + dec.flb_offset;
        let z = (-lo).max(0);
        let tz_w = bits_for((dec.flb_max + z).max(hi + z) as u64)
            .max(dec.flb_w + 1)
            .max(scale.bits() + 1);
        let thr_index: Vec<ThrIndex> = (0..DIALECT_VALUES - 1)
            .map(|j| ThrIndex {
                j,
                hi: (j as u32 + 1) * q_w - 1,
                lo: j as u32 * q_w,
            })
            .collect();
        let idx_sum = (0..DIALECT_VALUES - 1)
            .map(|j| format!("{{2'd0, ge{j}_w}}"))
            .collect::<Vec<_>>()
            .join(" + ");
        let flb_w = dec.flb_w;
        let sh_w = bits_for(u64::from(mw) - 1);
        BdNumbers {
            frac,
            mw,
            m_msb: mw - 1,
            m_w: mw,
            q_w,
            q_msb: q_w - 1,
            sh_msb: sh_w - 1,
            z,
            tz_w,
            tz_msb: tz_w - 1,
            tz_pad: tz_w - flb_w,
            tz_lo: lo + z,
            tz_hi: hi + z,
            clamp_lo: lo + z > z,
            clamp_hi: hi < dec.flb_max,
            // Clamping low needs lo > 0 (then z = 0), high hi < flb_max: both are flb values.
            flb_lo: lo,
            flb_hi: hi.max(0),
            scale_off: z + 2 + dec.flb_offset - i64::from(scale.bias()),
            scale_bits: scale.bits(),
            scale_msb: scale.bits() - 1,
            scale_nan: scale.nan_code(),
            thr_bus_w: 7 * q_w,
            thr_bus_msb: 7 * q_w - 1,
            thr_index,
            idx_sum,
            lane: Bundle::new(&[("sign", 1), ("special", 1), ("flb", flb_w), ("sig", mw)]),
            store: Bundle::new(&[("sign", 1), ("flb", flb_w), ("sig", mw)]),
            top: Bundle::new(&[("flb", flb_w), ("sig", mw)]),
            sh_in: Bundle::new(&[("sat", 1), ("gone", 1), ("shift", sh_w), ("sig", mw)]),
            blk: Bundle::new(&[("scale", scale.bits()), ("special", 1)]),
            out: Bundle::new(&[("scale", scale.bits()), ("dialect", 4), ("nan", 1)]),
            id_w,
            id_msb: id_w - 1,
            id_ext: zero_extend("chosen_w", id_w, 4),
            dec,
        }
    }
}

#[derive(Template)]
#[template(path = "rtl/bdq_mag.v", escape = "none")]
struct MagTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    n: &'a BdNumbers,
    /// A register after the exponent gap's subtraction (enable `en_i`).
    gap: Cut,
}

#[derive(Template)]
#[template(path = "rtl/bdq_enc.v", escape = "none")]
pub(crate) struct EncTemplate<'a> {
    pub banner: &'a str,
    pub name: &'a str,
    pub n: &'a BdNumbers,
}

struct ThresholdRow {
    id: usize,
    bus: String,
}

/// Chain output register stages (per-lane codes, and the block bundle) through `names`;
/// returns them and the final code and bundle signal names.
fn bundle_stages(names: impl Iterator<Item = String>) -> (Vec<BundleStage>, String, String) {
    let (mut code_src, mut out_src) = ("code_w".to_string(), "out_w".to_string());
    let mut outs = Vec::new();
    for name in names {
        outs.push(BundleStage {
            en: format!("en_{name}_w"),
            code_src: code_src.clone(),
            scale_src: out_src.clone(),
            name: name.clone(),
        });
        code_src = format!("code_{name}_q");
        out_src = format!("out_{name}_q");
    }
    (outs, code_src, out_src)
}

struct MseRow {
    id: usize,
    hi: u32,
    lo: u32,
    thi: u32,
    tlo: u32,
}

/// An output register stage: per-lane codes and the block bundle (scale, dialect, nan...).
struct BundleStage {
    name: String,
    en: String,
    code_src: String,
    scale_src: String,
}

struct Common<'a> {
    banner: &'a str,
    name: &'a str,
    n: &'a BdNumbers,
    lanes: usize,
    input_format: &'a str,
    scale_desc: String,
    selector: &'a str,
    port_decls: String,
    m_bus_msb: u32,
    dec_name: String,
    mag_name: String,
    sel_name: String,
    enc_name: String,
    tree: Vec<Node>,
    tree_root: String,
    thresholds: Vec<ThresholdRow>,
}

#[derive(Template)]
#[template(path = "rtl/bdq_serial.v", escape = "none")]
struct SerialTemplate<'a> {
    c: Common<'a>,
    k: usize,
    beats: usize,
    latency: u32,
    beat_w: u32,
    beat_msb: u32,
    beat_last: usize,
    mem_last: usize,
    /// One beat's outputs: {scale, dialect, nan, last}.
    out: Bundle,
    out_expr: String,
    two_stage: bool,
    s: &'a SelView,
    a: &'a SelView,
    pair_name: String,
    stats_name: String,
    amin_name: String,
    acc_w: u32,
    acc_msb: u32,
    cnt_pad: u32,
    err_pad: u32,
    mse_rows: Vec<MseRow>,
    decided_ext: String,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    outs: Vec<BundleStage>,
    code_out: String,
    out_final: String,
}

#[derive(Template)]
#[template(path = "rtl/bdq_parallel.v", escape = "none")]
struct ParallelTemplate<'a> {
    c: Common<'a>,
    pipeline: usize,
    stage_summary: String,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    cut_in: Cut,
    cut_dec: Cut,
    cut_max: Cut,
    cut_gap: Cut,
    cut_mag: Cut,
    cut_sel: Cut,
    /// Lane data keeping pace with the max tree's registers, then with the selector's.
    keep_delay: Vec<(String, String, String)>,
    keep_src: String,
    late_delay: Vec<(String, String, String)>,
    late_src: String,
    blk_late_delay: Vec<(String, String, String)>,
    blk_late_src: String,
    /// The selector's inner enables, `en_i[0]` last.
    sel_en: String,
    outs: Vec<BundleStage>,
    code_out: String,
    out_final: String,
    /// The store bundle, read from the registered decode.
    keep_expr: String,
    blk_expr: String,
    out_expr: String,
}

/// Checked bd-quantizer settings with their golden quantizer, built once.
pub struct BdQuantizerChecked {
    pub params: BdQuantizerParams,
    pub golden: BdQuantizer,
}

impl Hardware for BdQuantizerParams {
    fn spec(&self) -> Spec {
        Spec::of(self)
    }

    fn top(&self) -> Result<String> {
        self.top_name()
    }

    /// Cycles from a block's first input beat to its first output beat: the fill and select
    /// phases take a block's beats each when there are several.
    fn formal(&self) -> Facts {
        // One block per registered stage; a serial unit also has three banks, one filling,
        // one being selected for, one being emitted.
        let banks = if self.beats() == 1 { 0 } else { 3 };
        Facts {
            capacity: self.pipeline as u32 + banks,
            nan: Some(NanRule {
                input_format: self.input_format,
                scale_bits: self.scale.bits(),
                nan_code: self.scale.nan_code(),
                tensor_scale: None,
            }),
            // Every 4-bit {sign, index} is a code of any dialect.
            codes: None,
            table: None,
            no_miter: None,
        }
    }

    fn latency(&self) -> u32 {
        let fill_select = if self.beats() > 1 {
            2 * self.beats() as u32
        } else {
            0
        };
        fill_select + self.pipeline as u32
    }

    fn ports(&self) -> Vec<Port> {
        let l = self.lanes();
        vec![
            Port::input("data_i", self.input_format.bits(), l),
            Port::output("scale_o", self.scale.bits(), 1),
            Port::output("dialect_o", 4, 1),
            Port::output("codes_o", 4, l),
            Port::output("nan_o", 1, 1),
            Port::output("last_o", 1, 1),
        ]
    }

    fn beats_per_block(&self) -> usize {
        self.beats()
    }

    fn notes(&self) -> Result<Vec<String>> {
        let mut notes = self.formatbook.banner_lines()?;
        notes.push("numerics: docs/numerics.md section 5 (BlockDialect / DialectFP4)".into());
        Ok(notes)
    }

    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        self.emit_files(top, banner)
    }
}

impl super::Unit for BdQuantizerParams {
    const NAME: &'static str = Self::UNIT;
    const NOTED: &'static [&'static str] = &["formatbook"];
    type Checked = BdQuantizerChecked;

    fn check(&self) -> Result<BdQuantizerChecked> {
        self.validate()?;
        Ok(BdQuantizerChecked {
            params: self.clone(),
            golden: self.golden()?,
        })
    }

    fn resolved(&self) -> Self {
        BdQuantizerParams {
            lanes: Some(self.lanes()),
            ..self.clone()
        }
    }
}

impl super::Checked for BdQuantizerChecked {
    fn hardware(&self) -> &dyn Hardware {
        &self.params
    }

    fn stimulus_len(&self) -> usize {
        self.params.block_size
    }

    fn stimulus(&self, dist: crate::stimulus::Dist, rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>) {
        let (fmt, k) = (self.params.input_format, self.params.block_size);
        crate::stimulus::block_into(dist, fmt, k, &self.golden.config.book, rng, out);
    }

    fn expected_beats(
        &self,
        layout: &crate::emit::layout::Layout,
        stim: &[u32],
        out: &mut Vec<u8>,
    ) {
        let q = self.params.golden_block(&self.golden, stim);
        let beats = self.params.beats();
        for (b, codes) in q.codes.chunks(self.params.lanes()).enumerate() {
            let mut beat = layout.beat(out);
            beat.set("scale_o", q.scale);
            beat.set("dialect_o", q.dialect.unwrap_or(0));
            beat.put("codes_o", codes.iter().map(|&c| i128::from(c)));
            beat.set("nan_o", q.nan);
            beat.set("last_o", b + 1 == beats);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(selector: Selector, k: usize, pipeline: usize) -> BdQuantizerParams {
        BdQuantizerParams {
            block_size: k,
            input_format: InputFormat::Bf16,
            selector,
            frac_bits: 2,
            scale: ScaleFormat::E8m0,
            lanes: None,
            pipeline,
            formatbook: BookRef::default(),
            flush_subnormals: false,
        }
    }

    fn used(p: &Plan) -> usize {
        [p.input, p.dec, p.max, p.gap, p.mag, p.pair, p.sel]
            .into_iter()
            .map(usize::from)
            .sum::<usize>()
            + p.tree
            + p.count
            + p.out
    }

    #[test]
    fn every_stage_goes_to_one_cut_point_and_trees_take_at_most_their_levels() {
        for selector in [Selector::TwoStage, Selector::Mse] {
            for k in [16, 32, 64] {
                let levels = crate::emit::tree::levels(k);
                for p in 0..=BDQ_MAX_PIPELINE {
                    let plan = params(selector, k, p).plan();
                    assert_eq!(used(&plan), p, "{selector:?} k {k} p {p}: {plan:?}");
                    assert!(plan.tree <= levels && plan.count <= levels, "{plan:?}");
                    if selector == Selector::Mse {
                        // The MSE selector has no inner registers.
                        assert!(!plan.pair && plan.count == 0, "{plan:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn max_tree_cuts_leave_the_shortest_longest_stage() {
        // 5 levels and tz: one cut halves the weight 11 into 6 + 5, four leave tz with the root.
        assert_eq!(max_tree_cuts(5, 0), Vec::<usize>::new());
        assert_eq!(max_tree_cuts(5, 1), [3]);
        assert_eq!(max_tree_cuts(5, 2), [2, 4]);
        assert_eq!(max_tree_cuts(5, 4), [1, 2, 3, 4]);
        assert_eq!(max_tree_cuts(5, 5), [1, 2, 3, 4, 5]);
        assert_eq!(max_tree_cuts(4, 2), [1, 3]);
    }

    #[test]
    fn the_selector_is_cut_before_the_output_and_the_input() {
        // The two-stage selector's stage 1 and count tree are the longest paths once the block
        // max and selection are registered: they come before the output, decode and input.
        let at = |p| params(Selector::TwoStage, 32, p).plan();
        let p2 = at(2);
        assert!(p2.max && p2.sel && !p2.pair && p2.out == 0, "{p2:?}");
        let p5 = at(5);
        assert!(p5.pair && p5.mag && p5.count == 1 && p5.out == 0, "{p5:?}");
        let p12 = at(12);
        assert!(p12.input && p12.dec && p12.gap, "{p12:?}");
        assert_eq!((p12.tree, p12.count, p12.out), (2, 2, 1), "{p12:?}");
        // The deepest: every level but one of both trees, still one output register.
        let p16 = at(16);
        assert_eq!((p16.tree, p16.count, p16.out), (4, 4, 1), "{p16:?}");
        // Without inner registers, the MSE order is the one it always had.
        let m6 = params(Selector::Mse, 32, 6).plan();
        assert!(
            m6.max && m6.sel && m6.mag && m6.dec && m6.input && m6.out == 1,
            "{m6:?}"
        );
        assert_eq!(m6.tree, 0);
        let m8 = params(Selector::Mse, 32, 8).plan();
        assert!(m8.gap && m8.tree == 1, "{m8:?}");
    }
}
