//! Sweeps: `--sweep key=v1,v2,...` over any unit parameter, the cartesian product of all axes,
//! and the table of results (JSON, CSV, Markdown).

use super::SynthReport;
use crate::error::{Error, Result};
use crate::units::UnitParams;
use serde::Serialize;

/// One swept parameter and its values, as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<String>,
}

/// Short names users reach for first.
fn canonical_key(key: &str) -> String {
    match key {
        "k" => "block_size".into(),
        other => other.replace('-', "_"),
    }
}

impl Axis {
    pub fn parse(text: &str) -> Result<Axis> {
        let (key, values) = text.split_once('=').ok_or_else(|| {
            Error::input(format!(
                "--sweep '{text}': expected KEY=V1,V2,... (e.g. block_size=16,32,64)"
            ))
        })?;
        let values: Vec<String> = values
            .split(',')
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if key.trim().is_empty() || values.is_empty() {
            return Err(Error::input(format!(
                "--sweep '{text}': needs a key and at least one value"
            )));
        }
        Ok(Axis {
            key: canonical_key(key.trim()),
            values,
        })
    }
}

/// A command-line value as JSON: integers and booleans as such, anything else a string.
fn json_value(v: &str) -> serde_json::Value {
    if let Ok(i) = v.parse::<i64>() {
        return i.into();
    }
    match v {
        "true" => true.into(),
        "false" => false.into(),
        _ => v.into(),
    }
}

/// Every combination of the axes applied to `base`, validated; the first axis varies slowest.
pub fn expand(base: &UnitParams, axes: &[Axis]) -> Result<Vec<UnitParams>> {
    let base_json = serde_json::to_value(base).expect("serializable");
    let mut combos = vec![base_json];
    for axis in axes {
        if axis.key == "unit" {
            return Err(Error::input(
                "--sweep cannot change the unit; run one sweep per unit",
            ));
        }
        let mut next = Vec::new();
        for c in &combos {
            for v in &axis.values {
                let mut c = c.clone();
                c[&axis.key] = json_value(v);
                next.push(c);
            }
        }
        combos = next;
    }
    combos
        .into_iter()
        .map(|c| {
            let p: UnitParams = serde_json::from_value(c.clone())
                .map_err(|e| Error::input(format!("--sweep: {e} (in {})", describe(&c, axes))))?;
            p.validate()
                .map_err(|e| Error::input(format!("--sweep {}: {e}", describe(&c, axes))))?;
            Ok(p)
        })
        .collect()
}

fn describe(c: &serde_json::Value, axes: &[Axis]) -> String {
    axes.iter()
        .map(|a| format!("{}={}", a.key, show(&c[&a.key])))
        .collect::<Vec<_>>()
        .join(" ")
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}

/// One configuration of a sweep: its swept values and its report, or why it failed.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub config: serde_json::Map<String, serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<SynthReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Row {
    pub fn new(params: &UnitParams, axes: &[Axis], result: Result<SynthReport>) -> Row {
        let json = serde_json::to_value(params).expect("serializable");
        let config = axes
            .iter()
            .map(|a| (a.key.clone(), json[&a.key].clone()))
            .collect();
        let (report, error) = match result {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e.to_string().replace('\n', " | "))),
        };
        Row {
            config,
            report,
            error,
        }
    }
}

const METRICS: [&str; 9] = [
    "cells",
    "luts",
    "ffs",
    "carries",
    "dsps",
    "brams",
    "fmax_mhz_median",
    "timing_met",
    "error",
];

/// One row's cells; `missing` stands for a value the row does not have (empty in the CSV, so
/// spreadsheet and dataframe readers see a missing number, not text).
fn cells_of(row: &Row, missing: &str) -> Vec<String> {
    let mut v: Vec<String> = vec![
        row.report
            .as_ref()
            .map(|r| r.top.clone())
            .unwrap_or_else(|| missing.into()),
    ];
    v.extend(row.config.values().map(|c| match c {
        serde_json::Value::Null => missing.to_string(),
        other => show(other),
    }));
    let num = |x: Option<u64>| x.map_or(missing.into(), |n| n.to_string());
    match &row.report {
        Some(r) => {
            v.extend([
                r.area.cells.to_string(),
                num(r.area.luts),
                r.area.ffs.to_string(),
                r.area.carries.to_string(),
                r.area.dsps.to_string(),
                r.area.brams.to_string(),
                r.fmax_mhz_median
                    .map_or(missing.into(), |f| format!("{f:.1}")),
                r.timing_met.map_or(missing.into(), |t| t.to_string()),
                String::new(),
            ]);
        }
        None => {
            v.extend(std::iter::repeat_n(missing.to_string(), METRICS.len() - 1));
            v.push(row.error.clone().unwrap_or_default());
        }
    }
    v
}

fn header(axes: &[Axis]) -> Vec<String> {
    let mut h = vec!["top".to_string()];
    h.extend(axes.iter().map(|a| a.key.clone()));
    h.extend(METRICS.iter().map(|m| m.to_string()));
    h
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn csv(axes: &[Axis], rows: &[Row]) -> String {
    let mut out = String::new();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",")
    };
    out.push_str(&line(header(axes)));
    out.push('\n');
    for r in rows {
        out.push_str(&line(cells_of(r, "")));
        out.push('\n');
    }
    out
}

pub fn markdown(axes: &[Axis], rows: &[Row]) -> String {
    let h = header(axes);
    let mut out = format!("| {} |\n|{}\n", h.join(" | "), "---|".repeat(h.len()));
    for r in rows {
        let cells: Vec<String> = cells_of(r, "-")
            .into_iter()
            .map(|c| c.replace('|', "\\|"))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// The files a sweep writes into its folder.
pub const OUTPUTS: [&str; 3] = ["sweep.json", "sweep.csv", "sweep.md"];

/// A finished sweep: its Markdown table and how many configurations failed.
pub struct SweepRun {
    pub markdown: String,
    pub rows: usize,
    pub failed: usize,
}

/// Synthesize every configuration of `bases` x `axes` in parallel (a progress bar when
/// `progress`), and write `sweep.json`, `sweep.csv` and `sweep.md` into `out`; existing files
/// are refused before any work unless `force`.
pub fn run(
    bases: &[UnitParams],
    axes: &[Axis],
    opts: &super::SynthOptions,
    out: &std::path::Path,
    force: bool,
    progress: bool,
) -> Result<SweepRun> {
    use rayon::prelude::*;
    std::fs::create_dir_all(out)
        .map_err(|e| Error::input(format!("cannot create --out {}: {e}", out.display())))?;
    for n in OUTPUTS {
        crate::emit::write::check_writable_new(&out.join(n), force)?;
    }
    let configs = bases
        .iter()
        .map(|b| expand(b, axes))
        .collect::<Result<Vec<_>>>()?
        .concat();
    // Synthesis time grows with the design, so the bar (and its ETA) advances by each
    // configuration's expected share: the size of its Verilog, a cheap proxy for its logic.
    let designs: Vec<Result<crate::emit::design::Design>> =
        configs.par_iter().map(|p| p.emit()).collect();
    let weight = |d: &Result<crate::emit::design::Design>| -> u64 {
        d.as_ref().map_or(1, |d| {
            d.files
                .iter()
                .map(|f| f.contents.len() as u64)
                .sum::<u64>()
                .max(1)
        })
    };
    let total: u64 = designs.iter().map(weight).sum();
    let what = format!("synth {}", opts.target);
    let bar = crate::progress::weighted_bar(total, progress);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let message = |n: usize| format!("{what}: {n}/{} configurations", configs.len());
    bar.set_message(message(0));
    let rows: Vec<Row> = configs
        .par_iter()
        .zip(designs)
        .map(|(p, d)| {
            let w = weight(&d);
            let result = d.and_then(|d| super::run(&d, opts, &|_| {}));
            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(message(n));
            bar.inc(w);
            Row::new(p, axes, result)
        })
        .collect();
    bar.finish_and_clear();
    let mut json = serde_json::to_string_pretty(&serde_json::json!({
        "generator": crate::TOOL,
        "target": opts.target,
        "sweep": axes.iter().map(|x| (x.key.clone(), x.values.clone())).collect::<Vec<_>>(),
        "rows": rows,
    }))
    .expect("serializable");
    json.push('\n');
    let md = markdown(axes, &rows);
    for (name, text) in OUTPUTS.iter().zip([json, csv(axes, &rows), md.clone()]) {
        crate::emit::write::write_atomic(&out.join(name), text.as_bytes())?;
    }
    Ok(SweepRun {
        markdown: md,
        rows: rows.len(),
        failed: rows.iter().filter(|r| r.error.is_some()).count(),
    })
}
