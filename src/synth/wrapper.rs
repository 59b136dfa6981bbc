//! The place-and-route wrapper: units have hundreds of I/O bits, packages have dozens of pins.

use crate::emit::design::Design;
use askama::Template;

/// Output bits XOR-ed into one register of the first reduction level (two LUT4 levels).
const GROUP_BITS: u32 = 16;

#[derive(Template)]
#[template(path = "synth/pnr_wrapper.v", escape = "none")]
struct WrapperTemplate<'a> {
    banner: &'a str,
    top: &'a str,
    dut: &'a str,
    in_width: u32,
    out_width: u32,
    /// (DUT port, the wrapper expression driving or receiving it).
    conns: Vec<(String, String)>,
    /// Part-selects of `dout_q`, one per first-level XOR register.
    groups: Vec<String>,
}

/// The wrapper module's name for a design.
pub fn wrapper_top(design: &Design) -> String {
    format!("{}_pnr", design.top)
}

fn slice(bus: &str, lo: u32, width: u32) -> String {
    if width == 1 {
        format!("{bus}[{lo}]")
    } else {
        format!("{bus}[{}:{lo}]", lo + width - 1)
    }
}

/// Wire every handshake and data port to the input shift register or the output bus.
pub fn wrapper_source(design: &Design) -> String {
    let mut inputs: Vec<(&str, u32)> = vec![("valid_i", 1), ("ready_i", 1)];
    let mut outputs: Vec<(&str, u32)> = vec![("ready_o", 1), ("valid_o", 1)];
    for p in &design.ports {
        match p.direction {
            "input" => inputs.push((&p.name, p.width)),
            _ => outputs.push((&p.name, p.width)),
        }
    }
    let mut conns = Vec::new();
    let mut place = |ports: &[(&str, u32)], bus: &str| -> u32 {
        let mut at = 0;
        for &(name, width) in ports {
            conns.push((name.to_string(), slice(bus, at, width)));
            at += width;
        }
        at
    };
    let in_width = place(&inputs, "sin_q");
    let out_width = place(&outputs, "dout");
    let groups = (0..out_width)
        .step_by(GROUP_BITS as usize)
        .map(|lo| slice("dout_q", lo, GROUP_BITS.min(out_width - lo)))
        .collect();
    let banner = format!(
        "// {} ({}); place-and-route wrapper, not part of the design.",
        crate::emit::banner::MARKER,
        crate::TOOL
    );
    let top = wrapper_top(design);
    WrapperTemplate {
        banner: &banner,
        top: &top,
        dut: &design.top,
        in_width,
        out_width,
        conns,
        groups,
    }
    .render()
    .expect("wrapper template renders")
        + "\n"
}

/// The wrapper's file name (module name and file name match, as linters expect).
pub fn wrapper_file(design: &Design) -> String {
    format!("{}.v", wrapper_top(design))
}
