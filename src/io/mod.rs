//! Reading tensors from `.npy` and `.safetensors` files into FP32 bit patterns.

mod npy;
mod safetensors_file;

use crate::error::Error;
use crate::format::InputFormat;
use regex::Regex;
use std::path::Path;

/// One tensor, rows along the first axis, blocks along the last.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    /// `[cols]` or `[rows, cols]`.
    pub shape: Vec<usize>,
    /// The format the file stored (the values were widened from it exactly).
    pub dtype: InputFormat,
    /// FP32 bit patterns, row-major.
    pub bits: Vec<u32>,
}

impl Tensor {
    pub fn rows(&self) -> usize {
        if self.shape.len() == 2 {
            self.shape[0]
        } else {
            1
        }
    }

    pub fn row_len(&self) -> usize {
        *self.shape.last().unwrap_or(&0)
    }
}

/// What the user asked to load.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// Safetensors: tensors whose name matches any of these (all floating tensors when empty).
    pub tensor_patterns: Vec<Regex>,
    /// Format of data the file cannot describe (raw 16-bit codes in an integer `.npy`).
    pub input_format: Option<InputFormat>,
}

pub fn load(path: &Path, opts: &LoadOptions) -> Result<Vec<Tensor>, Error> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?;
    let name = path.display().to_string();
    if bytes.starts_with(b"\x93NUMPY") {
        if !opts.tensor_patterns.is_empty() {
            return Err(Error::input(format!(
                "{name}: --tensor selects tensors of a .safetensors file; an .npy file holds one array"
            )));
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone());
        return Ok(vec![npy::read(&bytes, &name, stem, opts.input_format)?]);
    }
    if path.extension().is_some_and(|e| e == "safetensors") || looks_like_safetensors(&bytes) {
        return safetensors_file::read(&bytes, &name, opts);
    }
    Err(Error::input(format!(
        "{name}: not an .npy or .safetensors file (no NUMPY magic, no safetensors header)"
    )))
}

/// Safetensors starts with a little-endian u64 header length followed by a JSON object.
fn looks_like_safetensors(bytes: &[u8]) -> bool {
    bytes.len() > 9 && bytes[8] == b'{'
}

/// Shape check shared by both readers: 1-D or 2-D only, and not empty.
fn check_shape(name: &str, shape: &[usize]) -> Result<(), Error> {
    match shape.len() {
        1 | 2 => Ok(()),
        n => Err(Error::input(format!(
            "{name}: a {n}-D array; blocks run along the last axis of a 1-D or 2-D array (reshape it first)"
        ))),
    }
}

/// Resolve the stored format against `--input-format`: a declared dtype wins, and a different
/// `--input-format` is a conflict, not a silent override.
fn declared(
    name: &str,
    dtype: InputFormat,
    opt: Option<InputFormat>,
) -> Result<InputFormat, Error> {
    match opt {
        Some(o) if o != dtype => Err(Error::input(format!(
            "{name}: the file stores {dtype}, but --input-format says {o}"
        ))),
        _ => Ok(dtype),
    }
}

/// Write a demo or test tensor: `.npy` (any of the three formats; bf16 as uint16 codes, since
/// NumPy has no bfloat16) or `.safetensors` (named tensors). `raw` holds codes of `fmt`.
pub fn write_tensors(
    path: &Path,
    fmt: InputFormat,
    tensors: &[(String, Vec<usize>, Vec<u32>)],
) -> Result<(), Error> {
    let fail = |e: String| Error::input(format!("cannot write {}: {e}", path.display()));
    let bytes: Vec<u8> = if path.extension().is_some_and(|e| e == "safetensors") {
        let datas: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, _, raw)| raw_le_bytes(fmt, raw))
            .collect();
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .zip(&datas)
            .map(|((n, shape, _), d)| {
                let dtype = match fmt {
                    InputFormat::F32 => safetensors::Dtype::F32,
                    InputFormat::Bf16 => safetensors::Dtype::BF16,
                    InputFormat::F16 => safetensors::Dtype::F16,
                };
                safetensors::tensor::TensorView::new(dtype, shape.clone(), d)
                    .map(|v| (n.clone(), v))
                    .map_err(|e| fail(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        safetensors::serialize(views, None).map_err(|e| fail(e.to_string()))?
    } else {
        let [(_, shape, raw)] = tensors else {
            return Err(fail("an .npy file holds exactly one tensor".into()));
        };
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let io = |e: std::io::Error| fail(e.to_string());
        match fmt {
            InputFormat::F32 => npy_bytes(&shape, raw.iter().map(|&b| f32::from_bits(b))),
            InputFormat::F16 => npy_bytes(
                &shape,
                raw.iter().map(|&b| npyz::half::f16::from_bits(b as u16)),
            ),
            InputFormat::Bf16 => npy_bytes(&shape, raw.iter().map(|&b| b as u16)),
        }
        .map_err(io)?
    };
    crate::emit::write::write_atomic(path, &bytes)
}

fn raw_le_bytes(fmt: InputFormat, raw: &[u32]) -> Vec<u8> {
    match fmt {
        InputFormat::F32 => raw.iter().flat_map(|b| b.to_le_bytes()).collect(),
        _ => raw.iter().flat_map(|&b| (b as u16).to_le_bytes()).collect(),
    }
}

fn npy_bytes<T: npyz::AutoSerialize>(
    shape: &[u64],
    values: impl Iterator<Item = T>,
) -> std::io::Result<Vec<u8>> {
    use npyz::WriterBuilder;
    let mut buf = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut buf)
        .begin_nd()?;
    w.extend(values)?;
    w.finish()?;
    Ok(buf)
}
