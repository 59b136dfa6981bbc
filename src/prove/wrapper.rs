//! The property wrapper around a unit: widths, names and expressions computed here, placed by
//! `templates/formal/fv.v`.

use super::Property;
use super::facts::Facts;
use crate::emit::design::{Design, Port};
use askama::Template;

#[derive(Template)]
#[template(path = "formal/fv.v", escape = "none")]
struct FvTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    property: &'a str,
    dut: &'a str,
    reference: &'a str,
    inputs: Vec<PortView>,
    outputs: Vec<PortView>,
    out_width: u32,
    out_concat: String,
    in_width: u32,
    in_concat: String,
    ref_concat: String,
    in_beats: usize,
    out_beats: usize,
    beat_bits: u32,
    block_bits: u32,
    count_bits: u32,
    capacity: u32,
    beat_count_bits: u32,
    special_expr: String,
    scale_port: &'a str,
    scale_nan: String,
    invalid_expr: String,
    table: Option<TableView>,
}

/// The golden table as a function, and each lane's check against it.
struct TableView {
    in_bits: u32,
    out_bits: u32,
    shared: String,
    /// `idx: value;` lines of the case statement.
    cases: String,
    /// Per lane: (output slice, input slice).
    lanes: Vec<(String, String)>,
}

struct PortView {
    name: String,
    range: String,
}

/// Bits that count 0..=n.
fn bits_for(n: u64) -> u32 {
    (u64::BITS - n.leading_zeros()).max(1)
}

/// The name of the wrapper module.
pub const TOP: &str = "blockrtl_fv";

pub struct Wrapper<'a> {
    pub design: &'a Design,
    pub facts: &'a Facts,
    pub in_beats: usize,
    pub out_beats: usize,
    /// The reference module of the pipeline miter.
    pub reference: &'a str,
    /// Proof depth in cycles (sizes the miter's beat counters).
    pub depth: u32,
}

impl Wrapper<'_> {
    pub fn render(&self, property: Property) -> String {
        let ports = |dir: &str| -> Vec<&Port> {
            self.design
                .ports
                .iter()
                .filter(|p| p.direction == dir)
                .collect()
        };
        let view = |p: &&Port| PortView {
            name: p.name.clone(),
            range: if p.width == 1 {
                String::new()
            } else {
                format!("[{}:0]", p.width - 1)
            },
        };
        let outs = ports("output");
        let ins = ports("input");
        let concat = |list: &[&Port], prefix: &str| {
            format!(
                "{{{}}}",
                list.iter()
                    .map(|p| format!("{prefix}{}", p.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let beats = self.in_beats.max(self.out_beats) as u64;
        let (special_expr, scale_nan) = self.nan_exprs();
        let banner = format!(
            "// {} ({}); property wrapper of {}, regenerate instead of editing.",
            crate::emit::banner::MARKER,
            crate::TOOL,
            self.design.top
        );
        FvTemplate {
            banner: &banner,
            name: TOP,
            property: property.name(),
            dut: &self.design.top,
            reference: self.reference,
            inputs: ins.iter().map(view).collect(),
            outputs: outs.iter().map(view).collect(),
            out_width: outs.iter().map(|p| p.width).sum(),
            out_concat: concat(&outs, ""),
            ref_concat: concat(&outs, "ref_"),
            in_width: ins.iter().map(|p| p.width).sum(),
            in_concat: concat(&ins, ""),
            in_beats: self.in_beats,
            out_beats: self.out_beats,
            beat_bits: bits_for(beats.saturating_sub(1)),
            // Indices must not alias among the blocks in flight (at most the capacity + 1,
            // with the one arriving).
            block_bits: bits_for(u64::from(self.facts.capacity) + 1),
            count_bits: bits_for(u64::from(self.facts.capacity) + 2),
            capacity: self.facts.capacity,
            beat_count_bits: bits_for(u64::from(self.depth) + 1),
            special_expr,
            scale_port: "scale_o",
            scale_nan,
            invalid_expr: self.invalid_expr(),
            // Thousands of case lines: only the wrapper that checks them renders them.
            table: (property == Property::Table)
                .then(|| self.table_view())
                .flatten(),
        }
        .render()
        .expect("the property wrapper renders")
    }

    /// Values per beat of a data port (0 when the unit has no such port).
    fn count_of(&self, port: &str) -> usize {
        self.design
            .ports
            .iter()
            .find(|p| p.name == port)
            .map_or(0, |p| p.count)
    }

    /// A NaN or infinity among the elements of `data_i` (exponent field all ones), or a tensor
    /// scale that is not positive finite; and the NaN scale code.
    fn nan_exprs(&self) -> (String, String) {
        let Some(rule) = &self.facts.nan else {
            return (String::new(), String::new());
        };
        let f = rule.input_format.ieee();
        let w = f.ebits + f.mbits + 1;
        let lanes = self.count_of("data_i");
        let mut terms: Vec<String> = (0..lanes as u32)
            .map(|i| {
                let lo = i * w + f.mbits;
                format!("(&data_i[{}:{lo}])", lo + f.ebits - 1)
            })
            .collect();
        if let Some(ts) = rule.tensor_scale {
            // Negative (sign set, -0 included), zero, infinite or NaN.
            terms.push(format!("{ts}[31] | (&{ts}[30:23]) | ~(|{ts}[30:0])"));
        }
        (
            terms.join(" | "),
            format!("{}'h{:x}", rule.scale_bits, rule.nan_code),
        )
    }

    fn table_view(&self) -> Option<TableView> {
        let t = self.facts.table.as_ref()?;
        let port = |n: &str| self.design.ports.iter().find(|p| p.name == n);
        let (shared, lin, lout) = (port(t.shared)?, port(t.lane_in)?, port(t.lane_out)?);
        let (ib, ob) = (lin.elem_width, lout.elem_width);
        let in_bits = shared.width + ib;
        let hex = (ob as usize).div_ceil(4);
        let cases = t
            .entries
            .iter()
            .enumerate()
            .map(|(i, v)| format!("      {in_bits}'h{i:x}: lane_value = {ob}'h{v:0hex$x};"))
            .collect::<Vec<_>>()
            .join("\n");
        let lanes = (0..lin.count as u32)
            .map(|l| {
                (
                    format!("{}[{}:{}]", lout.name, l * ob + ob - 1, l * ob),
                    format!("{}_w[{}:{}]", lin.name, l * ib + ib - 1, l * ib),
                )
            })
            .collect();
        Some(TableView {
            in_bits,
            out_bits: ob,
            shared: t.shared.to_string(),
            cases,
            lanes,
        })
    }

    /// Any element of `codes_o` equal to a code the format never writes.
    fn invalid_expr(&self) -> String {
        let Some(rule) = &self.facts.codes else {
            return String::new();
        };
        let lanes = self.count_of("codes_o");
        let b = rule.bits;
        (0..lanes as u32)
            .flat_map(|i| {
                rule.invalid
                    .iter()
                    .map(move |c| format!("(codes_o[{}:{}] == {b}'h{c:x})", i * b + b - 1, i * b))
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }
}
