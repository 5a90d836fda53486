"""Files into the workspace: project folders, uploaded files and zip archives, checked first.

Nothing here writes outside the folder it is given: an upload's name must be a plain file name
(no folder, no ``..``, not absolute, not hidden), an archive is read through before anything is
extracted (every member's path, its size and the member count bounded), and a file is created,
never replaced (``open(..., "xb")``), so an input already there is never overwritten.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from spatial.core.errors import InputError, OutputError

#: the layers a planner can upload, in the order of the form
UPLOAD_LAYERS = ("communities", "facilities", "parcels", "network")
#: the file that is the layer, by preference, among the uploaded (or unpacked) files
LAYER_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".csv", ".xlsx", ".xls", ".osm", ".pbf")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Bounds on what one upload may bring in.

    Attributes
    ----------
    upload_mb : float
        The request body (all files of one form).
    unzip_mb : float
        The members of one archive, uncompressed, together.
    members : int
        The members of one archive.
    """

    upload_mb: float = 500.0
    unzip_mb: float = 2000.0
    members: int = 2000


def safe_name(name: str) -> str:
    """``name`` if it is a plain file name, else ``InputError`` (``err_app_upload_name``).

    Refused: empty, a folder part (``/`` or ``\\``), ``..``, an absolute or drive name, a
    hidden name (leading dot), a control character.
    """
    bad = (
        not name
        or name in (".", "..")
        or name.startswith(".")
        or "/" in name
        or "\\" in name
        or ":" in name
        or re.search(r"[\x00-\x1f\x7f]", name) is not None
        or len(name.encode("utf-8")) > 240
    )
    if bad:
        raise InputError("err_app_upload_name", path=name)
    return name


def folder_name(title: str, workspace: Path) -> Path:
    """A new, unused folder in ``workspace`` for a project called ``title`` (letters, digits,
    CJK kept; anything else ``_``; ``-2``, ``-3`` … when taken)."""
    stem = re.sub(r"[^\w-]+", "_", title, flags=re.UNICODE).strip("_.-")[:60] or "project"
    candidate, n = workspace / stem, 1
    while candidate.exists():
        n += 1
        candidate = workspace / f"{stem}-{n}"
    return candidate


def save_file(source: BinaryIO, target: Path) -> Path:
    """Copy ``source`` into the new file ``target`` (refused if it exists: never overwritten)."""
    with _created(target) as out:
        shutil.copyfileobj(source, out, _CHUNK)
    return target


@contextmanager
def _created(target: Path) -> Iterator[BinaryIO]:
    """``target`` opened as a new file: one already there (a name given twice) is
    ``InputError``, a disk that refuses is ``OutputError``."""
    try:
        out = open(target, "xb")  # noqa: SIM115 - closed below
    except FileExistsError:
        raise InputError("err_app_upload_twice", path=target.name) from None
    except OSError as exc:
        raise OutputError("err_cannot_write", path=target, reason=exc.strerror or exc) from None
    with out:
        try:
            yield out
        except OSError as exc:
            raise OutputError("err_cannot_write", path=target, reason=exc.strerror or exc) from None


def save_layer(files: list[tuple[str, BinaryIO]], folder: Path, layer: str, limits: Limits) -> str:
    """Save one layer's uploaded files (or unpack its zip) into ``folder/layer``.

    Parameters
    ----------
    files : list of (name, file)
        The uploaded files: a layer file, a Shapefile's parts, or zip archives.
    folder : Path
        The project folder.
    layer : str
        One of :data:`UPLOAD_LAYERS` (the subfolder's name).
    limits : Limits

    Returns
    -------
    str
        The layer file's path relative to ``folder`` (for the project file).
    """
    names = [safe_name(name) for name, _ in files]
    target = folder / layer
    target.mkdir()
    for name, (_, stream) in zip(names, files, strict=True):
        if name.lower().endswith(".zip"):
            extract_zip(stream, target, limits)
        else:
            save_file(stream, target / name)
    return layer_file(target, layer).relative_to(folder).as_posix()


def layer_file(folder: Path, layer: str) -> Path:
    """The layer file in ``folder`` (at any depth), by :data:`LAYER_SUFFIXES` preference."""
    found = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    for suffix in LAYER_SUFFIXES:
        for path in found:
            if path.suffix.lower() == suffix:
                return path
    raise InputError(
        "err_app_no_layer_file", path=folder, layer=layer, suffixes=" ".join(LAYER_SUFFIXES)
    )


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """A member's safe relative path, None for a folder; ``InputError`` for a path leaving the
    archive (absolute, drive, ``..``) or a link."""
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    is_link = stat.S_ISLNK(info.external_attr >> 16)
    if (
        is_link
        or name.startswith(("/", "\\"))
        or PureWindowsPath(name).drive
        or ".." in parts
        or "\x00" in name
    ):
        raise InputError("err_app_zip_unsafe", path=name, member=name)
    if info.is_dir():
        return None
    kept = [p for p in parts if p not in ("", ".")]
    if not kept or any(p.startswith(".") for p in kept) or kept[0] == "__MACOSX":
        return None  # hidden files and a Mac's resource forks are not data
    return PurePosixPath(*kept)


def extract_zip(stream: BinaryIO, target: Path, limits: Limits) -> list[Path]:
    """Unpack the zip archive ``stream`` into the existing folder ``target``, all members checked
    before the first is written.

    Raises
    ------
    InputError
        Not a zip; a member outside the archive or a link (zip-slip); more members or more bytes
        uncompressed than ``limits`` allow (zip bomb: sizes are checked again while copying, so a
        member lying about its size stops at the bound).
    """
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError("err_app_zip_bad", path=target.name, reason=exc) from None
    with archive:
        infos = archive.infolist()
        plan = [(info, _member_path(info)) for info in infos]
        budget = int(limits.unzip_mb * 1e6)
        if len(infos) > limits.members or sum(i.file_size for i in infos) > budget:
            raise _too_big(target, limits)
        written = []
        for info, rel in plan:
            if rel is None:
                continue
            out = target / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, _created(out) as dst:
                budget -= _copy_bounded(src, dst, budget, target, limits)
            written.append(out)
    return written


def _copy_bounded(src: BinaryIO, dst: BinaryIO, budget: int, where: Path, limits: Limits) -> int:
    copied = 0
    while chunk := src.read(_CHUNK):
        copied += len(chunk)
        if copied > budget:
            raise _too_big(where, limits)
        dst.write(chunk)
    return copied


def _too_big(where: Path, limits: Limits) -> InputError:
    return InputError(
        "err_app_zip_too_big", path=where.name, size=limits.unzip_mb, members=limits.members
    )


def project_folders(workspace: Path) -> list[Path]:
    """The folders of ``workspace`` holding a ``project.toml``, by name."""
    if not workspace.is_dir():
        return []
    return sorted(p for p in workspace.iterdir() if (p / "project.toml").is_file())


def project_folder(workspace: Path, name: str) -> Path:
    """The project folder ``name`` of ``workspace`` (a direct child holding ``project.toml``),
    else ``InputError`` (``err_app_no_project``): a URL cannot name any other folder."""
    if name in {p.name for p in project_folders(workspace)}:
        return workspace / name
    raise InputError("err_app_no_project", name=name)
