"""Reading planners' input files: vector layers (GeoPackage, Shapefile, GeoJSON; GBK shapefiles,
multi-layer files) and tables (CSV, XLSX: encodings, header rows, sheets)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from spatial.config.project import LayerConfig
from spatial.core.errors import InputError, reading
from spatial.core.messages import Msg
from spatial.inputs.dbf_names import read_whole_names
from spatial.inputs.merged import fill_merged
from spatial.inputs.parse import header_key

TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls"}
#: what a planner's data file is called (the last suffix): tables, GIS layers, street networks
DATA_SUFFIXES = TABLE_SUFFIXES | {
    ".gpkg", ".shp", ".geojson", ".json", ".zip", ".kml", ".kmz", ".gml", ".fgb", ".sqlite",
    ".tab", ".mif", ".dxf", ".gpx", ".parquet", ".geojsonl", ".geojsons", ".osm", ".pbf",
    ".xml", ".bz2", ".gz", ".graphml", ".tif", ".tiff",  # .tif: [network] elevation
}  # fmt: skip


def check_data_file(path: Path) -> None:
    """Refuse a path that leads (through a link) to a file that is not a data file, e.g. a
    ``facilities.csv`` linked to ``/etc/passwd``: its first line would be quoted as the
    "columns in the file" of a message. A folder (of shapefiles) is not tested.

    Parameters
    ----------
    path : Path
        The input as given.

    Raises
    ------
    InputError
        The file the path leads to has no data-file suffix (:data:`DATA_SUFFIXES`).
    """
    real = path.resolve()
    if real.is_dir() or real.suffix.lower() in DATA_SUFFIXES:
        return
    raise InputError("err_not_data_file", path=path, real=real)


def check_prj(path: Path) -> None:
    """Refuse a shapefile whose ``.prj`` is not a coordinate system: GDAL either ignores it (the
    layer then reads as having no CRS: "missing .prj") or fails with its parser's words about the
    ``.shp``. The ``.prj`` text is never quoted.

    Parameters
    ----------
    path : Path
        The ``.shp``.

    Raises
    ------
    InputError
        Naming the ``.prj``.
    """
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    prj = next(
        (p for p in (path.with_suffix(".prj"), path.with_suffix(".PRJ")) if p.is_file()), None
    )
    if prj is None:
        return
    try:
        CRS.from_user_input(prj.read_bytes()[:100_000].decode("utf-8", "replace").strip())
    except CRSError:
        raise InputError("err_prj_unreadable", path=prj, shp=path.name) from None


def _shapefile_encoding(path: Path) -> str | None:
    """Encoding of a shapefile's .dbf: its .cpg when present, else UTF-8 if it decodes, else GB18030."""
    cpg = path.with_suffix(".cpg")
    if cpg.exists():
        return None
    dbf = path.with_suffix(".dbf")
    if not dbf.exists():
        return None
    raw = dbf.read_bytes()
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


def _shapefile_counts(path: Path) -> tuple[int, int] | None:
    """(shapes in the ``.shx`` index, records in the ``.dbf``) of a shapefile; None when either
    sidecar is missing (GDAL's own error then speaks)."""
    import struct

    shx, dbf = path.with_suffix(".shx"), path.with_suffix(".dbf")
    if not (shx.is_file() and dbf.is_file()):
        return None
    with dbf.open("rb") as handle:
        head = handle.read(12)
    if len(head) < 12:
        return None
    records, header, width = struct.unpack("<IHH", head[4:12])
    stored = (dbf.stat().st_size - header) // width if width else records  # a truncated .dbf
    return max(0, (shx.stat().st_size - 100) // 8), min(records, max(0, stored))


def check_shapefile_rows(path: Path) -> None:
    """Refuse a shapefile whose ``.dbf`` holds another number of rows than its ``.shp`` shapes:
    GDAL reads the shorter of the two without a word, and attributes may sit on other shapes.

    Parameters
    ----------
    path : Path
        The ``.shp``.

    Raises
    ------
    InputError
        Naming both counts and the fix (export the layer again).
    """
    counts = _shapefile_counts(path)
    if counts and counts[0] != counts[1]:
        raise InputError("err_shp_dbf_rows", path=path, shapes=counts[0], rows=counts[1])


def choose_layer(path: Path, layer: str = "", section: str = "", what: str = "") -> str | None:
    """The layer of a (possibly multi-layer) file to read: ``layer`` when set, else the file's
    only layer, else its only layer with geometry (the others are attribute tables).

    A GeoPackage, a zip or folder of shapefiles can hold several layers; reading the first one
    without a word gave a confident wrong result (a district outline read as one community).

    Parameters
    ----------
    path : Path
    layer : str
        The ``layer`` setting ("" = not set).
    section : str
        The project section the file is given in (``communities`` …), for the fix; or
    what : str
        The catalogue key of what the file is (``what_network``) for an input without a
        ``layer`` setting.

    Returns
    -------
    str or None
        None: the file has one layer (read it as is).

    Raises
    ------
    InputError
        ``layer`` is not in the file, or the file holds several layers and none is set.
    """
    found = pyogrio.list_layers(path)
    names = [str(name) for name, _ in found]
    if layer:
        if layer not in names:
            raise InputError("err_layer_not_found", path=path, layer=layer, layers=", ".join(names))
        return layer
    if len(names) <= 1:
        return None
    spatial = [str(name) for name, kind in found if kind is not None]
    if len(spatial) == 1:
        return spatial[0]
    listed = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
    if section:
        raise InputError(
            "err_several_layers", path=path, section=section, count=len(names), layers=listed
        )
    raise InputError(
        "err_several_layers_file", path=path, what=Msg(what), count=len(names), layers=listed
    )


def read_vector(
    path: Path, cfg: LayerConfig, section: str = "", what: str = ""
) -> gpd.GeoDataFrame:
    """Read a vector layer with pyogrio, handling GBK shapefiles and multi-layer files.

    Parameters
    ----------
    path : Path
    cfg : LayerConfig
        ``layer`` (which layer of a multi-layer file) and ``encoding`` (else detected).
    section : str
        The project section, for the message when the file holds several layers.
    what : str
        Without a section (a file with no ``layer`` key): the catalogue key naming the input.

    Returns
    -------
    GeoDataFrame
        In the file's CRS (``None`` when it has none).

    Raises
    ------
    InputError
        The layer is not in the file, the file cannot be read or its text is not in the encoding.
    """
    kwargs: dict[str, Any] = {}
    layer = choose_layer(path, cfg.layer, section=section, what=what)
    if layer:
        kwargs["layer"] = layer
    encoding = cfg.encoding or (
        _shapefile_encoding(path) if path.suffix.lower() == ".shp" else None
    )
    if encoding:
        kwargs["encoding"] = encoding
    if path.suffix.lower() == ".shp":
        check_shapefile_rows(path)
        check_prj(path)
    try:
        return gpd.read_file(path, engine="pyogrio", **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError("err_gis_read", path=path, reason=exc) from None
    except UnicodeDecodeError:
        mended = read_whole_names(path, kwargs) if path.suffix.lower() == ".shp" else None
        if mended is None:  # not a field name cut in the middle of a character
            raise InputError("err_text_encoding", path=path) from None
        return mended


def read_table(
    path: Path, cfg: LayerConfig, aliases: dict | None = None, section: str = ""
) -> pd.DataFrame:
    """Read a CSV (UTF-8 or GBK/GB18030, detected) or XLSX sheet into a DataFrame of text/numbers.

    A 台账 often carries title rows above the header: the header row is ``cfg.header_row``
    (1-based) or else the first of the top rows whose cells match the most known column names
    (``aliases``: role → header names). A sheet that is not in the workbook is an error listing
    the sheets there are; without a sheet name, the sheet whose header matches best is read (a tie
    between sheets that hold data is an error listing them: one sheet per year looks alike).

    Parameters
    ----------
    path : Path
        ``.csv``, ``.txt``, ``.xlsx``, ``.xlsm`` or ``.xls``.
    cfg : LayerConfig
        ``header_row``, ``layer`` (the sheet), ``encoding``.
    aliases : dict, optional

    Returns
    -------
    DataFrame
        ``attrs``: ``header_row`` (1-based) and, for a workbook, ``sheet`` and ``sheets``.

    Raises
    ------
    InputError
        Unreadable, an unknown encoding, a missing sheet, an invalid ``header_row`` or a header
        row below the data.
    """
    suffix = path.suffix.lower()
    header = _header_row(cfg, path)
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            raw = _read_sheet(path, cfg, aliases or {}, section)
        else:
            raw = _read_csv_rows(path, cfg)
    except InputError:  # an InputError is a ValueError too: it says what to fix already
        raise
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError("err_table_read", path=path, reason=exc) from None
    return _with_header(raw, header, aliases or {}, path)


def _read_csv_rows(path: Path, cfg: LayerConfig) -> pd.DataFrame:
    """Every row of a CSV as data (no header yet); ragged title rows are padded."""
    for enc in [cfg.encoding] if cfg.encoding else ["utf-8-sig", "gb18030"]:
        try:
            try:
                return pd.read_csv(
                    path, encoding=enc, dtype=object, skipinitialspace=True, header=None
                )
            except pd.errors.ParserError:  # a title row with fewer cells than the table
                with path.open(encoding=enc, newline="") as handle:
                    rows = [[c.strip() or None for c in row] for row in csv.reader(handle)]
                width = max(map(len, rows), default=0)
                return pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
        except UnicodeDecodeError:
            continue
    if cfg.encoding:  # the file may well be UTF-8 or GBK: only not in the encoding declared
        raise InputError("err_csv_declared_encoding", path=path, encoding=cfg.encoding)
    raise InputError("err_csv_encoding", path=path)


def _header_row(cfg: LayerConfig, path: Path) -> int | None:
    """``header_row`` as a 0-based row index (None when not set)."""
    if not str(cfg.header_row).strip():
        return None
    try:
        row = int(str(cfg.header_row).strip())
    except ValueError:
        row = 0
    if row < 1:
        raise InputError("err_header_row", path=path, value=cfg.header_row)
    return row - 1


def _read_sheet(path: Path, cfg: LayerConfig, aliases: dict, section: str) -> pd.DataFrame:
    with pd.ExcelFile(path) as book:
        sheets = [str(s) for s in book.sheet_names]
        if cfg.layer and cfg.layer not in sheets:
            raise InputError(
                "err_sheet_not_found", path=path, sheet=cfg.layer, sheets=", ".join(sheets)
            )
        if cfg.layer or len(sheets) == 1:
            raw = pd.read_excel(book, sheet_name=cfg.layer or 0, header=None, dtype=object)
            raw = fill_merged(raw, path, cfg.layer or sheets[0])
            raw.attrs["sheet"] = cfg.layer or sheets[0]
            return raw
        parsed = {s: pd.read_excel(book, sheet_name=s, header=None, dtype=object) for s in sheets}
    parsed = {s: fill_merged(raw, path, s) for s, raw in parsed.items()}
    hits = {s: _detect_header(raw, aliases)[1] for s, raw in parsed.items()}
    filled = [s for s in sheets if parsed[s].notna().any().any()] or sheets
    best = max(filled, key=lambda s: hits[s])
    tied = [s for s in filled if hits[s] == hits[best]]
    if len(tied) > 1:  # e.g. one sheet per year with the same headers: no choice to justify
        raise InputError(
            "err_several_sheets", path=path, section=section or "…", sheets=", ".join(tied)
        )
    raw = parsed[best]
    raw.attrs["sheet"] = best
    raw.attrs["sheets"] = sheets
    return raw


def _with_header(raw: pd.DataFrame, header: int | None, aliases: dict, path: Path) -> pd.DataFrame:
    """``raw`` rows below the header row, named by it (detected when ``header`` is None)."""
    if header is None:
        header = _detect_header(raw, aliases)[0]
    if header >= len(raw):
        raise InputError("err_header_below", path=path, row=header + 1, rows=len(raw))
    names = _unique([_cell_name(v, i) for i, v in enumerate(raw.iloc[header])])
    frame = raw.iloc[header + 1 :].set_axis(names, axis=1).dropna(how="all").reset_index(drop=True)
    frame = frame.loc[:, [not (n.startswith("Unnamed") and frame[n].isna().all()) for n in names]]
    frame.attrs = {**raw.attrs, "header_row": header + 1}
    return frame


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        out.append(f"{name}.{seen[name]}" if name in seen else name)
        seen[name] = seen.get(name, 0) + 1
    return out


def _cell_name(value: object, i: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"Unnamed: {i}"
    return str(value).strip()


def _detect_header(raw: pd.DataFrame, aliases: dict, look: int = 20) -> tuple[int, int]:
    """(index, matches) of the first of the top ``look`` rows with the most cells naming a known
    column."""
    known = {header_key(name) for names in aliases.values() for name in names}
    best, best_hits = 0, 0
    for i in range(min(look, len(raw))):
        hits = sum(header_key(v) in known for v in raw.iloc[i] if isinstance(v, str) and v.strip())
        if hits > best_hits:
            best, best_hits = i, hits
    return best, best_hits


def read_any(
    path: Path, cfg: LayerConfig, aliases: dict | None = None, section: str = ""
) -> pd.DataFrame | gpd.GeoDataFrame:
    """Read a vector layer or a table, with clear errors for missing or unknown files.

    Parameters
    ----------
    path : Path
    cfg : LayerConfig
    aliases : dict, optional
        For a table's header row (see :func:`read_table`).
    section : str
        The project section the file is given in, for messages.

    Returns
    -------
    DataFrame or GeoDataFrame
    """
    if not path.exists():
        raise InputError("err_file_not_found", path=path)
    check_data_file(path)
    suffix = path.suffix.lower()
    with reading(path, "what_this_layer"):
        if suffix in TABLE_SUFFIXES:
            return read_table(path, cfg, aliases, section)
        return read_vector(path, cfg, section)
