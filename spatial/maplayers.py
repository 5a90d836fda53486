"""The overlay layers of the HTML maps, each a folium layer with its legend rows: facilities per
category, service areas, capacity (2SFCA supply ratio), subdistrict outlines, and the outline
layer they share. :mod:`spatial.maps` lays them out on the overview and the group maps.

Every text from the data enters through :mod:`spatial.render` (``fragment``/``esc``).
"""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from .messages import labels, text
from .problems import problem
from .render import (
    Html,
    add_points,
    display_frame,
    esc,
    feature_group,
    features,
    fragment,
    geojson,
    legend_html,
)
from .style import category_colour, subdistrict_hulls


def outline_layer(
    frame: gpd.GeoDataFrame,
    tips: list[Html],
    basemap: str,
    name: str,
    colour: str,
    show: bool = True,
    fill: float = 0.0,
    weight: float = 2.5,
    dash: str = "6 4",
    tolerance: float = 4.0,
) -> folium.GeoJson:
    disp = display_frame(frame, basemap, tolerance=tolerance)
    return geojson(
        features(disp.geometry, {"tip": tips}),
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


def facility_groups(fmap, result, lang, basemap, keys) -> list[tuple[str, tuple]]:
    fac = result.layers.facilities
    legend = []
    for i, (key, cat) in enumerate(result.standards.categories.items()):
        if key not in keys:
            continue
        pts = fac.loc[fac["category"] == key]
        colour = category_colour(i)
        label = cat.label(lang)
        if len(pts) == 0:
            continue
        group = feature_group(f"{labels(lang)['facilities']}: {label}")
        legend.append((group.get_name(), (colour, f"{label} ({len(pts)})", cat.icon)))
        tips = [fragment("{} ({})", esc(n), label) for n in pts["name"]]
        add_points(group, display_frame(pts, basemap), colour, cat.icon, tips)
        group.add_to(fmap)
    return legend


def service_layers(fmap, result, lang, basemap, keys, show) -> list[dict]:
    """Service areas per category (folium layers); legend entries keyed by their layer."""
    areas = result.layers_out.get("service_areas")
    legend: list[dict] = []
    if areas is None or len(areas) == 0:
        return legend
    for i, key in enumerate(result.standards.categories):
        sel = areas.loc[areas["category"] == key]
        if key not in keys or len(sel) == 0:
            continue
        label = result.standards.categories[key].label(lang)
        name = f"{labels(lang)['service_areas']}: {label} {sel['radius_m'].iloc[0]:.0f} m"
        tips = [esc(name)] * len(sel)
        layer = outline_layer(
            sel, tips, basemap, name, category_colour(i), show=show, fill=0.15, tolerance=8.0
        )
        layer.add_to(fmap)
        legend.append(
            {"ref": layer.get_name(), "html": str(section("", [(category_colour(i), name)]))}
        )
    return legend


#: supply-ratio classes of the capacity layers: (upper bound of ratio, colour, message key)
CAPACITY_CLASSES = (
    (0.5, "#d7301f", "< 50%"),
    (1.0, "#fdae61", "50–100%"),
    (float("inf"), "#1a9850", "≥ 100%"),
)
CAPACITY_GAP, CAPACITY_UNKNOWN = "#bdbdbd", "#f7f7f7"


def capacity_layers(fmap, result, lang: str, basemap: str) -> list[dict]:
    """Per category with an indicator: communities coloured by their 2SFCA supply ratio against
    the target (layers off by default); their legend entries show while a layer is on."""
    block = (result.summary.get("capacity") or {}).get("categories", {})
    comm = result.communities
    keys = [k for k in block if f"{k}_ratio" in comm]
    legend: list[dict] = []
    if not keys:
        return legend
    items = [(c, name) for _, c, name in CAPACITY_CLASSES]
    items += [(CAPACITY_GAP, text(lang, "cap_gap")), (CAPACITY_UNKNOWN, text(lang, "cap_unknown"))]

    def colour(ratio: float, state: str) -> str:
        if state == "gap":
            return CAPACITY_GAP
        if pd.isna(ratio):
            return CAPACITY_UNKNOWN
        return next(c for top, c, _ in CAPACITY_CLASSES if ratio < top)

    disp = display_frame(comm, basemap)
    for key in keys:
        info, label = block[key], result.standards.categories[key].label(lang)
        unit = info["supply_unit"] if lang == "zh" else info["supply_unit_en"]
        tips = [
            esc(
                text(
                    lang,
                    "cap_tooltip",
                    name=n,
                    category=label,
                    ratio="—" if pd.isna(r) else f"{r:.0%}",
                    short="—" if pd.isna(s) else f"{s:,.0f}",
                    unit=unit,
                )
            )
            for n, r, s in zip(
                comm["name"], comm[f"{key}_ratio"], comm[f"{key}_short"], strict=True
            )
        ]
        colours = [
            colour(r, st) for r, st in zip(comm[f"{key}_ratio"], comm[f"{key}_state"], strict=True)
        ]
        layer = geojson(
            features(disp.geometry, {"tip": tips}, {"colour": colours}),
            text(lang, "cap_layer", category=label),
            tooltip="tip",
            show=False,
            style_function=lambda f: {
                "fillColor": f["properties"]["colour"],
                "color": "#555",
                "weight": 0.6,
                "fillOpacity": 0.75,
            },
        )
        layer.add_to(fmap)
        title = f"{text(lang, 'cap_ratio')}: {label}"
        legend.append({"ref": layer.get_name(), "html": str(section(title, items))})
    return legend


def section(title: str, items: list[tuple]) -> Html:
    return fragment("<div class=lc-leg>{}</div>", legend_html(title, items))


def subdistrict_layer(fmap, result, lang, basemap) -> list[dict]:
    """Subdistrict (街道) outlines from ``[subdistricts]``; without them, the hull of their
    communities drawn as approximate (thin dotted, "approximate" in name and legend)."""
    lab = labels(lang)
    given = result.layers.subdistricts
    if given is not None and len(given):
        tips = [esc(v) for v in given["name"]]
        layer = outline_layer(given, tips, basemap, lab["subdistrict"], "#525252")
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
    layer = outline_layer(frame, tips, basemap, name, "#737373", weight=1.2, dash="1 5")
    layer.add_to(fmap)
    row = fragment(
        '<div class=lc-leg><span style="display:inline-block;width:14px;height:10px;'
        'border:1.5px dotted #737373"></span> {}</div>',
        name,
    )
    return [{"ref": layer.get_name(), "html": row}]
