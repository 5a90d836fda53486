"""Proof that a staging folder is the tool's, and whether its run is over.

A run's staging folder holds a marker, ``lifecircle-run.json``, naming the run (tool, host,
process id, start time and a random id that is also the end of the folder's name), and the run
holds an exclusive ``flock`` on that marker for as long as it lives (its forked workers share
it). The marker appears under its name only once locked (written under a temporary name, locked,
then renamed: the lock follows the file). Another run may remove the folder only when both hold:

- the marker is valid (a regular file, not a link, naming this tool and the folder's id), so a
  planner's folder that merely looks like a staging folder is never touched;
- its lock can be taken, so no live process holds it — whatever machine or PID namespace the
  run is in (a process id says nothing across namespaces or machines sharing the folder).

Where locks cannot be taken (a file system without ``flock``) nothing is ever proven stale.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import socket
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

MARKER = "lifecircle-run.json"
_TOOL = "lifecircle"
_FLAGS = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


def claim(parent: Path, prefix: str) -> tuple[Path, int]:
    """Make this run's staging folder in ``parent``, with its marker locked.

    Parameters
    ----------
    parent : Path
    prefix : str
        The start of the folder's name (``io.STAGING_PREFIX``).

    Returns
    -------
    (Path, int)
        The folder and the locked marker's file descriptor: close it (after removing the
        folder) to end the claim.
    """
    import shutil

    token = secrets.token_hex(8)
    root = parent / f"{prefix}{os.getpid()}-{token}"
    root.mkdir()
    temporary = root / f".{MARKER}.new"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _FLAGS, 0o644)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)  # ours, and nobody else could prove it
        raise
    try:
        with contextlib.suppress(OSError):  # no flock here: never provable stale, still ours
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        run = {
            "tool": _TOOL,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "id": token,
        }
        os.write(fd, json.dumps(run).encode())
        os.replace(temporary, root / MARKER)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        os.close(fd)
        raise
    return root, fd


def _valid(entry: Path, fd: int) -> bool:
    """Whether the open marker ``fd`` is a marker of this tool for the folder ``entry``."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > 4096:
        return False
    try:
        run = json.loads(os.read(fd, 4096))
    except ValueError:
        return False
    if not isinstance(run, dict) or run.get("tool") != _TOOL:
        return False
    if not all(isinstance(run.get(k), str) for k in ("host", "started", "id")):
        return False
    name = re.fullmatch(r".*?(\d+)-([0-9a-f]{16})", entry.name)
    return bool(name) and run["id"] == name.group(2) and run.get("pid") == int(name.group(1))


def _holds_input(entry: Path, keep: Iterable[Path]) -> bool:
    inside = entry.absolute()
    for path in keep:
        with contextlib.suppress(OSError, RuntimeError):
            if Path(os.path.abspath(path)).is_relative_to(inside):
                return True
            if path.resolve().is_relative_to(entry.resolve()):
                return True
    return False


@contextlib.contextmanager
def stale(entry: Path, keep: Iterable[Path] = ()) -> Iterator[bool]:
    """Whether ``entry`` is provably a staging folder of a run that is over (see the module);
    while the block runs the dead run's lock is held, so no other run proves it too.

    Parameters
    ----------
    entry : Path
        A folder whose name looks like a staging folder's.
    keep : iterable of Path
        The inputs of this run: a folder holding one is never stale.

    Yields
    ------
    bool
    """
    fd = _proven(entry, keep)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)


def _proven(entry: Path, keep: Iterable[Path]) -> int | None:
    """The locked marker of ``entry`` when the folder is provably stale, else None."""
    try:
        if not stat.S_ISDIR(os.lstat(entry).st_mode) or _holds_input(entry, keep):
            return None
        fd = os.open(entry / MARKER, os.O_RDONLY | _FLAGS)
    except OSError:
        return None
    try:
        if _valid(entry, fd):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a live run holds it
            return fd
    except OSError:
        pass
    os.close(fd)
    return None
