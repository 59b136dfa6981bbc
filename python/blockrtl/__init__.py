"""blockrtl's bit-exact golden model for numpy and PyTorch users.

The functions here compute exactly what blockrtl's generated hardware computes: OCP MX v1.0
formats (mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8) with the ``floor`` or
``rceil`` scale rule, and BlockDialect's DialectFP4 with either dialect selector. The numerics
are those of ``docs/numerics.md`` in the blockrtl repository; the command line tool
(``blockrtl quantize --codes / --dequantized``) gives the same codes and values bit for bit.

Blocks run along ``axis`` (the last axis by default). Input may be float32, float16 or bfloat16
(``ml_dtypes.bfloat16``), or raw 16-/32-bit patterns with ``bits="bf16" | "f16" | "f32"``.
float32 input that is C-contiguous along the block axis is read in place; any other layout is
copied once. The work runs in Rust on all cores with the GIL released.

PyTorch: ``blockrtl.fake_quant(t.numpy(), "mxfp4")`` and ``torch.from_numpy(...)`` on the result
(for a bfloat16 tensor, ``t.view(torch.int16).numpy()`` with ``bits="bf16"``).
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache
from typing import NamedTuple, Optional, Tuple, Union

import numpy as np

from . import _native
from ._native import Formatbook

__all__ = [
    "FORMATS",
    "TOOL",
    "Formatbook",
    "QuantizedTensor",
    "FixedResult",
    "quantize",
    "dequantize",
    "fake_quant",
    "dot",
    "matmul",
    "load_formatbook",
    "load_checkpoint",
]

#: The format names ``quantize`` takes, as the CLI's ``--format``.
FORMATS: Tuple[str, ...] = tuple(_native.FORMATS)
#: Tool name and version, as stamped into generated RTL.
TOOL: str = _native.TOOL

FormatbookLike = Union[None, str, "os.PathLike[str]", Formatbook]


def load_formatbook(path: Union[str, "os.PathLike[str]"]) -> Formatbook:
    """Read a formatbook TOML file (as ``blockrtl explore formatbook`` writes it)."""
    return Formatbook.load(os.fspath(path))


@lru_cache(maxsize=64)
def _cached_spec(fmt, block_size, scale_rule, selector, frac_bits, scale, book_key, book, flush, pad):
    return _native.Spec(
        fmt,
        block_size,
        scale_rule=scale_rule,
        selector=selector,
        frac_bits=frac_bits,
        scale=scale,
        formatbook=book,
        flush_subnormals=flush,
        pad=pad,
    )


def _spec(fmt, block_size, scale_rule, selector, frac_bits, scale, formatbook, flush_subnormals, pad):
    """The checked native format; cached so that its dequantization table is built once."""
    if not isinstance(fmt, str):
        raise ValueError(f"the format must be a name (one of {', '.join(FORMATS)}), not {fmt!r}")
    if isinstance(block_size, bool) or not isinstance(block_size, (int, np.integer)):
        raise ValueError(f"block size must be an integer, not {block_size!r}")
    if not 1 <= int(block_size) <= _native.MAX_BLOCK_SIZE:
        raise ValueError(f"block size {block_size} must be 1..={_native.MAX_BLOCK_SIZE}")
    if isinstance(frac_bits, bool) or not isinstance(frac_bits, (int, np.integer, str)):
        raise ValueError(f"frac bits must be an integer or 'exact', not {frac_bits!r}")
    if formatbook is None or isinstance(formatbook, Formatbook):
        book_key, book = id(formatbook), formatbook
    else:
        path = os.fspath(formatbook)
        try:
            st = os.stat(path)
            book_key = (path, st.st_mtime_ns, st.st_size)
        except OSError:
            book_key = (path, None, None)
        book = _load_book_cached(book_key)
    return _cached_spec(
        fmt, int(block_size), scale_rule, selector, str(frac_bits), scale, book_key, book,
        bool(flush_subnormals), bool(pad),
    )


@lru_cache(maxsize=16)
def _load_book_cached(key):
    return Formatbook.load(key[0])


_BITS_FORMATS = {"f32": np.uint32, "bf16": np.uint16, "f16": np.uint16}


def _bfloat16_dtype():
    try:
        import ml_dtypes  # noqa: PLC0415 (optional dependency)
    except ImportError:
        return None
    return np.dtype(ml_dtypes.bfloat16)


class _Raw(NamedTuple):
    codes: np.ndarray  # uint32 or uint16 view of the input
    fmt: str  # f32, bf16 or f16
    out_dtype: np.dtype  # the dtype results of the input's kind are returned in


def _raw(x, bits: Optional[str]) -> _Raw:
    a = np.asarray(x)
    if bits is not None:
        if bits not in _BITS_FORMATS:
            raise ValueError(f"unknown bits '{bits}' (expected f32, bf16 or f16)")
        want = np.dtype(_BITS_FORMATS[bits])
        if a.dtype.kind not in "ui" or a.dtype.itemsize != want.itemsize:
            raise ValueError(
                f"bits='{bits}' needs {8 * want.itemsize}-bit integer codes, not {a.dtype} values"
            )
        return _Raw(a.view(want), bits, a.dtype)
    if a.dtype == np.float32:
        return _Raw(a.view(np.uint32), "f32", a.dtype)
    if a.dtype == np.float16:
        return _Raw(a.view(np.uint16), "f16", a.dtype)
    if a.dtype.name == "bfloat16":
        return _Raw(a.view(np.uint16), "bf16", a.dtype)
    if a.dtype == np.float64:
        raise ValueError(
            "float64 input: blockrtl quantizes FP32, BF16 or FP16 values; convert with "
            "x.astype(np.float32) (the CLI rounds float64 .npy files to float32 the same way)"
        )
    if a.dtype.kind in "ui":
        raise ValueError(
            f"{a.dtype} input: pass bits='bf16' or bits='f16' for 16-bit codes, bits='f32' for 32-bit ones"
        )
    raise ValueError(f"{a.dtype} input: blockrtl takes float32, float16 or bfloat16 values")


def _axis(ndim: int, axis: int) -> int:
    if ndim == 0:
        raise ValueError("a 0-d array has no axis to block; give at least one dimension")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(f"axis must be an integer, not {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for a {ndim}-d array")
    return int(axis) % ndim


def _rows(a: np.ndarray, axis: int) -> np.ndarray:
    """The array as C-contiguous rows along `axis` (no copy when it already is)."""
    moved = np.moveaxis(a, axis, -1)
    return np.ascontiguousarray(moved).reshape(-1, moved.shape[-1]) if moved.size else moved.reshape(0, 0)


def _unrows(flat: np.ndarray, moved_shape, axis: int) -> np.ndarray:
    return np.moveaxis(flat.reshape(moved_shape), -1, axis)


class QuantizedTensor:
    """A tensor quantized in blocks of ``block_size`` along ``axis``.

    ``scales`` (uint8: the E8M0 byte, or the 5-bit code under ``scale="e5"``) and ``dialects``
    (uint8 dialect ids, DialectFP4 only, else None) have the tensor's shape with the block axis
    cut to the number of blocks; ``codes`` (uint8, sign in the top bit of the element width) has
    the tensor's shape. ``nan`` marks blocks that held a NaN or an infinity (their scale is the
    NaN code and their codes are 0).
    """

    def __init__(self, spec, scales, codes, dialects, nan, axis: int):
        self._spec = spec
        self.scales: np.ndarray = scales
        self.codes: np.ndarray = codes
        self.dialects: Optional[np.ndarray] = dialects
        self.nan: np.ndarray = nan
        self.axis: int = axis

    @property
    def fmt(self) -> str:
        return self._spec.fmt

    @property
    def block_size(self) -> int:
        return self._spec.block_size

    @property
    def shape(self) -> Tuple[int, ...]:
        return tuple(self.codes.shape)

    @property
    def element_bits(self) -> int:
        return self._spec.element_bits

    @property
    def T(self) -> "QuantizedTensor":
        """The transpose of a 2-D tensor (views; the blocks run along the other axis)."""
        if self.codes.ndim != 2:
            raise ValueError("T needs a 2-D quantized tensor")
        d = None if self.dialects is None else self.dialects.T
        return QuantizedTensor(self._spec, self.scales.T, self.codes.T, d, self.nan.T, 1 - self.axis)

    def __repr__(self) -> str:
        return f"QuantizedTensor(shape={self.shape}, axis={self.axis}, {self._spec!r})"

    def dequantize(self, dtype=np.float32, *, as_bits: bool = False) -> np.ndarray:
        """See :func:`dequantize`."""
        return dequantize(self, dtype, as_bits=as_bits)

    def packed_codes(self) -> np.ndarray:
        """4-bit codes two per byte along the block axis, the even element in the low nibble
        (the layout of TransformerEngine and Model-Optimizer); the axis length must be even."""
        if self.element_bits != 4:
            raise ValueError(f"{self.fmt} codes are {self.element_bits} bits; only 4-bit codes pack two per byte")
        moved = np.moveaxis(self.codes, self.axis, -1)
        if moved.shape[-1] % 2:
            raise ValueError(f"packing needs an even length along axis {self.axis}, not {moved.shape[-1]}")
        packed = moved[..., 0::2] | (moved[..., 1::2] << 4)
        return np.moveaxis(packed.astype(np.uint8), -1, self.axis)

    @classmethod
    def from_arrays(
        cls,
        fmt: str,
        scales,
        codes,
        dialects=None,
        *,
        block_size: int = 32,
        axis: int = -1,
        packed: bool = False,
        scale: str = "e8m0",
        formatbook: FormatbookLike = None,
        pad: bool = False,
    ) -> "QuantizedTensor":
        """Wrap existing scales and codes (``packed=True``: 4-bit codes two per byte, as
        :meth:`packed_codes` writes them) to dequantize them or take their dot products."""
        spec = _spec(fmt, block_size, "floor", "mse", 2, scale, formatbook, False, pad)
        codes = np.asarray(codes, dtype=np.uint8)
        ax = _axis(codes.ndim, axis)
        if packed:
            moved = np.moveaxis(codes, ax, -1)
            unpacked = np.empty(moved.shape[:-1] + (2 * moved.shape[-1],), np.uint8)
            unpacked[..., 0::2] = moved & 0xF
            unpacked[..., 1::2] = moved >> 4
            codes = np.moveaxis(unpacked, -1, ax)
        scales = np.asarray(scales, dtype=np.uint8)
        if dialects is not None:
            dialects = np.asarray(dialects, dtype=np.uint8)
        expected = codes.shape[:ax] + (-(-codes.shape[ax] // spec.block_size),) + codes.shape[ax + 1 :]
        if scales.shape != expected:
            raise ValueError(f"scales have shape {scales.shape}; codes of shape {codes.shape} in blocks of {spec.block_size} along axis {ax} need {expected}")
        nan = scales == spec.scale_nan_code
        return cls(spec, scales, codes, dialects, nan, ax)


def _prepare(x, fmt, block_size, axis, options, bits):
    """What quantize and fake_quant both start from: the checked format, the input's raw
    codes, the block axis, and the shape with that axis moved last."""
    spec = _spec(fmt, block_size, *options)
    raw = _raw(x, bits)
    ax = _axis(raw.codes.ndim, axis)
    return spec, raw, ax, np.moveaxis(raw.codes, ax, -1).shape


def quantize(
    x,
    fmt: str,
    block_size: int = 32,
    axis: int = -1,
    *,
    scale_rule: str = "floor",
    selector: str = "mse",
    frac_bits: Union[int, str] = 2,
    scale: str = "e8m0",
    formatbook: FormatbookLike = None,
    flush_subnormals: bool = False,
    pad: bool = False,
    bits: Optional[str] = None,
) -> QuantizedTensor:
    """Quantize ``x`` in blocks of ``block_size`` along ``axis``.

    ``fmt`` is one of :data:`FORMATS`. MX formats take ``scale_rule`` (``floor``, OCP v1.0, or
    ``rceil``) and ``flush_subnormals``. ``dialectfp4`` takes ``selector`` (``mse``: least
    squared error, as weights are chosen offline; ``two-stage``: the hardware's online
    selector), ``frac_bits`` (the two-stage selector's fraction bits, or ``"exact"``),
    ``scale`` (``e8m0`` or ``e5``) and ``formatbook`` (a path or a :class:`Formatbook`; the
    built-in DialectFP4 book by default). ``pad=True`` zero-pads a last block that the axis
    length does not fill. Bad settings raise ``ValueError`` with the CLI's message.
    """
    spec, raw, ax, moved_shape = _prepare(
        x, fmt, block_size, axis, (scale_rule, selector, frac_bits, scale, formatbook, flush_subnormals, pad), bits
    )
    scales, dialects, nan, codes = spec.quantize(_rows(raw.codes, ax), raw.fmt)
    block_shape = moved_shape[:-1] + (scales.shape[1],)
    back = lambda a, shape: None if a is None else _unrows(a, shape, ax)  # noqa: E731
    return QuantizedTensor(
        spec,
        back(scales, block_shape),
        back(codes, moved_shape),
        back(dialects, block_shape),
        back(nan, block_shape),
        ax,
    )


_OUT_FORMATS = {"float32": "f32", "f32": "f32", "float16": "f16", "f16": "f16", "bfloat16": "bf16", "bf16": "bf16"}


def _out_format(dtype) -> str:
    name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    try:
        return _OUT_FORMATS[name]
    except KeyError:
        raise ValueError(f"unknown output dtype {dtype!r} (expected float32, float16 or bfloat16)") from None


def _typed(codes: np.ndarray, fmt: str, as_bits: bool) -> np.ndarray:
    if as_bits:
        return codes
    if fmt == "f32":
        return codes.view(np.float32)
    if fmt == "f16":
        return codes.view(np.float16)
    bf16 = _bfloat16_dtype()
    if bf16 is None:
        raise ValueError("bfloat16 output needs the ml_dtypes package; or pass as_bits=True for uint16 codes")
    return codes.view(bf16)


def dequantize(q: QuantizedTensor, dtype=np.float32, *, as_bits: bool = False) -> np.ndarray:
    """The values of ``q``: each element's exact scale x element value rounded once (nearest,
    ties to even) to ``dtype`` (float32, float16 or bfloat16), subnormals kept, overflow to
    infinity, the sign of zero kept; NaN blocks, NaN/Inf element codes and dialect ids the
    formatbook lacks give the canonical quiet NaN. ``as_bits=True`` returns the raw codes
    (uint32 for float32, uint16 otherwise)."""
    fmt = _out_format(dtype)
    ax = q.axis
    moved_shape = np.moveaxis(q.codes, ax, -1).shape
    dialects = None if q.dialects is None else _rows(q.dialects, ax)
    out = q._spec.dequantize(_rows(q.scales, ax), dialects, _rows(q.codes, ax), fmt)
    return _typed(_unrows(out, moved_shape, ax), fmt, as_bits)


def fake_quant(
    x,
    fmt: str,
    block_size: int = 32,
    axis: int = -1,
    *,
    scale_rule: str = "floor",
    selector: str = "mse",
    frac_bits: Union[int, str] = 2,
    scale: str = "e8m0",
    formatbook: FormatbookLike = None,
    flush_subnormals: bool = False,
    pad: bool = False,
    bits: Optional[str] = None,
) -> np.ndarray:
    """``dequantize(quantize(x, ...))`` in one pass, returned in ``x``'s own dtype (raw codes
    in, raw codes out with ``bits=``). Takes the arguments of :func:`quantize`."""
    spec, raw, ax, moved_shape = _prepare(
        x, fmt, block_size, axis, (scale_rule, selector, frac_bits, scale, formatbook, flush_subnormals, pad), bits
    )
    out = spec.fake_quant(_rows(raw.codes, ax), raw.fmt)
    return _unrows(out, moved_shape, ax).view(raw.out_dtype)


class FixedResult(NamedTuple):
    """A fixed-point result: ``value * 2**lsb``, with per-output saturation and NaN flags."""

    value: np.ndarray
    lsb: int
    saturated: np.ndarray
    nan: np.ndarray


def _operand(q: QuantizedTensor, axis: int):
    rows = lambda a: None if a is None else _rows(a, axis)  # noqa: E731
    return (q._spec, rows(q.scales), rows(q.dialects), rows(q.codes))


def _check_reduce(accumulate, interleave, acc_width, acc_lsb):
    for name, v in (("interleave", interleave), ("acc_width", acc_width), ("acc_lsb", acc_lsb)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValueError(f"{name} must be an integer, not {v!r}")
    if interleave < 1:
        raise ValueError("interleave must be at least 1")
    if accumulate == "fixed" and not 2 <= acc_width <= 64:
        raise ValueError(f"acc_width {acc_width} must be 2..=64 (the result is an int64 array)")
    if not -(2**31) <= acc_lsb < 2**31:
        raise ValueError(f"acc_lsb {acc_lsb} is out of range")


def _reduce(native_out, accumulate: str, acc_lsb: int, shape):
    if accumulate == "fp32":
        return native_out.view(np.float32).reshape(shape)
    value, saturated, nan = native_out
    return FixedResult(value.reshape(shape), acc_lsb, saturated.reshape(shape), nan.reshape(shape))


def matmul(
    qa: QuantizedTensor,
    qb: QuantizedTensor,
    accumulate: str = "fp32",
    *,
    interleave: int = 1,
    acc_width: int = 48,
    acc_lsb: int = -24,
):
    """``qa @ qb`` for a 2-D ``qa`` blocked along its last axis (M x K) and a 2-D ``qb``
    blocked along its first (K x N), as the hardware computes it: each block pair's dot
    product is exact (integer sum of element products, times both scales).

    ``accumulate="fp32"``: each block sum is rounded to FP32 (nearest even) and block i is
    added, in IEEE binary32, into partial sum i mod ``interleave``; the partials are then
    added in order, ((p0 + p1) + p2) + ... (``interleave=1``: plain sequential order). Any
    NaN block gives NaN. ``accumulate="fixed"``: a ``acc_width``-bit two's complement
    accumulator with LSB 2**acc_lsb, saturating after each addition (bits below the LSB are
    dropped toward minus infinity); returns a :class:`FixedResult`.

    For a linear layer with weights W (N x K) quantized along K: ``matmul(qx, qw.T)``.
    """
    _check_reduce(accumulate, interleave, acc_width, acc_lsb)
    if qa.codes.ndim != 2 or qb.codes.ndim != 2:
        raise ValueError("matmul takes 2-D quantized tensors (use dot for vectors)")
    if qa.axis != 1 or qb.axis != 0:
        raise ValueError(
            f"matmul reduces qa's last axis and qb's first: qa must be blocked along axis 1 (is {qa.axis}) "
            f"and qb along axis 0 (is {qb.axis}); for weights W (N x K) blocked along K, pass qw.T"
        )
    out = _native.matmul(
        _operand(qa, 1), _operand(qb, 0), accumulate, interleave, acc_width, acc_lsb, False
    )
    return _reduce(out, accumulate, acc_lsb, (qa.shape[0], qb.shape[1]))


def dot(
    qa: QuantizedTensor,
    qb: QuantizedTensor,
    accumulate: str = "fp32",
    *,
    interleave: int = 1,
    acc_width: int = 48,
    acc_lsb: int = -24,
):
    """The dot products of ``qa`` and ``qb`` along their block axis: both have one shape and
    one block axis; the result has that shape without the axis (a 0-d array for vectors).
    Accumulation as in :func:`matmul`."""
    _check_reduce(accumulate, interleave, acc_width, acc_lsb)
    if qa.shape != qb.shape or qa.axis != qb.axis:
        raise ValueError(
            f"dot needs operands of one shape blocked along one axis (shapes {qa.shape} and {qb.shape}, axes {qa.axis} and {qb.axis})"
        )
    ax = qa.axis
    out = _native.matmul(
        _operand(qa, ax), _operand(qb, ax), accumulate, interleave, acc_width, acc_lsb, True
    )
    shape = qa.shape[:ax] + qa.shape[ax + 1 :]
    return _reduce(out, accumulate, acc_lsb, shape)


def load_checkpoint(path, tensor=(), exclude=(), all_shapes: bool = False) -> dict:
    """The tensors of a ``.npy``, ``.safetensors`` or sharded checkpoint
    (``*.safetensors.index.json``) as float32 arrays (BF16 and FP16 widen exactly), chosen as
    ``blockrtl quantize`` chooses them: every floating-point matrix, or the names matching a
    ``tensor`` regular expression, minus those matching ``exclude``. A float64 ``.npy`` is
    rounded once to float32, with a warning that says how many values changed."""
    if isinstance(tensor, str):
        tensor = [tensor]
    if isinstance(exclude, str):
        exclude = [exclude]
    tensors, notes = _native.load_tensors(os.fspath(path), list(tensor), list(exclude), all_shapes)
    for note in notes:
        warnings.warn(note, stacklevel=2)
    return {name: codes.view(np.float32).reshape(shape) for name, shape, _dtype, codes in tensors}
