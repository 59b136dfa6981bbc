"""Fake-quantize the linear-layer weights of a safetensors checkpoint with blockrtl's golden
model and print each tensor's SQNR (signal to quantization noise ratio, dB) per format.

    pip install ./python            # once, in a virtual environment
    python examples/python_sqnr.py model.safetensors [--format mxfp4,dialectfp4] [--block-size 32]

Tensors are taken as `blockrtl quantize` takes them: every floating-point matrix (the linear
weights), or those matching --tensor; a sharded checkpoint is read through its
*.safetensors.index.json.
"""

import argparse

import numpy as np

import blockrtl


def sqnr_db(x, y):
    x = x.astype(np.float64)
    noise = np.sum((x - y.astype(np.float64)) ** 2)
    signal = np.sum(x * x)
    return float("inf") if noise == 0 else 10 * np.log10(signal / noise)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("--format", default="mxfp4,mxfp6_e2m3,mxfp8_e4m3,mxint8,dialectfp4")
    ap.add_argument("--block-size", type=int, default=32)
    ap.add_argument("--tensor", action="append", default=[], help="regular expression (repeatable)")
    args = ap.parse_args()
    formats = args.format.split(",")
    try:
        tensors = blockrtl.load_checkpoint(args.checkpoint, tensor=args.tensor)
    except ValueError as e:
        raise SystemExit(f"python_sqnr: {e}")
    if not tensors:
        raise SystemExit("python_sqnr: no matrices in the checkpoint (use --tensor to name tensors)")
    width = max(len(n) for n in tensors)
    print(f"SQNR (dB), blocks of {args.block_size} along each row; dialectfp4 with the mse selector")
    print(f"{'tensor':<{width}} {'shape':>12} " + " ".join(f"{f:>11}" for f in formats))
    for name, x in tensors.items():
        cells = []
        for f in formats:
            try:
                y = blockrtl.fake_quant(x, f, args.block_size, pad=True)
            except ValueError as e:
                raise SystemExit(f"python_sqnr: {name}: {e}")
            cells.append(f"{sqnr_db(x, y):11.2f}")
        shape = "x".join(map(str, x.shape))
        print(f"{name:<{width}} {shape:>12} " + " ".join(cells))


if __name__ == "__main__":
    main()
