"""Bit-exact agreement with `blockrtl quantize --codes` and `--dequantized`: every format, random
and edge tensors, several block sizes, both axes of a 2-D array, and FP16 / BF16 input."""

import zlib

import numpy as np
import pytest

import blockrtl
from conftest import random_tensor, read_codes, read_safetensors, write_safetensors

FORMATS = list(blockrtl.FORMATS)


def cli_quantize(cli, tmp_path, path, fmt, k, extra=()):
    codes, deq = tmp_path / "codes.jsonl", tmp_path / ("deq" + path.suffix)
    for p in (codes, deq):
        if p.exists():
            p.unlink()
    cli("quantize", "--input", path, "--format", fmt, "--block-size", k, "--codes", codes,
        "--dequantized", deq, *extra)
    return read_codes(codes), deq


def assert_same_blocks(q, lines, k, axis):
    """The CLI blocks the rows of the file (the last axis); q is blocked along `axis`."""
    scales = np.moveaxis(q.scales, axis, -1).reshape(-1)
    codes = np.moveaxis(q.codes, axis, -1)
    n = codes.shape[-1]
    codes = codes.reshape(-1, n)
    per_row = -(-n // k)
    assert len(lines) == scales.size
    for i, line in enumerate(lines):
        assert line["block"] == i
        assert line["scale"] == scales[i], f"block {i}: scale {scales[i]} != CLI {line['scale']}"
        row, j = divmod(i, per_row)
        mine = codes[row, j * k : (j + 1) * k].tolist()
        assert line["codes"][: len(mine)] == mine, f"block {i}"
        if q.dialects is not None:
            d = np.moveaxis(q.dialects, axis, -1).reshape(-1)
            assert line["dialect"] == d[i], f"block {i}: dialect"
        else:
            assert "dialect" not in line


def rows_file(tmp_path, x, axis):
    """The tensor as the CLI reads it: blocks along the last axis of what is saved."""
    saved = np.ascontiguousarray(np.moveaxis(x, axis, -1))
    path = tmp_path / "x.npy"
    np.save(path, saved)
    return path


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("k,axis,kind", [(32, -1, "normal"), (8, 0, "wide"), (16, -1, "edge"), (32, 0, "specials")])
def test_codes_and_dequantized_match_the_cli(cli, tmp_path, fmt, k, axis, kind):
    rng = np.random.default_rng(zlib.crc32(f"{fmt} {k} {axis} {kind}".encode()))
    x = random_tensor(rng, (64, 96), kind)
    q = blockrtl.quantize(x, fmt, k, axis)
    lines, deq = cli_quantize(cli, tmp_path, rows_file(tmp_path, x, axis), fmt, k)
    assert_same_blocks(q, lines, k, axis)
    want = np.moveaxis(np.load(deq), -1, axis)
    got = blockrtl.dequantize(q)
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_array_equal(got.view(np.uint32), want.view(np.uint32))
    np.testing.assert_array_equal(blockrtl.fake_quant(x, fmt, k, axis).view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize(
    "fmt,options,cli_flags",
    [
        ("mxfp4", dict(scale_rule="rceil"), ["--scale-rule", "rceil"]),
        ("mxfp8_e4m3", dict(scale_rule="rceil", flush_subnormals=True), ["--scale-rule", "rceil", "--flush-subnormals"]),
        ("mxint8", dict(flush_subnormals=True), ["--flush-subnormals"]),
        ("dialectfp4", dict(selector="two-stage"), ["--selector", "two-stage"]),
        ("dialectfp4", dict(selector="two-stage", frac_bits=4), ["--selector", "two-stage", "--frac-bits", "4"]),
        ("dialectfp4", dict(selector="two-stage", frac_bits="exact"), ["--selector", "two-stage", "--frac-bits", "exact"]),
        ("dialectfp4", dict(scale="e5"), ["--scale", "e5"]),
    ],
)
def test_options_match_the_cli(cli, tmp_path, fmt, options, cli_flags):
    rng = np.random.default_rng(7)
    x = random_tensor(rng, (32, 96), "wide")
    q = blockrtl.quantize(x, fmt, 32, **options)
    lines, deq = cli_quantize(cli, tmp_path, rows_file(tmp_path, x, -1), fmt, 32, cli_flags)
    assert_same_blocks(q, lines, 32, -1)
    np.testing.assert_array_equal(blockrtl.dequantize(q).view(np.uint32), np.load(deq).view(np.uint32))


@pytest.mark.parametrize("fmt", ["mxfp4", "mxfp6_e2m3", "dialectfp4"])
def test_padding_matches_the_cli(cli, tmp_path, fmt):
    x = random_tensor(np.random.default_rng(3), (10, 45), "normal")
    q = blockrtl.quantize(x, fmt, 16, pad=True)
    assert q.scales.shape == (10, 3)
    lines, deq = cli_quantize(cli, tmp_path, rows_file(tmp_path, x, -1), fmt, 16, ["--pad"])
    assert_same_blocks(q, lines, 16, -1)
    np.testing.assert_array_equal(blockrtl.dequantize(q).view(np.uint32), np.load(deq).view(np.uint32))


@pytest.mark.parametrize("fmt", ["mxfp4", "mxint8", "mxfp8_e5m2", "dialectfp4"])
def test_float16_input_matches_the_cli(cli, tmp_path, fmt):
    x = random_tensor(np.random.default_rng(11), (16, 64), "normal").astype(np.float16)
    x[0, :4] = [np.float16(6.1e-5), np.float16(-0.0), np.float16(65504.0), np.float16(5.96e-8)]
    q = blockrtl.quantize(x, fmt)
    lines, deq = cli_quantize(cli, tmp_path, rows_file(tmp_path, x, -1), fmt, 32)
    assert_same_blocks(q, lines, 32, -1)
    want = np.load(deq)
    assert want.dtype == np.float16
    got = blockrtl.fake_quant(x, fmt)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got.view(np.uint16), want.view(np.uint16))
    np.testing.assert_array_equal(blockrtl.dequantize(q, np.float16).view(np.uint16), want.view(np.uint16))


@pytest.mark.parametrize("fmt", ["mxfp4", "mxfp8_e4m3", "dialectfp4"])
def test_bfloat16_input_matches_the_cli(cli, tmp_path, fmt):
    bits = (random_tensor(np.random.default_rng(5), (16, 64), "wide").view(np.uint32) >> 16).astype(np.uint16)
    path = tmp_path / "x.safetensors"
    write_safetensors(path, {"w": ("BF16", bits)})
    q = blockrtl.quantize(bits, fmt, bits="bf16")
    lines, deq = cli_quantize(cli, tmp_path, path, fmt, 32)
    assert_same_blocks(q, lines, 32, -1)
    dtype, want = read_safetensors(deq)["w"]
    assert dtype == "BF16"
    np.testing.assert_array_equal(blockrtl.fake_quant(bits, fmt, bits="bf16"), want)
    np.testing.assert_array_equal(blockrtl.dequantize(q, "bfloat16", as_bits=True), want)
    ml_dtypes = pytest.importorskip("ml_dtypes")
    typed = bits.view(ml_dtypes.bfloat16)
    out = blockrtl.fake_quant(typed, fmt)
    assert out.dtype == typed.dtype
    np.testing.assert_array_equal(out.view(np.uint16), want)


def test_checkpoint_tensors_match_the_cli(cli, tmp_path):
    ckpt = tmp_path / "model.safetensors"
    cli("make-tensor", "--dist", "outlier", "--shape", "64x128", "--count", "3", "--out", ckpt)
    tensors = blockrtl.load_checkpoint(ckpt)
    assert len(tensors) == 3
    for name, x in tensors.items():
        assert x.dtype == np.float32 and x.shape == (64, 128)
        q = blockrtl.quantize(x, "dialectfp4")
        lines, _ = cli_quantize(cli, tmp_path, ckpt, "dialectfp4", 32, ["--tensor", f"^{name}$"])
        assert_same_blocks(q, lines, 32, -1)
