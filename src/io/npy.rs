//! `.npy` arrays: float32 and float16, or raw 16/32-bit codes with `--input-format`.

use super::{Tensor, check_shape, declared};
use crate::error::Error;
use crate::format::InputFormat;
use npyz::{DType, NpyFile, Order, TypeChar};

pub fn read(
    bytes: &[u8],
    name: &str,
    tensor_name: String,
    input_format: Option<InputFormat>,
) -> Result<Tensor, Error> {
    let corrupt =
        |e: std::io::Error| Error::input(format!("{name}: corrupt or truncated .npy ({e})"));
    let npy = NpyFile::new(bytes).map_err(corrupt)?;
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    check_shape(name, &shape)?;
    let fortran = npy.order() == Order::Fortran;
    let DType::Plain(ts) = npy.dtype() else {
        return Err(Error::input(format!(
            "{name}: structured .npy arrays are not supported (need float32 or float16)"
        )));
    };
    let (kind, size) = (ts.type_char(), ts.size_field());
    let (dtype, bits): (InputFormat, Vec<u32>) = match (kind, size) {
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
                "{name}: unsupported dtype {ts} (need float32 or float16, or uint16 codes with --input-format)"
            )));
        }
    };
    let bits = if fortran && shape.len() == 2 {
        transpose(&bits, shape[1], shape[0])
    } else {
        bits
    };
    Ok(Tensor {
        name: tensor_name,
        shape,
        dtype,
        bits,
    })
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
