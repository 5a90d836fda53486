"""15-minute life-circle coverage: walking distance from each community to each facility category.

The access points are found by :mod:`access`, the per-category distances by :mod:`distances`;
this module assembles the coverage columns (:func:`compute_coverage`) and the summary block.

Access rule (see README): a community is reached through its boundary. Its access points are
(a) every network node inside the polygon (at distance zero) or within ``access_spacing_m / 2``
of it (plus that gap), and (b) its outline's vertices and points every ``access_spacing_m`` along it, each snapped to the nearest
street edge with the straight off-street distance added. A facility snaps to its nearest street
edge the same way. The community's distance to a category is the smallest over its access points.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.config.project import CoverageConfig
from spatial.config.standards import Standards
from spatial.network.access_points import Access, polygon_access
from spatial.network.gates import GateSet, gated_access
from spatial.network.graph import StreetNetwork
from spatial.network.nearest import CategoryResult, network_passes, straight_distances


@dataclass(frozen=True)
class CoverageResult:
    """What :func:`compute_coverage` found.

    Attributes
    ----------
    communities : GeoDataFrame
        The communities with ``<cat>_m``, ``<cat>_ok``, ``<cat>_nearest``, ``gaps``,
        ``full_coverage`` and ``distance_mode``.
    categories : dict of str to CategoryResult
        The raw per-category distances (and node distances, for service areas).
    facilities_off_network : int
        Facilities farther than ``max_snap_m`` from every street (0 without a network).
    communities_off_network : int
        Communities with no access point on the network (0 without a network).
    """

    communities: gpd.GeoDataFrame
    categories: dict[str, CategoryResult]
    facilities_off_network: int = 0
    communities_off_network: int = 0
    outline_ok: dict[str, np.ndarray] | None = None  # per category, covered by the outline rule
    gate_rule: str = ""  # the inner-walk rule when gates were used
    access: Access | None = None  # the access points used (gated where gates were given)
    gates_off_network: np.ndarray | None = None  # gates farther than max_snap_m from every street
    hills: bool = False  # distances are Tobler flat-equivalent metres ([network] elevation)


def _search_bound(standards: Standards, cfg: CoverageConfig) -> float:
    """Distances beyond this are not searched: the bound, or the longest radius if longer."""
    radii = (c.radius_m for c in standards.categories.values())
    return max(cfg.search_bound_m, max(radii, default=0))


def _coverage_columns(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    results: dict[str, CategoryResult],
    mode: str,
    gated: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """The communities with the coverage columns from the per-category results."""
    n = len(communities)
    category = facilities["category"].to_numpy()
    all_names = facilities["name"].to_numpy(object)
    columns: dict[str, np.ndarray] = {}
    for key, cat in standards.categories.items():
        res = results[key]
        names = np.append(all_names[category == key], "")  # nearest −1 → ""
        columns[f"{key}_m"] = np.where(np.isfinite(res.distance), np.round(res.distance, 1), np.nan)
        columns[f"{key}_ok"] = res.distance <= cat.radius_m
        columns[f"{key}_nearest"] = names[res.nearest]
        if key in standards.pace:  # minutes at the pace of the group it serves (older residents)
            per_minute = standards.speed_kmh(key) * 1000 / 60
            columns[f"{key}_min"] = np.round(columns[f"{key}_m"] / per_minute, 1)
    gaps = sum((~columns[f"{k}_ok"]).astype(int) for k in standards.basket)
    columns["gaps"] = np.broadcast_to(gaps, n).astype(int)
    columns["full_coverage"] = columns["gaps"] == 0
    columns["distance_mode"] = np.full(n, mode)
    basis = np.full(n, "outline", dtype=object)
    if gated is not None:
        basis[gated] = "gates"
    columns["access_basis"] = basis
    kept = communities.drop(columns=[c for c in columns if c in communities.columns])
    return pd.concat([kept, pd.DataFrame(columns, index=communities.index)], axis=1)


def compute_coverage(
    communities: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    standards: Standards,
    cfg: CoverageConfig,
    net: StreetNetwork | None = None,
    access: Access | None = None,
    gates: GateSet | None = None,
) -> CoverageResult:
    """Walking distance from every community to the nearest facility of every category.

    Parameters
    ----------
    communities, facilities : GeoDataFrame
        In the same metric CRS.
    standards : Standards
        Active categories, radii and basket.
    cfg : CoverageConfig
        The project's ``[coverage]`` settings.
    net : StreetNetwork, optional
        Walking network; ``None`` uses straight-line distance × ``cfg.detour_factor``.
    access : Access, optional
        The communities' access points on ``net`` (``polygon_access``), when already
        computed — the pipeline computes them once for coverage and siting. With ``gates``
        these are the outline access points; the gated ones are made here.
    gates : GateSet, optional
        The gates: a community with gates is reached only through them
        (:mod:`spatial.network.gates`); the outline distances are kept for the comparison.

    Returns
    -------
    CoverageResult
        The communities with coverage columns, the per-category raw results and what could not
        be put on the network.
    """
    polygons = communities.geometry.values
    bound = _search_bound(standards, cfg)
    if net is None:
        category = facilities["category"].to_numpy()
        results = {
            k: straight_distances(polygons, facilities.loc[category == k], cfg.detour_factor, bound)
            for k in standards.categories
        }
        if gates is None or len(gates.comm) == 0:
            out = _coverage_columns(communities, facilities, standards, results, "straight_line")
            return CoverageResult(out, results)
        gated_results = {
            k: _straight_from_gates(r, gates, facilities.loc[category == k], cfg, bound)
            for k, r in results.items()
        }
        gated = np.unique(gates.comm)
        out = _coverage_columns(
            communities, facilities, standards, gated_results, "straight_line", gated
        )
        return CoverageResult(
            out, gated_results, outline_ok=_oks(results, standards), gate_rule=gates.rule
        )
    if access is None:
        access = polygon_access(net, polygons, cfg.access_spacing_m, cfg.max_snap_m)
    outline, gated, off = access, None, None
    if gates is not None and len(gates.comm):
        access, gated, off = gated_access(
            net, outline, gates.xy, gates.comm, gates.inner_m, cfg.max_snap_m
        )
    passes = network_passes(net, facilities, polygons, standards, cfg, bound, access)
    results = {k: passes.distances(k, bound) for k in standards.categories}
    out = _coverage_columns(communities, facilities, standards, results, "network", gated)
    outline_ok = None
    if gated is not None:
        by_outline = passes.with_access(outline, len(polygons))
        outline_ok = _oks({k: by_outline.distances(k, bound) for k in results}, standards)
    return CoverageResult(
        out,
        results,
        facilities_off_network=passes.facilities_off_network,
        communities_off_network=int(len(communities) - len(passes.grouper.present)),
        outline_ok=outline_ok,
        gate_rule=gates.rule if gated is not None else "",
        access=access,
        gates_off_network=off,
        hills=net.slope is not None,
    )


def _oks(results: dict[str, CategoryResult], standards: Standards) -> dict[str, np.ndarray]:
    """Per category: covered (within the radius) per community."""
    return {k: r.distance <= standards.categories[k].radius_m for k, r in results.items()}


def _straight_from_gates(
    outline: CategoryResult,
    gates: GateSet,
    facilities: gpd.GeoDataFrame,
    cfg: CoverageConfig,
    bound: float,
) -> CategoryResult:
    """Without a network: a gated community's distance is the smallest over its gates of the
    straight distance × detour factor plus the walk inside; the others keep ``outline``."""
    per_gate = straight_distances(shapely.points(gates.xy), facilities, cfg.detour_factor, bound)
    value = per_gate.distance + gates.inner_m
    value[value > bound] = np.inf
    dist, nearest = outline.distance.copy(), outline.nearest.copy()
    gated = np.unique(gates.comm)
    dist[gated], nearest[gated] = np.inf, -1
    order = np.lexsort((value, gates.comm))
    first = np.r_[True, gates.comm[order][1:] != gates.comm[order][:-1]]
    best = order[first]
    dist[gates.comm[best]] = value[best]
    nearest[gates.comm[best]] = np.where(np.isfinite(value[best]), per_gate.nearest[best], -1)
    return CategoryResult(dist, nearest)


def coverage_summary(coverage: CoverageResult, standards: Standards) -> dict:
    """The ``coverage`` block of ``summary.json``: shares of communities and households covered.

    ``coverage`` is what :func:`compute_coverage` returned (its frame and off-network counts).

    Household shares count only communities with a known household number (blank households are
    left out of the numerator and the denominator, never read as 0); with none known, every
    household figure is null and ``households_known`` is false.

    Parameters
    ----------
    coverage : CoverageResult
    standards : Standards
        The basket and the radii.

    Returns
    -------
    dict
    """
    communities = coverage.communities
    known = bool(communities["households"].notna().any())

    def share(value: float) -> float | None:
        return round(value, 4) if known else None

    def shares(frame: gpd.GeoDataFrame) -> dict:
        h = frame["households"].fillna(0).to_numpy(float)
        th = h.sum()
        per_cat = {}
        for key in standards.categories:
            ok = frame[f"{key}_ok"].to_numpy(bool)
            per_cat[key] = {
                "communities": round(float(ok.mean()), 4) if len(ok) else 0.0,
                "households": share(float(h[ok].sum() / th) if th else 0.0),
            }
        full = frame["full_coverage"].to_numpy(bool)
        return {
            "communities": len(frame),
            "households": int(th) if known else None,
            "communities_with_households": int(frame["households"].notna().sum()),
            "categories": per_cat,
            "full_coverage_communities": round(float(full.mean()), 4) if len(full) else 0.0,
            "full_coverage_households": share(float(h[full].sum() / th) if th else 0.0),
        }

    block = shares(communities)
    target = standards.national_target
    block.update(
        {
            "distance_mode": str(communities["distance_mode"].iloc[0]) if len(communities) else "",
            "basket": list(standards.basket),
            "radii_m": {k: c.radius_m for k, c in standards.categories.items()},
            "national_target": target,
            "gap_to_target": round(
                max(
                    0.0,
                    target
                    - (
                        block["full_coverage_households"]
                        if known
                        else block["full_coverage_communities"]
                    ),
                ),
                4,
            ),
            "households_known": known,
            "facilities_off_network": coverage.facilities_off_network,
            "communities_off_network": coverage.communities_off_network,
            "standard": standards.source,
            "threshold": standards.threshold,
            "pace": {
                k: {"group": g, "speed_kmh": round(v, 3)} for k, (g, v) in standards.pace.items()
            },
            # with hills ([network] elevation): Tobler's walking time × the flat walking speed
            "slope": "tobler" if coverage.hills else "none",
            "distance_unit": "flat_equivalent_m" if coverage.hills else "m",
        }
    )
    subs = communities["subdistrict"].fillna("").astype(str)
    block["by_subdistrict"] = {
        (s or "未注明"): shares(communities.loc[subs == s]) for s in sorted(subs.unique())
    }
    return block
