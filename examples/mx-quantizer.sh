#!/usr/bin/env bash
# needs: verilator yosys
# A BF16 -> MXFP4 quantizer: generate it, co-simulate it against the golden model with 20% source
# and sink stalls, trace blocks 1000..1003 of that run, and count its gates with Yosys.
set -euo pipefail
blockrtl generate --unit mx-quantizer --format mxfp4 --input-format bf16 --out rtl
blockrtl cosim --unit mx-quantizer --format mxfp4 --input-format bf16 \
  --blocks 20000 --stall-prob 0.2 --wave window.vcd --wave-from 1000 --wave-blocks 4
blockrtl synth --unit mx-quantizer --format mxfp4 --input-format bf16 --target generic
