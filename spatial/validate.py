"""Checking and cleaning loaded layers: column detection, value parsing, geometry repair."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import crs as crsmod
from .errors import InputError
from .messages import Msg
from .problems import Problem, problem

#: a row farther than this from the layer's median point (or than 10 × the median distance to it,
#: whichever is larger) is outside the study area
OUTLIER_KM = 50.0

_CN_DECADES = {"五十": 1950, "六十": 1960, "七十": 1970, "八十": 1980, "九十": 1990}


@dataclass
class LayerReport:
    """What happened to one layer between the file and the analysis."""

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


def _norm(header: object) -> str:
    """A header for matching: NFKC (full-width → half-width), no spaces, lower case, and without a
    trailing unit in brackets (``总户数（户）`` → ``总户数``, ``建筑面积(m2)`` → ``建筑面积``)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header))).lower()
    return re.sub(r"(?<=.)[(\[][^()\[\]]*[)\]]$", "", text)


def header_key(header: object) -> str:
    """The form in which a header is compared with known column names (see ``_norm``)."""
    return _norm(header)


def detect_columns(
    frame: pd.DataFrame,
    aliases: dict[str, list[str]],
    explicit: dict[str, str],
    path: Path,
    section: str,
) -> dict[str, str]:
    """Map roles (name, built_year, ...) to column names: explicit ones first, then known headers."""
    present = [c for c in frame.columns if c != "geometry"]
    by_norm = {_norm(c): c for c in present}
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
            if _norm(name) in by_norm and by_norm[_norm(name)] not in found.values():
                found[role] = by_norm[_norm(name)]
                break
    return found


def parse_built_year(value: object) -> tuple[float, float, bool]:
    """Parse a build year into (earliest, latest, approximate).

    Accepts ``1998``, ``1998年``, ``1998-05``, ``1998.5``, ``90年代``, ``1990s``, ``八十年代``,
    ``2000年前``. Unknown or implausible values give (nan, nan, False).
    """
    nan = (np.nan, np.nan, False)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return nan
    if isinstance(value, dt.date | pd.Timestamp):
        return float(value.year), float(value.year), False
    text = str(value).strip().replace(" ", "")
    if not text:
        return nan
    m = re.fullmatch(r"((?:19|20)\d\d)(?:年)?(?:以前|之前|前)", text)
    if m:
        return 1949.0, float(m.group(1)), True
    m = re.fullmatch(r"((?:19|20)?\d0)(?:年代|'?s)", text)
    if m:
        decade = int(m.group(1))
        if decade < 100:
            decade += 1900 if decade >= 40 else 2000
        return float(decade), float(decade + 9), True
    for word, decade in _CN_DECADES.items():
        if text.startswith(word + "年代"):
            return float(decade), float(decade + 9), True
    m = re.match(
        r"((?:19|20)\d\d)(?:\.0+)?(?:年(?:\d{1,2}月(?:\d{1,2}日)?)?|[-./]\d{1,2}(?:[-./]\d{1,2})?)?$",
        text,
    )
    if m:
        year = float(m.group(1))
        if 1900 <= year <= dt.date.today().year + 1:
            return year, year, False
    return nan


def parse_number(series: pd.Series, column: str, path: Path, unit: str = "") -> pd.Series:
    """Numbers from text like ``1,200`` or ``120户``; anything else is an error naming the row."""
    text = series.astype("string").str.strip().str.replace(",", "", regex=False)
    if unit:
        text = text.str.removesuffix(unit)
    text = text.replace({"": pd.NA})
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() & text.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "err_not_number",
            path=path,
            row=pos + 2,
            column=column,
            value=series.iloc[pos],
            count=int(bad.sum()),
        )
    infinite = numbers.notna() & ~np.isfinite(numbers.astype(float))
    if infinite.any():
        pos = int(np.flatnonzero(infinite.to_numpy())[0])
        raise InputError(
            "err_not_finite", path=path, row=pos + 2, column=column, value=series.iloc[pos]
        )
    if (numbers < 0).any():
        pos = int(np.flatnonzero((numbers < 0).to_numpy())[0])
        raise InputError(
            "err_negative", path=path, row=pos + 2, column=column, value=numbers.iloc[pos]
        )
    return numbers.astype(float)


def parse_share(series: pd.Series, column: str, path: Path) -> pd.Series:
    """Shares as 0-1 from ``0.8`` or ``80%`` (a value with ``%`` is a percent: ``1%`` = 0.01).

    A plain number above 1 is read as a percent when it is at most 100 (``80`` = 0.8); a share
    above 100 % is an error naming the row.
    """
    text = series.astype("string").str.strip()
    percent = text.str.endswith("%").fillna(False).to_numpy(bool)
    numbers = parse_number(text.str.rstrip("%").str.strip(), column, path)
    share = numbers.where(~percent & (numbers <= 1), numbers / 100)
    over = (share > 1).to_numpy(bool)
    if over.any():
        pos = int(np.flatnonzero(over)[0])
        raise InputError(
            "err_share_over",
            path=path,
            row=pos + 2,
            column=column,
            value=series.iloc[pos],
            count=int(over.sum()),
        )
    return share


def match_category(value: object, standards, poi: dict[str, dict[str, str]]) -> str:
    """The category key of a facility's category text, or ``""`` when nothing matches.

    Tried in order: the whole value against the standards' keys, names and aliases; a 6-digit
    Gaode typecode (exact, then its 中类 ``xxxx00``); each ``|``-separated Gaode type / Baidu tag,
    most specific ``;`` segment first, against ``poi["names"]`` then the standards' aliases.
    """
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return ""
    key = standards.match(text)
    if key:
        return key
    for part in re.split(r"[|｜]", text):
        part = part.strip()
        if re.fullmatch(r"\d{6}", part):
            codes = poi["typecodes"]
            found = codes[part] if part in codes else codes.get(part[:4] + "00", "")
            if found in standards.categories:
                return found
            continue
        for segment in reversed([s.strip() for s in re.split(r"[;；]", part) if s.strip()]):
            found = poi["names"].get(segment.lower()) or standards.match(segment)
            if found in standards.categories:
                return found
    return ""


def check_unique_ids(ids: pd.Series, column: str, path: Path) -> None:
    missing = ids.isna() | (ids.astype("string").str.strip() == "")
    if missing.any():
        rows = [int(i) + 2 for i in np.flatnonzero(missing.to_numpy(bool))]
        raise InputError("err_empty_id", path=path, row=rows[0], column=column, count=len(rows))
    dup = ids.duplicated(keep=False) & ids.notna()
    if dup.any():
        value = ids[dup].iloc[0]
        rows = [int(i) + 2 for i in np.flatnonzero((ids == value).to_numpy())]
        raise InputError(
            "err_duplicate_id",
            path=path,
            value=value,
            column=column,
            rows=", ".join(map(str, rows)),
            count=int(dup.sum()),
        )


def repair_polygons(gdf: gpd.GeoDataFrame, report: LayerReport, path: Path) -> gpd.GeoDataFrame:
    """Make geometries valid (counted), keep polygonal parts, drop empties (counted)."""
    geoms = gdf.geometry.values
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    report.drop("empty_geometry", int(missing.sum()))
    gdf = gdf.loc[~missing].copy()
    geoms = gdf.geometry.values
    kinds = set(shapely.get_type_id(geoms).tolist())
    if kinds and not kinds & {3, 6, 7}:
        raise InputError("err_not_polygons", path=path)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(geoms[invalid])
        geoms = geoms.copy()
        geoms[invalid] = fixed
        report.repaired += int(invalid.sum())
    polys = np.array([_polygonal(g) for g in geoms], dtype=object)
    gdf = gdf.set_geometry(gpd.GeoSeries(polys, index=gdf.index, crs=gdf.crs))
    gone = shapely.is_empty(gdf.geometry.values) | (shapely.area(gdf.geometry.values) <= 0)
    report.drop("no_area", int(gone.sum()))
    return gdf.loc[~gone]


def _polygonal(geom):
    if geom is None:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")]
        return shapely.union_all(parts) if parts else shapely.Polygon()
    return shapely.Polygon()


def drop_duplicate_rows(
    gdf: gpd.GeoDataFrame, ids: pd.Series | None, id_col: str | None, problems: list[Problem]
) -> gpd.GeoDataFrame:
    """Drop exact copies: same outline and attributes (the id aside), or same id and outline."""
    geom = pd.Series(
        [g.wkb if g is not None else b"" for g in shapely.normalize(gdf.geometry.values)],
        index=gdf.index,
    )
    attrs = [c for c in gdf.columns if c not in (gdf.geometry.name, id_col)]
    table = gdf[attrs].astype("string").fillna("\x00").assign(_geom=geom)
    copies = table.duplicated(keep="first")
    if ids is not None:
        copies |= pd.DataFrame({"id": ids, "g": geom}).duplicated(keep="first") & ids.notna()
    if copies.any():
        named = ids[copies] if ids is not None else [f"row {i + 2}" for i in np.flatnonzero(copies)]
        problems.append(problem("duplicate_rows", "communities", named))
    return gdf.loc[~copies]


def drop_outliers(
    gdf: gpd.GeoDataFrame, ids, section: str, report: LayerReport, problems: list[Problem]
) -> gpd.GeoDataFrame:
    """Drop rows far outside the study area: outside China when most rows are in China, or
    farther from the median point than ``OUTLIER_KM`` (or 10 × the median distance to it)."""
    if len(gdf) < 3 or gdf.crs is None:
        return gdf
    valid = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    lon, lat = np.full(len(gdf), np.nan), np.full(len(gdf), np.nan)
    if valid.any():
        lon[valid], lat[valid] = crsmod.lonlat_points(gdf.loc[valid])
    lon0, lat0 = float(np.nanmedian(lon)), float(np.nanmedian(lat))
    dist = crsmod.distance_km(lon, lat, lon0, lat0)
    limit = max(OUTLIER_KM, 10 * float(np.nanmedian(dist)))
    far = valid & (dist > limit)
    if crsmod.in_china(lon0, lat0):
        far |= valid & ~np.array([crsmod.in_china(a, b) for a, b in zip(lon, lat, strict=True)])
    if not far.any():
        return gdf
    named = [
        f"{i}（{a:.4f}, {b:.4f}）"
        for i, a, b in zip(np.asarray(ids)[far], lon[far], lat[far], strict=True)
    ]
    problems.append(problem("outlier_dropped", section, named, km=round(limit)))
    report.drop("outside", int(far.sum()))

    return gdf.loc[~far]
