//! Mixed precision per tensor: meet an SQNR floor at least hardware cost, or spend a storage
//! budget (bits per element over the model) where it buys the most error.

use super::{Config, CostRow, ErrorRow};
use crate::error::{Error, Result};
use crate::io::Tensor;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Choice {
    pub tensor: String,
    pub format: String,
    pub block_size: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale_rule: Option<crate::format::ScaleRule>,
    pub elements: u64,
    pub bits_per_element: f64,
    pub sqnr_db: Option<f64>,
    /// Per element per cycle.
    pub cost: Option<f64>,
    /// Whether this tensor meets the SQNR floor (always true under a bits budget).
    pub met: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Assignment {
    /// "min_sqnr_db" or "budget_bits_per_element".
    pub target: String,
    pub target_value: f64,
    pub choices: Vec<Choice>,
    /// Element-weighted over the model.
    pub bits_per_element: f64,
    pub sqnr_db: Option<f64>,
    pub all_met: bool,
}

fn cost_of(costs: &[CostRow], r: &ErrorRow) -> Option<f64> {
    costs
        .iter()
        .find(|c| c.config() == r.config())
        .and_then(|c| c.cost)
}

fn choice(r: &ErrorRow, costs: &[CostRow], met: bool) -> Choice {
    Choice {
        tensor: r.tensor.clone(),
        format: r.format.clone(),
        block_size: r.block_size,
        scale_rule: r.scale_rule,
        elements: r.elements,
        bits_per_element: r.bits_per_element,
        sqnr_db: r.sqnr_db,
        cost: cost_of(costs, r),
        met,
    }
}

/// Higher is better; an exact (error-free) result beats any finite SQNR.
fn sqnr_key(r: &ErrorRow) -> f64 {
    r.sqnr_db.unwrap_or(f64::INFINITY)
}

pub fn assign(
    tensors: &[Tensor],
    errors: &[ErrorRow],
    costs: &[CostRow],
    budget: Option<f64>,
    min_sqnr: Option<f64>,
) -> Result<Assignment> {
    let per_tensor: Vec<Vec<&ErrorRow>> = tensors
        .iter()
        .map(|t| errors.iter().filter(|r| r.tensor == t.name).collect())
        .collect();
    let choices = match (budget, min_sqnr) {
        (_, Some(floor)) => per_tensor
            .iter()
            .map(|rows| {
                // Cheapest configuration that meets the floor: hardware cost where known, then
                // storage, then the better SQNR; if none meets it, the best SQNR there is.
                let meeting = rows.iter().filter(|r| sqnr_key(r) >= floor).min_by(|a, b| {
                    let ca = cost_of(costs, a).unwrap_or(f64::INFINITY);
                    let cb = cost_of(costs, b).unwrap_or(f64::INFINITY);
                    ca.total_cmp(&cb)
                        .then(a.bits_per_element.total_cmp(&b.bits_per_element))
                        .then(sqnr_key(b).total_cmp(&sqnr_key(a)))
                });
                match meeting {
                    Some(r) => choice(r, costs, true),
                    None => {
                        let best = rows
                            .iter()
                            .max_by(|a, b| sqnr_key(a).total_cmp(&sqnr_key(b)))
                            .expect("every tensor has rows");
                        choice(best, costs, false)
                    }
                }
            })
            .collect::<Vec<_>>(),
        (Some(b), None) => greedy_budget(&per_tensor, costs, b)?,
        (None, None) => unreachable!("assign needs a target"),
    };
    let total: u64 = choices.iter().map(|c| c.elements).sum();
    let bits = choices
        .iter()
        .map(|c| c.bits_per_element * c.elements as f64)
        .sum::<f64>()
        / total.max(1) as f64;
    let (sig, err) = choices.iter().fold((0.0, 0.0), |(s, e), c| {
        let r = errors
            .iter()
            .find(|r| r.tensor == c.tensor && r.config() == c.config())
            .expect("chosen from the rows");
        (s + r.sum_sq_signal, e + r.sum_sq_error)
    });
    Ok(Assignment {
        target: if min_sqnr.is_some() {
            "min_sqnr_db".into()
        } else {
            "budget_bits_per_element".into()
        },
        target_value: min_sqnr.or(budget).unwrap_or_default(),
        all_met: choices.iter().all(|c| c.met),
        bits_per_element: bits,
        sqnr_db: crate::golden::stats::sqnr_db(sig, err),
        choices,
    })
}

/// Start every tensor at its fewest bits, then repeatedly take the upgrade that removes the
/// most squared error per added bit while the model's average stays within the budget.
fn greedy_budget(
    per_tensor: &[Vec<&ErrorRow>],
    costs: &[CostRow],
    budget: f64,
) -> Result<Vec<Choice>> {
    let total: f64 = per_tensor
        .iter()
        .map(|rows| rows[0].elements as f64)
        .sum::<f64>()
        .max(1.0);
    let mut pick: Vec<usize> = per_tensor
        .iter()
        .map(|rows| {
            (0..rows.len())
                .min_by(|&a, &b| {
                    rows[a]
                        .bits_per_element
                        .total_cmp(&rows[b].bits_per_element)
                        .then(rows[a].sum_sq_error.total_cmp(&rows[b].sum_sq_error))
                })
                .expect("rows")
        })
        .collect();
    let used = |pick: &[usize]| -> f64 {
        per_tensor
            .iter()
            .zip(pick)
            .map(|(rows, &i)| rows[i].bits_per_element * rows[i].elements as f64)
            .sum::<f64>()
            / total
    };
    if used(&pick) > budget + 1e-12 {
        return Err(Error::input(format!(
            "--budget-bits-per-element {budget}: even the smallest configurations take {:.3} bits per element",
            used(&pick)
        )));
    }
    loop {
        let now = used(&pick);
        let mut best: Option<(f64, usize, usize)> = None;
        for (t, rows) in per_tensor.iter().enumerate() {
            let cur = rows[pick[t]];
            for (i, r) in rows.iter().enumerate() {
                let gain = cur.sum_sq_error - r.sum_sq_error;
                let extra = (r.bits_per_element - cur.bits_per_element) * r.elements as f64;
                if gain <= 0.0 || now + extra.max(0.0) / total > budget + 1e-12 {
                    continue;
                }
                // Free or cheaper-and-better moves first, then error removed per bit.
                let score = if extra <= 0.0 {
                    f64::INFINITY
                } else {
                    gain / extra
                };
                if best.is_none_or(|(s, _, _)| score > s) {
                    best = Some((score, t, i));
                }
            }
        }
        match best {
            Some((_, t, i)) => pick[t] = i,
            None => break,
        }
    }
    Ok(per_tensor
        .iter()
        .zip(&pick)
        .map(|(rows, &i)| choice(rows[i], costs, true))
        .collect())
}

impl Assignment {
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "\n## Mixed-precision assignment ({} = {})\n\nModel: {:.3} bits per element, SQNR {} dB{}.\n\n| tensor | format | k | bits/element | SQNR dB | cost | meets |\n|---|---|---|---|---|---|---|\n",
            self.target,
            self.target_value,
            self.bits_per_element,
            crate::golden::stats::show_db(self.sqnr_db),
            if self.all_met {
                ""
            } else {
                "; some tensors cannot meet the target with these formats"
            }
        );
        for c in &self.choices {
            s.push_str(&format!(
                "| {} | {} | {} | {:.3} | {} | {} | {} |\n",
                c.tensor,
                super::shown(&c.format, c.scale_rule),
                c.block_size,
                c.bits_per_element,
                crate::golden::stats::show_db(c.sqnr_db),
                c.cost.map_or("-".into(), |v| format!("{v:.1}")),
                if c.met { "yes" } else { "no" }
            ));
        }
        s
    }

    /// The configurations the assignment uses, once each, in first-use order.
    pub fn configs(&self) -> Vec<Config> {
        let mut v: Vec<Config> = Vec::new();
        for c in &self.choices {
            let cfg = c.config();
            if !v.contains(&cfg) {
                v.push(cfg);
            }
        }
        v
    }
}
