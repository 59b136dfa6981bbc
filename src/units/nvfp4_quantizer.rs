//! Unit `nvfp4-quantizer`: one block of FP32/BF16/FP16 inputs and the FP32 tensor scale in, one
//! NVFP4 block out (rule `exact`, docs/numerics.md 3.3), without a divider. Both roundings are
//! comparisons: the block max against 3 sig_t x the UE4M3 midpoints in its binade, then every
//! |x| against the seven E2M1 midpoints x s_b x s_t, truncated into the input format so a lane
//! compares bit patterns (`nvq_thr.v` says why that is exact).

use crate::emit::design::{GenFile, Port, module_ports};
use crate::emit::pipeline::{Cut, Cuts, OutStage, Stage, chain, out_stages};
use crate::emit::tree::{Node, reduce};
use crate::emit::{bits_for, leading_zeros_expr, trailing_zeros_expr};
use crate::error::{Error, Result};
use crate::floor::bundle::Bundle;
use crate::floor::checks::{check_flush, validate_blocking};
use crate::format::InputFormat;
use crate::golden::QuantBlock;
use crate::golden::nvfp4::{Nvfp4Config, Nvfp4Rule};
use crate::prove::facts::{Facts, NanRule};
use crate::units::unit::{Hardware, Spec};
use askama::Template;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nvfp4QuantizerParams {
    #[serde(default = "super::defaults::nvfp4_block_size")]
    pub block_size: usize,
    #[serde(default)]
    pub input_format: InputFormat,
    /// Elements per beat: the whole block (the only width this unit builds).
    #[serde(default)]
    pub lanes: Option<usize>,
    /// Register stages placed by the generator (0 = combinational core).
    #[serde(default = "super::defaults::pipeline")]
    pub pipeline: usize,
    #[serde(default)]
    pub flush_subnormals: bool,
}

crate::floor::checks::lanes_and_beats!(Nvfp4QuantizerParams);

/// Offsets that keep the exponent arithmetic unsigned: G + `G_OFF` (a multiple of 16, so G's low
/// bits are the subnormal shift and E1's) and theta's exponent field + `FO_OFF`.
const G_OFF: i64 = 512;
const FO_OFF: i64 = 256;

impl Nvfp4QuantizerParams {
    pub const UNIT: &'static str = "nvfp4-quantizer";

    pub fn validate(&self) -> Result<()> {
        validate_blocking(self.block_size, self.lanes(), self.pipeline)?;
        if self.beats() != 1 {
            return Err(Error::input(format!(
                "nvfp4-quantizer takes a whole block per beat: lanes {} must equal the block size {}",
                self.lanes(),
                self.block_size
            )));
        }
        check_flush(self.input_format, self.flush_subnormals)
    }

    pub fn golden(&self, tensor_scale: u32) -> Nvfp4Config {
        Nvfp4Config::given(Nvfp4Rule::Exact, tensor_scale, self.flush_subnormals)
    }

    /// Quantize one block of raw input codes with a tensor scale (FP32 bits), as the hardware
    /// receives them.
    pub fn golden_block(&self, raw: &[u32], tensor_scale: u32) -> QuantBlock {
        let bits: Vec<u32> = raw.iter().map(|&r| self.input_format.widen(r)).collect();
        self.golden(tensor_scale).quantize(&bits)
    }

    pub fn top_name(&self) -> String {
        format!(
            "nvq_{}_k{}_l{}_p{}{}",
            self.input_format.name(),
            self.block_size,
            self.lanes(),
            self.pipeline,
            if self.flush_subnormals { "_ftz" } else { "" }
        )
    }

    /// Which inner cut points a pipeline of `p` stages registers, in pipeline order (block
    /// max, inside the scale, after it, inside the thresholds, after them). By value: after the
    /// block scale (halfway), the output, the block max, the thresholds, inside the scale,
    /// inside the thresholds; further stages go to the output.
    fn cuts(p: usize) -> [bool; 5] {
        [p >= 3, p >= 5, p >= 1, p >= 6, p >= 4]
    }

    fn top_view<'a>(&self, banner: &'a str, top: &'a str, n: &'a Numbers) -> TopTemplate<'a> {
        let p = self.pipeline;
        let (stages, first_en, last_valid) = chain(p, "valid_i", "ready_i");
        let mut cuts = Cuts::new(&stages);
        let [cut_max, cut_scale_mid, cut_scale, cut_thr_mid, cut_thr] =
            Self::cuts(p).map(|on| cuts.take(on));
        let out_names: Vec<String> = cuts.rest().collect();
        let (outs, (code_out, scale_out, nan_out, _)) =
            out_stages(&out_names, ("codes_w", "scale_w", "blk_nan_w", "1'b1"));
        let registered: Vec<&str> = [
            (cut_max.registered, "after the block max"),
            (cut_scale_mid.registered, "inside the block scale"),
            (cut_scale.registered, "after the block scale"),
            (cut_thr_mid.registered, "inside the thresholds"),
            (cut_thr.registered, "after the thresholds"),
        ]
        .into_iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| s)
        .chain(std::iter::repeat_n("output", outs.len()))
        .collect();
        let k = self.block_size;
        let leaves = (0..k).map(|i| format!("g_lane[{i}].leaf")).collect();
        let (tree, tree_root) = reduce(leaves, "max");
        TopTemplate {
            banner,
            name: top,
            n,
            k,
            input: self.input_format.name(),
            ftz: self.flush_subnormals,
            port_decls: module_ports(&self.ports()),
            pipeline: p,
            stage_summary: crate::emit::pipeline::stage_summary(&registered),
            stages,
            first_en,
            last_valid,
            lanes_msb: k as u32 * n.lane_w - 1,
            pats_msb: 7 * n.mag_w - 1,
            codes_msb: k as u32 * 4 - 1,
            tree,
            tree_root,
            tsn_name: format!("{top}_tsn"),
            scale_name: format!("{top}_scale"),
            thr_name: format!("{top}_thr"),
            cut_max,
            cut_scale_mid,
            cut_scale,
            cut_thr_mid,
            cut_thr,
            out_stages: outs,
            code_out,
            scale_out,
            nan_out,
        }
    }
}

/// One UE4M3 midpoint test of the block scale: pass when sig_a << sh `op` 3 sig_t x (2j + 1),
/// that product written as shifts and adds (`product`), so no multiplier is inferred.
#[derive(Debug, Clone)]
struct ScaleThr {
    j: u32,
    op: &'static str,
    product: String,
    /// The same test of a normal scale, midpoint j + 8.
    product_hi: String,
}

/// The non-adjacent form of `c`: signed powers of two (negative, shift), highest first, no two
/// adjacent, at most ceil(bits / 2) + 1 of them.
fn naf(mut c: u32) -> Vec<(bool, u32)> {
    let mut terms = Vec::new();
    let mut k = 0;
    while c != 0 {
        if c & 1 == 1 {
            let neg = c & 3 == 3;
            terms.push((neg, k));
            c = if neg { c + 1 } else { c - 1 };
        }
        c >>= 1;
        k += 1;
    }
    terms.reverse();
    terms
}

/// The number of tests passed, as a `w`-bit Verilog value, of `n` tests `<p>0_w`..`<p>{n-1}_w`
/// that pass as a thermometer (each implies those before it): bit b is set where the last
/// passing test's count has it.
fn thermometer_count(p: &str, n: u32, w: u32) -> String {
    let bit = |b: u32| {
        (1..=n)
            .filter(|m| m >> b & 1 == 1)
            .map(|m| {
                if m == n {
                    format!("{p}{}_w", m - 1)
                } else {
                    format!("({p}{}_w & ~{p}{m}_w)", m - 1)
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let bits: Vec<String> = (0..w)
        .rev()
        .map(bit)
        .map(|e| if e.is_empty() { "1'b0".into() } else { e })
        .collect();
    format!("{{{}}}", bits.join(", "))
}

/// `v` x `c` as a sum of shifted copies of `v` (the non-adjacent form of `c`).
fn shift_add(v: &str, c: u32) -> String {
    let mut out = String::new();
    for (i, (neg, k)) in naf(c).into_iter().enumerate() {
        let term = if k == 0 {
            v.to_string()
        } else {
            format!("({v} << {k})")
        };
        match (i, neg) {
            (0, _) => out.push_str(&term),
            (_, true) => out.push_str(&format!(" - {term}")),
            (_, false) => out.push_str(&format!(" + {term}")),
        }
    }
    out
}

/// One E2M1 midpoint m_j = o x 2^p / 4 as an input-format threshold: the product o x qn has its
/// leading one at bit `lo` or `lo + 1`, and the exponent field is fb + `c` + that top bit.
#[derive(Debug, Clone)]
struct ElemThr {
    j: u32,
    m: &'static str,
    o: u32,
    p: u32,
    lo: u32,
    c: i64,
    /// Below the normal range the pattern is exact when tz + fb >= k.
    k: i64,
    odd: bool,
}

/// Every width and constant the templates place.
#[derive(Debug, Clone)]
struct Numbers {
    in_w: u32,
    in_msb: u32,
    ebits: u32,
    mbits: u32,
    mag_w: u32,
    mag_msb: u32,
    lane_w: u32,
    alz_w: u32,
    alz_expr: String,
    siga_normal: String,
    siga_sub: String,
    tlz_expr: String,
    /// Exponents: amax = sig_a x 2^(A - a_base); G = A - U + k0.
    a_base: i64,
    k0: i64,
    g_off: i64,
    g_add: i64,
    scale_thr: Vec<ScaleThr>,
    cnt_expr: String,
    /// What the scale's halfway register holds.
    scale_mid: Bundle,
    /// What the thresholds' halfway register holds: {fb, tz, qn}.
    thr_mid: Bundle,
    /// The tensor scale's part, registered beside the block max: {tbad, cu, 3 sig_t}.
    tsn: Bundle,
    qlz_expr: String,
    qtz_expr: String,
    fo_off: i64,
    elem_thr: Vec<ElemThr>,
    normal_at: i64,
    d_max: u32,
    /// fo below this (less the top bit) shifts the whole significand out.
    far_at: i64,
    d_w: u32,
}

impl Numbers {
    fn of(input: InputFormat) -> Numbers {
        let ieee = input.ieee();
        let (e, m, bias) = (ieee.ebits, ieee.mbits, i64::from(ieee.bias));
        let mag_w = e + m;
        let alz_w = bits_for(u64::from(m - 1));
        let pad = 23 - m;
        let padded = |v: &str| {
            if pad == 0 {
                v.to_string()
            } else {
                format!("{{{v}, {pad}'d0}}")
            }
        };
        let scale_thr = (0..8)
            .map(|j| ScaleThr {
                j,
                op: if j % 2 == 1 { ">=" } else { ">" },
                product: shift_add("s3x_w", 2 * j + 1),
                product_hi: shift_add("s3x_w", 2 * j + 17),
            })
            .collect();
        let cnt_expr = thermometer_count("p", 8, 4);
        // The E2M1 midpoints x 4 are 1, 3, 5, 7, 10, 14, 20: odd part and power of two.
        let mids: [(&str, u32, u32); 7] = [
            ("1/4", 1, 0),
            ("3/4", 3, 0),
            ("5/4", 5, 0),
            ("7/4", 7, 0),
            ("5/2", 5, 1),
            ("7/2", 7, 1),
            ("5", 5, 2),
        ];
        let elem_thr = mids
            .iter()
            .enumerate()
            .map(|(j, &(mstr, o, p))| {
                // o x qn, qn in [2^27, 2^28): the leading one is at 27 + floor(log2 o) or one above.
                let lo = 27 + (31 - o.leading_zeros());
                // theta = (o qn) x 2^(max(e_b,1) + max(e_t,1) - 162 - lz + p): its field is
                // lo + top + p + (max(e_b,1) + max(e_t,1) + 32 - lz) + bias - 194, offset by FO_OFF.
                let c = i64::from(lo) + i64::from(p) + bias - 194 + FO_OFF;
                // The bits shifted out, (lo - mbits) + top + d with d = normal_at - fb - c - top.
                let k = i64::from(lo) - i64::from(m) + FO_OFF + 1 - c;
                ElemThr {
                    j: j as u32,
                    m: mstr,
                    o,
                    p,
                    lo,
                    c,
                    k,
                    odd: j % 2 == 1,
                }
            })
            .collect();
        let d_max = m + 1;
        Numbers {
            in_w: input.bits(),
            in_msb: input.bits() - 1,
            ebits: e,
            mbits: m,
            mag_w,
            mag_msb: mag_w - 1,
            lane_w: mag_w + 1,
            alz_w,
            alz_expr: leading_zeros_expr("am_w", m, alz_w),
            siga_normal: padded("{1'b1, am_w}"),
            siga_sub: padded("asub_w"),
            tlz_expr: leading_zeros_expr("tm_w", 23, 5),
            a_base: bias + i64::from(m) + 23,
            k0: 159 - bias - i64::from(m),
            g_off: G_OFF,
            g_add: G_OFF + 159 - bias - i64::from(m),
            scale_thr,
            cnt_expr,
            scale_mid: Bundle::new(&[
                ("nan", 1),
                ("zero", 1),
                ("normal", 1),
                ("gpos", 1),
                ("big", 1),
                ("e15", 1),
                ("sh", 3),
                ("e1p", 4),
                ("e1", 4),
                ("s3", 26),
                ("sa", 24),
            ]),
            thr_mid: Bundle::new(&[("fb", 10), ("tz", 6), ("qn", 28)]),
            tsn: Bundle::new(&[("tbad", 1), ("cu", 11), ("s3", 26)]),
            qlz_expr: leading_zeros_expr("q_w", 28, 5),
            qtz_expr: trailing_zeros_expr("q_w", 28, 5),
            fo_off: FO_OFF,
            elem_thr,
            normal_at: FO_OFF + 1,
            d_max,
            far_at: FO_OFF + 1 - i64::from(d_max),
            d_w: bits_for(u64::from(d_max)),
        }
    }
}

#[derive(Template)]
#[template(path = "rtl/nvq_scale.v", escape = "none")]
struct ScaleTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    n: &'a Numbers,
    /// The register halfway, after the binade tests.
    cut: Cut,
}

#[derive(Template)]
#[template(path = "rtl/nvq_tsn.v", escape = "none")]
struct TsnTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    n: &'a Numbers,
}

#[derive(Template)]
#[template(path = "rtl/nvq_thr.v", escape = "none")]
struct ThrTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    input: &'a str,
    n: &'a Numbers,
    /// The register halfway, after normalizing s_b x s_t.
    cut: Cut,
}

#[derive(Template)]
#[template(path = "rtl/nvq_top.v", escape = "none")]
struct TopTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    n: &'a Numbers,
    k: usize,
    input: &'a str,
    ftz: bool,
    port_decls: String,
    pipeline: usize,
    stage_summary: String,
    stages: Vec<Stage>,
    first_en: String,
    last_valid: String,
    lanes_msb: u32,
    pats_msb: u32,
    codes_msb: u32,
    tree: Vec<Node>,
    tree_root: String,
    tsn_name: String,
    scale_name: String,
    thr_name: String,
    cut_max: Cut,
    cut_scale_mid: Cut,
    cut_scale: Cut,
    cut_thr_mid: Cut,
    cut_thr: Cut,
    out_stages: Vec<OutStage>,
    code_out: String,
    scale_out: String,
    nan_out: String,
}

impl Hardware for Nvfp4QuantizerParams {
    fn spec(&self) -> Spec {
        Spec::of(self)
    }

    fn top(&self) -> Result<String> {
        Ok(self.top_name())
    }

    fn ports(&self) -> Vec<Port> {
        let l = self.lanes();
        vec![
            Port::input("data_i", self.input_format.bits(), l),
            Port::input("tensor_scale_i", 32, 1),
            Port::output("scale_o", 8, 1),
            Port::output("codes_o", 4, l),
            Port::output("nan_o", 1, 1),
            Port::output("last_o", 1, 1),
        ]
    }

    fn formal(&self) -> Facts {
        Facts {
            capacity: self.pipeline as u32,
            nan: Some(NanRule {
                input_format: self.input_format,
                scale_bits: 8,
                nan_code: crate::golden::nvfp4::SCALE_NAN,
                tensor_scale: Some("tensor_scale_i"),
            }),
            // Every 4-bit pattern is an E2M1 value.
            codes: None,
            table: None,
            no_miter: None,
        }
    }

    fn latency(&self) -> u32 {
        self.pipeline as u32
    }

    fn beats_per_block(&self) -> usize {
        1
    }

    fn notes(&self) -> Result<Vec<String>> {
        Ok(vec![
            "numerics: docs/numerics.md section 3.3, rule exact: s_b = RNE(amax / (6 s_t)) onto UE4M3 saturating at 448, codes = RNE(x / (s_b s_t)) onto E2M1 saturating at +-6, signed zeros when s_b is 0; a NaN or Inf in the block, or a tensor scale that is not positive finite, gives scale 0x7F and codes 0".into(),
        ])
    }

    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        let n = Numbers::of(self.input_format);
        let render = crate::floor::finish;
        let scale_name = format!("{top}_scale");
        let thr_name = format!("{top}_thr");
        let [_, scale_mid, _, thr_mid, _] = Self::cuts(self.pipeline);
        let inner = |on: bool| Cut {
            registered: on,
            en: if on { "en_i".into() } else { String::new() },
        };
        let scale = render(
            ScaleTemplate {
                banner,
                name: &scale_name,
                n: &n,
                cut: inner(scale_mid),
            }
            .render(),
        );
        let thr = render(
            ThrTemplate {
                banner,
                name: &thr_name,
                input: self.input_format.name(),
                n: &n,
                cut: inner(thr_mid),
            }
            .render(),
        );
        let tsn_name = format!("{top}_tsn");
        let tsn = render(
            TsnTemplate {
                banner,
                name: &tsn_name,
                n: &n,
            }
            .render(),
        );
        let top_text = render(self.top_view(banner, top, &n).render());
        Ok([
            (tsn_name, tsn),
            (scale_name, scale),
            (thr_name, thr),
            (top.to_string(), top_text),
        ]
        .into_iter()
        .map(|(name, contents)| GenFile::rtl(format!("{name}.v"), contents))
        .collect())
    }
}

/// Checked NVFP4 quantizer settings.
#[derive(Debug, Clone)]
pub struct Nvfp4QuantizerChecked {
    pub params: Nvfp4QuantizerParams,
}

impl super::Unit for Nvfp4QuantizerParams {
    const NAME: &'static str = Self::UNIT;
    type Checked = Nvfp4QuantizerChecked;

    fn check(&self) -> Result<Nvfp4QuantizerChecked> {
        self.validate()?;
        Ok(Nvfp4QuantizerChecked {
            params: self.clone(),
        })
    }

    fn resolved(&self) -> Self {
        Nvfp4QuantizerParams {
            lanes: Some(self.lanes()),
            ..self.clone()
        }
    }
}

impl super::Checked for Nvfp4QuantizerChecked {
    fn hardware(&self) -> &dyn Hardware {
        &self.params
    }

    /// The block's raw input codes, then the tensor scale's FP32 bits.
    fn stimulus_len(&self) -> usize {
        self.params.block_size + 1
    }

    fn stimulus(&self, dist: crate::stimulus::Dist, rng: &mut rand_pcg::Pcg64, out: &mut Vec<u32>) {
        crate::stimulus::nvfp4_block(
            dist,
            self.params.input_format,
            self.params.block_size,
            rng,
            out,
        );
    }

    fn input_beats(&self, layout: &crate::emit::layout::Layout, stim: &[u32], out: &mut Vec<u8>) {
        let k = self.params.block_size;
        let mut beat = layout.beat(out);
        beat.put("data_i", stim[..k].iter().map(|&x| i128::from(x)));
        beat.set("tensor_scale_i", stim[k]);
    }

    fn expected_beats(
        &self,
        layout: &crate::emit::layout::Layout,
        stim: &[u32],
        out: &mut Vec<u8>,
    ) {
        let k = self.params.block_size;
        let q = self.params.golden_block(&stim[..k], stim[k]);
        let mut beat = layout.beat(out);
        beat.set("scale_o", q.scale);
        beat.put("codes_o", q.codes.iter().map(|&c| i128::from(c)));
        beat.set("nan_o", q.nan);
        beat.set("last_o", true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every constant up to 2^12 is its terms' sum, with no two terms adjacent and the first
    /// positive (so the Verilog expression never starts with a subtraction).
    #[test]
    fn naf_sums_to_the_constant() {
        for c in 1u32..4096 {
            let t = naf(c);
            let sum: i64 = t
                .iter()
                .map(|&(neg, k)| if neg { -(1i64 << k) } else { 1i64 << k })
                .sum();
            assert_eq!(sum, i64::from(c), "{c}: {t:?}");
            assert!(!t[0].0, "{c}: {t:?}");
            assert!(t.windows(2).all(|w| w[0].1 >= w[1].1 + 2), "{c}: {t:?}");
        }
        assert_eq!(shift_add("s", 15), "(s << 4) - s");
        assert_eq!(shift_add("s", 11), "(s << 4) - (s << 2) - s");
    }
}
