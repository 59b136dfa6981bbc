//! SVG pictures of an exploration: the Pareto front of SQNR against cost, and SQNR per layer.

use super::{ConfigSummary, ErrorRow};
use crate::error::{Error, Result};
use plotters::prelude::*;

const FONT: &str = "sans-serif";
/// Okabe-Ito: distinguishable for colour-blind readers.
const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
];

fn fail(e: impl std::fmt::Display) -> Error {
    Error::tool(format!("cannot draw the plot: {e}"))
}

/// The configurations no other beats on both axes (less cost, more SQNR), by cost.
pub fn pareto_front(points: &[(f64, f64, String)]) -> Vec<(f64, f64, String)> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let mut front: Vec<(f64, f64, String)> = Vec::new();
    for p in sorted {
        if front.last().is_none_or(|l| p.1 > l.1) {
            front.push(p);
        }
    }
    front
}

/// SQNR (dB) against hardware cost when every configuration has one, else bits per element.
pub fn pareto_svg(configs: &[ConfigSummary], cost_unit: Option<&str>) -> Result<String> {
    let use_cost = cost_unit.is_some() && configs.iter().all(|c| c.cost.is_some());
    let points: Vec<(f64, f64, String)> = configs
        .iter()
        .filter_map(|c| {
            let y = c.sqnr_db?;
            let x = if use_cost {
                c.cost?
            } else {
                c.bits_per_element
            };
            Some((x, y, format!("{} k{}", c.format, c.block_size)))
        })
        .collect();
    let x_desc = if use_cost {
        format!(
            "quantizer + dot unit, {} per element per cycle",
            cost_unit.unwrap_or("")
        )
    } else {
        "bits per element (element + shared scale + dialect id)".to_string()
    };
    let front = pareto_front(&points);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (960, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        let (x0, x1) = span(points.iter().map(|p| p.0));
        let (y0, y1) = span(points.iter().map(|p| p.1));
        let mut chart = ChartBuilder::on(&root)
            .caption("SQNR against cost, one point per configuration", (FONT, 22))
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(fail)?;
        chart
            .configure_mesh()
            .x_desc(x_desc)
            .y_desc("SQNR (dB), whole model")
            .label_style((FONT, 14))
            .draw()
            .map_err(fail)?;
        chart
            .draw_series(LineSeries::new(
                front.iter().map(|p| (p.0, p.1)),
                ShapeStyle::from(&PALETTE[5]).stroke_width(2),
            ))
            .map_err(fail)?
            .label("Pareto front")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], PALETTE[5]));
        // One colour per format (in the legend); the front's points carry their labels.
        let mut formats: Vec<&str> = Vec::new();
        for c in configs {
            if !formats.contains(&c.format.as_str()) {
                formats.push(&c.format);
            }
        }
        for (fi, f) in formats.iter().enumerate() {
            let colour = PALETTE[fi % PALETTE.len()];
            let prefix = format!("{f} k");
            chart
                .draw_series(
                    points
                        .iter()
                        .filter(|p| p.2.starts_with(&prefix))
                        .map(|p| Circle::new((p.0, p.1), 5, colour.filled())),
                )
                .map_err(fail)?
                .label(f.to_string())
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
        }
        chart
            .draw_series(front.iter().map(|p| {
                Text::new(
                    p.2.clone(),
                    (p.0, p.1),
                    (FONT, 13).into_font().color(&BLACK),
                )
            }))
            .map_err(fail)?;
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .label_font((FONT, 14))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(fail)?;
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

/// SQNR per tensor: one bar per format at block size `k`, grouped by tensor.
pub fn layers_svg(errors: &[ErrorRow], formats: &[String], k: usize) -> Result<String> {
    let mut tensors: Vec<&str> = Vec::new();
    for r in errors {
        if !tensors.contains(&r.tensor.as_str()) {
            tensors.push(&r.tensor);
        }
    }
    let value = |t: &str, f: &str| -> Option<f64> {
        errors
            .iter()
            .find(|r| r.tensor == t && r.format == f && r.block_size == k)
            .and_then(|r| r.sqnr_db)
    };
    let all: Vec<f64> = tensors
        .iter()
        .flat_map(|t| formats.iter().filter_map(move |f| value(t, f)))
        .collect();
    let (_, y1) = span(all.iter().copied());
    let y0 = all.iter().copied().fold(0.0f64, f64::min).min(0.0);
    let groups = tensors.len().max(1);
    let mut svg = String::new();
    {
        let width = (240 + 22 * groups * formats.len().max(1)).clamp(700, 2400) as u32;
        let root = SVGBackend::with_string(&mut svg, (width, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(format!("SQNR per tensor, block size {k}"), (FONT, 22))
            .margin(20)
            .x_label_area_size(60)
            .y_label_area_size(60)
            .build_cartesian_2d(0f64..groups as f64, y0..y1)
            .map_err(fail)?;
        let names: Vec<String> = tensors.iter().map(|t| t.to_string()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.floor() as usize;
                if (x - i as f64 - 0.5).abs() < 1e-6 && i < names.len() {
                    names[i].clone()
                } else {
                    String::new()
                }
            })
            .y_desc("SQNR (dB)")
            .label_style((FONT, 13))
            .draw()
            .map_err(fail)?;
        let n = formats.len().max(1) as f64;
        for (fi, f) in formats.iter().enumerate() {
            let colour = PALETTE[fi % PALETTE.len()];
            let bars: Vec<Rectangle<(f64, f64)>> = tensors
                .iter()
                .enumerate()
                .filter_map(|(ti, t)| {
                    let v = value(t, f)?;
                    let left = ti as f64 + 0.1 + 0.8 * fi as f64 / n;
                    let right = left + 0.8 / n * 0.9;
                    Some(Rectangle::new([(left, 0.0), (right, v)], colour.filled()))
                })
                .collect();
            chart
                .draw_series(bars)
                .map_err(fail)?
                .label(f.clone())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.9))
            .label_font((FONT, 13))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(fail)?;
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

/// A plotting range around the values, with a margin so labels stay inside.
fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.12).max(hi.abs() * 0.05).max(0.5);
    (lo - pad, hi + pad)
}
