//! SVG pictures of an exploration: the Pareto front of SQNR against cost, and SQNR per layer.

use super::{ConfigSummary, ErrorRow};
use crate::error::{Error, Result};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
        let title = if use_cost {
            "SQNR against hardware cost, one point per configuration"
        } else {
            "SQNR against bits per element, one point per configuration"
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 22))
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
        // Every point is labelled: the front's in black, the others in grey, each beside its
        // dot where it overlaps no label already placed.
        let pixels: Vec<(i32, i32)> = points
            .iter()
            .map(|p| chart.backend_coord(&(p.0, p.1)))
            .collect();
        let offsets = place_labels(
            &pixels,
            &points.iter().map(|p| p.2.as_str()).collect::<Vec<_>>(),
        );
        chart
            .draw_series(points.iter().zip(offsets).map(|(p, off)| {
                let on_front = front.iter().any(|f| f.2 == p.2);
                let colour = if on_front { BLACK } else { PALETTE[6] };
                EmptyElement::at((p.0, p.1))
                    + Text::new(p.2.clone(), off, (FONT, 13).into_font().color(&colour))
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

/// The longest prefix every name shares, cut after a `.` (so `model.layers.` but never half a
/// word); empty when there is one name or none in common.
fn common_prefix<'a>(names: &[&'a str]) -> &'a str {
    let Some(first) = names.first() else {
        return "";
    };
    if names.len() < 2 {
        return "";
    }
    let mut end = first.len();
    for n in &names[1..] {
        end = end.min(
            first
                .bytes()
                .zip(n.bytes())
                .take_while(|(a, b)| a == b)
                .count(),
        );
    }
    first[..end].rfind('.').map_or("", |dot| &first[..=dot])
}

/// A label of at most `max` characters: long names keep their start and their end.
fn shorten(name: &str, max: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= max {
        return name.to_string();
    }
    let head = (max - 1) / 3;
    let tail = max - 1 - head;
    let mut s: String = chars[..head].iter().collect();
    s.push('…');
    s.extend(&chars[chars.len() - tail..]);
    s
}

/// SQNR per tensor at block size `k`: one row of horizontal bars per tensor (one bar per
/// format), names on the left without their common prefix, the legend above the plot.
pub fn layers_svg(errors: &[ErrorRow], formats: &[String], k: usize) -> Result<String> {
    const LABEL_CHARS: usize = 48;
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
    let (_, x1) = span(all.iter().copied());
    let x0 = all.iter().copied().fold(0.0f64, f64::min).min(0.0);
    let prefix = common_prefix(&tensors);
    let labels: Vec<String> = tensors
        .iter()
        .map(|t| shorten(&t[prefix.len()..], LABEL_CHARS))
        .collect();
    let rows = tensors.len().max(1);
    let per_row = 10 * formats.len().max(1) as u32 + 10;
    let label_px = 40 + 7 * labels.iter().map(|l| l.chars().count()).max().unwrap_or(8) as u32;
    let (width, legend_h) = (1100u32, 60u32);
    let height = legend_h + 90 + per_row * rows as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(fail)?;
        let (top, plot) = root.split_vertically(legend_h);
        let title = if prefix.is_empty() {
            format!("SQNR per tensor, block size {k}")
        } else {
            format!("SQNR per tensor, block size {k} (names after \"{prefix}\")")
        };
        top.draw(&Text::new(
            title,
            (20, 8),
            (FONT, 20).into_font().color(&BLACK),
        ))
        .map_err(fail)?;
        // The legend: a row of swatches above the plot, where it covers nothing.
        let mut x = 20i32;
        for (fi, f) in formats.iter().enumerate() {
            let colour = PALETTE[fi % PALETTE.len()];
            top.draw(&Rectangle::new([(x, 38), (x + 14, 52)], colour.filled()))
                .map_err(fail)?;
            top.draw(&Text::new(f.clone(), (x + 20, 38), (FONT, 14)))
                .map_err(fail)?;
            x += 30 + 8 * f.len() as i32;
        }
        let mut chart = ChartBuilder::on(&plot)
            .margin(20)
            .x_label_area_size(50)
            .y_label_area_size(label_px)
            .build_cartesian_2d(x0..x1, 0f64..rows as f64)
            .map_err(fail)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_desc("SQNR (dB), higher is better")
            .label_style((FONT, 13))
            .draw()
            .map_err(fail)?;
        let n = formats.len().max(1) as f64;
        // Row ti from the top: y in [rows - ti - 1, rows - ti).
        let row_y = |ti: usize| (rows - ti - 1) as f64;
        for (fi, f) in formats.iter().enumerate() {
            let colour = PALETTE[fi % PALETTE.len()];
            let bars: Vec<Rectangle<(f64, f64)>> = tensors
                .iter()
                .enumerate()
                .filter_map(|(ti, t)| {
                    let v = value(t, f)?;
                    let top = row_y(ti) + 0.9 - 0.8 * fi as f64 / n;
                    let bottom = top - 0.8 / n * 0.85;
                    Some(Rectangle::new([(0.0, bottom), (v, top)], colour.filled()))
                })
                .collect();
            chart.draw_series(bars).map_err(fail)?;
        }
        let label_font = (FONT, 13)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (ti, t) in tensors.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(x0, row_y(ti) + 0.5));
            // backend_coord is in the whole picture's pixels, so the label goes on the root.
            root.draw(&Text::new(
                labels[ti].clone(),
                (px - 8, py),
                label_font.clone(),
            ))
            .map_err(fail)?;
            // Say why a row has no bar instead of leaving it blank.
            if formats.iter().all(|f| value(t, f).is_none()) {
                chart
                    .draw_series(std::iter::once(Text::new(
                        "no finite SQNR: exact in every format, or every block NaN",
                        (x0 + (x1 - x0) * 0.02, row_y(ti) + 0.6),
                        (FONT, 12).into_font().color(&PALETTE[6]),
                    )))
                    .map_err(fail)?;
            }
        }
        root.present().map_err(fail)?;
    }
    Ok(svg)
}

/// Pixel offsets (from each point) of its label, chosen greedily so that no two labels and no
/// label and dot overlap where a free spot is near: right or left of the dot, then further up
/// or down. A label is about 7 px a character wide and 14 px high at the plots' font.
fn place_labels(at: &[(i32, i32)], labels: &[&str]) -> Vec<(i32, i32)> {
    type Rect = (i32, i32, i32, i32);
    let overlaps = |a: Rect, b: Rect| a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
    let dots: Vec<Rect> = at
        .iter()
        .map(|&(x, y)| (x - 5, y - 5, x + 5, y + 5))
        .collect();
    let mut placed: Vec<Rect> = Vec::new();
    let mut out = Vec::with_capacity(at.len());
    for (&(x, y), label) in at.iter().zip(labels) {
        let w = 7 * label.chars().count() as i32;
        let candidates = [
            (8, -16),
            (8, 2),
            (-w - 8, -16),
            (-w - 8, 2),
            (8, -32),
            (8, 18),
            (-w - 8, -32),
            (-w - 8, 18),
        ];
        let fits = |&(dx, dy): &(i32, i32)| {
            let r = (x + dx, y + dy, x + dx + w, y + dy + 14);
            !placed.iter().chain(&dots).any(|&o| overlaps(r, o))
        };
        let (dx, dy) = candidates
            .iter()
            .copied()
            .find(fits)
            .unwrap_or(candidates[0]);
        placed.push((x + dx, y + dy, x + dx + w, y + dy + 14));
        out.push((dx, dy));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_shared_prefix_at_a_dot_and_long_ones_their_middle() {
        let names = ["model.layers.0.mlp.weight", "model.layers.1.attn.weight"];
        assert_eq!(common_prefix(&names), "model.layers.");
        // Never half a word: "model.lm" and "model.layers" share "model.l", cut at the dot.
        assert_eq!(
            common_prefix(&["model.lm_head", "model.layers.0"]),
            "model."
        );
        assert_eq!(common_prefix(&["a.b"]), "");
        assert_eq!(shorten("short", 10), "short");
        let s = shorten("0123456789abcdefghij", 10);
        assert_eq!(s.chars().count(), 10);
        assert!(s.starts_with("012") && s.ends_with("fghij"), "{s}");
    }

    #[test]
    fn labels_of_nearby_points_go_where_they_do_not_overlap() {
        let at = [(100, 100), (104, 100), (100, 104)];
        let off = place_labels(&at, &["mxfp8 k16", "mxfp8 k32", "mxfp8 k64"]);
        let boxes: Vec<(i32, i32, i32, i32)> = at
            .iter()
            .zip(&off)
            .map(|(&(x, y), &(dx, dy))| (x + dx, y + dy, x + dx + 63, y + dy + 14))
            .collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let overlap = a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
                assert!(!overlap, "{a:?} {b:?}");
            }
        }
    }
}
