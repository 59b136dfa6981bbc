//! The `quantize` command: quantize tensors with the golden model and report the error.

use crate::error::{Error, Result};
use crate::format::{Formatbook, ScaleFormat};
use crate::golden::stats::ErrorStats;
use crate::golden::{
    BdConfig, BdQuantizer, FracBits, MxConfig, Nvfp4Config, Nvfp4Rule, QuantBlock, Quantizer,
    Selector,
};
use crate::io::Tensor;
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;

/// Names a user can give to `--format`.
pub const FORMAT_NAMES: [&str; 8] = crate::format::OperandFormat::NAMES;

/// Blocks per parallel task. Fixed, so partial sums combine in the same order on any machine.
const BLOCKS_PER_TASK: usize = 2048;

/// Options shared by every format of one `quantize` call.
#[derive(Debug, Clone)]
pub struct QuantizeOptions {
    pub block_size: usize,
    pub pad: bool,
    pub selector: Selector,
    pub frac_bits: FracBits,
    pub scale: ScaleFormat,
    pub formatbook: Option<Arc<Formatbook>>,
    pub flush_subnormals: bool,
    /// Shared-exponent rule of the MX formats.
    pub scale_rule: crate::format::ScaleRule,
    pub nvfp4: Nvfp4Options,
}

/// The NVFP4 settings of a `quantize` call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Nvfp4Options {
    pub rule: Nvfp4Rule,
    /// s_t as FP32 bits; None: computed per tensor (numerics.md 3.2).
    pub tensor_scale: Option<u32>,
}

impl Nvfp4Options {
    /// The quantizer of one rule with these settings.
    pub fn config(&self, rule: Nvfp4Rule, flush_subnormals: bool) -> Nvfp4Config {
        match self.tensor_scale {
            Some(s) => Nvfp4Config::given(rule, s, flush_subnormals),
            None => Nvfp4Config::per_tensor(rule, flush_subnormals),
        }
    }
}

/// Build the quantizer a format name asks for.
pub fn quantizer_for(name: &str, opts: &QuantizeOptions) -> Result<Quantizer> {
    let format: crate::format::OperandFormat = name.parse().map_err(Error::input)?;
    Ok(match format {
        crate::format::OperandFormat::Dialect => {
            let book = opts
                .formatbook
                .clone()
                .unwrap_or_else(|| Arc::new(Formatbook::dialectfp4()));
            Quantizer::Dialect(Box::new(BdQuantizer::new(BdConfig {
                book,
                selector: opts.selector,
                frac_bits: opts.frac_bits,
                scale: opts.scale,
                flush_subnormals: opts.flush_subnormals,
            })?))
        }
        crate::format::OperandFormat::Mx(elem) => Quantizer::Mx(MxConfig {
            elem,
            flush_subnormals: opts.flush_subnormals,
            scale_rule: opts.scale_rule,
        }),
        crate::format::OperandFormat::Nvfp4 => {
            if let Some(s) = opts.nvfp4.tensor_scale {
                crate::golden::nvfp4::check_tensor_scale(s).map_err(Error::input)?;
            }
            Quantizer::Nvfp4(opts.nvfp4.config(opts.nvfp4.rule, opts.flush_subnormals))
        }
    })
}

/// One tensor quantized in one format.
pub struct TensorResult {
    pub stats: ErrorStats,
    /// Zero elements appended to each row to fill its last block.
    pub padded: u64,
    /// Every block, in order, when asked for.
    pub blocks: Option<Vec<QuantBlock>>,
    /// The quantizer as it ran on this tensor (an NVFP4 tensor scale computed from it).
    pub quantizer: Quantizer,
}

/// The largest block `quantize` and `explore` take (a block is held whole per thread).
pub const MAX_BLOCK_SIZE: usize = 4096;

pub fn check_block_size(k: usize) -> Result<()> {
    if (1..=MAX_BLOCK_SIZE).contains(&k) {
        Ok(())
    } else {
        Err(Error::input(format!(
            "block size {k} must be 1..={MAX_BLOCK_SIZE}"
        )))
    }
}

/// Check that a tensor splits into blocks of k along its last axis.
pub fn check_blocking(t: &Tensor, k: usize, pad: bool) -> Result<()> {
    check_block_size(k)?;
    let n = t.row_len();
    if n == 0 || t.rows() == 0 {
        return Err(Error::input(format!("tensor {}: has no elements", t.name)));
    }
    if !n.is_multiple_of(k) && !pad {
        return Err(Error::input(format!(
            "tensor {}: rows of {n} elements are not a multiple of the block size {k} (add --pad to zero-pad the last block of each row)",
            t.name
        )));
    }
    Ok(())
}

/// Quantize every block of a tensor (blocks along the last axis, rows padded with +0 when
/// asked). Runs on all cores; results are identical whatever the thread count.
pub fn quantize_tensor(
    t: &Tensor,
    q: &Quantizer,
    opts: &QuantizeOptions,
    keep_blocks: bool,
    progress: &ProgressBar,
) -> Result<TensorResult> {
    let k = opts.block_size;
    check_blocking(t, k, opts.pad)?;
    let n = t.row_len();
    let per_row = n.div_ceil(k);
    let total = t.rows() * per_row;
    let q = &q.for_tensor(&t.bits);
    let fmt = q.block_format();
    let parts: Vec<(ErrorStats, Vec<QuantBlock>)> = (0..total.div_ceil(BLOCKS_PER_TASK))
        .into_par_iter()
        .map(|task| {
            let mut stats = ErrorStats::default();
            let mut kept = Vec::new();
            let mut buf = vec![0u32; k];
            let end = ((task + 1) * BLOCKS_PER_TASK).min(total);
            for b in task * BLOCKS_PER_TASK..end {
                let (row, col) = (b / per_row, (b % per_row) * k);
                let valid = k.min(n - col);
                let start = row * n + col;
                buf[..valid].copy_from_slice(&t.bits[start..start + valid]);
                buf[valid..].fill(0);
                let qb = q.quantize(&buf);
                stats.add_block(&fmt, &buf, &qb, valid);
                if keep_blocks {
                    kept.push(qb);
                }
            }
            progress.inc((end - task * BLOCKS_PER_TASK) as u64);
            (stats, kept)
        })
        .collect();
    let mut stats = ErrorStats::default();
    let mut blocks = keep_blocks.then(|| Vec::with_capacity(total));
    for (s, kept) in parts {
        stats.merge(&s);
        if let Some(all) = blocks.as_mut() {
            all.extend(kept);
        }
    }
    Ok(TensorResult {
        stats,
        padded: (total * k - t.rows() * n) as u64,
        blocks,
        quantizer: q.clone().into_owned(),
    })
}

/// A tensor's blocks dequantized by the golden model (`golden::dequant`) into its own dtype,
/// padding dropped: the fake-quantized tensor, as raw codes of `t.dtype`.
fn dequantize_tensor(t: &Tensor, q: &Quantizer, blocks: &[QuantBlock]) -> Vec<u32> {
    let fmt = q.block_format();
    let n = t.row_len();
    let per_row = blocks.len() / t.rows().max(1);
    let mut out = Vec::with_capacity(t.bits.len());
    for row in blocks.chunks(per_row.max(1)) {
        let start = out.len();
        for b in row {
            out.extend(crate::golden::dequant::dequantize_block(
                &fmt,
                t.dtype,
                b.scale,
                b.dialect.unwrap_or(0),
                &b.codes,
            ));
        }
        out.truncate(start + n);
    }
    out
}

/// One report row: a tensor (or the total over tensors) in one format.
#[derive(Debug, Clone, Serialize)]
pub struct ReportRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor: Option<String>,
    pub format: String,
    pub block_size: usize,
    pub blocks: u64,
    pub elements: u64,
    pub padded: u64,
    /// None (JSON null) when no element was measured (every block NaN).
    pub mse: Option<f64>,
    /// None (JSON null) when not finite: no error at all, or nothing measured.
    pub sqnr_db: Option<f64>,
    pub max_abs_err: f64,
    pub saturated: u64,
    pub nan_blocks: u64,
    /// Blocks per dialect id (dialectfp4 only; null otherwise).
    pub dialect_histogram: Option<Vec<u64>>,
    /// NVFP4's tensor scale s_t for this tensor (nvfp4 rows of a tensor only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor_scale: Option<TensorScaleReport>,
}

/// An FP32 tensor scale as a number and as its exact bits.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TensorScaleReport {
    pub value: f32,
    /// The FP32 bit pattern, `0x` and 8 hex digits.
    pub bits: HexBits,
}

/// FP32 bits shown as `0x3f800000`.
#[derive(Debug, Clone, Copy)]
pub struct HexBits(pub u32);

impl Serialize for HexBits {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:#010x}", self.0))
    }
}

impl TensorScaleReport {
    pub fn of(bits: u32) -> TensorScaleReport {
        TensorScaleReport {
            value: f32::from_bits(bits),
            bits: HexBits(bits),
        }
    }
}

impl ReportRow {
    pub fn new(
        tensor: Option<&str>,
        format: &str,
        block_size: usize,
        stats: &ErrorStats,
        padded: u64,
        dialects: Option<usize>,
    ) -> ReportRow {
        ReportRow {
            tensor: tensor.map(String::from),
            format: format.to_string(),
            block_size,
            blocks: stats.blocks,
            elements: stats.elements,
            padded,
            mse: stats.mse(),
            sqnr_db: stats.sqnr_db(),
            max_abs_err: stats.max_abs_err,
            saturated: stats.saturated,
            nan_blocks: stats.nan_blocks,
            dialect_histogram: dialects.map(|n| {
                let mut h = stats.dialect_histogram.clone();
                h.resize(n.max(h.len()), 0);
                h
            }),
            tensor_scale: None,
        }
    }
}

/// How one NVFP4 variant compares with the `exact` rule on one tensor (`--compare-variants`).
#[derive(Debug, Clone, Serialize)]
pub struct VariantRow {
    pub tensor: String,
    pub rule: String,
    pub tensor_scale: TensorScaleReport,
    pub blocks: u64,
    /// Blocks whose scale code or any element code differs from `exact`'s.
    pub blocks_differ: u64,
    /// Elements whose code differs (in blocks of equal scale or not).
    pub elements_differ: u64,
    /// Blocks whose scale code differs.
    pub scales_differ: u64,
    pub sqnr_db: Option<f64>,
    /// The first block that differs, for a worked example: its index and both quantizations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_difference: Option<BlockDifference>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BlockDifference {
    pub block: u64,
    pub exact_scale: u32,
    pub exact_codes: Vec<u32>,
    pub variant_scale: u32,
    pub variant_codes: Vec<u32>,
}

/// The whole report of a `quantize` call.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input: String,
    /// The block size of every format; null when the formats' own defaults differ (each row
    /// says its own).
    pub block_size: Option<usize>,
    /// The BlockDialect settings that applied (present when dialectfp4 was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect: Option<DialectSettings>,
    /// The MX shared-exponent rule (present when an MX format was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<String>,
    /// The NVFP4 settings (present when nvfp4 was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvfp4: Option<Nvfp4Settings>,
    pub rows: Vec<ReportRow>,
    pub totals: Vec<ReportRow>,
    /// `--compare-variants`: each NVFP4 variant against `exact`, per tensor.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<VariantRow>,
    /// Tensors of the checkpoint left out, and why (not matrices, --exclude, not floating).
    pub skipped: Vec<crate::io::Skipped>,
    /// Conversions made while reading (float64 input).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DialectSettings {
    pub formatbook: String,
    pub selector: String,
    /// A JSON number, or "exact".
    pub frac_bits: crate::golden::FracBits,
    pub scale: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Nvfp4Settings {
    pub rule: String,
    /// The tensor scale given, or null when each tensor's is computed (see its rows).
    pub tensor_scale: Option<TensorScaleReport>,
}

impl Report {
    /// The human-readable table.
    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        let sizes = match self.block_size {
            Some(k) => format!("block size {k}"),
            None => {
                let mut seen: Vec<String> = Vec::new();
                for r in &self.totals {
                    let cell = format!("{} {}", r.format, r.block_size);
                    if !seen.contains(&cell) {
                        seen.push(cell);
                    }
                }
                format!("block sizes: {}", seen.join(", "))
            }
        };
        writeln!(out, "quantize {} ({sizes})", self.input)?;
        for n in &self.notes {
            writeln!(out, "note: {n}")?;
        }
        if !self.skipped.is_empty() {
            let list: Vec<String> = self
                .skipped
                .iter()
                .map(|s| format!("{} ({})", s.name, s.reason))
                .collect();
            writeln!(out, "skipped {} tensor(s): {}", list.len(), list.join(", "))?;
        }
        if let Some(r) = &self.scale_rule {
            writeln!(out, "MX scale rule: {r}")?;
        }
        if let Some(d) = &self.dialect {
            writeln!(
                out,
                "dialectfp4: formatbook {}, selector {}, frac bits {}, scale {}",
                d.formatbook, d.selector, d.frac_bits, d.scale
            )?;
        }
        if let Some(n) = &self.nvfp4 {
            let ts = match &n.tensor_scale {
                Some(t) => format!("tensor scale {:e} ({})", t.value, t.bits.hex()),
                None => "tensor scale per tensor: RNE(amax / 2688), 1 for an all-zero tensor"
                    .to_string(),
            };
            writeln!(out, "nvfp4: rule {}, {ts}", n.rule)?;
        }
        // A DialectFP4 row names its selector: the same tensor gives other numbers with the other.
        let label = |r: &ReportRow| match (&self.dialect, r.dialect_histogram.is_some()) {
            (Some(d), true) => format!("{} ({})", r.format, d.selector),
            _ => r.format.clone(),
        };
        let header = format!(
            "{:<24} {:<22} {:>9} {:>11} {:>12} {:>9} {:>12} {:>10} {:>6}",
            "tensor",
            "format",
            "blocks",
            "elements",
            "mse",
            "sqnr_db",
            "max_abs_err",
            "saturated",
            "nan_blocks"
        );
        writeln!(out, "{header}")?;
        for r in self.rows.iter().chain(&self.totals) {
            let sqnr = crate::golden::stats::show_db(r.sqnr_db);
            writeln!(
                out,
                "{:<24} {:<22} {:>9} {:>11} {:>12} {:>9} {:>12.4e} {:>10} {:>6}",
                r.tensor.as_deref().unwrap_or("(total)"),
                label(r),
                r.blocks,
                r.elements,
                crate::golden::stats::show_mse(r.mse),
                sqnr,
                r.max_abs_err,
                r.saturated,
                r.nan_blocks
            )?;
        }
        for r in self.rows.iter().chain(&self.totals) {
            if let Some(h) = &r.dialect_histogram {
                let cells: Vec<String> = h
                    .iter()
                    .enumerate()
                    .map(|(d, c)| format!("{d}:{c}"))
                    .collect();
                writeln!(
                    out,
                    "dialects {} {}: {}",
                    r.tensor.as_deref().unwrap_or("(total)"),
                    label(r),
                    cells.join(" ")
                )?;
            }
        }
        if self
            .nvfp4
            .as_ref()
            .is_some_and(|n| n.tensor_scale.is_none())
        {
            for r in &self.rows {
                if let (Some(t), Some(name)) = (&r.tensor_scale, &r.tensor) {
                    writeln!(out, "tensor scale {name}: {:e} ({})", t.value, t.bits.hex())?;
                }
            }
        }
        for v in &self.variants {
            writeln!(
                out,
                "nvfp4 {} vs exact, {}: {} of {} blocks differ ({} in the scale), {} elements; sqnr {} dB; tensor scale {:e}",
                v.rule,
                v.tensor,
                v.blocks_differ,
                v.blocks,
                v.scales_differ,
                v.elements_differ,
                crate::golden::stats::show_db(v.sqnr_db),
                v.tensor_scale.value
            )?;
        }
        let padded: u64 = self.totals.iter().map(|r| r.padded).max().unwrap_or(0);
        if padded > 0 {
            writeln!(
                out,
                "note: {padded} zero elements padded each row's last block (excluded from the statistics)"
            )?;
        }
        Ok(())
    }
}

impl HexBits {
    fn hex(&self) -> String {
        format!("{:#010x}", self.0)
    }
}

/// One line of `--codes` output.
#[derive(Serialize)]
pub struct CodesLine<'a> {
    pub tensor: &'a str,
    pub format: &'a str,
    pub block: usize,
    pub scale: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect: Option<u8>,
    /// NVFP4's FP32 tensor scale, its bits as `0x...` (the same on every line of a tensor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tensor_scale: Option<HexBits>,
    pub codes: &'a [u32],
}

/// Everything one `quantize` call asks for.
#[derive(Debug, Clone)]
pub struct QuantizeRequest {
    pub input: std::path::PathBuf,
    pub load: crate::io::LoadOptions,
    pub formats: Vec<String>,
    /// `opts.block_size` applies to every format when this is set (`--block-size`); otherwise
    /// each format takes its own default (`OperandFormat::default_block_size`).
    pub block_size_given: bool,
    pub opts: QuantizeOptions,
    /// Write every block's codes as JSON lines here.
    pub codes: Option<std::path::PathBuf>,
    /// Write the dequantized tensors here (one format only).
    pub dequantized: Option<std::path::PathBuf>,
    /// Overwrite an existing `codes` or `dequantized` file.
    pub force: bool,
    /// Quantize nvfp4 with every rule and report where the variants differ from `exact`.
    pub compare_variants: bool,
}

/// Differences between two quantizations of the same blocks.
fn compare_blocks(
    exact: &[QuantBlock],
    other: &[QuantBlock],
) -> (u64, u64, u64, Option<BlockDifference>) {
    let (mut blocks, mut elements, mut scales) = (0, 0, 0);
    let mut first = None;
    for (i, (a, b)) in exact.iter().zip(other).enumerate() {
        let diff = a.codes.iter().zip(&b.codes).filter(|(x, y)| x != y).count() as u64;
        if diff > 0 || a.scale != b.scale {
            blocks += 1;
            elements += diff;
            scales += u64::from(a.scale != b.scale);
            if first.is_none() {
                first = Some(BlockDifference {
                    block: i as u64,
                    exact_scale: a.scale,
                    exact_codes: a.codes.clone(),
                    variant_scale: b.scale,
                    variant_codes: b.codes.clone(),
                });
            }
        }
    }
    (blocks, elements, scales, first)
}

pub fn run(req: &QuantizeRequest) -> Result<Report> {
    check_block_size(req.opts.block_size)?;
    if req.formats.is_empty() {
        return Err(Error::input("give at least one --format"));
    }
    let nvfp4_asked = req.formats.iter().any(|f| f == "nvfp4");
    if req.compare_variants && !nvfp4_asked {
        return Err(Error::input(
            "--compare-variants compares NVFP4 rules: add --format nvfp4",
        ));
    }
    // Each format with its block size and quantizer.
    let plans = req
        .formats
        .iter()
        .map(|f| {
            let format: crate::format::OperandFormat = f.parse().map_err(Error::input)?;
            let mut opts = req.opts.clone();
            if !req.block_size_given {
                opts.block_size = format.default_block_size();
            }
            let q = quantizer_for(f, &opts)?;
            Ok((f.clone(), opts, q))
        })
        .collect::<Result<Vec<_>>>()?;
    if let Some(path) = &req.codes {
        crate::emit::write::check_writable_new(path, req.force)?;
    }
    if let Some(path) = &req.dequantized {
        if req.formats.len() != 1 {
            return Err(Error::input(
                "--dequantized writes one format's tensors: give exactly one --format",
            ));
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "npy" && ext != "safetensors" {
            return Err(Error::input(format!(
                "--dequantized {}: the file must end in .npy or .safetensors",
                path.display()
            )));
        }
        crate::emit::write::check_writable_new(path, req.force)?;
    }
    let loaded = crate::io::load(&req.input, &req.load)?;
    let tensors = &loaded.tensors;
    if req.dequantized.is_some() && tensors.iter().any(|t| t.dtype != tensors[0].dtype) {
        return Err(Error::input(
            "--dequantized: the tensors have different dtypes; select one dtype with --tensor",
        ));
    }
    for (_, opts, _) in &plans {
        for t in tensors {
            check_blocking(t, opts.block_size, opts.pad)?;
        }
    }
    // Every variant is compared with `exact`; rules other than the one asked for run again.
    let variant_rules = [Nvfp4Rule::Te, Nvfp4Rule::Modelopt];
    let extra_runs = if req.compare_variants {
        Nvfp4Rule::ALL.len() - 1
    } else {
        0
    };
    let blocks_of = |k: usize| -> u64 {
        tensors
            .iter()
            .map(|t| (t.rows() * t.row_len().div_ceil(k)) as u64)
            .sum()
    };
    let total_blocks: u64 = plans
        .iter()
        .map(|(f, o, _)| {
            let runs = if f == "nvfp4" { 1 + extra_runs } else { 1 };
            blocks_of(o.block_size) * runs as u64
        })
        .sum();
    let bar = crate::progress::bar(total_blocks, "quantize", "blocks", true);
    let mut rows = Vec::new();
    let mut totals = Vec::new();
    let mut variants = Vec::new();
    let mut codes_out = Vec::new();
    let mut dequantized = Vec::new();
    let keep = req.codes.is_some() || req.dequantized.is_some() || req.compare_variants;
    for (name, opts, q) in &plans {
        let dialects = match q {
            Quantizer::Dialect(d) => Some(d.config.book.len()),
            Quantizer::Mx(_) | Quantizer::Nvfp4(_) => None,
        };
        let mut total = ErrorStats::default();
        let mut total_padded = 0;
        for t in tensors {
            let r = quantize_tensor(t, q, opts, keep, &bar)?;
            let tensor_scale = match &r.quantizer {
                Quantizer::Nvfp4(c) => Some(c.tensor_scale()),
                _ => None,
            };
            let mut row = ReportRow::new(
                Some(&t.name),
                name,
                opts.block_size,
                &r.stats,
                r.padded,
                dialects,
            );
            row.tensor_scale = tensor_scale.map(TensorScaleReport::of);
            rows.push(row);
            total.merge(&r.stats);
            total_padded += r.padded;
            if let Some(blocks) = &r.blocks {
                if req.dequantized.is_some() {
                    dequantized.push((
                        t.name.clone(),
                        t.shape.clone(),
                        dequantize_tensor(t, &r.quantizer, blocks),
                    ));
                }
                if req.codes.is_some() {
                    for (i, b) in blocks.iter().enumerate() {
                        let line = CodesLine {
                            tensor: &t.name,
                            format: name,
                            block: i,
                            scale: b.scale,
                            dialect: b.dialect,
                            tensor_scale: tensor_scale.map(HexBits),
                            codes: &b.codes,
                        };
                        serde_json::to_writer(&mut codes_out, &line).expect("serializable");
                        codes_out.push(b'\n');
                    }
                }
                if matches!(q, Quantizer::Nvfp4(_)) && req.compare_variants {
                    let asked = opts.nvfp4.rule;
                    let run = |rule: Nvfp4Rule| -> Result<TensorResult> {
                        let vq = Quantizer::Nvfp4(opts.nvfp4.config(rule, opts.flush_subnormals));
                        quantize_tensor(t, &vq, opts, true, &bar)
                    };
                    let exact_run = (asked != Nvfp4Rule::Exact)
                        .then(|| run(Nvfp4Rule::Exact))
                        .transpose()?;
                    let exact_blocks = exact_run
                        .as_ref()
                        .and_then(|r| r.blocks.as_deref())
                        .unwrap_or(blocks);
                    for rule in variant_rules {
                        // The rule asked for has run already: compare its blocks as they are.
                        let other;
                        let v = if rule == asked {
                            &r
                        } else {
                            other = run(rule)?;
                            &other
                        };
                        let vblocks = v.blocks.as_deref().unwrap_or(&[]);
                        let (blocks_differ, elements_differ, scales_differ, first) =
                            compare_blocks(exact_blocks, vblocks);
                        let Quantizer::Nvfp4(vc) = &v.quantizer else {
                            unreachable!("an NVFP4 quantizer")
                        };
                        variants.push(VariantRow {
                            tensor: t.name.clone(),
                            rule: rule.to_string(),
                            tensor_scale: TensorScaleReport::of(vc.tensor_scale()),
                            blocks: v.stats.blocks,
                            blocks_differ,
                            elements_differ,
                            scales_differ,
                            sqnr_db: v.stats.sqnr_db(),
                            first_difference: first,
                        });
                    }
                }
            }
        }
        totals.push(ReportRow::new(
            None,
            name,
            opts.block_size,
            &total,
            total_padded,
            dialects,
        ));
    }
    bar.finish_and_clear();
    if let Some(path) = &req.codes {
        crate::emit::write::write_atomic(path, &codes_out)?;
    }
    if let (Some(path), Some(t)) = (&req.dequantized, tensors.first()) {
        crate::io::write_tensors(path, t.dtype, &dequantized)?;
    }
    let dialect = req
        .formats
        .iter()
        .any(|f| f == "dialectfp4")
        .then(|| DialectSettings {
            formatbook: req
                .opts
                .formatbook
                .as_ref()
                .map_or("dialectfp4 (built in)".to_string(), |b| b.name.clone()),
            selector: req.opts.selector.to_string(),
            frac_bits: req.opts.frac_bits,
            scale: req.opts.scale.to_string(),
        });
    Ok(Report {
        input: req.input.display().to_string(),
        block_size: {
            let k = plans[0].1.block_size;
            plans.iter().all(|p| p.1.block_size == k).then_some(k)
        },
        dialect,
        scale_rule: req
            .formats
            .iter()
            .any(|f| f != "dialectfp4" && f != "nvfp4")
            .then(|| req.opts.scale_rule.to_string()),
        nvfp4: nvfp4_asked.then(|| Nvfp4Settings {
            rule: req.opts.nvfp4.rule.to_string(),
            tensor_scale: req.opts.nvfp4.tensor_scale.map(TensorScaleReport::of),
        }),
        rows,
        totals,
        variants,
        skipped: loaded.skipped.clone(),
        notes: loaded.notes.clone(),
    })
}
