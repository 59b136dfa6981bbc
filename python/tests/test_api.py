"""The API's own contracts: fake_quant == dequantize(quantize()), packed codes, dtypes, shapes
and axes, and bad input as ValueError with the CLI's message."""

import numpy as np
import pytest

import blockrtl
from conftest import random_tensor


@pytest.mark.parametrize("fmt", list(blockrtl.FORMATS))
@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_fake_quant_is_dequantize_of_quantize(fmt, axis):
    x = random_tensor(np.random.default_rng(1), (8, 16, 32), "wide")
    q = blockrtl.quantize(x, fmt, 8, axis)
    assert q.shape == x.shape and q.codes.dtype == np.uint8 and q.scales.dtype == np.uint8
    blocks = list(x.shape)
    blocks[axis] //= 8
    assert q.scales.shape == tuple(blocks)
    assert (q.dialects is not None) == (fmt == "dialectfp4")
    a = blockrtl.fake_quant(x, fmt, 8, axis)
    b = blockrtl.dequantize(q)
    np.testing.assert_array_equal(a.view(np.uint32), b.view(np.uint32))


def test_blocks_run_along_the_axis():
    """One large element per row of axis 0: along axis 0 every block holds it, so each block's
    scale follows its column; along axis 1 only the first block of each row sees it."""
    x = np.full((4, 8), 0.5, np.float32)
    x[0, :] = 64.0
    q0 = blockrtl.quantize(x, "mxfp4", 4, axis=0)
    q1 = blockrtl.quantize(x, "mxfp4", 4, axis=1)
    assert q0.scales.shape == (1, 8) and (q0.scales == q0.scales[0, 0]).all()
    assert q1.scales.shape == (4, 2) and q1.scales[0, 0] != q1.scales[1, 0]


def test_non_contiguous_and_transposed_input_equals_a_copy():
    x = random_tensor(np.random.default_rng(2), (64, 96), "normal")
    view = x[::2, 16:80]
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(blockrtl.fake_quant(view, "mxfp6_e3m2"), blockrtl.fake_quant(view.copy(), "mxfp6_e3m2"))
    np.testing.assert_array_equal(
        blockrtl.fake_quant(x.T, "mxint8", axis=0), blockrtl.fake_quant(x, "mxint8", axis=1).T
    )


def test_one_dimensional_vectors():
    x = random_tensor(np.random.default_rng(4), (96,), "normal")
    q = blockrtl.quantize(x, "mxfp8_e5m2")
    assert q.scales.shape == (3,) and q.codes.shape == (96,)
    assert blockrtl.dequantize(q).shape == (96,)


@pytest.mark.parametrize("fmt", ["mxfp4", "dialectfp4"])
def test_packed_codes_round_trip(fmt):
    x = random_tensor(np.random.default_rng(6), (6, 64), "normal")
    q = blockrtl.quantize(x, fmt, 16)
    packed = q.packed_codes()
    assert packed.shape == (6, 32) and packed.dtype == np.uint8
    # The even element in the low nibble.
    assert packed[0, 0] == q.codes[0, 0] | (q.codes[0, 1] << 4)
    back = blockrtl.QuantizedTensor.from_arrays(fmt, q.scales, packed, q.dialects, block_size=16, packed=True)
    np.testing.assert_array_equal(back.codes, q.codes)
    np.testing.assert_array_equal(blockrtl.dequantize(back), blockrtl.dequantize(q))
    # Along axis 0 too.
    q0 = blockrtl.quantize(x.T.copy(), fmt, 16, axis=0)
    p0 = q0.packed_codes()
    assert p0.shape == (32, 6)
    back0 = blockrtl.QuantizedTensor.from_arrays(fmt, q0.scales, p0, q0.dialects, block_size=16, axis=0, packed=True)
    np.testing.assert_array_equal(back0.codes, q0.codes)


def test_packing_refuses_wide_codes():
    q = blockrtl.quantize(np.ones((2, 32), np.float32), "mxint8")
    with pytest.raises(ValueError, match="only 4-bit codes pack"):
        q.packed_codes()


def test_dequantize_output_dtypes_round_once():
    """A value exact in FP32 but not in FP16/BF16 rounds (nearest even) in the narrow output."""
    x = np.zeros((1, 32), np.float32)
    x[0, 0] = 448.0
    x[0, 1] = 2.0 ** -9  # the smallest E4M3 subnormal after a scale of 2^0
    q = blockrtl.quantize(x, "mxfp8_e4m3")
    assert blockrtl.dequantize(q)[0, 1] == 2.0 ** -9
    assert blockrtl.dequantize(q, np.float16)[0, 1] == np.float16(2.0 ** -9)
    bf = blockrtl.dequantize(q, "bfloat16", as_bits=True)
    assert bf.dtype == np.uint16 and bf[0, 0] == np.float32(448.0).view(np.uint32) >> 16


def test_nan_blocks_are_flagged_and_dequantize_to_nan():
    x = np.ones((2, 32), np.float32)
    x[1, 3] = np.inf
    q = blockrtl.quantize(x, "mxfp4")
    assert q.nan.tolist() == [[False], [True]]
    assert q.scales[1, 0] == 0xFF and (q.codes[1] == 0).all()
    y = blockrtl.dequantize(q)
    assert np.isnan(y[1]).all() and not np.isnan(y[0]).any()


def test_signed_zero_codes():
    x = np.zeros((1, 32), np.float32)
    x[0, 1] = -0.0
    q = blockrtl.quantize(x, "mxfp4")
    assert q.codes[0, 0] == 0 and q.codes[0, 1] == 0x8
    assert np.signbit(blockrtl.dequantize(q)[0, 1])


def test_formatbook_objects_and_files(tmp_path):
    book = blockrtl.Formatbook.builtin()
    assert len(book) == 16 and book.dialects[0][0] == 0
    x = random_tensor(np.random.default_rng(8), (4, 64), "normal")
    path = tmp_path / "two.toml"
    path.write_text('name = "two"\nunit = "half"\n[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 12]\n'
                    '[[dialect]]\nvalues = [0, 1, 2, 3, 4, 6, 8, 11]\n')
    loaded = blockrtl.load_formatbook(path)
    assert loaded.name == "two" and len(loaded) == 2
    a = blockrtl.quantize(x, "dialectfp4", formatbook=path)
    b = blockrtl.quantize(x, "dialectfp4", formatbook=loaded)
    assert set(np.unique(a.dialects)) <= {0, 1}
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_array_equal(blockrtl.dequantize(a), blockrtl.dequantize(b))


def test_gil_is_released_during_work():
    """While one thread runs a long fake_quant, the main thread keeps running Python code. With
    the GIL held through the call the main loop could not run at all until it returned."""
    import threading

    x = random_tensor(np.random.default_rng(9), (2048, 2048), "normal")
    want = blockrtl.fake_quant(x[:64], "dialectfp4")
    out = {}
    started = threading.Event()

    def work():
        started.set()
        out["y"] = blockrtl.fake_quant(x, "dialectfp4")

    t = threading.Thread(target=work)
    t.start()
    started.wait()
    spins = 0
    while t.is_alive():
        spins += 1
    t.join()
    assert spins > 10_000, f"the main thread ran only {spins} loop iterations during the call"
    np.testing.assert_array_equal(out["y"][:64], want)


def test_torch_tensors_through_numpy():
    torch = pytest.importorskip("torch")
    t = torch.randn(8, 64)
    y = torch.from_numpy(blockrtl.fake_quant(t.numpy(), "mxfp4"))
    np.testing.assert_array_equal(y.numpy(), blockrtl.fake_quant(t.numpy().copy(), "mxfp4"))
    b = t.to(torch.bfloat16)
    yb = blockrtl.fake_quant(b.view(torch.int16).numpy(), "mxfp4", bits="bf16")
    assert yb.dtype == np.int16
    back = torch.from_numpy(yb).view(torch.bfloat16)
    np.testing.assert_array_equal(back.float().numpy(), blockrtl.fake_quant(b.float().numpy(), "mxfp4"))


def test_float64_checkpoints_warn_about_rounding(tmp_path):
    x = np.array([[1.0, 0.1, 2.0 ** 200, 3.0]], np.float64)
    np.save(tmp_path / "x.npy", x)
    with pytest.warns(UserWarning, match="2 of 4 values changed, 1 overflowed"):
        t = blockrtl.load_checkpoint(tmp_path / "x.npy")
    (y,) = t.values()
    assert y.dtype == np.float32 and y[0, 1] == np.float32(0.1) and np.isinf(y[0, 2])
