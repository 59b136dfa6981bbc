#!/usr/bin/env python3
"""Strict front-end lint with slang (pyslang): declaration before use, widths, literals.

Usage: slang_lint.py --top TOP FILE...   (exit 0: no errors and no warnings)
Width truncation (-Wwidth-trunc) is a warning on top of slang's defaults.
"""
import sys

from pyslang.driver import Driver


def main() -> int:
    driver = Driver()
    driver.addStandardArgs()
    if not driver.parseCommandLine(" ".join(["slang", "-Wwidth-trunc"] + sys.argv[1:])):
        return 2
    if not driver.processOptions() or not driver.parseAllSources():
        return 2
    compilation = driver.createCompilation()
    driver.reportCompilation(compilation, quiet=True)
    driver.reportDiagnostics(True)
    engine = driver.diagEngine
    return 0 if engine.numErrors == 0 and engine.numWarnings == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
