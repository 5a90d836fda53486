"""How the GeoPackage's layers are drawn: each layer's :class:`~spatial.outputs.gpkg.symbology.Style`
as the tool's own maps draw it, their drawing order and which are shown when the GeoPackage's
QGIS project opens (:data:`DRAW_ORDER`, :data:`HIDDEN`), and everything written beside the
layers (:class:`LayerLook`).

Communities are filled by their number of gaps (:data:`~spatial.outputs.style.GAP_COLOURS`, the
legend's classes), outlined solid black when old (eligible) and thin grey dashed otherwise —
three channels that do not mix, with the bundles' dashed outlines over them; facilities and
service areas take their category's colour (the service areas translucent, under every point
and outline); sites are filled purple, candidate land is outlined grey dashed.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from spatial.analysis.result import RunResult
from spatial.core.messages import labels, text
from spatial.outputs import style
from spatial.outputs.gpkg import symbology
from spatial.outputs.gpkg.symbology import Style, Sym
from spatial.outputs.gpkg.titles import field_titles, value_words

#: the layers top to bottom: the order they are written in and the QGIS project's layer order
DRAW_ORDER = (
    "facilities",
    "sites",
    "bundles",
    "parcels",
    "programmes",
    "service_areas",
    "priority",
    "plan",
    "communities",
)
#: layers the project opens unticked: each would cover the communities' gap colours
HIDDEN = ("programmes", "service_areas", "priority", "plan")
#: the geometry type of each layer, also when it is empty
GEOMETRY = {name: "MultiPolygon" for name in DRAW_ORDER} | {"facilities": "Point"}
#: the type of each number column a layer may hold, for a layer written with no rows (a frame
#: with no rows cannot tell; a column not listed is text)
FIELD_TYPES = {
    **dict.fromkeys(("rank", "new_households", "new_communities", "n_facilities", "members",
                     "new_full_households", "priority_members", "gaps", "year"), "int64"),
    **dict.fromkeys(("area_m2", "land_m2", "floor_m2", "land_used_m2", "floor_used_m2",
                     "shortfall_units", "size_units", "shortfall_closed", "shortfall_left",
                     "households", "floor_area_m2", "span_m", "score", "built_from",
                     "built_to"), "float64"),
}  # fmt: skip
FID = "fid"  # the GeoPackage's row id, the first field QGIS shows
OLD_TIERS = style.OLD_TIERS
OTHER_TIERS = ("not_eligible", "unknown")


@dataclass(frozen=True)
class LayerLook:
    """What is written beside a layer's rows.

    Attributes
    ----------
    title : str
        The layer's name for a planner (the project's layer tree, the style's description).
    style : Style
    qml, sld : str
        The style for QGIS and for SLD readers.
    titles : dict
        Field → title.
    geometry : str
        The layer's geometry type (``MultiPolygon``, ``Point``).
    types : dict
        Column → dtype of its number columns (:data:`FIELD_TYPES`), for a layer with no rows.
    """

    title: str
    style: Style
    qml: str
    sld: str
    titles: dict[str, str]
    geometry: str
    types: dict[str, str]


def _communities(frame: gpd.GeoDataFrame, lang: str) -> Style:
    words = labels(lang)
    last = len(style.GAP_COLOURS) - 1
    gaps = [
        (("ge" if i == last else "eq", "gaps", i), label, Sym(fill=colour, fill_alpha=0.7, stroke=None))
        for i, (colour, label) in enumerate(style.gap_legend(lang))
    ]  # fmt: skip
    if "tier" not in frame:
        return Style("rules", [*gaps, (("ge", "gaps", 0), words["communities"], Sym())])
    outlines = [
        (("in", "tier", OLD_TIERS), words["eligible_outline"], Sym(stroke=style.OLD_OUTLINE.colour, width=0.5)),
        (("in", "tier", OTHER_TIERS), words["new_outline"],
         Sym(stroke=style.OTHER_OUTLINE.colour, width=0.2, dash=True)),
    ]  # fmt: skip
    return Style("rules", gaps + outlines)


def _by_category(result: RunResult, lang: str, area: bool) -> Style:
    classes = []
    for k, (key, cat) in enumerate(result.standards.categories.items()):
        colour = style.category_colour(k)
        sym = (
            Sym(fill=colour, fill_alpha=0.15, stroke=colour, width=0.4, dash=True)
            if area
            else Sym("marker", fill=colour, stroke="#ffffff", width=0.2, size=2.6)
        )
        classes.append((key, cat.label(lang), sym))
    return Style("categories", classes, field="category")


def _plan(result: RunResult, lang: str) -> Style:
    years = result.plan.years["year"].tolist() if result.plan is not None else []
    classes = [
        (
            str(y),
            text(lang, "plan_map_year", year=y),
            Sym(fill=colour, fill_alpha=0.7, stroke="#555555", width=0.2),
        )
        for y, colour in zip(years, style.year_colours(len(years)), strict=True)
    ]  # the years' colours of the HTML and print maps
    reserve = Sym(fill=style.RESERVE_COLOUR, fill_alpha=0.7, stroke="#555555", width=0.2)
    return Style("categories", [*classes, ("", text(lang, "plan_map_reserve"), reserve)], "year")


def _style(name: str, frame: gpd.GeoDataFrame, result: RunResult, lang: str) -> Style:
    words, values = labels(lang), labels(lang)["ledger"]["values"]
    if name == "communities":
        return _communities(frame, lang)
    if name in ("facilities", "service_areas"):
        return _by_category(result, lang, area=name == "service_areas")
    if name == "sites":
        site = Sym(fill=style.SITE_COLOUR, fill_alpha=0.6, stroke=style.SITE_COLOUR, width=0.6)
        return Style("single", [(None, text(lang, "site_outline"), site)])
    if name == "bundles":
        line = Sym(
            stroke=style.BUNDLE_COLOUR, width=0.7, dash=True, outside_m=style.BUNDLE_OFFSET_M
        )
        return Style("single", [(None, words["bundles"], line)], label_field="bundle_id",
                     label_colour=style.BUNDLE_COLOUR)  # fmt: skip
    if name == "programmes":
        picked = Sym(stroke=style.SITE_COLOUR, width=0.6)
        other = Sym(stroke=style.CANDIDATE_COLOUR, width=0.3, dash=True)
        status = values["status"]
        return Style("categories", [("picked", status["picked"], picked),
                                    ("not picked", status["not picked"], other)], "status")  # fmt: skip
    if name == "priority":
        line = Sym(stroke=style.TIER_COLOURS["priority"], width=0.3)
        return Style("single", [(None, title(name, lang), line)], label_field="rank",
                     label_colour=style.TIER_COLOURS["priority"])  # fmt: skip
    if name == "plan":
        return _plan(result, lang)
    line = Sym(stroke=style.CANDIDATE_COLOUR, width=0.35, dash=True)  # parcels, and any other
    return Style("single", [(None, title(name, lang), line)])


def title(name: str, lang: str) -> str:
    """A layer's name for a planner in ``lang`` (its table name when the catalogue has none)."""
    words, sheets = labels(lang), labels(lang)["ledger"]["sheets"]
    known = {k: words[k] for k in ("communities", "facilities", "service_areas", "bundles", "sites", "parcels")}  # fmt: skip
    known |= {k: sheets[k] for k in ("programmes", "priority", "plan")}
    return known.get(name, name)


def looks(
    layers: dict[str, gpd.GeoDataFrame], result: RunResult, lang: str
) -> dict[str, LayerLook]:
    """Each layer's look in ``lang``: its style (QML, SLD), field titles and geometry type.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        The frames written (their columns are the fields titled).
    result : RunResult
    lang : str

    Returns
    -------
    dict of str to LayerLook
    """
    words = value_words(result, lang)
    out = {}
    for name, frame in layers.items():
        columns = [FID, *(c for c in frame.columns if c != frame.geometry.name)]
        titles = field_titles(columns, result, lang, name)
        spec = _style(name, frame, result, lang)
        shown = {c: words[c] for c in columns if c in words}
        out[name] = LayerLook(
            title=title(name, lang),
            style=spec,
            qml=symbology.qml(spec, columns, titles, shown),
            sld=symbology.sld(spec, name, title(name, lang)),
            titles=titles,
            geometry=GEOMETRY.get(name, "Unknown"),
            types={c: FIELD_TYPES[c] for c in columns if c in FIELD_TYPES},
        )
    return out


def in_drawing_order(layers: dict) -> dict:
    """``layers`` top to bottom (:data:`DRAW_ORDER`; any other layer after them)."""
    rank = {name: k for k, name in enumerate(DRAW_ORDER)}
    return dict(sorted(layers.items(), key=lambda item: rank.get(item[0], len(rank))))
