#!/usr/bin/env bash
# The Python package's test environment: a project-local venv `.venv-py` with numpy, ml_dtypes,
# pytest and maturin (pinned), into which tests/python.rs installs ./python before running its
# pytest suite. A user installs the package with one command instead (README, "Python").
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv-py
. scripts/make-venv.sh
make_venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check \
  numpy==2.4.6 ml_dtypes==0.7.0 pytest==9.2.0 maturin==1.16.0
"$VENV/bin/python" -c 'import numpy, ml_dtypes, pytest; print("numpy", numpy.__version__, "ml_dtypes", ml_dtypes.__version__, "pytest", pytest.__version__)' >&2
