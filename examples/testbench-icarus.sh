#!/usr/bin/env bash
# needs: iverilog
# The self-checking testbench as another project would use it: generate it with 200 golden blocks,
# compile the design and the testbench with Icarus, and run it (it exits non-zero on a failure).
set -euo pipefail
blockrtl generate --unit dot --format-a mxfp4 --format-b mxfp4 --accumulate fp32 --dot-length 4 \
  --testbench 200 --tb-stall-prob 0.25 --out rtl
top=dot_e2m1xe2m1_k32_l32_p2_fp32n4
cd rtl
iverilog -g2005 -o sim.vvp -s "tb_$top" -c "$top.f" "tb_$top.v"
vvp -n sim.vvp
