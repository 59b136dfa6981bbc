//! Unit `dequantizer`: quantized blocks in (scale, codes, and the dialect id for DialectFP4),
//! FP32, BF16 or FP16 values out: each element the exact scale x element rounded once
//! (`golden::dequant`).

use crate::emit::design::{GenFile, Port, module_ports};
use crate::emit::pipeline::{Cut, Cuts, Stage, chain, delay_chain};
use crate::emit::{bits_for, leading_zeros_expr, zero_extend};
use crate::error::{Error, Result};
use crate::floor::bundle::{Bundle, Part};
use crate::floor::checks::validate_blocking;
use crate::floor::element::{DialectTable, ElementDecTemplate, ElementView};
use crate::floor::{BookRef, finish};
use crate::format::{Formatbook, InputFormat, OperandFormat};
use crate::golden::{BlockFormat, QuantBlock, Quantizer};
use crate::prove::facts::Facts;
use crate::units::unit::{Hardware, Spec};
use askama::Template;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DequantizerParams {
    /// Block format of the input (an MX format or dialectfp4).
    pub format: OperandFormat,
    #[serde(default = "super::defaults::block_size")]
    pub block_size: usize,
    #[serde(default)]
    pub lanes: Option<usize>,
    #[serde(default = "super::defaults::pipeline")]
    pub pipeline: usize,
    /// Format of the values out: f32, bf16 or f16.
    #[serde(default)]
    pub output_format: InputFormat,
    #[serde(default)]
    pub formatbook: BookRef,
}

crate::floor::checks::lanes_and_beats!(DequantizerParams);

impl DequantizerParams {
    pub const UNIT: &'static str = "dequantizer";

    pub fn validate(&self) -> Result<()> {
        validate_blocking(self.block_size, self.lanes(), self.pipeline)?;
        if self.format != OperandFormat::Dialect && self.formatbook.path.is_some() {
            return Err(Error::input(format!(
                "--formatbook applies to dialectfp4 input, not {}",
                self.format
            )));
        }
        self.formatbook.get().map(|_| ())
    }

    fn is_dialect(&self) -> bool {
        self.format == OperandFormat::Dialect
    }

    fn is_nvfp4(&self) -> bool {
        self.format == OperandFormat::Nvfp4
    }

    /// Each value is a function of the E8M0 scale and its code alone: a table of the golden
    /// model for MX formats of at most 6-bit codes (16384 entries), a whole block per beat.
    fn lane_table(&self) -> Option<crate::prove::facts::LaneTable> {
        let bits = self.format.code_bits();
        let mx = matches!(self.format, OperandFormat::Mx(_));
        if !mx || bits > 6 || self.beats() != 1 {
            return None;
        }
        let format = self.block_format().ok()?;
        let entries = (0..1u32 << (8 + bits))
            .map(|i| {
                let (scale, code) = (i >> bits, i & ((1 << bits) - 1));
                u64::from(crate::golden::dequant::dequantize_element(
                    &format,
                    self.output_format,
                    scale,
                    0,
                    code,
                ))
            })
            .collect();
        Some(crate::prove::facts::LaneTable {
            shared: "scale_i",
            lane_in: "codes_i",
            lane_out: "values_o",
            entries,
        })
    }

    pub fn block_format(&self) -> Result<BlockFormat> {
        Ok(BlockFormat::named(self.format, self.formatbook.get()?))
    }

    pub fn top_name(&self) -> Result<String> {
        Ok(format!(
            "dqz_{}_{}_k{}_l{}_p{}{}",
            self.format.short(),
            self.output_format.name(),
            self.block_size,
            self.lanes(),
            self.pipeline,
            if self.is_dialect() {
                self.formatbook.name_suffix()?
            } else {
                String::new()
            }
        ))
    }

    fn emit_files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        let book = self.formatbook.get()?;
        let d = ElementView::of(self.format);
        let c = if self.is_nvfp4() {
            CvtView::nvfp4(&d, self.output_format)
        } else {
            CvtView::new(&d, self.output_format)
        };
        let names = |s: &str| format!("{top}_{s}");
        let dec = ElementDecTemplate {
            banner,
            name: &names("dec"),
            about: vec![
                format!(
                    "One {} element decoded to sign, significand and shift: its value is",
                    self.format
                ),
                format!(
                    "(-1)^sign * sig * 2^(shift + {}) before the block scale.",
                    d.quantum
                ),
            ],
            d: &d,
        };
        let norm = if self.is_nvfp4() {
            NvNormTemplate {
                banner,
                name: &names("norm"),
                c: &c,
                d: &d,
            }
            .render()
        } else {
            NormTemplate {
                banner,
                name: &names("norm"),
                c: &c,
            }
            .render()
        };
        let pack = PackTemplate {
            banner,
            name: &names("pack"),
            c: &c,
        };
        let top_view = self.top_view(banner, top, &d, &c, &book);
        Ok(vec![
            GenFile::rtl(format!("{}.v", names("dec")), finish(dec.render())),
            GenFile::rtl(format!("{}.v", names("norm")), finish(norm)),
            GenFile::rtl(format!("{}.v", names("pack")), finish(pack.render())),
            GenFile::rtl(format!("{top}.v"), finish(top_view.render())),
        ])
    }

    fn top_view<'a>(
        &self,
        banner: &'a str,
        top: &'a str,
        d: &'a ElementView,
        c: &'a CvtView,
        book: &Formatbook,
    ) -> TopTemplate<'a> {
        let p = self.pipeline;
        // One stage registers the values; a second splits each lane after normalizing; a third
        // registers the inputs; more go to the output.
        let (cut_in_on, cut_mid_on) = (p >= 3, p >= 2);
        let (stages, first_en, last_valid) = chain(p, "valid_i", "ready_i");
        let mut cuts = Cuts::new(&stages);
        let cut_in = cuts.take(cut_in_on);
        let cut_mid = cuts.take(cut_mid_on);
        let outs: Vec<Cut> = (0..p - usize::from(cut_in_on) - usize::from(cut_mid_on))
            .map(|_| cuts.take(true))
            .collect();
        let (out_regs, values_out) = delay_chain(
            &outs,
            |i| format!("values_{}_q", stages[stages.len() - outs.len() + i].name),
            "values_w",
        );
        let lanes = self.lanes() as u32;
        let codes_w = lanes * d.code_w;
        let dialect = self.is_dialect();
        let inb = if dialect {
            Bundle::new(&[("scale", 8), ("dialect", 4), ("codes", codes_w)])
        } else if self.is_nvfp4() {
            Bundle::new(&[("scale", 8), ("tensor_scale", 32), ("codes", codes_w)])
        } else {
            Bundle::new(&[("scale", 8), ("codes", codes_w)])
        };
        let mid = Bundle::new(&[
            ("sign", 1),
            ("nan", 1),
            ("zero", 1),
            ("sig", c.sig_w),
            ("eb", c.eb_w),
        ]);
        let beats = self.beats();
        TopTemplate {
            port_decls: module_ports(&self.ports()),
            banner,
            name: top,
            format: self.format.to_string(),
            output: self.output_format.name(),
            k: self.block_size,
            lanes: self.lanes(),
            beats,
            pipeline: p,
            stage_summary: {
                let mut v = Vec::new();
                if cut_in_on {
                    v.push("inputs".to_string());
                }
                if cut_mid_on {
                    v.push("after normalizing".to_string());
                }
                if !outs.is_empty() {
                    v.push(format!("{} at the output", outs.len()));
                }
                crate::emit::pipeline::stage_summary(&v)
            },
            stages,
            first_en,
            last_valid,
            dialect,
            nv: self.is_nvfp4(),
            be1_ext: zero_extend("be1_w", 4, c.eb_w),
            te1_ext: zero_extend("te1_w", 8, c.eb_w),
            codes_msb: codes_w - 1,
            values_msb: lanes * c.out_w - 1,
            in_src: inb.wires("_i"),
            inb,
            dialect_table: DialectTable::new(book),
            ids: book.len(),
            ids_all: book.len() == 16,
            cut_in,
            cut_mid,
            d,
            c,
            dec_name: format!("{top}_dec"),
            norm_name: format!("{top}_norm"),
            pack_name: format!("{top}_pack"),
            mid_src: mid.pack(|field| {
                Part::Expr(
                    match field {
                        "nan" => "special_w | blk_nan_w",
                        "sig" => "norm_w",
                        "sign" => "sign_w",
                        "zero" => "zero_w",
                        _ => "eb_w",
                    }
                    .into(),
                )
            }),
            mid,
            out_regs,
            values_out,
            beat_msb: bits_for(beats as u64 - 1) - 1,
        }
    }
}

/// Widths and constants of one lane's normalize and pack modules (`dqz_norm.v`, `dqz_pack.v`).
/// `eb` is the value's floor(log2) biased by `127 - quantum`, so it is never negative: scale
/// code + the element's shift + the leading one's position.
#[derive(Debug, Clone)]
pub struct CvtView {
    pub sig_w: u32,
    pub sig_msb: u32,
    pub sh_w: u32,
    pub sh_msb: u32,
    pub lz_w: u32,
    pub lz_msb: u32,
    /// Leading zeros of the significand, as a chain of tests from the top bit.
    pub lz_expr: String,
    pub eb_w: u32,
    pub eb_msb: u32,
    pub scale_ext: String,
    pub shift_ext: String,
    pub lz_ext: String,
    pub out_w: u32,
    pub out_msb: u32,
    pub out_ebits: u32,
    pub out_ebits_msb: u32,
    pub mbits: u32,
    pub mbits_msb: u32,
    /// eb above this overflows the output format (infinity).
    pub ovf_at: u32,
    /// eb from this on is a normal output number.
    pub normal_at: u32,
    /// Output exponent field = eb - this.
    pub field_off: u32,
    /// Zero bits under the significand in the normal mantissa and in the `mbits + 1`-bit
    /// subnormal window (`wide_w`).
    pub frac_pad: u32,
    /// Largest useful subnormal shift (mbits + 2: everything shifts out below half a quantum).
    pub sh_max: u32,
    pub shr_w: u32,
    pub shr_msb: u32,
    pub wide_w: u32,
    pub nan_code: String,
    pub inf_code: String,
    /// The significand is wider than the output's (NVFP4's products): normal values round too.
    /// Then `wide_lo` is the lowest significand bit of the subnormal window, `guard` the bit
    /// below a normal mantissa, and `sticky_msb` the top of the bits below it (if any).
    pub rounds: bool,
    pub wide_lo: u32,
    pub guard: u32,
    pub has_sticky: bool,
    pub sticky_msb: u32,
    /// The nvfp4 lane normalizer: the block product's width and the element's shift.
    pub blk_w: u32,
    pub blk_msb: u32,
    pub el_sh_ext: String,
    pub lz_norm_ext: String,
    /// Leading zeros of the block product s_b x s_t (normalized once per beat).
    pub blk_lz_w: u32,
    pub blk_lz_msb: u32,
    pub blk_lz_expr: String,
    pub blk_lz_ext: String,
}

impl CvtView {
    /// An MX or DialectFP4 element with an E8M0 scale: eb = scale + shift + leading one, and
    /// the value's floor(log2) is eb + quantum - 127.
    fn new(d: &ElementView, out: InputFormat) -> CvtView {
        let eb_max = 255 + d.max_shift + d.sig_w - 1;
        Self::build(d.sig_w, d, i64::from(d.quantum) - 127, eb_max, out)
    }

    /// NVFP4: the lane significand is the E2M1 significand (2 bits) x s_b's (4) x s_t's (24),
    /// 30 bits; eb = max(e_b, 1) + max(e_t, 1) - 2 + shift + leading one, and floor(log2) is
    /// eb - 159 (the E2M1 quantum 2^-1, UE4M3's 2^(e - 10) and FP32's 2^(e - 150)).
    fn nvfp4(d: &ElementView, out: InputFormat) -> CvtView {
        let sig_w = d.sig_w + NV_BLK_SIG_W;
        let eb_max = 15 + 254 - 2 + d.max_shift + sig_w - 1;
        Self::build(sig_w, d, -159, eb_max, out)
    }

    fn build(sig_w: u32, d: &ElementView, c: i64, eb_max: u32, out: InputFormat) -> CvtView {
        let ieee = out.ieee();
        let ovf_at = (i64::from(ieee.emax()) - c) as u32;
        let normal_at = (i64::from(ieee.emin()) - c) as u32;
        let field_off = (-(c + i64::from(ieee.bias))) as u32;
        let eb_w = bits_for(u64::from(eb_max.max(ovf_at).max(normal_at)) + 1).max(ieee.ebits + 1);
        let lz_w = bits_for(u64::from(sig_w - 1));
        let mbits = ieee.mbits;
        let sh_max = mbits + 2;
        let shr_w = bits_for(u64::from(sh_max));
        let out_w = ieee.bits();
        let rounds = sig_w > mbits + 1;
        let blk_w = sig_w.saturating_sub(d.sig_w);
        let blk_lz_w = bits_for(u64::from(blk_w.saturating_sub(1)));
        CvtView {
            sig_w,
            sig_msb: sig_w - 1,
            sh_w: d.sh_w,
            sh_msb: d.sh_msb,
            lz_w,
            lz_msb: lz_w - 1,
            lz_expr: leading_zeros_expr("sig_i", sig_w, lz_w),
            eb_w,
            eb_msb: eb_w - 1,
            scale_ext: zero_extend("scale_i", 8, eb_w),
            shift_ext: zero_extend("shift_i", d.sh_w, eb_w),
            lz_ext: zero_extend("lz_w", lz_w, eb_w),
            out_w,
            out_msb: out_w - 1,
            out_ebits: ieee.ebits,
            out_ebits_msb: ieee.ebits - 1,
            mbits,
            mbits_msb: mbits - 1,
            ovf_at,
            normal_at,
            field_off,
            frac_pad: (mbits + 1).saturating_sub(sig_w),
            sh_max,
            shr_w,
            shr_msb: shr_w - 1,
            wide_w: mbits + 1,
            nan_code: format!("{out_w}'h{:x}", out.canonical_nan()),
            inf_code: format!("{}'h{:x}", out_w - 1, ieee.inf_mag_code()),
            rounds,
            wide_lo: sig_w.saturating_sub(mbits + 1),
            guard: sig_w.saturating_sub(mbits + 2),
            has_sticky: sig_w >= mbits + 3,
            sticky_msb: sig_w.saturating_sub(mbits + 3),
            blk_w,
            blk_msb: blk_w.saturating_sub(1),
            el_sh_ext: zero_extend("shift_i", d.sh_w, eb_w),
            lz_norm_ext: zero_extend("lz_w", 2, eb_w),
            blk_lz_w,
            blk_lz_msb: blk_lz_w - 1,
            blk_lz_expr: leading_zeros_expr("blk_sig_w", blk_w, blk_lz_w),
            blk_lz_ext: zero_extend("blk_lz_w", blk_lz_w, eb_w),
        }
    }
}

/// Width of an NVFP4 block's significand product s_b x s_t (4 x 24 bits).
const NV_BLK_SIG_W: u32 = 28;

#[derive(Template)]
#[template(path = "rtl/dqz_norm.v", escape = "none")]
struct NormTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    c: &'a CvtView,
}

#[derive(Template)]
#[template(path = "rtl/dqz_nvnorm.v", escape = "none")]
struct NvNormTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    c: &'a CvtView,
    d: &'a ElementView,
}

#[derive(Template)]
#[template(path = "rtl/dqz_pack.v", escape = "none")]
struct PackTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    c: &'a CvtView,
}

#[derive(Template)]
#[template(path = "rtl/dqz_top.v", escape = "none")]
struct TopTemplate<'a> {
    banner: &'a str,
    port_decls: String,
    name: &'a str,
    format: String,
    output: &'a str,
    k: usize,
    lanes: usize,
    beats: usize,
    pipeline: usize,
    stage_summary: String,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    dialect: bool,
    /// NVFP4 input: a tensor scale port and the block's significand product.
    nv: bool,
    be1_ext: String,
    te1_ext: String,
    codes_msb: u32,
    values_msb: u32,
    /// The block's inputs: {scale, dialect (dialectfp4), codes}.
    inb: Bundle,
    in_src: String,
    dialect_table: DialectTable,
    ids: usize,
    ids_all: bool,
    cut_in: Cut,
    cut_mid: Cut,
    d: &'a ElementView,
    c: &'a CvtView,
    dec_name: String,
    norm_name: String,
    pack_name: String,
    /// One lane between normalizing and packing: {sign, nan, zero, sig, eb}.
    mid: Bundle,
    mid_src: String,
    out_regs: Vec<(String, String, String)>,
    values_out: String,
    beat_msb: u32,
}

impl Hardware for DequantizerParams {
    fn spec(&self) -> Spec {
        Spec::of(self)
    }

    fn top(&self) -> Result<String> {
        self.top_name()
    }

    fn ports(&self) -> Vec<Port> {
        let l = self.lanes();
        let mut v = vec![Port::input("scale_i", 8, 1)];
        if self.is_nvfp4() {
            v.push(Port::input("tensor_scale_i", 32, 1));
        }
        if self.is_dialect() {
            v.push(Port::input("dialect_i", 4, 1));
        }
        v.push(Port::input("codes_i", self.format.code_bits(), l));
        v.push(Port::output("values_o", self.output_format.bits(), l));
        v.push(Port::output("last_o", 1, 1));
        v
    }

    /// Each beat is independent of the others: the pipeline's depth.
    fn formal(&self) -> Facts {
        // One block per registered stage, and a serial unit's block being sent beat by beat.
        let sending = if self.beats() == 1 { 0 } else { 1 };
        let mut facts = Facts::stream(self.pipeline as u32 + sending);
        facts.table = self.lane_table();
        facts
    }

    fn latency(&self) -> u32 {
        self.pipeline as u32
    }

    fn beats_per_block(&self) -> usize {
        self.beats()
    }

    fn notes(&self) -> Result<Vec<String>> {
        let mut notes = Vec::new();
        if self.is_dialect() {
            notes.extend(self.formatbook.banner_lines()?);
        }
        notes.push(if self.is_nvfp4() {
            "numerics: docs/numerics.md sections 3.2 and 3.3: each value is s_t x s_b x element, exact, rounded once (RNE) to the output format; subnormals kept, overflow to +-Inf, canonical quiet NaN (UE4M3 NaN scale, or a tensor scale that is not positive finite)".into()
        } else {
            "numerics: docs/numerics.md section 3.2: each value is scale x element, exact, rounded once (RNE) to the output format; subnormals kept, overflow to +-Inf, canonical quiet NaN".into()
        });
        Ok(notes)
    }

    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        self.emit_files(top, banner)
    }
}

/// Checked dequantizer settings with the block format and a quantizer for realistic stimulus.
pub struct DequantizerChecked {
    pub params: DequantizerParams,
    format: BlockFormat,
    quantizer: Quantizer,
}

impl super::Unit for DequantizerParams {
    const NAME: &'static str = Self::UNIT;
    const NOTED: &'static [&'static str] = &["formatbook"];
    type Checked = DequantizerChecked;

    fn check(&self) -> Result<DequantizerChecked> {
        self.validate()?;
        let book: Arc<Formatbook> = self.formatbook.get()?;
        Ok(DequantizerChecked {
            format: self.block_format()?,
            quantizer: Quantizer::weights(self.format, book)?,
            params: self.clone(),
        })
    }

    fn resolved(&self) -> Self {
        DequantizerParams {
            lanes: Some(self.lanes()),
            ..self.clone()
        }
    }
}

/// Scale codes at the edges of E8M0: the smallest, 1.0, the largest and NaN.
const EDGE_SCALES: [u32; 5] = [0x00, 0x01, 0x7f, 0xfe, 0xff];
/// UE4M3 scale codes at the edges: zero, the smallest subnormal, 1.0, the largest and NaN, and
/// two with the sign bit set (NaN blocks too).
const NV_EDGE_SCALES: [u32; 7] = [0x00, 0x01, 0x38, 0x7e, 0x7f, 0x80, 0xb8];
impl DequantizerChecked {
    /// NVFP4 blocks quantized with a tensor scale: usually the block's own default (as if it
    /// were the whole tensor), else a random FP32 pattern or an edge; the scale code replaced
    /// by a random or an edge code in some blocks, random codes in others.
    fn nvfp4_stimulus(
        &self,
        dist: crate::stimulus::Dist,
        rng: &mut rand_pcg::Pcg64,
        out: &mut Vec<u32>,
    ) {
        use crate::golden::nvfp4::{
            EDGE_TENSOR_SCALES, Nvfp4Config, Nvfp4Rule, default_tensor_scale,
        };
        use rand::RngExt;
        let k = self.params.block_size;
        let raw = crate::stimulus::block(dist, InputFormat::F32, k, Formatbook::builtin(), rng);
        let amax = crate::golden::nvfp4::finite_amax(raw.iter().copied());
        let s_t = match rng.random_range(0..8u32) {
            0..=3 => default_tensor_scale(amax),
            4..=5 => rng.random_range(1..0x7f80_0000u32),
            _ => EDGE_TENSOR_SCALES[rng.random_range(0..EDGE_TENSOR_SCALES.len())],
        };
        let valid = crate::golden::nvfp4::check_tensor_scale(s_t).is_ok();
        let q = Nvfp4Config::given(
            Nvfp4Rule::Exact,
            if valid { s_t } else { 0x3f80_0000 },
            false,
        )
        .quantize(&raw);
        out.push(match rng.random_range(0..8u32) {
            0..=4 => q.scale,
            5..=6 => rng.random_range(0..=255u32),
            _ => NV_EDGE_SCALES[rng.random_range(0..NV_EDGE_SCALES.len())],
        });
        out.push(0);
        if rng.random_range(0..8u32) == 0 {
            out.extend((0..k).map(|_| rng.random_range(0..16u32)));
        } else {
            out.extend(&q.codes);
        }
        out.push(s_t);
    }
}

impl super::Checked for DequantizerChecked {
    fn hardware(&self) -> &dyn Hardware {
        &self.params
    }

    /// Per block: the scale code, the dialect id, the element codes, then (nvfp4) the tensor
    /// scale's FP32 bits.
    fn stimulus_len(&self) -> usize {
        self.params.block_size + 2 + usize::from(self.params.is_nvfp4())
    }

    /// Quantized blocks of `dist`; most with their scale replaced by a random or an edge code
    /// (so outputs overflow, go subnormal and underflow), some with random codes and ids
    /// (NaN / Inf codes, ids past a custom book). `uniform-bits` draws everything uniformly.
    fn stimulus(&self, dist: crate::stimulus::Dist, rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>) {
        use rand::RngExt;
        let k = self.params.block_size;
        let code_max = (1u32 << self.params.format.code_bits()) - 1;
        let random_codes = |rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>| {
            out.push(rng.random_range(0..16u32));
            out.extend((0..k).map(|_| rng.random_range(0..=code_max)));
        };
        if dist == crate::stimulus::Dist::UniformBits {
            out.push(rng.random_range(0..=255u32));
            random_codes(rng, out);
            if self.params.is_nvfp4() {
                out.push(rng.random());
            }
            return;
        }
        if self.params.is_nvfp4() {
            return self.nvfp4_stimulus(dist, rng, out);
        }
        let book = match &self.format {
            BlockFormat::Dialect { book, .. } => &**book,
            BlockFormat::Mx(_) | BlockFormat::Nvfp4 { .. } => Formatbook::builtin(),
        };
        let raw = crate::stimulus::block(dist, crate::format::InputFormat::F32, k, book, rng);
        let q: QuantBlock = self.quantizer.quantize(&raw);
        let scale = match rng.random_range(0..8u32) {
            0..=2 => q.scale,
            3..=5 => rng.random_range(0..=255u32),
            _ => EDGE_SCALES[rng.random_range(0..EDGE_SCALES.len())],
        };
        out.push(scale);
        if rng.random_range(0..8u32) == 0 {
            random_codes(rng, out);
        } else {
            out.push(u32::from(q.dialect.unwrap_or(0)));
            out.extend(&q.codes);
        }
    }

    fn input_beats(&self, layout: &crate::emit::layout::Layout, stim: &[u32], out: &mut Vec<u8>) {
        let k = self.params.block_size;
        let (scale, dialect, codes) = (stim[0], stim[1], &stim[2..2 + k]);
        for beat_codes in codes.chunks(self.params.lanes()) {
            let mut beat = layout.beat(out);
            beat.set("scale_i", scale);
            if self.params.is_nvfp4() {
                beat.set("tensor_scale_i", stim[2 + k]);
            }
            if self.params.is_dialect() {
                beat.set("dialect_i", dialect);
            }
            beat.put("codes_i", beat_codes.iter().map(|&c| i128::from(c)));
        }
    }

    fn expected_beats(
        &self,
        layout: &crate::emit::layout::Layout,
        stim: &[u32],
        out: &mut Vec<u8>,
    ) {
        let k = self.params.block_size;
        let (scale, dialect, codes) = (stim[0], stim[1] as u8, &stim[2..2 + k]);
        let format = match self.format {
            BlockFormat::Nvfp4 { .. } => BlockFormat::Nvfp4 {
                tensor_scale: stim[2 + k],
            },
            _ => self.format.clone(),
        };
        let values = crate::golden::dequant::dequantize_block(
            &format,
            self.params.output_format,
            scale,
            dialect,
            codes,
        );
        let beats = self.params.beats();
        for (b, v) in values.chunks(self.params.lanes()).enumerate() {
            let mut beat = layout.beat(out);
            beat.put("values_o", v.iter().map(|&x| i128::from(x)));
            beat.set("last_o", b + 1 == beats);
        }
    }
}
