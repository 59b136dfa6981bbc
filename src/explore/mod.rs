//! `explore`: the golden model's error for every tensor, format and block size, the hardware
//! cost of each configuration's quantizer and dot unit (from `synth`, cached), a mixed-precision
//! assignment per tensor, and plots.

pub mod activations;
pub mod assign;
pub mod formatbook_search;
pub mod plot;

use crate::error::{Error, Result};
use crate::format::{ElementFormat, InputFormat, ScaleFormat, ScaleRule};
use crate::golden::{FracBits, Selector};
use crate::io::{LoadOptions, Tensor};
use crate::quantize::{QuantizeOptions, quantize_tensor, quantizer_for};
use crate::synth::{SynthOptions, Target};
use crate::units::UnitParams;
use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// One point of the design space: a block format, a block size and, for MX formats, the
/// scale rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Config {
    pub format: String,
    pub block_size: usize,
    /// The MX shared-exponent rule (absent for dialectfp4, which has its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<ScaleRule>,
}

/// A format as reports show it: with " rceil" when that rule applies (floor is the default).
pub fn shown(format: &str, rule: Option<ScaleRule>) -> String {
    match rule {
        Some(ScaleRule::Rceil) => format!("{format} rceil"),
        _ => format.to_string(),
    }
}

impl Config {
    pub fn label(&self) -> String {
        format!(
            "{} k{}",
            shown(&self.format, self.scale_rule),
            self.block_size
        )
    }

    pub fn rule(&self) -> ScaleRule {
        self.scale_rule.unwrap_or_default()
    }

    /// Storage per element: the element code, plus the block's shared scale (8 bits) and, for
    /// DialectFP4, its 4-bit dialect id, spread over the block. (NVFP4's FP32 tensor scale is
    /// one per tensor and left out.)
    pub fn bits_per_element(&self) -> f64 {
        let (elem, extra) = if self.format == "dialectfp4" {
            (4.0, 12.0)
        } else if self.format == "nvfp4" {
            (4.0, 8.0)
        } else {
            let f = ElementFormat::ALL
                .into_iter()
                .find(|f| f.mx_name() == self.format)
                .expect("validated format");
            (f64::from(f.bits()), 8.0)
        };
        elem + extra / self.block_size as f64
    }
}

#[derive(Debug, Clone)]
pub struct ExploreOptions {
    pub input: PathBuf,
    pub load: LoadOptions,
    pub formats: Vec<String>,
    pub block_sizes: Vec<usize>,
    /// MX scale rules to compare (each MX format x block size once per rule).
    pub scale_rules: Vec<ScaleRule>,
    pub selector: Selector,
    /// Hardware cost target; None skips synthesis (error only).
    pub synth: Option<SynthOptions>,
    pub budget_bits: Option<f64>,
    pub min_sqnr_db: Option<f64>,
    /// Zero-pad rows that are not a multiple of a block size (otherwise such a tensor is refused).
    pub pad: bool,
    pub activations: Option<PathBuf>,
    pub progress: bool,
}

/// The error of one tensor in one configuration.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorRow {
    pub tensor: String,
    pub format: String,
    pub block_size: usize,
    /// The MX shared-exponent rule (absent for dialectfp4, which has its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<ScaleRule>,
    pub elements: u64,
    pub padded: u64,
    pub bits_per_element: f64,
    /// None (JSON null) when no element was measured (every block NaN).
    pub mse: Option<f64>,
    /// None when the error is exactly zero.
    pub sqnr_db: Option<f64>,
    pub max_abs_err: f64,
    pub saturation_rate: f64,
    pub sum_sq_error: f64,
    pub sum_sq_signal: f64,
}

/// What one configuration costs in hardware (None where synthesis was skipped or failed).
#[derive(Debug, Clone, Serialize)]
pub struct CostRow {
    pub format: String,
    pub block_size: usize,
    /// The MX shared-exponent rule (absent for dialectfp4, which has its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<ScaleRule>,
    pub quantizer_top: Option<String>,
    pub dot_top: Option<String>,
    /// LUTs for FPGA targets, gates for generic: quantizer + dot unit, each taking one block a
    /// cycle.
    pub total: Option<u64>,
    /// `total / block size`: the cost of one element per cycle, so block sizes compare at equal
    /// throughput.
    pub cost: Option<f64>,
    pub cost_unit: String,
    pub quantizer: Option<CostParts>,
    pub dot: Option<CostParts>,
    pub note: Option<String>,
}

/// The configuration a row belongs to.
macro_rules! config_of {
    ($t:ty) => {
        impl $t {
            pub fn config(&self) -> Config {
                Config {
                    format: self.format.clone(),
                    block_size: self.block_size,
                    scale_rule: self.scale_rule,
                }
            }
        }
    };
}
config_of!(ErrorRow);
config_of!(CostRow);
config_of!(assign::Choice);

#[derive(Debug, Clone, Serialize)]
pub struct CostParts {
    pub cells: u64,
    pub luts: Option<u64>,
    pub ffs: u64,
    pub fmax_mhz_median: Option<f64>,
    pub cached: bool,
}

/// Whole-model error of one configuration (signal and error energies summed over tensors).
#[derive(Debug, Clone, Serialize)]
pub struct ConfigSummary {
    pub format: String,
    pub block_size: usize,
    /// The MX shared-exponent rule (absent for dialectfp4, which has its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<ScaleRule>,
    pub bits_per_element: f64,
    pub sqnr_db: Option<f64>,
    /// Hardware cost per element per cycle (see `CostRow::cost`).
    pub cost: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExploreReport {
    pub generator: String,
    pub input: String,
    pub tensors: Vec<TensorInfo>,
    /// Tensors of the checkpoint left out, and why (not matrices, --exclude, not floating).
    pub skipped: Vec<crate::io::Skipped>,
    pub selector: String,
    pub synth_target: Option<String>,
    /// The storage format the quantizer hardware reads: the tensors' most common one.
    pub hardware_input_format: InputFormat,
    pub errors: Vec<ErrorRow>,
    pub configs: Vec<ConfigSummary>,
    pub costs: Vec<CostRow>,
    pub assignment: Option<assign::Assignment>,
    pub activations: Option<activations::ActivationReport>,
    /// Wall-clock times: printed, never written into the reports (which are byte-identical
    /// from run to run).
    #[serde(skip)]
    pub seconds: Timing,
}

#[derive(Debug, Clone, Serialize)]
pub struct TensorInfo {
    pub name: String,
    pub shape: Vec<usize>,
    pub dtype: String,
}

impl TensorInfo {
    pub fn of(t: &Tensor) -> TensorInfo {
        TensorInfo {
            name: t.name.clone(),
            shape: t.shape.clone(),
            dtype: t.dtype.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Timing {
    pub load: f64,
    pub error: f64,
    pub synth: f64,
    pub activations: f64,
}

fn quantize_options(
    block_size: usize,
    selector: Selector,
    pad: bool,
    scale_rule: ScaleRule,
) -> QuantizeOptions {
    QuantizeOptions {
        block_size,
        pad,
        selector,
        frac_bits: FracBits::Bits(2),
        scale: ScaleFormat::E8m0,
        formatbook: None,
        flush_subnormals: false,
        scale_rule,
        nvfp4: Default::default(),
    }
}

pub fn configs(opts: &ExploreOptions) -> Vec<Config> {
    let mut v = Vec::new();
    for f in &opts.formats {
        for &k in &opts.block_sizes {
            // DialectFP4 and NVFP4 have scale rules of their own, not the MX ones.
            if f == "dialectfp4" || f == "nvfp4" {
                v.push(Config {
                    format: f.clone(),
                    block_size: k,
                    scale_rule: None,
                });
                continue;
            }
            for &r in &opts.scale_rules {
                v.push(Config {
                    format: f.clone(),
                    block_size: k,
                    scale_rule: Some(r),
                });
            }
        }
    }
    v
}

pub fn validate(opts: &ExploreOptions) -> Result<()> {
    if opts.formats.is_empty() || opts.block_sizes.is_empty() || opts.scale_rules.is_empty() {
        return Err(Error::input(
            "give at least one format, one block size and one scale rule",
        ));
    }
    for f in &opts.formats {
        if !crate::quantize::FORMAT_NAMES.contains(&f.as_str()) {
            return Err(Error::input(format!(
                "unknown format '{f}' (one of {})",
                crate::quantize::FORMAT_NAMES.join(", ")
            )));
        }
    }
    for &k in &opts.block_sizes {
        crate::quantize::check_block_size(k)?;
    }
    if let Some(b) = opts.budget_bits
        && !(b.is_finite() && b > 0.0)
    {
        return Err(Error::input(format!(
            "--budget-bits-per-element {b} must be a positive number"
        )));
    }
    if let Some(d) = opts.min_sqnr_db
        && !d.is_finite()
    {
        return Err(Error::input(format!(
            "--min-sqnr-db {d} must be a finite number of dB"
        )));
    }
    if opts.budget_bits.is_some() && opts.min_sqnr_db.is_some() {
        return Err(Error::input(
            "give one target: --budget-bits-per-element or --min-sqnr-db",
        ));
    }
    Ok(())
}

/// The error of every tensor in every configuration, in parallel (blocks within a tensor are
/// spread over the cores; the order of results is fixed), with a progress bar named `what`.
pub fn errors(
    tensors: &[Tensor],
    configs: &[Config],
    selector: Selector,
    pad: bool,
    what: &str,
    progress: bool,
) -> Result<Vec<ErrorRow>> {
    // Every tensor must split into every block size (or be padded on request) before any work.
    for c in configs {
        for t in tensors {
            crate::quantize::check_blocking(t, c.block_size, pad)?;
        }
    }
    let blocks: u64 = configs
        .iter()
        .flat_map(|c| {
            tensors
                .iter()
                .map(|t| (t.rows() * t.row_len().div_ceil(c.block_size)) as u64)
        })
        .sum();
    let bar = crate::progress::bar(blocks, what, "blocks", progress);
    let mut rows = Vec::new();
    for c in configs {
        let qopts = quantize_options(c.block_size, selector, pad, c.rule());
        let q = quantizer_for(&c.format, &qopts)?;
        for t in tensors {
            let r = quantize_tensor(t, &q, &qopts, false, &bar)?;
            let s = &r.stats;
            let valid = (s.elements - s.nan_elements).max(1);
            rows.push(ErrorRow {
                tensor: t.name.clone(),
                format: c.format.clone(),
                block_size: c.block_size,
                scale_rule: c.scale_rule,
                elements: s.elements,
                padded: r.padded,
                bits_per_element: c.bits_per_element(),
                mse: s.mse(),
                sqnr_db: s.sqnr_db(),
                max_abs_err: s.max_abs_err,
                saturation_rate: s.saturated as f64 / valid as f64,
                sum_sq_error: s.sum_sq_error,
                sum_sq_signal: s.sum_sq_signal,
            });
        }
    }
    bar.finish_and_clear();
    Ok(rows)
}

/// The most common storage format of the tensors: what the quantizer hardware reads.
fn common_dtype(tensors: &[Tensor]) -> InputFormat {
    let count = |f: InputFormat| tensors.iter().filter(|t| t.dtype == f).count();
    [InputFormat::F32, InputFormat::Bf16, InputFormat::F16]
        .into_iter()
        .max_by_key(|&f| (count(f), f == InputFormat::F32))
        .unwrap_or_default()
}

/// The DialectFP4 selector of the hardware quantizer: it quantizes activations as they stream,
/// where only the two-stage selector is practical; weights are quantized offline (mse).
pub const ONLINE_SELECTOR: Selector = Selector::TwoStage;

/// The quantizer and the dot unit (same format on both sides, one block pair a cycle) of a
/// configuration's datapath, or why it has no hardware. The quantizer is the activations'
/// (DialectFP4: `ONLINE_SELECTOR`); the weights' selector runs offline and adds no hardware.
pub fn units_of(
    c: &Config,
    input: InputFormat,
) -> std::result::Result<(UnitParams, UnitParams), String> {
    let k = c.block_size;
    if !k.is_power_of_two() || !(2..=1024).contains(&k) {
        return Err(format!(
            "block size {k}: the RTL takes powers of two from 2 to 1024"
        ));
    }
    // Everything else at the units' defaults (`units::defaults`), as `generate` would make them.
    let unit = |fields: serde_json::Value| {
        let serde_json::Value::Object(m) = fields else {
            unreachable!("an object literal")
        };
        UnitParams::from_fields(m).map_err(|e| e.to_string())
    };
    let quantizer = if c.format == "nvfp4" {
        unit(serde_json::json!({
            "unit": "nvfp4-quantizer", "block_size": k, "input_format": input,
        }))?
    } else if c.format == "dialectfp4" {
        unit(serde_json::json!({
            "unit": "bd-quantizer", "block_size": k, "input_format": input,
            "selector": ONLINE_SELECTOR,
        }))?
    } else {
        unit(serde_json::json!({
            "unit": "mx-quantizer", "format": c.format, "block_size": k, "input_format": input,
            "scale_rule": c.rule(),
        }))?
    };
    let dot = unit(serde_json::json!({
        "unit": "dot", "format_a": c.format, "format_b": c.format, "block_size": k,
    }))?;
    quantizer.validate().map_err(|e| e.to_string())?;
    dot.validate().map_err(|e| e.to_string())?;
    Ok((quantizer, dot))
}

fn parts(r: &crate::synth::SynthReport) -> CostParts {
    CostParts {
        cells: r.area.cells,
        luts: r.area.luts,
        ffs: r.area.ffs,
        fmax_mhz_median: r.fmax_mhz_median,
        cached: r.cached,
    }
}

/// Synthesize every configuration's quantizer and dot unit (reports cached by `synth`).
pub fn costs(
    configs: &[Config],
    input: InputFormat,
    synth: &SynthOptions,
    bar: &ProgressBar,
) -> Vec<CostRow> {
    let unit = if synth.target == Target::Generic {
        "gates"
    } else {
        "LUTs"
    };
    configs
        .par_iter()
        .map(|c| {
            let mut row = CostRow {
                format: c.format.clone(),
                block_size: c.block_size,
                scale_rule: c.scale_rule,
                quantizer_top: None,
                dot_top: None,
                total: None,
                cost: None,
                cost_unit: unit.into(),
                quantizer: None,
                dot: None,
                note: None,
            };
            match units_of(c, input) {
                Err(why) => row.note = Some(why),
                Ok((q, d)) => {
                    let run = |u: &UnitParams| {
                        u.emit()
                            .and_then(|design| crate::synth::run(&design, synth, &|_| {}))
                    };
                    match (run(&q), run(&d)) {
                        (Ok(rq), Ok(rd)) => {
                            let of =
                                |r: &crate::synth::SynthReport| r.area.luts.unwrap_or(r.area.cells);
                            let total = of(&rq) + of(&rd);
                            row.total = Some(total);
                            row.cost = Some(total as f64 / c.block_size as f64);
                            row.quantizer_top = Some(rq.top.clone());
                            row.dot_top = Some(rd.top.clone());
                            row.quantizer = Some(parts(&rq));
                            row.dot = Some(parts(&rd));
                        }
                        (Err(e), _) | (_, Err(e)) => {
                            row.note = Some(e.to_string().replace('\n', " | "))
                        }
                    }
                }
            }
            bar.inc(1);
            row
        })
        .collect()
}

/// Whole-model SQNR per configuration.
pub fn summaries(configs: &[Config], errors: &[ErrorRow], costs: &[CostRow]) -> Vec<ConfigSummary> {
    configs
        .iter()
        .map(|c| {
            let rows = errors.iter().filter(|r| r.config() == *c);
            let (sig, err) = rows.fold((0.0, 0.0), |(s, e), r| {
                (s + r.sum_sq_signal, e + r.sum_sq_error)
            });
            ConfigSummary {
                format: c.format.clone(),
                block_size: c.block_size,
                scale_rule: c.scale_rule,
                bits_per_element: c.bits_per_element(),
                sqnr_db: crate::golden::stats::sqnr_db(sig, err),
                cost: costs.iter().find(|x| x.config() == *c).and_then(|x| x.cost),
            }
        })
        .collect()
}

pub fn run(opts: &ExploreOptions) -> Result<ExploreReport> {
    validate(opts)?;
    let mut timing = Timing::default();
    let t0 = Instant::now();
    let loaded = crate::io::load(&opts.input, &opts.load)?;
    let (tensors, skipped) = (loaded.tensors, loaded.skipped);
    if tensors.is_empty() {
        return Err(Error::input(format!(
            "{}: no floating-point tensor matched",
            opts.input.display()
        )));
    }
    timing.load = t0.elapsed().as_secs_f64();
    let configs = configs(opts);
    let hardware_input_format = common_dtype(&tensors);
    let t1 = Instant::now();
    let errors = errors(
        &tensors,
        &configs,
        opts.selector,
        opts.pad,
        "error",
        opts.progress,
    )?;
    timing.error = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let costs = match &opts.synth {
        Some(s) => {
            let b = crate::progress::bar(
                configs.len() as u64,
                "synth",
                "configurations",
                opts.progress,
            );
            let c = costs(&configs, hardware_input_format, s, &b);
            b.finish_and_clear();
            c
        }
        None => Vec::new(),
    };
    timing.synth = t2.elapsed().as_secs_f64();
    let assignment = if opts.budget_bits.is_some() || opts.min_sqnr_db.is_some() {
        Some(assign::assign(
            &tensors,
            &errors,
            &costs,
            opts.budget_bits,
            opts.min_sqnr_db,
        )?)
    } else {
        None
    };
    let t3 = Instant::now();
    let activations = match &opts.activations {
        Some(path) => Some(activations::run(
            path,
            &tensors,
            &configs,
            opts.pad,
            opts.progress,
        )?),
        None => None,
    };
    timing.activations = t3.elapsed().as_secs_f64();
    Ok(ExploreReport {
        generator: crate::TOOL.to_string(),
        input: opts.input.display().to_string(),
        tensors: tensors.iter().map(TensorInfo::of).collect(),
        skipped,
        selector: opts.selector.name().to_string(),
        synth_target: opts.synth.as_ref().map(|s| s.target.to_string()),
        hardware_input_format,
        configs: summaries(&configs, &errors, &costs),
        errors,
        costs,
        assignment,
        activations,
        seconds: timing,
    })
}

impl ExploreReport {
    /// What `explore` prints: a line per configuration, and the assignment.
    pub fn summary_lines(&self) -> Vec<String> {
        use crate::golden::stats::show_db;
        let mut v: Vec<String> = self
            .configs
            .iter()
            .map(|c| {
                // A DialectFP4 line names the weights' selector: the numbers depend on it.
                let name = if c.format == "dialectfp4" {
                    format!("dialectfp4 ({})", self.selector)
                } else {
                    shown(&c.format, c.scale_rule)
                };
                format!(
                    "{:<18} k={:<4} {:>6.3} bits/element  SQNR {:>7} dB  cost/element/cycle {}",
                    name,
                    c.block_size,
                    c.bits_per_element,
                    show_db(c.sqnr_db),
                    c.cost.map_or("-".into(), |v| format!("{v:.1}"))
                )
            })
            .collect();
        if let Some(asg) = &self.assignment {
            v.push(format!(
                "assignment ({} = {}): {:.3} bits/element, SQNR {} dB{}",
                asg.target,
                asg.target_value,
                asg.bits_per_element,
                show_db(asg.sqnr_db),
                if asg.all_met {
                    ""
                } else {
                    " (not every tensor meets it)"
                }
            ));
        }
        v
    }

    /// The Markdown report: configurations, per-tensor errors, costs, the assignment.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "# blockrtl explore: {}\n\nGenerated by {}. {} tensor(s); selector {} for dialectfp4.\n\n",
            self.input,
            self.generator,
            self.tensors.len(),
            self.selector
        );
        if !self.skipped.is_empty() {
            let list: Vec<String> = self
                .skipped
                .iter()
                .map(|k| format!("`{}` ({})", k.name, k.reason))
                .collect();
            s.push_str(&format!(
                "Skipped {} tensor(s): {}.\n\n",
                list.len(),
                list.join(", ")
            ));
        }
        s.push_str("![Pareto front](pareto.svg)\n\n![Per-layer SQNR](layers.svg)\n\n");
        s.push_str("## Configurations (whole model)\n\nCost per role, per element per cycle (total / k): the dot unit plus the activation quantizer of the datapath (DialectFP4: the two-stage selector, online); weights are quantized offline (selector above) and add no hardware.\n\n| format | k | bits/element | SQNR dB | cost |\n|---|---|---|---|---|\n");
        for c in &self.configs {
            s.push_str(&format!(
                "| {} | {} | {:.3} | {} | {} |\n",
                shown(&c.format, c.scale_rule),
                c.block_size,
                c.bits_per_element,
                crate::golden::stats::show_db(c.sqnr_db),
                c.cost.map_or("-".into(), |v| format!("{v:.1}"))
            ));
        }
        s.push_str("\n## Per tensor\n\n| tensor | format | k | MSE | SQNR dB | max error | saturated |\n|---|---|---|---|---|---|---|\n");
        for r in &self.errors {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.4e} | {:.2e} |\n",
                r.tensor,
                shown(&r.format, r.scale_rule),
                r.block_size,
                crate::golden::stats::show_mse(r.mse),
                crate::golden::stats::show_db(r.sqnr_db),
                r.max_abs_err,
                r.saturation_rate
            ));
        }
        if !self.costs.is_empty() {
            s.push_str(&format!(
                "\n## Hardware cost ({})\n\n| format | k | quantizer | dot | total | per element/cycle | note |\n|---|---|---|---|---|---|---|\n",
                self.synth_target.as_deref().unwrap_or("-")
            ));
            let show = |p: &Option<CostParts>| {
                p.as_ref().map_or("-".to_string(), |p| {
                    format!(
                        "{} {}",
                        p.luts.unwrap_or(p.cells),
                        if p.luts.is_some() { "LUTs" } else { "gates" }
                    )
                })
            };
            for c in &self.costs {
                s.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} |\n",
                    shown(&c.format, c.scale_rule),
                    c.block_size,
                    show(&c.quantizer),
                    show(&c.dot),
                    c.total.map_or("-".into(), |v| v.to_string()),
                    c.cost.map_or("-".into(), |v| format!("{v:.1}")),
                    c.note.as_deref().unwrap_or("")
                ));
            }
        }
        if let Some(a) = &self.assignment {
            s.push_str(&a.markdown());
        }
        if let Some(a) = &self.activations {
            s.push_str(&a.markdown());
        }
        s
    }
}

/// The assignment as a `generate --config` file: each configuration it uses once, as its
/// quantizer and its dot unit; comments say which tensor uses which.
pub fn assignment_toml(a: &assign::Assignment, input: InputFormat) -> Result<String> {
    #[derive(Serialize)]
    struct ConfigOut<'a> {
        unit: &'a [UnitParams],
    }
    let mut units = Vec::new();
    let mut notes = Vec::new();
    for c in a.configs() {
        match units_of(&c, input) {
            Ok((q, d)) => {
                units.push(q);
                units.push(d);
            }
            Err(why) => notes.push(format!("# {} has no hardware: {why}", c.label())),
        }
    }
    let mut s = format!(
        "# {} ({}): mixed-precision assignment ({} = {}).\n# Generate the hardware with: blockrtl generate --config THIS_FILE --out rtl/\n",
        crate::emit::banner::MARKER,
        crate::TOOL,
        a.target,
        a.target_value
    );
    for c in &a.choices {
        s.push_str(&format!(
            "#   {}: {} k={} ({:.3} bits/element, SQNR {} dB)\n",
            c.tensor,
            shown(&c.format, c.scale_rule),
            c.block_size,
            c.bits_per_element,
            crate::golden::stats::show_db(c.sqnr_db)
        ));
    }
    for n in notes {
        s.push_str(&n);
        s.push('\n');
    }
    s.push('\n');
    s.push_str(
        &toml::to_string(&ConfigOut { unit: &units })
            .map_err(|e| Error::tool(format!("cannot write the assignment: {e}")))?,
    );
    Ok(s)
}

/// Every file `explore` may write into its folder.
pub const OUTPUTS: [&str; 5] = [
    "report.json",
    "report.md",
    "pareto.svg",
    "layers.svg",
    "assignment.toml",
];

/// Refuse (before any work) when `out` already holds one of the report's files, unless `force`.
pub fn refuse_existing(out: &std::path::Path, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    match OUTPUTS.iter().map(|n| out.join(n)).find(|p| p.exists()) {
        Some(p) => Err(Error::input(format!(
            "{} exists; refusing to overwrite it (add --force to replace it)",
            p.display()
        ))),
        None => Ok(()),
    }
}

/// Write report.json, report.md, pareto.svg, layers.svg and (with a target) assignment.toml
/// into `out`, refusing to replace existing files unless `force`.
pub fn write_outputs(
    report: &ExploreReport,
    opts: &ExploreOptions,
    out: &std::path::Path,
    force: bool,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)
        .map_err(|e| Error::input(format!("cannot create --out {}: {e}", out.display())))?;
    let mut files: Vec<(String, String)> = Vec::new();
    let mut json = serde_json::to_string_pretty(report).expect("serializable");
    json.push('\n');
    files.push(("report.json".into(), json));
    files.push(("report.md".into(), report.markdown()));
    let cost_unit = report.costs.first().map(|c| c.cost_unit.as_str());
    files.push((
        "pareto.svg".into(),
        plot::pareto_svg(&report.configs, cost_unit)?,
    ));
    let k = if opts.block_sizes.contains(&32) {
        32
    } else {
        opts.block_sizes[0]
    };
    files.push((
        "layers.svg".into(),
        plot::layers_svg(&report.errors, &opts.formats, k)?,
    ));
    if let Some(a) = &report.assignment {
        files.push((
            "assignment.toml".into(),
            assignment_toml(a, report.hardware_input_format)?,
        ));
    }
    refuse_existing(out, force)?;
    let mut written = Vec::new();
    for (name, text) in &files {
        let p = out.join(name);
        crate::emit::write::write_atomic(&p, text.as_bytes())?;
        written.push(p);
    }
    Ok(written)
}
