#!/usr/bin/env bash
# The main job on a fresh machine: install the EDA tools, build blockrtl, generate the default
# design (an MXFP4 block quantizer, k = 32, BF16 in, one block per cycle, 2 pipeline stages)
# into build/demo, and co-simulate a million blocks of it against the golden model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --quiet
bin=target/release/blockrtl
unit=(--unit mx-quantizer --format mxfp4 --block-size 32 --input-format bf16 --pipeline 2)
"$bin" generate "${unit[@]}" --out build/demo
"$bin" cosim "${unit[@]}" --blocks 1000000 --stall-prob 0.1 --replay-dir build/demo
