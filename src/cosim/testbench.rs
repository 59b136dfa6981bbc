//! A self-checking Verilog testbench with golden vector files, so the RTL also runs on a
//! simulator other than Verilator (Icarus here; any Verilog-2005 simulator in a vendor flow).

use super::CosimOptions;
use crate::emit::design::Design;
use crate::emit::layout::Layout;
use crate::error::{Error, Result};
use crate::units::Checked;
use askama::Template;
use std::path::Path;
use std::process::Command;

#[derive(Template)]
#[template(path = "verif/tb.v", escape = "none")]
struct TbTemplate<'a> {
    banner: &'a str,
    top: &'a str,
    dut: &'a str,
    n_in: usize,
    n_out: usize,
    in_per_block: usize,
    out_per_block: usize,
    stall: u32,
    max_cycles: u64,
    seed: String,
    in_width: u32,
    out_width: u32,
    in_file: &'a str,
    exp_file: &'a str,
    conns: Vec<(String, String)>,
}

/// The files of a testbench: the module and its two vector files.
#[derive(Debug, Clone)]
pub struct Testbench {
    pub top: String,
    pub files: Vec<(String, String)>,
    pub vector_files: Vec<String>,
}

pub fn tb_top(design: &Design) -> String {
    format!("tb_{}", design.top)
}

/// A beat record as one bus, first field's first value in the least significant bits, in hex.
fn beat_hex(layout: &Layout, beat: &[u8]) -> String {
    let width: u32 = layout.fields.iter().map(|f| f.bits * f.count as u32).sum();
    let mut bits = vec![false; width as usize];
    let mut at = 0usize;
    for (f, values) in layout.fields.iter().zip(layout.unpack(beat)) {
        for v in values {
            for b in 0..f.bits {
                bits[at + b as usize] = (v >> b) & 1 == 1;
            }
            at += f.bits as usize;
        }
    }
    let digits = width.div_ceil(4) as usize;
    (0..digits)
        .rev()
        .map(|d| {
            let nib = (0..4).fold(0u32, |acc, b| {
                acc | (u32::from(*bits.get(d * 4 + b).unwrap_or(&false)) << b)
            });
            char::from_digit(nib, 16).expect("a nibble")
        })
        .collect()
}

fn connections(layout: &Layout, bus: &str) -> (Vec<(String, String)>, u32) {
    let mut at = 0;
    let conns = layout
        .fields
        .iter()
        .map(|f| {
            let w = f.bits * f.count as u32;
            let c = (f.name.clone(), format!("{bus}[{}:{at}]", at + w - 1));
            at += w;
            c
        })
        .collect();
    (conns, at)
}

/// A testbench of `blocks` golden-model blocks with `stall_prob` source and sink stalls.
pub fn testbench(unit: &dyn Checked, opts: &CosimOptions) -> Result<Testbench> {
    if !(0.0..1.0).contains(&opts.stall_prob) {
        return Err(Error::input(format!(
            "stall probability {} must be at least 0 and below 1",
            opts.stall_prob
        )));
    }
    let design = opts.design_of(unit)?;
    let (inl, outl) = (
        Layout::of(&design.ports, "input"),
        Layout::of(&design.ports, "output"),
    );
    let (input, expected) = super::vectors(unit, opts, &inl, &outl);
    let n_in = input.len() / inl.beat_bytes;
    let n_out = expected.len() / outl.beat_bytes;
    if n_in == 0 || n_out == 0 {
        return Err(Error::input("a testbench needs at least one block"));
    }
    let hex = |layout: &Layout, data: &[u8]| -> String {
        let mut s = format!("// {} ({})\n", crate::emit::banner::MARKER, crate::TOOL);
        for beat in data.chunks(layout.beat_bytes) {
            s.push_str(&beat_hex(layout, beat));
            s.push('\n');
        }
        s
    };
    let top = tb_top(&design);
    let in_file = format!("{}_in.hex", design.top);
    let exp_file = format!("{}_exp.hex", design.top);
    let (mut conns, in_width) = connections(&inl, "in_w");
    let (out_conns, out_width) = connections(&outl, "out_w");
    conns.extend(out_conns);
    let banner = format!(
        "// {} ({}); testbench, regenerate instead of editing.",
        crate::emit::banner::MARKER,
        crate::TOOL
    );
    // Enough cycles for every beat at the worst stall rate, plus the pipeline.
    let slack = 1.0 / (1.0 - opts.stall_prob).powi(2);
    let max_cycles =
        ((n_in + n_out) as f64 * slack * 4.0) as u64 + 4 * super::build::drain_cycles(&design);
    let tb = TbTemplate {
        banner: &banner,
        top: &top,
        dut: &design.top,
        n_in,
        n_out,
        in_per_block: n_in / opts.blocks as usize,
        out_per_block: n_out / opts.blocks as usize,
        stall: (opts.stall_prob * 256.0).round().min(255.0) as u32,
        max_cycles,
        seed: format!("{:08x}", (opts.seed as u32) | 1),
        in_width,
        out_width,
        in_file: &in_file,
        exp_file: &exp_file,
        conns,
    }
    .render()
    .expect("testbench template renders");
    Ok(Testbench {
        top: top.clone(),
        files: vec![
            (format!("{top}.v"), tb),
            (in_file.clone(), hex(&inl, &input)),
            (exp_file.clone(), hex(&outl, &expected)),
        ],
        vector_files: vec![in_file, exp_file],
    })
}

/// What an Icarus run of a testbench printed, and whether it passed.
pub struct IcarusRun {
    pub passed: bool,
    pub output: String,
}

/// Compile the design and testbench with `iverilog -g2005` and run them with `vvp` in `dir`.
pub fn run_icarus(
    design: &Design,
    tb: &Testbench,
    dir: &Path,
    wave: Option<&super::wave::Wave>,
    timeout: Option<std::time::Duration>,
) -> Result<IcarusRun> {
    let iverilog = super::build::require_tool("iverilog", "iverilog")?;
    let vvp = super::build::require_tool("vvp", "iverilog")?;
    let mut sources = design.write_sources(dir)?;
    for (name, text) in &tb.files {
        crate::cache::write(dir, name, text)?;
    }
    sources.push(format!("{}.v", tb.top));
    let out = crate::tool_run::output(
        Command::new(iverilog)
            .current_dir(dir)
            .args(["-g2005", "-Wall", "-o", "sim.vvp", "-s", &tb.top])
            .args(&sources),
        timeout,
        "iverilog",
    )?;
    if !out.status.success() {
        return Err(Error::tool(format!(
            "iverilog failed on {}: {}",
            design.top,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let mut cmd = Command::new(vvp);
    cmd.current_dir(dir).args(["-n", "sim.vvp"]);
    if let Some(w) = wave {
        // The run's folder is a temporary one: the file goes where it was asked for.
        let path = std::path::absolute(&w.path)
            .map_err(|e| Error::input(format!("--wave {}: {e}", w.path.display())))?;
        if w.format == super::wave::WaveFormat::Fst {
            cmd.arg("-fst");
        }
        cmd.arg(format!("+wave={}", path.display()))
            .arg(format!("+wave_from={}", w.from_block))
            .arg(format!("+wave_blocks={}", w.blocks.unwrap_or(0)));
    }
    let run = crate::tool_run::output(&mut cmd, timeout, "vvp")?;
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let passed = run.status.success()
        && output.lines().any(|l| l.starts_with("PASS "))
        && !output
            .lines()
            .any(|l| l.starts_with("FAIL") || l.starts_with("MISMATCH"));
    Ok(IcarusRun { passed, output })
}

/// What `cosim --simulator icarus` saw.
#[derive(Debug)]
pub struct IcarusCosim {
    pub top: String,
    /// The testbench's own lines (VCD chatter left out).
    pub lines: Vec<String>,
    pub passed: bool,
    pub seconds: f64,
    /// The run's folder, kept when it failed.
    pub kept: Option<std::path::PathBuf>,
}

/// Run `opts.blocks` golden-model blocks of a unit through Icarus with the generated testbench.
pub fn cosim_icarus(unit: &dyn Checked, opts: &CosimOptions) -> Result<IcarusCosim> {
    let design = opts.design_of(unit)?;
    let tb = testbench(unit, opts)?;
    let dir = tempfile::Builder::new()
        .prefix("blockrtl-icarus-")
        .tempdir()
        .map_err(|e| Error::tool(format!("cannot create a temporary folder: {e}")))?;
    let start = std::time::Instant::now();
    let run = run_icarus(
        &design,
        &tb,
        dir.path(),
        opts.wave.as_ref(),
        crate::tool_run::limit(opts.timeout_s),
    )?;
    Ok(IcarusCosim {
        top: design.top.clone(),
        lines: run
            .output
            .lines()
            .filter(|l| !l.starts_with("VCD"))
            .map(String::from)
            .collect(),
        passed: run.passed,
        seconds: start.elapsed().as_secs_f64(),
        kept: (!run.passed).then(|| dir.keep()),
    })
}
