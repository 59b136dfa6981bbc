"""Shared helpers: the blockrtl CLI the package is compared with, and tensor files."""

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli_path():
    env = os.environ.get("BLOCKRTL_BIN")
    if env:
        return env
    built = ROOT / "target" / "release" / "blockrtl"
    if built.exists():
        return str(built)
    return shutil.which("blockrtl")


@pytest.fixture(scope="session")
def cli():
    """Run the blockrtl CLI; returns (exit status, stdout, stderr)."""
    path = _cli_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the blockrtl CLI is required under CI=true (cargo build --release)")
        pytest.skip("blockrtl CLI not found (cargo build --release, or set BLOCKRTL_BIN)")

    def run(*args, check=True):
        p = subprocess.run([path, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"blockrtl {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr}")
        return p.returncode, p.stdout, p.stderr

    return run


def read_codes(path):
    """`quantize --codes` JSON lines, in file order."""
    with open(path) as f:
        return [json.loads(line) for line in f]


_ST_DTYPES = {"F32": (np.uint32, 4), "BF16": (np.uint16, 2), "F16": (np.uint16, 2)}


def write_safetensors(path, tensors):
    """tensors: name -> (dtype name F32/BF16/F16, raw code array)."""
    header, blobs, offset = {}, [], 0
    for name, (dtype, codes) in tensors.items():
        data = np.ascontiguousarray(codes).astype(_ST_DTYPES[dtype][0]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(codes.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """name -> (dtype name, raw code array)."""
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        lo, hi = meta["data_offsets"]
        dt = _ST_DTYPES[meta["dtype"]][0]
        out[name] = (meta["dtype"], np.frombuffer(raw[8 + n + lo : 8 + n + hi], dtype=dt).reshape(meta["shape"]))
    return out


def edge_values():
    """FP32 values that exercise the corner cases of numerics.md: signed zeros, FP32
    subnormals, values at and next to powers of two and element midpoints, the largest
    finite values, and values that round up into the next binade."""
    v = [0.0, -0.0, 1.0, -1.0, 6.0, 7.0, 7.9999995, 8.0, -448.0, 464.0, 57344.0, 0.25, 0.75, 1.25, 1.75,
         2.5, 3.5, 5.0, 0.125, 1.5, -3.0, 127.0 / 64, 2.0 ** -126, 2.0 ** -149, -(2.0 ** -140), 3.0e38,
         -3.4028235e38, 1.0000001, 0.99999994, 2.0 ** 100, 2.0 ** -100, 0.3, -0.7]
    return np.array(v, dtype=np.float32)


def random_tensor(rng, shape, kind):
    if kind == "normal":
        return rng.standard_normal(shape, dtype=np.float32)
    if kind == "wide":
        # Magnitudes over many binades, so blocks differ in scale and subnormal elements occur.
        mag = np.exp2(rng.uniform(-140, 120, shape)).astype(np.float32)
        return np.where(rng.random(shape) < 0.5, -mag, mag).astype(np.float32)
    if kind == "edge":
        return rng.choice(edge_values(), size=shape).astype(np.float32)
    if kind == "specials":
        # Sparse NaNs and infinities: their blocks get the NaN scale, the others quantize.
        x = rng.standard_normal(shape, dtype=np.float32)
        pick = rng.random(shape)
        x[pick < 0.004] = np.nan
        x[(pick >= 0.004) & (pick < 0.008)] = np.inf
        x[(pick >= 0.008) & (pick < 0.012)] = -np.inf
        return x
    raise ValueError(kind)
