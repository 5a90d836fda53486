"""Checking loaded layers: columns found, coordinates plausible, ids unique (the layer's report,
:class:`LayerReport`); :mod:`spatial.inputs.cleaning` repairs geometry and drops empty, duplicate
and outlying rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from spatial.config.project import LayerConfig
from spatial.core.crs import in_china, to_wgs84_lonlat
from spatial.core.errors import InputError
from spatial.core.messages import Msg
from spatial.inputs.parse import cut_header_roles, file_row, header_key


@dataclass
class LayerReport:
    """What happened to one layer between the file and the analysis.

    Attributes
    ----------
    layer : str
        ``communities``, ``facilities``, ``parcels`` or ``subdistricts``.
    path : str
    rows_read, rows_kept : int
    crs : str
        The layer's CRS as read (described).
    columns : dict of str to str
        Role → column name found.
    repaired : int
        Geometries made valid.
    dropped : dict of str to int
        Reason code (``drop_<code>`` in the catalogue) → rows dropped.
    notes : list of Msg
    """

    layer: str
    path: str
    rows_read: int = 0
    rows_kept: int = 0
    crs: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    repaired: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[Msg] = field(default_factory=list)

    def drop(self, reason: str, count: int) -> None:
        """Count ``count`` rows dropped for ``reason`` (a code; its text is ``drop_<reason>``)."""
        if count:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(count)

    def note(self, key: str, **fields: object) -> None:
        """Add a note (catalogue key ``note_*`` and its fields)."""
        self.notes.append(Msg(key, fields))

    def record(self, lang: str) -> dict[str, object]:
        """The report as a ``summary.json`` record: ``dropped`` keyed by reason code, the notes
        as text in ``lang``."""
        return {**self.__dict__, "notes": [n.render(lang) for n in self.notes]}


def detect_columns(
    frame: pd.DataFrame,
    aliases: dict[str, list[str]],
    explicit: dict[str, str],
    path: Path,
    section: str,
) -> dict[str, str]:
    """Map roles (name, built_year, ...) to column names: explicit ones first, then known headers,
    then headers a Shapefile cut to 10 bytes (:func:`spatial.inputs.parse.cut_header_roles`).

    Parameters
    ----------
    frame : DataFrame
    aliases : dict of str to list of str
        Role → known headers (``data/standards/columns.toml``).
    explicit : dict of str to str
        The layer's ``columns`` setting (role → header).
    path : Path
    section : str

    Returns
    -------
    dict of str to str
        Role → column name, for the roles found.

    Raises
    ------
    InputError
        An explicit role is unknown or its column is not in the file.
    """
    present = [c for c in frame.columns if c != "geometry"]
    by_norm = {header_key(c): c for c in present}
    found: dict[str, str] = {}
    for role, column in explicit.items():
        if role not in aliases and not role.startswith("extra_"):
            raise InputError(
                "err_column_role", path=path, section=section, role=role, known=", ".join(aliases)
            )
        if column not in frame.columns:
            raise InputError(
                "err_column_missing",
                path=path,
                column=column,
                section=section,
                role=role,
                columns=", ".join(map(str, present)),
            )
        found[role] = column
    for role, names in aliases.items():
        if role in found:
            continue
        for name in names:
            if header_key(name) in by_norm and by_norm[header_key(name)] not in found.values():
                found[role] = by_norm[header_key(name)]
                break
    return found | cut_header_roles(present, aliases, found)


def points_from_table(
    frame: pd.DataFrame, x: str, y: str, cfg: LayerConfig, path: Path, convert: bool = True
) -> gpd.GeoDataFrame:
    """Turn x/y (or lon/lat) columns into points, converting Chinese lon/lat systems to WGS84.

    ``convert=False`` keeps the lon/lat as written (labelled EPSG:4326): the caller tests which
    system they are in (``coords = "auto"``) and converts them.

    Parameters
    ----------
    frame : DataFrame
    x, y : str
        The coordinate columns.
    cfg : LayerConfig
        ``coords`` and ``crs``.
    path : Path
    convert : bool

    Returns
    -------
    GeoDataFrame
        In ``cfg.crs`` when given, else EPSG:4326.

    Raises
    ------
    InputError
        A coordinate is not a number, coordinates are projected with no ``crs`` given, lon/lat
        are swapped or outside China, or a latitude is impossible.
    """
    xs = pd.to_numeric(frame[x], errors="coerce")
    ys = pd.to_numeric(frame[y], errors="coerce")
    bad = np.flatnonzero(xs.isna().to_numpy() | ys.isna().to_numpy())
    if len(bad):
        row = file_row(frame[x], int(bad[0]))
        raise InputError(
            "err_coords_not_numbers",
            path=path,
            row=row,
            xv=frame[x].iloc[bad[0]],
            yv=frame[y].iloc[bad[0]],
            x=x,
            y=y,
            count=len(bad),
        )
    lon, lat = xs.to_numpy(float), ys.to_numpy(float)
    infinite = np.flatnonzero(~(np.isfinite(lon) & np.isfinite(lat)))
    if len(infinite):  # 'inf' reads as a number: not "projected coordinates"
        pos = int(infinite[0])
        raise InputError(
            "err_coords_not_finite",
            path=path,
            row=file_row(frame[x], pos),
            xv=frame[x].iloc[pos],
            yv=frame[y].iloc[pos],
            count=len(infinite),
        )
    if cfg.crs:
        return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=cfg.crs)
    lonlat = np.all((np.abs(lon) <= 180) & (np.abs(lat) <= 180))
    if not lonlat:
        raise InputError("err_coords_projected", path=path, x=x, y=y)
    check_lonlat(lon, lat, cfg.coords, path, x, y)
    if np.any(np.abs(lat) > 90):
        row = int(np.flatnonzero(np.abs(lat) > 90)[0])
        raise InputError(
            "err_latitude_impossible", path=path, row=file_row(frame[y], row), lat=lat[row], y=y
        )
    if convert:
        lon, lat = to_wgs84_lonlat(lon, lat, cfg.coords)
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def check_lonlat(
    lon: np.ndarray, lat: np.ndarray, coords: str, path: Path, x: str = "x", y: str = "y"
) -> None:
    """For Chinese coordinate systems: catch swapped lon/lat and points outside China.

    With ``coords = "auto"`` (or empty) only a layer whose rows are all outside China but inside it
    when swapped is an error; single rows outside China are dropped later as outliers.

    Parameters
    ----------
    lon, lat : (n,) float arrays
    coords : str
        The layer's ``coords`` setting.
    path : Path
    x, y : str
        The column names, for messages.

    Raises
    ------
    InputError
    """
    if coords not in ("gcj02", "bd09", "cgcs2000", "auto", ""):
        return
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    inside = np.array([in_china(a, b) for a, b in zip(lon, lat, strict=True)], bool)
    inside |= np.isnan(lon) | np.isnan(lat)  # a row without geometry: dropped later, counted
    if inside.all():
        return
    swapped = np.array([in_china(b, a) for a, b in zip(lon, lat, strict=True)], bool)
    row = int(np.flatnonzero(~inside)[0])
    if coords in ("auto", "") and (inside.any() or not swapped.all()):
        return
    if swapped[~inside].all():
        raise InputError(
            "err_lonlat_swapped", path=path, row=row + 2, x=x, lon=lon[row], y=y, lat=lat[row]
        )
    raise InputError(
        "err_outside_china",
        path=path,
        row=row + 2,
        lon=lon[row],
        lat=lat[row],
        coords=coords,
        count=int((~inside).sum()),
    )


def check_unique_ids(ids: pd.Series, column: str, path: Path) -> None:
    """Every row has an id and no id repeats.

    Parameters
    ----------
    ids : Series
        The id column as text (stripped).
    column : str
    path : Path

    Raises
    ------
    InputError
        An empty id (naming the first row and the count) or a repeated one (naming its rows).
    """
    missing = ids.isna() | (ids.astype("string").str.strip() == "")
    if missing.any():
        rows = [file_row(ids, int(i)) for i in np.flatnonzero(missing.to_numpy(bool))]
        raise InputError("err_empty_id", path=path, row=rows[0], column=column, count=len(rows))
    dup = ids.duplicated(keep=False) & ids.notna()
    if dup.any():
        value = ids[dup].iloc[0]
        rows = [file_row(ids, int(i)) for i in np.flatnonzero((ids == value).to_numpy(bool))]
        raise InputError(
            "err_duplicate_id",
            path=path,
            value=value,
            column=column,
            rows=", ".join(map(str, rows)),
            count=int(dup.sum()),
        )
