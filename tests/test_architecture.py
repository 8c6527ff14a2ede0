"""The floors of DESIGN.md hold: `lint-imports` checks the contract in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_imports_point_down_the_floors():
    exe = Path(sys.executable).parent / "lint-imports"
    if not exe.exists():
        found = shutil.which("lint-imports")
        if found is None:
            pytest.skip("import-linter is not installed (pip install -e '.[test]')")
        exe = Path(found)
    done = subprocess.run([str(exe), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_every_file_the_package_reads_is_in_its_package_data():
    """A wheel carries only the .py files and `[tool.setuptools.package-data]`: a weight file
    or a motion clip outside those patterns works in an editable install and is missing from
    every built one."""
    import tomllib

    package = REPO / "src" / "perceptzoo"
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["perceptzoo"]
    shipped = {p for pattern in patterns for p in package.glob(pattern)}
    data = {p for p in package.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")
            and "__pycache__" not in p.parts}
    missing = sorted(str(p.relative_to(package)) for p in data - shipped)
    assert not missing, f"add these to package-data in pyproject.toml: {missing}"
