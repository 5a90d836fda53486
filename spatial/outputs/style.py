"""Map style shared by the HTML maps and the print map: colours and legend rows.

The lowest of the output modules: it knows nothing about Leaflet or matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from spatial.core.messages import labels

# gaps 0, 1, 2, 3, 4+: ColorBrewer YlOrRd, lighter to darker (CIE L* 99 → 35), so the order
# reads the same to colour-blind readers and on a greyscale print
GAP_COLOURS = ["#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#b10026"]
TIER_COLOURS = {
    "priority": "#b2182b",
    "standard": "#ef8a62",
    "not_eligible": "#bdbdbd",
    "unknown": "#7570b3",
}
# one colour per category of the standards table, in its order (Okabe & Ito 2008; Tol 2021
# "bright"): the two categories of each planner group (elderly, childcare, clinics, markets) differ
# in hue along the blue–orange axis colour-blind readers keep, and in lightness by at least 15
# CIE L* (tests/test_wording.py checks), so they stay apart on a greyscale print too
CATEGORY_COLOURS = [
    "#e69f00",  # elderly day-care: orange (L* 71)
    "#0072b2",  # nursing home: blue (L* 46)
    "#ccbb44",  # nursery: olive yellow (L* 75)
    "#aa3377",  # kindergarten: purple (L* 40)
    "#56b4e9",  # health station: sky blue (L* 70)
    "#a33b00",  # health centre: dark vermilion (L* 40)
    "#009e73",  # market: bluish green (L* 58)
    "#f0e442",  # convenience: yellow (L* 89)
    "#4477aa",
    "#ee6677",
    "#228833",
    "#66ccee",
    "#999999",
]


@dataclass(frozen=True)
class Outline:
    """How a community's outline is drawn, the HTML maps and the print maps alike: ``colour``,
    ``width_px`` and ``dash_px`` (on / off lengths; ``()`` solid) on the screen, ``width_pt`` and
    ``dash_pt`` on the A3 print (thinner: a print shows the whole project at once)."""

    colour: str
    width_px: float
    dash_px: tuple[float, ...]
    width_pt: float
    dash_pt: tuple[float, ...]

    @property
    def dash_array(self) -> str | None:
        """The dash as Leaflet's ``dashArray`` (None: solid)."""
        return " ".join(f"{d:g}" for d in self.dash_px) or None


#: tiers of an old community (老旧小区: eligible for renovation)
OLD_TIERS = ("priority", "standard")
# outlines say old / not old (issue 30: a channel of its own beside the gap fill and the
# bundle line): old solid black and thicker, others thin grey dashed — apart in greyscale by
# darkness, width and dash alike
OLD_OUTLINE = Outline("#111111", 1.8, (), 0.9, ())
OTHER_OUTLINE = Outline("#8c8c8c", 0.6, (3, 3), 0.45, (2.4, 1.6))


def is_old(comm: pd.DataFrame) -> np.ndarray:
    """Which communities are old (their tier in :data:`OLD_TIERS`); none when untiered."""
    if "tier" not in comm:
        return np.zeros(len(comm), bool)
    return comm["tier"].isin(OLD_TIERS).to_numpy()


SITE_COLOUR = "#6a00a8"
GATE_COLOUR = "#2166ac"  # the outline of a community measured from its gates (HTML maps)
BUNDLE_COLOUR = "#08306b"
# bundle lines: distinct colours, neighbouring bundles get different ones (adjacency colouring);
# blues, greens, teals and greys only — never the gap colours' yellow to red, nor the sites' purple,
# so that a bundle's line never reads as a gap shade or a site (issue 30: three channels)
BUNDLE_COLOURS = [
    "#1f78b4",
    "#33a02c",
    "#01665e",
    "#525252",
    "#a6cee3",
    "#b2df8a",
    "#80cdc1",
    "#08306b",
]
BUNDLE_OFFSET_M = 10.0  # a bundle's line on the HTML map runs this far outside its members
# programme years (年度计划), the HTML layers and the print page alike: early dark to late light,
# viridis (van der Walt & Smith 2015, made for colour-blind readers) from its start to 85 % (its
# yellow end, a gap shade's hue, left out) in 7 steps 10-12 CIE L* apart (L* 15 -> 80); a shorter
# programme takes colours spread over the whole range (:func:`year_colours`;
# tests/outputs/test_wording.py checks the steps), so the years stay apart on a greyscale print
YEAR_COLOURS = ["#440154", "#46327e", "#375b8d", "#277e8e", "#1fa188", "#48c16e", "#9bd93c"]
#: compounds held in the programme's reserve (储备), on the HTML map and in the GeoPackage
RESERVE_COLOUR = "#969696"
CANDIDATE_COLOUR = "#7a7a7a"
PARTNER_COLOUR = "#01665e"
STREET_COLOUR = "#b8b8b8"
SHARE_DECIMALS = 1  # the one rounding rule for shares, HTML and print alike


def share_text(x: float | None) -> str:
    """A share (0–1) as the maps print it, e.g. ``0.06912`` → ``"6.9%"`` (one decimal, half up
    from the share rounded to 4 decimals as in ``summary.json``; ``maps.js`` does the same);
    ``"–"`` for a missing or non-finite share."""
    try:
        value = float(x)
    except (TypeError, ValueError):
        return "–"
    if not np.isfinite(value):
        return "–"
    tenths = int(np.floor(round(value, 4) * 10 ** (2 + SHARE_DECIMALS) + 0.5))
    return f"{tenths / 10**SHARE_DECIMALS:.{SHARE_DECIMALS}f}%"


def ink_is_dark(colour: str) -> bool:
    """Whether text on ``colour`` ("#rrggbb") reads better dark than white: its relative
    luminance above 0.4 (yellow, sky blue and orange take dark text)."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2] > 0.4


def gap_colour(gaps: float) -> str:
    """Colour of a community with ``gaps`` missing categories (the last colour for 4 and more)."""
    return GAP_COLOURS[int(min(max(gaps, 0), len(GAP_COLOURS) - 1))]


def year_colours(count: int) -> list[str]:
    """One colour per year of a programme of ``count`` years, earliest first: up to
    :data:`YEAR_COLOURS`' length, colours of it spread over its whole range (a four-year
    programme takes the 1st, 3rd, 5th and 7th); a longer programme, colours between them
    (interpolated in RGB), still darkest first but closer together."""
    n = len(YEAR_COLOURS)
    at = np.linspace(0, n - 1, count) if count > 1 else np.zeros(max(count, 0))
    if count <= n:
        return [YEAR_COLOURS[int(k)] for k in np.round(at)]
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in YEAR_COLOURS], float)
    mixed = np.column_stack([np.interp(at, np.arange(n), rgb[:, j]) for j in range(3)])
    return ["#{:02x}{:02x}{:02x}".format(*np.round(row).astype(int)) for row in mixed]


def category_colour(index: int) -> str:
    """Colour of the ``index``-th category of the standards table."""
    return CATEGORY_COLOURS[index % len(CATEGORY_COLOURS)]


def gap_legend(lang: str) -> list[tuple[str, str]]:
    """(colour, text) rows of the gaps legend: 0, 1, … and "4+"."""
    last = len(GAP_COLOURS) - 1
    word = labels(lang)["gaps"]
    return [(c, f"{word} {i}" + ("+" if i == last else "")) for i, c in enumerate(GAP_COLOURS)]


def share_weights(comm: pd.DataFrame, households_known: bool) -> np.ndarray:
    """What a coverage share counts: households (blank ones weigh 0, so they are out of both
    sides of the share), or one per community when the project has no households."""
    if not households_known:
        return np.ones(len(comm))
    return comm["households"].fillna(0).to_numpy(float)


def bundle_colours(bundles: gpd.GeoDataFrame, near_m: float = 50.0) -> list[str]:
    """One colour of :data:`BUNDLE_COLOURS` per bundle, for the HTML maps and the print pack
    alike: bundles that touch or lie within ``near_m`` of each other always differ (a greedy
    colouring of the adjacency graph, most connected first), and among the allowed colours each
    bundle takes the least used, so that the palette is spread over the map rather than one hue
    repeated."""
    graph = nx.Graph()
    graph.add_nodes_from(range(len(bundles)))
    geoms = bundles.geometry.values
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=near_m)
    graph.add_edges_from((int(i), int(j)) for i, j in zip(a, b, strict=True) if i < j)
    used = [0] * len(BUNDLE_COLOURS)
    colour: dict[int, int] = {}
    for node in sorted(graph, key=lambda n: (-graph.degree(n), n)):
        taken = {colour[m] for m in graph[node] if m in colour}
        free = [c for c in range(len(BUNDLE_COLOURS)) if c not in taken]
        pick = min(free, key=lambda c: (used[c], c)) if free else len(colour) % len(used)
        colour[node] = pick
        used[pick] += 1
    return [BUNDLE_COLOURS[colour[i]] for i in range(len(bundles))]


def group_shares(
    comm: pd.DataFrame, households_known: bool, keys: list[str], sites: pd.DataFrame | None
) -> tuple[float, float]:
    """Share of households (or communities, see :func:`share_weights`) with every category of
    ``keys`` within reach, today and after the recommended ``sites`` (their newly covered
    community ids) — a group map's headline, HTML and print alike."""
    hh = share_weights(comm, households_known)
    total = hh.sum() or 1.0
    ok = np.ones(len(comm), bool)
    after = np.ones(len(comm), bool)
    cids = comm["cid"].astype(str)
    for k in keys:
        have = comm[f"{k}_ok"].to_numpy(bool)
        new = np.zeros(len(comm), bool)
        if sites is not None and len(sites):
            ids = ",".join(sites.loc[sites["category"] == k, "covered_ids"].astype(str))
            new = cids.isin(set(ids.split(","))).to_numpy()
        ok &= have
        after &= have | new
    return float(hh[ok].sum() / total), float(hh[after].sum() / total)


HULL_OVERLAP = 0.01  # a hull overlapping this share of another subdistrict's community crosses it


def subdistrict_hulls(comm: gpd.GeoDataFrame) -> tuple[gpd.GeoSeries, list[str]]:
    """The approximate outline of each subdistrict (街道): the convex hull of its communities,
    indexed by name; and the names left out because their hull crosses a community of another
    subdistrict (overlaps more than :data:`HULL_OVERLAP` of its area) — drawn, such a hull
    would read as an official line cutting through that community."""
    subs = comm["subdistrict"].fillna("").astype(str)
    known = comm.assign(_s=subs.to_numpy()).loc[subs.to_numpy() != ""]
    if not len(known):
        return gpd.GeoSeries([], crs=comm.crs), []
    geoms = known.geometry.values
    # the hull of the communities themselves, which is the hull of their union (no union needed)
    groups = known.groupby("_s").indices
    names, parts = sorted(groups), np.asarray(geoms)
    hulls = gpd.GeoSeries(
        [shapely.convex_hull(shapely.geometrycollections(list(parts[groups[n]]))) for n in names],
        index=pd.Index(names, name="_s"),
        crs=comm.crs,
    )
    area = shapely.area(geoms)
    h, c = shapely.STRtree(geoms).query(hulls.values, predicate="intersects")
    other = known["_s"].to_numpy()[c] != hulls.index.to_numpy()[h]
    h, c = h[other], c[other]
    shared = shapely.area(shapely.intersection(hulls.values[h], geoms[c]))
    crossing = set(hulls.index[h[shared > HULL_OVERLAP * area[c]]])
    keep = [name not in crossing for name in hulls.index]
    return hulls[keep], sorted(crossing)
