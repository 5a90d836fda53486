"""Every layer's rows in a known coordinate system: points from x/y columns, files without a CRS,
the Chinese lon/lat systems (GCJ-02, BD-09) converted to WGS84, and ``coords = "auto"`` decided
by testing the facilities against the communities.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.config.project import LayerConfig
from spatial.core.crs import LONLAT_SYSTEMS, lonlat_fit, shift_geometries
from spatial.core.errors import InputError
from spatial.core.problems import Problem
from spatial.inputs.validate import LayerReport, check_lonlat, points_from_table

#: ``coords = "auto"``: the best system's fit must be at most this share of the runner-up's,
#: from at least ``AUTO_MIN_POINTS`` points
AUTO_CLEAR_RATIO = 0.8
AUTO_MIN_POINTS = 8
#: the layers that must hold outlines (polygons), not points
OUTLINE_SECTIONS = ("communities", "parcels", "subdistricts")


def georeference(
    frame: pd.DataFrame | gpd.GeoDataFrame,
    cfg: LayerConfig,
    path: Path,
    section: str,
    columns: dict[str, str],
    report: LayerReport,
) -> gpd.GeoDataFrame:
    """Give every row a geometry in a known CRS (WGS84 for Chinese lon/lat systems).

    Parameters
    ----------
    frame : DataFrame or GeoDataFrame
        The layer as read (a table with x/y or lon/lat columns, or a GIS layer).
    cfg : LayerConfig
        Its ``coords`` and ``crs`` settings.
    path : Path
        The file, for messages.
    section : str
        ``communities``, ``facilities``, ``parcels`` or ``subdistricts``.
    columns : dict of str to str
        Detected roles → column names (``x``, ``y``).
    report : LayerReport
        Receives the notes (e.g. a CRS assumed).

    Returns
    -------
    GeoDataFrame
    """
    if not isinstance(frame, gpd.GeoDataFrame):
        if section in OUTLINE_SECTIONS:  # a table holds points: never outlines
            raise InputError(
                "err_table_for_outlines",
                path=path,
                section=section,
                columns=", ".join(map(str, frame.columns[:30])),
            )
        if "x" not in columns or "y" not in columns:
            raise InputError(
                "err_no_coord_columns",
                path=path,
                section=section,
                columns=", ".join(map(str, frame.columns)),
            )
        raw = section == "facilities" and not cfg.crs
        gdf = points_from_table(frame, columns["x"], columns["y"], cfg, path, convert=not raw)
        gdf.attrs["raw_lonlat"] = raw
        return gdf
    gdf = frame
    if cfg.crs:
        gdf = gdf.set_crs(cfg.crs, allow_override=True)
    _check_finite(gdf, path)
    if gdf.crs is None:
        if _beyond_degrees(gdf) is not None:
            raise InputError("err_no_crs_projected", path=path, section=section)
        report.note("note_no_crs")
        gdf = gdf.set_crs("EPSG:4326")
    elif gdf.crs.is_geographic and (far := _beyond_degrees(gdf)) is not None:
        # a GeoJSON is lon/lat by definition: one saved in metres without a CRS reads as EPSG:4326
        raise InputError(
            "err_not_lonlat", path=path, section=section, row=far[0], x=far[1], y=far[2]
        )
    if cfg.coords in ("gcj02", "bd09", "cgcs2000", "wgs84", "auto"):
        if not gdf.crs.is_geographic:
            report.note("note_coords_ignored", coords=cfg.coords)
            return gdf
        pts = gdf.geometry.representative_point()
        check_lonlat(pts.x.to_numpy(), pts.y.to_numpy(), cfg.coords, path)

        if section == "facilities":  # converted after the test against the communities
            gdf = gdf.set_crs("EPSG:4326", allow_override=True)
            gdf.attrs["raw_lonlat"] = True
            return gdf
        if cfg.coords == "auto":
            report.note("note_coords_auto_wgs84")
        if cfg.coords in ("gcj02", "bd09"):
            report.note("note_converted", system=cfg.coords.upper())
        gdf = shift_geometries(gdf, cfg.coords)
    return gdf


def _check_finite(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """Refuse a feature with an infinite or NaN coordinate, naming it (1 = the first feature)."""
    xy, which = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    bad = ~np.isfinite(xy).all(axis=1)
    if bad.any():
        rows = np.unique(which[bad])
        raise InputError(
            "err_geometry_not_finite", path=path, row=int(rows[0]) + 1, count=len(rows)
        )


def _beyond_degrees(gdf: gpd.GeoDataFrame) -> tuple[int, float, float] | None:
    """(feature number, x, y) of the first vertex that cannot be lon/lat, or None."""
    xy, which = shapely.get_coordinates(gdf.geometry.values, return_index=True)
    far = (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    if not far.any():
        return None
    first = int(np.flatnonzero(far)[0])
    return int(which[first]) + 1, round(float(xy[first, 0]), 1), round(float(xy[first, 1]), 1)


def resolve_lonlat(
    gdf: gpd.GeoDataFrame,
    declared: str,
    communities: gpd.GeoDataFrame,
    report: LayerReport,
    problems: list[Problem],
) -> gpd.GeoDataFrame:
    """Test the facilities' lon/lat as WGS84, GCJ-02 and BD-09 against the communities; convert.

    ``declared`` empty or ``auto``: the clear winner is used (else WGS84, as written, with a
    warning). A declared system is kept, with a warning carrying the numbers when another fits
    clearly better.

    Parameters
    ----------
    gdf : GeoDataFrame
        Facilities with their lon/lat as written (EPSG:4326 label).
    declared : str
        The layer's ``coords`` setting.
    communities : GeoDataFrame
        The reference polygons.
    report : LayerReport
    problems : list of Problem
        Receives the warning when the fit is unclear or contradicts ``declared``.

    Returns
    -------
    GeoDataFrame
        In WGS84.
    """
    declared = declared or "auto"
    pts = gdf.geometry.representative_point()
    ok = ~(pts.isna() | pts.is_empty).to_numpy()
    fit = lonlat_fit(pts.x.to_numpy()[ok], pts.y.to_numpy()[ok], communities)
    ranked = sorted(fit, key=fit.get)
    best, second = ranked[0], ranked[1]
    clear = ok.sum() >= AUTO_MIN_POINTS and fit[best] <= AUTO_CLEAR_RATIO * fit[second]
    evidence = ", ".join(f"{k} {fit[k]:.0f} m" for k in LONLAT_SYSTEMS)
    chosen = declared
    if declared == "auto":
        chosen = best if clear else "wgs84"
        code = "coords_auto" if clear else "coords_undecided"
        problems.append(
            Problem(code, "facilities", int(ok.sum()), (), {"chosen": chosen, "evidence": evidence})
        )
        report.note("note_coords_auto", chosen=chosen, evidence=evidence)
    else:
        own = "wgs84" if declared == "cgcs2000" else declared
        if clear and best != own and fit[best] <= AUTO_CLEAR_RATIO * fit[own]:
            problems.append(
                Problem(
                    "coords_mismatch",
                    "facilities",
                    int(ok.sum()),
                    (),
                    {"declared": declared, "better": best, "evidence": evidence},
                )
            )
        report.note("note_coords_declared", declared=declared, evidence=evidence)
    if chosen in ("gcj02", "bd09"):
        report.note("note_converted", system=chosen.upper())

    return shift_geometries(gdf, chosen)
