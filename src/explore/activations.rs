//! Activations: their quantization error (DialectFP4 picks dialects online, with the two-stage
//! selector), and the error of weight x activation DotGeneral against an FP64 reference.

use super::{Config, ErrorRow, TensorInfo};
use crate::error::{Error, Result};
use crate::golden::dot::{Accumulation, dot_general};
use crate::golden::{QuantBlock, Quantizer, Selector};
use crate::io::{LoadOptions, Tensor};
use crate::quantize::quantizer_for;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// Weight rows and activation rows sampled per (weight, activation) tensor pair.
const WEIGHT_ROWS: usize = 64;
const ACT_ROWS: usize = 16;

#[derive(Debug, Clone, Serialize)]
pub struct DotErrorRow {
    pub weight: String,
    pub activation: String,
    pub format: String,
    pub block_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<crate::format::ScaleRule>,
    /// Output elements compared (weight rows x activation rows).
    pub outputs: u64,
    /// Of the DotGeneral outputs against sum_i w_i * a_i in FP64 on the unquantized values.
    pub sqnr_db: Option<f64>,
    pub max_abs_err: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActivationReport {
    pub file: String,
    pub tensors: Vec<TensorInfo>,
    pub errors: Vec<ErrorRow>,
    pub dot: Vec<DotErrorRow>,
    pub note: Option<String>,
}

/// Evenly spaced row indices, at most `n` of them.
fn sample_rows(rows: usize, n: usize) -> Vec<usize> {
    let take = rows.min(n);
    (0..take).map(|i| i * rows / take).collect()
}

fn quantize_row(t: &Tensor, row: usize, k: usize, q: &Quantizer) -> Vec<QuantBlock> {
    let n = t.row_len();
    let data = &t.bits[row * n..(row + 1) * n];
    data.chunks(k).map(|c| q.quantize(c)).collect()
}

fn value(bits: u32) -> f64 {
    f64::from(f32::from_bits(bits))
}

pub fn run(
    path: &Path,
    weights: &[Tensor],
    configs: &[Config],
    pad: bool,
    progress: bool,
) -> Result<ActivationReport> {
    // Activations come in any shape (batch x sequence x hidden): blocks along the last axis.
    let acts = crate::io::load(
        path,
        &LoadOptions {
            all_shapes: true,
            ..LoadOptions::default()
        },
    )?
    .tensors;
    let errors = super::errors(
        &acts,
        configs,
        Selector::TwoStage,
        pad,
        "activations",
        progress,
    )?;
    let mut dot = Vec::new();
    let mut skipped = Vec::new();
    for w in weights {
        for a in acts.iter().filter(|a| a.row_len() == w.row_len()) {
            let wr = sample_rows(w.rows(), WEIGHT_ROWS);
            let ar = sample_rows(a.rows(), ACT_ROWS);
            let n = w.row_len();
            // FP64 reference on the unquantized values.
            let reference: Vec<f64> = wr
                .iter()
                .flat_map(|&i| {
                    ar.iter().map(move |&j| {
                        (0..n)
                            .map(|x| value(w.bits[i * n + x]) * value(a.bits[j * n + x]))
                            .sum::<f64>()
                    })
                })
                .collect();
            let rows: Vec<DotErrorRow> = configs
                .par_iter()
                .filter(|c| n.is_multiple_of(c.block_size))
                .map(|c| {
                    let opts = super::quantize_options(c.block_size, Selector::Mse, pad, c.rule());
                    // NVFP4 takes each tensor's own tensor scale.
                    let qw = quantizer_for(&c.format, &opts)?
                        .for_tensor(&w.bits)
                        .into_owned();
                    let opts_a =
                        super::quantize_options(c.block_size, Selector::TwoStage, pad, c.rule());
                    let qa = quantizer_for(&c.format, &opts_a)?
                        .for_tensor(&a.bits)
                        .into_owned();
                    let fw = qw.block_format();
                    let fa = qa.block_format();
                    let wq: Vec<Vec<QuantBlock>> = wr
                        .iter()
                        .map(|&i| quantize_row(w, i, c.block_size, &qw))
                        .collect();
                    let aq: Vec<Vec<QuantBlock>> = ar
                        .iter()
                        .map(|&j| quantize_row(a, j, c.block_size, &qa))
                        .collect();
                    let (mut sig, mut err, mut max) = (0.0f64, 0.0f64, 0.0f64);
                    let mut at = 0;
                    for x in &wq {
                        for y in &aq {
                            let out = f64::from(crate::golden::dot::tensor_scaled(
                                &fw,
                                &fa,
                                dot_general(&fw, x, &fa, y, Accumulation::Fp32 { interleave: 1 }),
                            ));
                            let r = reference[at];
                            at += 1;
                            let e = if out.is_finite() {
                                out - r
                            } else {
                                f64::INFINITY
                            };
                            sig += r * r;
                            err += e * e;
                            max = max.max(e.abs());
                        }
                    }
                    Ok(DotErrorRow {
                        weight: w.name.clone(),
                        activation: a.name.clone(),
                        format: c.format.clone(),
                        block_size: c.block_size,
                        scale_rule: c.scale_rule,
                        outputs: (wq.len() * aq.len()) as u64,
                        sqnr_db: crate::golden::stats::sqnr_db(sig, err),
                        max_abs_err: max,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            dot.extend(rows);
        }
        if !acts.iter().any(|a| a.row_len() == w.row_len()) {
            skipped.push(w.name.clone());
        }
    }
    if acts.is_empty() {
        return Err(Error::input(format!(
            "{}: no activation tensor",
            path.display()
        )));
    }
    Ok(ActivationReport {
        file: path.display().to_string(),
        tensors: acts.iter().map(TensorInfo::of).collect(),
        errors,
        dot,
        note: (!skipped.is_empty()).then(|| {
            format!(
                "no activation rows as long as the rows of {} (no DotGeneral error for them)",
                skipped.join(", ")
            )
        }),
    })
}

impl ActivationReport {
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "\n## Activations ({})\n\nDialectFP4 activations pick dialects online (two-stage selector); weights with the mse selector.\n\n| tensor | format | k | MSE | SQNR dB | saturated |\n|---|---|---|---|---|---|\n",
            self.file
        );
        for r in &self.errors {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {:.2e} |\n",
                r.tensor,
                super::shown(&r.format, r.scale_rule),
                r.block_size,
                crate::golden::stats::show_mse(r.mse),
                crate::golden::stats::show_db(r.sqnr_db),
                r.saturation_rate
            ));
        }
        s.push_str("\n### Weight x activation DotGeneral (FP32 accumulation) against FP64\n\n| weight | activation | format | k | outputs | SQNR dB | max error |\n|---|---|---|---|---|---|---|\n");
        for r in &self.dot {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {:.4e} |\n",
                r.weight,
                r.activation,
                super::shown(&r.format, r.scale_rule),
                r.block_size,
                r.outputs,
                crate::golden::stats::show_db(r.sqnr_db),
                r.max_abs_err
            ));
        }
        if let Some(n) = &self.note {
            s.push_str(&format!("\n{n}\n"));
        }
        s
    }
}
