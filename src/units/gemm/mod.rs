//! Unit `gemm`: one linear layer, Y = X W^T, as a tile of R x C dot units. Activation rows
//! (K elements, FP32/BF16/FP16) stream in and are quantized on the fly by the generated
//! quantizer; the weights (N rows of K, quantized offline) sit in on-chip memories; results
//! leave row by row, C values a beat, in FP32 or BF16.
//!
//! It is composed of other units through the unit trait: the quantizer and the dot are
//! checked and emitted as those units are, and the golden model is theirs plus the documented
//! accumulation order (`golden::gemm`).

mod cosim;
mod emit;
pub mod pack;

pub use cosim::GemmChecked;
pub use emit::axis_name;

use crate::emit::bits_for;
use crate::emit::design::{GenFile, Port};
use crate::error::{Error, Result};
use crate::floor::BookRef;
use crate::floor::checks::validate_blocking;
use crate::floor::fp32::PIPELINED_ADDER_LATENCY;
use crate::format::{InputFormat, OperandFormat};
use crate::prove::facts::Facts;
use crate::units::unit::{Hardware, Spec};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GemmParams {
    /// Activations' block format (quantized on the fly).
    pub format_x: OperandFormat,
    /// Weights' block format (quantized offline).
    pub format_w: OperandFormat,
    #[serde(default = "crate::units::defaults::block_size")]
    pub block_size: usize,
    /// K: elements of an activation row and of a weight row (a multiple of the block size).
    pub in_features: usize,
    /// N: weight rows, the elements of a result row (a multiple of `cols`).
    pub out_features: usize,
    /// R: activation rows computed at once.
    #[serde(default = "crate::units::defaults::tile")]
    pub rows: usize,
    /// C: weight rows computed at once.
    #[serde(default = "crate::units::defaults::tile")]
    pub cols: usize,
    /// Activation elements per input beat (a divisor of the block size).
    #[serde(default)]
    pub lanes: Option<usize>,
    #[serde(default)]
    pub input_format: InputFormat,
    /// Result values: f32 or bf16 (RNE).
    #[serde(default)]
    pub output_format: InputFormat,
    /// Quantize the results again, to this MX element format, for the next layer (the result
    /// values in `output_format` go through a generated mx-quantizer).
    #[serde(default)]
    pub requantize: Option<crate::format::ElementFormat>,
    /// Block size of the requantized results [default: the block size].
    #[serde(default)]
    pub output_block_size: Option<usize>,
    /// Register stages of the quantizer and of each dot unit.
    #[serde(default = "crate::units::defaults::pipeline")]
    pub pipeline: usize,
    /// Register stages of the activation quantizer, where it takes more than the dots (an
    /// mx-quantizer taking a block a beat has up to 12, a bd-quantizer 16) [default: `pipeline`].
    #[serde(default)]
    pub quantizer_pipeline: Option<usize>,
    /// A `.safetensors` checkpoint holding the weight tensor (else random weights).
    #[serde(default)]
    pub weights: Option<PathBuf>,
    /// The weight tensor's name in `weights` (N rows of K).
    #[serde(default)]
    pub tensor: Option<String>,
    /// Seed of the random weights used when no checkpoint is given.
    #[serde(default = "crate::units::defaults::weight_seed")]
    pub weight_seed: u64,
    #[serde(default)]
    pub formatbook: BookRef,
    /// How the dots multiply MXINT8 x MXINT8 (LUT compressors or DSP multiplies).
    #[serde(default)]
    pub multiplier: crate::units::dot::Multiplier,
}

crate::floor::checks::lanes_and_beats!(GemmParams);

/// The largest layer side the generator takes (memories are written out word by word).
pub const MAX_FEATURES: usize = 1 << 14;
/// The largest tile side.
pub const MAX_TILE: usize = 16;
/// Cycles from a slot's issue to its block pair at the dots: the registered read addresses,
/// the memories' two-cycle read, and a register on the read data.
pub const READ_STAGES: u32 = 4;
/// Cycles from a dot unit's block sum to its FP32 term: a register on the sum, then the
/// pipelined rounding (no stage holds more than one of negation, leading zeros, shift, round).
pub const CONVERSION_STAGES: u32 = 1 + crate::floor::fp32::PIPELINED_ROUND_LATENCY;

impl GemmParams {
    pub const UNIT: &'static str = "gemm";

    /// Whether the activations are NVFP4: the tile then takes their FP32 tensor scale.
    pub fn x_nvfp4(&self) -> bool {
        self.format_x == OperandFormat::Nvfp4
    }

    /// Whether either operand is NVFP4, whose tensor scales the tile leaves to the user.
    pub fn nvfp4(&self) -> bool {
        self.x_nvfp4() || self.format_w == OperandFormat::Nvfp4
    }

    /// Stimulus values of one group of R rows: their raw input codes, then the activations'
    /// tensor scale (FP32 bits) when they are NVFP4.
    pub fn group_stimulus_len(&self) -> usize {
        self.rows * self.in_features + usize::from(self.x_nvfp4())
    }

    /// Blocks per row (K / k).
    pub fn blocks(&self) -> usize {
        self.in_features / self.block_size
    }

    /// Groups of C weight rows (N / C).
    pub fn groups(&self) -> usize {
        self.out_features / self.cols
    }

    /// Issue slots per block index: one per group, at least enough that a partial sum is
    /// written back before the same output's next block pair reads it (its memory may read a
    /// cycle early, and takes two).
    pub fn slots(&self) -> usize {
        self.groups().max(PIPELINED_ADDER_LATENCY as usize + 3)
    }

    pub fn validate(&self) -> Result<()> {
        self.formatbook.get()?;
        validate_blocking(self.block_size, self.lanes(), self.pipeline)?;
        self.multiplier.check(self.format_x, self.format_w)?;
        if self.x_nvfp4() && self.beats() != 1 {
            return Err(Error::input(format!(
                "--format-x nvfp4: the tile's nvfp4-quantizer takes a whole block per beat, so --lanes {} must equal the block size {}",
                self.lanes(),
                self.block_size
            )));
        }
        if let (Some(f), true) = (self.requantize, self.nvfp4()) {
            return Err(Error::input(format!(
                "--requantize {} with nvfp4 operands: the tile leaves the FP32 tensor scales to the user, so its results are not yet the layer's values to quantize again",
                f.mx_name()
            )));
        }
        if self.output_format == InputFormat::F16 {
            return Err(Error::input(
                "--output-format f16: the gemm tile writes f32 or bf16 results",
            ));
        }
        let k = self.block_size;
        if self.in_features == 0
            || !self.in_features.is_multiple_of(k)
            || self.in_features > MAX_FEATURES
        {
            return Err(Error::input(format!(
                "in features {} must be a multiple of the block size {k}, at most {MAX_FEATURES}",
                self.in_features
            )));
        }
        for (flag, v) in [("--rows", self.rows), ("--cols", self.cols)] {
            if v == 0 || v > MAX_TILE {
                return Err(Error::input(format!("{flag} {v} must be 1 to {MAX_TILE}")));
            }
        }
        if self.out_features == 0
            || !self.out_features.is_multiple_of(self.cols)
            || self.out_features > MAX_FEATURES
        {
            return Err(Error::input(format!(
                "out features {} must be a multiple of --cols {}, at most {MAX_FEATURES}",
                self.out_features, self.cols
            )));
        }
        if let Some(f) = self.requantize {
            let ko = self.out_block();
            validate_blocking(ko, self.cols, self.pipeline).map_err(|e| {
                Error::input(format!(
                    "--requantize {} with output block size {ko} and --cols {}: {e}",
                    f.mx_name(),
                    self.cols
                ))
            })?;
            if !self.out_features.is_multiple_of(ko) {
                return Err(Error::input(format!(
                    "out features {} must be a multiple of the output block size {ko} (--requantize)",
                    self.out_features
                )));
            }
        } else if self.output_block_size.is_some() {
            return Err(Error::input(
                "--output-block-size needs --requantize FORMAT",
            ));
        }
        if self.tensor.is_some() != self.weights.is_some() {
            return Err(Error::input(
                "--weights FILE.safetensors and --tensor NAME go together",
            ));
        }
        Ok(())
    }

    /// Register stages of the activation quantizer.
    pub fn quantizer_stages(&self) -> usize {
        self.quantizer_pipeline.unwrap_or(self.pipeline)
    }

    /// The dot unit of every tile position: one block pair per cycle, exact block sums.
    pub fn dot(&self) -> crate::units::DotParams {
        crate::units::DotParams {
            format_a: self.format_x,
            format_b: self.format_w,
            block_size: self.block_size,
            lanes: None,
            pipeline: self.pipeline,
            accumulate: crate::units::dot::AccumulateKind::None,
            dot_length: 1,
            acc_width: crate::units::defaults::ACC_WIDTH,
            acc_lsb: crate::units::defaults::ACC_LSB,
            formatbook: self.formatbook.clone(),
            multiplier: self.multiplier,
        }
    }

    /// The activation quantizer: mx-quantizer (floor scale rule), bd-quantizer with the
    /// two-stage selector, as online activations are quantized, or nvfp4-quantizer.
    pub fn quantizer(&self) -> crate::units::UnitParams {
        use crate::units::UnitParams;
        match self.format_x {
            OperandFormat::Mx(format) => UnitParams::MxQuantizer(crate::units::MxQuantizerParams {
                format,
                block_size: self.block_size,
                input_format: self.input_format,
                lanes: self.lanes,
                pipeline: self.quantizer_stages(),
                flush_subnormals: false,
                scale_rule: crate::format::ScaleRule::Floor,
            }),
            OperandFormat::Nvfp4 => {
                UnitParams::Nvfp4Quantizer(crate::units::Nvfp4QuantizerParams {
                    block_size: self.block_size,
                    input_format: self.input_format,
                    lanes: self.lanes,
                    pipeline: self.quantizer_stages(),
                    flush_subnormals: false,
                })
            }
            OperandFormat::Dialect => UnitParams::BdQuantizer(crate::units::BdQuantizerParams {
                block_size: self.block_size,
                input_format: self.input_format,
                selector: crate::golden::Selector::TwoStage,
                frac_bits: crate::units::defaults::FRAC_BITS,
                scale: crate::format::ScaleFormat::E8m0,
                lanes: self.lanes,
                pipeline: self.quantizer_stages(),
                formatbook: self.formatbook.clone(),
                flush_subnormals: false,
            }),
        }
    }

    fn out_short(&self) -> &'static str {
        match self.output_format {
            InputFormat::Bf16 => "bf16",
            _ => "f32",
        }
    }

    /// The requantized results' block size.
    pub fn out_block(&self) -> usize {
        self.output_block_size.unwrap_or(self.block_size)
    }

    /// The result requantizer: mx-quantizer on the result values, C a beat.
    pub fn requantizer(&self) -> Option<crate::units::MxQuantizerParams> {
        self.requantize
            .map(|format| crate::units::MxQuantizerParams {
                format,
                block_size: self.out_block(),
                input_format: self.output_format,
                lanes: Some(self.cols),
                pipeline: self.pipeline,
                flush_subnormals: false,
                scale_rule: crate::format::ScaleRule::Floor,
            })
    }

    /// Bits of one block as the memories hold it: scale, dialect id (DialectFP4), codes.
    pub fn word_bits(f: OperandFormat, k: usize) -> u32 {
        8 + if f == OperandFormat::Dialect { 4 } else { 0 } + f.code_bits() * k as u32
    }

    pub fn weight_words(&self) -> usize {
        self.groups() * self.blocks()
    }

    fn col_bits(&self) -> u32 {
        bits_for(self.cols as u64 - 1)
    }
}

impl GemmChecked {
    /// Words of the FIFO after the activation quantizer: with its head register, a place
    /// for every beat in flight (those in the quantizer, one entering, one in the FIFO, one
    /// in the head, and the two the room test's old counts keep), so x streams without a
    /// gap. A power of two, so its pointers wrap by themselves.
    pub(super) fn quantizer_fifo_depth(&self) -> u32 {
        (self.quant.hardware().latency() + self.params.beats() as u32 + 4).next_power_of_two()
    }

    /// Stages of the control pipeline beside the data, from a slot's issue to its sum: the
    /// memory read, the dot, the conversion, the term register and the adder.
    pub(super) fn control_depth(&self) -> u32 {
        READ_STAGES
            + self.dot.hardware().latency()
            + CONVERSION_STAGES
            + 1
            + PIPELINED_ADDER_LATENCY
    }
}

impl Hardware for GemmChecked {
    fn spec(&self) -> Spec {
        Spec::of(&self.params)
    }

    fn top(&self) -> Result<String> {
        let p = &self.params;
        Ok(format!(
            "gemm_{}x{}_k{}_i{}_o{}_r{}c{}_l{}_p{}{}_{}{}{}{}_w{}",
            p.format_x.short(),
            p.format_w.short(),
            p.block_size,
            p.in_features,
            p.out_features,
            p.rows,
            p.cols,
            p.lanes(),
            p.pipeline,
            match p.quantizer_pipeline {
                Some(q) => format!("q{q}"),
                None => String::new(),
            },
            p.out_short(),
            match p.requantize {
                Some(f) => format!("_q{}k{}", f.short_name(), p.out_block()),
                None => String::new(),
            },
            p.formatbook.name_suffix()?,
            p.multiplier.name_suffix(),
            &self.weights.digest[..8]
        ))
    }

    fn ports(&self) -> Vec<Port> {
        let p = &self.params;
        vec![Port::input("x_i", p.input_format.bits(), p.lanes())]
            .into_iter()
            .chain(p.x_nvfp4().then(|| Port::input("x_tensor_scale_i", 32, 1)))
            .chain([
                Port::input("w_we_i", 1, 1),
                Port::input("w_col_i", p.col_bits(), 1),
                Port::input(
                    "w_addr_i",
                    crate::floor::ram::addr_bits(p.weight_words()),
                    1,
                ),
                Port::input(
                    "w_data_i",
                    GemmParams::word_bits(p.format_w, p.block_size),
                    1,
                ),
            ])
            .chain(match p.requantize {
                None => vec![Port::output("y_o", p.output_format.bits(), p.cols)],
                Some(f) => vec![
                    Port::output("scale_o", 8, 1),
                    Port::output("codes_o", f.bits(), p.cols),
                    Port::output("nan_o", 1, 1),
                    Port::output("block_last_o", 1, 1),
                ],
            })
            .chain([Port::output("last_o", 1, 1)])
            .collect()
    }

    fn latency(&self) -> u32 {
        let p = &self.params;
        let lq = self.quant.hardware().latency() as usize;
        let in_beats = p.rows * p.blocks() * p.beats();
        // Ingest, one idle cycle to start, the slots of all but the last block index, the
        // last block index's groups, the control pipeline (memory read, dot, conversion,
        // adder), the write, then the result memory's read (two cycles) and the output queue.
        // The FIFO after the quantizer and the memories' write register hold each beat a
        // cycle each.
        (lq + 2
            + in_beats
            + 1
            + (p.blocks() - 1) * p.slots()
            + (p.groups() - 1)
            + self.control_depth() as usize
            + 1
            + 3
            + self
                .requant
                .as_ref()
                .map_or(0, |q| q.hardware().latency() as usize)) as u32
    }

    /// A co-simulation "block" is a group of R activation rows in and their R result rows out.
    fn beats_per_block(&self) -> usize {
        let p = &self.params;
        p.rows * p.blocks() * p.beats()
    }

    /// The slowest of ingest, the array and the result stream.
    fn cycles_per_block(&self) -> usize {
        let p = &self.params;
        (p.rows * p.blocks() * p.beats())
            .max(p.blocks() * p.slots() + 1)
            .max(p.rows * p.groups())
    }

    /// Every one of the R x C dot units takes a block pair each cycle: (N/C) x (K/k) cycles.
    fn peak_cycles_per_block(&self) -> Option<u64> {
        let p = &self.params;
        Some((p.groups() * p.blocks()) as u64)
    }

    fn formal(&self) -> Facts {
        // Row groups: two in the result banks (one computed or computing), two in the
        // activation banks, those whose last results wait in the two-entry output queue with
        // their bank already released (two when a group is one beat, else one), and those the
        // quantizer and its FIFO hold while both activation banks are taken.
        let p = &self.params;
        let queued = if p.rows * p.groups() == 1 { 2 } else { 1 };
        let held = self.quant.hardware().formal().capacity as usize
            + (self.quantizer_fifo_depth() as usize + 1).div_ceil(p.beats())
            + 1;
        // And those in the result requantizer (its blocks, a group's results being R*N/k_o).
        let requant = self.requant.as_ref().map_or(0, |q| {
            (q.hardware().formal().capacity as usize)
                .div_ceil(p.rows * p.out_features / p.out_block())
                + 1
        });
        let mut facts =
            Facts::stream((4 + queued + requant + held.div_ceil(p.rows * p.blocks())) as u32);
        facts.no_miter = Some(
            "the tile at pipeline 0 buffers fewer blocks, so it cannot take every beat this one takes",
        );
        facts
    }

    fn notes(&self) -> Result<Vec<String>> {
        let p = &self.params;
        let mut notes = Vec::new();
        if p.format_x == OperandFormat::Dialect || p.format_w == OperandFormat::Dialect {
            notes.extend(p.formatbook.banner_lines()?);
        }
        notes.push(format!(
            "activation quantizer: {} (its own banner gives its configuration)",
            self.quant.hardware().top()?
        ));
        notes.push(format!(
            "dot unit at every tile position: {}",
            self.dot.hardware().top()?
        ));
        notes.push(format!("weights: {}", self.weights.label));
        notes.push(format!(
            "weights: sha256 of the packed memory images {}",
            self.weights.digest
        ));
        notes.push(
            "accumulation: y[m][n] = (((+0 + d_0) + d_1) + ...) + d_{K/k-1}, block pairs in order, each d_b the exact block dot rounded to FP32 (RNE), each + an IEEE binary32 RNE add; any NaN gives 0x7FC00000 (DotGeneral with one partial sum, docs/numerics.md 4)".into(),
        );
        notes.push(format!(
            "schedule: for each group of {} rows, for each block index b, for each group of {} weight rows g: {} slots per b, so the {}-stage adder's partial sums of one output are {} cycles apart",
            p.rows,
            p.cols,
            p.slots(),
            PIPELINED_ADDER_LATENCY,
            p.slots()
        ));
        if p.nvfp4() {
            notes.push(format!(
                "nvfp4: the tensor scales are left to the user: y = (sum of the block pairs' exact sums, times their UE4M3 block scales) as above; the layer's values are y * s_t,X * s_t,W, s_t,X the FP32 on x_tensor_scale_i (hold it for the whole layer){}",
                match self.weights.tensor_scale {
                    Some(s) => format!(
                        ", s_t,W = {:#010x} ({:e}, RNE(amax / 2688) of the weights)",
                        s,
                        f32::from_bits(s)
                    ),
                    None => String::new(),
                }
            ));
        }
        notes.push(format!(
            "weight memory of column c: word g*{} + b holds block b of weight row g*{} + c; a word is {{codes (element 0 lowest), dialect id if dialectfp4, the block scale (E8M0, or UE4M3 for nvfp4) in bits 7:0}}",
            p.blocks(),
            p.cols
        ));
        Ok(notes)
    }

    fn files(&self, top: &str, banner: &str) -> Result<Vec<GenFile>> {
        self.emit_files(top, banner)
    }
}

/// Activation rows from a file for co-simulation: a matrix of K columns (`.npy`, or the tensor
/// `tensor` of a `.safetensors` file) as raw codes of the tile's input format, which must hold
/// every value exactly; the last group of R rows is padded with +0 rows. NVFP4 activations
/// take the file's default tensor scale, RNE(amax / 2688), after each group's rows.
pub fn activation_rows(
    p: &GemmParams,
    path: &std::path::Path,
    tensor: Option<&str>,
) -> Result<Vec<u32>> {
    let mut opts = crate::io::LoadOptions {
        all_shapes: true,
        // Raw 16-bit codes in an integer `.npy` are the tile's input format.
        input_format: Some(p.input_format),
        ..Default::default()
    };
    if let Some(name) = tensor {
        opts.tensor_patterns = vec![
            regex::Regex::new(&format!("^{}$", regex::escape(name)))
                .map_err(|e| Error::input(format!("--activations-tensor {name}: {e}")))?,
        ];
    }
    let loaded = crate::io::load(path, &opts)?;
    let shown = path.display();
    let t = match loaded.tensors.as_slice() {
        [t] => t,
        [] => return Err(Error::input(format!("{shown}: no tensor to stream"))),
        _ => {
            return Err(Error::input(format!(
                "{shown} holds several tensors: name one with --activations-tensor"
            )));
        }
    };
    if t.row_len() != p.in_features || t.rows() == 0 {
        return Err(Error::input(format!(
            "{shown}: tensor {} has shape {:?}; activation rows need {} columns (--in-features)",
            t.name, t.shape, p.in_features
        )));
    }
    let f = p.input_format;
    let mut raw = Vec::with_capacity(t.bits.len());
    for (i, &b) in t.bits.iter().enumerate() {
        raw.push(f.narrow_exact(b).ok_or_else(|| {
            Error::input(format!(
                "{shown}: element {} of row {} is not exactly a {} value (give --input-format {})",
                i % p.in_features,
                i / p.in_features,
                f.name(),
                t.dtype.name()
            ))
        })?);
    }
    let group = p.rows * p.in_features;
    raw.resize(raw.len().div_ceil(group) * group, 0);
    if !p.x_nvfp4() {
        return Ok(raw);
    }
    // NVFP4 activations: the default tensor scale of the whole file, with every group.
    let s_t = crate::golden::nvfp4::default_tensor_scale(crate::golden::nvfp4::finite_amax(
        raw.iter().map(|&x| f.widen(x)),
    ));
    Ok(raw
        .chunks(group)
        .flat_map(|g| g.iter().copied().chain([s_t]))
        .collect())
}
