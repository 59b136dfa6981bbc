//! `Spec`: one block format with every setting, checked once (the Python counterpart of the
//! CLI's `quantize` flags; the same parsers give the same messages), and `Formatbook`.

use crate::kernels::{self, Layout, Lut, Raw};
use blockrtl::format::{Formatbook as Book, InputFormat, ScaleFormat, ScaleRule};
use blockrtl::golden::{BlockFormat, FracBits, Quantizer, Selector};
use blockrtl::quantize::{QuantizeOptions, check_block_size, quantizer_for};
use numpy::ndarray::Array2;
use numpy::{PyArray2, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

pub fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A DialectFP4 formatbook: 16 (or fewer) dialects of 8 half-unit magnitudes.
#[pyclass(frozen, module = "blockrtl._native")]
pub struct Formatbook {
    pub book: Arc<Book>,
}

#[pymethods]
impl Formatbook {
    /// The built-in DialectFP4 book of the BlockDialect paper.
    #[staticmethod]
    fn builtin() -> Formatbook {
        Formatbook {
            book: Arc::new(Book::dialectfp4()),
        }
    }

    /// Read a formatbook TOML file (the format `blockrtl explore formatbook` writes).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Formatbook> {
        let book = Book::load(&path).map_err(value_error)?;
        Ok(Formatbook {
            book: Arc::new(book),
        })
    }

    /// Parse formatbook TOML text.
    #[staticmethod]
    #[pyo3(signature = (text, name = "<string>"))]
    fn parse(text: &str, name: &str) -> PyResult<Formatbook> {
        let book = Book::parse(text, name).map_err(value_error)?;
        Ok(Formatbook {
            book: Arc::new(book),
        })
    }

    #[getter]
    fn name(&self) -> String {
        self.book.name.clone()
    }

    /// Each dialect's eight magnitudes in half-units, ascending.
    #[getter]
    fn dialects(&self) -> Vec<Vec<u8>> {
        self.book.dialects.iter().map(|d| d.to_vec()).collect()
    }

    fn __len__(&self) -> usize {
        self.book.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "Formatbook({:?}, {} dialects)",
            self.book.name,
            self.book.len()
        )
    }
}

/// A 2-D C-contiguous array of raw codes: FP32 patterns (uint32) or BF16/FP16 codes (uint16).
#[derive(FromPyObject)]
pub enum RawArray<'py> {
    U32(PyReadonlyArray2<'py, u32>),
    U16(PyReadonlyArray2<'py, u16>),
}

impl RawArray<'_> {
    fn shape(&self) -> (usize, usize) {
        let s = match self {
            RawArray::U32(a) => a.shape(),
            RawArray::U16(a) => a.shape(),
        };
        (s[0], s[1])
    }

    /// The codes as a slice of the declared input format.
    fn raw(&self, input: InputFormat) -> PyResult<Raw<'_>> {
        let contiguous = |_| value_error("blockrtl: the array must be C-contiguous");
        match (self, input) {
            (RawArray::U32(a), InputFormat::F32) => Ok(Raw::F32(a.as_slice().map_err(contiguous)?)),
            (RawArray::U16(a), InputFormat::Bf16 | InputFormat::F16) => {
                Ok(Raw::Half(a.as_slice().map_err(contiguous)?, input))
            }
            _ => Err(value_error(format!(
                "{} input needs {}-bit codes",
                input.name(),
                input.bits()
            ))),
        }
    }
}

/// An input or output format by name, as the CLI's `--input-format` reads it.
fn input_format(name: &str) -> PyResult<InputFormat> {
    name.parse().map_err(value_error)
}

/// One block format with all its settings, checked.
#[pyclass(frozen, module = "blockrtl._native")]
pub struct Spec {
    pub quantizer: Quantizer,
    pub format: BlockFormat,
    pub block_size: usize,
    pad: bool,
    name: String,
    settings: String,
    luts: [OnceLock<Arc<Lut>>; 3],
}

impl Spec {
    fn layout(&self, rows: usize, n: usize) -> PyResult<Layout> {
        if n == 0 || rows == 0 {
            return Err(value_error("the array has no elements"));
        }
        if !n.is_multiple_of(self.block_size) && !self.pad {
            return Err(value_error(format!(
                "rows of {n} elements are not a multiple of the block size {} (pass pad=True to zero-pad the last block of each row)",
                self.block_size
            )));
        }
        Ok(Layout {
            rows,
            n,
            k: self.block_size,
        })
    }

    fn lut(&self, py: Python<'_>, out: InputFormat) -> Arc<Lut> {
        let slot = &self.luts[out as usize];
        if let Some(l) = slot.get() {
            return l.clone();
        }
        let lut = py.detach(|| Arc::new(Lut::new(&self.format, out)));
        slot.get_or_init(|| lut).clone()
    }

    /// The per-block arrays of a quantized array, checked against this format's widths.
    pub fn checked_blocks<'a>(
        &self,
        shape: (usize, usize),
        scales: &'a PyReadonlyArray2<'_, u8>,
        dialects: Option<&'a PyReadonlyArray2<'_, u8>>,
        codes: &'a PyReadonlyArray2<'_, u8>,
    ) -> PyResult<CheckedBlocks<'a>> {
        let layout = self.layout(shape.0, shape.1)?;
        let blocks = [layout.rows, layout.per_row()];
        let contiguous = |_| value_error("blockrtl: the array must be C-contiguous");
        if scales.shape() != blocks {
            return Err(value_error(format!(
                "scales have shape {:?}; {} rows of {} elements in blocks of {} need {:?}",
                scales.shape(),
                layout.rows,
                layout.n,
                layout.k,
                blocks
            )));
        }
        let codes_s = codes.as_slice().map_err(contiguous)?;
        let scales_s = scales.as_slice().map_err(contiguous)?;
        let ebits = self.format.operand().code_bits();
        if let Some(i) = codes_s.iter().position(|&c| u32::from(c) >> ebits != 0) {
            return Err(value_error(format!(
                "code {} at flat index {i} is not a {ebits}-bit {} code",
                codes_s[i], self.name
            )));
        }
        let sbits = self.format.scale_bits();
        if let Some(i) = scales_s.iter().position(|&c| u32::from(c) >> sbits != 0) {
            return Err(value_error(format!(
                "scale {} at flat index {i} is not a {sbits}-bit {} code",
                scales_s[i],
                self.format.scale_name()
            )));
        }
        let dialects_s = match (&self.format, dialects) {
            (BlockFormat::Dialect { .. }, Some(d)) => {
                if d.shape() != blocks {
                    return Err(value_error(format!(
                        "dialects have shape {:?}, scales {:?}: one dialect id per block",
                        d.shape(),
                        blocks
                    )));
                }
                Some(d.as_slice().map_err(contiguous)?)
            }
            (BlockFormat::Dialect { .. }, None) => {
                return Err(value_error("dialectfp4 blocks need their dialect ids"));
            }
            (_, Some(_)) => {
                return Err(value_error(format!(
                    "{} blocks have no dialect ids",
                    self.name
                )));
            }
            (_, None) => None,
        };
        Ok(CheckedBlocks {
            layout,
            scales: scales_s,
            dialects: dialects_s,
            codes: codes_s,
        })
    }
}

/// A quantized array's codes, checked: per block a scale (and a dialect id), per element a code.
pub struct CheckedBlocks<'a> {
    pub layout: Layout,
    pub scales: &'a [u8],
    pub dialects: Option<&'a [u8]>,
    pub codes: &'a [u8],
}

fn array2<T: numpy::Element>(
    py: Python<'_>,
    rows: usize,
    cols: usize,
    v: Vec<T>,
) -> Bound<'_, PyArray2<T>> {
    let a = Array2::from_shape_vec((rows, cols), v).expect("the kernels size their outputs");
    PyArray2::from_owned_array(py, a)
}

/// A new `rows x cols` array filled by `fill` with the GIL released. numpy allocates it (large
/// arrays get huge pages, which halves the cost of first touching the memory).
fn filled<'py, T: numpy::Element + Send>(
    py: Python<'py>,
    rows: usize,
    cols: usize,
    fill: impl FnOnce(&mut [T]) + Send,
) -> Bound<'py, PyArray2<T>> {
    let a = PyArray2::<T>::zeros(py, [rows, cols], false);
    {
        let mut w = a.readwrite();
        let s = w.as_slice_mut().expect("a new array is contiguous");
        py.detach(|| fill(s));
    }
    a
}

/// Arrays of one quantized array: scales, dialect ids (None for MX), NaN flags, codes.
type QuantizedArrays<'py> = (
    Bound<'py, PyArray2<u8>>,
    Option<Bound<'py, PyArray2<u8>>>,
    Bound<'py, PyArray2<bool>>,
    Bound<'py, PyArray2<u8>>,
);

#[pymethods]
impl Spec {
    #[new]
    #[pyo3(signature = (fmt, block_size = 32, *, scale_rule = "floor", selector = "mse",
        frac_bits = "2", scale = "e8m0", formatbook = None, flush_subnormals = false, pad = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        fmt: &str,
        block_size: usize,
        scale_rule: &str,
        selector: &str,
        frac_bits: &str,
        scale: &str,
        formatbook: Option<&Formatbook>,
        flush_subnormals: bool,
        pad: bool,
    ) -> PyResult<Spec> {
        check_block_size(block_size).map_err(value_error)?;
        let opts = QuantizeOptions {
            block_size,
            pad,
            selector: selector.parse::<Selector>().map_err(value_error)?,
            frac_bits: frac_bits.parse::<FracBits>().map_err(value_error)?,
            scale: scale.parse::<ScaleFormat>().map_err(value_error)?,
            formatbook: formatbook.map(|b| b.book.clone()),
            flush_subnormals,
            scale_rule: scale_rule.parse::<ScaleRule>().map_err(value_error)?,
            nvfp4: Default::default(),
        };
        let quantizer = quantizer_for(fmt, &opts).map_err(value_error)?;
        let settings = match &quantizer {
            Quantizer::Nvfp4(_) => {
                return Err(value_error(
                    "nvfp4 is not in the Python package yet (the CLI's `quantize --format nvfp4` has it)",
                ));
            }
            Quantizer::Mx(c) => format!(
                "{fmt}, block size {block_size}, scale rule {}{}",
                c.scale_rule,
                if flush_subnormals {
                    ", subnormals flushed"
                } else {
                    ""
                }
            ),
            Quantizer::Dialect(q) => format!(
                "{fmt}, block size {block_size}, formatbook {}, selector {}, frac bits {}, scale {}{}",
                q.config.book.name,
                q.config.selector,
                q.config.frac_bits,
                q.config.scale,
                if flush_subnormals {
                    ", subnormals flushed"
                } else {
                    ""
                }
            ),
        };
        Ok(Spec {
            format: quantizer.block_format(),
            quantizer,
            block_size,
            pad,
            name: fmt.to_string(),
            settings,
            luts: Default::default(),
        })
    }

    #[getter]
    fn fmt(&self) -> String {
        self.name.clone()
    }

    #[getter]
    fn block_size(&self) -> usize {
        self.block_size
    }

    #[getter]
    fn pad(&self) -> bool {
        self.pad
    }

    /// Element code width in bits (4 for mxfp4 and dialectfp4).
    #[getter]
    fn element_bits(&self) -> u32 {
        self.format.operand().code_bits()
    }

    /// The scale code of a block that held a NaN or an infinity.
    #[getter]
    fn scale_nan_code(&self) -> u32 {
        self.format.scale_nan_code()
    }

    #[getter]
    fn is_dialect(&self) -> bool {
        matches!(self.format, BlockFormat::Dialect { .. })
    }

    fn __repr__(&self) -> String {
        format!("Spec({})", self.settings)
    }

    /// Quantize the rows of a 2-D array of raw codes in blocks of k.
    fn quantize<'py>(
        &self,
        py: Python<'py>,
        x: RawArray<'py>,
        input_format: &str,
    ) -> PyResult<QuantizedArrays<'py>> {
        let (rows, n) = x.shape();
        let layout = self.layout(rows, n)?;
        let raw = x.raw(self::input_format(input_format)?)?;
        let mut blocks = None;
        let codes = filled(py, rows, n, |c| {
            blocks = Some(kernels::quantize(&self.quantizer, raw, layout, c));
        });
        let q = blocks.expect("filled runs its closure");
        let nb = layout.per_row();
        Ok((
            array2(py, rows, nb, q.scales),
            self.is_dialect().then(|| array2(py, rows, nb, q.dialects)),
            array2(py, rows, nb, q.nan),
            codes,
        ))
    }

    /// Dequantize: raw output codes (uint32 for f32, uint16 for bf16 and f16).
    #[pyo3(signature = (scales, dialects, codes, out_format = "f32"))]
    fn dequantize<'py>(
        &self,
        py: Python<'py>,
        scales: PyReadonlyArray2<'py, u8>,
        dialects: Option<PyReadonlyArray2<'py, u8>>,
        codes: PyReadonlyArray2<'py, u8>,
        out_format: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let out = self::input_format(out_format)?;
        let shape = (codes.shape()[0], codes.shape()[1]);
        let checked = self.checked_blocks(shape, &scales, dialects.as_ref(), &codes)?;
        let (layout, c) = (checked.layout, checked.codes);
        let lut = self.lut(py, out);
        let blocks = (checked.scales, checked.dialects.unwrap_or(&[]));
        let (rows, n) = shape;
        Ok(match out {
            InputFormat::F32 => filled::<u32>(py, rows, n, |o| {
                kernels::dequantize(&lut, layout, blocks, c, o)
            })
            .into_any(),
            _ => filled::<u16>(py, rows, n, |o| {
                kernels::dequantize(&lut, layout, blocks, c, o)
            })
            .into_any(),
        })
    }

    /// Quantize and dequantize in one pass; the result has the input's format and width.
    fn fake_quant<'py>(
        &self,
        py: Python<'py>,
        x: RawArray<'py>,
        input_format: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (rows, n) = x.shape();
        let layout = self.layout(rows, n)?;
        let input = self::input_format(input_format)?;
        let raw = x.raw(input)?;
        let lut = self.lut(py, input);
        let q = &self.quantizer;
        Ok(match raw {
            Raw::F32(_) => filled::<u32>(py, rows, n, |o| {
                kernels::fake_quant(q, &lut, raw, layout, o)
            })
            .into_any(),
            Raw::Half(..) => filled::<u16>(py, rows, n, |o| {
                kernels::fake_quant(q, &lut, raw, layout, o)
            })
            .into_any(),
        })
    }
}
