"""Plugins defined only in tests/plugins/ (a sampler, a policy, an executor) work as the built-ins do.

The checks are in ``tests/plugins/plugin_checks.py``; they run in a pytest process of their own, so
the plugins they register (by importing them) stay out of the messages the other tests check.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

CHECKS = Path(__file__).parent / "plugins" / "plugin_checks.py"


@pytest.mark.integration
def test_plugins_defined_outside_the_package(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(CHECKS), "-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t")],
        capture_output=True, text=True, timeout=280, cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert re.search(r"\b6 passed", done.stdout), done.stdout[-2000:]
