"""Shapefile field names cut in the middle of a character (GDAL writing UTF-8, some CAD tools).

A ``.dbf`` field name holds 10 bytes. GDAL cuts a longer UTF-8 name at the 10th byte, so
``总户数（户）`` is stored as ``总户数`` and the first byte of ``（``; reading such a file fails on
the half character (pyogrio decodes names strictly). :func:`read_whole_names` reads a copy whose
names lose their half character; the planner's file is never changed.
"""

from __future__ import annotations

import codecs
import shutil
import struct
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd

#: the Shapefile's files copied along (the ones GDAL reads)
_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg", ".qpj")


def whole_names(header: bytes, encoding: str) -> tuple[bytes, int]:
    """A ``.dbf`` header whose field names end on a whole character of ``encoding``.

    Parameters
    ----------
    header : bytes
        The file's first bytes, up to its header length.
    encoding : str
        The text encoding of the names.

    Returns
    -------
    header : bytes
    mended : int
        How many names lost a half character.
    """
    out = bytearray(header)
    mended = 0
    for start in range(32, len(out) - 31, 32):
        if out[start] == 0x0D:  # the end of the field descriptors
            break
        name = bytes(out[start : start + 11]).split(b"\0", 1)[0]
        whole = _whole(name, encoding)
        if whole != name:
            out[start : start + 11] = whole.ljust(11, b"\0")
            mended += 1
    return bytes(out), mended


def _whole(name: bytes, encoding: str) -> bytes:
    """``name`` without the 1-3 bytes of a character cut off at its end, when that makes it
    decode; else ``name`` as it is (its text is in another encoding, not cut)."""
    for cut in range(4):
        part = name[: len(name) - cut]
        try:
            part.decode(encoding)
        except UnicodeDecodeError:
            continue
        return part if part else name
    return name


def read_whole_names(path: Path, kwargs: dict[str, Any]) -> gpd.GeoDataFrame | None:
    """Read a Shapefile from a copy whose cut field names are made whole; None when no name was
    cut in half (the text that does not decode is elsewhere).

    Parameters
    ----------
    path : Path
        The ``.shp``.
    kwargs : dict
        What :func:`geopandas.read_file` is given (``layer``, ``encoding``).

    Returns
    -------
    GeoDataFrame or None
    """
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    encoding = kwargs.get("encoding") or _cpg(path) or "utf-8"
    raw = dbf.read_bytes()
    size = struct.unpack("<H", raw[8:10])[0] if len(raw) >= 32 else 0
    header, mended = whole_names(raw[:size], encoding)
    if not mended:
        return None
    with tempfile.TemporaryDirectory(prefix="lifecircle-dbf-") as folder:
        copy = Path(folder) / path.name
        for suffix in _SIDECARS:
            if path.with_suffix(suffix).exists():
                shutil.copyfile(path.with_suffix(suffix), copy.with_suffix(suffix))
        copy.with_suffix(".dbf").write_bytes(header + raw[size:])
        try:
            return gpd.read_file(copy, engine="pyogrio", **kwargs)
        except UnicodeDecodeError:  # the values do not decode either: not a cut name
            return None


def _cpg(path: Path) -> str:
    """The encoding a ``.cpg`` names (``UTF-8``), or ``""``."""
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        return ""
    text = cpg.read_text("ascii", errors="ignore").strip()
    if text.lower().replace("-", "") in ("utf8", "65001"):
        return "utf-8"
    try:
        return codecs.lookup(text).name
    except LookupError:
        return ""
