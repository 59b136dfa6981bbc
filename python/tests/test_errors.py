"""Bad input raises ValueError (never a panic reaching Python) with the message the CLI gives
for the same mistake."""

import numpy as np
import pytest

import blockrtl

X = np.ones((4, 64), np.float32)


@pytest.mark.parametrize(
    "kwargs,cli_flags",
    [
        (dict(fmt="dialectfp4", selector="greedy"), ["--format", "dialectfp4", "--selector", "greedy"]),
        (dict(fmt="dialectfp4", frac_bits=99), ["--format", "dialectfp4", "--frac-bits", "99"]),
        (dict(fmt="dialectfp4", scale="e4"), ["--format", "dialectfp4", "--scale", "e4"]),
        (dict(fmt="mxfp4", scale_rule="ceil"), ["--format", "mxfp4", "--scale-rule", "ceil"]),
        (dict(fmt="mxfp4", block_size=5000), ["--format", "mxfp4", "--block-size", "5000"]),
    ],
)
def test_settings_errors_carry_the_cli_message(cli, tmp_path, kwargs, cli_flags):
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(ValueError) as err:
        blockrtl.quantize(X, **kwargs)
    status, _, stderr = cli("quantize", "--input", tmp_path / "x.npy", *cli_flags, check=False)
    assert status == 2
    assert str(err.value) in stderr, f"{err.value!r} not in CLI's {stderr!r}"


def test_a_bad_formatbook_carries_the_cli_message(cli, tmp_path):
    book = tmp_path / "bad.toml"
    book.write_text('name = "bad"\nunit = "half"\n[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8]\n')
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(ValueError) as err:
        blockrtl.quantize(X, "dialectfp4", formatbook=book)
    status, _, stderr = cli("quantize", "--input", tmp_path / "x.npy", "--format", "dialectfp4",
                            "--formatbook", book, check=False)
    assert status == 2 and str(err.value) in stderr, (str(err.value), stderr)
    with pytest.raises(ValueError, match="missing.toml"):
        blockrtl.quantize(X, "dialectfp4", formatbook=tmp_path / "missing.toml")


def test_unknown_format_lists_the_formats():
    with pytest.raises(ValueError, match="unknown format 'mxfp5' \\(expected one of mxfp8_e4m3"):
        blockrtl.quantize(X, "mxfp5")


def test_rows_that_do_not_fill_blocks():
    with pytest.raises(ValueError, match="rows of 64 elements are not a multiple of the block size 48 \\(pass pad=True"):
        blockrtl.quantize(X, "mxfp4", 48)


@pytest.mark.parametrize(
    "x,kwargs,message",
    [
        (X.astype(np.float64), {}, "float64 input"),
        (X.astype(np.int32), {}, "pass bits="),
        (X.view(np.uint32), dict(bits="bf16"), "needs 16-bit integer codes"),
        (X, dict(bits="f8"), "unknown bits 'f8'"),
        (np.array(1.0, np.float32), {}, "0-d array"),
        (np.zeros((0, 32), np.float32), {}, "no elements"),
        (X, dict(axis=2), "axis 2 is out of range"),
        (X, dict(block_size=0), "block size 0 must be 1..=4096"),
        (X, dict(block_size=2.5), "block size must be an integer"),
        (np.array(["a"] * 32), {}, "takes float32, float16 or bfloat16"),
    ],
)
def test_bad_arrays_raise_value_error(x, kwargs, message):
    with pytest.raises(ValueError, match=message):
        blockrtl.quantize(x, "mxfp4", **kwargs)


def test_bad_quantized_arrays_raise_value_error():
    q = blockrtl.quantize(X, "mxfp4")
    with pytest.raises(ValueError, match="code 16 at flat index 0 is not a 4-bit mxfp4 code"):
        codes = q.codes.copy()
        codes[0, 0] = 16
        blockrtl.dequantize(blockrtl.QuantizedTensor.from_arrays("mxfp4", q.scales, codes))
    with pytest.raises(ValueError, match="scales have shape"):
        blockrtl.QuantizedTensor.from_arrays("mxfp4", q.scales[:, :1], q.codes)
    with pytest.raises(ValueError, match="need their dialect ids"):
        blockrtl.dequantize(blockrtl.QuantizedTensor.from_arrays("dialectfp4", q.scales, q.codes))
    with pytest.raises(ValueError, match="have no dialect ids"):
        blockrtl.dequantize(blockrtl.QuantizedTensor.from_arrays("mxfp4", q.scales, q.codes, q.scales))
    with pytest.raises(ValueError, match="scale 40 at flat index 0 is not a 5-bit e5 code"):
        s = q.scales.copy()
        s[0, 0] = 40
        d = np.zeros_like(s)
        blockrtl.dequantize(blockrtl.QuantizedTensor.from_arrays("dialectfp4", s, q.codes, d, scale="e5"))
    with pytest.raises(ValueError, match="unknown output dtype"):
        blockrtl.dequantize(q, np.int8)


def test_dot_errors():
    a = blockrtl.quantize(X, "mxfp4")
    b = blockrtl.quantize(np.ones((4, 64), np.float32), "mxint8", 16)
    with pytest.raises(ValueError, match="block sizes 32 and 16"):
        blockrtl.dot(a, b)
    with pytest.raises(ValueError, match="qb along axis 0"):
        blockrtl.matmul(a, a)
    with pytest.raises(ValueError, match="unknown accumulation 'bf16'"):
        blockrtl.dot(a, a, "bf16")
    with pytest.raises(ValueError, match="acc_width 80 must be 2..=64"):
        blockrtl.dot(a, a, "fixed", acc_width=80)
    with pytest.raises(ValueError, match="interleave must be at least 1"):
        blockrtl.dot(a, a, interleave=0)
    with pytest.raises(ValueError, match="one shape"):
        blockrtl.dot(a, blockrtl.quantize(np.ones((2, 64), np.float32), "mxfp4"))
