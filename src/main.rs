//! The command line: parse, call the library, print. Exit status 2 for bad input, 1 for a
//! failed run (a mismatch, a tool that broke), 0 otherwise.

use blockrtl::error::Error;
use blockrtl::format::{Formatbook, ScaleFormat};
use blockrtl::golden::{FracBits, Selector};
use blockrtl::io::LoadOptions;
use blockrtl::quantize::{self, QuantizeOptions, QuantizeRequest};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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
    /// Write a synthetic weight-like tensor (.npy or .safetensors) to try `quantize` on.
    MakeTensor(MakeTensorArgs),
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
        println!();
    } else {
        report
            .write_text(&mut out)
            .map_err(|e| Error::tool(e.to_string()))?;
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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blockrtl: error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}
