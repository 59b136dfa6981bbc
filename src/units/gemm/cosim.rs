//! The checked gemm tile: its parts (quantizer, dot) checked as those units, the weights
//! loaded and quantized once, and the golden model of a group of R rows.

use super::GemmParams;
use super::pack::Images;
use crate::emit::layout::Layout;
use crate::error::{Error, Result};
use crate::format::{InputFormat, OperandFormat};
use crate::golden::{BlockFormat, QuantBlock, Quantizer};
use crate::stimulus::Dist;
use crate::units::unit::{Checked, Hardware, Unit};
use rand_pcg::Pcg64;

/// The layer's weights: N rows of K/k quantized blocks, the FP32 values they came from, and
/// where they came from.
#[derive(Debug, Clone)]
pub struct Weights {
    pub rows: Vec<Vec<QuantBlock>>,
    /// FP32 bits, row-major N x K (for the quantized layer's SQNR).
    pub source: Vec<u32>,
    pub label: String,
    /// SHA-256 of the packed memory images, hex.
    pub digest: String,
    /// NVFP4 weights: their FP32 tensor scale s_t,W (bits), RNE(amax / 2688) of the tensor.
    pub tensor_scale: Option<u32>,
}

pub struct GemmChecked {
    pub(super) params: GemmParams,
    pub(super) fx: BlockFormat,
    pub(super) fw: BlockFormat,
    /// The activation quantizer's golden model, configured as its hardware.
    pub(super) xq: Quantizer,
    pub(super) quant: Box<dyn Checked>,
    pub(super) dot: Box<dyn Checked>,
    pub(super) requant: Option<Box<dyn Checked>>,
    pub(super) weights: Weights,
    pub(super) images: Images,
}

impl Unit for GemmParams {
    const NAME: &'static str = "gemm";
    const NOTED: &'static [&'static str] = &["formatbook"];
    type Checked = GemmChecked;

    fn resolved(&self) -> Self {
        GemmParams {
            lanes: Some(self.lanes()),
            ..self.clone()
        }
    }

    fn states(&self, field: &str) -> bool {
        match field {
            "weight_seed" => self.weights.is_none(),
            "multiplier" => crate::units::dot::int8_pair(self.format_x, self.format_w),
            _ => true,
        }
    }

    fn check(&self) -> Result<GemmChecked> {
        self.validate()?;
        let book = self.formatbook.get()?;
        let quant = self.quantizer().check().map_err(|e| {
            if self.quantizer_pipeline.is_some() {
                Error::input(format!("--quantizer-pipeline: {e}"))
            } else {
                e
            }
        })?;
        let dot: Box<dyn Checked> = Box::new(self.dot().check()?);
        let requant = match self.requantizer() {
            Some(q) => Some(Box::new(q.check()?) as Box<dyn Checked>),
            None => None,
        };
        let xq = match self.quantizer() {
            crate::units::UnitParams::MxQuantizer(q) => Quantizer::Mx(q.golden()),
            crate::units::UnitParams::BdQuantizer(q) => Quantizer::Dialect(Box::new(q.golden()?)),
            // Its tensor scale comes with each group (`quantize_row`).
            crate::units::UnitParams::Nvfp4Quantizer(q) => {
                Quantizer::Nvfp4(q.golden(1.0f32.to_bits()))
            }
            _ => unreachable!("the tile's quantizers are mx, bd or nvfp4"),
        };
        let (source, label) = self.weight_source()?;
        let wq = Quantizer::weights(self.format_w, book.clone())?
            .for_tensor(&source)
            .into_owned();
        let tensor_scale = match &wq {
            Quantizer::Nvfp4(c) => Some(c.tensor_scale()),
            _ => None,
        };
        let k = self.block_size;
        let rows: Vec<Vec<QuantBlock>> = source
            .chunks(self.in_features)
            .map(|row| row.chunks(k).map(|b| wq.quantize(b)).collect())
            .collect();
        let images = Images::of(self, &rows);
        let digest = images.digest();
        Ok(GemmChecked {
            fx: BlockFormat::named(self.format_x, book.clone()),
            fw: BlockFormat::named(self.format_w, book),
            xq,
            quant,
            dot,
            requant,
            weights: Weights {
                rows,
                source,
                label,
                digest,
                tensor_scale,
            },
            images,
            params: self.clone(),
        })
    }
}

impl GemmParams {
    /// FP32 bits of the N x K weights, and a line saying where they came from.
    fn weight_source(&self) -> Result<(Vec<u32>, String)> {
        let (n, kk) = (self.out_features, self.in_features);
        let (Some(path), Some(name)) = (&self.weights, &self.tensor) else {
            let book = self.formatbook.get()?;
            let mut rng = crate::stimulus::rng(self.weight_seed);
            let mut v = Vec::with_capacity(n * kk);
            for _ in 0..n * (kk / self.block_size) {
                v.extend(crate::stimulus::block(
                    Dist::Normal,
                    InputFormat::F32,
                    self.block_size,
                    &book,
                    &mut rng,
                ));
            }
            return Ok((
                v,
                format!(
                    "random (normal, a random power-of-two scale per block), seed {}",
                    self.weight_seed
                ),
            ));
        };
        let pattern = regex::Regex::new(&format!("^{}$", regex::escape(name)))
            .map_err(|e| Error::input(format!("--tensor {name}: {e}")))?;
        let opts = crate::io::LoadOptions {
            tensor_patterns: vec![pattern],
            ..Default::default()
        };
        let loaded = crate::io::load(path, &opts)?;
        let t = loaded
            .tensors
            .into_iter()
            .next()
            .ok_or_else(|| Error::input(format!("{}: no tensor {name}", path.display())))?;
        if t.shape.len() != 2 || t.shape[0] != n || t.shape[1] != kk {
            return Err(Error::input(format!(
                "{}: tensor {name} has shape {:?}; --out-features {n} --in-features {kk} need [{n}, {kk}]",
                path.display(),
                t.shape
            )));
        }
        Ok((
            t.bits,
            format!("tensor {name} ({}) of {}", t.dtype.name(), path.display()),
        ))
    }
}

impl GemmChecked {
    pub fn params(&self) -> &GemmParams {
        &self.params
    }

    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    pub fn images(&self) -> &Images {
        &self.images
    }

    /// One activation row (raw input codes) quantized as the tile's quantizer does, NVFP4
    /// with the tensor scale `tensor_scale` (FP32 bits; the other formats have none).
    pub fn quantize_row(&self, raw: &[u32], tensor_scale: u32) -> Vec<QuantBlock> {
        let f = self.params.input_format;
        let given;
        let q = match &self.xq {
            // The child unit's own golden model, at this group's tensor scale.
            Quantizer::Nvfp4(_) => {
                let crate::units::UnitParams::Nvfp4Quantizer(nq) = self.params.quantizer() else {
                    unreachable!("NVFP4 activations have an nvfp4-quantizer")
                };
                given = Quantizer::Nvfp4(nq.golden(tensor_scale));
                &given
            }
            other => other,
        };
        raw.chunks(self.params.block_size)
            .map(|b| {
                let bits: Vec<u32> = b.iter().map(|&x| f.widen(x)).collect();
                q.quantize(&bits)
            })
            .collect()
    }

    /// One group's stimulus as its R rows' raw codes and the activations' tensor scale (1.0
    /// when they are not NVFP4, where it is not used).
    pub fn split_group<'a>(&self, stim: &'a [u32]) -> (&'a [u32], u32) {
        let n = self.params.rows * self.params.in_features;
        match stim.get(n) {
            Some(&s) if self.params.x_nvfp4() => (&stim[..n], s),
            _ => (&stim[..n], 1.0f32.to_bits()),
        }
    }

    /// A result row quantized again for the next layer (`--requantize`), block by block.
    pub fn requantized(&self, y: &[u32]) -> Option<Vec<QuantBlock>> {
        let q = self.params.requantizer()?;
        Some(y.chunks(q.block_size).map(|b| q.golden_block(b)).collect())
    }

    /// The N results of one activation row, in the output format's bits.
    pub fn golden_row(&self, raw: &[u32], tensor_scale: u32) -> Vec<u32> {
        let xq = self.quantize_row(raw, tensor_scale);
        self.weights
            .rows
            .iter()
            .map(|w| {
                let y = crate::golden::gemm::output(&self.fx, &xq, &self.fw, w);
                match self.params.output_format {
                    InputFormat::Bf16 => crate::golden::gemm::f32_to_bf16(y),
                    _ => y,
                }
            })
            .collect()
    }
}

impl Checked for GemmChecked {
    fn hardware(&self) -> &dyn Hardware {
        self
    }

    fn stimulus_len(&self) -> usize {
        self.params.group_stimulus_len()
    }

    fn stimulus(&self, dist: Dist, rng: &mut Pcg64, out: &mut Vec<u32>) {
        let p = &self.params;
        let book = p.formatbook.get().expect("checked");
        let start = out.len();
        for _ in 0..p.rows * p.blocks() {
            out.extend(crate::stimulus::block(
                dist,
                p.input_format,
                p.block_size,
                &book,
                rng,
            ));
        }
        if p.x_nvfp4() {
            let f = p.input_format;
            let group = out[start..].iter().map(|&x| f.widen(x));
            out.push(crate::stimulus::tensor_scale_for(
                crate::golden::nvfp4::finite_amax(group),
                rng,
            ));
        }
    }

    /// Each beat's elements, with the group's tensor scale beside them when the activations
    /// are NVFP4.
    fn input_beats(&self, layout: &Layout, stim: &[u32], out: &mut Vec<u8>) {
        let (rows, ts) = self.split_group(stim);
        for values in rows.chunks(self.params.lanes()) {
            let mut beat = layout.beat(out);
            beat.put("x_i", values.iter().map(|&x| i128::from(x)));
            if self.params.x_nvfp4() {
                beat.set("x_tensor_scale_i", ts);
            }
        }
    }

    /// The SQNR of the quantized layer's results against an FP64 matmul of the same
    /// activations and the unquantized weights.
    fn accuracy(&self, stim: &[u32]) -> Option<String> {
        let p = &self.params;
        let kk = p.in_features;
        let f = p.input_format;
        let (mut signal, mut noise, mut n, mut skipped) = (0.0f64, 0.0f64, 0u64, 0u64);
        let s_w = self
            .weights
            .tensor_scale
            .map_or(1.0, |s| f64::from(f32::from_bits(s)));
        let rows = stim.chunks(p.group_stimulus_len()).flat_map(|g| {
            let (rows, ts) = self.split_group(g);
            rows.chunks(kk).map(move |r| (r, ts))
        });
        for (row, ts) in rows {
            // The layer's values: the tensor scales the tile leaves to the user, applied.
            let scale = if p.nvfp4() {
                s_w * f64::from(f32::from_bits(ts))
            } else {
                1.0
            };
            let x: Vec<f64> = row
                .iter()
                .map(|&r| f64::from(f32::from_bits(f.widen(r))))
                .collect();
            let y = self.golden_row(row, ts);
            let values: Vec<f64> = match (self.requantized(&y), p.requantize) {
                (Some(blocks), Some(f)) => blocks
                    .iter()
                    .flat_map(|b| BlockFormat::Mx(f).dequantize(b))
                    .collect(),
                _ => y
                    .iter()
                    .map(|&v| f64::from(f32::from_bits(p.output_format.widen(v))) * scale)
                    .collect(),
            };
            for (w, &got) in self.weights.source.chunks(kk).zip(&values) {
                let exact: f64 = x
                    .iter()
                    .zip(w)
                    .map(|(a, &b)| a * f64::from(f32::from_bits(b)))
                    .sum();
                if !exact.is_finite() || !got.is_finite() {
                    skipped += 1;
                    continue;
                }
                signal += exact * exact;
                noise += (got - exact) * (got - exact);
                n += 1;
            }
        }
        let db = if noise == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (signal / noise).log10()
        };
        Some(format!(
            "sqnr {db:.2} dB over {n} outputs (quantized layer against an FP64 matmul of the unquantized activations and weights{})",
            if skipped > 0 {
                format!("; {skipped} non-finite outputs left out")
            } else {
                String::new()
            }
        ))
    }

    fn expected_beats(&self, layout: &Layout, stim: &[u32], out: &mut Vec<u8>) {
        let p = &self.params;
        let (rows, ts) = self.split_group(stim);
        for row in rows.chunks(p.in_features) {
            let y = self.golden_row(row, ts);
            let Some(blocks) = self.requantized(&y) else {
                for (g, vals) in y.chunks(p.cols).enumerate() {
                    let mut beat = layout.beat(out);
                    beat.put("y_o", vals.iter().map(|&v| i128::from(v)));
                    beat.set("last_o", g + 1 == p.groups());
                }
                continue;
            };
            let beats = p.out_block() / p.cols;
            for (i, q) in blocks.iter().enumerate() {
                for (b, codes) in q.codes.chunks(p.cols).enumerate() {
                    let mut beat = layout.beat(out);
                    beat.set("scale_o", q.scale);
                    beat.put("codes_o", codes.iter().map(|&c| i128::from(c)));
                    beat.set("nan_o", q.nan);
                    beat.set("block_last_o", b + 1 == beats);
                    beat.set("last_o", b + 1 == beats && i + 1 == blocks.len());
                }
            }
        }
    }
}

/// Whether a format's blocks carry a dialect id.
pub(super) fn has_dialect(f: OperandFormat) -> bool {
    f == OperandFormat::Dialect
}
