//! `.npy` arrays: float32 and float16, or raw 16/32-bit codes with `--input-format`.

use super::{Tensor, declared};
use crate::error::Error;
use crate::format::InputFormat;
use npyz::{DType, NpyFile, Order, TypeChar};

/// The file's one array, and a note when it had to be converted (float64).
pub fn read(
    bytes: &[u8],
    name: &str,
    tensor_name: String,
    input_format: Option<InputFormat>,
) -> Result<(Tensor, Option<String>), Error> {
    let corrupt =
        |e: std::io::Error| Error::input(format!("{name}: corrupt or truncated .npy ({e})"));
    let data_start = header_end(bytes, name)?;
    let npy = NpyFile::new(bytes).map_err(corrupt)?;
    let shape = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).ok())
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| {
            Error::input(format!(
                "{name}: a dimension of {:?} does not fit in memory",
                npy.shape()
            ))
        })?;
    if shape.is_empty() {
        return Err(Error::input(format!(
            "{name}: a 0-D array (a scalar); blocks run along the last axis"
        )));
    }
    // The header's shape must be what the file holds: checked before anything is allocated.
    let elements = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let need = elements
        .zip(match npy.dtype() {
            DType::Plain(ts) => Some(ts.size_field()),
            _ => None,
        })
        .and_then(|(n, size)| n.checked_mul(usize::try_from(size).ok()?));
    let have = bytes.len() - data_start;
    match need {
        None => {
            return Err(Error::input(format!(
                "{name}: shape {shape:?} has more elements than any file can hold"
            )));
        }
        Some(need) if need > have => {
            return Err(Error::input(format!(
                "{name}: corrupt or truncated .npy (shape {shape:?} needs {need} data bytes, the file holds {have})"
            )));
        }
        _ => {}
    }
    let fortran = npy.order() == Order::Fortran;
    let DType::Plain(ts) = npy.dtype() else {
        return Err(Error::input(format!(
            "{name}: structured .npy arrays are not supported (need float32 or float16)"
        )));
    };
    let (kind, size) = (ts.type_char(), ts.size_field());
    if fortran && shape.len() > 2 {
        return Err(Error::input(format!(
            "{name}: a {}-D array in Fortran order; save it in C order (numpy.ascontiguousarray)",
            shape.len()
        )));
    }
    let mut note = None;
    let (dtype, bits): (InputFormat, Vec<u32>) = match (kind, size) {
        (TypeChar::Float, 8) => {
            // No quantizer input is 64-bit: round each value once to FP32 and say so.
            let dtype = declared(name, InputFormat::F32, input_format)?;
            let v: Vec<f64> = npy.into_vec().map_err(corrupt)?;
            let narrowed: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            let changed = v
                .iter()
                .zip(&narrowed)
                .filter(|(x, y)| !(f64::from(**y) == **x || (x.is_nan() && y.is_nan())))
                .count();
            let infinite = v
                .iter()
                .zip(&narrowed)
                .filter(|(x, y)| x.is_finite() && y.is_infinite())
                .count();
            note = Some(format!(
                "{name}: float64 converted to float32 (round to nearest even): {changed} of {} values changed, {infinite} overflowed to infinity",
                v.len()
            ));
            (dtype, narrowed.iter().map(|x| x.to_bits()).collect())
        }
        (TypeChar::Float, 4) => {
            let v: Vec<f32> = npy.into_vec().map_err(corrupt)?;
            let dtype = declared(name, InputFormat::F32, input_format)?;
            (dtype, v.iter().map(|x| x.to_bits()).collect())
        }
        (TypeChar::Float, 2) => {
            let v: Vec<npyz::half::f16> = npy.into_vec().map_err(corrupt)?;
            let dtype = declared(name, InputFormat::F16, input_format)?;
            (
                dtype,
                v.iter()
                    .map(|x| dtype.widen(u32::from(x.to_bits())))
                    .collect(),
            )
        }
        (TypeChar::Uint | TypeChar::Int, 2) => {
            let dtype = match input_format {
                Some(f @ (InputFormat::Bf16 | InputFormat::F16)) => f,
                _ => {
                    return Err(Error::input(format!(
                        "{name}: 16-bit integer array ({ts}): say what the codes are with --input-format bf16 or f16"
                    )));
                }
            };
            let v: Vec<u16> = if kind == TypeChar::Uint {
                npy.into_vec().map_err(corrupt)?
            } else {
                let v: Vec<i16> = npy.into_vec().map_err(corrupt)?;
                v.into_iter().map(|x| x as u16).collect()
            };
            (
                dtype,
                v.iter().map(|&x| dtype.widen(u32::from(x))).collect(),
            )
        }
        _ => {
            return Err(Error::input(format!(
                "{name}: unsupported dtype {ts} (need float32, float16 or float64, or uint16 codes with --input-format)"
            )));
        }
    };
    let bits = if fortran && shape.len() == 2 {
        transpose(&bits, shape[1], shape[0])
    } else {
        bits
    };
    Ok((
        Tensor {
            name: tensor_name,
            shape,
            dtype,
            bits,
        },
        note,
    ))
}

/// Where the data starts, after checking that the header the magic announces fits in the file
/// (a crafted header length must not make the reader allocate for it).
fn header_end(bytes: &[u8], name: &str) -> Result<usize, Error> {
    let bad = |why: String| Error::input(format!("{name}: corrupt or truncated .npy ({why})"));
    let (len_at, len_bytes) = match bytes.get(6) {
        Some(1) => (8, 2),
        Some(2 | 3) => (8, 4),
        Some(v) => return Err(bad(format!("format version {v} is not 1, 2 or 3"))),
        None => return Err(bad("no version".into())),
    };
    let field = bytes
        .get(len_at..len_at + len_bytes)
        .ok_or_else(|| bad("no header length".into()))?;
    let header_len = field
        .iter()
        .rev()
        .fold(0usize, |a, &b| (a << 8) | usize::from(b));
    let end = len_at + len_bytes + header_len;
    if end > bytes.len() {
        return Err(bad(format!(
            "the header claims {header_len} bytes, but the file has {}",
            bytes.len()
        )));
    }
    Ok(end)
}

/// Row-major copy of a column-major `rows x cols` matrix (stored as `cols` runs of `rows`).
fn transpose(colmajor: &[u32], cols: usize, rows: usize) -> Vec<u32> {
    let mut out = vec![0; colmajor.len()];
    for c in 0..cols {
        for r in 0..rows {
            out[r * cols + c] = colmajor[c * rows + r];
        }
    }
    out
}
