"""The data of an interactive map, written once into the page as JSON: one shared geometry store
(communities, bundles, parcels, streets) in compact integer form, and the reach sets that let the
page recompute coverage offline when a planner switches between today, the recommended programme
and a what-if plan (``maps.js`` draws it).

Every text here is :class:`spatial.text.html.Html` (escaped from the data) before it is stored; the
JSON is embedded with :func:`spatial.outputs.html.leaflet.add_store` (htmlsafe).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from spatial.analysis.result import RunResult
from spatial.core.messages import labels, tier_label
from spatial.outputs import style
from spatial.outputs.html.leaflet import display_frame
from spatial.outputs.style import bundle_colours
from spatial.text.html import esc, join

SCALE = 1e5  # integer units of 1e-5 degree (about a metre)


def encode(geoms: np.ndarray, origin: tuple[int, int]) -> list[list[list[int]]]:
    """Lon/lat geometries as lists of parts, each a list of rings/lines, each a flat delta list
    ``[x0, y0, dx1, dy1, …]`` in units of 1e-5° from ``origin`` (integers: small in JSON); rings
    without their closing point (the first repeated)."""
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
    last = np.r_[idx[1:] != idx[:-1], True] if len(idx) else np.empty(0, bool)
    open_ring = ~(last & (idx < len(rings)))  # a ring's closing point: Leaflet closes it
    coords, idx = coords[open_ring], idx[open_ring]
    q = np.round(coords * SCALE).astype(np.int64) - np.asarray(origin, np.int64)
    delta = q.copy()
    delta[1:] -= q[:-1]
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1] if len(idx) else np.empty(0, int)
    delta[starts] = q[starts]
    values = delta.ravel().tolist()  # one conversion, then slices of it
    bounds = (np.r_[starts, len(idx)] * 2).tolist()
    out: list[list[list[int]]] = [[] for _ in range(len(geoms))]
    by_part: dict[int, list] = {}
    pieces = piece_part[np.unique(idx)].tolist()
    for piece, a, b in zip(pieces, bounds[:-1], bounds[1:], strict=True):
        by_part.setdefault(piece, []).append(values[a:b])
    for p, geom_i in enumerate(part_of.tolist()):
        if p in by_part:
            out[geom_i].append(by_part[p])
    return out


def label_point(geom) -> shapely.Point:
    """Where a label goes: the centroid when inside, else the pole of inaccessibility of the
    largest part."""
    centre = geom.centroid
    if geom.contains(centre):
        return centre
    part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
    return shapely.ops.polylabel(part, tolerance=1.0)


def bundle_cards(bundles: pd.DataFrame, result: RunResult, lang: str) -> dict:
    """The bundle cards as columns (every text escaped), which ``maps.js`` lays out as
    ``<b>bundle id</b>``, members (count — names), households, shared gaps, partner parcels and the
    description in italics: ``label`` (the line labels), ``members``, ``names``, ``households``,
    ``gaps`` and ``partners`` (tables of distinct values: a city's bundles share a few gap lists)
    and ``desc``, each description either a text or, where it repeats the bundle's gap list, the
    two texts around it (stored once, in ``gaps``)."""
    std = result.standards
    lab = labels(lang)
    sep = lab["sep_list"]
    gaps, descs = [], []
    column = "description" if lang == "zh" else "description_en"
    descriptions = bundles[column] if column in bundles else [None] * len(bundles)
    for value, desc in zip(bundles["shared_gaps"], descriptions, strict=True):
        keys = [k for k in str(value or "").split(",") if k]
        names = join(
            [esc(std.categories[k].label(lang)) if k in std.categories else esc(k) for k in keys],
            sep,
        )
        text = str(names) if keys else str(esc(lab["none"]))
        gaps.append(text)
        desc = str(esc(desc))
        descs.append(desc.split(text, 1) if keys and text in desc else desc)
    return {
        "label": {
            k: str(esc(lab[k])) for k in ("members", "households", "shared_gaps", "partner_parcels")
        }
        | {"bundle": str(esc(lab["bundle_title"]))},  # the card's title: 片区 B01
        "members": [int(v) for v in bundles["members"]],
        "names": [str(esc(v)) for v in bundles["member_names"]],
        "households": [str(esc(_thousands(v))) for v in bundles["households"]]
        if "households" in bundles
        else ["—"] * len(bundles),
        "gaps": _table(gaps),
        "partners": _table(
            [str(esc(v or "—")) for v in bundles.get("partner_parcels", [None] * len(bundles))]
        ),
        "desc": descs,
    }


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
    # first and last points from the coordinate array (no point objects: ten times faster)
    coords = shapely.get_coordinates(geoms)
    last = np.cumsum(shapely.get_num_coordinates(geoms)) - 1
    start, end = coords[np.r_[0, last[:-1] + 1]], coords[last]
    angle = np.degrees(np.arctan2(*(end - start).T[::-1]))
    bins = np.floor(((angle + 15.0) % 180.0) / 30.0).astype(int)  # 0° and 180° share a bin
    parts = []
    for b in np.unique(bins):
        merged = shapely.line_merge(shapely.multilinestrings(geoms[bins == b]))
        parts.append(shapely.get_parts(merged))
    frame = gpd.GeoDataFrame(geometry=np.concatenate(parts), crs=net.crs)
    return display_frame(frame, basemap, tolerance=tolerance)


def community_facts(comm: pd.DataFrame, result: RunResult, lang: str) -> dict:
    """The fact lines of the community cards as a table: ``label`` (escaped, once) and per line
    ``v``, its distinct values (escaped) and ``i``, each community's index into them (-1: no
    line). ``maps.js`` writes ``<br>label: value`` for each line a community has; the distance
    table is drawn from the numbers. A city's cards repeat a few subdistricts, tiers and
    household counts: stored once each, not once per community."""
    lab = labels(lang)
    policy = result.project.policy
    column = {
        "built": comm.get("built_raw"),
        "households": comm["households"].map(_int) if "households" in comm else None,
        "subdistrict": comm.get("subdistrict"),
        "tier": comm["tier"].map(lambda t: tier_label(lang, t, policy)) if "tier" in comm else None,
        "bundle": comm.get("bundle_id"),
        "access_basis": _basis_column(comm, lab),
    }
    rows = {k: v for k, v in column.items() if v is not None}
    return {
        "label": [str(esc(lab[k])) for k in rows],
        "cols": [_table(_escaped_column(col)) for col in rows.values()],
    }


def _basis_column(comm: pd.DataFrame, lab: dict) -> pd.Series | None:
    """What each community's distances were measured from, when any was measured from gates."""
    basis = comm.get("access_basis")
    if basis is None or not (basis == "gates").any():
        return None
    return basis.map({"gates": lab["basis_gates"], "outline": lab["basis_outline"]})


def _escaped_column(values) -> list[str | None]:
    """Each value escaped (None where absent); a repeated value (of the same type, not a float:
    ``0.0`` equals ``-0.0``) once."""
    done: dict[tuple, str | None] = {}
    out = []
    for v in values:
        if isinstance(v, float):
            out.append(str(esc(v)) if _present(v) else None)
            continue
        key = (type(v), v)
        if key not in done:
            done[key] = str(esc(v)) if _present(v) else None
        out.append(done[key])
    return out


def _table(values: list[str | None]) -> dict:
    """Dictionary form of a text column: ``v`` the distinct values in order of appearance, ``i``
    each row's index into ``v`` (-1 for None)."""
    distinct: dict[str, int] = {}
    index = [-1 if v is None else distinct.setdefault(v, len(distinct)) for v in values]
    return {"v": list(distinct), "i": index}


def _numbers(values: np.ndarray) -> list:
    """Whole numbers as integers (``729``, not ``729.0``: the same value in the page)."""
    whole = np.isfinite(values).all() and (values == np.round(values)).all()
    return values.astype(np.int64).tolist() if whole else values.tolist()


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
        "facts": community_facts(comm, result, lang),
        "hh": _numbers(style.share_weights(comm, result.summary.get("households") is not None)),
        "ok": ok.tolist(),
        "dist": np.column_stack(dist).tolist() if dist else [[] for _ in range(len(comm))],
        "elig": tiers.isin(style.OLD_TIERS).astype(int).tolist(),
        # measured from its gates (drawn with a blue outline); empty when no gate was used
        "gate": _gated(comm),
    }


def _gated(comm: pd.DataFrame) -> list[int]:
    """Per community 1 where its distances were measured from its gates; ``[]`` when none was."""
    basis = comm.get("access_basis")
    if basis is None or not (basis == "gates").any():
        return []
    return (basis == "gates").astype(int).tolist()


def bundle_store(result: RunResult, comm, lang, basemap, origin, group: bool) -> dict:
    bundles = result.bundling.bundles if result.bundling else None
    empty = {"id": [], "geom": [], "colour": [], "card": {}, "centre": [], "members": []}
    if group or bundles is None or len(bundles) == 0 or "bundle_id" not in comm:
        return empty
    # the line runs outside the members' outlines, never over them
    disp = display_frame(bundles.set_geometry(bundles.buffer(style.BUNDLE_OFFSET_M)), basemap, 3.0)
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
        "card": bundle_cards(bundles, result, lang),
        "centre": xy.tolist(),
        "members": members,
    }
