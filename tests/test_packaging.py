"""What ``pip install .`` (not editable) puts in the package: every data file the tool reads.
CI installs editable, which reads the source tree and would not notice a file left out."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).parents[1]


def test_every_data_file_is_in_the_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["spatial.data"]
    left_out = []
    for path in sorted((ROOT / "data").rglob("*")):
        if not path.is_file() or path.suffix == ".py" or "__pycache__" in path.parts:
            continue
        rel = PurePosixPath(path.relative_to(ROOT / "data").as_posix())
        # "**/*.ext" matches a file at any depth, the top level included
        if not any(rel.match(p.removeprefix("**/")) for p in patterns):
            left_out.append(str(rel))
    assert left_out == []
