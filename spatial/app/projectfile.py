"""The project file the app writes: ``project.toml`` in the project folder, the same file
``lifecircle run --config <folder>`` reads. Edits keep the file's comments and layout (tomlkit),
and every edit is validated by :func:`spatial.config.project.load_project` (the command line's
rules and messages); an edit it refuses is undone, so the file on disk always loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomlkit

from spatial.config.project import Project, load_project
from spatial.outputs import staging


def new_project_file(folder: Path, name: str, lang: str, paths: dict[str, str]) -> Path:
    """Write ``folder/project.toml`` for a new project: its name, language and layer paths.

    Parameters
    ----------
    folder : Path
    name : str
    lang : str
    paths : dict of str to str
        Section (``communities``, ``facilities``, ``parcels``, ``network``) → path relative to
        ``folder``.

    Returns
    -------
    Path
    """
    doc = tomlkit.document()
    doc.add(tomlkit.comment("written by lifecircle serve; lifecircle run --config . reproduces it"))
    doc["project"] = {"name": name, "lang": lang}
    for section, path in paths.items():
        doc[section] = {"path": path}
    target = folder / "project.toml"
    staging.write_text(target, tomlkit.dumps(doc))
    return target


def edit(path: Path, changes: dict[str, dict[str, Any]]) -> Project:
    """Apply ``changes`` (section → key → value; a value of None removes the key) to the
    project file ``path`` and load it; if the command line's checks refuse it, the file is put
    back as it was and the error (``ConfigError``/``InputError``) raised.

    Returns
    -------
    Project
        The project as the command line would load it.
    """
    before = path.read_text("utf-8")
    doc = tomlkit.parse(before)
    for section, values in changes.items():
        table = doc.setdefault(section, tomlkit.table())
        for key, value in values.items():
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
    staging.write_text(path, tomlkit.dumps(doc))
    try:
        return load_project(path)
    except Exception:
        staging.write_text(path, before)
        raise


def table(path: Path, section: str) -> dict[str, Any]:
    """Section ``section`` of the project file as plain values (empty when absent)."""
    doc = tomlkit.parse(path.read_text("utf-8"))
    return dict(doc.get(section, {}).unwrap()) if section in doc else {}
