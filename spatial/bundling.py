"""Bundles (成片改造片区): connected groups of adjacent eligible communities within limits, with
the redevelopment parcels that can finance them (大片区统筹平衡)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from .adjacency import adjacent_pairs, overlapping_pairs
from .config import BundlingConfig, PolicyConfig
from .messages import Joined, Msg, Named, msg, policy_fields, render
from .messages import text as _text
from .standards import Standards

_PAIR_COLUMNS = ["i", "j", "gap_m", "crosses_barrier", "other_subdistrict", "blocked"]


class Bundler:
    """Adjacent eligible communities grouped into bundles (spopt style: build, ``.solve()``, read).

    Parameters
    ----------
    communities : GeoDataFrame
        With ``eligible``, ``households``, ``subdistrict`` (metric CRS).
    cfg : BundlingConfig
        The project's ``[bundling]`` settings.
    barriers : ndarray of geometries, optional
        Lines and polygons adjacency may not cross (``adjacency.barrier_lines``).

    Attributes
    ----------
    Set by :meth:`solve`; reading one before raises ``RuntimeError``.

    pairs : DataFrame
        Near pairs of usable communities (``adjacency.adjacent_pairs``: ``i``, ``j``, ``gap_m``,
        ``crosses_barrier``, ``other_subdistrict``, ``blocked``), rows of ``communities``.
    overlaps : DataFrame
        Overlapping community pairs (``adjacency.overlapping_pairs``).
    duplicates : list of int
        Rows overlapping an earlier row by more than half: counted once (left out).
    groups : list of list of int
        The bundles, each the sorted rows of its members.
    notes : list of Msg
        Why no bundle could be formed, when that is the case (catalogue texts, ``note_*``).
    """

    _RESULTS = ("pairs", "overlaps", "duplicates", "groups", "notes")

    def __init__(
        self, communities: gpd.GeoDataFrame, cfg: BundlingConfig, barriers: np.ndarray | None = None
    ) -> None:
        self.communities = communities
        self.cfg = cfg
        self.barriers = barriers if barriers is not None else np.array([])

    def __getattr__(self, name: str):
        # only called for attributes not set: the results before solve()
        if name in Bundler._RESULTS:
            raise RuntimeError(f"Bundler.{name} is set by .solve(); call .solve() first")
        raise AttributeError(name)

    @property
    def solved(self) -> bool:
        """Whether :meth:`solve` has run."""
        return "groups" in self.__dict__

    def solve(self) -> Bundler:
        """Find the near pairs, join them into components and split those within the limits."""
        comm = self.communities
        polys = comm.geometry.values
        overlaps = overlapping_pairs(polys)
        # near-duplicates (more than half of the smaller one) are counted once: the later row
        duplicates = sorted(set(overlaps.loc[overlaps["share"] > 0.5, "j"].tolist()))
        usable = comm["eligible"].to_numpy(bool).copy()
        usable[duplicates] = False
        idx = np.flatnonzero(usable)
        pairs, groups = pd.DataFrame(columns=_PAIR_COLUMNS), []
        notes: list[Msg] = []
        if len(idx) < self.cfg.min_members:
            notes.append(msg("note_bundle_too_few", min_members=self.cfg.min_members))
        else:
            sub = (
                comm["subdistrict"].astype(str).to_numpy()[idx]
                if self.cfg.same_subdistrict
                else None
            )
            pairs = adjacent_pairs(polys[idx], self.cfg.tolerance_m, self.barriers, sub)
            pairs["i"], pairs["j"] = idx[pairs["i"].to_numpy()], idx[pairs["j"].to_numpy()]
            groups = self._groups(idx, pairs.loc[~pairs["blocked"]])
        self.pairs, self.overlaps, self.duplicates = pairs, overlaps, duplicates
        self.groups, self.notes = groups, notes
        return self

    def _groups(self, idx: np.ndarray, open_pairs: pd.DataFrame) -> list[list[int]]:
        """Connected components of the open pairs, each split within the limits."""
        n = len(self.communities)
        graph = sparse.coo_matrix(
            (np.ones(len(open_pairs)), (open_pairs["i"], open_pairs["j"])), shape=(n, n)
        )
        _, labels = csgraph.connected_components(graph, directed=False)
        neighbours = _neighbour_lists(open_pairs, n)
        groups: list[list[int]] = []
        for label in _ordered_labels(labels, idx, self.communities.geometry.values):
            members = idx[labels[idx] == label]
            if len(members) >= self.cfg.min_members:
                groups += self._split(members, neighbours)
        return [g for g in groups if len(g) >= self.cfg.min_members]

    def _split(self, members: np.ndarray, neighbours: list[set[int]]) -> list[list[int]]:
        """Region growing: from the south-west-most member, add the adjacent member nearest the
        region's centre while households and span stay within limits; repeat on the rest."""
        comm = self.communities
        if "_hh_cent" not in self.__dict__:  # the same for every split: computed once
            self._hh_cent = (
                comm["households"].fillna(0).to_numpy(float),
                shapely.get_coordinates(comm.geometry.centroid.values),
            )
        hh, cent = self._hh_cent
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


def _parcel_links(parcels: gpd.GeoDataFrame, outlines, tolerance: float) -> list:
    """Per outline, the parcels within ``tolerance`` of it (in the parcels' order)."""
    if len(parcels) == 0:
        return [parcels] * len(outlines)
    tree = shapely.STRtree(parcels.geometry.values)
    which, rows = tree.query(outlines, predicate="dwithin", distance=tolerance)
    order = np.lexsort((rows, which))
    which, rows = which[order], rows[order]
    cuts = np.searchsorted(which, np.arange(len(outlines) + 1))
    return [parcels.iloc[rows[a:b]] for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _split_parcels(
    parcels: gpd.GeoDataFrame, partner_kinds: list[str]
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """(financing partners, other candidate land) by the parcel's ``kind``."""
    if len(parcels) == 0:
        return parcels, parcels
    partner = parcels["kind"].astype(str).isin(partner_kinds).to_numpy(bool)
    return parcels.loc[partner], parcels.loc[~partner]


def _bundle_row(
    bid: str,
    members: gpd.GeoDataFrame,
    partners: gpd.GeoDataFrame,
    candidates: gpd.GeoDataFrame,
    gaps: list[str],
) -> dict:
    """The facts of one bundle (no descriptions)."""
    years = members["built_year_max"].dropna()
    return {
        "bundle_id": bid,
        "members": len(members),
        "member_ids": ",".join(members["cid"].astype(str)),
        "member_names": Joined(tuple(members["name"].astype(str))),
        "households": int(members["households"].fillna(0).sum()),
        "floor_area_m2": float(members["floor_area"].fillna(0).sum()),
        "built_from": int(members["built_year_min"].min()) if len(years) else None,
        "built_to": int(years.max()) if len(years) else None,
        "priority_members": int((members["tier"] == "priority").sum()),
        "subdistricts": Joined(tuple(sorted(set(members["subdistrict"].astype(str)) - {""}))),
        "shared_gaps": ",".join(gaps),
        "partner_parcels": ",".join(partners["pid"].astype(str)),
        "partner_kinds": Joined(tuple(sorted(set(partners["kind"].astype(str))))),
        "candidate_parcels": ",".join(candidates["pid"].astype(str)),
        "span_m": round(_span(members.geometry.values), 1),
    }


def _numbered_groups(comm: gpd.GeoDataFrame, groups: list[list[int]]) -> list[list[int]]:
    """Bundles in numbering order: most households first, then the lowest row."""
    return sorted(groups, key=lambda g: (-comm["households"].iloc[g].fillna(0).sum(), min(g)))


_BUNDLE_COLUMNS = [
    "bundle_id",
    "members",
    "member_ids",
    "member_names",
    "households",
    "floor_area_m2",
    "built_from",
    "built_to",
    "priority_members",
    "subdistricts",
    "shared_gaps",
    "partner_parcels",
    "partner_kinds",
    "candidate_parcels",
    "span_m",
    "description",
    "description_en",
    "geometry",
]


def bundle_frame(
    bundler: Bundler,
    parcels: gpd.GeoDataFrame,
    standards: Standards,
    crs,
    policy: PolicyConfig | None = None,
) -> tuple[gpd.GeoDataFrame, pd.Series]:
    """One row per bundle (dissolved outline and its facts) and each community's ``bundle_id``.

    Parameters
    ----------
    bundler : Bundler
        Solved.
    parcels : GeoDataFrame
        Candidate land with ``pid`` and ``kind``; parcels within ``tolerance_m`` of a bundle are
        its partners (``partner_kinds``) or candidates (the rest).
    standards : Standards
        For the basket gaps every member shares.
    crs : the frame's CRS.
    policy : PolicyConfig, optional
        Names the priority cut-off in the descriptions (default: the default policy).
    """
    policy = policy or PolicyConfig()
    comm = bundler.communities
    tolerance = bundler.cfg.tolerance_m
    partners_all, others_all = _split_parcels(parcels, bundler.cfg.partner_kinds)
    rows = []
    bundle_id = pd.Series(pd.NA, index=comm.index, dtype="string")
    groups = _numbered_groups(comm, bundler.groups)
    polys = comm.geometry.values
    outlines = [shapely.union_all(polys[group]) for group in groups]
    partners = _parcel_links(partners_all, outlines, tolerance)
    others = _parcel_links(others_all, outlines, tolerance)
    for number, group in enumerate(groups, start=1):
        members = comm.iloc[group]
        bid = f"B{number:02d}"
        bundle_id.iloc[group] = bid
        outline = outlines[number - 1]
        gaps = _shared_gaps(members, standards)
        row = _bundle_row(bid, members, partners[number - 1], others[number - 1], gaps)
        zh = describe_zh(row, members, standards, gaps, policy)
        row["description"] = Named(zh, describe_en(row, standards, gaps, members))
        row["description_en"] = describe_en(row, standards, gaps, members)
        rows.append({**row, "geometry": outline})
    return gpd.GeoDataFrame(rows, columns=_BUNDLE_COLUMNS, geometry="geometry", crs=crs), bundle_id


def describe_zh(
    row: dict,
    members: gpd.GeoDataFrame,
    standards: Standards,
    gaps: list[str],
    policy: PolicyConfig | None = None,
) -> str:
    """One line a planner can paste into a report (``policy`` names the priority cut-off).

    Parameters
    ----------
    row : dict
        The bundle's facts (``_bundle_row``).
    members : GeoDataFrame
        Its communities.
    standards : Standards
    gaps : list of str
        Basket categories every member lacks.
    policy : PolicyConfig, optional
    """
    names = list(members["name"].astype(str))
    shown = "、".join(names[:3]) + (f"等{len(names)}个小区" if len(names) > 3 else "")
    where = f"（{render(row['subdistricts'], 'zh')}）" if row["subdistricts"] else ""
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
        kinds = render(row["partner_kinds"], "zh")
        text += f"；可与相邻{kinds}（{row['partner_parcels']}）统筹平衡"
    if row["candidate_parcels"]:
        text += f"；周边可挖潜用地{row['candidate_parcels']}"
    return text + "。"


def describe_en(
    row: dict, standards: Standards, gaps: list[str], members: gpd.GeoDataFrame | None = None
) -> str:
    """The English line of :func:`describe_zh` (households left out when none is known)."""
    known = members is None or members["households"].notna().any()
    text = (
        f"{row['bundle_id']}: {row['members']} communities"
        + (f", {row['households']:,} households" if known else "")
        + (
            f", built {row['built_from']}–{row['built_to']}"
            if row["built_from"] is not None
            else ""
        )
    )
    if gaps:
        text += "; all lack " + ", ".join(standards.categories[g].name_en for g in gaps)
    if row["partner_parcels"]:
        text += f"; financing partners {row['partner_parcels']}"
    return text + "."


def bundles_summary(bundles: gpd.GeoDataFrame, bundler: Bundler, comm: gpd.GeoDataFrame) -> dict:
    """The ``bundles`` block of ``summary.json``.

    ``pairs_blocked_by_barriers`` counts near pairs whose shortest link crosses a barrier;
    ``pairs_split_by_subdistrict`` near pairs in different 街道 under ``same_subdistrict = true``
    (a pair can be in both); ``adjacent_pairs`` the near pairs in neither.

    Raises
    ------
    RuntimeError
        ``bundler.solve()`` was not called.
    """
    if not bundler.solved:
        raise RuntimeError("bundles_summary needs a solved Bundler; call Bundler.solve() first")
    pairs, overlaps = bundler.pairs, bundler.overlaps
    cid = comm["cid"].astype(str).to_numpy()
    return {
        "count": len(bundles),
        "communities": int(bundles["members"].sum()) if len(bundles) else 0,
        "households": int(bundles["households"].sum()) if len(bundles) else 0,
        "adjacent_pairs": int((~pairs["blocked"].astype(bool)).sum()),
        "pairs_blocked_by_barriers": int(pairs["crosses_barrier"].astype(bool).sum()),
        "pairs_split_by_subdistrict": int(pairs["other_subdistrict"].astype(bool).sum()),
        "with_partner_parcels": int((bundles["partner_parcels"] != "").sum())
        if len(bundles)
        else 0,
        "overlapping_communities": [
            [cid[i], cid[j], float(s)]
            for i, j, s in overlaps[["i", "j", "share"]].itertuples(index=False)
        ]
        if len(overlaps)
        else [],
        "duplicates_counted_once": [cid[i] for i in bundler.duplicates],
        "notes": bundler.notes,
    }
