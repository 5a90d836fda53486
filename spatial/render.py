"""Interactive HTML maps (folium) that open offline: Leaflet and plugins are inlined."""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import tomllib
from functools import cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import FastMarkerCluster

from . import crs as crsmod
from . import io, settings
from .errors import InputError
from .messages import labels

GAP_COLOURS = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"]
TIER_COLOURS = {"priority": "#b2182b", "standard": "#ef8a62", "not_eligible": "#bdbdbd",
                "unknown": "#7570b3"}  # fmt: skip
CATEGORY_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628",
                    "#f781bf", "#999999", "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3", "#a6d854"]  # fmt: skip
CLUSTER_ABOVE = 300
_VENDOR = settings.DATA_DIR / "vendor"
_JS = [("leaflet", "vendor:leaflet.js")]
_CSS = [("leaflet_css", "vendor:leaflet.css")]


@cache
def basemaps() -> dict[str, dict]:
    return tomllib.loads((settings.DATA_DIR / "basemaps.toml").read_text("utf-8"))


def esc(value: object) -> str:
    """HTML-escape a value from the data (None/NaN → empty)."""
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _vendor_text(name: str) -> str:
    text = (_VENDOR / name).read_text("utf-8")
    if name.endswith(".css"):

        def data_uri(match: re.Match) -> str:
            png = (_VENDOR / match.group(1)).read_bytes()
            return f"url(data:image/png;base64,{base64.b64encode(png).decode()})"

        text = re.sub(r"url\((images/[\w.-]+\.png)\)", data_uri, text)
    return text.replace("</script", "<\\/script")


def inline_assets(page: str) -> str:
    """Replace ``vendor:`` script and stylesheet links with the files' contents."""
    page = re.sub(
        r'<script src="vendor:([\w.-]+)"></script>',
        lambda m: f"<script>{_vendor_text(m.group(1))}</script>",
        page,
    )
    return re.sub(
        r'<link rel="stylesheet" href="vendor:([\w.-]+)"\s*/?>',
        lambda m: f"<style>{_vendor_text(m.group(1))}</style>",
        page,
    )


def display_frame(gdf: gpd.GeoDataFrame, basemap: str, tolerance: float = 1.0) -> gpd.GeoDataFrame:
    """Simplify (metres), reproject to lon/lat, round to ~0.1 m, shift to GCJ-02 for Gaode tiles."""
    out = gdf.copy()
    if len(out) and out.crs is not None and not out.crs.is_geographic and tolerance:
        out.geometry = out.geometry.simplify(tolerance, preserve_topology=True)
    out = out.to_crs(4326)
    if basemaps()[basemap]["crs"] == "gcj02" and len(out):

        def shift(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(crsmod.wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

        out.geometry = shapely.transform(out.geometry.values, shift)
    out.geometry = shapely.set_precision(out.geometry.values, 1e-5)  # about a metre
    return out


def new_map(bounds: np.ndarray, basemap: str, key: str = "") -> folium.Map:
    """An empty map over ``bounds`` (lon/lat) with the chosen basemap and offline Leaflet."""
    spec = basemaps().get(basemap)
    if spec is None:
        raise InputError(f"unknown basemap '{basemap}'; choose one of {', '.join(basemaps())}")
    if spec.get("needs_key") and not key:
        raise InputError(
            "the 天地图 basemap needs a key: set [render] tianditu_key in the project file"
        )
    fmap = folium.Map(tiles=None, control_scale=True, zoom_control=True)
    fmap.options["maxZoom"] = 19  # needed by marker clustering when there are no tiles
    fmap.default_js, fmap.default_css = list(_JS), list(_CSS)
    if spec["url"]:
        opts = {"subdomains": spec["subdomains"]} if "subdomains" in spec else {}
        folium.TileLayer(spec["url"].replace("{key}", key), attr=spec["attribution"],
                         name=basemap, control=False, **opts).add_to(fmap)  # fmt: skip
        if "labels" in spec:
            folium.TileLayer(spec["labels"].replace("{key}", key), attr=spec["attribution"],
                             name=f"{basemap}-labels", overlay=True, control=False, **opts).add_to(fmap)  # fmt: skip
    xmin, ymin, xmax, ymax = bounds
    fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    return fmap


POPUP_CSS = (
    "<style>.leaflet-popup-content{font-size:13px;line-height:1.45;text-align:left}"
    ".leaflet-popup-content td,.leaflet-popup-content th{text-align:left;font-size:13px}"
    ".lc-pop{margin-top:4px;border-collapse:collapse}"
    ".leaflet-popup-content .lc-pop td{padding:1px 4px;font-size:12px}.lc-pop .y{color:#1a9850;font-weight:bold}"
    ".lc-pop .n{color:#d73027;font-weight:bold}"
    ".lc-ico{width:16px;height:16px;border-radius:9px;color:#fff;font:bold 11px/16px sans-serif;"
    "text-align:center;border:1px solid #fff;box-shadow:0 0 2px rgba(0,0,0,.6)}"
    ".lc-lbl{font:bold 12px/16px sans-serif;color:#08306b;text-align:center;"
    "background:rgba(255,255,255,.8);border-radius:3px}</style>"
)


def save_map(fmap: folium.Map, target: Path) -> Path:
    """Render, inline the vendored assets and write atomically."""
    fmap.get_root().header.add_child(folium.Element(POPUP_CSS))
    page = inline_assets(fmap.get_root().render())
    return io.write_text(target, page)


def _icon_html(colour: str, glyph: str) -> str:
    return f'<div class="lc-ico" style="background:{colour}">{esc(glyph)}</div>'


def _cluster(group, points: gpd.GeoDataFrame, colour: str, glyph: str, tips: list[str]) -> None:
    data = [[round(p.y, 6), round(p.x, 6), t] for p, t in zip(points.geometry, tips, strict=True)]
    html = _icon_html(colour, glyph).replace("'", "\\'")
    callback = (
        "function (row) { var m = L.marker(new L.LatLng(row[0], row[1]), {icon: L.divIcon({"
        f"className: '', html: '{html}', iconSize: [18, 18], iconAnchor: [9, 9]}})}});"
        " m.bindTooltip(row[2]); return m; }"
    )
    cluster = FastMarkerCluster(data, callback=callback)
    # the plugin's own CDN links are replaced by the vendored copies
    cluster.default_js = [("markerclusterjs", "vendor:leaflet.markercluster.js")]
    cluster.default_css = [("markerclustercss", "vendor:MarkerCluster.css"),
                           ("markerclusterdefaultcss", "vendor:MarkerCluster.Default.css")]  # fmt: skip
    cluster.add_to(group)


def add_points(group, points: gpd.GeoDataFrame, colour: str, glyph: str, tips: list[str]) -> None:
    """Points as category icons (a coloured disc with one character), clustered when there are
    more than ``CLUSTER_ABOVE``. ``tips`` must already be HTML-escaped."""
    if len(points) > CLUSTER_ABOVE:
        _cluster(group, points, colour, glyph, tips)
        return
    frame = points[[points.geometry.name]].assign(tip=tips)
    icon = folium.DivIcon(html=_icon_html(colour, glyph), icon_size=(18, 18), icon_anchor=(9, 9))
    folium.GeoJson(
        frame.__geo_interface__,
        marker=folium.Marker(icon=icon),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    ).add_to(group)


def add_panel(fmap: folium.Map, inner_html: str, position: str, element_id: str) -> None:
    """A fixed box (title, legend, figures) drawn over the map."""
    box = (
        f'<div id="{element_id}" class="lc-panel" style="position:fixed;{position};z-index:900;'
        "background:rgba(255,255,255,0.93);padding:8px 12px;border-radius:6px;"
        "box-shadow:0 1px 5px rgba(0,0,0,0.4);font:13px/1.45 'Noto Sans CJK SC','Microsoft YaHei',"
        f'sans-serif;max-width:340px">{inner_html}</div>'
    )
    fmap.get_root().html.add_child(folium.Element(box))


def legend_html(title: str, items: list[tuple]) -> str:
    """Legend rows of (colour, text) or (colour, text, glyph) — glyph rows look like the icons."""
    rows = []
    for colour, text, *glyph in items:
        swatch = (
            _icon_html(colour, glyph[0])
            if glyph
            else f'<span style="display:inline-block;width:14px;height:14px;background:{colour};'
            'border:1px solid #555"></span>'
        )
        rows.append(
            f'<div style="display:flex;align-items:center;gap:6px;margin:1px 0">{swatch}{esc(text)}</div>'
        )
    return f"<b>{esc(title)}</b>{''.join(rows)}"


def title_html(project_name: str, subtitle: str, lang: str) -> str:
    lab = labels(lang)
    today = dt.date.today().isoformat()
    return (
        f'<div style="font-size:17px;font-weight:bold">{esc(project_name)}</div>'
        f"<div>{esc(subtitle)}</div><div style='color:#555'>{lab['generated']}: {today}</div>"
    )


def write_maps(result, out: Path, lang: str, basemap: str | None = None) -> list[Path]:
    """Write ``overview.html`` and one map per core category group."""
    from .maps import group_maps, overview_map

    basemap = basemap or result.project.render.basemap
    files = [save_map(overview_map(result, lang, basemap), out / "overview.html")]
    for name, fmap in group_maps(result, lang, basemap):
        files.append(save_map(fmap, out / f"{name}.html"))
    return files
