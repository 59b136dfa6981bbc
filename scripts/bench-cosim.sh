#!/usr/bin/env bash
# Co-simulation speed, measured: every unit's default configuration (and the four dot operand
# formats) streams BLOCKS blocks through Verilator RUNS times; the table gives the median rate
# and that run's time split (writer: stimulus and input beats; comparer: golden model; harness
# CPU). Run it with nothing else loading the machine. A benchmark, not a test: it prints
# figures and asserts nothing.
#
#   scripts/bench-cosim.sh [BLOCKS [RUNS]]      (default 1000000 blocks, 3 runs)
#   BLOCKRTL=/path/to/blockrtl scripts/bench-cosim.sh   (another build, e.g. a baseline)
set -euo pipefail
blocks=${1:-1000000}
runs=${2:-3}
bin=${BLOCKRTL:-blockrtl}
configs=(
  "mx-quantizer --format mxfp4"
  "mx-quantizer --format mxfp4 --input-format bf16"
  "bd-quantizer"
  "nvfp4-quantizer"
  "dequantizer --format mxfp4"
  "bd-selector"
  "dot --format-a mxfp4 --format-b mxfp4"
  "dot --format-a mxint8 --format-b mxint8"
  "dot --format-a dialectfp4 --format-b dialectfp4"
  "dot --format-a nvfp4 --format-b nvfp4"
)
echo "| configuration | M blocks/s (median of $runs) | runs | split of the median run |"
echo "|---|---|---|---|"
for c in "${configs[@]}"; do
  # shellcheck disable=SC2086  # the configuration is a list of flags
  "$bin" cosim --unit $c --blocks 1000 > /dev/null 2>&1 # build (or find) the harness first
  results=()
  for _ in $(seq "$runs"); do
    # shellcheck disable=SC2086
    out=$("$bin" cosim --unit $c --blocks "$blocks" 2>&1)
    if ! grep -q " 0 mismatches" <<< "$out"; then
      echo "bench-cosim: $c: mismatches or failure:" >&2
      echo "$out" >&2
      exit 1
    fi
    rate=$(grep -o '[0-9.]* M blocks/s' <<< "$out" | cut -d' ' -f1)
    split=$(grep '^time:' <<< "$out" | sed 's/^time: //' || true)
    results+=("$rate|$split")
  done
  sorted=$(printf '%s\n' "${results[@]}" | sort -t'|' -k1,1 -g)
  median=$(sed -n "$(( (runs + 1) / 2 ))p" <<< "$sorted")
  all=$(cut -d'|' -f1 <<< "$sorted" | paste -sd' ')
  echo "| $c | ${median%%|*} | $all | ${median#*|} |"
done
