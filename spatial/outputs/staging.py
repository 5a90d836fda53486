"""Writing outputs: atomically (a temporary file renamed into place), and the staged output folder
that replaces the previous run's files only when every output is written."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
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


#: the GeoPackage version of the tool's output: 1.2, read without a warning by the GDAL of the
#: QGIS and ArcGIS versions planners have (GDAL 3.6, in QGIS 3.22, warns on the 1.4 files newer
#: GDAL writes by default); the tables the tool adds (styles, titles) are in 1.2
GPKG_VERSION = "1.2"


def write_gpkg(
    target: Path, layers: dict[str, gpd.GeoDataFrame], looks: dict | None = None
) -> Path:
    """Write several layers into one GeoPackage atomically (all or nothing).

    With ``looks`` (:func:`spatial.outputs.gpkg.drawing.looks`) each layer has its geometry type
    also when it is empty (polygons always multi-polygons, so a layer's type does not depend on
    its rows), an empty layer's columns keep their types (:func:`_typed`), and the styles, field
    titles and QGIS project are written beside the layers (:mod:`spatial.outputs.gpkg.tables`).

    Parameters
    ----------
    target : Path
    layers : dict of str to GeoDataFrame
        Layer name → frame, written in this order (top to bottom).
    looks : dict of str to LayerLook, optional

    Returns
    -------
    Path
        ``target``.
    """
    looks = looks or {}
    with atomic_path(target) as tmp:
        for k, (name, frame) in enumerate(layers.items()):
            kind: dict = {"dataset_options": {"VERSION": GPKG_VERSION}} if looks and not k else {}
            if name in looks:
                geometry = looks[name].geometry
                kind |= {
                    "geometry_type": geometry,
                    "promote_to_multi": geometry.startswith("Multi"),
                }
                frame = _typed(frame, looks[name].types) if not len(frame) else frame
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", **kind)
        if looks:
            from spatial.outputs.gpkg.tables import write_looks

            crs = next((f.crs for f in layers.values() if f.crs is not None), None)
            write_looks(tmp, looks, list(layers), crs.to_wkt() if crs is not None else "")
    return target


def _typed(frame: gpd.GeoDataFrame, types: dict[str, str]) -> gpd.GeoDataFrame:
    """An empty frame with its columns of ``types`` (column → dtype) cast, so the GeoPackage
    gets integer, real and boolean columns rather than texts for a layer with no rows."""
    cast = {c: t for c, t in types.items() if c in frame.columns}
    return frame.astype(cast) if cast else frame


# -- all-or-nothing outputs: a staging folder beside --out, swapped in at the end -------------

STAGING_PREFIX = ".lifecircle-staging-"
#: every file name the tool writes into ``--out`` (group maps are named in ``maps.CORE_GROUPS``;
#: ``plan.png`` is the programme by year's print page)
OUTPUT_NAMES = (
    "lifecircle.gpkg",
    "summary.json",
    "ledger.xlsx",
    "overview.html",
    "overview.png",
    "overview.pdf",
    "plan.png",
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
    """The nearest existing folder at or above ``out``'s parent."""
    parent = out.absolute().parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return parent


def staging_parent(out: Path) -> Path:
    """Where a run's staging folder goes: inside ``out`` when it exists (the same file system
    as ``out`` even when ``out`` is the root of a mounted USB stick), else the nearest existing
    folder above it (where ``out`` will be made).

    Parameters
    ----------
    out : Path

    Returns
    -------
    Path
    """
    return out if out.is_dir() else _anchor(out)


def clean_stale(out: Path, keep: Iterable[Path] = ()) -> list[Path]:
    """Remove the staging folders a killed run of the tool left where this run stages
    (:func:`staging_parent`) and beside ``out``: only a folder the tool provably made (a valid
    marker, ``staging.stale``) whose run is provably over (nobody holds its lock, on any
    machine or in any PID namespace), and never one holding an input (``keep``). Returns what
    was removed.

    Parameters
    ----------
    out : Path
    keep : iterable of Path
        The run's inputs.

    Returns
    -------
    list of Path
    """
    import shutil

    from spatial.outputs.run_marker import stale

    removed = []
    for parent in dict.fromkeys([staging_parent(out), _anchor(out)]):
        with contextlib.suppress(OSError):
            for entry in list(parent.iterdir()):
                if not entry.name.startswith(STAGING_PREFIX):
                    continue
                with stale(entry, keep) as proven:
                    if proven:
                        shutil.rmtree(entry, ignore_errors=True)
                        removed.append(entry)
    return removed


def check_output_folder(out: Path) -> None:
    """Fail at once (``OutputError``) when ``out`` is a file, or the folder the run stages in
    (``out`` when it exists, else the folder it would be made in) cannot be written; nothing
    is created or changed.

    Parameters
    ----------
    out : Path

    Raises
    ------
    OutputError
    """
    from spatial.core.errors import OutputError
    from spatial.core.input_guard import shown

    folder = out
    try:
        if os.path.lexists(out):
            os.stat(out)  # a link loop, a dangling link, a name too long: its own error
        if out.exists() and not out.is_dir():
            raise OutputError("err_out_is_file", path=shown(out))
        folder = staging_parent(out)
        if not folder.is_dir():
            raise OutputError("err_out_not_folder", path=shown(out), folder=shown(folder))
        with tempfile.TemporaryFile(dir=folder, prefix=".lifecircle-probe-"):
            pass
    except OSError as exc:
        raise OutputError(
            "err_out_not_writable",
            path=shown(out),
            folder=shown(folder),
            reason=exc.strerror or exc,
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
    """A run's outputs are written into a hidden staging folder (:func:`staging_parent`) and
    moved into ``out`` together by :meth:`commit`; if anything fails before that (an error,
    Ctrl-C, a full disk), ``out`` is exactly as before and the staging folder is removed.

    The staging folder holds a marker naming the run, locked for as long as the run lives
    (``staging.claim``): another run removes it only when it can prove the run is over.

    Use as a context manager: ``with Staging(out) as stage: write into stage.path;
    stage.commit(names)``.

    Parameters
    ----------
    out : Path
        The output folder (created by :meth:`commit` if missing).
    keep : iterable of Path
        The run's inputs: never removed by the clean-up of stale staging folders.

    Attributes
    ----------
    path : Path
        The staging folder to write into (set on entering).
    """

    def __init__(self, out: Path, keep: Iterable[Path] = ()) -> None:
        self.out = out
        self.keep = list(keep)

    def __enter__(self) -> Staging:
        from spatial.outputs.run_marker import claim

        clean_stale(self.out, self.keep)
        self.root, self._lock = claim(staging_parent(self.out), STAGING_PREFIX)
        self.path = self.root / "new"
        self.path.mkdir()
        return self

    def __exit__(self, *exc: object) -> None:
        import shutil

        shutil.rmtree(self.root, ignore_errors=True)
        os.close(self._lock)  # the lock goes only once the folder is gone

    def commit(self, names: list[str]) -> list[Path]:
        """Replace the tool's previous files in ``out`` by ``names`` of the staging folder
        (renames on one file system; rolled back if one fails; Ctrl-C waits until the swap is
        done). Returns the files that really are in ``out`` afterwards, in ``names`` order.

        Raises
        ------
        OutputError
            A file moved in is not in ``out`` after the swap (something else removed it).
        """
        import signal
        import threading

        interrupted: list[int] = []
        main = threading.current_thread() is threading.main_thread()
        old_handler = (
            signal.signal(signal.SIGINT, lambda *a: interrupted.append(1)) if main else None
        )
        try:
            files = self._swap(names)
        finally:
            if main:
                signal.signal(signal.SIGINT, old_handler)
        if interrupted:
            raise InterruptedAfterWrite()
        return files

    def _swap(self, names: list[str]) -> list[Path]:
        new = [n for n in names if (self.path / n).is_file()]
        made = {n: _identity(self.path / n) for n in new}
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
        return _really_there(self.out, names, made)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path, follow_symlinks=False)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _really_there(out: Path, names: list[str], made: dict) -> list[Path]:
    """``out / name`` for each of ``names`` that is the very file this run moved in; an
    ``OutputError`` naming the ones that are not."""
    from spatial.core.errors import OutputError

    missing = [n for n in names if n not in made or _identity(out / n) != made[n]]
    if missing:
        raise OutputError("err_out_changed", path=out, missing=", ".join(missing))
    return [out / n for n in names]


def no_space(exc: BaseException, folder: Path) -> bool:
    """Whether ``exc`` (raised while writing into ``folder``) comes from a full disk: an
    ``OSError`` ENOSPC/EDQUOT anywhere in its chain (a library's error on closing after it,
    e.g. the PDF writer's), or the folder's file system has less than 4 MiB left (a library
    that reports only its own words, e.g. the GeoPackage's "Failed to commit transaction").

    Parameters
    ----------
    exc : BaseException
    folder : Path

    Returns
    -------
    bool
    """
    import errno

    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        if isinstance(link, OSError) and link.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        link = link.__cause__ or link.__context__
    try:
        info = os.statvfs(folder)
    except OSError:
        return False
    return info.f_bavail * info.f_frsize < 4 * 1024 * 1024
