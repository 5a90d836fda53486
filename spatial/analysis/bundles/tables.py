"""The bundles as a layer and as figures: one row per bundle of a solved
:class:`~spatial.analysis.bundles.groups.Bundler` (dissolved outline, members, households, shared gaps, partner
and candidate parcels, a one-line description from the catalogue) and the ``bundles`` block of
``summary.json``."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from spatial.analysis.bundles.groups import Bundler, span
from spatial.config.project import PolicyConfig
from spatial.config.standards import Standards
from spatial.core.messages import Joined, Named, date_msg, msg, render


def _shared_gaps(members: gpd.GeoDataFrame, standards: Standards) -> list[str]:
    """Basket categories that every member lacks."""
    if "gaps" not in members:
        return []
    return [k for k in standards.basket if not members[f"{k}_ok"].any()]


def _parcel_links(
    parcels: gpd.GeoDataFrame, outlines: list, tolerance: float
) -> list[gpd.GeoDataFrame]:
    """Per outline, the parcels within ``tolerance`` of it (in the parcels' order)."""
    if len(parcels) == 0 or not len(outlines):  # no bundle formed: nothing to link
        return [parcels] * len(outlines)
    tree = shapely.STRtree(parcels.geometry.values)
    which, rows = tree.query(
        np.asarray(outlines, dtype=object), predicate="dwithin", distance=tolerance
    )
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
        "span_m": round(span(members.geometry.values), 1),
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


_MEMBER_FACTS = (
    "cid",
    "name",
    "households",
    "floor_area",
    "built_year_min",
    "built_year_max",
    "tier",
    "subdistrict",
    "gaps",
)


def _member_columns(comm: gpd.GeoDataFrame, standards: Standards) -> list[str]:
    """The columns a bundle's row and description read from its members."""
    oks = [f"{k}_ok" for k in standards.basket]
    wanted = [*_MEMBER_FACTS, *oks, comm.geometry.name]
    return [c for c in wanted if c in comm]


def bundle_frame(
    bundler: Bundler,
    parcels: gpd.GeoDataFrame,
    standards: Standards,
    crs: CRS,
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
    crs : pyproj.CRS
        The frame's CRS.
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
    comm = comm[_member_columns(comm, standards)]  # a narrow copy: one take per bundle below
    outlines = [shapely.union_all(polys[group]) for group in groups]
    partners = _parcel_links(partners_all, outlines, tolerance)
    others = _parcel_links(others_all, outlines, tolerance)
    for number, (group, outline) in enumerate(zip(groups, outlines, strict=True), start=1):
        members = comm.iloc[group]
        bid = f"B{number:02d}"
        bundle_id.iloc[group] = bid
        gaps = _shared_gaps(members, standards)
        row = _bundle_row(bid, members, partners[number - 1], others[number - 1], gaps)
        row["description"] = describe(row, members, standards, gaps, policy)
        row["description_en"] = render(row["description"], "en")
        rows.append({**row, "geometry": outline})
    return gpd.GeoDataFrame(rows, columns=_BUNDLE_COLUMNS, geometry="geometry", crs=crs), bundle_id


def describe(
    row: dict,
    members: gpd.GeoDataFrame,
    standards: Standards,
    gaps: list[str],
    policy: PolicyConfig | None = None,
) -> Joined:
    """One line a planner can paste into a report, from the catalogue's ``bundle_desc_*`` texts
    (rendered in the language it is written in; ``policy`` names the priority cut-off).

    Parameters
    ----------
    row : dict
        The bundle's facts (``_bundle_row``).
    members : GeoDataFrame
        Its communities (households left out when none is known).
    standards : Standards
    gaps : list of str
        Basket categories every member lacks.
    policy : PolicyConfig, optional

    Returns
    -------
    Joined
        The parts, joined without a separator.
    """
    policy = policy or PolicyConfig()
    names = tuple(members["name"].astype(str))
    shown: object = Joined(names[:3])
    if len(names) > 3:
        shown = msg("bundle_desc_more", names=shown, count=len(names))
    where = (
        msg("bundle_desc_where", subdistricts=row["subdistricts"]) if row["subdistricts"] else ""
    )
    parts: list[object] = [
        msg("bundle_desc_head", bundle=row["bundle_id"], where=where, names=shown, count=len(names))
    ]
    if members["households"].notna().any():  # no household figure when none is known
        parts.append(msg("bundle_desc_households", households=row["households"]))
    if m2 := row["floor_area_m2"]:
        area = (
            msg("bundle_area_wan", wan=m2 / 10000, m2=m2)
            if m2 >= 10000
            else msg("bundle_area_m2", m2=m2)
        )
        parts.append(msg("bundle_desc_floor", area=area))
    if row["built_from"] is not None:
        parts.append(msg("bundle_desc_built", start=row["built_from"], end=row["built_to"]))
    if row["priority_members"]:
        by = date_msg(policy.priority_cutoff)
        parts.append(msg("bundle_priority_members", count=row["priority_members"], priority_by=by))
    if gaps:
        names_of = tuple(
            Named(standards.categories[g].name_zh, standards.categories[g].name_en) for g in gaps
        )
        parts.append(msg("bundle_desc_gaps", gaps=Joined(names_of)))
    if row["partner_parcels"]:
        parts.append(
            msg("bundle_desc_partners", kinds=row["partner_kinds"], parcels=row["partner_parcels"])
        )
    if row["candidate_parcels"]:
        parts.append(msg("bundle_desc_candidates", parcels=row["candidate_parcels"]))
    return Joined((*parts, msg("bundle_desc_end")), sep="sep_none")


def bundles_summary(bundles: gpd.GeoDataFrame, bundler: Bundler, comm: gpd.GeoDataFrame) -> dict:
    """The ``bundles`` block of ``summary.json``.

    ``pairs_blocked_by_barriers`` counts near pairs whose shortest link crosses a barrier;
    ``pairs_split_by_subdistrict`` near pairs in different 街道 under ``same_subdistrict = true``
    (a pair can be in both); ``adjacent_pairs`` the near pairs in neither.

    Raises
    ------
    RuntimeError
        ``bundler.solve()`` was not called.

    Parameters
    ----------
    bundles : GeoDataFrame
        :func:`bundle_frame`'s rows.
    bundler : Bundler
        Solved.
    comm : GeoDataFrame
        The communities (their ``cid`` name the overlaps).

    Returns
    -------
    dict
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
