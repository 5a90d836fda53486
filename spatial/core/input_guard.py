"""Inputs that end: every input path is a readable regular file (never a FIFO, a device, a
socket or a folder), and what it may expand to while read is bounded by
``[project] input_limit_mb`` (``table_limit_mb`` for a table or TOML file, read whole into
memory). Checked before anything is read, so that a FIFO given as the
network, ``/dev/zero`` linked as a layer or a compressed bomb is one line naming the file
instead of a run that hangs at full CPU or dies of memory after minutes. Every OS error an
input path raises (a symlink loop, a name too long, permission denied) is that input's error.
"""

from __future__ import annotations

import bz2
import errno
import gzip
import lzma
import os
import stat
import zipfile
from collections.abc import Iterable
from pathlib import Path

from spatial.core import settings
from spatial.core.errors import InputError
from spatial.core.messages import Msg

_MB = 1024 * 1024
#: (device, inode, size, mtime, limit) of the files found within their limit in this process
_WITHIN: set[tuple[int, ...]] = set()
_CHUNK = 4 * _MB
#: suffix → the opener of a compressed stream whose expanded size is counted
_STREAMS = {".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
#: suffixes of ZIP containers (an XLSX is one) whose members' sizes are summed
_ZIPS = (".xlsx", ".xlsm", ".zip", ".kmz", ".ods")
#: files read whole into memory (tables, TOML): ``table_limit_mb``
_WHOLE = (".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".toml")
_KINDS = (
    (stat.S_ISDIR, "kind_folder"),
    (stat.S_ISFIFO, "kind_fifo"),
    (stat.S_ISCHR, "kind_device"),
    (stat.S_ISBLK, "kind_device"),
    (stat.S_ISSOCK, "kind_socket"),
)


def check_inputs(
    paths: Iterable[tuple[Path, str | Msg]],
    input_limit_mb: float = settings.INPUT_LIMIT_MB,
    table_limit_mb: float = settings.TABLE_LIMIT_MB,
) -> None:
    """Check every input of a run (``config.input_paths``) before it is read.

    A path that does not exist is left to the reader's own message (which names the setting);
    a shapefile's optional sidecar files are in the list only when present.

    Parameters
    ----------
    paths : iterable of (Path, str or Msg)
        The input file and its role (e.g. ``"[network] path"``).
    input_limit_mb, table_limit_mb : float
        What one input, one table may hold or expand to, in MiB (``[project]``).

    Raises
    ------
    InputError
        The first input that is not a readable regular file or exceeds its limit.
    """
    for path, role in paths:
        check_input(path, role, input_limit_mb, table_limit_mb)


def check_input(
    path: Path,
    role: str | Msg,
    input_limit_mb: float = settings.INPUT_LIMIT_MB,
    table_limit_mb: float = settings.TABLE_LIMIT_MB,
) -> bool:
    """Check one input (see :func:`check_inputs`); return whether it exists.

    Parameters
    ----------
    path : Path
    role : str or Msg
    input_limit_mb, table_limit_mb : float

    Returns
    -------
    bool
        False when there is no such file (nothing is checked then).

    Raises
    ------
    InputError
    """
    whole = path.name.lower().endswith(_WHOLE)
    limit_mb, setting = (
        (table_limit_mb, "table_limit_mb") if whole else (input_limit_mb, "input_limit_mb")
    )
    limit = int(limit_mb * _MB)
    try:
        # O_NONBLOCK: opening a FIFO without a writer must not wait for one
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise _os_error(path, role, exc) from None
    try:
        info = os.fstat(fd)
    finally:
        os.close(fd)
    if stat.S_ISDIR(info.st_mode) and path.name.lower().endswith(".gdb"):
        return True  # an Esri File Geodatabase is a folder GDAL reads as one data source
    kind = next((k for test, k in _KINDS if test(info.st_mode)), None)
    if kind is not None or not stat.S_ISREG(info.st_mode):
        raise InputError(
            "err_input_not_regular", path=path, role=role, kind=Msg(kind or "kind_other")
        )
    if info.st_size > limit:
        raise _too_large(path, role, limit_mb, setting)
    seen = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, limit)
    if seen not in _WITHIN:  # a run checks its inputs twice: before writing and when reading
        _check_expanded(path, role, limit, (limit_mb, setting))
        _WITHIN.add(seen)
    return True


def _os_error(path: Path, role: str | Msg, exc: OSError) -> InputError:
    reason = exc.strerror or errno.errorcode.get(exc.errno or 0, "") or str(exc)
    return InputError("err_input_os", path=shown(path), role=role, reason=reason)


def shown(path: Path) -> str:
    """A path for a message: a name too long for the file system is cut (one line)."""
    text = str(path)
    return text if len(text) <= 200 else f"{text[:120]}…{text[-60:]}"


def _too_large(path: Path, role: str | Msg, limit_mb: float, setting: str) -> InputError:
    return InputError(
        "err_input_too_large", path=path, role=role, limit=f"{limit_mb:g}", setting=setting
    )


def _check_expanded(path: Path, role: str | Msg, limit: int, named: tuple[float, str]) -> None:
    """A compressed file's expanded size, counted up to ``limit`` (the stream is read and
    thrown away: a bomb stops at the limit), or a ZIP container's declared member sizes
    (Python's and GDAL's readers stop at a member's declared size)."""
    name = path.name.lower()
    opener = next((o for suffix, o in _STREAMS.items() if name.endswith(suffix)), None)
    try:
        if opener is not None:
            total = 0
            with opener(path, "rb") as stream:
                while chunk := stream.read(_CHUNK):
                    total += len(chunk)
                    if total > limit:
                        raise _too_large(path, role, *named)
        elif name.endswith(_ZIPS) and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as book:
                if sum(i.file_size for i in book.infolist()) > limit:
                    raise _too_large(path, role, *named)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError):
        return  # not the compression it is named as: the reader says what is wrong
