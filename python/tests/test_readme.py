"""The README's Python example runs as written."""

import re

from conftest import ROOT


def test_readme_python_example_runs():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Python") :]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    scope = {}
    exec(compile(block, "README.md (Python)", "exec"), scope)
    assert scope["out"].shape == (4, 256)
