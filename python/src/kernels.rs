//! The array loops behind the Python API, free of Python: blocks of k along the last axis of a
//! row-major `(rows, n)` array, on all cores. Every value comes from the golden model
//! (`Quantizer::quantize`, `dequant::dequantize_element`, `dot::dot_general*`); these loops only
//! move codes in and out of flat arrays.

use blockrtl::format::InputFormat;
use blockrtl::golden::dequant::dequantize_element;
use blockrtl::golden::{Accumulation, BlockFormat, QuantBlock, Quantizer};
use rayon::prelude::*;

/// Blocks per parallel task: large enough to amortize the task, small enough to balance.
const GROUP_BLOCKS: usize = 1024;

/// Raw element codes as the caller holds them: FP32 patterns, or 16-bit BF16/FP16 codes.
#[derive(Clone, Copy)]
pub enum Raw<'a> {
    F32(&'a [u32]),
    Half(&'a [u16], InputFormat),
}

impl Raw<'_> {
    /// Elements `start..start + out.len()` widened (exactly) to FP32 patterns.
    fn widen_into(&self, start: usize, out: &mut [u32]) {
        match self {
            Raw::F32(s) => out.copy_from_slice(&s[start..start + out.len()]),
            Raw::Half(s, f) => {
                for (o, &h) in out.iter_mut().zip(&s[start..]) {
                    *o = f.widen(u32::from(h));
                }
            }
        }
    }
}

/// Blocks of k along the rows of a row-major `(rows, n)` array; a row's last block may be
/// short (the caller padded it, with +0, by asking for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub rows: usize,
    pub n: usize,
    pub k: usize,
}

impl Layout {
    pub fn per_row(&self) -> usize {
        self.n.div_ceil(self.k)
    }

    pub fn blocks(&self) -> usize {
        self.rows * self.per_row()
    }

    /// First element of block b; blocks tile the array in order, so block b ends where b + 1
    /// starts (and "block" `blocks()` starts at the end of the array).
    fn elem_start(&self, b: usize) -> usize {
        let per_row = self.per_row();
        let (row, j) = (b / per_row, b % per_row);
        row * self.n + (j * self.k).min(self.n)
    }

    fn elem_end(&self, b: usize) -> usize {
        self.elem_start(b) + self.block_len(b % self.per_row())
    }

    /// Elements of block j of a row (k, or fewer for a padded last block).
    fn block_len(&self, j: usize) -> usize {
        self.k.min(self.n - j * self.k)
    }

    /// Block boundaries of the parallel tasks: 0, G, 2G, ..., blocks.
    fn group_bounds(&self) -> Vec<usize> {
        let total = self.blocks();
        let mut b: Vec<usize> = (0..total).step_by(GROUP_BLOCKS).collect();
        b.push(total);
        b
    }
}

/// Cut `s` at the given ascending offsets (the first 0, the last `s.len()`).
fn split_at_bounds<'a, T>(mut s: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(bounds.len().saturating_sub(1));
    for w in bounds.windows(2) {
        let (head, tail) = s.split_at_mut(w[1] - w[0]);
        parts.push(head);
        s = tail;
    }
    parts
}

/// Run `f(scratch, block, first element of the block, outputs_of_block)` over every block,
/// tasks in parallel (each with its own `scratch`), and collect what it returns in block
/// order. `out` has one slot per element of the layout.
fn per_block<T: Send, R: Send>(
    layout: Layout,
    out: &mut [T],
    f: impl Fn(&mut Scratch, usize, usize, &mut [T]) -> R + Sync,
) -> Vec<R> {
    let bounds = layout.group_bounds();
    let elem_bounds: Vec<usize> = bounds.iter().map(|&b| layout.elem_start(b)).collect();
    let parts = split_at_bounds(out, &elem_bounds);
    let results: Vec<Vec<R>> = parts
        .into_par_iter()
        .zip(bounds.par_windows(2))
        .map(|(part, w)| {
            let base = layout.elem_start(w[0]);
            let mut scratch = Scratch::default();
            // Blocks follow each other in memory: walk them without dividing.
            let per_row = layout.per_row();
            let (mut j, mut start) = (w[0] % per_row, 0);
            let mut rest = part;
            (w[0]..w[1])
                .map(|b| {
                    let len = layout.block_len(j);
                    let (mine, tail) = std::mem::take(&mut rest).split_at_mut(len);
                    rest = tail;
                    let r = f(&mut scratch, b, base + start, mine);
                    start += len;
                    j = if j + 1 == per_row { 0 } else { j + 1 };
                    r
                })
                .collect()
        })
        .collect();
    results.into_iter().flatten().collect()
}

/// One task's reusable buffers: a block of inputs and its quantized form.
struct Scratch {
    input: Vec<u32>,
    block: QuantBlock,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            input: Vec::new(),
            block: QuantBlock {
                scale: 0,
                dialect: None,
                codes: Vec::new(),
                nan: false,
                saturated: 0,
            },
        }
    }
}

/// Quantize the `len` elements of `raw` from `start` (widened, zero-padded to k) into
/// `scratch.block`.
fn quantize_block<'s>(
    q: &Quantizer,
    raw: Raw,
    layout: Layout,
    start: usize,
    len: usize,
    scratch: &'s mut Scratch,
) -> &'s QuantBlock {
    if let (Raw::F32(s), true) = (raw, len == layout.k) {
        // A full FP32 block is already what the quantizer takes.
        q.quantize_into(&s[start..start + len], &mut scratch.block);
        return &scratch.block;
    }
    scratch.input.clear();
    scratch.input.resize(layout.k, 0);
    raw.widen_into(start, &mut scratch.input[..len]);
    q.quantize_into(&scratch.input, &mut scratch.block);
    &scratch.block
}

/// What quantizing an array gives besides its codes: per block a scale code, a dialect id (0
/// for MX) and a NaN flag.
pub struct Quantized {
    pub scales: Vec<u8>,
    pub dialects: Vec<u8>,
    pub nan: Vec<bool>,
}

/// Quantize `raw` into `codes` (one per element).
pub fn quantize(q: &Quantizer, raw: Raw, layout: Layout, codes: &mut [u8]) -> Quantized {
    let meta = per_block(layout, codes, |scratch, _, start, out| {
        let qb = quantize_block(q, raw, layout, start, out.len(), scratch);
        for (o, &c) in out.iter_mut().zip(&qb.codes) {
            *o = c as u8;
        }
        (qb.scale as u8, qb.dialect.unwrap_or(0), qb.nan)
    });
    Quantized {
        scales: meta.iter().map(|m| m.0).collect(),
        dialects: meta.iter().map(|m| m.1).collect(),
        nan: meta.iter().map(|m| m.2).collect(),
    }
}

/// Every output code of a block format in one output format, indexed by (scale code, dialect
/// id, element code): the golden model's `dequantize_element`, tabulated once so that a tensor
/// dequantizes by lookup. Scale codes run over all 256 bytes (codes past the format's width
/// decode as the golden model decodes them; the caller refuses them first).
pub struct Lut {
    dialects: usize,
    codes: usize,
    table: Vec<u32>,
    /// The row of a dialect id the book lacks: NaN, as in the golden model.
    nan_row: Vec<u32>,
}

impl Lut {
    pub fn new(format: &BlockFormat, out: InputFormat) -> Lut {
        let dialects = match format {
            BlockFormat::Mx(_) | BlockFormat::Nvfp4 { .. } => 1,
            BlockFormat::Dialect { book, .. } => book.len(),
        };
        let codes = 1usize << format.operand().code_bits();
        let table = (0..256 * dialects)
            .into_par_iter()
            .flat_map_iter(|sd| {
                let (scale, dialect) = ((sd / dialects) as u32, (sd % dialects) as u8);
                (0..codes as u32).map(move |c| dequantize_element(format, out, scale, dialect, c))
            })
            .collect();
        Lut {
            dialects,
            codes,
            table,
            nan_row: vec![out.canonical_nan(); codes],
        }
    }

    /// The output codes of one block's element codes.
    fn row(&self, scale: u8, dialect: u8) -> &[u32] {
        if usize::from(dialect) >= self.dialects {
            return &self.nan_row;
        }
        let start = (usize::from(scale) * self.dialects + usize::from(dialect)) * self.codes;
        &self.table[start..start + self.codes]
    }
}

/// Output codes narrow to the output format's width (u32 for FP32, u16 otherwise).
pub trait OutCode: Copy + Send + Sync {
    fn from_code(c: u32) -> Self;
}

impl OutCode for u32 {
    fn from_code(c: u32) -> Self {
        c
    }
}

impl OutCode for u16 {
    fn from_code(c: u32) -> Self {
        c as u16
    }
}

/// Dequantize codes given per block (scales, dialects) and per element (codes) into `out`.
pub fn dequantize<T: OutCode>(
    lut: &Lut,
    layout: Layout,
    blocks: (&[u8], &[u8]),
    codes: &[u8],
    out: &mut [T],
) {
    let (scales, dialects) = blocks;
    per_block(layout, out, |_, b, start, o| {
        let row = lut.row(scales[b], dialects.get(b).copied().unwrap_or(0));
        for (x, &c) in o.iter_mut().zip(&codes[start..]) {
            *x = T::from_code(row[usize::from(c)]);
        }
    });
}

/// Quantize and dequantize in one pass, into `out` in the input's own format: the
/// fake-quantized array, without materializing codes.
pub fn fake_quant<T: OutCode>(q: &Quantizer, lut: &Lut, raw: Raw, layout: Layout, out: &mut [T]) {
    per_block(layout, out, |scratch, _, start, o| {
        let qb = quantize_block(q, raw, layout, start, o.len(), scratch);
        let row = lut.row(qb.scale as u8, qb.dialect.unwrap_or(0));
        for (x, &c) in o.iter_mut().zip(&qb.codes) {
            *x = T::from_code(row[c as usize]);
        }
    });
}

/// The blocks of every row of a quantized array, short blocks padded with code 0 (+0 in every
/// format) to k, for the golden dot product.
pub fn row_blocks(
    layout: Layout,
    scales: &[u8],
    dialects: Option<&[u8]>,
    codes: &[u8],
) -> Vec<Vec<QuantBlock>> {
    let per_row = layout.per_row();
    (0..layout.rows)
        .map(|r| {
            (0..per_row)
                .map(|j| {
                    let b = r * per_row + j;
                    let (s, e) = (layout.elem_start(b), layout.elem_end(b));
                    let mut c: Vec<u32> = codes[s..e].iter().map(|&x| u32::from(x)).collect();
                    c.resize(layout.k, 0);
                    QuantBlock {
                        scale: u32::from(scales[b]),
                        dialect: dialects.map(|d| d[b]),
                        codes: c,
                        nan: false,
                        saturated: 0,
                    }
                })
                .collect()
        })
        .collect()
}

/// How `matmul` reduces the block products of one output.
#[derive(Debug, Clone, Copy)]
pub enum Reduce {
    Fp32(Accumulation),
    Fixed { width: u32, lsb: i32 },
}

/// One fixed-point output: the accumulator, and whether it saturated or met a NaN.
#[derive(Debug, Clone, Copy, Default)]
pub struct FixedOut {
    pub value: i64,
    pub saturated: bool,
    pub nan: bool,
}

/// The (A row, B row) pairs of every output, in output order: all pairs (a matrix product),
/// or row i with row i (`pairwise`).
fn pairs<'a>(
    a: &'a [Vec<QuantBlock>],
    b: &'a [Vec<QuantBlock>],
    pairwise: bool,
) -> Vec<(&'a [QuantBlock], &'a [QuantBlock])> {
    if pairwise {
        a.iter().zip(b).map(|(x, y)| (&x[..], &y[..])).collect()
    } else {
        a.iter()
            .flat_map(|x| b.iter().map(move |y| (&x[..], &y[..])))
            .collect()
    }
}

/// Every output reduced in FP32 (the golden `dot_general`), as FP32 patterns.
pub fn matmul_fp32(
    fa: &BlockFormat,
    a: &[Vec<QuantBlock>],
    fb: &BlockFormat,
    b: &[Vec<QuantBlock>],
    acc: Accumulation,
    pairwise: bool,
) -> Vec<u32> {
    pairs(a, b, pairwise)
        .into_par_iter()
        .map(|(x, y)| blockrtl::golden::dot_general(fa, x, fb, y, acc).to_bits())
        .collect()
}

/// Every output reduced in a fixed-point accumulator (the golden `dot_general_fixed`).
pub fn matmul_fixed(
    fa: &BlockFormat,
    a: &[Vec<QuantBlock>],
    fb: &BlockFormat,
    b: &[Vec<QuantBlock>],
    width: u32,
    lsb: i32,
    pairwise: bool,
) -> Vec<FixedOut> {
    pairs(a, b, pairwise)
        .into_par_iter()
        .map(|(x, y)| {
            let r = blockrtl::golden::dot_general_fixed(fa, x, fb, y, width, lsb);
            FixedOut {
                // The width is at most 64 (checked by the caller), so the value fits.
                value: r.value as i64,
                saturated: r.saturated,
                nan: r.nan,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_tile_rows_with_short_last_blocks() {
        let l = Layout {
            rows: 2,
            n: 5,
            k: 2,
        };
        assert_eq!(l.per_row(), 3);
        let spans: Vec<(usize, usize)> = (0..l.blocks())
            .map(|b| (l.elem_start(b), l.elem_end(b)))
            .collect();
        assert_eq!(spans, [(0, 2), (2, 4), (4, 5), (5, 7), (7, 9), (9, 10)]);
        assert_eq!(l.elem_start(l.blocks()), 10, "the end of the last block");
    }

    #[test]
    fn split_keeps_every_element_once() {
        let mut v: Vec<u32> = (0..10).collect();
        let parts = split_at_bounds(&mut v, &[0, 3, 3, 10]);
        let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
        assert_eq!(lens, [3, 0, 7]);
    }
}
