//! The `quantize` command: quantize tensors with the golden model and report the error.

use crate::error::{Error, Result};
use crate::format::{Formatbook, ScaleFormat};
use crate::golden::stats::ErrorStats;
use crate::golden::{BdConfig, BdQuantizer, FracBits, MxConfig, QuantBlock, Quantizer, Selector};
use crate::io::Tensor;
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::sync::Arc;

/// Names a user can give to `--format`.
pub const FORMAT_NAMES: [&str; 7] = crate::format::OperandFormat::NAMES;

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
    })
}

/// One tensor quantized in one format.
pub struct TensorResult {
    pub stats: ErrorStats,
    /// Zero elements appended to each row to fill its last block.
    pub padded: u64,
    /// Every block, in order, when asked for.
    pub blocks: Option<Vec<QuantBlock>>,
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
}

impl ReportRow {
    pub fn new(
        tensor: Option<&str>,
        format: &str,
        stats: &ErrorStats,
        padded: u64,
        dialects: Option<usize>,
    ) -> ReportRow {
        ReportRow {
            tensor: tensor.map(String::from),
            format: format.to_string(),
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
        }
    }
}

/// The whole report of a `quantize` call.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub input: String,
    pub block_size: usize,
    /// The BlockDialect settings that applied (present when dialectfp4 was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect: Option<DialectSettings>,
    /// The MX shared-exponent rule (present when an MX format was asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<String>,
    pub rows: Vec<ReportRow>,
    pub totals: Vec<ReportRow>,
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

impl Report {
    /// The human-readable table.
    pub fn write_text(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "quantize {} (block size {})",
            self.input, self.block_size
        )?;
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

/// One line of `--codes` output.
#[derive(Serialize)]
pub struct CodesLine<'a> {
    pub tensor: &'a str,
    pub format: &'a str,
    pub block: usize,
    pub scale: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dialect: Option<u8>,
    pub codes: &'a [u32],
}

/// Everything one `quantize` call asks for.
#[derive(Debug, Clone)]
pub struct QuantizeRequest {
    pub input: std::path::PathBuf,
    pub load: crate::io::LoadOptions,
    pub formats: Vec<String>,
    pub opts: QuantizeOptions,
    /// Write every block's codes as JSON lines here.
    pub codes: Option<std::path::PathBuf>,
    /// Write the dequantized tensors here (one format only).
    pub dequantized: Option<std::path::PathBuf>,
    /// Overwrite an existing `codes` or `dequantized` file.
    pub force: bool,
}

pub fn run(req: &QuantizeRequest) -> Result<Report> {
    check_block_size(req.opts.block_size)?;
    if req.formats.is_empty() {
        return Err(Error::input("give at least one --format"));
    }
    let quantizers = req
        .formats
        .iter()
        .map(|f| quantizer_for(f, &req.opts))
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
    for t in tensors {
        check_blocking(t, req.opts.block_size, req.opts.pad)?;
    }
    let total_blocks: u64 = tensors
        .iter()
        .map(|t| (t.rows() * t.row_len().div_ceil(req.opts.block_size)) as u64)
        .sum::<u64>()
        * quantizers.len() as u64;
    let bar = crate::progress::bar(total_blocks, "quantize", "blocks", true);
    let mut rows = Vec::new();
    let mut totals = Vec::new();
    let mut codes_out = Vec::new();
    let mut dequantized = Vec::new();
    let keep = req.codes.is_some() || req.dequantized.is_some();
    for (name, q) in req.formats.iter().zip(&quantizers) {
        let dialects = match q {
            Quantizer::Dialect(d) => Some(d.config.book.len()),
            Quantizer::Mx(_) => None,
        };
        let mut total = ErrorStats::default();
        let mut total_padded = 0;
        for t in tensors {
            let r = quantize_tensor(t, q, &req.opts, keep, &bar)?;
            rows.push(ReportRow::new(
                Some(&t.name),
                name,
                &r.stats,
                r.padded,
                dialects,
            ));
            total.merge(&r.stats);
            total_padded += r.padded;
            if let Some(blocks) = r.blocks {
                if req.dequantized.is_some() {
                    dequantized.push((
                        t.name.clone(),
                        t.shape.clone(),
                        dequantize_tensor(t, q, &blocks),
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
                            codes: &b.codes,
                        };
                        serde_json::to_writer(&mut codes_out, &line).expect("serializable");
                        codes_out.push(b'\n');
                    }
                }
            }
        }
        totals.push(ReportRow::new(None, name, &total, total_padded, dialects));
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
        block_size: req.opts.block_size,
        dialect,
        scale_rule: req
            .formats
            .iter()
            .any(|f| f != "dialectfp4")
            .then(|| req.opts.scale_rule.to_string()),
        rows,
        totals,
        skipped: loaded.skipped.clone(),
        notes: loaded.notes.clone(),
    })
}
