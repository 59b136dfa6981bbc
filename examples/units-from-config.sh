#!/usr/bin/env bash
# needs: verilator
# Several units from one TOML file, then each linted with Verilator from its file list (-F reads
# the list's paths relative to the list itself).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
blockrtl generate --config "$here/units.toml" --out rtl
for list in rtl/*.f; do
  top="$(basename "$list" .f)"
  verilator --lint-only -Wall -F "$list" --top-module "$top"
  echo "lint-clean: $top"
done
