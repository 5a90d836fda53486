"""Writing outputs: atomically (a temporary file renamed into place), and the staged output folder
that replaces the previous run's files only when every output is written."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np

from spatial.core.errors import InterruptedAfterWrite


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place only if the block succeeds.

    Parameters
    ----------
    target : Path

    Yields
    ------
    Path
        The temporary file to write.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text(target: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically (:func:`atomic_path`); return ``target``.

    Parameters
    ----------
    target : Path
    text : str

    Returns
    -------
    Path
    """
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return target


def write_json(target: Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON atomically (NumPy numbers as numbers, NaN as null).

    Parameters
    ----------
    target : Path
    data : object

    Returns
    -------
    Path
    """
    return write_text(target, json.dumps(data, ensure_ascii=False, indent=2, default=_jsonable))


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)


def write_gpkg(target: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write several layers into one GeoPackage atomically (all or nothing).

    Parameters
    ----------
    target : Path
    layers : dict of str to GeoDataFrame
        Layer name → frame, written in this order.

    Returns
    -------
    Path
        ``target``.
    """
    with atomic_path(target) as tmp:
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return target


# -- all-or-nothing outputs: a staging folder beside --out, swapped in at the end -------------

STAGING_PREFIX = ".lifecircle-staging-"
#: every file name the tool writes into ``--out`` (group maps are named in ``maps.CORE_GROUPS``)
OUTPUT_NAMES = (
    "lifecircle.gpkg",
    "summary.json",
    "ledger.xlsx",
    "overview.html",
    "overview.png",
    "overview.pdf",
    "elderly.html",
    "childcare.html",
    "clinics.html",
    "markets.html",
    "elderly.png",
    "childcare.png",
    "clinics.png",
    "markets.png",
)


def _anchor(out: Path) -> Path:
    """The nearest existing folder at or above ``out``'s parent (where the staging goes)."""
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def clean_stale(out: Path) -> list[Path]:
    """Remove what a killed run of the tool left: staging folders beside ``out`` whose process is
    gone, and the hidden temporary files ``atomic_path`` makes (``.<stem>.<random><suffix>``) of
    the tool's own output names inside ``out``. Returns what was removed.

    Parameters
    ----------
    out : Path

    Returns
    -------
    list of Path
    """
    import re
    import shutil

    removed = []
    anchor = _anchor(out)
    for entry in anchor.glob(f"{STAGING_PREFIX}*"):
        match = re.fullmatch(rf"{re.escape(STAGING_PREFIX)}(\d+)-\w+", entry.name)
        if match and entry.is_dir() and not _pid_alive(int(match.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    if out.is_dir():
        stems = "|".join(re.escape(Path(n).stem) for n in OUTPUT_NAMES)
        pattern = re.compile(rf"\.({stems})\.[a-z0-9_]{{8}}\.(gpkg|json|xlsx|html|png|pdf|toml)")
        for entry in out.iterdir():
            if pattern.fullmatch(entry.name) and entry.is_file():
                with contextlib.suppress(OSError):
                    entry.unlink()
                    removed.append(entry)
    return removed


def check_output_folder(out: Path) -> None:
    """Fail at once (``OutputError``) when ``out`` is a file, or it or the folder it would be
    made in cannot be written; nothing is created or changed.

    Parameters
    ----------
    out : Path

    Raises
    ------
    OutputError
    """
    from spatial.core.errors import OutputError

    if out.exists() and not out.is_dir():
        raise OutputError("err_out_is_file", path=out)
    for folder in (out, _anchor(out)) if out.exists() else (_anchor(out),):
        if not folder.is_dir():
            raise OutputError("err_out_not_folder", path=out, folder=folder)
        try:
            with tempfile.TemporaryFile(dir=folder, prefix=".lifecircle-probe-"):
                pass
        except OSError as exc:
            raise OutputError(
                "err_out_not_writable", path=out, folder=folder, reason=exc.strerror or exc
            ) from None


def previous_outputs(out: Path) -> list[str]:
    """The tool's own files in ``out`` from the last run: the names its ``summary.json`` lists
    that are output names of the tool (nothing else in the folder is ever touched).

    Parameters
    ----------
    out : Path

    Returns
    -------
    list of str
    """
    try:
        listed = json.loads((out / "summary.json").read_text("utf-8")).get("outputs", [])
    except (OSError, ValueError, AttributeError):
        listed = ["summary.json"] if (out / "summary.json").is_file() else []
    return [n for n in listed if n in OUTPUT_NAMES and (out / n).is_file()]


class Staging:
    """A run's outputs are written into a hidden staging folder beside ``out`` and moved into
    ``out`` together by :meth:`commit`; if anything fails before that (an error, Ctrl-C, a full
    disk), ``out`` is exactly as before and the staging folder is removed.

    Use as a context manager: ``with Staging(out) as stage: write into stage.path; stage.commit()``.

    Parameters
    ----------
    out : Path
        The output folder (created by :meth:`commit` if missing).

    Attributes
    ----------
    path : Path
        The staging folder to write into (set on entering).
    """

    def __init__(self, out: Path) -> None:
        self.out = out

    def __enter__(self) -> Staging:
        import secrets

        clean_stale(self.out)
        name = f"{STAGING_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
        self.root = _anchor(self.out) / name
        self.root.mkdir()
        self.path = self.root / "new"
        self.path.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)

    def commit(self) -> list[Path]:
        """Replace the tool's previous files in ``out`` by the new set (renames on one file
        system; rolled back if one fails; Ctrl-C waits until the swap is done)."""
        import signal
        import threading

        interrupted: list[int] = []
        main = threading.current_thread() is threading.main_thread()
        old_handler = (
            signal.signal(signal.SIGINT, lambda *a: interrupted.append(1)) if main else None
        )
        try:
            files = self._swap()
        finally:
            if main:
                signal.signal(signal.SIGINT, old_handler)
        if interrupted:
            raise InterruptedAfterWrite()
        return files

    def _swap(self) -> list[Path]:
        new = sorted(p.name for p in self.path.iterdir())
        self.out.mkdir(parents=True, exist_ok=True)
        backup = self.root / "old"
        backup.mkdir()
        old = sorted(set(previous_outputs(self.out)) | {n for n in new if (self.out / n).is_file()})
        moved_old: list[str] = []
        moved_new: list[str] = []
        try:
            for name in old:
                os.replace(self.out / name, backup / name)
                moved_old.append(name)
            for name in new:
                os.replace(self.path / name, self.out / name)
                moved_new.append(name)
        except BaseException:
            for name in moved_new:
                with contextlib.suppress(OSError):
                    os.replace(self.out / name, self.path / name)
            for name in moved_old:
                with contextlib.suppress(OSError):
                    os.replace(backup / name, self.out / name)
            raise
        return [self.out / n for n in new]
