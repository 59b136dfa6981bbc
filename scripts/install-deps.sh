#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for blockrtl: the EDA tools from apt
# (simulation, synthesis, iCE40 place-and-route; tclsh to check the Vivado scripts). ECP5 and
# FuseSoC: scripts/install-eda-venv.sh.
# (Rust itself is expected on the machine; crates come from crates.io through cargo.)
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need=()
for pkg in verilator yosys nextpnr-ice40 fpga-icestorm iverilog g++ make ccache zlib1g-dev python3 tcl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
verilator --version >&2
yosys -V >&2
nextpnr-ice40 --version >&2 || true
