"""Bundles (成片改造片区): connected groups of adjacent eligible communities within limits, with
the redevelopment parcels that can finance them (大片区统筹平衡)."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from .adjacency import adjacent_pairs, overlapping_pairs
from .config import BundlingConfig, PolicyConfig
from .messages import policy_fields
from .messages import text as _text
from .standards import Standards


@dataclass
class Bundler:
    """Build from data, ``.solve()``, read ``bundles`` and ``membership`` (spopt style).

    Parameters
    ----------
    communities : GeoDataFrame with ``eligible``, ``households``, ``subdistrict`` (metric CRS)
    cfg : the project's ``[bundling]`` settings
    barriers : geometries adjacency may not cross
    """

    communities: gpd.GeoDataFrame
    cfg: BundlingConfig
    barriers: np.ndarray = field(default_factory=lambda: np.array([]))
    pairs: pd.DataFrame | None = None
    overlaps: pd.DataFrame | None = None
    duplicates: list[int] = field(default_factory=list)
    groups: list[list[int]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def solve(self) -> Bundler:
        comm = self.communities
        polys = comm.geometry.values
        self.overlaps = overlapping_pairs(polys)
        # near-duplicates (more than half of the smaller one) are counted once: the later row
        dup = self.overlaps.loc[self.overlaps["share"] > 0.5]
        self.duplicates = sorted(set(dup["j"].tolist()))
        usable = comm["eligible"].to_numpy(bool).copy()
        usable[self.duplicates] = False
        idx = np.flatnonzero(usable)
        if len(idx) < self.cfg.min_members:
            self.notes.append("fewer eligible communities than a bundle needs")
            self.pairs = pd.DataFrame(columns=["i", "j", "gap_m", "blocked"])
            return self
        sub = comm["subdistrict"].astype(str).to_numpy()[idx] if self.cfg.same_subdistrict else None
        pairs = adjacent_pairs(polys[idx], self.cfg.tolerance_m, self.barriers, sub)
        pairs["i"], pairs["j"] = idx[pairs["i"].to_numpy()], idx[pairs["j"].to_numpy()]
        self.pairs = pairs
        open_pairs = pairs.loc[~pairs["blocked"]]
        n = len(comm)
        graph = sparse.coo_matrix(
            (np.ones(len(open_pairs)), (open_pairs["i"], open_pairs["j"])), shape=(n, n)
        )
        _, labels = csgraph.connected_components(graph, directed=False)
        neighbours = _neighbour_lists(open_pairs, n)
        for label in _ordered_labels(labels, idx, polys):
            members = idx[labels[idx] == label]
            if len(members) < self.cfg.min_members:
                continue
            self.groups += self._split(members, neighbours)
        self.groups = [g for g in self.groups if len(g) >= self.cfg.min_members]
        return self

    def _split(self, members: np.ndarray, neighbours: list[set[int]]) -> list[list[int]]:
        """Region growing: from the south-west-most member, add the adjacent member nearest the
        region's centre while households and span stay within limits; repeat on the rest."""
        comm = self.communities
        hh = comm["households"].fillna(0).to_numpy(float)
        cent = shapely.get_coordinates(comm.geometry.centroid.values)
        polys = comm.geometry.values
        left = set(members.tolist())
        regions = []
        while left:
            seed = min(left, key=lambda k: (cent[k, 0] + cent[k, 1], k))
            region, total = [seed], hh[seed]
            left.discard(seed)
            while True:
                frontier = sorted({m for r in region for m in neighbours[r] if m in left})
                centre = cent[region].mean(axis=0)
                frontier.sort(key=lambda k: (np.hypot(*(cent[k] - centre)), k))
                added = False
                for k in frontier:
                    if total + hh[k] > self.cfg.max_households:
                        continue
                    if _span(polys[[*region, k]]) > self.cfg.max_span_m:
                        continue
                    region.append(k)
                    total += hh[k]
                    left.discard(k)
                    added = True
                    break
                if not added:
                    break
            regions.append(sorted(region))
        return regions


def _span(polys: np.ndarray) -> float:
    """Largest extent of a group: the diameter of the smallest circle around it (m)."""
    return 2 * float(
        shapely.minimum_bounding_radius(shapely.multipolygons(shapely.get_parts(polys)))
    )


def _neighbour_lists(pairs: pd.DataFrame, n: int) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(n)]
    for i, j in pairs[["i", "j"]].itertuples(index=False):
        out[int(i)].add(int(j))
        out[int(j)].add(int(i))
    return out


def _ordered_labels(labels: np.ndarray, idx: np.ndarray, polys: np.ndarray) -> list[int]:
    """Component labels in a deterministic geographic order (south-west first)."""
    cent = shapely.get_coordinates(shapely.centroid(polys[idx]))
    first: dict[int, float] = {}
    for k, lab in enumerate(labels[idx]):
        key = cent[k, 0] + cent[k, 1]
        first[lab] = min(first.get(lab, np.inf), key)
    return sorted(first, key=lambda lab: (first[lab], lab))


def _fmt_area(m2: float) -> str:
    return f"{m2 / 10000:.1f}万㎡" if m2 >= 10000 else f"{m2:.0f}㎡"


def _shared_gaps(members: gpd.GeoDataFrame, standards: Standards) -> list[str]:
    """Basket categories that every member lacks."""
    if "gaps" not in members:
        return []
    return [k for k in standards.basket if not members[f"{k}_ok"].any()]


def _parcel_links(parcels: gpd.GeoDataFrame, outline, tolerance: float) -> gpd.GeoDataFrame:
    if len(parcels) == 0:
        return parcels
    near = shapely.dwithin(parcels.geometry.values, outline, tolerance)
    return parcels.loc[near]


def bundle_frame(
    bundler: Bundler, parcels: gpd.GeoDataFrame, standards: Standards, crs,
    policy: PolicyConfig | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:  # fmt: skip
    """One row per bundle (dissolved outline and its facts) and each community's ``bundle_id``.

    ``policy`` names the priority cut-off in the descriptions (default: the default policy).
    """
    policy = policy or PolicyConfig()
    comm = bundler.communities
    cfg = bundler.cfg
    partner_mask = parcels["kind"].astype(str).isin(cfg.partner_kinds) if len(parcels) else []
    partners_all = parcels.loc[partner_mask] if len(parcels) else parcels
    others_all = parcels.loc[~np.asarray(partner_mask, bool)] if len(parcels) else parcels
    rows = []
    bundle_id = pd.Series(pd.NA, index=comm.index, dtype="string")
    order = sorted(
        bundler.groups, key=lambda g: (-comm["households"].iloc[g].fillna(0).sum(), min(g))
    )
    for number, group in enumerate(order, start=1):
        members = comm.iloc[group]
        bid = f"B{number:02d}"
        bundle_id.iloc[group] = bid
        outline = shapely.union_all(members.geometry.values)
        partners = _parcel_links(partners_all, outline, cfg.tolerance_m)
        candidates = _parcel_links(others_all, outline, cfg.tolerance_m)
        gaps = _shared_gaps(members, standards)
        years = members["built_year_max"].dropna()
        rows.append({
            "bundle_id": bid,
            "members": len(members),
            "member_ids": ",".join(members["cid"].astype(str)),
            "member_names": "、".join(members["name"].astype(str)),
            "households": int(members["households"].fillna(0).sum()),
            "floor_area_m2": float(members["floor_area"].fillna(0).sum()),
            "built_from": int(members["built_year_min"].min()) if len(years) else None,
            "built_to": int(years.max()) if len(years) else None,
            "priority_members": int((members["tier"] == "priority").sum()),
            "subdistricts": "、".join(sorted(set(members["subdistrict"].astype(str)) - {""})),
            "shared_gaps": ",".join(gaps),
            "partner_parcels": ",".join(partners["pid"].astype(str)),
            "partner_kinds": "、".join(sorted(set(partners["kind"].astype(str)))),
            "candidate_parcels": ",".join(candidates["pid"].astype(str)),
            "span_m": round(_span(members.geometry.values), 1),
            "geometry": outline,
        })  # fmt: skip
        rows[-1]["description"] = describe_zh(rows[-1], members, standards, gaps, policy)
        rows[-1]["description_en"] = describe_en(rows[-1], standards, gaps, members)
    cols = ["bundle_id", "members", "member_ids", "member_names", "households", "floor_area_m2",
            "built_from", "built_to", "priority_members", "subdistricts", "shared_gaps",
            "partner_parcels", "partner_kinds", "candidate_parcels", "span_m", "description",
            "description_en", "geometry"]  # fmt: skip
    return gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=crs), bundle_id


def describe_zh(row: dict, members: gpd.GeoDataFrame, standards: Standards, gaps: list[str],
                policy: PolicyConfig | None = None) -> str:  # fmt: skip
    """One line a planner can paste into a report (``policy`` names the priority cut-off)."""
    names = list(members["name"].astype(str))
    shown = "、".join(names[:3]) + (f"等{len(names)}个小区" if len(names) > 3 else "")
    where = f"（{row['subdistricts']}）" if row["subdistricts"] else ""
    text = f"{row['bundle_id']}片区{where}：{shown}"
    if members["households"].notna().any():  # no household figure when none is known
        text += f"，共{row['households']:,}户"
    if row["floor_area_m2"]:
        text += f"、建筑面积{_fmt_area(row['floor_area_m2'])}"
    if row["built_from"] is not None:
        text += f"，建成于{row['built_from']}—{row['built_to']}年"
    if row["priority_members"]:
        years = policy_fields("zh", policy or PolicyConfig())
        text += _text("zh", "bundle_priority_members", count=row["priority_members"], **years)
    if gaps:
        text += "；共同缺少" + "、".join(standards.categories[g].name_zh for g in gaps)
    if row["partner_parcels"]:
        text += f"；可与相邻{row['partner_kinds']}（{row['partner_parcels']}）统筹平衡"
    if row["candidate_parcels"]:
        text += f"；周边可挖潜用地{row['candidate_parcels']}"
    return text + "。"


def describe_en(row: dict, standards: Standards, gaps: list[str],
                members: gpd.GeoDataFrame | None = None) -> str:  # fmt: skip
    known = members is None or members["households"].notna().any()
    text = (f"{row['bundle_id']}: {row['members']} communities"
            + (f", {row['households']:,} households" if known else "")
            + (f", built {row['built_from']}–{row['built_to']}" if row["built_from"] is not None else ""))  # fmt: skip
    if gaps:
        text += "; all lack " + ", ".join(standards.categories[g].name_en for g in gaps)
    if row["partner_parcels"]:
        text += f"; financing partners {row['partner_parcels']}"
    return text + "."


def bundles_summary(bundles: gpd.GeoDataFrame, bundler: Bundler, comm: gpd.GeoDataFrame) -> dict:
    pairs = bundler.pairs if bundler.pairs is not None else pd.DataFrame(columns=["blocked"])
    overlaps = bundler.overlaps if bundler.overlaps is not None else pd.DataFrame()
    cid = comm["cid"].astype(str).to_numpy()
    return {
        "count": len(bundles),
        "communities": int(bundles["members"].sum()) if len(bundles) else 0,
        "households": int(bundles["households"].sum()) if len(bundles) else 0,
        "adjacent_pairs": int((~pairs["blocked"].astype(bool)).sum()),
        "pairs_blocked_by_barriers": int(pairs["blocked"].astype(bool).sum()),
        "with_partner_parcels": int((bundles["partner_parcels"] != "").sum())
        if len(bundles)
        else 0,
        "overlapping_communities": [
            [cid[i], cid[j], float(s)]
            for i, j, s in overlaps[["i", "j", "share"]].itertuples(index=False)
        ]
        if len(overlaps)
        else [],  # fmt: skip
        "duplicates_counted_once": [cid[i] for i in bundler.duplicates],
        "notes": bundler.notes,
    }
