"""Patterns a planner's file shows that would give a plausible wrong result without a word:
household counts in 万户, a facility table pasted several times, facilities stacked on one point
(a failed geocoding), parcels beyond every community's reach. Each is refused or named as a
problem with its rows, like the duplicated communities (:func:`spatial.inputs.cleaning.drop_duplicate_rows`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.core.errors import InputError
from spatial.core.problems import Problem, problem
from spatial.inputs.parse import file_row

#: 万户: most household counts are fractions and their median is below this (real compounds hold
#: tens to thousands of households; a count of households is a whole number)
WAN_MEDIAN_BELOW = 20.0
#: a position holding at least this many facilities is a stack (a geocoder's fallback point) …
STACK_MIN = 3
#: … named when the stacks hold at least this share of the facilities, or one stack this many
STACK_SHARE = 0.5
STACK_LARGE = 5


def check_household_units(
    values: pd.Series, raw: pd.Series, column: str, path: Path, ids: pd.Series
) -> list[Problem]:
    """Refuse household counts written in 万户 (``0.3``, ``1.2``); name other fractional counts.

    Parameters
    ----------
    values : Series of float
        The parsed counts (NaN where blank).
    raw : Series
        The column as read (for the row numbers and the values quoted).
    column : str
    path : Path
    ids : Series
        Each row's community id, for the problem's sample.

    Returns
    -------
    list of Problem
        ``households_fractional`` when some (not most) counts are not whole numbers.

    Raises
    ------
    InputError
        Most counts are fractions and their median is below ``WAN_MEDIAN_BELOW``.
    """
    known = values.notna().to_numpy() & (values.fillna(0).to_numpy() > 0)
    if not known.any():
        return []
    v = values.to_numpy(float)
    fractional = known & (np.abs(v - np.round(v)) > 1e-9)
    if fractional.sum() * 2 > known.sum() and float(np.median(v[known])) < WAN_MEDIAN_BELOW:
        pos = int(np.flatnonzero(fractional)[0])
        raise InputError(
            "err_households_wan",
            path=path,
            column=column,
            row=file_row(raw, pos),
            value=raw.iloc[pos],
            count=int(fractional.sum()),
            median=f"{float(np.median(v[known])):g}",
        )
    if not fractional.any():
        return []
    pos = np.flatnonzero(fractional)
    named = [f"{i}（{raw.iloc[p]}）" for p, i in zip(pos, ids.iloc[pos], strict=True)]
    return [problem("households_fractional", "communities", named, column=column)]


def drop_repeated_facilities(
    gdf: gpd.GeoDataFrame,
    row_names: pd.Series,
    columns: list[str] | None,
    problems: list[Problem],
) -> gpd.GeoDataFrame:
    """Drop facility rows that repeat an earlier row (a table pasted three times counts every
    facility three times: supply ratios ×3): same ``columns`` (name and category: a 序号 column
    may differ) and position; every column when ``columns`` is None.

    Parameters
    ----------
    gdf : GeoDataFrame
        The facilities as read.
    row_names : Series
        ``row N`` per row, for the problem's sample.
    columns : list of str or None
        The name and category columns.
    problems : list of Problem
        Receives ``facility_duplicates`` naming each dropped row and the row it repeats.

    Returns
    -------
    GeoDataFrame
    """
    if len(gdf) < 2:
        return gdf
    geom = [g.wkb if g is not None else b"" for g in shapely.normalize(gdf.geometry.values)]
    used = columns or [c for c in gdf.columns if c != gdf.geometry.name]
    key = gdf[used].astype("string").apply(lambda s: s.str.strip()).fillna("\x00")
    key = key.assign(_geom=geom)
    repeats = key.duplicated(keep="first").to_numpy() & (key["_geom"] != b"").to_numpy()
    if not repeats.any():
        return gdf
    rows = [tuple(r) for r in key.itertuples(index=False)]
    origin: dict[tuple, str] = {}
    for r, name in zip(rows, row_names, strict=True):
        origin.setdefault(r, str(name))
    named = [
        f"{name} = {origin[r]}"
        for r, name, rep in zip(rows, row_names, repeats, strict=True)
        if rep
    ]
    problems.append(problem("facility_duplicates", "facilities", named))
    return gdf.loc[~repeats]


def name_stacked_facilities(
    gdf: gpd.GeoDataFrame, row_names: pd.Series, problems: list[Problem]
) -> None:
    """Name facilities stacked on one position (``STACK_MIN`` or more at exactly the same point):
    the mark of addresses a geocoder could not find and put at a district's centre.

    Parameters
    ----------
    gdf : GeoDataFrame
        The facilities kept (points or shapes; their representative points are compared).
    row_names : Series
        ``row N`` per row.
    problems : list of Problem
        Receives ``facilities_stacked`` when the stacks hold ``STACK_SHARE`` of the facilities
        or one stack holds ``STACK_LARGE``.
    """
    if len(gdf) < STACK_MIN:
        return
    pts = gdf.geometry.representative_point()
    xy = pd.DataFrame({"x": pts.x.round(7).to_numpy(), "y": pts.y.round(7).to_numpy()})
    size = xy.groupby(["x", "y"], dropna=True)["x"].transform("size").fillna(0).to_numpy()
    stacked = size >= STACK_MIN
    if not stacked.any() or (stacked.mean() < STACK_SHARE and size.max() < STACK_LARGE):
        return
    where = xy.loc[stacked].value_counts().index[0]
    named = [str(n) for n, s in zip(row_names, stacked, strict=True) if s]
    problems.append(
        problem(
            "facilities_stacked",
            "facilities",
            named,
            largest=int(size.max()),
            point=f"{where[0]:.5f}, {where[1]:.5f}",
        )
    )


def name_parcels_beyond_reach(
    parcels: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    radius_m: float,
    problems: list[Problem],
) -> None:
    """Name the parcels farther than ``radius_m`` from every community (in a metric CRS): no
    facility placed there serves anyone, so the siting never uses them.

    Parameters
    ----------
    parcels, communities : GeoDataFrame
        In the analysis CRS; ``parcels`` with ``pid``.
    radius_m : float
        The largest service radius.
    problems : list of Problem
        Receives ``parcels_beyond_reach`` naming them.
    """
    if not len(parcels) or not len(communities):
        return
    near = shapely.STRtree(communities.geometry.values).query(
        parcels.geometry.values, predicate="dwithin", distance=radius_m
    )[0]
    far = ~np.isin(np.arange(len(parcels)), near)
    if far.any():
        named = parcels["pid"].astype(str).to_numpy()[far]
        problems.append(problem("parcels_beyond_reach", "parcels", named, radius=round(radius_m)))
