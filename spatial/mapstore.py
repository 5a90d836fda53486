"""The data of an interactive map, written once into the page as JSON: one shared geometry store
(communities, bundles, parcels, streets) in compact integer form, and the reach sets that let the
page recompute coverage offline when a planner switches between today, the recommended programme
and a what-if plan (``data/maps.js`` draws it).

Every text here is :class:`spatial.render.Html` (escaped from the data) before it is stored; the
JSON is embedded with :func:`spatial.render.add_store` (htmlsafe).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import style
from .messages import labels, tier_label
from .programmes import load_rules, needs
from .render import Html, display_frame, esc, fragment, join
from .runresult import RunResult
from .style import bundle_colours

SCALE = 1e5  # integer units of 1e-5 degree (about a metre)


def encode(geoms: np.ndarray, origin: tuple[int, int]) -> list[list[list[int]]]:
    """Lon/lat geometries as lists of parts, each a list of rings/lines, each a flat delta list
    ``[x0, y0, dx1, dy1, …]`` in units of 1e-5° from ``origin`` (integers: small in JSON)."""
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    is_poly = shapely.get_type_id(parts) == 3
    rings = np.empty(0, object)
    ring_of = np.empty(0, int)
    if is_poly.any():
        rings, ring_of = shapely.get_rings(parts, return_index=True)
    lines = np.where(is_poly, None, parts)
    line_idx = np.flatnonzero(~is_poly)
    pieces = np.r_[rings, lines[line_idx]] if len(line_idx) else rings
    piece_part = np.r_[ring_of, line_idx].astype(int)
    coords, idx = shapely.get_coordinates(pieces, return_index=True)
    q = np.round(coords * SCALE).astype(np.int64) - np.asarray(origin, np.int64)
    delta = q.copy()
    delta[1:] -= q[:-1]
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1] if len(idx) else np.empty(0, int)
    delta[starts] = q[starts]
    flat = np.split(delta.ravel(), starts[1:] * 2) if len(idx) else []
    out: list[list[list[int]]] = [[] for _ in range(len(geoms))]
    by_part: dict[int, list] = {}
    for piece, arr in zip(piece_part[np.unique(idx)], flat, strict=True):
        by_part.setdefault(int(piece), []).append(arr.tolist())
    for p, geom_i in enumerate(part_of):
        if p in by_part:
            out[int(geom_i)].append(by_part[p])
    return out


def label_point(geom) -> shapely.Point:
    """Where a label goes: the centroid when inside, else the pole of inaccessibility of the
    largest part."""
    centre = geom.centroid
    if geom.contains(centre):
        return centre
    part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    return shapely.ops.polylabel(part, tolerance=1.0)


def parcel_programmes(result: RunResult, keys: list[str]) -> dict[str, list[str]]:
    """For each candidate parcel (``result.siting.reach``): the categories of ``keys`` it has room for
    alone (the siting's sizes and co-location rules) and that would reach a community now lacking
    them — what a what-if click adds."""
    reach = result.siting.reach if result.siting else None
    if reach is None or len(reach) == 0:
        return {}
    parcels = result.layers.parcels.set_index("pid")
    comm = result.communities.set_index("cid")
    rules = load_rules()
    sizes = needs(result.standards, result.project.siting, rules)
    land = parcels["area_m2"].astype(float)
    given = (
        parcels["max_floor_area"].astype(float) if "max_floor_area" in parcels else land * np.nan
    )
    floor = given.where(np.isfinite(given), land * rules.default_far)
    out: dict[str, list[str]] = {}
    for key in keys:
        need = sizes.get(key)
        if need is None:  # no known size: not sited
            continue
        cat = result.standards.categories[key]
        near = reach.loc[reach["distance_m"] <= cat.radius_m]
        near = near.loc[~comm.loc[near["cid"], f"{key}_ok"].to_numpy(bool)]
        for pid in near["pid"].unique():
            if land.get(pid, 0) + 1e-6 >= need.land and floor.get(pid, 0) + 1e-6 >= need.floor:
                out.setdefault(pid, []).append(key)
    return out


def reach_store(result: RunResult, cid_index: pd.Series, pids: list[str]) -> list[list[int]]:
    """Per parcel of ``pids``: flat ``[community index, metres, …]`` within the largest radius."""
    reach = result.siting.reach if result.siting else None
    if reach is None:
        return [[] for _ in pids]
    # all pairs converted at once, then cut per parcel (rows in reach order, as a groupby gives)
    pairs = np.column_stack(
        [cid_index.loc[reach["cid"]].to_numpy(), np.floor(reach["distance_m"].to_numpy())]
    ).astype(int)
    rows = reach.groupby("pid").indices
    out = []
    for pid in pids:
        at = rows.get(pid)
        out.append([] if at is None else pairs[at].ravel().tolist())
    return out


def site_card(
    pid: str, parcel: pd.Series | None, rows: pd.DataFrame, result, lang: str, lab: dict
) -> Html:
    """Popup of one programme parcel: id, kind, area, every facility with its new households."""
    std = result.standards
    head = fragment("<b>{} {}</b>", lab["parcel"], esc(pid))
    facts = []
    if parcel is not None:
        facts.append(fragment("{}: {}", lab["parcel_kind"], esc(parcel.get("kind"))))
        facts.append(
            fragment("{}: {:,.0f} m²", lab["parcel_area"], float(parcel.get("area_m2", 0)))
        )
    items = [
        fragment(
            "<li>{} (#{}) — {} {:,}</li>",
            std.categories[r["category"]].label(lang),
            int(r["rank"]),
            lab["new_households"],
            int(r["new_households"]),
        )
        for _, r in rows.iterrows()
    ]
    body = (
        fragment(
            "{}<ul style='margin:2px 0 0 16px;padding:0'>{}</ul>", lab["programme"], join(items)
        )
        if items
        else Html("")
    )
    return fragment("<div class=lc-card>{}<br>{}{}</div>", head, join(facts, "<br>"), body)


def parcel_card(
    parcel: pd.Series, prog: list[str], result: RunResult, lang: str, lab: dict
) -> Html:
    std = result.standards
    names = join([esc(std.categories[k].label(lang)) for k in prog], labels(lang)["sep_list"])
    return fragment(
        "<div class=lc-card><b>{} {}</b><br>{}: {}<br>{}: {:,.0f} m²<br>{}: {}</div>",
        lab["parcel"],
        esc(parcel["pid"]),
        lab["parcel_kind"],
        esc(parcel.get("kind")),
        lab["parcel_area"],
        float(parcel.get("area_m2", 0)),
        lab["whatif_programme"],
        names if prog else lab["none"],
    )


def bundle_card(row: pd.Series, result: RunResult, lang: str, lab: dict) -> Html:
    std = result.standards
    gaps = [k for k in str(row.get("shared_gaps") or "").split(",") if k]
    gap_names = join(
        [esc(std.categories[k].label(lang)) if k in std.categories else esc(k) for k in gaps],
        labels(lang)["sep_list"],
    )
    desc = row.get("description" if lang == "zh" else "description_en")
    lines = [
        fragment("<b>{} {}</b>", lab["bundle"], esc(row["bundle_id"])),
        fragment("{}: {} — {}", lab["members"], int(row["members"]), esc(row["member_names"])),
        fragment("{}: {}", lab["households"], _thousands(row.get("households"))),
        fragment("{}: {}", lab["shared_gaps"], gap_names if gaps else lab["none"]),
        fragment("{}: {}", lab["partner_parcels"], esc(row.get("partner_parcels") or "—")),
        fragment("<i>{}</i>", esc(desc)),
    ]
    return fragment("<div class=lc-card>{}</div>", join(lines, "<br>"))


def street_lines(
    result: RunResult, basemap: str, tolerance: float = 5.0
) -> gpd.GeoDataFrame | None:
    """The loaded walking network as display lines: edges grouped by direction (30° bins centred on 0°, 30°, …), so
    that a straight street continues through its crossings, merged into long lines within each
    group and simplified by ``tolerance`` metres — a grid of thousands of edges becomes a few
    hundred lines."""
    net = result.network
    if net is None or len(net.edges) == 0:
        return None
    geoms = net.edges.geometry.values
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    angle = np.degrees(np.arctan2(*(end - start).T[::-1]))
    bins = np.floor(((angle + 15.0) % 180.0) / 30.0).astype(int)  # 0° and 180° share a bin
    parts = []
    for b in np.unique(bins):
        merged = shapely.line_merge(shapely.multilinestrings(geoms[bins == b]))
        parts.append(shapely.get_parts(merged))
    frame = gpd.GeoDataFrame(geometry=np.concatenate(parts), crs=net.crs)
    return display_frame(frame, basemap, tolerance=tolerance)


def community_facts(row: pd.Series, result: RunResult, lang: str) -> Html:
    """The fact lines of a community card (``<br>label: value``), every value escaped; the
    distance table is drawn by ``data/maps.js`` from the numbers."""
    lab = labels(lang)
    facts = [
        (lab["built"], row.get("built_raw")),
        (lab["households"], _int(row.get("households"))),
        (lab["subdistrict"], row.get("subdistrict")),
        (lab["tier"], tier_label(lang, row.get("tier"), result.project.policy)),
        (lab["bundle"], row.get("bundle_id")),
    ]
    return join([fragment("<br>{}: {}", k, esc(v)) for k, v in facts if _present(v)])


def _present(value) -> bool:
    return (
        value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value)) and value != ""
    )


def _thousands(value) -> str:
    return f"{int(value):,}" if value is not None and pd.notna(value) else "—"


def _int(value) -> object:
    return int(value) if value is not None and pd.notna(value) else ""


def community_store(result: RunResult, comm, lang, basemap, origin) -> dict:
    std = result.standards
    disp = display_frame(comm, basemap, tolerance=3.0)
    cats = list(std.categories)
    ok = np.zeros(len(comm), np.int64)
    dist = []
    for i, k in enumerate(cats):
        ok |= comm[f"{k}_ok"].to_numpy(bool).astype(np.int64) << i
        d = comm[f"{k}_m"].to_numpy(float)
        dist.append(np.where(np.isfinite(d), np.round(d), -1).astype(int))
    centres = shapely.point_on_surface(disp.geometry.values)
    xy = np.round(shapely.get_coordinates(centres) * SCALE).astype(int) - origin
    tiers = comm["tier"] if "tier" in comm else pd.Series("", index=comm.index)
    return {
        "geom": encode(disp.geometry.values, origin),
        "centre": xy.tolist(),
        "name": [str(esc(v)) for v in comm["name"]],
        "facts": [str(community_facts(r, result, lang)) for _, r in comm.iterrows()],
        "hh": style.share_weights(comm, result.summary.get("households") is not None).tolist(),
        "ok": ok.tolist(),
        "dist": np.column_stack(dist).tolist() if dist else [[] for _ in range(len(comm))],
        "elig": tiers.isin(["priority", "standard"]).astype(int).tolist(),
    }


def bundle_store(result: RunResult, comm, lang, basemap, origin, group: bool) -> dict:
    bundles = result.bundling.bundles if result.bundling else None
    empty = {"id": [], "geom": [], "colour": [], "card": [], "centre": [], "members": []}
    if group or bundles is None or len(bundles) == 0 or "bundle_id" not in comm:
        return empty
    lab = labels(lang)
    disp = display_frame(bundles, basemap, tolerance=3.0)
    centres = [label_point(g) for g in disp.geometry]
    position = {bid: i for i, bid in enumerate(bundles["bundle_id"])}
    members: list[list[int]] = [[] for _ in range(len(bundles))]
    for i, bid in enumerate(comm["bundle_id"]):
        if isinstance(bid, str) and bid in position:
            members[position[bid]].append(i)
    xy = np.round(shapely.get_coordinates(np.array(centres)) * SCALE).astype(int) - origin
    return {
        "id": [str(esc(v)) for v in bundles["bundle_id"]],
        "geom": encode(disp.geometry.values, origin),
        "colour": bundle_colours(bundles),
        "card": [str(bundle_card(r, result, lang, lab)) for _, r in bundles.iterrows()],
        "centre": xy.tolist(),
        "members": members,
    }


def parcel_store(
    result: RunResult, comm, lang, basemap, origin, keys: list[str], group: bool
) -> dict:
    """Programme parcels (one per parcel), unpicked candidates and partner parcels, with the
    categories each adds in the what-if mode and its reach set."""
    lab = labels(lang)
    std = result.standards
    cat_index = {k: i for i, k in enumerate(std.categories)}
    parcels = result.layers.parcels
    by_pid = parcels.set_index("pid", drop=False)
    wanted = keys if group else list(std.categories)
    sites = result.siting.sites if result.siting else None
    sites = sites.loc[sites["category"].isin(wanted)] if sites is not None else None
    progs = parcel_programmes(result, wanted)
    rows: list[tuple[str, str, Html, list[int]]] = []
    site_pids: list[str] = []
    if sites is not None and len(sites):
        for pid, grp in sites.groupby("pid", sort=False):
            parcel = by_pid.loc[pid] if pid in by_pid.index else None
            card = site_card(pid, parcel, grp, result, lang, lab)
            rows.append((pid, "site", card, [cat_index[k] for k in grp["category"]]))
            site_pids.append(pid)
    if result.siting is not None:
        for pid in sorted(set(result.siting.reach["pid"]) - set(site_pids)):
            prog = progs.get(pid, [])
            if pid in by_pid.index and prog:
                card = parcel_card(by_pid.loc[pid], prog, result, lang, lab)
                rows.append((pid, "candidate", card, [cat_index[k] for k in prog]))
    bundles = result.bundling.bundles if result.bundling else None
    if not group and bundles is not None and len(bundles):
        partners = {
            p for v in bundles["partner_parcels"].fillna("") for p in str(v).split(",") if p
        }
        for pid in sorted(partners & set(by_pid.index)):
            card = parcel_card(by_pid.loc[pid], [], result, lang, lab)
            rows.append((pid, "partner", card, []))
    if not rows:
        return {"pid": [], "kind": [], "card": [], "prog": [], "geom": [], "reach": []}
    pids = [r[0] for r in rows]
    geoms = gpd.GeoDataFrame(geometry=by_pid.loc[pids].geometry.values, crs=parcels.crs)
    disp = display_frame(geoms, basemap, tolerance=1.0)
    cid_index = pd.Series(np.arange(len(comm)), index=comm["cid"])
    reach = reach_store(result, cid_index, [p if k != "partner" else "" for p, k, *_ in rows])
    return {
        "pid": [str(esc(p)) for p in pids],
        "kind": [r[1] for r in rows],
        "card": [str(r[2]) for r in rows],
        "prog": [r[3] for r in rows],
        "geom": encode(disp.geometry.values, origin),
        "reach": reach,
    }
