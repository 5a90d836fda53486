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


def test_every_package_folder_is_installed():
    """``[tool.setuptools] packages`` lists every folder of ``spatial`` (a folder left out is
    missing from ``pip install .``: the README's demo command failed with ModuleNotFoundError)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"]) - {"spatial.data"}
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "spatial").rglob("__init__.py")
    }
    assert listed == folders


def test_every_non_python_file_of_the_package_is_in_the_package_data():
    """Templates, scripts and styles beside the modules (maps.js, template.toml, the app's
    pages) are package data of their folder."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    data = config["tool"]["setuptools"]["package-data"]
    left_out = []
    for path in sorted((ROOT / "spatial").rglob("*")):
        if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
            continue
        folder = path.parent
        while not (folder / "__init__.py").exists():
            folder = folder.parent
        package = ".".join(folder.relative_to(ROOT).parts)
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        if not any(rel.match(p) for p in data.get(package, [])):
            left_out.append(str(path.relative_to(ROOT)))
    assert left_out == []
