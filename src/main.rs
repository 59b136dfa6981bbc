//! The command line: parse, call the library, print. Exit status 2 for bad input, 1 for a
//! failed run (a mismatch, a tool that broke), 0 otherwise.

use blockrtl::cosim::{CosimOptions, CosimUnit};
use blockrtl::error::Error;
use blockrtl::format::{Formatbook, ScaleFormat};
use blockrtl::golden::{FracBits, Selector};
use blockrtl::io::LoadOptions;
use blockrtl::quantize::{self, QuantizeOptions, QuantizeRequest};
use blockrtl::synth::pnr::Part;
use blockrtl::synth::{SynthOptions, Target, sweep};
use blockrtl::units::UnitParams;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Print a line to stdout; a closed pipe (`| head`) ends the program quietly, not in a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}
#[derive(Parser)]
#[command(
    name = "blockrtl",
    version,
    about = "Generate, co-simulate and cost RTL for block-scaled number formats (OCP MX, DialectFP4)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Quantize tensors with the bit-exact golden model and report the error per format.
    Quantize(QuantizeArgs),
    /// Write synthesizable Verilog, a file list and a manifest for one or more units.
    Generate(GenerateArgs),
    /// Verilate a unit and stream golden-model vectors through it, comparing every output.
    Cosim(CosimArgs),
    /// Synthesize a unit with Yosys (and place and route it with nextpnr): area and Fmax.
    Synth(SynthArgs),
    /// Accuracy against hardware cost for every format and block size of a model's tensors;
    /// `explore formatbook` searches a formatbook for them.
    Explore(ExploreArgs),
    /// Write a synthetic weight-like tensor (.npy or .safetensors) to try `quantize` on.
    MakeTensor(MakeTensorArgs),
}

/// The parameters that select and configure one unit (shared by generate, cosim, synth). The
/// flags given become the unit's settings, deserialized like a `[[unit]]` table: defaults live
/// in the unit's serde form only (`blockrtl::units::defaults`), and a flag the unit does not take
/// is refused.
#[derive(Args, Clone)]
struct UnitArgs {
    /// Hardware unit.
    #[arg(long, value_parser = ["mx-quantizer", "bd-quantizer", "bd-selector", "dot"])]
    unit: Option<String>,
    /// Element format of mx-quantizer (mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4,
    /// mxint8).
    #[arg(long)]
    format: Option<blockrtl::format::ElementFormat>,
    /// Elements per block [default: 32].
    #[arg(long)]
    block_size: Option<usize>,
    /// Input format of the quantizers: f32, bf16 or f16 [default: f32].
    #[arg(long)]
    input_format: Option<blockrtl::format::InputFormat>,
    /// Elements per beat (a divisor of the block size) [default: the whole block].
    #[arg(long)]
    lanes: Option<usize>,
    /// Register stages placed by the generator (0 = combinational core) [default: 2].
    #[arg(long)]
    pipeline: Option<usize>,
    /// Treat FP32/BF16 subnormal inputs as zeros (quantizers).
    #[arg(long)]
    flush_subnormals: bool,
    /// Dialect selector (bd-quantizer, bd-selector): two-stage or mse [default: two-stage].
    #[arg(long)]
    selector: Option<Selector>,
    /// Fraction bits of the scaled magnitudes (bd-quantizer, bd-selector; the RTL takes 1..=6)
    /// [default: 2].
    #[arg(long)]
    frac_bits: Option<u32>,
    /// Shared-exponent format of bd-quantizer: e8m0 or e5 [default: e8m0].
    #[arg(long)]
    scale: Option<ScaleFormat>,
    /// Formatbook TOML for bd-quantizer / bd-selector / dialectfp4 dot operands [default: the
    /// built-in DialectFP4].
    #[arg(long)]
    formatbook: Option<PathBuf>,
    /// Operand A of the dot unit (an MX format or dialectfp4).
    #[arg(long)]
    format_a: Option<blockrtl::units::dot::OperandFormat>,
    /// Operand B of the dot unit.
    #[arg(long)]
    format_b: Option<blockrtl::units::dot::OperandFormat>,
    /// Accumulation of the dot unit: none (one exact sum per block pair), fp32 (DotGeneral) or
    /// fixed (a saturating fixed-point accumulator) [default: none].
    #[arg(long)]
    accumulate: Option<blockrtl::units::dot::AccumulateKind>,
    /// Block pairs per fp32 / fixed DotGeneral result [default: 1].
    #[arg(long)]
    dot_length: Option<usize>,
    /// Width of the fixed-point accumulator (--accumulate fixed) [default: 48].
    #[arg(long)]
    acc_width: Option<u32>,
    /// Weight of the fixed-point accumulator's LSB, as a power of two (--accumulate fixed)
    /// [default: -24].
    #[arg(long, allow_negative_numbers = true)]
    acc_lsb: Option<i32>,
}

impl UnitArgs {
    fn params(&self) -> Result<UnitParams, Error> {
        let unit = self
            .unit
            .as_deref()
            .ok_or_else(|| Error::input("give --unit (or --config FILE.toml)"))?;
        let mut m = serde_json::Map::new();
        m.insert("unit".into(), unit.into());
        for (key, value) in [
            ("format", setting(&self.format)),
            ("block_size", setting(&self.block_size)),
            ("input_format", setting(&self.input_format)),
            ("lanes", setting(&self.lanes)),
            ("pipeline", setting(&self.pipeline)),
            (
                "flush_subnormals",
                setting(&self.flush_subnormals.then_some(true)),
            ),
            ("selector", setting(&self.selector)),
            ("frac_bits", setting(&self.frac_bits)),
            ("scale", setting(&self.scale)),
            ("formatbook", setting(&self.formatbook)),
            ("format_a", setting(&self.format_a)),
            ("format_b", setting(&self.format_b)),
            ("accumulate", setting(&self.accumulate)),
            ("dot_length", setting(&self.dot_length)),
            ("acc_width", setting(&self.acc_width)),
            ("acc_lsb", setting(&self.acc_lsb)),
        ] {
            if let Some(v) = value {
                m.insert(key.into(), v);
            }
        }
        UnitParams::from_fields(m)
    }
}

/// A flag's value as the JSON value serde reads back; None when the flag was not given.
fn setting<T: serde::Serialize>(v: &Option<T>) -> Option<serde_json::Value> {
    v.as_ref()
        .map(|v| serde_json::to_value(v).expect("settings serialize"))
}

#[derive(Args)]
struct GenerateArgs {
    #[command(flatten)]
    unit: UnitArgs,
    /// A TOML file of [[unit]] tables (unit = "mx-quantizer", format = ..., ...), instead of flags.
    #[arg(long, conflicts_with = "unit")]
    config: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Replace files that were not generated by blockrtl.
    #[arg(long)]
    force: bool,
    /// Also write a self-checking Verilog testbench with this many golden-model blocks (vector
    /// files tb_<top>.v, <top>_in.hex, <top>_exp.hex; the FuseSoC core gains a `sim` target).
    #[arg(long)]
    testbench: Option<u64>,
    /// Source and sink stall probability of the testbench.
    #[arg(long, default_value_t = 0.1)]
    tb_stall_prob: f64,
    /// Seed of the testbench's stimulus.
    #[arg(long, default_value_t = 1)]
    tb_seed: u64,
}

#[derive(Args)]
struct CosimArgs {
    #[command(flatten)]
    unit: UnitArgs,
    /// Blocks to stream.
    #[arg(long, default_value_t = 100_000)]
    blocks: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Per-cycle probability that the source withholds a beat and that the sink stalls.
    #[arg(long, default_value_t = 0.0)]
    stall_prob: f64,
    /// Stimulus distribution; repeat to mix (default: all of them, block by block).
    #[arg(long = "dist", value_parser = dist_parser(&blockrtl::stimulus::Dist::ALL))]
    dists: Vec<blockrtl::stimulus::Dist>,
    /// Write an FST waveform of the run (builds a tracing harness).
    #[arg(long)]
    wave: Option<PathBuf>,
    /// Folder for the replay file written on a mismatch.
    #[arg(long, default_value = ".")]
    replay_dir: PathBuf,
    /// verilator (the streaming C++ harness) or icarus (a generated Verilog testbench with
    /// vector files; about 100x slower, so give fewer --blocks).
    #[arg(long, default_value = "verilator", value_parser = ["verilator", "icarus"])]
    simulator: String,
    /// Run a replay file (written by an earlier failing run) instead of random vectors.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Simulate the Verilog in this folder (its <top>.f, else every .v/.sv file) instead of
    /// the generated design: an edited copy, or your own RTL with the same ports.
    #[arg(long)]
    rtl: Option<PathBuf>,
    /// Top module of --rtl (default: the generated design's name).
    #[arg(long, requires = "rtl")]
    top: Option<String>,
    /// Watchdog: sink-ready cycles a block's output may take once its input is complete, and
    /// a presented beat may wait (default: the generated design's latency + 2 x beats + 64;
    /// raise it for --rtl designs deeper than the generated one). 1..=10^9.
    #[arg(long)]
    watchdog_cycles: Option<u64>,
    /// Test hook: corrupt the golden expectation of this block to prove failures are caught.
    #[arg(long, hide = true)]
    test_corrupt_expected: Option<u64>,
}

/// A parser that lists the distributions' names in `--help` and in its error.
fn dist_parser(
    dists: &[blockrtl::stimulus::Dist],
) -> impl clap::builder::TypedValueParser<Value = blockrtl::stimulus::Dist> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(dists.iter().map(|d| d.name())).map(|s| {
        s.parse::<blockrtl::stimulus::Dist>()
            .expect("a listed name")
    })
}

#[derive(Args)]
struct SynthArgs {
    #[command(flatten)]
    unit: UnitArgs,
    /// A TOML file of [[unit]] tables, instead of flags (each unit is synthesized).
    #[arg(long, conflicts_with = "unit")]
    config: Option<PathBuf>,
    /// generic (Yosys gates), ice40 or ecp5 (synthesis, then nextpnr), xilinx (synthesis only).
    #[arg(long, default_value = "generic")]
    target: Target,
    /// ice40/ecp5 device as DEVICE[:PACKAGE] (default hx8k:ct256, 85k:CABGA381); xilinx family
    /// (default xc7).
    #[arg(long)]
    part: Option<String>,
    /// Clock nextpnr aims at, MHz (the achieved Fmax is reported either way).
    #[arg(long, default_value_t = 100.0)]
    freq: f64,
    /// Place-and-route runs with seeds 1..=N; the report gives each Fmax and the median.
    #[arg(long, default_value_t = 1)]
    seeds: u32,
    /// Keep multipliers out of DSP blocks (ecp5, xilinx).
    #[arg(long)]
    no_dsp: bool,
    /// Sweep a unit parameter: KEY=V1,V2,... (repeat for a cartesian product), e.g.
    /// --sweep block_size=16,32,64 --sweep pipeline=0,1,2.
    #[arg(long = "sweep")]
    sweeps: Vec<String>,
    /// Folder for a sweep's sweep.json, sweep.csv and sweep.md.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace existing sweep files.
    #[arg(long)]
    force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Run the tools again even if a cached report of the same inputs exists.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct ExploreArgs {
    #[command(subcommand)]
    sub: Option<ExploreSub>,
    /// Checkpoint: .safetensors (F32, BF16, F16 tensors) or one .npy array.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Tensors to take, by regular expression (repeatable; default: every floating tensor).
    #[arg(long = "tensor")]
    tensors: Vec<String>,
    /// Formats to try, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "mxfp8_e4m3,mxfp8_e5m2,mxfp6_e3m2,mxfp6_e2m3,mxfp4,mxint8,dialectfp4"
    )]
    formats: Vec<String>,
    /// Block sizes to try, comma-separated (blocks run along the last axis), each 1..=4096.
    #[arg(long, value_delimiter = ',', default_value = "16,32,64")]
    block_sizes: Vec<usize>,
    /// DialectFP4 dialect selector for the weights (activations always use two-stage).
    #[arg(long, default_value = "mse")]
    selector: Selector,
    /// Hardware cost from `synth` on this target (generic, ice40, ecp5, xilinx), or none for
    /// error only.
    #[arg(long, default_value = "generic")]
    synth_target: String,
    /// Mixed precision: pick per tensor within this many bits per element over the model.
    #[arg(long)]
    budget_bits_per_element: Option<f64>,
    /// Mixed precision: pick per tensor the least-cost configuration with at least this SQNR.
    #[arg(long)]
    min_sqnr_db: Option<f64>,
    /// Activation tensors (.npy or .safetensors) to analyse with the weights.
    #[arg(long)]
    activations: Option<PathBuf>,
    /// Zero-pad rows whose length is not a multiple of a block size (otherwise refused).
    #[arg(long)]
    pad: bool,
    /// Output folder: report.json, report.md, pareto.svg, layers.svg, assignment.toml.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace existing report files.
    #[arg(long)]
    force: bool,
}

#[derive(Subcommand)]
enum ExploreSub {
    /// Search a formatbook (dialects of 8 half-unit integers 0..15) for a model's tensors.
    Formatbook(FormatbookSearchArgs),
}

#[derive(Args)]
struct FormatbookSearchArgs {
    #[arg(long)]
    input: PathBuf,
    /// Tensors to take, by regular expression (repeatable).
    #[arg(long = "tensor")]
    tensors: Vec<String>,
    /// Dialects in the book (1..=16; fewer than 16 start from the best subset of DialectFP4).
    #[arg(long, default_value_t = 16)]
    dialects: usize,
    #[arg(long, default_value_t = 32)]
    block_size: usize,
    /// Tensors held out of the search, by regular expression (default: every fourth tensor).
    #[arg(long)]
    holdout: Option<String>,
    /// Training blocks sampled for the search's error (1..=1048576).
    #[arg(long, default_value_t = 16384)]
    sample_blocks: usize,
    /// Most local-search rounds (each tries every one-step move once), at most 1000.
    #[arg(long, default_value_t = 12)]
    max_rounds: usize,
    /// Output folder: formatbook.toml, formatbook-report.json, formatbook-report.md.
    #[arg(long)]
    out: PathBuf,
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct MakeTensorArgs {
    /// Element distribution (outlier: normal with outlier columns).
    #[arg(long, default_value = "normal", value_parser = dist_parser(&blockrtl::stimulus::Dist::TENSOR))]
    dist: blockrtl::stimulus::Dist,
    /// Rows x columns, e.g. 4096x4096 (or one number for a 1-D tensor); at most 2^31 elements
    /// per tensor and 64 GiB per file.
    #[arg(long, default_value = "1024x1024")]
    shape: String,
    /// Storage format.
    #[arg(long, default_value = "f32")]
    dtype: blockrtl::format::InputFormat,
    /// Tensors to write (.safetensors only), named layer<i>.weight: 1..=4096.
    #[arg(long, default_value_t = 1)]
    count: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
struct QuantizeArgs {
    /// Block format; repeat to compare several on the same tensors.
    #[arg(long = "format", required = true, value_parser = clap::builder::PossibleValuesParser::new(quantize::FORMAT_NAMES))]
    formats: Vec<String>,
    /// Elements per block (along the last axis), 1..=4096.
    #[arg(long, default_value_t = 32)]
    block_size: usize,
    /// Input file: .npy (float32, float16) or .safetensors (F32, BF16, F16).
    #[arg(long)]
    input: PathBuf,
    /// Safetensors tensors to take, by regular expression (repeatable; default: all floating).
    #[arg(long = "tensor")]
    tensors: Vec<String>,
    /// Format of raw codes the file cannot describe (a uint16 .npy of bf16 or f16 codes).
    #[arg(long)]
    input_format: Option<blockrtl::format::InputFormat>,
    /// Zero-pad rows whose length is not a multiple of the block size.
    #[arg(long)]
    pad: bool,
    #[command(flatten)]
    dialect: DialectArgs,
    /// Zero FP32 subnormal inputs (sign kept) before quantizing.
    #[arg(long)]
    flush_subnormals: bool,
    /// Write every block's scale, dialect and codes as JSON lines to this file.
    #[arg(long)]
    codes: Option<PathBuf>,
    /// Replace an existing --codes file.
    #[arg(long)]
    force: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DialectArgs {
    /// Dialect selector for dialectfp4.
    #[arg(long, default_value = "two-stage")]
    selector: Selector,
    /// Fraction bits of the scaled magnitudes (dialectfp4): 0..=16 or `exact`.
    #[arg(long, default_value = "2")]
    frac_bits: FracBits,
    /// Shared-exponent format for dialectfp4.
    #[arg(long, default_value = "e8m0")]
    scale: ScaleFormat,
    /// A formatbook TOML file to use instead of the built-in DialectFP4.
    #[arg(long)]
    formatbook: Option<PathBuf>,
}

fn quantize(a: QuantizeArgs) -> Result<(), Error> {
    let formatbook = match &a.dialect.formatbook {
        Some(p) => Some(Arc::new(Formatbook::load(p)?)),
        None => None,
    };
    let tensor_patterns = a
        .tensors
        .iter()
        .map(|t| regex::Regex::new(t).map_err(|e| Error::input(format!("--tensor '{t}': {e}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let req = QuantizeRequest {
        input: a.input,
        load: LoadOptions {
            tensor_patterns,
            input_format: a.input_format,
        },
        formats: a.formats,
        opts: QuantizeOptions {
            block_size: a.block_size,
            pad: a.pad,
            selector: a.dialect.selector,
            frac_bits: a.dialect.frac_bits,
            scale: a.dialect.scale,
            formatbook,
            flush_subnormals: a.flush_subnormals,
        },
        codes: a.codes,
        force: a.force,
    };
    let report = quantize::run(&req)?;
    let mut out = std::io::stdout().lock();
    if a.json {
        serde_json::to_writer_pretty(&mut out, &report).map_err(|e| Error::tool(e.to_string()))?;
        say!("");
    } else {
        report
            .write_text(&mut out)
            .map_err(|e| Error::tool(e.to_string()))?;
    }
    Ok(())
}

fn generate(a: GenerateArgs) -> Result<(), Error> {
    let units = match &a.config {
        Some(path) => blockrtl::units::load_config(path)?,
        None => vec![a.unit.params()?],
    };
    let checked = units
        .iter()
        .map(|u| u.check())
        .collect::<Result<Vec<_>, Error>>()?;
    let mut designs = checked
        .iter()
        .map(|u| u.emit())
        .collect::<Result<Vec<_>, Error>>()?;
    if let Some(blocks) = a.testbench {
        if blocks == 0 || blocks > 1_000_000 {
            return Err(Error::input("--testbench takes 1..=1000000 blocks"));
        }
        check_stall(a.tb_stall_prob)?;
        let opts = CosimOptions {
            blocks,
            seed: a.tb_seed,
            stall_prob: a.tb_stall_prob,
            ..CosimOptions::default()
        };
        for (d, u) in designs.iter_mut().zip(&checked) {
            let unit: &dyn CosimUnit = u.as_ref();
            d.testbench = Some(blockrtl::cosim::testbench::testbench(unit, &opts)?);
        }
    }
    let summary = blockrtl::emit::design::write_designs(&a.out, &designs, a.force)?;
    for d in &designs {
        say!(
            "{}: {} files, latency {} cycles, {} beat(s) per block",
            d.top,
            d.files.len(),
            d.latency,
            d.beats_per_block
        );
    }
    say!(
        "{}: {} written, {} unchanged",
        a.out.display(),
        summary.written.len(),
        summary.unchanged.len()
    );
    Ok(())
}

fn check_stall(p: f64) -> Result<(), Error> {
    if (0.0..1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::input(format!(
            "stall probability {p} must be at least 0 and below 1"
        )))
    }
}

/// Run the golden vectors through Icarus Verilog with the generated Verilog testbench.
fn cosim_icarus(unit: &dyn CosimUnit, opts: &CosimOptions) -> Result<(), Error> {
    check_stall(opts.stall_prob)?;
    let design = opts.design_of(unit)?;
    let tb = blockrtl::cosim::testbench::testbench(unit, opts)?;
    let dir = tempfile::Builder::new()
        .prefix("blockrtl-icarus-")
        .tempdir()
        .map_err(|e| Error::tool(format!("cannot create a temporary folder: {e}")))?;
    let start = std::time::Instant::now();
    let run = blockrtl::cosim::testbench::run_icarus(&design, &tb, dir.path())?;
    for l in run.output.lines().filter(|l| !l.starts_with("VCD")) {
        say!("{l}");
    }
    say!(
        "cosim {} on icarus: {} blocks, {} ({:.1} s)",
        design.top,
        opts.blocks,
        if run.passed { "passed" } else { "FAILED" },
        start.elapsed().as_secs_f64()
    );
    if run.passed {
        Ok(())
    } else {
        let kept = dir.keep();
        Err(Error::Check(format!(
            "icarus run of {} failed; testbench and vectors kept in {}",
            design.top,
            kept.display()
        )))
    }
}

fn cosim(a: CosimArgs) -> Result<(), Error> {
    let checked = a.unit.params()?.check()?;
    let unit: &dyn CosimUnit = checked.as_ref();
    if let Some(w) = a.watchdog_cycles
        && !(1..=1_000_000_000).contains(&w)
    {
        return Err(Error::input(format!(
            "--watchdog-cycles {w} must be 1..=1000000000"
        )));
    }
    let rtl = a.rtl.clone().map(|dir| blockrtl::cosim::rtl::RtlSource {
        dir,
        top: a.top.clone(),
    });
    let opts = CosimOptions {
        blocks: a.blocks,
        seed: a.seed,
        stall_prob: a.stall_prob,
        dists: if a.dists.is_empty() {
            blockrtl::stimulus::Dist::ALL.to_vec()
        } else {
            a.dists.clone()
        },
        wave: a.wave.clone(),
        replay_dir: a.replay_dir.clone(),
        corrupt_expected: a.test_corrupt_expected,
        progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        watchdog_cycles: a.watchdog_cycles,
        rtl,
    };
    if let Some(file) = &a.replay {
        if a.simulator != "verilator" {
            return Err(Error::input(
                "--replay runs the Verilator harness (drop --simulator)",
            ));
        }
        let design = opts.design_of(unit)?;
        blockrtl::cosim::ReplayHeader::check(file, &design)?;
        let built = blockrtl::cosim::build::build(&design, a.wave.is_some())?;
        let (ok, text) = blockrtl::cosim::replay(&built.binary, file)?;
        for l in text.lines() {
            say!("{l}");
        }
        return if ok {
            Ok(())
        } else {
            Err(Error::Check(format!(
                "replay of {} failed: {}",
                file.display(),
                text.lines()
                    .find(|l| l.starts_with("harness: watchdog")
                        || l.starts_with("replay: output beat")
                        || l.contains("output beats, expected"))
                    .unwrap_or("the outputs differ")
            )))
        };
    }
    if a.simulator == "icarus" {
        return cosim_icarus(unit, &opts);
    }
    let r = blockrtl::cosim::run(unit, &opts)?;
    eprintln!(
        "build: {} ({:.1} s)",
        if r.build_cached {
            "cached"
        } else {
            "verilated"
        },
        r.build_seconds
    );
    for f in &r.failures {
        say!("{f}");
    }
    say!("{}", r.summary());
    if let Some(path) = &r.replay {
        say!(
            "replay: {} (run it with the same unit flags and --replay {})",
            path.display(),
            path.display()
        );
    }
    if r.mismatches > 0 {
        return Err(Error::Check(format!("{} mismatching blocks", r.mismatches)));
    }
    Ok(())
}

fn synth_options(a: &SynthArgs) -> Result<SynthOptions, Error> {
    let mut o = SynthOptions::new(a.target);
    match (a.target, &a.part) {
        (Target::Xilinx, Some(f)) => o.family = f.clone(),
        (Target::Generic, Some(p)) => {
            return Err(Error::input(format!(
                "--part '{p}': the generic target has no device"
            )));
        }
        (t, Some(p)) => o.part = Some(Part::parse(t, p)?),
        _ => {}
    }
    o.freq_mhz = a.freq;
    o.seeds = a.seeds;
    o.no_dsp = a.no_dsp;
    o.use_cache = !a.no_cache;
    o.validate()?;
    Ok(o)
}

fn synth(a: SynthArgs) -> Result<(), Error> {
    let opts = synth_options(&a)?;
    let bases = match &a.config {
        Some(path) => blockrtl::units::load_config(path)?,
        None => vec![a.unit.params()?],
    };
    let axes = a
        .sweeps
        .iter()
        .map(|s| sweep::Axis::parse(s))
        .collect::<Result<Vec<_>, Error>>()?;
    if axes.is_empty() && bases.len() == 1 {
        let design = bases[0].emit()?;
        let report = blockrtl::synth::run(&design, &opts, &|m| eprintln!("{m}"))?;
        if a.json {
            say!(
                "{}",
                serde_json::to_string_pretty(&report).expect("serializable")
            );
        } else {
            let mut text = Vec::new();
            report
                .write_text(&mut text)
                .map_err(|e| Error::tool(e.to_string()))?;
            say!("{}", String::from_utf8_lossy(&text).trim_end());
        }
        return Ok(());
    }
    let out = a.out.as_ref().ok_or_else(|| {
        Error::input("a sweep (or a --config of several units) needs --out FOLDER for its table")
    })?;
    let names = ["sweep.json", "sweep.csv", "sweep.md"];
    std::fs::create_dir_all(out)
        .map_err(|e| Error::input(format!("cannot create --out {}: {e}", out.display())))?;
    for n in names {
        blockrtl::emit::write::check_writable_new(&out.join(n), a.force)?;
    }
    let configs = bases
        .iter()
        .map(|b| sweep::expand(b, &axes))
        .collect::<Result<Vec<_>, Error>>()?
        .concat();
    let bar = blockrtl::progress::bar(
        configs.len() as u64,
        &format!("synth {}", opts.target),
        "configurations",
        true,
    );
    use rayon::prelude::*;
    let rows: Vec<sweep::Row> = configs
        .par_iter()
        .map(|p| {
            let result = p
                .emit()
                .and_then(|d| blockrtl::synth::run(&d, &opts, &|_| {}));
            bar.inc(1);
            sweep::Row::new(p, &axes, result)
        })
        .collect();
    bar.finish_and_clear();
    let mut json = serde_json::to_string_pretty(&serde_json::json!({
        "generator": blockrtl::TOOL,
        "target": opts.target,
        "sweep": axes.iter().map(|x| (x.key.clone(), x.values.clone())).collect::<Vec<_>>(),
        "rows": rows,
    }))
    .expect("serializable");
    json.push('\n');
    let md = sweep::markdown(&axes, &rows);
    for (name, text) in names
        .iter()
        .zip([json, sweep::csv(&axes, &rows), md.clone()])
    {
        blockrtl::emit::write::write_atomic(&out.join(name), text.as_bytes())?;
    }
    say!("{}", md.trim_end());
    say!("wrote {}/{{sweep.json,sweep.csv,sweep.md}}", out.display());
    let failed = rows.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        return Err(Error::tool(format!(
            "{failed} of {} configurations failed (see the error column)",
            rows.len()
        )));
    }
    Ok(())
}

fn regexes(patterns: &[String]) -> Result<Vec<regex::Regex>, Error> {
    patterns
        .iter()
        .map(|t| regex::Regex::new(t).map_err(|e| Error::input(format!("--tensor '{t}': {e}"))))
        .collect()
}

fn explore(a: ExploreArgs) -> Result<(), Error> {
    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
    if let Some(ExploreSub::Formatbook(f)) = a.sub {
        return explore_formatbook(f, progress);
    }
    let input = a
        .input
        .ok_or_else(|| Error::input("explore needs --input MODEL.safetensors"))?;
    let out = a
        .out
        .ok_or_else(|| Error::input("explore needs --out FOLDER for its report"))?;
    let synth = match a.synth_target.as_str() {
        "none" => None,
        t => {
            let target: Target = t.parse().map_err(Error::input)?;
            let o = SynthOptions::new(target);
            o.validate()?;
            Some(o)
        }
    };
    let opts = blockrtl::explore::ExploreOptions {
        input,
        load: LoadOptions {
            tensor_patterns: regexes(&a.tensors)?,
            input_format: None,
        },
        formats: a.formats,
        block_sizes: a.block_sizes,
        selector: a.selector,
        synth,
        budget_bits: a.budget_bits_per_element,
        min_sqnr_db: a.min_sqnr_db,
        pad: a.pad,
        activations: a.activations,
        progress,
    };
    blockrtl::explore::validate(&opts)?;
    // Refuse before the work, not after it.
    blockrtl::explore::refuse_existing(&out, a.force)?;
    let report = blockrtl::explore::run(&opts)?;
    let written = blockrtl::explore::write_outputs(&report, &opts, &out, a.force)?;
    for c in &report.configs {
        say!(
            "{:<12} k={:<4} {:>6.3} bits/element  SQNR {:>7} dB  cost/element/cycle {}",
            c.format,
            c.block_size,
            c.bits_per_element,
            blockrtl::golden::stats::show_db(c.sqnr_db),
            c.cost.map_or("-".into(), |v| format!("{v:.1}"))
        );
    }
    if let Some(asg) = &report.assignment {
        say!(
            "assignment ({} = {}): {:.3} bits/element, SQNR {} dB{}",
            asg.target,
            asg.target_value,
            asg.bits_per_element,
            blockrtl::golden::stats::show_db(asg.sqnr_db),
            if asg.all_met {
                ""
            } else {
                " (not every tensor meets it)"
            }
        );
    }
    eprintln!(
        "times: load {:.1} s, error {:.1} s, synth {:.1} s, activations {:.1} s",
        report.seconds.load, report.seconds.error, report.seconds.synth, report.seconds.activations
    );
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    say!("wrote {}", names.join(", "));
    Ok(())
}

fn explore_formatbook(f: FormatbookSearchArgs, progress: bool) -> Result<(), Error> {
    let names = [
        "formatbook.toml",
        "formatbook-report.json",
        "formatbook-report.md",
    ];
    std::fs::create_dir_all(&f.out)
        .map_err(|e| Error::input(format!("cannot create --out {}: {e}", f.out.display())))?;
    for n in names {
        blockrtl::emit::write::check_writable_new(&f.out.join(n), f.force)?;
    }
    let holdout = f
        .holdout
        .as_deref()
        .map(|h| regex::Regex::new(h).map_err(|e| Error::input(format!("--holdout '{h}': {e}"))))
        .transpose()?;
    let opts = blockrtl::explore::formatbook_search::SearchOptions {
        input: f.input,
        load: LoadOptions {
            tensor_patterns: regexes(&f.tensors)?,
            input_format: None,
        },
        dialects: f.dialects,
        block_size: f.block_size,
        holdout,
        sample_blocks: f.sample_blocks,
        max_rounds: f.max_rounds,
        progress,
    };
    let (book, report) = blockrtl::explore::formatbook_search::search(&opts)?;
    let mut json = serde_json::to_string_pretty(&report).expect("serializable");
    json.push('\n');
    let md = report.markdown();
    let texts = [
        blockrtl::explore::formatbook_search::book_toml(&book, &report),
        json,
        md.clone(),
    ];
    for (n, t) in names.iter().zip(texts) {
        blockrtl::emit::write::write_atomic(&f.out.join(n), t.as_bytes())?;
    }
    say!("{}", md.trim_end());
    say!("wrote {}/{{{}}}", f.out.display(), names.join(","));
    Ok(())
}

/// make-tensor's limits, stated in its --help.
const MAX_TENSOR_ELEMENTS: u64 = 1 << 31;
const MAX_TENSORS: usize = 4096;
const MAX_FILE_BYTES: u64 = 1 << 36;

fn make_tensor(a: MakeTensorArgs) -> Result<(), Error> {
    let dims: Vec<usize> = a
        .shape
        .split('x')
        .map(|d| d.trim().parse::<usize>().ok().filter(|&n| n > 0))
        .collect::<Option<Vec<_>>>()
        .filter(|d| (1..=2).contains(&d.len()))
        .ok_or_else(|| {
            Error::input(format!(
                "--shape '{}': expected ROWSxCOLS or N, positive",
                a.shape
            ))
        })?;
    let elements = dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
        .filter(|&n| n <= MAX_TENSOR_ELEMENTS)
        .ok_or_else(|| {
            Error::input(format!(
                "--shape '{}': more than 2^31 elements in one tensor",
                a.shape
            ))
        })?;
    if !(1..=MAX_TENSORS).contains(&a.count) {
        return Err(Error::input(format!(
            "--count {} must be 1..={MAX_TENSORS}",
            a.count
        )));
    }
    let bytes = elements * u64::from(a.dtype.bits() / 8) * a.count as u64;
    if bytes > MAX_FILE_BYTES {
        return Err(Error::input(format!(
            "{} tensor(s) of {} {} take {bytes} bytes, more than the 64 GiB limit",
            a.count, a.shape, a.dtype
        )));
    }
    let cols = *dims.last().expect("one or two dimensions");
    let is_npy = a.out.extension().is_some_and(|e| e == "npy");
    if !is_npy && a.out.extension().is_none_or(|e| e != "safetensors") {
        return Err(Error::input("--out must end in .npy or .safetensors"));
    }
    if is_npy && a.count != 1 {
        return Err(Error::input("--count > 1 needs a .safetensors output"));
    }
    blockrtl::emit::write::check_writable_new(&a.out, a.force)?;
    let specs: Vec<(String, Vec<usize>)> = (0..a.count)
        .map(|i| (format!("layer{i}.weight"), dims.clone()))
        .collect();
    let mut gens = (0..a.count)
        .map(|i| {
            blockrtl::stimulus::TensorGen::new(a.dist, cols, a.dtype, a.seed.wrapping_add(i as u64))
                .map_err(Error::input)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let bar = blockrtl::progress::bar(bytes, "make-tensor", "bytes", true);
    let width = u64::from(a.dtype.bits() / 8);
    blockrtl::io::write_tensors_with(&a.out, a.dtype, &specs, |i, out, n| {
        gens[i].fill(out, n);
        bar.inc(n as u64 * width);
    })?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} ({} tensor(s) of {} {}, {} with sigma 0.02, seed {})",
        a.out.display(),
        a.count,
        a.shape,
        a.dtype,
        a.dist,
        a.seed
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Quantize(a) => quantize(a),
        Command::MakeTensor(a) => make_tensor(a),
        Command::Generate(a) => generate(a),
        Command::Cosim(a) => cosim(a),
        Command::Synth(a) => synth(a),
        Command::Explore(a) => explore(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blockrtl: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
