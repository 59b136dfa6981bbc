//! `blockrtl._native`: the golden model of blockrtl for Python. The public API, with its
//! docstrings and axis handling, is the pure-Python `blockrtl` package around this module.

mod kernels;
mod spec;

use blockrtl::golden::Accumulation;
use kernels::Reduce;
use numpy::ndarray::Array2;
use numpy::{PyArray1, PyArray2, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use spec::{CheckedBlocks, Formatbook, Spec, value_error};
use std::path::PathBuf;

/// One side of a matrix product: its format, and its per-block and per-element arrays.
type Operand<'py> = (
    PyRef<'py, Spec>,
    PyReadonlyArray2<'py, u8>,
    Option<PyReadonlyArray2<'py, u8>>,
    PyReadonlyArray2<'py, u8>,
);

/// out[i, j] = the dot product of A's row i and B's row j, block pair by block pair (with
/// `pairwise`, out[i] = A's row i with B's row i). Returns FP32 patterns (uint32) for `fp32`;
/// for `fixed`, the accumulator values (int64) with saturation and NaN flags.
#[pyfunction]
#[pyo3(signature = (a, b, accumulate = "fp32", interleave = 1, acc_width = 48, acc_lsb = -24, pairwise = false))]
#[allow(clippy::too_many_arguments)]
fn matmul<'py>(
    py: Python<'py>,
    a: Operand<'py>,
    b: Operand<'py>,
    accumulate: &str,
    interleave: usize,
    acc_width: u32,
    acc_lsb: i32,
    pairwise: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let reduce = match accumulate {
        "fp32" if interleave >= 1 => Reduce::Fp32(Accumulation::Fp32 { interleave }),
        "fp32" => return Err(value_error("interleave must be at least 1")),
        "fixed" if (2..=64).contains(&acc_width) => Reduce::Fixed {
            width: acc_width,
            lsb: acc_lsb,
        },
        "fixed" => {
            return Err(value_error(format!(
                "acc_width {acc_width} must be 2..=64 (the result is an int64 array)"
            )));
        }
        other => {
            return Err(value_error(format!(
                "unknown accumulation '{other}' (expected fp32 or fixed)"
            )));
        }
    };
    let (sa, sb) = (&a.0, &b.0);
    if sa.block_size != sb.block_size {
        return Err(value_error(format!(
            "the operands have block sizes {} and {}; a block pair needs one size",
            sa.block_size, sb.block_size
        )));
    }
    let shape = |c: &PyReadonlyArray2<'_, u8>| (c.shape()[0], c.shape()[1]);
    let (shape_a, shape_b) = (shape(&a.3), shape(&b.3));
    if shape_a.1 != shape_b.1 {
        return Err(value_error(format!(
            "the operands reduce over {} and {} elements; they must match",
            shape_a.1, shape_b.1
        )));
    }
    if pairwise && shape_a.0 != shape_b.0 {
        return Err(value_error(format!(
            "the operands have {} and {} rows; pairwise products need as many",
            shape_a.0, shape_b.0
        )));
    }
    let ca = sa.checked_blocks(shape_a, &a.1, a.2.as_ref(), &a.3)?;
    let cb = sb.checked_blocks(shape_b, &b.1, b.2.as_ref(), &b.3)?;
    let blocks = |c: &CheckedBlocks| kernels::row_blocks(c.layout, c.scales, c.dialects, c.codes);
    let (m, n) = if pairwise {
        (shape_a.0, 1)
    } else {
        (shape_a.0, shape_b.0)
    };
    let (fa, fb) = (&sa.format, &sb.format);
    Ok(match reduce {
        Reduce::Fp32(acc) => {
            let v = py.detach(|| {
                let (ra, rb) = (blocks(&ca), blocks(&cb));
                kernels::matmul_fp32(fa, &ra, fb, &rb, acc, pairwise)
            });
            to2(py, m, n, v).into_any()
        }
        Reduce::Fixed { width, lsb } => {
            let v = py.detach(|| {
                let (ra, rb) = (blocks(&ca), blocks(&cb));
                kernels::matmul_fixed(fa, &ra, fb, &rb, width, lsb, pairwise)
            });
            let values = to2(py, m, n, v.iter().map(|o| o.value).collect());
            let sat = to2(py, m, n, v.iter().map(|o| o.saturated).collect());
            let nan = to2(py, m, n, v.iter().map(|o| o.nan).collect());
            (values, sat, nan).into_pyobject(py)?.into_any()
        }
    })
}

fn to2<T: numpy::Element>(py: Python<'_>, m: usize, n: usize, v: Vec<T>) -> Bound<'_, PyArray2<T>> {
    PyArray2::from_owned_array(
        py,
        Array2::from_shape_vec((m, n), v).expect("m x n outputs"),
    )
}

/// One tensor of a file: name, shape, the dtype it was stored in, its FP32 patterns.
type LoadedTensor<'py> = (String, Vec<usize>, &'static str, Bound<'py, PyArray1<u32>>);

/// The tensors of a `.npy`, `.safetensors` or sharded checkpoint (`*.safetensors.index.json`),
/// chosen as `blockrtl quantize` chooses them: (name, shape, dtype name, FP32 patterns), and
/// the notes of conversions made while reading (float64 rounded to float32).
#[pyfunction]
#[pyo3(signature = (path, tensor = Vec::new(), exclude = Vec::new(), all_shapes = false))]
fn load_tensors<'py>(
    py: Python<'py>,
    path: PathBuf,
    tensor: Vec<String>,
    exclude: Vec<String>,
    all_shapes: bool,
) -> PyResult<(Vec<LoadedTensor<'py>>, Vec<String>)> {
    let compile = |patterns: &[String], what: &str| {
        patterns
            .iter()
            .map(|p| regex::Regex::new(p).map_err(|e| value_error(format!("{what} '{p}': {e}"))))
            .collect::<PyResult<Vec<_>>>()
    };
    let opts = blockrtl::io::LoadOptions {
        tensor_patterns: compile(&tensor, "tensor")?,
        exclude: compile(&exclude, "exclude")?,
        all_shapes,
        input_format: None,
    };
    let loaded = py
        .detach(|| blockrtl::io::load(&path, &opts))
        .map_err(value_error)?;
    let tensors = loaded
        .tensors
        .into_iter()
        .map(|t| {
            (
                t.name,
                t.shape,
                t.dtype.name(),
                PyArray1::from_vec(py, t.bits),
            )
        })
        .collect();
    Ok((tensors, loaded.notes))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Spec>()?;
    m.add_class::<Formatbook>()?;
    m.add_function(wrap_pyfunction!(matmul, m)?)?;
    m.add_function(wrap_pyfunction!(load_tensors, m)?)?;
    m.add("TOOL", blockrtl::TOOL)?;
    // NVFP4 needs a tensor scale the package does not thread through yet.
    let formats: Vec<&str> = blockrtl::quantize::FORMAT_NAMES
        .into_iter()
        .filter(|&f| f != "nvfp4")
        .collect();
    m.add("FORMATS", formats)?;
    m.add("MAX_BLOCK_SIZE", blockrtl::quantize::MAX_BLOCK_SIZE)?;
    Ok(())
}
