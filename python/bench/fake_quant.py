"""Benchmark: fake_quant of a 4096 x 4096 float32 array (standard normal), blocks of 32 along the
last axis, on all cores; next to an independent pure-numpy MXFP4 fake-quant written here the way
users usually emulate it (frexp for the shared exponent, np.round for RNE). Prints figures and
asserts nothing; it also says whether the numpy version agrees with blockrtl bit for bit.

    python python/bench/fake_quant.py [--size N] [--runs R]
"""

import argparse
import os
import time

import numpy as np

import blockrtl


def numpy_mxfp4(x, k=32):
    """MXFP4 fake-quant in numpy: OCP floor scale rule, E2M1 RNE with saturation to 6."""
    rows, n = x.shape
    b = x.reshape(rows, n // k, k).astype(np.float32)
    amax = np.abs(b).max(axis=-1, keepdims=True)
    _, e = np.frexp(amax)  # amax = m * 2^e with m in [0.5, 1): floor(log2 amax) = e - 1
    shared = np.where(amax > 0, e - 1 - 2, -127).clip(-127, 127)  # emax(E2M1) = 2
    scale = np.ldexp(np.float32(1.0), shared).astype(np.float32)
    y = b / scale
    mag = np.abs(y)
    _, ye = np.frexp(mag)
    private = np.maximum(ye - 1, 0)  # E2M1: emin = 0; below it the subnormal quantum 0.5
    quantum = np.ldexp(np.float32(1.0), private - 1).astype(np.float32)  # one mantissa bit
    q = np.minimum(np.round(mag / quantum) * quantum, np.float32(6.0))
    out = np.copysign(q, y) * scale
    return out.reshape(rows, n).astype(np.float32)


def median_time(f, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    n = args.size
    x = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    print(f"fake_quant {n} x {n} float32 (standard normal), block size 32, {os.cpu_count()} cores, "
          f"median of {args.runs} runs; {blockrtl.TOOL}, numpy {np.__version__}")
    for fmt, kw in [("mxfp4", {}), ("mxint8", {}), ("dialectfp4", {"selector": "mse"})]:
        blockrtl.fake_quant(x[:64], fmt, **kw)  # builds the format's dequantization table
        t = median_time(lambda: blockrtl.fake_quant(x, fmt, **kw), args.runs)
        label = fmt + (" (mse)" if fmt == "dialectfp4" else "")
        print(f"  blockrtl {label:<18} {t:7.3f} s  {n * n / t / 1e6:7.1f} M elements/s")
        if fmt == "mxfp4":
            t_blockrtl = t
    t_np = median_time(lambda: numpy_mxfp4(x), args.runs)
    print(f"  numpy    {'mxfp4':<18} {t_np:7.3f} s  {n * n / t_np / 1e6:7.1f} M elements/s")
    print(f"  mxfp4: blockrtl is {t_np / t_blockrtl:.1f}x faster than numpy")
    same = np.count_nonzero(numpy_mxfp4(x).view(np.uint32) == blockrtl.fake_quant(x, "mxfp4").view(np.uint32))
    print(f"  numpy and blockrtl mxfp4 agree on {same} of {n * n} elements")


if __name__ == "__main__":
    main()
