//! `make-tensor`: synthetic weight-like tensors to try the tools on, written in bounded memory
//! whatever their size.

use crate::error::Error;
use crate::format::InputFormat;
use crate::stimulus::{Dist, TensorGen};
use std::path::PathBuf;

/// Limits, stated in make-tensor's --help.
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 31;
pub const MAX_TENSORS: usize = 4096;
pub const MAX_FILE_BYTES: u64 = 1 << 36;

pub struct DemoTensors {
    pub dist: Dist,
    /// `ROWSxCOLS` or `N`.
    pub shape: String,
    pub dtype: InputFormat,
    /// Tensors (`.safetensors` only), named `layer<i>.weight`, seeds `seed + i`.
    pub count: usize,
    pub seed: u64,
    pub out: PathBuf,
    pub force: bool,
}

pub fn write(d: &DemoTensors) -> Result<(), Error> {
    let dims: Vec<usize> = d
        .shape
        .split('x')
        .map(|d| d.trim().parse::<usize>().ok().filter(|&n| n > 0))
        .collect::<Option<Vec<_>>>()
        .filter(|d| (1..=2).contains(&d.len()))
        .ok_or_else(|| {
            Error::input(format!(
                "--shape '{}': expected ROWSxCOLS or N, positive",
                d.shape
            ))
        })?;
    let elements = dims
        .iter()
        .try_fold(1u64, |n, &d| n.checked_mul(d as u64))
        .filter(|&n| n <= MAX_TENSOR_ELEMENTS)
        .ok_or_else(|| {
            Error::input(format!(
                "--shape '{}': more than 2^31 elements in one tensor",
                d.shape
            ))
        })?;
    if !(1..=MAX_TENSORS).contains(&d.count) {
        return Err(Error::input(format!(
            "--count {} must be 1..={MAX_TENSORS}",
            d.count
        )));
    }
    let bytes = elements * u64::from(d.dtype.bits() / 8) * d.count as u64;
    if bytes > MAX_FILE_BYTES {
        return Err(Error::input(format!(
            "{} tensor(s) of {} {} take {bytes} bytes, more than the 64 GiB limit",
            d.count, d.shape, d.dtype
        )));
    }
    let cols = *dims.last().expect("one or two dimensions");
    let is_npy = d.out.extension().is_some_and(|e| e == "npy");
    if !is_npy && d.out.extension().is_none_or(|e| e != "safetensors") {
        return Err(Error::input("--out must end in .npy or .safetensors"));
    }
    if is_npy && d.count != 1 {
        return Err(Error::input("--count > 1 needs a .safetensors output"));
    }
    crate::emit::write::check_writable_new(&d.out, d.force)?;
    let specs: Vec<(String, Vec<usize>)> = (0..d.count)
        .map(|i| (format!("layer{i}.weight"), dims.clone()))
        .collect();
    let mut gens = (0..d.count)
        .map(|i| {
            TensorGen::new(d.dist, cols, d.dtype, d.seed.wrapping_add(i as u64))
                .map_err(Error::input)
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let bar = crate::progress::bar(bytes, "make-tensor", "bytes", true);
    let width = u64::from(d.dtype.bits() / 8);
    crate::io::write_tensors_with(&d.out, d.dtype, &specs, |i, out, n| {
        gens[i].fill(out, n);
        bar.inc(n as u64 * width);
    })?;
    bar.finish_and_clear();
    Ok(())
}
