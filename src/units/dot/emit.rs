//! The dot unit's hardware: view-models of its decode, product, tree, FP32 and fixed-point
//! accumulation modules, and the emitted design.

use super::*;
use crate::emit::compressor::Compressor;
use crate::floor::bundle::{Bundle, Part};
use crate::floor::element::{DialectTable, ElementDecTemplate, ElementView};
use crate::floor::fp32;

pub(super) struct PostStage {
    pub(super) name: String,
    pub(super) en: String,
    pub(super) src: String,
}

#[derive(Template)]
#[template(path = "rtl/dot_top.v", escape = "none")]
pub(super) struct TopTemplate<'a> {
    pub(super) banner: &'a str,
    pub(super) port_decls: String,
    pub(super) name: &'a str,
    pub(super) fa: String,
    pub(super) fb: String,
    pub(super) k: usize,
    pub(super) lanes: usize,
    pub(super) beats: usize,
    pub(super) qa: i32,
    pub(super) qb: i32,
    pub(super) fp32: bool,
    pub(super) fixed: bool,
    /// fp32 or fixed: results over groups of block pairs.
    pub(super) accumulating: bool,
    pub(super) multi: bool,
    /// Beat or block counters exist (several beats per block, or several blocks per result).
    pub(super) has_counters: bool,
    pub(super) n: usize,
    pub(super) a_nv: bool,
    pub(super) b_nv: bool,
    pub(super) a_dialect: bool,
    pub(super) b_dialect: bool,
    pub(super) ca_msb: u32,
    pub(super) cb_msb: u32,
    pub(super) sum_w: u32,
    pub(super) sum_msb: u32,
    pub(super) exp_w: u32,
    pub(super) exp_msb: u32,
    pub(super) exp_pad: u32,
    pub(super) exp_add: u64,
    pub(super) exp_const: i64,
    pub(super) pipeline: usize,
    pub(super) stage_summary: String,
    pub(super) stages: Vec<Stage>,
    pub(super) first_en: String,
    pub(super) last_valid: String,
    /// The block's header inputs: {scale_a, scale_b, a dialect side's varying values}.
    pub(super) hdr: Bundle,
    pub(super) hdr_expr: String,
    pub(super) dialect_table: DialectTable,
    pub(super) cut_in: Cut,
    pub(super) cut_dec: Cut,
    /// A lane's decoded elements, as the decode cut holds them.
    pub(super) lane_dec: Bundle,
    pub(super) cut_prod: Cut,
    pub(super) da: &'a ElementView,
    pub(super) db: &'a ElementView,
    pub(super) deca_name: String,
    pub(super) decb_name: String,
    pub(super) mul_msb: u32,
    pub(super) mul_expr: String,
    /// Both operands INT8: one signed multiply of the codes (`Some(sign-extension)`), with no
    /// sign-magnitude decode around it.
    pub(super) int_direct: Option<String>,
    /// Both operands INT8 with `--multiplier luts`: every lane's product in one carry-save
    /// reduction (it replaces the lanes' multiplies and the adder tree).
    pub(super) compressor: Option<Compressor>,
    pub(super) sh_sum_msb: u32,
    pub(super) shs_expr: String,
    pub(super) pw: u32,
    pub(super) pw_msb: u32,
    pub(super) mag_pad: u32,
    /// A sign-magnitude lane passes its product's sign beside the magnitude: the leaf is the
    /// one's complement and the tree's first level adds both leaves' signs as carries, so no
    /// lane negates (a carry chain per lane, the slowest step of a DialectFP4 product).
    pub(super) fold_sign: bool,
    pub(super) tree: Vec<SumNode>,
    /// The beat's scale facts delayed beside registered tree levels: (register, enable, source).
    pub(super) sc_delay: Vec<(String, String, String)>,
    pub(super) sc: Bundle,
    pub(super) sc_expr: String,
    pub(super) beat: Bundle,
    pub(super) beat_expr: String,
    pub(super) part_msb: u32,
    pub(super) post: Vec<PostStage>,
    pub(super) beat_final: String,
    pub(super) beat_cnt_w: u32,
    pub(super) beat_cnt_msb: u32,
    pub(super) beat_last: usize,
    /// The block sum of the elements alone (narrower than `sum_w` with an NVFP4 side).
    pub(super) blk_w: u32,
    pub(super) blk_msb: u32,
    pub(super) bsum_name: String,
    pub(super) sprod_msb: u32,
    pub(super) sprod_expr: String,
    pub(super) rmag_ext: String,
    pub(super) sprod_ext: String,
    pub(super) part_ext: String,
    pub(super) part_trunc: String,
    pub(super) part_wider: bool,
    pub(super) blk_cnt_w: u32,
    pub(super) blk_cnt_msb: u32,
    pub(super) blk_last: usize,
    pub(super) tof32_name: String,
    pub(super) fadd_name: String,
    // fixed accumulation
    pub(super) acc_w: u32,
    pub(super) acc_msb: u32,
    pub(super) acc_lsb: i32,
    pub(super) acc_pad: u32,
    pub(super) acc_max: u128,
    pub(super) s_w: u32,
    pub(super) s_msb: u32,
    pub(super) s_pad: u32,
    pub(super) acc_lsb_abs_sub: String,
    pub(super) ls_w: u32,
    pub(super) ls_msb: u32,
    pub(super) ls_cap: u32,
    pub(super) ww_w: u32,
    pub(super) ww_msb: u32,
    pub(super) ww_pad: u32,
    pub(super) cw_w: u32,
    pub(super) cw_msb: u32,
    pub(super) rs_w: u32,
    pub(super) rs_msb: u32,
    pub(super) cr_pad: u32,
}

impl DotParams {
    /// The hardware of checked settings (`Unit::check` has validated them).
    pub(super) fn emit_files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        let book = self.formatbook.get()?;
        // Decoders per element format; the lanes see NVFP4 elements times their scale's
        // significand (`lane_view`).
        let (ea, eb) = (
            ElementView::of(self.format_a),
            ElementView::of(self.format_b),
        );
        let (da, db) = (&ea, &eb);
        let (a_nv, b_nv) = (
            self.format_a == OperandFormat::Nvfp4,
            self.format_b == OperandFormat::Nvfp4,
        );
        let lanes = self.lanes();
        let beats = self.beats();
        let fp32 = self.accumulate == AccumulateKind::Fp32;
        let fixed = self.accumulate == AccumulateKind::Fixed;
        let mut files = Vec::new();
        let deca_name = format!("{top}_deca");
        let decb_name = format!("{top}_decb");
        for (name, side, d, f) in [
            (&deca_name, "A", &ea, self.format_a),
            (&decb_name, "B", &eb, self.format_b),
        ] {
            let about = vec![
                format!(
                    "One element of operand {side} ({f}), decoded to sign, significand and shift:"
                ),
                format!(
                    "its value is (-1)^sign * sig * 2^(shift + {}) before the block scale, so the",
                    d.quantum
                ),
                "product of two elements is an integer number of the two formats' smallest steps."
                    .into(),
            ];
            let text = ElementDecTemplate {
                banner,
                name,
                about,
                d,
            }
            .render();
            files.push(GenFile::rtl(format!("{name}.v"), finish(text)));
        }
        let sum_w = self.sum_bits();
        // An NVFP4 block's element sum before its scale significands multiply it.
        let blk_w = self.element_sum_bits();
        let sprod_w = (4 * (u32::from(a_nv) + u32::from(b_nv))).max(1);
        let tof32_name = format!("{top}_tof32");
        let tof32a_name = format!("{top}_tof32a");
        let fadd_name = format!("{top}_fadd");
        if fp32 {
            files.push(fp32::to_f32_file(
                banner,
                &tof32_name,
                sum_w,
                9,
                -self.exp_const(),
            ));
            files.extend(fp32::adder_files(banner, &fadd_name, &tof32a_name));
        }
        // Products: significands multiply, then shift by both exponents.
        let mul_w = da.sig_w + db.sig_w;
        let max_prod = u128::from(da.max_quanta) * u128::from(db.max_quanta);
        let pw = (128 - max_prod.leading_zeros()).max(mul_w) + 1;
        let shs_w =
            bits_for(u64::from(da.max_shift + db.max_shift).max(1)).max(da.sh_w.max(db.sh_w)) + 1;
        let leaves = (0..lanes).map(|i| format!("g_lane[{i}].leaf")).collect();
        let (tree, tree_root, tree_w) = sum_tree(leaves, pw, "acc");
        let int_direct = self.int8_pair();
        let compressing = int_direct && self.multiplier == Multiplier::Luts;
        // The compressor's sum is exact mod 2^width: just the bits a beat's sum can need.
        let part_w = if compressing {
            128 - (max_prod * lanes as u128).leading_zeros() + 1
        } else {
            tree_w
        };
        // Pipeline: products first, then the beat sum, then the inputs, then inside the adder
        // tree (its levels are the long paths once products are registered); from 5 stages
        // on with a dialect side, one between the elements' decode and their product (the
        // dialect's index mux and the 4 x 4 multiply were the slowest stage at 7: measured
        // 89 -> 118 MHz). Not for other formats: an MXFP4 x MXFP4 dot at 7 stages went from
        // 1,253 to 2,821 LUT4 and 169 to 125 MHz with it, its code-to-product logic no
        // longer one function of the codes. More go after the sum.
        let p = self.pipeline;
        let (stages, first_en, last_valid) = chain(p, "valid_i", "take_w");
        let cut_prod_on = p >= 1;
        let cut_in_on = p >= 3;
        let (a_dl, b_dl) = (
            self.format_a == OperandFormat::Dialect,
            self.format_b == OperandFormat::Dialect,
        );
        let cut_dec_on = p >= 5 && (a_dl || b_dl);
        let levels = crate::emit::tree::levels(lanes);
        let tree_cuts = p
            .saturating_sub(3 + usize::from(cut_dec_on))
            .min(levels.saturating_sub(1));
        let post_count =
            usize::from(p >= 2) + p.saturating_sub(3 + usize::from(cut_dec_on) + tree_cuts);
        let mut cuts = Cuts::new(&stages);
        let cut_in = cuts.take(cut_in_on);
        let cut_dec = cuts.take(cut_dec_on);
        let cut_prod = cuts.take(cut_prod_on);
        let cut_levels = crate::emit::tree::cut_levels(levels, tree_cuts);
        let tree_regs: Vec<Cut> = cut_levels.iter().map(|_| cuts.take(true)).collect();
        let mut tree = tree;
        let compressor = compressing.then(|| {
            // The products' cut and the tree's, spread over the compressor's levels.
            let cmp_cuts: Vec<Cut> = std::iter::once(&cut_prod)
                .chain(&tree_regs)
                .filter(|c| c.registered)
                .cloned()
                .collect();
            Compressor::int8_dot(
                lanes,
                |l, i| format!("ca_w[{}]", l * 8 + i),
                |l, i| format!("cb_w[{}]", l * 8 + i),
                part_w,
                &cmp_cuts,
                "cmp",
            )
        });
        if compressing {
            tree.clear();
        }
        // Measured on DialectFP4 x DialectFP4 at k = 32, p7 (ECP5, 3 seeds): 117.6 -> 168.1 MHz,
        // 1,787 LUT4 + 466 CCU2C -> 1,789 + 306. An MXFP4 x MXFP4 dot trades carries for LUT4s
        // the same way (1,253 + 338 -> 1,573 + 178; 166 -> 179 MHz), so it keeps the negation.
        let fold_sign = (a_dl || b_dl) && lanes >= 2;
        if fold_sign {
            for nd in tree.iter_mut().filter(|nd| nd.level == 1) {
                nd.carry_in("s");
            }
        }
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
        if cut_dec_on {
            summary.push("decoded elements".to_string());
        }
        if let Some(c) = &compressor {
            for l in c.registered_levels() {
                summary.push(format!("after compressor level {l} of {}", c.depth()));
            }
        } else {
            if cut_prod_on {
                summary.push("products".to_string());
            }
            for l in &cut_levels {
                summary.push(format!("after adder-tree level {l}"));
            }
        }
        if post_count > 0 {
            summary.push(format!("{post_count} after the beat sum"));
        }
        // Header: {scale_a, scale_b, vals_a?, vals_b?}, scale_a on top: a dialect side's
        // values where the book's dialects differ, looked up from its id.
        let dialect_table = DialectTable::new(&book);
        let hdr_fields: Vec<(&'static str, u32)> = [
            ("scale_a", 8, true),
            ("scale_b", 8, true),
            ("vals_a", dialect_table.var_w, a_dl),
            ("vals_b", dialect_table.var_w, b_dl),
        ]
        .into_iter()
        .filter(|f| f.2)
        .map(|(name, w, _)| (name, w))
        .collect();
        let hdr = Bundle::new(&hdr_fields);
        // The block facts that travel beside the products: {scale_a, scale_b, nan}; the beat
        // carries its sum on top of them.
        // An NVFP4 side's scale significand travels beside its exponent code.
        let mut facts: Vec<(&'static str, u32)> = vec![("sa", 8), ("sb", 8)];
        if a_nv {
            facts.push(("ssa", 4));
        }
        if b_nv {
            facts.push(("ssb", 4));
        }
        facts.push(("nan", 1));
        let sc = Bundle::new(&facts);
        let beat = Bundle::new(&[&[("part", part_w)][..], &facts].concat());
        let sc_of = |field| Part::Of {
            bundle: &sc,
            wire: &sc_src,
            field,
        };
        let beat_expr = beat.pack(|field| match (field, compressing) {
            ("part", true) => Part::Expr("cmp_p_w".into()),
            ("part", false) => Part::Expr(format!("{tree_root}_p_w")),
            // INT8 codes are never NaN: only the scales can be.
            ("nan", true) => sc_of(field),
            ("nan", false) => Part::Expr(format!("{sc_src}{} | {tree_root}_n_w", sc.slice("nan"))),
            _ => sc_of(field),
        });
        let exp_w = self.exp_bits();
        let c = self.exp_const();
        let beat_cnt_w = bits_for(beats.saturating_sub(1) as u64);
        let fx = FixedView::new(self.acc_width, self.acc_lsb, sum_w, exp_w);
        let blk_cnt_w = bits_for(self.group().saturating_sub(1) as u64);
        let view = TopTemplate {
            port_decls: module_ports(&self.ports()),
            banner,
            name: top,
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
            a_nv,
            b_nv,
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
            stage_summary: crate::emit::pipeline::stage_summary(&summary),
            stages,
            first_en,
            last_valid,
            hdr_expr: hdr.pack(|field| {
                Part::Expr(match field {
                    "vals_a" => "va_in_w".into(),
                    "vals_b" => "vb_in_w".into(),
                    name => format!("{name}_i"),
                })
            }),
            hdr,
            dialect_table,
            cut_in,
            cut_dec,
            // Fields named after the decoders' output wires (`<field>_d_w`).
            lane_dec: Bundle::new(&[
                ("sa_sign", 1),
                ("sb_sign", 1),
                ("a_special", 1),
                ("b_special", 1),
                ("a_sig", da.sig_w),
                ("b_sig", db.sig_w),
                ("a_sh", da.sh_w),
                ("b_sh", db.sh_w),
            ]),
            cut_prod,
            da,
            db,
            deca_name,
            decb_name,
            mul_msb: mul_w - 1,
            compressor,
            int_direct: int_direct.then(|| {
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
            fold_sign,
            tree,
            sc_delay,
            beat_expr,
            sc_expr: sc.pack(|field| {
                Part::Expr(match field {
                    "sa" => "sa_w".to_string(),
                    "sb" => "sb_w".to_string(),
                    "ssa" => "ssa_w".to_string(),
                    "ssb" => "ssb_w".to_string(),
                    _ => format!(
                        "{} | {}",
                        if a_nv { "nsa_w" } else { "(&sa_w)" },
                        if b_nv { "nsb_w" } else { "(&sb_w)" }
                    ),
                })
            }),
            sc,
            beat,
            part_msb: part_w - 1,
            post,
            beat_final: src,
            beat_cnt_w,
            beat_cnt_msb: beat_cnt_w - 1,
            beat_last: beats - 1,
            part_ext: if blk_w > part_w {
                format!(
                    "{{{{{}{{part_w[{}]}}}}, part_w}}",
                    blk_w - part_w,
                    part_w - 1
                )
            } else {
                "part_w".into()
            },
            part_trunc: if part_w > blk_w {
                format!("[{}:0]", blk_w - 1)
            } else {
                String::new()
            },
            part_wider: part_w > blk_w,
            blk_w,
            blk_msb: blk_w - 1,
            bsum_name: if a_nv || b_nv { "bsum_raw_w" } else { "bsum_w" }.into(),
            sprod_msb: sprod_w - 1,
            sprod_expr: match (a_nv, b_nv) {
                (true, true) => "{4'd0, fssa_w} * {4'd0, fssb_w}".into(),
                (true, false) => "fssa_w".into(),
                _ => "fssb_w".into(),
            },
            rmag_ext: zero_extend("rmag_w", blk_w, sum_w),
            sprod_ext: zero_extend("sprod_w", sprod_w, sum_w),
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
        files.push(GenFile::rtl(format!("{top}.v"), finish(view.render())));
        Ok(files)
    }
}

/// Widths of the fixed-point accumulation path (see the template).
pub(super) struct FixedView {
    pub(super) acc_w: u32,
    /// Signed width of s = exp - lsb.
    pub(super) s_w: u32,
    /// `- lsb` as a literal subtraction term (a negative lsb adds).
    pub(super) lsb_sub: String,
    pub(super) ls_w: u32,
    /// Width of the exact left-shifted sum: sum bits + acc bits + 2.
    pub(super) ww: u32,
    /// Width of a clamped contribution and of the accumulator sum: acc bits + 2.
    pub(super) cw: u32,
    pub(super) rs_w: u32,
}

impl FixedView {
    pub(super) fn new(acc_w: u32, lsb: i32, sum_w: u32, exp_w: u32) -> FixedView {
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
