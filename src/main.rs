//! The command line: parse, call the library, print. Exit status 2 for bad input, 1 for a
//! failed run (a mismatch, a tool that broke), 0 otherwise.

use blockrtl::cosim::{CosimOptions, CosimUnit};
use blockrtl::error::Error;
use blockrtl::format::{Formatbook, ScaleFormat};
use blockrtl::golden::{FracBits, Selector};
use blockrtl::io::LoadOptions;
use blockrtl::quantize::{self, QuantizeOptions, QuantizeRequest};
use blockrtl::units::bd_common::BookRef;
use blockrtl::units::{
    BdQuantizerParams, BdSelectorParams, DotParams, MxQuantizerParams, UnitParams,
};
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
    /// Write a synthetic weight-like tensor (.npy or .safetensors) to try `quantize` on.
    MakeTensor(MakeTensorArgs),
}

/// The parameters that select and configure one unit (shared by generate, cosim, synth).
#[derive(Args, Clone)]
struct UnitArgs {
    /// Hardware unit.
    #[arg(long, value_parser = ["mx-quantizer", "bd-quantizer", "bd-selector", "dot"])]
    unit: Option<String>,
    /// Element format of the unit (mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8).
    #[arg(long)]
    format: Option<blockrtl::format::ElementFormat>,
    /// Elements per block.
    #[arg(long, default_value_t = 32)]
    block_size: usize,
    /// Input format of the block.
    #[arg(long, default_value = "f32")]
    input_format: blockrtl::format::InputFormat,
    /// Elements per beat (a divisor of the block size; default: the whole block).
    #[arg(long)]
    lanes: Option<usize>,
    /// Register stages placed by the generator (0 = combinational core).
    #[arg(long, default_value_t = 2)]
    pipeline: usize,
    /// Treat FP32/BF16/FP16 subnormal inputs as zeros.
    #[arg(long)]
    flush_subnormals: bool,
    /// Dialect selector (bd-quantizer, bd-selector).
    #[arg(long, default_value = "two-stage")]
    selector: Selector,
    /// Fraction bits of the scaled magnitudes (bd-quantizer, bd-selector; the RTL takes 1..=6).
    #[arg(long, default_value_t = 2)]
    frac_bits: u32,
    /// Shared-exponent format of bd-quantizer.
    #[arg(long, default_value = "e8m0")]
    scale: ScaleFormat,
    /// Formatbook TOML for bd-quantizer / bd-selector / dialectfp4 dot operands (default: the
    /// built-in DialectFP4).
    #[arg(long)]
    formatbook: Option<PathBuf>,
    /// Operand A of the dot unit (an MX format or dialectfp4).
    #[arg(long)]
    format_a: Option<blockrtl::units::dot::OperandFormat>,
    /// Operand B of the dot unit.
    #[arg(long)]
    format_b: Option<blockrtl::units::dot::OperandFormat>,
    /// Accumulation of the dot unit: none (one exact sum per block pair) or fp32 (DotGeneral).
    #[arg(long, default_value = "none")]
    accumulate: blockrtl::units::dot::AccumulateKind,
    /// Block pairs per fp32 / fixed DotGeneral result.
    #[arg(long, default_value_t = 1)]
    dot_length: usize,
    /// Width of the fixed-point accumulator (--accumulate fixed).
    #[arg(long, default_value_t = 48)]
    acc_width: u32,
    /// Weight of the fixed-point accumulator's LSB, as a power of two (--accumulate fixed).
    #[arg(long, default_value_t = -24, allow_negative_numbers = true)]
    acc_lsb: i32,
}

impl UnitArgs {
    fn params(&self) -> Result<UnitParams, Error> {
        let unit = self
            .unit
            .as_deref()
            .ok_or_else(|| Error::input("give --unit (or --config FILE.toml)"))?;
        let p = match unit {
            "mx-quantizer" => UnitParams::MxQuantizer(MxQuantizerParams {
                format: self
                    .format
                    .ok_or_else(|| Error::input("--unit mx-quantizer needs --format"))?,
                block_size: self.block_size,
                input_format: self.input_format,
                lanes: self.lanes,
                pipeline: self.pipeline,
                flush_subnormals: self.flush_subnormals,
            }),
            "bd-quantizer" => UnitParams::BdQuantizer(BdQuantizerParams {
                block_size: self.block_size,
                input_format: self.input_format,
                selector: self.selector,
                frac_bits: self.frac_bits,
                scale: self.scale,
                lanes: self.lanes,
                pipeline: self.pipeline,
                formatbook: BookRef::file(self.formatbook.clone()),
                flush_subnormals: self.flush_subnormals,
            }),
            "bd-selector" => UnitParams::BdSelector(BdSelectorParams {
                block_size: self.block_size,
                selector: self.selector,
                frac_bits: self.frac_bits,
                pipeline: self.pipeline,
                formatbook: BookRef::file(self.formatbook.clone()),
            }),
            "dot" => UnitParams::Dot(DotParams {
                format_a: self
                    .format_a
                    .ok_or_else(|| Error::input("--unit dot needs --format-a"))?,
                format_b: self
                    .format_b
                    .ok_or_else(|| Error::input("--unit dot needs --format-b"))?,
                block_size: self.block_size,
                lanes: self.lanes,
                pipeline: self.pipeline,
                accumulate: self.accumulate,
                dot_length: self.dot_length,
                acc_width: self.acc_width,
                acc_lsb: self.acc_lsb,
                formatbook: BookRef::file(self.formatbook.clone()),
            }),
            other => return Err(Error::input(format!("unknown unit '{other}'"))),
        };
        p.validate()?;
        Ok(p)
    }
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
    #[arg(long = "dist")]
    dists: Vec<blockrtl::stimulus::Dist>,
    /// Write an FST waveform of the run (builds a tracing harness).
    #[arg(long)]
    wave: Option<PathBuf>,
    /// Folder for the replay file written on a mismatch.
    #[arg(long, default_value = ".")]
    replay_dir: PathBuf,
    /// Run a replay file (written by an earlier failing run) instead of random vectors.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Test hook: corrupt the golden expectation of this block to prove failures are caught.
    #[arg(long, hide = true)]
    test_corrupt_expected: Option<u64>,
}

#[derive(Args)]
struct MakeTensorArgs {
    /// Element distribution: normal, laplace or outlier (normal with outlier columns).
    #[arg(long, default_value = "normal")]
    dist: blockrtl::stimulus::Dist,
    /// Rows x columns, e.g. 4096x4096 (or one number for a 1-D tensor).
    #[arg(long, default_value = "1024x1024")]
    shape: String,
    /// Storage format.
    #[arg(long, default_value = "f32")]
    dtype: blockrtl::format::InputFormat,
    /// Tensors to write (.safetensors only), named layer<i>.weight.
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
    /// Elements per block (along the last axis).
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
    let designs = units
        .iter()
        .map(|u| u.emit())
        .collect::<Result<Vec<_>, Error>>()?;
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

fn cosim(a: CosimArgs) -> Result<(), Error> {
    let boxed = a.unit.params()?.cosim()?;
    let unit: &dyn CosimUnit = boxed.as_ref();
    if let Some(file) = &a.replay {
        let built = blockrtl::cosim::build::build(&unit.design()?, a.wave.is_some())?;
        let (ok, text) = blockrtl::cosim::replay(&built.binary, file)?;
        print!("{text}");
        return if ok {
            Ok(())
        } else {
            Err(Error::Check(format!("replay of {} failed", file.display())))
        };
    }
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
    };
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
    let (rows, cols) = if dims.len() == 2 {
        (dims[0], dims[1])
    } else {
        (1, dims[0])
    };
    let is_npy = a.out.extension().is_some_and(|e| e == "npy");
    if !is_npy && a.out.extension().is_none_or(|e| e != "safetensors") {
        return Err(Error::input("--out must end in .npy or .safetensors"));
    }
    if is_npy && a.count != 1 {
        return Err(Error::input("--count > 1 needs a .safetensors output"));
    }
    blockrtl::emit::write::check_writable_new(&a.out, a.force)?;
    let tensors = (0..a.count)
        .map(|i| {
            let raw = blockrtl::stimulus::tensor(a.dist, rows, cols, a.dtype, a.seed + i as u64)
                .map_err(Error::input)?;
            Ok((format!("layer{i}.weight"), dims.clone(), raw))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    blockrtl::io::write_tensors(&a.out, a.dtype, &tensors)?;
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blockrtl: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
