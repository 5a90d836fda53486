"""The region's overview map (``overview.html`` beside a batch's project folders): each
project's outline (the hull of its communities) coloured by its headline figure — the share fully
covered now — with its figures and a link to that project's own ``overview.html``. Drawn with
the Leaflet primitives (:mod:`spatial.outputs.html.leaflet`: vendored Leaflet, no CDN); every
text from the data through the one HTML door (:mod:`spatial.text.html`)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import geopandas as gpd
import shapely

from spatial.core.messages import text
from spatial.outputs.html.leaflet import (
    add_panel,
    display_frame,
    feature_group,
    features,
    geojson,
    legend_html,
    new_map,
    save_map,
)
from spatial.outputs.style import share_text
from spatial.text.html import Html, fragment

#: headline classes (share fully covered now): upper bounds and colours, red to green; the
#: last class starts at the national target (85 %)
BREAKS = (0.2, 0.4, 0.6, 0.85, float("inf"))
COLOURS = ("#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850")
NO_FIGURE = "#bdbdbd"
BASEMAP = "cartodb"  # the projects' default basemap ([render] basemap)


def headline_colour(share: float | None) -> str:
    """The colour of a headline share (grey when there is none)."""
    if share is None:
        return NO_FIGURE
    return next(c for b, c in zip(BREAKS, COLOURS, strict=True) if share < b)


def _legend(lang: str) -> Html:
    lows = (0.0, *BREAKS[:-1])
    items = []
    for k, colour in enumerate(COLOURS):
        high = share_text(BREAKS[k]) if BREAKS[k] != float("inf") else "100%"
        items.append((colour, f"{share_text(lows[k])} – {high}"))
    return legend_html(text(lang, "region_map_legend"), items)


def _cards(records: list[dict], lang: str) -> tuple[list[Html], list[Html]]:
    """Tooltips (name and headline) and popups (figures and the link to the project's map)."""
    tips, pops = [], []
    for r in records:
        now, after = r["full_coverage_now"], r["full_coverage_after"]
        tips.append(fragment("<b>{}</b> {}", r["name"], share_text(now)))
        link = f"{quote(r['folder'])}/overview.html"
        pops.append(
            fragment(
                '<div class="lc-card"><b>{}</b><br>{}<br>{}<br><a href="{}" target="_blank">{}</a></div>',
                r["name"],
                text(lang, "region_map_figures", communities=r["communities"] or 0),
                text(lang, "region_map_coverage", now=share_text(now), after=share_text(after)),
                link,
                text(lang, "region_map_open"),
            )
        )
    return tips, pops


def write_region_map(
    target: Path, region: str, projects: list[dict], outlines: list[dict | None], lang: str
) -> Path:
    """Write the region's overview map to ``target``.

    Parameters
    ----------
    target : Path
    region : str
        The region's name (the title).
    projects : list of dict
        The projects' entries of the region's ``summary.json`` (name, folder, figures).
    outlines : list of dict or None
        Each project's outline as a lon/lat GeoJSON geometry (None: not drawn).
    lang : str
    """
    shown = [(p, o) for p, o in zip(projects, outlines, strict=True) if o is not None]
    geoms = [shapely.geometry.shape(o) for _, o in shown]
    frame = gpd.GeoDataFrame(geometry=geoms, crs=4326)
    frame = display_frame(frame, BASEMAP, tolerance=0)
    bounds = frame.total_bounds if len(frame) else (116.9, 36.6, 117.1, 36.7)
    fmap = new_map(bounds, BASEMAP)
    records = [p for p, _ in shown]
    tips, pops = _cards(records, lang)
    colours = [headline_colour(p["full_coverage_now"]) for p in records]
    data = features(frame.geometry, {"tip": tips, "pop": pops}, {"colour": colours})
    group = feature_group(text(lang, "region_map_layer"))
    geojson(
        data,
        text(lang, "region_map_layer"),
        tooltip="tip",
        popup="pop",
        style_function=lambda f: {
            "color": "#333333",
            "weight": 2,
            "fillColor": f["properties"]["colour"],
            "fillOpacity": 0.55,
        },
    ).add_to(group)
    group.add_to(fmap)
    title = fragment("<b>{}</b><br>{}", region, text(lang, "region_map_title"))
    add_panel(fmap, title, "top:10px;left:60px", "lc-title")
    add_panel(fmap, _legend(lang), "bottom:30px;right:10px", "lc-legend")
    return save_map(fmap, target)
