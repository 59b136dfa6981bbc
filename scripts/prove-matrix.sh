#!/usr/bin/env bash
# The larger proof matrix (cargo test runs a small one): every unit in several configurations,
# every property that applies, printed as one markdown table (unit, configuration, property,
# result, engine, seconds). Usage: scripts/prove-matrix.sh [DEPTH [TIMEOUT_S]] > table.md
# Needs blockrtl on the PATH (cargo install --path . or target/release) and the tools of
# scripts/install-deps.sh and scripts/install-eda-venv.sh.
set -uo pipefail
depth=${1:-8}
timeout=${2:-90}
# FROM=N skips the first N configurations (to resume a run).
configs=(
  "--unit mx-quantizer --format mxfp4 --input-format bf16 --block-size 4 --pipeline 2"
  "--unit mx-quantizer --format mxfp8_e4m3 --input-format f16 --block-size 4 --lanes 2 --pipeline 3"
  "--unit mx-quantizer --format mxfp8_e5m2 --input-format bf16 --block-size 8 --pipeline 2"
  "--unit mx-quantizer --format mxint8 --input-format f32 --block-size 2 --pipeline 6"
  "--unit mx-quantizer --format mxfp6_e3m2 --input-format bf16 --block-size 4 --pipeline 0"
  "--unit mx-quantizer --format mxfp4 --input-format bf16 --block-size 32 --pipeline 2"
  "--unit bd-quantizer --input-format bf16 --block-size 4 --lanes 2 --pipeline 1"
  "--unit bd-quantizer --input-format bf16 --block-size 4 --pipeline 2 --selector mse"
  "--unit bd-selector --block-size 4 --pipeline 1"
  "--unit bd-selector --block-size 32 --pipeline 2"
  "--unit dot --format-a mxfp4 --format-b mxfp4 --block-size 4 --lanes 2 --pipeline 2"
  "--unit dot --format-a mxint8 --format-b mxint8 --block-size 2 --pipeline 2"
  "--unit dot --format-a dialectfp4 --format-b dialectfp4 --block-size 4 --pipeline 2"
  "--unit dot --format-a mxfp4 --format-b mxfp4 --block-size 2 --pipeline 2 --accumulate fp32 --dot-length 2"
  "--unit dot --format-a mxfp4 --format-b mxfp4 --block-size 2 --pipeline 2 --accumulate fixed --dot-length 2"
  "--unit dequantizer --format mxfp4 --block-size 4 --lanes 2 --pipeline 2"
  "--unit dequantizer --format dialectfp4 --block-size 4 --pipeline 2"
  "--unit dequantizer --format nvfp4 --block-size 2 --pipeline 3"
  "--unit nvfp4-quantizer --input-format bf16 --block-size 2 --pipeline 2"
  "--unit nvfp4-quantizer --input-format bf16 --block-size 16 --pipeline 2"
)
echo "depth $depth cycles for bounded proofs, $timeout s per solver run"
echo
echo "| configuration | property | result | engine | s |"
echo "|---|---|---|---|---|"
for c in "${configs[@]:${FROM:-0}}"; do
  # shellcheck disable=SC2086
  err=$(mktemp)
  out=$(blockrtl prove $c --depth "$depth" --timeout "$timeout" --trace-dir target/prove-traces 2>"$err")
  cfg=${c#--unit }
  if ! printf '%s\n' "$out" | grep -q '^  [a-z-]* '; then
    echo "| $cfg | - | ERROR: $(tail -n 1 "$err") | | |"
  fi
  rm -f "$err"
  printf '%s\n' "$out" | sed -n 's/^  \([a-z-]*\) *\(PASS\|FAIL\|UNDECIDED\|n\/a\)  *\(.*\)$/\1|\2|\3/p' |
    while IFS='|' read -r prop verdict rest; do
      if [ "$verdict" = "n/a" ]; then
        echo "| $cfg | $prop | n/a: ${rest} | | |"
        continue
      fi
      # "unbounded (abc pdr, 0.2 s): ..." -> result, engine, seconds
      what=${rest%% (*}
      inner=${rest#*(}
      inner=${inner%%): *}
      secs=${inner##*, }
      engine=${inner%, *}
      echo "| $cfg | $prop | $verdict $what | $engine | ${secs% s} |"
    done
done
