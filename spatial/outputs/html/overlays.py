"""The overlay layers of the HTML maps with their legend rows: facilities per category (store
data thinned by zoom in ``maps.js``), capacity (2SFCA supply ratio), subdistrict outlines, and the outline
layer they share (the service areas: :mod:`spatial.outputs.html.areas`). :mod:`spatial.outputs.html.contents` lays them out on the overview and the group maps.

Every text from the data enters through :mod:`spatial.outputs.html.leaflet` (``fragment``/``esc``).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely

from spatial.analysis.result import RunResult
from spatial.core.messages import labels, text
from spatial.core.problems import problem
from spatial.outputs.html.leaflet import (
    display_frame,
    features,
    geojson,
    icon_html,
    legend_html,
    run_cached,
)
from spatial.outputs.html.store import SCALE
from spatial.outputs.style import category_colour, subdistrict_hulls
from spatial.text.html import Html, esc, fragment


def outline_features(
    frame: gpd.GeoDataFrame, tips: list[Html], basemap: str, tolerance: float = 4.0
) -> dict:
    """The GeoJSON of an outline layer: ``frame`` as display lines with tooltips ``tips``."""
    disp = display_frame(frame, basemap, tolerance=tolerance)
    return features(disp.geometry, {"tip": tips})


def outline_layer(
    data: dict,
    name: str,
    colour: str,
    show: bool = True,
    fill: float = 0.0,
    weight: float = 2.5,
    dash: str = "6 4",
) -> folium.GeoJson:
    """An outline layer of :func:`outline_features` ``data``."""
    return geojson(
        data,
        name,
        tooltip="tip",
        show=show,
        style_function=lambda _f: {
            "color": colour,
            "weight": weight,
            "fillColor": colour,
            "fillOpacity": fill,
            "fill": fill > 0,
            "dashArray": dash,
        },
    )


#: how much of a drawn icon or label another may cover: at every zoom ``maps.js`` draws the
#: facility icons and bundle labels in priority order, each only where it covers at most this share
#: of the smaller box of one already drawn (the others counted in a badge on it). For the 18 px
#: icons a strip of one pixel; two discs whose boxes meet corner to corner (4 × 4 px) do not touch
ICON_OVERLAP = 0.05


def facility_store(
    result: RunResult, lang: str, basemap: str, origin: np.ndarray, keys: set[str]
) -> tuple[list[dict], list[tuple]]:
    """The facilities of the categories ``keys`` as store data that ``maps.js`` draws as category
    icons (a disc in the category's colour with its glyph), thinned by zoom: per category
    ``name`` (the layer control's), ``label``, ``icon`` (its HTML), ``xy`` (flat delta list in
    1e-5° from ``origin``, :func:`point_deltas`) and ``names`` (escaped); and the legend rows,
    ``(ref, (colour, text, glyph))`` with ``ref`` ``lc:fac<j>``."""
    fac = result.layers.facilities
    store, legend = [], []
    for i, (key, cat) in enumerate(result.standards.categories.items()):
        pts = fac.loc[fac["category"] == key]
        if key not in keys or len(pts) == 0:
            continue
        colour, label, glyph = category_colour(i), cat.label(lang), cat.glyph(lang)
        xy = run_cached(
            result,
            ("facility_xy", key, basemap, tuple(origin)),
            lambda pts=pts: point_deltas(display_frame(pts, basemap), origin),
        )
        legend.append((f"lc:fac{len(store)}", (colour, f"{label} ({len(pts)})", glyph)))
        store.append(
            {
                "name": str(esc(f"{labels(lang)['facilities']}: {label}")),
                "label": str(esc(label)),
                "icon": str(icon_html(colour, glyph)),
                "xy": xy,
                "names": [str(esc(n)) for n in pts["name"]],
            }
        )
    return store, legend


def point_deltas(points: gpd.GeoDataFrame, origin: np.ndarray) -> list[int]:
    """Lon/lat ``points`` as one flat list ``[x0, y0, dx1, dy1, …]`` in integer units of 1e-5°,
    the first from ``origin``, each next from the one before (small numbers in JSON)."""
    q = np.round(shapely.get_coordinates(points.geometry.values) * SCALE).astype(np.int64)
    q -= np.asarray(origin, np.int64)
    q[1:] -= q[:-1].copy()
    return q.ravel().tolist()


#: supply-ratio classes of the capacity layers: (upper bound of ratio, colour, message key);
#: orange to blue (PuOr ends), apart for colour-blind readers and in lightness (CIE L* 47, 79, 58)
CAPACITY_CLASSES = (
    (0.5, "#b35806", "< 50%"),
    (1.0, "#fdb863", "50–100%"),
    (float("inf"), "#4393c3", "≥ 100%"),
)
CAPACITY_GAP, CAPACITY_UNKNOWN = "#bdbdbd", "#f7f7f7"


def capacity_layers(result: RunResult, lang: str) -> tuple[list[dict], list[dict]]:
    """Per category with an indicator: communities coloured by their 2SFCA supply ratio against
    the target (layers off by default), as store data drawn by ``maps.js`` from the shared
    community outlines when a layer is first shown (one more copy of every outline per category
    made the overview of a large city several times its size); and their legend entries
    (``lc:cap<k>``), shown while a layer is on.

    Each entry: ``name``, ``colours`` (the classes), per community ``cls`` (class index),
    ``ratio`` (whole percent, -1 unknown) and ``short`` (shortfall, -1 unknown), and ``tip``, the
    escaped catalogue tooltip with ``@@N@@``, ``@@R@@``, ``@@S@@`` where the page puts the
    community's name, ratio and shortfall."""
    block = (result.summary.get("capacity") or {}).get("categories", {})
    comm = result.communities
    keys = [k for k in block if f"{k}_ratio" in comm]
    if not keys:
        return [], []
    items = [(c, name) for _, c, name in CAPACITY_CLASSES]
    items += [(CAPACITY_GAP, text(lang, "cap_gap")), (CAPACITY_UNKNOWN, text(lang, "cap_unknown"))]
    colours = [c for _, c, _ in CAPACITY_CLASSES] + [CAPACITY_GAP, CAPACITY_UNKNOWN]
    store, legend = [], []
    for j, key in enumerate(keys):
        info, label = block[key], result.standards.categories[key].label(lang)
        unit = info["supply_unit"] if lang == "zh" else info["supply_unit_en"]
        ratio = comm[f"{key}_ratio"].to_numpy(float)
        short = comm[f"{key}_short"].to_numpy(float)
        known = np.isfinite(ratio)
        cls = np.searchsorted([top for top, _, _ in CAPACITY_CLASSES], np.where(known, ratio, 0))
        cls = np.where(known, cls, len(colours) - 1)
        cls = np.where(comm[f"{key}_state"].to_numpy() == "gap", len(colours) - 2, cls)
        marks = {"name": "@@N@@", "ratio": "@@R@@", "short": "@@S@@"}
        tip = text(lang, "cap_tooltip", category=label, unit=unit, **marks)
        store.append(
            {
                "name": str(esc(text(lang, "cap_layer", category=label))),
                "colours": colours,
                "cls": cls.astype(int).tolist(),
                "ratio": np.where(known, np.round(np.nan_to_num(ratio) * 100), -1)
                .astype(int)
                .tolist(),
                "short": np.where(np.isfinite(short), np.round(np.nan_to_num(short)), -1)
                .astype(int)
                .tolist(),
                "tip": str(esc(tip)),
            }
        )
        title = f"{text(lang, 'cap_ratio')}: {label}"
        legend.append({"ref": f"lc:cap{j}", "html": str(section(title, items))})
    return store, legend


def section(title: str, items: list[tuple]) -> Html:
    return fragment("<div class=lc-leg>{}</div>", legend_html(title, items))


def subdistrict_layer(fmap: folium.Map, result: RunResult, lang: str, basemap: str) -> list[dict]:
    """Subdistrict (街道) outlines from ``[subdistricts]``; without them, the hull of their
    communities drawn as approximate (thin dotted, "approximate" in name and legend)."""
    lab = labels(lang)
    given = result.layers.subdistricts
    if given is not None and len(given):
        data = outline_features(given, [esc(v) for v in given["name"]], basemap)
        layer = outline_layer(data, lab["subdistrict"], "#525252")
        layer.add_to(fmap)
        return [{"ref": layer.get_name(), "html": section("", [("#525252", lab["subdistrict"])])}]
    hulls, crossing = subdistrict_hulls(result.communities)
    if crossing and not any(p.code == "subdistrict_hull_crosses" for p in result.layers.problems):
        result.layers.problems.append(problem("subdistrict_hull_crosses", "subdistricts", crossing))
    if not len(hulls):
        return []
    frame = gpd.GeoDataFrame(geometry=hulls.values, crs=result.communities.crs)
    name = lab["subdistrict_approx"]
    tips = [fragment("{} ({})", esc(s), name) for s in hulls.index]
    data = outline_features(frame, tips, basemap)
    layer = outline_layer(data, name, "#737373", weight=1.2, dash="1 5")
    layer.add_to(fmap)
    row = fragment(
        '<div class=lc-leg><span style="display:inline-block;width:14px;height:10px;'
        'border:1.5px dotted #737373"></span> {}</div>',
        name,
    )
    return [{"ref": layer.get_name(), "html": row}]
