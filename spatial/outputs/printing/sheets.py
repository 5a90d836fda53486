"""The bundle sheets of the print pack (片区图则): one A3 page per bundle with its outline over the
streets, its members, their gaps, partner parcels and the recommended sites in or near it, and a
member table (name, built, households, tier, gaps), drawn as PDF with fpdf2
(:mod:`spatial.outputs.printing.pdf`): a few milliseconds a sheet, so a city's hundreds of bundles do not
hold up the run.

Text from the data enters through :func:`spatial.text.printing.shown` (control and bidi characters as
escapes) and is drawn literally (fpdf2's text knows no markup); names are cut to their cell and
the description wrapped to its box (:mod:`spatial.text.printing`). A large run draws its sheets in
parts side by side (:mod:`spatial.workflow.write`), each into its own PDF; :func:`merge_pdfs` joins them
behind the print maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from spatial.analysis.result import RunResult
from spatial.core.messages import labels, render, text, tier_label
from spatial.network.graph import major_edges
from spatial.outputs.printing.pdf import A3_LANDSCAPE_PT, Sheets, View, fit_view
from spatial.outputs.style import BUNDLE_COLOUR, SITE_COLOUR, gap_colour
from spatial.text.printing import cut, fit, shown, wrap

PAGE_W, PAGE_H = A3_LANDSCAPE_PT
MAP_BOX = (0.03 * PAGE_W, 0.15 * PAGE_H, 0.54 * PAGE_W, 0.80 * PAGE_H)  # x, y (from the top), w, h
NEAR_M = 300.0  # sites and context drawn this far around a bundle
MAX_ROWS = 28  # member rows on one sheet; the rest are counted
ROW_PT = 0.0165 * PAGE_H  # a member table row
PARTNER_COLOUR = "#e6550d"
PARTNER_STYLE = {
    "fill": PARTNER_COLOUR,
    "edge": PARTNER_COLOUR,
    "width": 1.5,
    "dash": 4.0,
    "opacity": 0.25,
}
MINOR, MAJOR = "#d0d0d0", "#9a9a9a"
NAME_PT = 120.0  # the room of a parcel id or kind on a sheet (about 14 CJK characters)
SHEET_COLUMNS = ("cid", "name", "built_raw", "households", "tier", "gaps")


def _x(fraction: float) -> float:
    return fraction * PAGE_W


def _y(fraction: float) -> float:
    """A height on the page given from the bottom (as a figure fraction) in points from the top."""
    return (1 - fraction) * PAGE_H


def street_classes(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """The street network's geometries split into minor and major streets (drawn lighter and
    darker on every print map and sheet)."""
    edges = result.network.edges
    major = major_edges(result.network, result.project.bundling.barrier_highways)
    geoms = edges.geometry.values
    return np.asarray(geoms[~major]), np.asarray(geoms[major])


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
        drawn = [c for c in SHEET_COLUMNS if c in comm] + [comm.geometry.name]
        self.comm = comm[drawn]  # the columns a sheet reads: taken per sheet, not all ~100
        self.comm_tree = shapely.STRtree(comm.geometry.values)
        if "bundle_id" in comm:  # each bundle's member rows, found once for all sheets
            ids = comm["bundle_id"].astype("string").fillna("")
            self.member_rows = ids.groupby(ids.to_numpy()).indices
        self.streets = street_classes(result) if result.network is not None else None
        self.street_trees = tuple(shapely.STRtree(g) for g in self.streets or ())
        parcels = result.layers.parcels
        self.parcels = parcels.set_index(parcels["pid"].astype(str)) if len(parcels) else None
        sites = result.siting.sites if result.siting else None
        self.sites = sites if sites is not None and len(sites) else None
        if self.sites is not None:  # found by place and by the communities each serves
            self.site_tree = shapely.STRtree(self.sites.geometry.values)
            self.serving: dict[str, list[int]] = {}
            for row, ids in enumerate(self.sites["covered_ids"]):
                for cid in str(ids).split(","):
                    self.serving.setdefault(cid, []).append(row)

    def streets_in(self, box) -> tuple[np.ndarray, np.ndarray]:
        if self.streets is None:
            return np.array([]), np.array([])
        return tuple(g[t.query(box)] for g, t in zip(self.streets, self.street_trees, strict=True))

    def sites_near(self, outline, members: set[str]):
        if self.sites is None:
            return None
        rows = set(self.site_tree.query(outline, predicate="dwithin", distance=NEAR_M).tolist())
        for cid in members:
            rows.update(self.serving.get(cid, ()))
        return self.sites.iloc[sorted(rows)]  # in the sites' order


def _view(bundle, partners, sites) -> View:
    area = bundle.geometry.buffer(NEAR_M)
    for part in (partners, sites):
        if part is not None and len(part):
            area = shapely.union(area, shapely.envelope(shapely.union_all(part.geometry.values)))
    return fit_view(MAP_BOX, area.bounds, margin=0.02)


def _map(doc: Sheets, ctx: _Context, bundle, members, partners, sites, lang: str) -> None:
    lab = labels(lang)
    view = _view(bundle, partners, sites)
    box = shapely.box(*view.extent)
    comm = ctx.comm
    around = comm.iloc[ctx.comm_tree.query(box)]
    around = around.loc[~around["cid"].isin(members["cid"])]
    gaps = "gaps" in comm
    legend = [{"edge": BUNDLE_COLOUR, "width": 2.6, "label": lab["bundles"]}]
    with doc.clip(view):
        minor, major = ctx.streets_in(box)
        doc.lines(view, minor, MINOR, 0.6)
        doc.lines(view, major, MAJOR, 2.0)
        if len(around):
            fill = [gap_colour(g) for g in around["gaps"]] if gaps else "#c6dbef"
            doc.polygons(view, around.geometry.values, fill, "#777777", 0.3, opacity=0.35)
        fill = [gap_colour(g) for g in members["gaps"]] if gaps else "#9ecae1"
        doc.polygons(view, members.geometry.values, fill, "#222222", 0.6)
        has_partners = partners is not None and len(partners)
        if has_partners:
            doc.polygons(view, partners.geometry.values, PARTNER_COLOUR, None, opacity=0.25)
            legend.append({**PARTNER_STYLE, "label": lab["partner_parcels"]})
        if sites is not None and len(sites):
            _sites(doc, view, sites)
            legend.append({"fill": SITE_COLOUR, "opacity": 0.6, "label": lab["sites"]})
        if has_partners:  # over the sites: a partner parcel may also be a site
            doc.lines(view, partners.geometry.values, PARTNER_COLOUR, 1.5, dash=4.0)
        doc.lines(view, [bundle.geometry], BUNDLE_COLOUR, 2.6)
    doc.frame(view)
    doc.scale_bar(view, 9)
    doc.north_arrow(view, 12)
    doc.legend(view, legend, 8, title=lab["print_colour_note"] if gaps else None)


def _sites(doc: Sheets, view: View, sites) -> None:
    """The recommended sites, one outline and label per parcel."""
    unique = sites.drop_duplicates("pid")
    doc.polygons(view, unique.geometry.values, SITE_COLOUR, SITE_COLOUR, 0.8, opacity=0.6)
    points = shapely.get_coordinates(shapely.point_on_surface(unique.geometry.values))
    for pid, (x, y) in zip(unique["pid"], view.xy(points), strict=True):
        label = cut(shown(pid), NAME_PT, 7, measure=doc.width)
        doc.text(x, y - 9, label, 7, colour=SITE_COLOUR, bold=True, align="center")


def _name(doc: Sheets, value: object) -> str:
    """A parcel id or kind from the data in a list: cut to :data:`NAME_PT` with "…"."""
    return cut(shown(value), NAME_PT, 8.5, measure=doc.width)


def _table(doc: Sheets, members, result: RunResult, lang: str, top: float) -> float:
    """The member table; returns the height it took (points)."""
    lab = labels(lang)
    policy = result.project.policy
    cols = [
        (lab["name"], 0.60),
        (lab["built"], 0.70),
        (lab["households"], 0.765),
        (lab["tier"], 0.82),
        (lab["gaps"], 0.945),
    ]
    rows = members.iloc[:MAX_ROWS]
    hh = rows["households"] if "households" in rows else pd.Series(index=rows.index)
    built = rows.get("built_raw", pd.Series("", index=rows.index)).fillna("")
    tiers = rows.get("tier", [None] * len(rows))
    columns = [  # each value on one line within its cell
        [cut(shown(v), 0.095 * PAGE_W, 8.5, measure=doc.width) for v in rows["name"]],
        [cut(shown(v), 0.06 * PAGE_W, 8.5, measure=doc.width) for v in built],
        ["" if pd.isna(v) else f"{int(v):,}" for v in hh],
        [
            cut(shown(tier_label(lang, v, policy)), 0.12 * PAGE_W, 8.5, measure=doc.width)
            for v in tiers
        ],
        [shown(v) for v in rows.get("gaps", [""] * len(rows))],
    ]
    count = len(rows) + (len(members) > MAX_ROWS)
    if len(members) > MAX_ROWS:
        columns[0].append(text(lang, "print_more", count=len(members) - MAX_ROWS))
    for head, x in cols:  # in reading order, row by row: a copied row reads as one line
        doc.text(_x(x), top, head, 8.5, bold=True)
    for k in range(count):
        for (_, x), values in zip(cols, columns, strict=True):
            if k < len(values) and values[k]:
                doc.text(_x(x), top + ROW_PT * (k + 1), values[k], 8.5)
    return ROW_PT * (count + 1)


def _facts(doc: Sheets, ctx: _Context, bundle, partners, sites, lang: str, top: float) -> None:
    lab = labels(lang)
    result = ctx.result
    sep = lab["sep_list"]
    rows = [(lab["print_shared_gaps"], _cat_names(bundle["shared_gaps"], result, lang))]
    if partners is not None and len(partners):
        items = [
            f"{_name(doc, pid)} {_name(doc, kind)} {area:,.0f} m²"
            for pid, kind, area in zip(
                partners["pid"], partners["kind"], partners["area_m2"], strict=True
            )
        ]
        rows.append((lab["partner_parcels"], sep.join(items)))
    else:
        rows.append((lab["partner_parcels"], lab["print_none"]))
    if sites is not None and len(sites):
        items = []
        for pid, part in sites.groupby("pid", sort=False):
            names = _cat_names(",".join(part["category"].astype(str)), result, lang)
            colon = lab["sep_label"]
            items.append(
                f"{_name(doc, pid)} {_name(doc, part['kind'].iloc[0])} "
                f"{part['area_m2'].iloc[0]:,.0f} m²{colon}{names}"
            )
        rows.append((lab["print_sites_near"], "\n".join(items[:8])))
    else:
        rows.append((lab["print_sites_near"], lab["print_none"]))
    head_pt, line_pt, gap_pt = 0.018 * PAGE_H, 0.016 * PAGE_H, 0.012 * PAGE_H
    y = top
    for k, (head, body) in enumerate(rows):
        doc.text(_x(0.60), y, head, 10, bold=True)
        room = (PAGE_H - 0.03 * PAGE_H - y - head_pt) / line_pt - 2 * (len(rows) - 1 - k)
        wrapped = wrap(body, 92, max(int(room), 1))  # the lines left on the page
        doc.block(_x(0.60), y + head_pt, wrapped, 8.5, spacing=line_pt / 8.5)
        y += head_pt + line_pt * (wrapped.count("\n") + 1) + gap_pt


def bundle_page(ctx: _Context, bundle, lang: str, doc: Sheets) -> Sheets:
    """Draw one bundle sheet as a new page of ``doc``; returns ``doc`` (its ``texts`` are the
    page's texts with their boxes)."""
    result = ctx.result
    members = ctx.comm.iloc[ctx.member_rows.get(str(bundle["bundle_id"]), [])]
    partners = None
    if ctx.parcels is not None and bundle["partner_parcels"]:
        pids = [p for p in str(bundle["partner_parcels"]).split(",") if p in ctx.parcels.index]
        partners = ctx.parcels.loc[pids]
    sites = ctx.sites_near(bundle.geometry, set(members["cid"].astype(str)))
    doc.page()
    bid = shown(bundle["bundle_id"])
    title = f"{shown(result.project.name)} — {text(lang, 'print_bundle_title', bundle=bid)}"
    title, size = fit(title, 22, 12, 0.94 * PAGE_W, measure=doc.width)  # smaller, then cut
    doc.text(_x(0.03), _y(0.965), title, size, bold=True)
    desc = bundle["description"] if lang == "zh" else bundle["description_en"]
    desc = shown(render(desc, lang))  # a Msg until the run is put in its language
    doc.block(_x(0.03), _y(0.915), wrap(desc, 210, 3), 10)
    _map(doc, ctx, bundle, members, partners, sites, lang)
    doc.text(_x(0.60), _y(0.855), labels(lang)["print_members"], 12, bold=True)
    used = _table(doc, members, result, lang, _y(0.83))
    _facts(doc, ctx, bundle, partners, sites, lang, _y(0.83) + used + 0.02 * PAGE_H)
    return doc


def _bundles(result: RunResult):
    bundles = result.bundling.bundles if result.bundling else None
    if bundles is None or not len(bundles) or "bundle_id" not in result.communities:
        return None
    return bundles


def write_bundle_pages(
    target: str | Path, result: RunResult, lang: str, font: tuple[str, int], rows=slice(None)
) -> int:
    """Write one sheet per bundle (those of ``rows``) into the PDF ``target`` in ``font`` (path,
    face index: :func:`spatial.text.printing.font_file`); returns the number of pages (none, and no
    file, when the run has no bundles)."""
    bundles = _bundles(result)
    if bundles is None:
        return 0
    bundles = bundles.iloc[rows]
    ctx = _Context(result)
    doc = Sheets(font)
    for _, bundle in bundles.iterrows():
        bundle_page(ctx, bundle, lang, doc)
    doc.save(target)
    return len(bundles)


def bundle_count(result: RunResult) -> int:
    """How many sheets :func:`write_bundle_pages` draws for the whole run."""
    bundles = _bundles(result)
    return 0 if bundles is None else len(bundles)


def merge_pdfs(first, parts: list, target, outline: PackOutline | None = None) -> None:
    """Write ``first`` followed by the ``parts`` PDFs (those that exist) into ``target`` (pypdf);
    with ``outline`` the document's title and subject, and its bookmarks: one per map page, then
    the bundle sheets under one parent, one each (a PDF reader's sidebar)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for path in [first, *parts]:
        if Path(path).exists():
            writer.append(str(path))
    if outline is not None:
        _outline(writer, outline)
    with open(target, "wb") as f:
        writer.write(f)


@dataclass(frozen=True)
class PackOutline:
    """What the print pack's PDF says about itself: ``title``, ``subject``, the map pages'
    bookmark titles (overview, groups) and the bundle sheets' (under ``sheets_title``)."""

    title: str
    subject: str
    maps: list[str]
    sheets_title: str
    sheets: list[str]


def pack_outline(result: RunResult, lang: str, maps: list[str]) -> PackOutline:
    """The :class:`PackOutline` of ``result`` in ``lang``; ``maps`` the map pages' titles."""
    bundles = _bundles(result)
    ids = [] if bundles is None else [shown(b) for b in bundles["bundle_id"]]
    return PackOutline(
        title=shown(result.project.name),
        subject=text(lang, "print_pdf_subject"),
        maps=maps,
        sheets_title=text(lang, "print_outline_sheets", count=len(ids)),
        sheets=[text(lang, "print_bundle_title", bundle=b) for b in ids],
    )


def _outline(writer, outline: PackOutline) -> None:
    writer.add_metadata(
        {"/Title": outline.title, "/Subject": outline.subject, "/Creator": "lifecircle"}
    )
    writer.page_mode = "/UseOutlines"  # the reader opens with the bookmarks shown
    pages = len(writer.pages)
    for k, title in enumerate(outline.maps[:pages]):
        writer.add_outline_item(title=title, page_number=k)
    start = len(outline.maps)
    if outline.sheets and start < pages:
        parent = writer.add_outline_item(title=outline.sheets_title, page_number=start)
        for k, title in enumerate(outline.sheets[: pages - start]):
            writer.add_outline_item(title=title, page_number=start + k, parent=parent)
