"""Cleaning loaded layers: rows without geometry, invalid polygons repaired, duplicate and outlying
rows dropped — each counted in the layer's report (:class:`~spatial.inputs.validate.LayerReport`)
and named as a problem."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.core.crs import distance_km, in_china, lonlat_points
from spatial.core.errors import InputError
from spatial.core.messages import msg
from spatial.core.problems import Problem, problem
from spatial.inputs.validate import LayerReport

#: a row farther than this from the layer's median point (or than 10 × the median distance to it,
#: whichever is larger) is outside the study area
OUTLIER_KM = 50.0


def empty_geometry(
    gdf: gpd.GeoDataFrame, labels: pd.Series, report: LayerReport, problems: list[Problem]
) -> np.ndarray:
    """The rows without a geometry (null or empty), counted in ``report`` and named as the data
    problem ``empty_geometry`` — the one way every layer drops them.

    Parameters
    ----------
    gdf : GeoDataFrame
    labels : Series
        Each row's id or ``row N`` (aligned with ``gdf``).
    report : LayerReport
        Counts the dropped rows (``empty_geometry``); its ``layer`` names the layer.
    problems : list of Problem
        Receives ``empty_geometry`` naming the rows, if any.

    Returns
    -------
    ndarray of bool
        True for the rows to drop.
    """
    geoms = gdf.geometry.values
    empty = np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms), dtype=bool)
    if empty.any():
        report.drop("empty_geometry", int(empty.sum()))
        named = pd.Series(labels).astype(str).to_numpy()[empty]
        problems.append(
            problem("empty_geometry", report.layer, named, what=msg(f"layer_{report.layer}"))
        )
    return empty


def repair_polygons(
    gdf: gpd.GeoDataFrame,
    report: LayerReport,
    path: Path,
    labels: pd.Series | None = None,
    problems: list[Problem] | None = None,
) -> gpd.GeoDataFrame:
    """Make geometries valid (counted), keep polygonal parts, drop empties (counted and named:
    :func:`empty_geometry`).

    Parameters
    ----------
    gdf : GeoDataFrame
    report : LayerReport
        Counts the repaired and dropped rows.
    path : Path
    labels : Series, optional
        Each row's id, naming the rows without a geometry (default: ``row N`` by position).
    problems : list of Problem, optional
        Receives the problem naming the rows without a geometry.

    Returns
    -------
    GeoDataFrame

    Raises
    ------
    InputError
        The layer holds no polygons at all.
    """
    if labels is None:
        labels = pd.Series([f"row {i + 2}" for i in range(len(gdf))], index=gdf.index)
    missing = empty_geometry(gdf, labels, report, [] if problems is None else problems)
    gdf = gdf.loc[~missing].copy()
    geoms = gdf.geometry.values
    kinds = set(shapely.get_type_id(geoms).tolist())
    if kinds and not kinds & {3, 6, 7}:  # e.g. the facilities' points given as the communities
        found = ", ".join(sorted(set(gdf.geometry.geom_type.dropna())))
        raise InputError("err_not_polygons", path=path, section=report.layer, kinds=found)
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


def _polygonal(geom: shapely.Geometry | None) -> shapely.Geometry:
    """The polygonal part of a geometry (empty polygon for none)."""
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
    """Drop exact copies: same outline and attributes (the id aside), or same id and outline.

    Parameters
    ----------
    gdf : GeoDataFrame
    ids : Series or None
        The id column, when the layer has one.
    id_col : str or None
    problems : list of Problem
        Receives ``duplicate_rows`` with the dropped rows.

    Returns
    -------
    GeoDataFrame
    """
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
    gdf: gpd.GeoDataFrame,
    ids: pd.Series,
    section: str,
    report: LayerReport,
    problems: list[Problem],
) -> gpd.GeoDataFrame:
    """Drop rows far outside the study area: outside China when most rows are in China, or
    farther from the median point than ``OUTLIER_KM`` (or 10 × the median distance to it).

    Parameters
    ----------
    gdf : GeoDataFrame
    ids : Series
        Each row's id or name, for the problem's sample.
    section : str
    report : LayerReport
    problems : list of Problem
        Receives ``outlier_dropped`` with the dropped ids.

    Returns
    -------
    GeoDataFrame
    """
    if len(gdf) < 3 or gdf.crs is None:
        return gdf
    valid = ~(gdf.geometry.isna() | gdf.geometry.is_empty).to_numpy()
    lon, lat = np.full(len(gdf), np.nan), np.full(len(gdf), np.nan)
    if valid.any():
        lon[valid], lat[valid] = lonlat_points(gdf.loc[valid])
    lon0, lat0 = float(np.nanmedian(lon)), float(np.nanmedian(lat))
    dist = distance_km(lon, lat, lon0, lat0)
    limit = max(OUTLIER_KM, 10 * float(np.nanmedian(dist)))
    far = valid & (dist > limit)
    if in_china(lon0, lat0):
        far |= valid & ~np.array([in_china(a, b) for a, b in zip(lon, lat, strict=True)])
    if not far.any():
        return gdf
    named = [
        f"{i}（{a:.4f}, {b:.4f}）"
        for i, a, b in zip(np.asarray(ids)[far], lon[far], lat[far], strict=True)
    ]
    problems.append(problem("outlier_dropped", section, named, km=round(limit)))
    report.drop("outside", int(far.sum()))
    return gdf.loc[~far]
