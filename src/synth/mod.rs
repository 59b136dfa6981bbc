//! `synth`: what a unit costs and how fast it runs on an FPGA. Yosys maps the unit (area is the
//! unit's own module), nextpnr places and routes it inside a pin-saving wrapper (Fmax), and the
//! report is cached under a hash of everything that went in, so asking again is instant.

pub mod pnr;
pub mod stat;
pub mod sweep;
pub mod tools;
pub mod wrapper;

use crate::emit::design::Design;
use crate::error::{Error, Result};
use pnr::{Part, PnrRun, Use};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use stat::Area;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Bumped whenever the flow (scripts, wrapper, report fields) changes, so old cache entries
/// are not reused.
const FLOW_VERSION: &str = "synth-flow-2";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Generic,
    Ice40,
    Ecp5,
    Xilinx,
}

impl Target {
    pub const ALL: [Target; 4] = [Target::Generic, Target::Ice40, Target::Ecp5, Target::Xilinx];

    pub fn name(self) -> &'static str {
        match self {
            Target::Generic => "generic",
            Target::Ice40 => "ice40",
            Target::Ecp5 => "ecp5",
            Target::Xilinx => "xilinx",
        }
    }

    fn places(self) -> bool {
        matches!(self, Target::Ice40 | Target::Ecp5)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Target, String> {
        Target::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| format!("unknown target '{s}' (generic, ice40, ecp5 or xilinx)"))
    }
}

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub target: Target,
    /// Device for ice40/ecp5 (default: hx8k:ct256, 85k:CABGA381).
    pub part: Option<Part>,
    /// Xilinx family for `synth_xilinx -family` (xc7, xcup, xcu, ...).
    pub family: String,
    /// The clock nextpnr aims at (it reports what it achieved either way).
    pub freq_mhz: f64,
    /// Place-and-route seeds 1..=seeds.
    pub seeds: u32,
    /// Keep multipliers out of DSP blocks (ecp5, xilinx).
    pub no_dsp: bool,
    /// ecp5: build the floor's memories from DP16KD block RAMs with their output register
    /// (`floor::ram::ecp5_ram_source`) instead of the ones Yosys infers, which have none.
    pub ecp5_bram_outreg: bool,
    /// Reuse a cached report of the same inputs.
    pub use_cache: bool,
    /// Limit of each tool run in seconds (0: none); a run past it fails its configuration.
    pub timeout_s: u64,
}

impl SynthOptions {
    pub fn new(target: Target) -> SynthOptions {
        SynthOptions {
            target,
            part: Part::default_for(target),
            family: "xc7".into(),
            freq_mhz: 100.0,
            seeds: 1,
            no_dsp: false,
            ecp5_bram_outreg: false,
            use_cache: true,
            timeout_s: crate::tool_run::DEFAULT_TIMEOUT_S,
        }
    }

    /// How the floor's memories are built: as Yosys infers them, or from DP16KD block RAMs
    /// with their output register.
    pub fn memories(&self) -> &'static str {
        if self.ecp5_bram_outreg {
            "dp16kd-outreg"
        } else {
            "inferred"
        }
    }

    pub fn validate(&self) -> Result<()> {
        if !(self.freq_mhz.is_finite() && self.freq_mhz > 0.0 && self.freq_mhz <= 2000.0) {
            return Err(Error::input(format!(
                "--freq {} must be a clock in MHz above 0 and at most 2000",
                self.freq_mhz
            )));
        }
        if !(1..=32).contains(&self.seeds) {
            return Err(Error::input(format!(
                "--seeds {} must be 1..=32",
                self.seeds
            )));
        }
        if self.target.places() != self.part.is_some() {
            return Err(Error::input(format!(
                "target {} {} a --part",
                self.target,
                if self.target.places() {
                    "needs"
                } else {
                    "takes no"
                }
            )));
        }
        if self.ecp5_bram_outreg && self.target != Target::Ecp5 {
            return Err(Error::input(format!(
                "--ecp5-bram-outreg is for the ecp5 target, not {}",
                self.target
            )));
        }
        if !self.family.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::input(format!(
                "xilinx family '{}' must be letters and digits (xc7, xcup, xcu)",
                self.family
            )));
        }
        Ok(())
    }
}

/// What `synth` measured for one design on one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SynthReport {
    pub top: String,
    pub unit: String,
    pub parameters: serde_json::Value,
    pub target: Target,
    /// ice40/ecp5 part, or the xilinx family.
    pub device: Option<String>,
    /// The unit alone: Yosys cells of its own module (for ice40/ecp5 synthesized inside the
    /// wrapper but kept as a separate module, so the wrapper is not counted).
    #[serde(flatten)]
    pub area: Area,
    /// Achieved Fmax per seed, of the unit inside the place-and-route wrapper.
    pub fmax_mhz: Vec<f64>,
    pub fmax_mhz_median: Option<f64>,
    pub freq_target_mhz: Option<f64>,
    /// Whether the median Fmax reaches the target frequency (placed targets only): always
    /// `met()`, written out for readers of the JSON, recomputed for reports read back.
    #[serde(default)]
    pub timing_met: Option<bool>,
    pub seeds: Vec<u64>,
    /// Device resources nextpnr used (first seed), wrapper included.
    pub pnr_utilization: BTreeMap<String, Use>,
    /// Cells of the flattened netlist nextpnr received: the unit plus the wrapper.
    pub pnr_netlist_cells: Option<u64>,
    pub includes_wrapper: BTreeMap<String, bool>,
    /// How the memories were built: "inferred" by Yosys, or "dp16kd-outreg" (ecp5).
    #[serde(default)]
    pub memories: Option<String>,
    pub tools: BTreeMap<String, String>,
    /// Whether this report came from the cache.
    #[serde(default)]
    pub cached: bool,
    /// Wall-clock seconds of the run that made it.
    pub seconds: f64,
}

impl SynthReport {
    /// The median Fmax against the target, when something was placed.
    pub fn met(&self) -> Option<bool> {
        Some(self.fmax_mhz_median? >= self.freq_target_mhz?)
    }

    pub fn write_text(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let tools: Vec<String> = self.tools.values().cloned().collect();
        writeln!(
            out,
            "synth {} on {}{}{}",
            self.top,
            self.target,
            self.device
                .as_deref()
                .map(|d| format!(" {d}"))
                .unwrap_or_default(),
            if self.cached { " (cached)" } else { "" }
        )?;
        writeln!(out, "  tools: {}", tools.join("; "))?;
        if let Some(m) = &self.memories {
            writeln!(out, "  memories: {m}")?;
        }
        let a = &self.area;
        let luts = a.luts.map(|l| format!("{l} LUTs, ")).unwrap_or_default();
        writeln!(
            out,
            "  area (the unit alone, wrapper not counted): {} cells: {luts}{} FFs, {} carries, {} DSPs, {} BRAMs",
            a.cells, a.ffs, a.carries, a.dsps, a.brams
        )?;
        if let Some(m) = self.fmax_mhz_median {
            let per: Vec<String> = self
                .seeds
                .iter()
                .zip(&self.fmax_mhz)
                .map(|(s, f)| format!("seed {s}: {f:.1}"))
                .collect();
            writeln!(
                out,
                "  Fmax (unit inside the PnR wrapper, aiming at {} MHz): median {m:.1} MHz ({}); timing {}",
                self.freq_target_mhz.unwrap_or_default(),
                per.join(", "),
                if self.met() == Some(true) {
                    "met"
                } else {
                    "not met"
                }
            )?;
            let used: Vec<String> = self
                .pnr_utilization
                .iter()
                .map(|(k, u)| format!("{k} {}/{}", u.used, u.available))
                .collect();
            writeln!(out, "  device use (wrapper included): {}", used.join(", "))?;
        }
        Ok(())
    }
}

/// Synthesize (and for ice40/ecp5 place and route) a design. `log` receives progress lines.
pub fn run(
    design: &Design,
    opts: &SynthOptions,
    log: &(dyn Fn(&str) + Sync),
) -> Result<SynthReport> {
    opts.validate()?;
    let yosys = tools::yosys()?;
    let pnr_tool = match opts.target {
        Target::Ice40 => Some(tools::nextpnr_ice40()?),
        Target::Ecp5 => Some(tools::nextpnr_ecp5()?),
        _ => None,
    };
    let wrapper = opts
        .target
        .places()
        .then(|| wrapper::wrapper_source(design));
    let script = yosys_script(design, opts);
    let mut tools_used = BTreeMap::new();
    tools_used.insert("yosys".to_string(), yosys.version.clone());
    if let Some(t) = &pnr_tool {
        tools_used.insert(t.name.to_string(), t.version.clone());
    }
    let key = cache_key(design, opts, &script, wrapper.as_deref(), &tools_used);
    let root = crate::cache::root().join("synth");
    let dir = root.join(format!("{}-{}-{key}", design.top, opts.target));
    let report_path = dir.join("report.json");
    if opts.use_cache
        && let Ok(text) = std::fs::read_to_string(&report_path)
        && let Ok(mut r) = serde_json::from_str::<SynthReport>(&text)
    {
        r.cached = true;
        // A report cached before the field existed has none.
        r.timing_met = r.met();
        return Ok(r);
    }
    let start = Instant::now();
    // Kept on failure, so the logs the error points at are still there.
    let kept = crate::cache::scratch(&root, &design.top)?.keep();
    let work = kept.as_path();
    if opts.ecp5_bram_outreg {
        let mut built = design.clone();
        built.build_ecp5_memories();
        built.write_sources(work)?;
    } else {
        design.write_sources(work)?;
    }
    if let Some(w) = &wrapper {
        crate::cache::write(work, &wrapper::wrapper_file(design), w)?;
    }
    crate::cache::write(work, "synth.ys", &script)?;
    log(&format!("{}: yosys ({})", design.top, opts.target));
    run_tool(
        &yosys.path,
        &["-q", "-l", "yosys.log", "-s", "synth.ys"],
        work,
        "yosys.log",
        opts.timeout_s,
    )?;
    let area = stat::parse(&read(work, "stat.json")?, &design.top, opts.target)?;
    let mut report = SynthReport {
        top: design.top.clone(),
        unit: design.unit.clone(),
        parameters: design.params.clone(),
        target: opts.target,
        device: match opts.target {
            Target::Xilinx => Some(opts.family.clone()),
            _ => opts.part.as_ref().map(|p| p.to_string()),
        },
        area,
        fmax_mhz: Vec::new(),
        fmax_mhz_median: None,
        freq_target_mhz: None,
        timing_met: None,
        seeds: Vec::new(),
        pnr_utilization: BTreeMap::new(),
        pnr_netlist_cells: None,
        includes_wrapper: [("area", false), ("fmax", true), ("pnr_utilization", true)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        memories: design
            .files
            .iter()
            .any(|f| f.memory.is_some())
            .then(|| opts.memories().to_string()),
        tools: tools_used,
        cached: false,
        seconds: 0.0,
    };
    if let (Some(tool), Some(part)) = (&pnr_tool, &opts.part) {
        let top = wrapper::wrapper_top(design);
        report.pnr_netlist_cells =
            Some(stat::parse(&read(work, "stat_pnr.json")?, &top, opts.target)?.cells);
        log(&format!(
            "{}: {} on {part}, {} seed(s)",
            design.top, tool.name, opts.seeds
        ));
        let runs: Vec<PnrRun> = (1..=u64::from(opts.seeds))
            .into_par_iter()
            .map(|seed| {
                let rep = format!("pnr-seed{seed}.json");
                let logf = format!("pnr-seed{seed}.log");
                let args = pnr::args(part, opts.freq_mhz, seed, "net.json", &rep);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                run_tool(&tool.path, &args, work, &logf, opts.timeout_s)?;
                pnr::parse_report(&read(work, &rep)?, seed)
            })
            .collect::<Result<Vec<_>>>()?;
        report.fmax_mhz = runs.iter().map(|r| r.fmax_mhz).collect();
        report.seeds = runs.iter().map(|r| r.seed).collect();
        report.fmax_mhz_median = Some(median(&report.fmax_mhz));
        report.freq_target_mhz = Some(opts.freq_mhz);
        report.timing_met = report.met();
        report.pnr_utilization = runs[0].utilization.clone();
    }
    report.seconds = start.elapsed().as_secs_f64();
    let mut text = serde_json::to_string_pretty(&report).expect("serializable");
    text.push('\n');
    crate::cache::write(work, "report.json", &text)?;
    // An entry in the way is stale (unreadable, or --no-cache asked for a new one).
    crate::cache::publish(work, &dir, true);
    Ok(report)
}

/// The median; the mean of the middle two for an even count.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn yosys_script(design: &Design, opts: &SynthOptions) -> String {
    let mut files: Vec<String> = design.files.iter().map(|f| f.name.clone()).collect();
    let dut = &design.top;
    let nodsp = if opts.no_dsp { " -nodsp" } else { "" };
    let mut s = String::new();
    if opts.target.places() {
        files.push(wrapper::wrapper_file(design));
    }
    s.push_str(&format!("read_verilog {}\n", files.join(" ")));
    match opts.target {
        Target::Generic => s.push_str(&format!("synth -flatten -top {dut}\n")),
        Target::Xilinx => s.push_str(&format!(
            "synth_xilinx -flatten -family {} -top {dut}{nodsp}\n",
            opts.family
        )),
        Target::Ice40 | Target::Ecp5 => {
            let top = wrapper::wrapper_top(design);
            let synth = if opts.target == Target::Ice40 {
                format!("synth_ice40 -top {top}")
            } else {
                format!("synth_ecp5 -top {top}{nodsp}")
            };
            s.push_str(&format!(
                "hierarchy -top {top}\nsetattr -mod -set keep_hierarchy 1 {dut}\n{synth}\n"
            ));
        }
    }
    s.push_str("tee -q -o stat.json stat -json\n");
    if opts.target.places() {
        s.push_str(&format!(
            "setattr -mod -unset keep_hierarchy {dut}\nflatten\ntee -q -o stat_pnr.json stat -json\nwrite_json net.json\n"
        ));
    }
    s
}

fn cache_key(
    design: &Design,
    opts: &SynthOptions,
    script: &str,
    wrapper: Option<&str>,
    tools: &BTreeMap<String, String>,
) -> String {
    crate::cache::key(&[
        FLOW_VERSION,
        &design.hash(),
        script,
        wrapper.unwrap_or_default(),
        &format!("{:?}", opts.part),
        opts.memories(),
        &format!("{}", opts.freq_mhz),
        &opts.seeds.to_string(),
        &format!("{tools:?}"),
    ])
}

fn read(dir: &Path, name: &str) -> Result<String> {
    std::fs::read_to_string(dir.join(name)).map_err(|e| {
        Error::tool(format!(
            "{} was not written ({e}); see the tool logs in {}",
            name,
            dir.display()
        ))
    })
}

/// Run a tool in `cwd`. What it printed ends up in `log_name`, unless the tool wrote that log
/// itself (`yosys -l`); on failure the error ends with the log's last lines.
fn run_tool(tool: &Path, args: &[&str], cwd: &Path, log_name: &str, timeout_s: u64) -> Result<()> {
    let what = tool
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let out = crate::tool_run::output(
        Command::new(tool).args(args).current_dir(cwd),
        crate::tool_run::limit(timeout_s),
        &format!("{what} (in {})", cwd.display()),
    )?;
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let own_log = cwd.join(log_name).exists();
    if !own_log {
        crate::cache::write(cwd, log_name, &printed)?;
    }
    if out.status.success() {
        return Ok(());
    }
    let logged = if own_log {
        std::fs::read_to_string(cwd.join(log_name)).unwrap_or_default()
    } else {
        String::new()
    };
    Err(failure(tool, &format!("{logged}{printed}"), cwd))
}

fn failure(tool: &Path, text: &str, cwd: &Path) -> Error {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(12)..].join("\n");
    Error::tool(format!(
        "{} failed in {}:\n{tail}",
        tool.file_name().unwrap_or_default().to_string_lossy(),
        cwd.display()
    ))
}
