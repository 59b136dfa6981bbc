#!/usr/bin/env bash
# needs:
# Weights with outlier columns: how much closer DialectFP4 (offline mse selector, as weights are
# quantized) gets than MXFP4 at about the same bits per element, and the dequantized tensor.
set -euo pipefail
blockrtl make-tensor --dist outlier --shape 512x1024 --out weights.npy
blockrtl quantize --input weights.npy --format mxfp4 --format dialectfp4 --selector mse
blockrtl quantize --input weights.npy --format dialectfp4 --selector mse --dequantized weights_dq.npy
