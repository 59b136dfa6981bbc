//! Verilating a design and its harness, once per configuration: the build is cached under a
//! hash of everything that goes into it.

use super::wave::WaveFormat;
use crate::emit::design::{Design, Port, interface, module_ports};
use crate::emit::layout::{Field, Layout};
use crate::error::{Error, Result};
use askama::Template;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

#[derive(Template)]
#[template(path = "verif/harness.cpp", escape = "none")]
struct HarnessTemplate<'a> {
    banner: &'a str,
    top: &'a str,
    /// The verilated model: the design in its co-simulation wrapper.
    model: &'a str,
    in_beat_bytes: usize,
    out_beat_bytes: usize,
    in_layout: String,
    out_layout: String,
    inputs: Vec<HarnessField>,
    outputs: Vec<HarnessField>,
    default_drain: u64,
}

/// One data port as the harness copies it between records and the model.
struct HarnessField {
    name: String,
    bits: u32,
    bytes: u32,
    count: usize,
    offset: usize,
    /// Values fill their bytes exactly, so the record's bytes are the port's bits: one copy.
    dense: bool,
    total_bytes: usize,
}

impl HarnessField {
    fn of(f: &Field, name: String) -> HarnessField {
        HarnessField {
            name,
            bits: f.bits,
            bytes: f.bytes,
            count: f.count,
            offset: f.offset,
            dense: f.bits == 8 * f.bytes,
            total_bytes: f.count * f.bytes as usize,
        }
    }
}

/// A built harness.
#[derive(Debug, Clone)]
pub struct Built {
    pub binary: PathBuf,
    pub dir: PathBuf,
    pub cached: bool,
    pub seconds: f64,
}

/// The path of an external tool, or a clear error naming the Debian package.
pub fn require_tool(name: &str, package: &str) -> Result<PathBuf> {
    which::which(name).map_err(|_| {
        Error::tool(format!(
            "{name} not found on PATH: install it with `apt-get install {package}` (Debian package {package})"
        ))
    })
}

#[derive(Template)]
#[template(path = "verif/cosim_wrap.v", escape = "none")]
struct WrapperTemplate<'a> {
    banner: &'a str,
    top: &'a str,
    name: &'a str,
    ports: String,
    regs: Vec<WrapperReg>,
    conns: String,
}

/// One data input of the wrapper: the register the design reads and the port that loads it.
struct WrapperReg {
    msb: u32,
    reg: String,
    next: String,
}

impl WrapperReg {
    fn of(port: &str, width: u32) -> WrapperReg {
        let stem = port.strip_suffix("_i").unwrap_or(port);
        WrapperReg {
            msb: width - 1,
            reg: format!("{stem}_q"),
            next: format!("{stem}_next_i"),
        }
    }
}

/// The module the harness verilates: the design behind its input register.
pub fn wrapper_name(top: &str) -> String {
    format!("{top}_cosim")
}

fn generated_banner() -> String {
    format!(
        "// {} ({}); do not edit.",
        crate::emit::banner::MARKER,
        crate::TOOL
    )
}

pub fn wrapper_source(design: &Design) -> String {
    let ports: Vec<Port> = design
        .ports
        .iter()
        .map(|p| match p.direction {
            "input" => Port {
                name: WrapperReg::of(&p.name, p.width).next,
                ..p.clone()
            },
            _ => p.clone(),
        })
        .collect();
    let conns = interface(&design.ports)
        .iter()
        .map(|p| {
            let to = match (p.role, p.direction) {
                ("data", "input") => WrapperReg::of(p.name, p.width).reg,
                _ => p.name.to_string(),
            };
            format!("    .{}({to})", p.name)
        })
        .collect::<Vec<_>>()
        .join(",\n");
    let name = wrapper_name(&design.top);
    WrapperTemplate {
        banner: &generated_banner(),
        top: &design.top,
        name: &name,
        ports: format!(
            "{},\n  {:<6} wire {:<6} load_i",
            module_ports(&ports),
            "input",
            ""
        ),
        regs: design
            .ports
            .iter()
            .filter(|p| p.direction == "input")
            .map(|p| WrapperReg::of(&p.name, p.width))
            .collect(),
        conns,
    }
    .render()
    .expect("wrapper template renders")
        + "\n"
}

pub fn harness_source(design: &Design) -> String {
    let input = Layout::of(&design.ports, "input");
    let output = Layout::of(&design.ports, "output");
    // The harness drives the wrapper's load ports, one beat ahead.
    let inputs = input
        .fields
        .iter()
        .map(|f| HarnessField::of(f, WrapperReg::of(&f.name, 1).next))
        .collect();
    let outputs = output
        .fields
        .iter()
        .map(|f| HarnessField::of(f, f.name.clone()))
        .collect();
    HarnessTemplate {
        banner: &generated_banner(),
        top: &design.top,
        model: &wrapper_name(&design.top),
        in_beat_bytes: input.beat_bytes,
        out_beat_bytes: output.beat_bytes,
        in_layout: input.describe(),
        out_layout: output.describe(),
        inputs,
        outputs,
        default_drain: drain_cycles(design),
    }
    .render()
    .expect("harness template renders")
}

/// Idle cycles after the last input before the harness may stop: the design must have emptied.
pub fn drain_cycles(design: &Design) -> u64 {
    // A block can wait behind every block the unit holds, each taking its cycles.
    u64::from(design.latency)
        + (u64::from(design.capacity) + 2) * design.cycles_per_block as u64
        + 64
}

/// Verilate the design with its harness, or reuse a cached build of the same inputs.
pub fn build(
    design: &Design,
    waves: Option<WaveFormat>,
    timeout: Option<std::time::Duration>,
) -> Result<Built> {
    let verilator = require_tool("verilator", "verilator")?;
    let version = Command::new(&verilator)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let harness = harness_source(design);
    let wrapper = wrapper_source(design);
    let flags: Vec<String> = verilator_flags(design, waves);
    let key = crate::cache::key(&[
        design.hash().as_str(),
        harness.as_str(),
        wrapper.as_str(),
        version.as_str(),
        &flags.join(" "),
    ]);
    let root = crate::cache::root().join("cosim");
    let dir = root.join(format!("{}-{key}", design.top));
    let binary = dir.join("obj").join(format!("V{}_harness", design.top));
    if binary.is_file() {
        return Ok(Built {
            binary,
            dir,
            cached: true,
            seconds: 0.0,
        });
    }
    let start = Instant::now();
    // Build in a private folder and rename it into place, so parallel builds never collide.
    let tmp = crate::cache::scratch(&root, &design.top)?;
    let files = design.write_sources(tmp.path())?;
    crate::cache::write(tmp.path(), "harness.cpp", &harness)?;
    let wrapper_file = format!("{}.v", wrapper_name(&design.top));
    crate::cache::write(tmp.path(), &wrapper_file, &wrapper)?;
    let mut cmd = Command::new(&verilator);
    cmd.current_dir(tmp.path())
        .args(&flags)
        .args(["--Mdir", "obj", "-o"])
        .arg(format!("V{}_harness", design.top))
        .args(&files)
        .arg(&wrapper_file)
        .arg("harness.cpp");
    if std::env::var_os("OBJCACHE").is_none() && which::which("ccache").is_ok() {
        cmd.env("OBJCACHE", "ccache");
    }
    let out = crate::tool_run::output(
        &mut cmd,
        timeout,
        &format!("verilator build of {}", design.top),
    )?;
    if !out.status.success() {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let tail: Vec<&str> = text
            .lines()
            .rev()
            .take(25)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        return Err(Error::tool(format!(
            "verilator build of {} failed:\n{}",
            design.top,
            tail.join("\n")
        )));
    }
    crate::cache::publish(&tmp.keep(), &dir, false);
    Ok(Built {
        binary,
        dir,
        cached: false,
        seconds: start.elapsed().as_secs_f64(),
    })
}

fn verilator_flags(design: &Design, waves: Option<WaveFormat>) -> Vec<String> {
    let mut f: Vec<String> = [
        "--cc",
        "--exe",
        "--build",
        "-j",
        "2",
        "-O3",
        "--x-assign",
        "fast",
        "--x-initial",
        "fast",
        "-Wall",
        "-MAKEFLAGS",
        "OPT_FAST=-O2",
        "-MAKEFLAGS",
        "OPT_GLOBAL=-O2",
        "--top-module",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    f.push(wrapper_name(&design.top));
    if design.user_rtl {
        f.push("-Wno-fatal".into());
    }
    match waves {
        Some(WaveFormat::Fst) => f.push("--trace-fst".into()),
        Some(WaveFormat::Vcd) => f.push("--trace".into()),
        None => {}
    }
    f
}
