//! The gemm tile's hardware: its parts' modules (the quantizer's and the dot's own files), the
//! memories, the FP32 pieces, and the top's view-model.

use super::cosim::has_dialect;
use super::{CONVERSION_STAGES, GemmChecked, READ_STAGES};
use crate::emit::bits_for;
use crate::emit::design::{GenFile, Port, module_ports};
use crate::error::Result;
use crate::floor::finish;
use crate::floor::fp32::{self, PIPELINED_ADDER_LATENCY};
use crate::floor::ram::{addr_bits, ram_file};
use crate::format::InputFormat;
use askama::Template;

#[derive(Template)]
#[template(path = "rtl/gemm_top.v", escape = "none")]
struct TopTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    port_decls: String,
    rows: u32,
    cols: u32,
    blocks: u32,
    groups: u32,
    slots: u32,
    beats: u32,
    tscale: bool,
    // ingest
    quant_name: String,
    quant_wires: Vec<String>,
    quant_conns: String,
    qf_depth: u32,
    qf_width: u32,
    qf_pb: u32,
    qf_pack: String,
    qf_unpack: Vec<String>,
    acodes_w: u32,
    acodes_shift: String,
    act_word: String,
    aw: u32,
    ww: u32,
    ab: u32,
    colb: u32,
    row_ids: Vec<u32>,
    /// The rows' write enables, last row first: `q_blk_w` for the row being filled.
    a_we_rows: String,
    b_in_x: String,
    b_x: String,
    slot_v: String,
    w_word: String,
    g_end_o: String,
    og_d: String,
    row_mux: String,
    rb: u32,
    bb: u32,
    gb: u32,
    // memories
    aram: String,
    wrams: Vec<(String, u32)>,
    wab: u32,
    pram: String,
    pw: u32,
    oram: String,
    ob: u32,
    oww: u32,
    ogb: u32,
    // array
    dot_name: String,
    dot_wires: Vec<String>,
    dot_conns: String,
    sum_w: u32,
    exp_w: u32,
    exp_ext: String,
    exp_bias: String,
    tof32_name: String,
    fadd_name: String,
    bf16: bool,
    // result requantizer
    requant: bool,
    rq_name: String,
    rq_wires: Vec<String>,
    rq_conns: String,
    rq_blocks: u32,
    rqb: u32,
    // control pipeline
    depth: u32,
    cw: u32,
    at_dot: u32,
    at_pread: u32,
    at_add: u32,
    nan_delay: u32,
}

#[derive(Template)]
#[template(path = "rtl/gemm_axis.v", escape = "none")]
struct AxisTemplate<'a> {
    banner: &'a str,
    name: &'a str,
    core: &'a str,
    lanes: usize,
    beats_per_row: usize,
    cols: usize,
    requant: bool,
    tscale: bool,
    codes_msb: u32,
    x_msb: u32,
    y_msb: u32,
    col_msb: u32,
    addr_msb: u32,
    data_msb: u32,
}

/// The name of a tile's AXI4-Stream wrapper module.
pub fn axis_name(top: &str) -> String {
    format!("{top}_axis")
}

/// The wire a part's port connects to, per instance: `q_<stem>_w` / `d_<stem>_w`.
fn stem(port: &str) -> &str {
    port.trim_end_matches("_i").trim_end_matches("_o")
}

/// The `width`-bit signal `sig` as `to` bits: zero-extended, or its low bits.
fn fit(sig: &str, width: u32, to: u32) -> String {
    if width > to {
        format!("{sig}[{}:0]", to - 1)
    } else {
        crate::emit::zero_extend(sig, width, to)
    }
}

fn range(w: u32) -> String {
    if w == 1 {
        String::new()
    } else {
        format!("[{}:0] ", w - 1)
    }
}

/// Declarations of a part's output wires, named `<prefix>_<stem>_w`.
fn output_wires(ports: &[Port], prefix: &str) -> Vec<String> {
    ports
        .iter()
        .filter(|p| p.direction == "output")
        .map(|p| format!("wire {}{prefix}_{}_w;", range(p.width), stem(&p.name)))
        .collect()
}

impl GemmChecked {
    pub(super) fn emit_files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        let p = &self.params;
        let mut files = Vec::new();
        // The parts' own files, each with its own banner.
        let quant = self.quant.emit()?;
        let dot = self.dot.emit()?;
        files.extend(quant.files.iter().cloned());
        files.extend(dot.files.iter().cloned());
        let requant = self.requant.as_ref().map(|q| q.emit()).transpose()?;
        if let Some(q) = &requant {
            files.extend(q.files.iter().cloned());
        }

        let (r, c, b, g) = (p.rows, p.cols, p.blocks(), p.groups());
        let k = p.block_size;
        let slots = p.slots();
        let (fx, fw) = (p.format_x, p.format_w);
        let cbx = fx.code_bits();
        let aw = super::GemmParams::word_bits(fx, k);
        let ww = super::GemmParams::word_bits(fw, k);
        let ow = if p.output_format == InputFormat::Bf16 {
            16
        } else {
            32
        };

        // Ingest: the quantizer's ports by name.
        let mut conns = Vec::new();
        for port in &quant.ports {
            let sig = match (port.direction, port.name.as_str()) {
                ("input", "data_i") => "x_i".to_string(),
                ("input", "tensor_scale_i") => "x_tensor_scale_i".to_string(),
                ("input", other) => {
                    unreachable!("the quantizer has an input {other} the tile does not drive")
                }
                (_, name) => format!("qp_{}_w", stem(name)),
            };
            conns.push(format!(".{}({sig})", port.name));
        }
        // The FIFO after the quantizer: one word of all its outputs, first port lowest.
        let outs: Vec<&Port> = quant
            .ports
            .iter()
            .filter(|q| q.direction == "output")
            .collect();
        let qf_width: u32 = outs.iter().map(|q| q.width).sum();
        let mut qf_unpack = Vec::new();
        let mut lo = 0;
        for q in &outs {
            qf_unpack.push(format!(
                "assign q_{}_w = qf_head_w[{}:{lo}];",
                stem(&q.name),
                lo + q.width - 1
            ));
            lo += q.width;
        }
        let qf_pack = format!(
            "{{{}}}",
            outs.iter()
                .rev()
                .map(|q| format!("qp_{}_w", stem(&q.name)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let qf_depth = self.quantizer_fifo_depth();
        let qf_pb = bits_for(u64::from(qf_depth) - 1);
        let hx = aw - cbx * k as u32;
        let header = if has_dialect(fx) {
            "q_dialect_w, q_scale_w"
        } else {
            "q_scale_w"
        };
        let lane_bits = cbx * p.lanes() as u32;
        let acodes_w = cbx * (k - p.lanes()) as u32;
        let act_word = if p.beats() == 1 {
            format!("{{q_codes_w, {header}}}")
        } else {
            format!("{{q_codes_w, acodes_q, {header}}}")
        };
        let acodes_shift = if p.beats() > 2 {
            format!("{{q_codes_w, acodes_q[{}:{lane_bits}]}}", acodes_w - 1)
        } else {
            "q_codes_w".into()
        };

        // The array: the dot's ports by name, A the activation block of row r, B the weight
        // block of column c.
        let hw = ww - fw.code_bits() * k as u32;
        let mut dconns = Vec::new();
        let (mut sum_w, mut exp_w) = (0, 0);
        for port in &dot.ports {
            let sig = match port.name.as_str() {
                "scale_a_i" => format!("a_rd_q[r*{aw} +: 8]"),
                "dialect_a_i" => format!("a_rd_q[r*{aw} + 8 +: 4]"),
                "codes_a_i" => format!("a_rd_q[r*{aw} + {hx} +: {}]", aw - hx),
                "scale_b_i" => format!("w_rd_q[c*{ww} +: 8]"),
                "dialect_b_i" => format!("w_rd_q[c*{ww} + 8 +: 4]"),
                "codes_b_i" => format!("w_rd_q[c*{ww} + {hw} +: {}]", ww - hw),
                "sum_o" => {
                    sum_w = port.width;
                    "d_sum_w".into()
                }
                "exp_o" => {
                    exp_w = port.width;
                    "d_exp_w".into()
                }
                "nan_o" => "d_nan_w".into(),
                other => unreachable!("the dot unit has a port {other} the tile does not connect"),
            };
            dconns.push(format!(".{}({sig})", port.name));
        }
        // The block sum's value is sum * 2^exp; the rounding module takes exp + bias, 9 bits
        // unsigned (scale_a + scale_b: 0..508).
        let bias = 254 - self.fx.quantum_exp() - self.fw.quantum_exp();
        let ew2 = exp_w.max(10);
        let exp_ext = if ew2 > exp_w {
            format!("{{{{{}{{exp1_q[{}]}}}}, exp1_q}}", ew2 - exp_w, exp_w - 1)
        } else {
            "exp1_q".into()
        };
        let tof32_name = format!("{top}_tof32");
        files.push(fp32::pipelined_to_f32_file(
            banner,
            &tof32_name,
            sum_w,
            9,
            i64::from(bias),
        ));
        let fadd_name = format!("{top}_fadd");
        files.extend(fp32::pipelined_adder_files(
            banner,
            &fadd_name,
            &format!("{top}_fadd_round"),
        ));

        // Memories.
        let aram = format!("{top}_aram");
        files.push(ram_file(
            banner,
            &aram,
            "Activation blocks of one tile row, two row groups (banks) of K/k blocks.",
            aw,
            2 * b,
            &[],
        ));
        let mut wrams = Vec::new();
        for col in 0..c {
            let name = format!("{top}_wram{col}");
            let init: Vec<String> = (0..p.weight_words())
                .map(|a| self.images.word_hex(col, a))
                .collect();
            files.push(ram_file(
                banner,
                &name,
                &format!(
                    "Weight blocks of tile column {col}: word g*{b} + blk is block blk of weight row g*{c} + {col}."
                ),
                ww,
                p.weight_words(),
                &init,
            ));
            wrams.push((name, col as u32));
        }
        let pram = format!("{top}_pram");
        let pw = (r * c) as u32 * 32;
        files.push(ram_file(
            banner,
            &pram,
            "Partial sums (FP32) of every tile position, one word per group of weight rows.",
            pw,
            slots,
            &[],
        ));
        let oram = format!("{top}_oram");
        files.push(ram_file(
            banner,
            &oram,
            "Results of one tile row, two row groups (banks) of N/C beats of C values.",
            c as u32 * ow,
            2 * g,
            &[],
        ));

        let depth = self.control_depth();
        let at_add = depth - PIPELINED_ADDER_LATENCY;
        let oww_v = c as u32 * ow;
        let (rq_name, rq_wires, rq_conns) = match &requant {
            None => (String::new(), Vec::new(), String::new()),
            Some(q) => (
                q.top.clone(),
                output_wires(&q.ports, "r"),
                q.ports
                    .iter()
                    .map(|port| match port.name.as_str() {
                        "data_i" => format!(".data_i(q0_q[{}:0])", oww_v - 1),
                        name if port.direction == "output" => {
                            format!(".{name}(r_{}_w)", stem(name))
                        }
                        other => unreachable!("the requantizer has an input {other}"),
                    })
                    .collect::<Vec<_>>()
                    .join(",\n    "),
            ),
        };
        let rq_blocks = (p.out_features / p.out_block()) as u32;
        let gb = bits_for(slots as u64 - 1);
        let (ab, bb, rb) = (
            addr_bits(2 * b),
            bits_for(b as u64 - 1),
            bits_for(r as u64 - 1),
        );
        let (wab, ob, ogb) = (
            addr_bits(p.weight_words()),
            addr_bits(2 * g),
            bits_for(g as u64 - 1),
        );
        let oww = c as u32 * ow;
        // (rd_row_q == 0) ? row 0 : (rd_row_q == 1) ? row 1 : ... : the last row
        let row = |i: usize| {
            format!(
                "o_rd_w[{}:{}]",
                (i + 1) * oww as usize - 1,
                i * oww as usize
            )
        };
        let mut row_mux = row(r - 1);
        for i in (0..r - 1).rev() {
            row_mux = format!("(rd_row2_w == {rb}'d{i}) ? {} : {row_mux}", row(i));
        }
        let t = TopTemplate {
            banner,
            name: top,
            port_decls: module_ports(&self.ports_of()),
            rows: r as u32,
            cols: c as u32,
            blocks: b as u32,
            groups: g as u32,
            slots: slots as u32,
            beats: p.beats() as u32,
            tscale: p.x_nvfp4(),
            quant_name: quant.top.clone(),
            quant_wires: output_wires(&quant.ports, "qp")
                .into_iter()
                .chain(output_wires(&quant.ports, "q"))
                .collect(),
            quant_conns: conns.join(",\n    "),
            qf_depth,
            qf_width,
            qf_pb,
            qf_pack,
            qf_unpack,
            acodes_w,
            acodes_shift,
            act_word,
            aw,
            ww,
            ab,
            colb: p.col_bits(),
            row_ids: (0..r as u32).collect(),
            a_we_rows: format!(
                "{{{}}}",
                (0..r)
                    .rev()
                    .map(|i| format!("q_blk_w & (r_in_q == {rb}'d{i})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            b_in_x: fit("b_in_q", bb, ab),
            b_x: fit("b_q", bb, ab),
            slot_v: if slots == g {
                "busy_q".into()
            } else {
                format!("busy_q & (g_q < {gb}'d{g})")
            },
            // Word g*blocks + b; with one group of weight rows (N = C) g is always 0, and
            // the constant blocks would not fit the address.
            w_word: if g == 1 {
                fit("b_q", bb, wab)
            } else {
                format!(
                    "{wab}'d{b} * {} + {}",
                    fit("g_q", gb, wab),
                    fit("b_q", bb, wab)
                )
            },
            g_end_o: fit("g_end_w", gb, ob),
            og_d: fit("og_d_w", ogb, ob),
            row_mux,
            rb,
            bb,
            gb,
            aram,
            wrams,
            wab,
            pram,
            pw,
            oram,
            ob,
            oww,
            ogb,
            dot_name: dot.top.clone(),
            dot_wires: output_wires(&dot.ports, "d"),
            dot_conns: dconns.join(",\n          "),
            sum_w,
            exp_w: ew2,
            exp_ext,
            exp_bias: format!("{ew2}'d{bias}"),
            tof32_name,
            fadd_name,
            bf16: ow == 16,
            requant: requant.is_some(),
            rq_name,
            rq_wires,
            rq_conns,
            rq_blocks,
            rqb: bits_for(u64::from(rq_blocks) - 1),
            depth,
            cw: gb + 3,
            at_dot: READ_STAGES,
            // The partial sums' memory takes two cycles to meet the adder's other operand.
            at_pread: at_add - 2,
            at_add,
            nan_delay: CONVERSION_STAGES,
        };
        // The wrapper instantiates the top, so it sits before it only in name: tools read
        // the whole list before elaborating.
        let ports = self.ports_of();
        let msb = |name: &str| {
            ports
                .iter()
                .find(|q| q.name == name)
                .map(|q| q.width - 1)
                .expect("the tile's own port")
        };
        let axis = axis_name(top);
        files.push(GenFile::rtl(
            format!("{axis}.v"),
            finish(
                AxisTemplate {
                    banner,
                    name: &axis,
                    core: top,
                    lanes: p.lanes(),
                    beats_per_row: p.blocks() * p.beats(),
                    cols: c,
                    requant: p.requantize.is_some(),
                    tscale: p.x_nvfp4(),
                    codes_msb: if p.requantize.is_some() {
                        msb("codes_o")
                    } else {
                        0
                    },
                    x_msb: msb("x_i"),
                    y_msb: if p.requantize.is_some() {
                        msb("codes_o") + 9
                    } else {
                        msb("y_o")
                    },
                    col_msb: msb("w_col_i"),
                    addr_msb: msb("w_addr_i"),
                    data_msb: msb("w_data_i"),
                }
                .render(),
            ),
        ));
        files.push(GenFile::rtl(format!("{top}.v"), finish(t.render())));
        Ok(files)
    }

    fn ports_of(&self) -> Vec<Port> {
        crate::units::unit::Hardware::ports(self)
    }
}
