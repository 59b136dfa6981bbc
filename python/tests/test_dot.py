"""dot / matmul against an independent model written here with numpy: each block pair's sum
computed exactly from the dequantized values (in float64, exact for these formats and sizes),
rounded once to FP32, and accumulated in IEEE binary32 in the documented order; the fixed-point
accumulator with Python integers."""

from fractions import Fraction

import numpy as np
import pytest

import blockrtl
from conftest import random_tensor


def exact_values(q):
    """Dequantized values as float64 (exact: FP32 holds every value of these tensors)."""
    return blockrtl.dequantize(q).astype(np.float64)


def block_sums(a, b, k):
    """a, b: (rows, n) float64 exact values; the exact sum of each block pair, (rows, blocks)."""
    rows, n = a.shape
    prods = (a * b).reshape(rows, n // k, k)
    # Every product is a multiple of a power of two no smaller than 2^-40 and no larger than
    # 2^40 here, so the float64 sum of 32 of them is exact; math.fsum would also do.
    return prods.sum(axis=-1)


def fp32_reduce(sums, interleave):
    out = np.empty(sums.shape[0], np.float32)
    for r, row in enumerate(sums):
        partial = [np.float32(0.0)] * interleave
        for i, s in enumerate(row):
            partial[i % interleave] = np.float32(partial[i % interleave] + np.float32(s))
        total = partial[0]
        for p in partial[1:]:
            total = np.float32(total + p)
        out[r] = total
    return out


PAIRS = [("mxfp4", "mxfp8_e4m3"), ("mxint8", "mxint8"), ("dialectfp4", "mxfp4"), ("mxfp6_e2m3", "dialectfp4")]


@pytest.mark.parametrize("fa,fb", PAIRS)
@pytest.mark.parametrize("interleave", [1, 3])
def test_dot_is_exact_block_sums_accumulated_in_fp32(fa, fb, interleave):
    rng = np.random.default_rng(12)
    x, y = random_tensor(rng, (40, 256), "normal"), random_tensor(rng, (40, 256), "normal")
    qa, qb = blockrtl.quantize(x, fa), blockrtl.quantize(y, fb)
    got = blockrtl.dot(qa, qb, interleave=interleave)
    assert got.shape == (40,) and got.dtype == np.float32
    want = fp32_reduce(block_sums(exact_values(qa), exact_values(qb), 32), interleave)
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))


def test_accumulation_order_is_observable():
    """Blocks whose sums cancel: sequential order loses the small block, interleaved keeps it,
    so a wrong order could not pass the test above by luck on this data."""
    x = np.zeros((1, 96), np.float32)
    x[0, 0], x[0, 32], x[0, 64] = 2.0 ** 24, 1.0, -(2.0 ** 24)
    ones = np.ones((1, 96), np.float32)
    qa, qb = blockrtl.quantize(x, "mxfp8_e4m3"), blockrtl.quantize(ones, "mxfp8_e4m3")
    assert blockrtl.dot(qa, qb, interleave=1)[0] == 0.0  # (2^24 + 1) rounds to 2^24
    assert blockrtl.dot(qa, qb, interleave=2)[0] == 1.0  # (2^24 - 2^24) + 1


@pytest.mark.parametrize("fa,fb", PAIRS[:2])
def test_matmul_is_every_row_pair(fa, fb):
    rng = np.random.default_rng(13)
    x, w = random_tensor(rng, (8, 128), "normal"), random_tensor(rng, (6, 128), "normal")
    qx, qw = blockrtl.quantize(x, fa), blockrtl.quantize(w, fb)
    y = blockrtl.matmul(qx, qw.T)
    assert y.shape == (8, 6)
    ex, ew = exact_values(qx), exact_values(qw)
    for j in range(6):
        want = fp32_reduce(block_sums(ex, np.broadcast_to(ew[j], ex.shape), 32), 1)
        np.testing.assert_array_equal(y[:, j].view(np.uint32), want.view(np.uint32))
    # A weight matrix quantized along axis 0 of W^T is the same operand.
    qwt = blockrtl.quantize(w.T.copy(), fb, axis=0)
    np.testing.assert_array_equal(blockrtl.matmul(qx, qwt), y)


def test_nan_blocks_make_the_result_nan():
    x = np.ones((2, 64), np.float32)
    x[1, 40] = np.nan
    q = blockrtl.quantize(x, "mxfp4")
    r = blockrtl.dot(q, q)
    assert r[0] == 64.0 and np.isnan(r[1])


def fixed_model(ea, eb, k, width, lsb):
    lo, hi = -(2 ** (width - 1)), 2 ** (width - 1) - 1
    acc, sat = 0, False
    for j in range(len(ea) // k):
        s = sum(Fraction(float(p)) * Fraction(float(q)) for p, q in zip(ea[j * k : (j + 1) * k], eb[j * k : (j + 1) * k]))
        c = (s / Fraction(2) ** lsb).__floor__()
        nxt = acc + c
        acc = min(max(nxt, lo), hi)
        sat |= acc != nxt
    return acc, sat


@pytest.mark.parametrize("width,lsb", [(48, -24), (10, -4), (20, 2)])
def test_fixed_point_accumulation(width, lsb):
    rng = np.random.default_rng(14)
    x, y = random_tensor(rng, (12, 128), "normal") * 8, random_tensor(rng, (12, 128), "normal")
    qa, qb = blockrtl.quantize(x, "mxint8"), blockrtl.quantize(y, "dialectfp4")
    r = blockrtl.dot(qa, qb, "fixed", acc_width=width, acc_lsb=lsb)
    assert isinstance(r, blockrtl.FixedResult) and r.lsb == lsb
    ea, eb = exact_values(qa), exact_values(qb)
    for i in range(12):
        acc, sat = fixed_model(ea[i], eb[i], 32, width, lsb)
        assert (int(r.value[i]), bool(r.saturated[i])) == (acc, sat), f"row {i}"
    if width == 10:
        assert r.saturated.any(), "the narrow accumulator should saturate on this data"
