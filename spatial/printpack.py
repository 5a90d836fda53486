"""The bundle sheets of the print pack (片区图则): one A3 page per bundle with its outline over the
streets, its members, their gaps, partner parcels and the recommended sites in or near it, and a
member table (name, built, households, tier, gaps).

Text from the data enters through :func:`spatial.printtext.shown` (control and bidi characters as
escapes) and is drawn literally (the caller draws under ``printmap.print_style``: no mathtext);
names are cut to their cell and the description wrapped to its box (:mod:`spatial.printtext`).
Pages go into the caller's ``PdfPages``.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import shapely  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .messages import labels, render, text, tier_label  # noqa: E402
from .network import major_edges  # noqa: E402
from .printdraw import frame, lines, north_arrow, polygons, scale_bar  # noqa: E402
from .printtext import cut, fit, shown, wrap  # noqa: E402
from .runresult import RunResult  # noqa: E402
from .style import BUNDLE_COLOUR, SITE_COLOUR, gap_colour  # noqa: E402

PAGE_IN = (420 / 25.4, 297 / 25.4)
PAGE_PT = PAGE_IN[0] * 72  # the page width in points, for fitting text
MAP_BOX = (0.03, 0.05, 0.54, 0.80)
NEAR_M = 300.0  # sites and context drawn this far around a bundle
MAX_ROWS = 28  # member rows on one sheet; the rest are counted
PARTNER_COLOUR = "#e6550d"
MINOR, MAJOR = "#d0d0d0", "#9a9a9a"


def _street_classes(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    edges = result.network.edges
    major = major_edges(result.network, result.project.bundling.barrier_highways)
    geoms = edges.geometry.values
    return np.asarray(geoms[~major]), np.asarray(geoms[major])


def draw_streets(ax, result: RunResult, scale: float = 1.0, within=None) -> None:
    """The street network as two line collections (minor light, major darker); only the streets
    crossing ``within`` (a geometry) when given."""
    if result.network is None:
        return
    minor, major = _street_classes(result)
    if within is not None:
        minor = minor[shapely.intersects(minor, within)]
        major = major[shapely.intersects(major, within)]
    lines(ax, minor, MINOR, 0.4 * scale, zorder=1)
    lines(ax, major, MAJOR, 1.6 * scale, zorder=1)


def bundle_labels(ax, bundles, fontsize: float, colours: list[str] | None = None) -> None:
    """Each bundle's id at its centre (the centroid, or a point inside when that falls outside),
    framed in the bundle's colour when ``colours`` is given (pale colours stay legible)."""
    colours = colours or [BUNDLE_COLOUR] * len(bundles)
    for bid, geom, colour in zip(
        bundles["bundle_id"], bundles.geometry.values, colours, strict=True
    ):
        p = geom.centroid if geom.contains(geom.centroid) else geom.representative_point()
        ax.text(
            p.x,
            p.y,
            shown(bid),
            fontsize=fontsize,
            weight="bold",
            color=BUNDLE_COLOUR,
            ha="center",
            va="center",
            zorder=6,
            bbox={"fc": "white", "ec": colour, "lw": 1.5, "alpha": 0.85, "pad": 0.5},
        )


def _cat_names(keys: str, result: RunResult, lang: str) -> str:
    cats = result.standards.categories
    names = [
        shown(cats[k].label(lang) if k in cats else k) for k in str(keys or "").split(",") if k
    ]
    return labels(lang)["sep_list"].join(names) or labels(lang)["print_none"]


class _Context:
    """Lookups shared by all sheets: spatial indexes of streets, communities, parcels and sites."""

    def __init__(self, result: RunResult) -> None:
        self.result = result
        comm = result.communities
        self.comm_tree = shapely.STRtree(comm.geometry.values)
        if "bundle_id" in comm:  # each bundle's member rows, found once for all sheets
            ids = comm["bundle_id"].astype("string").fillna("")
            self.member_rows = ids.groupby(ids.to_numpy()).indices
        self.streets = _street_classes(result) if result.network is not None else None
        self.street_trees = tuple(shapely.STRtree(g) for g in self.streets or ())
        parcels = result.layers.parcels
        self.parcels = parcels.set_index(parcels["pid"].astype(str)) if len(parcels) else None
        sites = result.siting.sites if result.siting else None
        self.sites = sites if sites is not None and len(sites) else None
        if self.sites is not None:
            self.site_members = [set(str(v).split(",")) for v in self.sites["covered_ids"]]

    def streets_in(self, box) -> tuple[np.ndarray, np.ndarray]:
        if self.streets is None:
            return np.array([]), np.array([])
        return tuple(g[t.query(box)] for g, t in zip(self.streets, self.street_trees, strict=True))

    def sites_near(self, outline, members: set[str]):
        if self.sites is None:
            return None
        near = shapely.dwithin(self.sites.geometry.values, outline, NEAR_M)
        serves = np.array([bool(m & members) for m in self.site_members])
        return self.sites.loc[near | serves]


def _map(ax, ctx: _Context, bundle, members, partners, sites, lang: str) -> list:
    result = ctx.result
    lab = labels(lang)
    outline = bundle.geometry
    area = outline.buffer(NEAR_M)
    for part in (partners, sites):
        if part is not None and len(part):
            area = shapely.union(area, shapely.envelope(shapely.union_all(part.geometry.values)))
    frame(ax, area.bounds, margin=0.02)
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    box = shapely.box(x0, y0, x1, y1)
    minor, major = ctx.streets_in(box)
    lines(ax, minor, MINOR, 0.6, zorder=1)
    lines(ax, major, MAJOR, 2.0, zorder=1)
    comm = result.communities
    around = comm.iloc[ctx.comm_tree.query(box)]
    around = around.loc[~around["cid"].isin(members["cid"])]
    gaps = "gaps" in comm
    if len(around):
        fill = [gap_colour(g) for g in around["gaps"]] if gaps else "#c6dbef"
        polygons(ax, around.geometry.values, fill, "#777777", 0.3, zorder=2, alpha=0.35)
    fill = [gap_colour(g) for g in members["gaps"]] if gaps else "#9ecae1"
    polygons(ax, members.geometry.values, fill, "#222222", 0.6, zorder=3)
    lines(ax, [outline], BUNDLE_COLOUR, 2.6, zorder=6)
    handles = [Patch(fc="none", ec=BUNDLE_COLOUR, lw=2.6, label=lab["bundles"])]
    if partners is not None and len(partners):
        polygons(ax, partners.geometry.values, "none", PARTNER_COLOUR, 1.5, zorder=4, hatch="///")
        handles.append(
            Patch(fc="none", ec=PARTNER_COLOUR, hatch="///", label=lab["print_partner_land"])
        )
    if sites is not None and len(sites):
        unique = sites.drop_duplicates("pid")
        polygons(ax, unique.geometry.values, SITE_COLOUR, SITE_COLOUR, 0.8, zorder=5, alpha=0.6)
        for pid, geom in zip(unique["pid"], unique.geometry.values, strict=True):
            p = geom.representative_point()
            ax.text(
                p.x,
                p.y,
                shown(pid),
                fontsize=7,
                color=SITE_COLOUR,
                weight="bold",
                ha="center",
                va="bottom",
                zorder=8,
            )
        handles.append(Patch(fc=SITE_COLOUR, alpha=0.6, label=lab["sites"]))
    scale_bar(ax, fontsize=9)
    north_arrow(ax, fontsize=12)
    note = lab["print_colour_note"] if gaps else None
    ax.legend(
        handles=handles,
        loc="lower left",
        fontsize=8,
        frameon=True,
        framealpha=0.85,
        title=note,
        title_fontsize=8,
    )
    return handles


def _table(fig, members, result: RunResult, lang: str, top: float) -> float:
    """The member table as text columns; returns the height it took (figure fraction)."""
    lab = labels(lang)
    policy = result.project.policy
    cols = [
        (lab["name"], 0.60),
        (lab["built"], 0.70),
        (lab["households"], 0.765),
        (lab["tier"], 0.82),
        (lab["gaps"], 0.945),
    ]
    step = 0.0165
    rows = members.iloc[:MAX_ROWS]
    hh = rows["households"] if "households" in rows else pd.Series(index=rows.index)
    columns = [
        [
            cut(shown(v), 0.095 * PAGE_PT, 8.5) for v in rows["name"]
        ],  # each value on one line within its cell
        [
            cut(shown(v), 0.06 * PAGE_PT, 8.5)
            for v in rows.get("built_raw", pd.Series("", index=rows.index)).fillna("")
        ],
        ["" if pd.isna(v) else f"{int(v):,}" for v in hh],
        [
            cut(shown(tier_label(lang, v, policy)), 0.12 * PAGE_PT, 8.5)
            for v in rows.get("tier", [None] * len(rows))
        ],
        [shown(v) for v in rows.get("gaps", [""] * len(rows))],
    ]
    count = len(rows) + (len(members) > MAX_ROWS)
    if len(members) > MAX_ROWS:
        columns[0].append(text(lang, "print_more", count=len(members) - MAX_ROWS))
    # one multi-line text per column (text layout is the costly part of a page); matplotlib
    # spaces lines by the font's line height, the same in every column, so rows stay aligned
    for (head, x), values in zip(cols, columns, strict=True):
        fig.text(x, top, head, fontsize=8.5, weight="bold", va="top")
        fig.text(x, top - step, "\n".join(values), fontsize=8.5, va="top", linespacing=1.5)
    y = top - step * (count + 1)
    return top - y


def _facts(fig, ctx: _Context, bundle, partners, sites, lang: str, top: float) -> None:
    lab = labels(lang)
    result = ctx.result
    sep = lab["sep_list"]
    rows = [(lab["print_shared_gaps"], _cat_names(bundle["shared_gaps"], result, lang))]
    if partners is not None and len(partners):
        items = [
            f"{shown(pid)} {shown(kind)} {area:,.0f} m²"
            for pid, kind, area in zip(
                partners["pid"], partners["kind"], partners["area_m2"], strict=True
            )
        ]
        rows.append((lab["print_partners"], sep.join(items)))
    else:
        rows.append((lab["print_partners"], lab["print_none"]))
    if sites is not None and len(sites):
        items = []
        for pid, part in sites.groupby("pid", sort=False):
            names = _cat_names(",".join(part["category"].astype(str)), result, lang)
            colon = lab["sep_label"]
            items.append(
                f"{shown(pid)} {shown(part['kind'].iloc[0])} {part['area_m2'].iloc[0]:,.0f} m²{colon}{names}"
            )
        rows.append((lab["print_sites_near"], "\n".join(items[:8])))
    else:
        rows.append((lab["print_sites_near"], lab["print_none"]))
    y = top
    for k, (head, body) in enumerate(rows):
        fig.text(0.60, y, head, fontsize=10, weight="bold", va="top")
        room = (y - 0.018 - 0.03) / 0.016 - 2 * (len(rows) - 1 - k)  # lines left on the page
        wrapped = wrap(body, 92, max(int(room), 1))
        fig.text(0.60, y - 0.018, wrapped, fontsize=8.5, va="top", linespacing=1.4)
        y -= 0.018 + 0.016 * (wrapped.count("\n") + 1) + 0.012


def _sheet() -> plt.Figure:
    """The figure of a bundle sheet with its map axes; reused for every sheet of a run."""
    fig = plt.figure(figsize=PAGE_IN, dpi=100)
    fig.add_axes(MAP_BOX)
    return fig


def _wipe(fig) -> None:
    """Remove what the last sheet drew, keeping the figure and its axes (building them is a
    fifth of a sheet's time: ticks, spines, layout)."""
    ax = fig.axes[0]
    for artist in [*ax.artists, *ax.patches, *ax.texts, *ax.collections, *ax.lines, *fig.texts]:
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()


def bundle_page(ctx: _Context, bundle, lang: str, fig=None):
    """One bundle sheet as a matplotlib figure: drawn on ``fig`` (a :func:`_sheet`, wiped first)
    when given, else on a new one."""
    result = ctx.result
    comm = result.communities
    members = comm.iloc[ctx.member_rows.get(str(bundle["bundle_id"]), [])]
    partners = None
    if ctx.parcels is not None and bundle["partner_parcels"]:
        pids = [p for p in str(bundle["partner_parcels"]).split(",") if p in ctx.parcels.index]
        partners = ctx.parcels.loc[pids]
    sites = ctx.sites_near(bundle.geometry, set(members["cid"].astype(str)))
    if fig is None:
        fig = _sheet()
    else:
        _wipe(fig)
    bid = shown(bundle["bundle_id"])
    title = f"{shown(result.project.name)} — {text(lang, 'print_bundle_title', bundle=bid)}"
    title, size = fit(title, 22, 12, 0.94 * PAGE_PT, "bold")  # across the page: smaller, then cut
    fig.text(0.03, 0.965, title, fontsize=size, weight="bold", va="top")
    desc = bundle["description"] if lang == "zh" else bundle["description_en"]
    desc = shown(render(desc, lang))  # a Msg until the run is put in its language
    fig.text(0.03, 0.915, wrap(desc, 210, 3), fontsize=10, va="top", linespacing=1.4)
    _map(fig.axes[0], ctx, bundle, members, partners, sites, lang)
    fig.text(0.60, 0.855, labels(lang)["print_members"], fontsize=12, weight="bold", va="top")
    used = _table(fig, members, result, lang, 0.83)
    _facts(fig, ctx, bundle, partners, sites, lang, 0.83 - used - 0.02)
    return fig


def _bundles(result: RunResult):
    bundles = result.bundling.bundles if result.bundling else None
    if bundles is None or not len(bundles) or "bundle_id" not in result.communities:
        return None
    return bundles


def write_bundle_pages(pdf, result: RunResult, lang: str, rows: slice = slice(None)) -> int:
    """Append one sheet per bundle (those of ``rows``) to ``pdf`` (a ``PdfPages``), all drawn on
    one reused figure; returns the number of pages."""
    bundles = _bundles(result)
    if bundles is None:
        return 0
    bundles = bundles.iloc[rows]
    ctx = _Context(result)
    fig = _sheet()
    try:
        for _, bundle in bundles.iterrows():
            pdf.savefig(bundle_page(ctx, bundle, lang, fig))
    finally:
        plt.close(fig)
    return len(bundles)


#: from this many bundles on, the sheets are drawn by worker processes (when the platform can
#: fork: the workers share the run's result without copying it)
PARALLEL_FROM = 60
_JOB: tuple = ()  # (result, lang, print style) of the forked workers


def _worker(start: int, stop: int, target: str) -> int:
    from matplotlib.backends.backend_pdf import PdfPages

    result, lang, rc = _JOB
    with plt.rc_context(rc), PdfPages(target) as pdf:
        return write_bundle_pages(pdf, result, lang, slice(start, stop))


def start_bundle_pages(result: RunResult, lang: str, folder, rc: dict, workers: int | None = None):
    """Start drawing the bundle sheets in ``workers`` forked processes (default: the CPUs, at
    most 4), each into its own PDF in ``folder``; returns the futures of those PDFs' paths (in
    page order), or None when the sheets should be drawn in this process (few bundles, or no
    ``fork`` on this platform). Call before starting threads in this process."""
    import multiprocessing as mp
    import os
    from concurrent.futures import ProcessPoolExecutor

    global _JOB
    bundles = _bundles(result)
    workers = workers or min(os.cpu_count() or 1, 4)
    if bundles is None or len(bundles) < PARALLEL_FROM or workers < 2:
        return None
    if "fork" not in mp.get_all_start_methods():
        return None
    _JOB = (result, lang, rc)
    pool = ProcessPoolExecutor(workers, mp_context=mp.get_context("fork"))
    cuts = np.linspace(0, len(bundles), workers + 1).astype(int)
    futures = []
    for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        target = str(folder / f".bundles-{os.getpid()}-{k}.pdf")
        futures.append((pool.submit(_worker, int(a), int(b), target), target))
    pool.shutdown(wait=False)
    _JOB = ()
    return futures


def merge_pdfs(first, parts: list, target) -> None:
    """Write ``first`` followed by the ``parts`` PDFs into ``target`` (pypdf)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in [first, *parts]:
        writer.append(str(path))
    with open(target, "wb") as f:
        writer.write(f)
