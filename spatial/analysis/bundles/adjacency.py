"""Adjacency of communities: touching or within a tolerance, and not separated by a barrier."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.config.project import BundlingConfig, LayerConfig
from spatial.core.errors import InputError
from spatial.inputs.files import check_data_file, read_vector
from spatial.network.graph import StreetNetwork, major_edges


def barrier_lines(
    net: StreetNetwork | None,
    cfg: BundlingConfig,
    crs: CRS,
    barrier_file: Path | None = None,
) -> np.ndarray:
    """Arterial streets of the network (``barrier_highways``) plus the planner's barrier layer
    (railways, rivers, any lines or polygons) as one array of geometries in ``crs``.

    Parameters
    ----------
    net : StreetNetwork or None
        Its edges whose ``highway`` (``_link`` roads as their road) is in
        ``cfg.barrier_highways`` are barriers.
    cfg : BundlingConfig
    crs : the analysis CRS the barrier layer is reprojected to.
    barrier_file : Path, optional
        ``[bundling] barrier_path`` resolved.

    Raises
    ------
    InputError
        The barrier layer is missing or has no CRS.
    """
    parts = []
    if net is not None:
        parts.append(net.edges.geometry.values[major_edges(net, cfg.barrier_highways)])
    if barrier_file is not None:
        if not barrier_file.exists():
            raise InputError("err_barrier_missing", path=barrier_file)
        check_data_file(barrier_file)  # a link to a system file: its lines are never quoted
        layer = read_vector(barrier_file, LayerConfig(), what="what_barrier")  # GBK, layers
        if layer.crs is None:
            raise InputError("err_barrier_no_crs", path=barrier_file)
        parts.append(layer.to_crs(crs).geometry.values)
    return np.concatenate([np.asarray(p, dtype=object) for p in parts]) if parts else np.array([])


def adjacent_pairs(
    polygons: np.ndarray,
    tolerance: float,
    barriers: np.ndarray | None = None,
    subdistrict: np.ndarray | None = None,
) -> pd.DataFrame:
    """Pairs (i < j) of polygons whose gap is at most ``tolerance`` and whose shortest link does
    not cross a barrier; optionally only within one subdistrict.

    Returns
    -------
    DataFrame
        ``i``, ``j``, ``gap_m``; ``crosses_barrier`` (the shortest link crosses a barrier),
        ``other_subdistrict`` (``subdistrict`` given and the two differ) and ``blocked`` (either
        of the two: not adjacent). Near pairs that are blocked are kept so they can be reported.
    """
    tree = shapely.STRtree(polygons)
    left, right = tree.query(polygons, predicate="dwithin", distance=tolerance)
    keep = left < right
    i, j = left[keep], right[keep]
    gap = shapely.distance(polygons[i], polygons[j])
    crosses = np.zeros(len(i), bool)
    if barriers is not None and len(barriers) and len(i):
        links = shapely.shortest_line(polygons[i], polygons[j])
        # a link of zero length (touching outlines) crosses nothing; a barrier crossing the gap does
        hit_link, _ = shapely.STRtree(barriers).query(links, predicate="intersects")
        crosses[hit_link] = True
        crosses &= gap > 0
    other = subdistrict[i] != subdistrict[j] if subdistrict is not None else np.zeros(len(i), bool)
    return pd.DataFrame(
        {
            "i": i,
            "j": j,
            "gap_m": np.round(gap, 2),
            "crosses_barrier": crosses,
            "other_subdistrict": other,
            "blocked": crosses | other,
        }
    )


def overlapping_pairs(polygons: np.ndarray, min_share: float = 0.01) -> pd.DataFrame:
    """Pairs of polygons that overlap by more than ``min_share`` of the smaller one's area.

    Returns
    -------
    DataFrame
        ``i`` < ``j`` (positions in ``polygons``), ``overlap_m2`` and ``share`` (of the smaller).
    """
    tree = shapely.STRtree(polygons)
    left, right = tree.query(polygons, predicate="intersects")
    keep = left < right
    i, j = left[keep], right[keep]
    inter = shapely.area(shapely.intersection(polygons[i], polygons[j]))
    smaller = np.minimum(shapely.area(polygons[i]), shapely.area(polygons[j]))
    share = np.where(smaller > 0, inter / smaller, 0)
    sel = share > min_share
    return pd.DataFrame(
        {
            "i": i[sel],
            "j": j[sel],
            "overlap_m2": np.round(inter[sel], 1),
            "share": np.round(share[sel], 3),
        }
    )
