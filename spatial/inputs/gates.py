"""The gates of gated compounds (``[gates]``): read from a point layer, a Gaode POI export or the
OSM file of ``[network]``, and assigned to communities by an id column or to the nearest outline
within ``tolerance_m``. What cannot be assigned is a data problem naming the rows."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.config.project import Project
from spatial.config.standards import load_gate_codes
from spatial.core.errors import InputError, reading
from spatial.core.messages import msg
from spatial.core.problems import Problem, problem
from spatial.inputs.cleaning import empty_geometry
from spatial.inputs.validate import LayerReport


def osm_gates(path: Path) -> gpd.GeoDataFrame:
    """The gate nodes of an OSM file (``gates.toml`` ``[osm]``: ``entrance=*``,
    ``barrier=gate``), lon/lat, with ``osm_id`` and ``name``.

    Parameters
    ----------
    path : Path

    Returns
    -------
    GeoDataFrame
    """
    import osmium

    from spatial.inputs.osm import corrupt_error, osm_file

    wanted = {k: set(v) for k, v in load_gate_codes()["osm"].items() if k != "source"}
    rows, geoms = [], []
    processor = osmium.FileProcessor(osm_file(path), osmium.osm.NODE).with_filter(
        osmium.filter.KeyFilter(*wanted)
    )
    try:
        for node in processor:
            tags = node.tags
            if any(k in tags and ("*" in v or tags[k] in v) for k, v in wanted.items()):
                rows.append({"osm_id": f"node/{node.id}", "name": tags.get("name", "")})
                geoms.append(shapely.Point(node.location.lon, node.location.lat))
    except RuntimeError as exc:
        raise corrupt_error(path, exc) from None
    frame = pd.DataFrame(rows, columns=["osm_id", "name"])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=4326)


def gaode_rows(codes: pd.Series) -> np.ndarray:
    """Which rows of a Gaode export are gates: any typecode (``|``-joined) listed in
    ``gates.toml`` ``[gaode]``."""
    listed = set(load_gate_codes()["gaode"]["typecodes"])
    parts = codes.astype("string").fillna("").str.split("|")
    return parts.map(lambda p: any(c.strip() in listed for c in p)).to_numpy(bool)


def assign_gates(
    gates: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    column: str | None,
    tolerance: float,
    labels: pd.Series,
    problems: list[Problem],
) -> np.ndarray:
    """Each gate's community (position in ``communities``, −1 where none).

    With ``column`` (the gate's community id) the ids are matched to ``cid``; without, a gate
    goes to the nearest outline within ``tolerance`` (inside one: distance 0). Gates left
    without a community are a data problem naming them (``labels``).

    Parameters
    ----------
    gates, communities : GeoDataFrame
        In the same metric CRS.
    column : str or None
        The gates' community-id column.
    tolerance : float
        ``tolerance_m``.
    labels : Series
        A label per gate for the messages (its row or name).
    problems : list of Problem
        Receives the problems.

    Returns
    -------
    (g,) int array
    """
    comm = np.full(len(gates), -1)
    if column:
        ids = gates[column].astype("string").str.strip().fillna("")
        pos = pd.Series(np.arange(len(communities)), index=communities["cid"].astype(str))
        found = ids.map(pos)
        comm = found.fillna(-1).to_numpy(int)
        if (comm < 0).any():
            bad = [f"{lab}（{v}）" for lab, v in zip(labels[comm < 0], ids[comm < 0], strict=True)]
            problems.append(problem("gates_unknown_community", "gates", bad, column=column))
        return _near_own(gates, communities, comm, column, tolerance, labels, problems)
    tree = shapely.STRtree(communities.geometry.values)
    (g, c), _ = tree.query_nearest(
        gates.geometry.values, max_distance=tolerance, return_distance=True, all_matches=False
    )
    comm[g] = c
    if (comm < 0).any():
        problems.append(
            problem("gates_unassigned", "gates", labels[comm < 0], tolerance=f"{tolerance:g}")
        )
    return comm


def _near_own(
    gates: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    comm: np.ndarray,
    column: str,
    tolerance: float,
    labels: pd.Series,
    problems: list[Problem],
) -> np.ndarray:
    """``comm`` without the gates farther than ``tolerance`` from the outline of the community
    their id names (a wrong id, or a point misplaced), named in a data problem."""
    named = np.flatnonzero(comm >= 0)
    gap = shapely.distance(gates.geometry.values[named], communities.geometry.values[comm[named]])
    far = named[gap > tolerance]
    if len(far):
        ids = communities["cid"].to_numpy()[comm[far]]
        metres = gap[gap > tolerance]
        bad = [
            f"{lab}（{cid}，{m:,.0f} m）"
            for lab, cid, m in zip(labels.to_numpy()[far], ids, metres, strict=True)
        ]
        problems.append(
            problem("gates_far_from_community", "gates", bad, column=column,
                    tolerance=f"{tolerance:g}")
        )  # fmt: skip
        comm = comm.copy()
        comm[far] = -1
    return comm


def load_gates(
    project: Project, read_layer, communities: gpd.GeoDataFrame, crs, problems: list[Problem]
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    """The gates of ``[gates]`` in the analysis CRS, with ``comm`` (position of the community,
    rows without one dropped), ``cid`` and ``source`` (``layer``, or ``osm_node`` for the OSM
    gate nodes; the crossings of ``path = "osm"`` are added once the network is read:
    :func:`spatial.network.crossings.with_crossing_gates`).

    Parameters
    ----------
    project : Project
    read_layer : callable
        ``load._read_layer`` bound to the column aliases: (section) → (gdf, columns, path, report).
    communities : GeoDataFrame
        In ``crs``, with ``cid``.
    crs : pyproj.CRS
        The analysis CRS.
    problems : list of Problem

    Returns
    -------
    gates : GeoDataFrame
    report : LayerReport
    """
    cfg = project.gates
    if cfg.path.strip().lower() == "osm":
        path = project.resolve(project.network.path or "(no [network] path)")
        if not project.network.path or not path.exists():
            raise InputError("err_gates_osm_needs_network", path=path)
        report = LayerReport(layer="gates", path=f"osm:{path}")
        with reading(path, msg("what_layer", section="gates")):
            gdf = osm_gates(path)
        report.rows_read = len(gdf)
        cols: dict[str, str] = {"name": "name"}
        labels = gdf["osm_id"]
    else:
        gdf, cols, path, report = read_layer("gates")
        gdf = gdf.reset_index(drop=True)
        labels = pd.Series([f"row {i + 2}" for i in gdf.index], index=gdf.index)
        if "typecode" in cols:
            keep = gaode_rows(gdf[cols["typecode"]])
            report.drop("not_a_gate", int((~keep).sum()))
            gdf, labels = gdf.loc[keep].reset_index(drop=True), labels[keep].reset_index(drop=True)
    empty = empty_geometry(gdf, labels, report, problems)
    gdf, labels = gdf.loc[~empty].reset_index(drop=True), labels[~empty].reset_index(drop=True)
    _refuse_not_points(gdf, path)
    gdf = gdf.set_geometry(gdf.geometry.representative_point()).to_crs(crs)
    comm = assign_gates(gdf, communities, cols.get("community"), cfg.tolerance_m, labels, problems)
    names = gdf[cols["name"]].astype("string").fillna("") if "name" in cols else labels
    source = "osm_node" if cfg.path.strip().lower() == "osm" else "layer"
    out = gpd.GeoDataFrame(
        {"gate": labels.astype(str), "name": names.astype(str), "comm": comm, "source": source},
        geometry=gdf.geometry.values,
        crs=crs,
    )
    out = out.loc[out["comm"] >= 0].reset_index(drop=True)
    out["cid"] = communities["cid"].to_numpy()[out["comm"].to_numpy()]
    report.rows_kept = len(out)
    return out, report


def _refuse_not_points(gdf: gpd.GeoDataFrame, path: Path | str) -> None:
    """Gates are points (README, "Gated compounds"): an outline layer (the communities' own
    file given again) would become interior points, gates in the middle of each compound."""
    kinds = set(gdf.geometry.geom_type.dropna()) - {"Point", "MultiPoint"}
    if kinds:
        found = ", ".join(sorted(set(gdf.geometry.geom_type.dropna())))
        raise InputError("err_gates_not_points", path=path, kinds=found)
