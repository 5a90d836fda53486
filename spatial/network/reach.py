"""Which communities a new facility on each parcel would reach: parcel × community walking
distances within a radius, by the same boundary-access rule as coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csgraph

from spatial.config.project import CoverageConfig
from spatial.network.access_points import Access, polygon_access
from spatial.network.graph import StreetNetwork
from spatial.network.nearest import straight_within

CHUNK = 32  # parcels per Dijkstra batch: bounds memory at CHUNK × access links


def network_reach(
    net: StreetNetwork,
    parcels: np.ndarray,
    communities: np.ndarray,
    radius: float,
    cfg: CoverageConfig,
    c_access: Access | None = None,
) -> pd.DataFrame:
    """Pairs (parcel, community, distance_m) with walking distance ≤ ``radius``.

    A bounded search runs from each parcel's access points (its outline snapped to the streets);
    a community counts as reached at its nearest access point, as in coverage. ``c_access``:
    the communities' access points when already computed (else computed here).

    Parameters
    ----------
    net : StreetNetwork
    parcels, communities : ndarray of geometries
        In the network's CRS.
    radius : float
        Metres walked.
    cfg : CoverageConfig
        ``access_spacing_m`` and ``max_snap_m``.
    c_access : Access, optional

    Returns
    -------
    DataFrame
        ``parcel``, ``community`` (positions), ``distance_m``; one row per pair, the shortest.
    """
    # the walk is from the community to the new facility: the parcel's links walked inbound
    p_access = polygon_access(net, parcels, cfg.access_spacing_m, cfg.max_snap_m, inbound=True)
    if c_access is None:
        c_access = polygon_access(net, communities, cfg.access_spacing_m, cfg.max_snap_m)
    # one virtual node per parcel, linked to its access nodes
    graph = net.with_virtual_sources(
        p_access.node_owner, p_access.node, p_access.extra, len(parcels)
    )
    # node -> community access links, as CSR (links sorted by node)
    order = np.argsort(c_access.node, kind="stable")
    link_comm, link_extra = c_access.node_owner[order], c_access.extra[order]
    indptr = np.r_[0, np.cumsum(np.bincount(c_access.node, minlength=net.n_nodes))]
    has_access = np.unique(p_access.node_owner)
    out = []
    for lo in range(0, len(has_access), CHUNK):
        chunk = has_access[lo : lo + CHUNK]
        dist = csgraph.dijkstra(graph, directed=True, indices=net.n_nodes + chunk, limit=radius)
        row, node = np.nonzero(np.isfinite(dist[:, : net.n_nodes]))
        counts = indptr[node + 1] - indptr[node]
        link = np.repeat(indptr[node], counts) + (
            np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        )
        row = np.repeat(row, counts)
        value = dist[row, np.repeat(node, counts)] + link_extra[link]
        pairs = pd.DataFrame(
            {"parcel": chunk[row], "community": link_comm[link], "distance_m": value}
        )
        pairs = pairs.loc[pairs["distance_m"] <= radius]
        out.append(pairs.groupby(["parcel", "community"], as_index=False)["distance_m"].min())
    # parcels touching or containing a community reach it directly
    touch = shapely.STRtree(communities).query(parcels, predicate="intersects")
    out.append(pd.DataFrame({"parcel": touch[0], "community": touch[1], "distance_m": 0.0}))
    pairs = (
        pd.concat(out, ignore_index=True)
        if out
        else pd.DataFrame(columns=["parcel", "community", "distance_m"])
    )
    return (
        pairs.sort_values("distance_m")
        .drop_duplicates(["parcel", "community"])
        .reset_index(drop=True)
    )


def straight_reach(
    parcels: np.ndarray, communities: np.ndarray, radius: float, detour: float
) -> pd.DataFrame:
    """Fallback: straight outline-to-outline distance × detour factor ≤ ``radius``
    (``distances.straight_within``, coverage's fallback rule).

    Parameters
    ----------
    parcels, communities : ndarray of geometries
    radius, detour : float

    Returns
    -------
    DataFrame
        ``parcel``, ``community`` (positions), ``distance_m``.
    """
    p, c, d = straight_within(parcels, communities, radius, detour)
    return pd.DataFrame({"parcel": p, "community": c, "distance_m": d})
