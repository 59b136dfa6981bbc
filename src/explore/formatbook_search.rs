//! Formatbook search (beyond the paper): under the hardware's constraint (each dialect 8
//! ascending half-unit integers 0..15 starting at 0, at most 16 dialects), find the book that
//! quantizes a model's tensors with the least squared error, starting from DialectFP4.
//!
//! Local search: every move nudges one value of one dialect by one half-unit; a move is kept
//! when it lowers the error on a fixed sample of the training tensors' blocks. The result is
//! then checked on the whole training tensors and never returned if it is worse there than
//! the starting book.

use crate::error::{Error, Result};
use crate::format::formatbook::{DIALECT_VALUES, MAX_DIALECTS, MAX_HALF_UNITS};
use crate::format::{Formatbook, ScaleFormat, ScaleRule};
use crate::golden::stats::ErrorStats;
use crate::golden::{BdConfig, BdQuantizer, FracBits, Quantizer, Selector};
use crate::io::{LoadOptions, Tensor};
use crate::quantize::quantize_tensor;
use indicatif::ProgressBar;
use rayon::prelude::*;
use regex::Regex;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct SearchOptions {
    pub input: PathBuf,
    pub load: LoadOptions,
    pub dialects: usize,
    pub block_size: usize,
    /// Tensors kept out of the search (default: every fourth tensor).
    pub holdout: Option<Regex>,
    pub sample_blocks: usize,
    pub max_rounds: usize,
    pub progress: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SqnrSet {
    pub mxfp4: Option<f64>,
    pub dialectfp4: Option<f64>,
    pub searched: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchReport {
    pub generator: String,
    pub input: String,
    pub block_size: usize,
    pub dialects: usize,
    pub train_tensors: Vec<String>,
    pub holdout_tensors: Vec<String>,
    pub sample_blocks: usize,
    pub rounds: usize,
    pub evaluations: usize,
    /// False when the search found nothing better than its start on the training tensors.
    pub improved: bool,
    pub book: Vec<[u8; DIALECT_VALUES]>,
    pub train_sqnr_db: SqnrSet,
    pub holdout_sqnr_db: Option<SqnrSet>,
    pub seconds: f64,
}

fn quantizer(book: &Formatbook) -> Result<Quantizer> {
    Ok(Quantizer::Dialect(Box::new(BdQuantizer::new(BdConfig {
        book: Arc::new(book.clone()),
        selector: Selector::Mse,
        frac_bits: FracBits::Bits(2),
        scale: ScaleFormat::E8m0,
        flush_subnormals: false,
    })?)))
}

/// Squared error of a book on the sampled blocks (flat, `k` values each).
fn sample_error(book: &Formatbook, blocks: &[u32], k: usize) -> Result<f64> {
    let q = quantizer(book)?;
    let fmt = q.block_format();
    Ok(blocks
        .par_chunks(k * 256)
        .map(|chunk| {
            let mut s = ErrorStats::default();
            for b in chunk.chunks(k) {
                s.add_block(&fmt, b, &q.quantize(b), k);
            }
            s.sum_sq_error
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum())
}

/// Whole-tensor SQNR of a quantizer over several tensors (energies summed).
fn sqnr(tensors: &[&Tensor], q: &Quantizer, k: usize) -> Result<Option<f64>> {
    let opts = super::quantize_options(k, Selector::Mse, true, ScaleRule::Floor);
    let mut total = ErrorStats::default();
    for t in tensors {
        total.merge(&quantize_tensor(t, q, &opts, false, &ProgressBar::hidden())?.stats);
    }
    Ok(total.sqnr_db())
}

fn valid(values: &[u8; DIALECT_VALUES]) -> bool {
    values[0] == 0
        && values.windows(2).all(|w| w[0] < w[1])
        && values[DIALECT_VALUES - 1] <= MAX_HALF_UNITS
}

/// Evenly spaced whole blocks from the tensors, at most `n`.
fn sample(tensors: &[&Tensor], k: usize, n: usize) -> Vec<u32> {
    let mut all: Vec<(usize, usize)> = Vec::new();
    for (ti, t) in tensors.iter().enumerate() {
        let per_row = t.row_len() / k;
        for b in 0..t.rows() * per_row {
            all.push((ti, b));
        }
    }
    let take = all.len().min(n);
    let mut out = Vec::with_capacity(take * k);
    for i in 0..take {
        let (ti, b) = all[i * all.len() / take];
        let t = tensors[ti];
        let per_row = t.row_len() / k;
        let start = (b / per_row) * t.row_len() + (b % per_row) * k;
        out.extend_from_slice(&t.bits[start..start + k]);
    }
    out
}

/// Limits of the search's flags, stated in their --help.
pub const MAX_SAMPLE_BLOCKS: usize = 1 << 20;
pub const MAX_ROUNDS: usize = 1000;

pub fn search(opts: &SearchOptions) -> Result<(Formatbook, SearchReport)> {
    let start = Instant::now();
    if !(1..=MAX_DIALECTS).contains(&opts.dialects) {
        return Err(Error::input(format!(
            "--dialects {}: a 4-bit dialect id allows 1..=16",
            opts.dialects
        )));
    }
    crate::quantize::check_block_size(opts.block_size)?;
    if !(1..=MAX_SAMPLE_BLOCKS).contains(&opts.sample_blocks) {
        return Err(Error::input(format!(
            "--sample-blocks {} must be 1..={MAX_SAMPLE_BLOCKS}",
            opts.sample_blocks
        )));
    }
    if opts.max_rounds > MAX_ROUNDS {
        return Err(Error::input(format!(
            "--max-rounds {} must be at most {MAX_ROUNDS}",
            opts.max_rounds
        )));
    }
    let tensors = crate::io::load(&opts.input, &opts.load)?.tensors;
    let held = |i: usize, t: &Tensor| match &opts.holdout {
        Some(re) => re.is_match(&t.name),
        None => tensors.len() >= 2 && i % 4 == 3,
    };
    let train: Vec<&Tensor> = tensors
        .iter()
        .enumerate()
        .filter(|(i, t)| !held(*i, t))
        .map(|(_, t)| t)
        .collect();
    let holdout: Vec<&Tensor> = tensors
        .iter()
        .enumerate()
        .filter(|(i, t)| held(*i, t))
        .map(|(_, t)| t)
        .collect();
    if train.is_empty() {
        return Err(Error::input(
            "every tensor is held out; nothing is left to search on",
        ));
    }
    let k = opts.block_size;
    if train.iter().all(|t| t.row_len() < k) {
        return Err(Error::input(format!(
            "no training tensor has a row of {k} elements or more"
        )));
    }
    let blocks = sample(&train, k, opts.sample_blocks);
    let dfp4 = Formatbook::dialectfp4();
    let mut evaluations = 0usize;
    let mut eval = |b: &Formatbook| -> Result<f64> {
        evaluations += 1;
        sample_error(b, &blocks, k)
    };
    // Fewer dialects than DialectFP4's 16: drop, one at a time, the dialect whose loss hurts least.
    let mut book = dfp4.clone();
    while book.dialects.len() > opts.dialects {
        let mut best: Option<(f64, usize)> = None;
        for d in 0..book.dialects.len() {
            let mut b = book.clone();
            b.dialects.remove(d);
            let e = eval(&b)?;
            if best.is_none_or(|(be, _)| e < be) {
                best = Some((e, d));
            }
        }
        book.dialects.remove(best.expect("dialects to drop").1);
    }
    book.name = format!("searched{}", opts.dialects);
    let start_book = book.clone();
    let mut err = eval(&book)?;
    let bar = crate::progress::bar(
        opts.max_rounds as u64,
        "formatbook search",
        "rounds",
        opts.progress,
    );
    let mut rounds = 0;
    for _ in 0..opts.max_rounds {
        rounds += 1;
        let mut improved = false;
        for d in 0..book.dialects.len() {
            for i in 1..DIALECT_VALUES {
                for delta in [-1i8, 1] {
                    let mut values = book.dialects[d];
                    let v = values[i] as i8 + delta;
                    if !(0..=MAX_HALF_UNITS as i8).contains(&v) {
                        continue;
                    }
                    values[i] = v as u8;
                    if !valid(&values) || book.dialects.contains(&values) {
                        continue;
                    }
                    let mut cand = book.clone();
                    cand.dialects[d] = values;
                    let e = eval(&cand)?;
                    if e < err {
                        err = e;
                        book = cand;
                        improved = true;
                    }
                }
            }
        }
        bar.inc(1);
        bar.set_message(format!("formatbook search, sample error {err:.4e}"));
        if !improved {
            break;
        }
    }
    bar.finish_and_clear();
    let mx = crate::quantize::quantizer_for(
        "mxfp4",
        &super::quantize_options(k, Selector::Mse, true, ScaleRule::Floor),
    )?;
    let set = |ts: &[&Tensor], searched: &Formatbook| -> Result<SqnrSet> {
        Ok(SqnrSet {
            mxfp4: sqnr(ts, &mx, k)?,
            dialectfp4: sqnr(ts, &quantizer(&dfp4)?, k)?,
            searched: sqnr(ts, &quantizer(searched)?, k)?,
        })
    };
    // The guarantee: on the tensors searched on, never worse than where the search started.
    let start_sqnr = sqnr(&train, &quantizer(&start_book)?, k)?;
    let mut train_set = set(&train, &book)?;
    let key = |v: Option<f64>| v.unwrap_or(f64::INFINITY);
    let improved = key(train_set.searched) > key(start_sqnr);
    if !improved {
        book = start_book;
        train_set.searched = start_sqnr;
    }
    let holdout_set = if holdout.is_empty() {
        None
    } else {
        Some(set(&holdout, &book)?)
    };
    let report = SearchReport {
        generator: crate::TOOL.to_string(),
        input: opts.input.display().to_string(),
        block_size: k,
        dialects: book.dialects.len(),
        train_tensors: train.iter().map(|t| t.name.clone()).collect(),
        holdout_tensors: holdout.iter().map(|t| t.name.clone()).collect(),
        sample_blocks: blocks.len() / k,
        rounds,
        evaluations,
        improved,
        book: book.dialects.clone(),
        train_sqnr_db: train_set,
        holdout_sqnr_db: holdout_set,
        seconds: start.elapsed().as_secs_f64(),
    };
    Ok((book, report))
}

/// The book as a formatbook file `generate --formatbook` and `quantize --formatbook` read.
pub fn book_toml(book: &Formatbook, report: &SearchReport) -> String {
    let mut s = format!(
        "# {} ({}): formatbook searched on {} (block size {}, {} sampled blocks of {}).\n# Values are magnitudes in half-units; use it with --selector mse (it need not have the\n# pair structure the two-stage selector relies on).\nname = \"{}\"\nunit = \"half\"\n",
        crate::emit::banner::MARKER,
        crate::TOOL,
        report.input,
        report.block_size,
        report.sample_blocks,
        report.train_tensors.join(", "),
        book.name
    );
    for (i, d) in book.dialects.iter().enumerate() {
        let vals: Vec<String> = d.iter().map(|v| v.to_string()).collect();
        s.push_str(&format!(
            "\n[[dialect]] # {i}\nvalues = [{}]\n",
            vals.join(", ")
        ));
    }
    s
}

impl SearchReport {
    pub fn markdown(&self) -> String {
        let db = |v: Option<f64>| v.map_or("inf".into(), |d| format!("{d:.3}"));
        let mut s = format!(
            "# Formatbook search on {}\n\nGenerated by {}. Block size {}, {} dialects, {} sampled training blocks, {} rounds, {} evaluations, {:.1} s. {}\n\n| tensors | MXFP4 SQNR dB | DialectFP4 SQNR dB | searched SQNR dB | gain over DialectFP4 | gain over MXFP4 |\n|---|---|---|---|---|---|\n",
            self.input,
            self.generator,
            self.block_size,
            self.dialects,
            self.sample_blocks,
            self.rounds,
            self.evaluations,
            self.seconds,
            if self.improved {
                "The searched book improves on its start on the training tensors."
            } else {
                "Nothing better than the starting book was found; it is returned unchanged."
            }
        );
        let gain = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:+.3} dB", a - b),
            _ => "-".into(),
        };
        let mut line = |name: String, x: &SqnrSet| {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                name,
                db(x.mxfp4),
                db(x.dialectfp4),
                db(x.searched),
                gain(x.searched, x.dialectfp4),
                gain(x.searched, x.mxfp4)
            ));
        };
        line(
            format!("train: {}", self.train_tensors.join(", ")),
            &self.train_sqnr_db,
        );
        if let Some(h) = &self.holdout_sqnr_db {
            line(format!("held out: {}", self.holdout_tensors.join(", ")), h);
        }
        s.push_str("\n| dialect | half-unit values |\n|---|---|\n");
        for (i, d) in self.book.iter().enumerate() {
            s.push_str(&format!("| {i} | {d:?} |\n"));
        }
        s
    }
}

/// The files `explore formatbook` writes into its folder.
pub const OUTPUTS: [&str; 3] = [
    "formatbook.toml",
    "formatbook-report.json",
    "formatbook-report.md",
];

/// Refuse existing outputs in `out` (unless `force`) before the search runs.
pub fn refuse_existing(out: &std::path::Path, force: bool) -> Result<()> {
    std::fs::create_dir_all(out)
        .map_err(|e| Error::input(format!("cannot create --out {}: {e}", out.display())))?;
    for n in OUTPUTS {
        crate::emit::write::check_writable_new(&out.join(n), force)?;
    }
    Ok(())
}

/// Write the book and its report into `out`; returns the Markdown report.
pub fn write_outputs(
    book: &Formatbook,
    report: &SearchReport,
    out: &std::path::Path,
) -> Result<String> {
    let mut json = serde_json::to_string_pretty(report).expect("serializable");
    json.push('\n');
    let md = report.markdown();
    for (n, t) in OUTPUTS
        .iter()
        .zip([book_toml(book, report), json, md.clone()])
    {
        crate::emit::write::write_atomic(&out.join(n), t.as_bytes())?;
    }
    Ok(md)
}
