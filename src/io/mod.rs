//! Reading tensors from `.npy` and `.safetensors` files into FP32 bit patterns.

pub mod demo;
mod npy;
mod safetensors_file;

use crate::error::Error;
use crate::format::InputFormat;
use regex::Regex;
use std::path::Path;

/// One tensor, blocks along the last axis, rows the other axes flattened.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub name: String,
    /// As stored: `[cols]`, `[rows, cols]`, or more axes (`--all-shapes`).
    pub shape: Vec<usize>,
    /// The format the file stored (the values were widened from it exactly).
    pub dtype: InputFormat,
    /// FP32 bit patterns, row-major.
    pub bits: Vec<u32>,
}

impl Tensor {
    /// Rows of blocks: every axis but the last, flattened (1 for a vector).
    pub fn rows(&self) -> usize {
        self.shape[..self.shape.len().saturating_sub(1)]
            .iter()
            .product()
    }

    pub fn row_len(&self) -> usize {
        *self.shape.last().unwrap_or(&0)
    }
}

/// A tensor of the file that was not taken, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

impl Skipped {
    pub fn new(name: &str, reason: &str) -> Skipped {
        Skipped {
            name: name.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// What a load found: the tensors taken, those left out, and conversions worth saying.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub tensors: Vec<Tensor>,
    pub skipped: Vec<Skipped>,
    pub notes: Vec<String>,
}

/// What the user asked to load.
#[derive(Debug, Default, Clone)]
pub struct LoadOptions {
    /// Safetensors: tensors whose name matches any of these (all floating tensors when empty).
    pub tensor_patterns: Vec<Regex>,
    /// Safetensors: tensors whose name matches any of these are left out.
    pub exclude: Vec<Regex>,
    /// Safetensors: take 1-D and N-D tensors too (by default only matrices, the weights, unless
    /// `--tensor` names them).
    pub all_shapes: bool,
    /// Format of data the file cannot describe (raw 16-bit codes in an integer `.npy`).
    pub input_format: Option<InputFormat>,
}

/// A tensor file larger than this is refused (a checkpoint that big comes in shards).
pub const MAX_TENSOR_FILE_BYTES: u64 = 1 << 36;

/// Load a `.npy` file, a `.safetensors` file (memory-mapped), or a sharded checkpoint through
/// its `*.safetensors.index.json`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Loaded, Error> {
    let shown = path.display().to_string();
    if path.to_string_lossy().ends_with(".index.json") {
        return load_sharded(path, opts);
    }
    let map = map_file(path)?;
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
    let is_safetensors = path.extension().is_some_and(|e| e == "safetensors");
    from_bytes(&map, &shown, stem, is_safetensors, opts)
}

/// A tensor file, mapped read-only.
fn map_file(path: &Path) -> Result<memmap2::Mmap, Error> {
    crate::user_file::map(path, MAX_TENSOR_FILE_BYTES)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))
}

/// A sharded checkpoint: the index's `weight_map` names each tensor's shard, beside the index.
fn load_sharded(index: &Path, opts: &LoadOptions) -> Result<Loaded, Error> {
    let shown = index.display().to_string();
    let text = crate::user_file::read(index, 64 << 20)
        .map_err(|e| Error::input(format!("{shown}: {e}")))?;
    let json: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| Error::input(format!("{shown}: not a JSON index ({e})")))?;
    let map = json
        .get("weight_map")
        .and_then(|m| m.as_object())
        .ok_or_else(|| Error::input(format!("{shown}: no \"weight_map\" object")))?;
    let mut files: Vec<String> = Vec::new();
    for (tensor, file) in map {
        let file = file.as_str().ok_or_else(|| {
            Error::input(format!(
                "{shown}: weight_map entry {tensor} is not a file name"
            ))
        })?;
        if file.contains('/') || file.contains('\\') || file.starts_with('.') {
            return Err(Error::input(format!(
                "{shown}: shard {file} must be a file name beside the index"
            )));
        }
        if !files.iter().any(|f| f == file) {
            files.push(file.to_string());
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Error::input(format!("{shown}: the weight_map is empty")));
    }
    let folder = index.parent().unwrap_or(Path::new("."));
    let maps = files
        .iter()
        .map(|f| map_file(&folder.join(f)))
        .collect::<Result<Vec<_>, _>>()?;
    let shards: Vec<safetensors_file::Shard> = files
        .iter()
        .zip(&maps)
        .map(|(f, m)| safetensors_file::Shard {
            label: folder.join(f).display().to_string(),
            bytes: m,
        })
        .collect();
    safetensors_file::read(&shards, &shown, opts)
}

/// The tensors of a file's contents; `name` is how errors name the file, `stem` the name of an
/// `.npy` file's one tensor, `is_safetensors` whether the file's name says so.
pub fn from_bytes(
    bytes: &[u8],
    name: &str,
    stem: Option<String>,
    is_safetensors: bool,
    opts: &LoadOptions,
) -> Result<Loaded, Error> {
    if bytes.starts_with(b"\x93NUMPY") {
        if !opts.tensor_patterns.is_empty() || !opts.exclude.is_empty() {
            return Err(Error::input(format!(
                "{name}: --tensor and --exclude select tensors of a .safetensors checkpoint; an .npy file holds one array"
            )));
        }
        let stem = stem.unwrap_or_else(|| name.to_string());
        let (tensor, note) = npy::read(bytes, name, stem, opts.input_format)?;
        return Ok(Loaded {
            tensors: vec![tensor],
            skipped: Vec::new(),
            notes: note.into_iter().collect(),
        });
    }
    if is_safetensors || looks_like_safetensors(bytes) {
        let shard = safetensors_file::Shard {
            label: name.to_string(),
            bytes,
        };
        return safetensors_file::read(&[shard], name, opts);
    }
    Err(Error::input(format!(
        "{name}: not an .npy or .safetensors file (no NUMPY magic, no safetensors header)"
    )))
}

/// Safetensors starts with a little-endian u64 header length followed by a JSON object.
fn looks_like_safetensors(bytes: &[u8]) -> bool {
    bytes.len() > 9 && bytes[8] == b'{'
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

/// Write demo or test tensors: `.npy` (one tensor, any of the three formats; bf16 as uint16
/// codes, since NumPy has no bfloat16) or `.safetensors` (named tensors). `raw` holds codes of
/// `fmt`.
pub fn write_tensors(
    path: &Path,
    fmt: InputFormat,
    tensors: &[(String, Vec<usize>, Vec<u32>)],
) -> Result<(), Error> {
    let specs: Vec<(String, Vec<usize>)> = tensors
        .iter()
        .map(|(n, s, _)| (n.clone(), s.clone()))
        .collect();
    let mut at = vec![0usize; tensors.len()];
    write_tensors_with(path, fmt, &specs, |i, out, n| {
        out.extend_from_slice(&tensors[i].2[at[i]..at[i] + n]);
        at[i] += n;
    })
}

/// Elements handed to the writer at a time: the peak memory of a write, whatever its size.
const WRITE_CHUNK: usize = 1 << 16;

/// Write tensors `(name, shape)` whose elements `fill(i, out, n)` appends, the next `n` codes of
/// tensor `i` at a time, in bounded memory.
pub fn write_tensors_with(
    path: &Path,
    fmt: InputFormat,
    specs: &[(String, Vec<usize>)],
    mut fill: impl FnMut(usize, &mut Vec<u32>, usize),
) -> Result<(), Error> {
    let fail = |e: String| Error::input(format!("cannot write {}: {e}", path.display()));
    let count = |shape: &[usize]| -> Result<u64, Error> {
        shape
            .iter()
            .try_fold(1u64, |a, &d| a.checked_mul(d as u64))
            .ok_or_else(|| fail("the shape overflows".into()))
    };
    let sizes = specs
        .iter()
        .map(|(_, s)| count(s))
        .collect::<Result<Vec<u64>, Error>>()?;
    let width = fmt.bits() as u64 / 8;
    let is_safetensors = path.extension().is_some_and(|e| e == "safetensors");
    if !is_safetensors && specs.len() != 1 {
        return Err(fail("an .npy file holds exactly one tensor".into()));
    }
    crate::emit::write::write_atomic_with(path, |w| {
        if is_safetensors {
            w.write_all(&safetensors_header(fmt, specs, &sizes, width))?;
            for (i, &n) in sizes.iter().enumerate() {
                stream(
                    n,
                    |buf, take| fill(i, buf, take),
                    |c| {
                        let bytes: Vec<u8> = match fmt {
                            InputFormat::F32 => c.iter().flat_map(|b| b.to_le_bytes()).collect(),
                            _ => c.iter().flat_map(|&b| (b as u16).to_le_bytes()).collect(),
                        };
                        w.write_all(&bytes)
                    },
                )?;
            }
            return Ok(());
        }
        let shape: Vec<u64> = specs[0].1.iter().map(|&d| d as u64).collect();
        let fill = |buf: &mut Vec<u32>, take| fill(0, buf, take);
        match fmt {
            InputFormat::F32 => npy_write(w, &shape, sizes[0], fill, f32::from_bits),
            InputFormat::F16 => npy_write(w, &shape, sizes[0], fill, |b| {
                npyz::half::f16::from_bits(b as u16)
            }),
            InputFormat::Bf16 => npy_write(w, &shape, sizes[0], fill, |b| b as u16),
        }
    })
}

/// Hand `n` elements that `fill(buf, take)` makes to `put`, `WRITE_CHUNK` at a time.
fn stream(
    n: u64,
    mut fill: impl FnMut(&mut Vec<u32>, usize),
    mut put: impl FnMut(&[u32]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(WRITE_CHUNK);
    let mut left = n;
    while left > 0 {
        let take = left.min(WRITE_CHUNK as u64) as usize;
        buf.clear();
        fill(&mut buf, take);
        put(&buf)?;
        left -= take as u64;
    }
    Ok(())
}

/// An `.npy` array of `n` elements written as `fill` makes them, each code stored as `to(code)`.
fn npy_write<T: npyz::AutoSerialize>(
    w: &mut dyn std::io::Write,
    shape: &[u64],
    n: u64,
    fill: impl FnMut(&mut Vec<u32>, usize),
    to: impl Fn(u32) -> T,
) -> std::io::Result<()> {
    use npyz::WriterBuilder;
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(w)
        .begin_nd()?;
    stream(n, fill, |c| writer.extend(c.iter().map(|&b| to(b))))?;
    writer.finish()
}

/// The safetensors header: its length, then the JSON index padded with spaces to 8 bytes.
fn safetensors_header(
    fmt: InputFormat,
    specs: &[(String, Vec<usize>)],
    sizes: &[u64],
    width: u64,
) -> Vec<u8> {
    let dtype = match fmt {
        InputFormat::F32 => "F32",
        InputFormat::Bf16 => "BF16",
        InputFormat::F16 => "F16",
    };
    let mut index = serde_json::Map::new();
    let mut at = 0u64;
    for ((name, shape), &n) in specs.iter().zip(sizes) {
        index.insert(
            name.clone(),
            serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [at, at + n * width]}),
        );
        at += n * width;
    }
    let mut json = serde_json::to_vec(&index).expect("serializable");
    while !json.len().is_multiple_of(8) {
        json.push(b' ');
    }
    let mut out = (json.len() as u64).to_le_bytes().to_vec();
    out.extend(json);
    out
}
