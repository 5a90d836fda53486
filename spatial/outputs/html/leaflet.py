"""Leaflet primitives for the interactive HTML maps (folium), which open offline: Leaflet and
plugins are inlined.

Text from the data reaches a page in ONE way. HTML is built as :class:`Html` (a
:class:`markupsafe.Markup` whose escaping also covers Jinja2's braces) with :func:`fragment` (the
template is code, every argument is escaped) or :func:`esc`; folium receives it only through the
helpers here, which refuse anything but :class:`Html` where HTML goes:

- boxes over the map (:func:`add_panel`) are :class:`HtmlElement`, whose Jinja2 template is a
  constant that inserts the escaped HTML as a value — never parsed as a template;
- tooltips, popups and icon HTML travel as JSON (``tojson``: ``<``, ``>``, ``&`` and ``'``
  escaped, so ``</script>`` cannot end the script) and are shown by Leaflet as innerHTML, hence
  escaped first;
- layer names (the layer control shows them as innerHTML) are escaped by :func:`feature_group`
  and :func:`geojson`.
"""

from __future__ import annotations

import base64
import os
import re
import threading
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import Element, MacroElement
from jinja2 import Template
from jinja2.utils import htmlsafe_json_dumps

from spatial.core import settings
from spatial.core.crs import wgs84_to_gcj02
from spatial.core.errors import InputError
from spatial.outputs import staging
from spatial.outputs.style import ink_is_dark
from spatial.text.html import Html, esc, fragment, join, require_html

_VENDOR = settings.DATA_DIR / "vendor"
_JS = [("leaflet", "vendor:leaflet.js"), ("leaflet_search", "vendor:leaflet-search.src.js")]
_CSS = [
    ("leaflet_css", "vendor:leaflet.css"),
    ("leaflet_search_css", "vendor:leaflet-search.src.css"),
]
_APP_JS = Path(__file__).with_name("maps.js")


@cache
def basemaps() -> dict[str, dict]:
    return tomllib.loads((settings.DATA_DIR / "basemaps.toml").read_text("utf-8"))


class HtmlElement(Element):
    """A piece of page HTML. Its Jinja2 template is a constant; the HTML is a value in it, so
    text inside (``{{``, ``{#``, ``{%``) is never evaluated."""

    _template = Template("{{ this.html }}")

    def __init__(self, html: Html):
        super().__init__()
        self.html = str(require_html(html))


def _vendor_text(name: str) -> str:
    text = (_VENDOR / name).read_text("utf-8")
    if name.endswith(".css"):

        def data_uri(match: re.Match) -> str:
            image = (_VENDOR / "images" / match.group(1)).read_bytes()
            kind = match.group(2)
            return f"url(data:image/{kind};base64,{base64.b64encode(image).decode()})"

        text = re.sub(r"url\(['\"]?(?:\.\./)?images/([\w.-]+\.(png|gif))['\"]?\)", data_uri, text)
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


class _RunState(threading.local):
    """What :func:`run_cached` and :func:`_tojson` keep, per thread: maps written in parallel
    threads (one run per language) keep apart."""

    def __init__(self) -> None:
        self.owner: object = None
        self.cache: dict[tuple, object] = {}
        self.json: dict[int, tuple[object, str]] = {}


_STATE = _RunState()


def run_cached(result: object, key: tuple, make: Callable[[], object]) -> object:
    """What the maps of one run share (streets, communities, parcels, layer data), built once:
    the overview and the group maps are written one after another from the same ``result``. One
    run at a time (per thread): a call for another result drops the entries of the one before
    (which is held, so that its id is never reused meanwhile); :func:`clear_cache` drops them
    all."""
    state = _STATE
    if state.owner is not result:
        clear_cache()
        state.owner = result
    if key not in state.cache:
        state.cache[key] = make()
    return state.cache[key]


def clear_cache() -> None:
    _STATE.owner = None
    _STATE.cache.clear()
    _STATE.json.clear()


def display_frame(gdf: gpd.GeoDataFrame, basemap: str, tolerance: float = 1.0) -> gpd.GeoDataFrame:
    """Simplify (metres), reproject to lon/lat, round to ~0.1 m, shift to GCJ-02 for Gaode tiles."""
    out = gdf.copy()
    if len(out) and out.crs is not None and not out.crs.is_geographic and tolerance:
        out.geometry = out.geometry.simplify(tolerance, preserve_topology=True)
    out = out.to_crs(4326)
    if basemaps()[basemap]["crs"] == "gcj02" and len(out):

        def shift(xy: np.ndarray) -> np.ndarray:
            return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

        out.geometry = shapely.transform(out.geometry.values, shift)
    out.geometry = shapely.set_precision(out.geometry.values, 1e-5)  # about a metre
    return out


def new_map(bounds: np.ndarray, basemap: str, key: str = "") -> folium.Map:
    """An empty map over ``bounds`` (lon/lat) with the chosen basemap and offline Leaflet."""
    spec = basemaps().get(basemap)
    if spec is None:
        raise InputError(
            "err_cfg_choice", label="basemap", value=basemap, allowed=", ".join(basemaps())
        )
    key = key or os.environ.get("TIANDITU_KEY", "")
    if spec.get("needs_key") and not key:
        raise InputError("err_tianditu_key_map")
    # canvas rendering: thousands of polygons stay fast; the metric scale is added by maps.js
    fmap = folium.Map(tiles=None, control_scale=False, zoom_control=True, prefer_canvas=True)
    fmap.options["maxZoom"] = 19  # without tiles too: icons are thinned up to this zoom (maps.js)
    fmap.default_js, fmap.default_css = list(_JS), list(_CSS)
    if spec["url"]:
        opts = {"subdomains": spec["subdomains"]} if "subdomains" in spec else {}
        folium.TileLayer(
            spec["url"].replace("{key}", key),
            attr=spec["attribution"],
            name=basemap,
            control=False,
            **opts,
        ).add_to(fmap)
        if "labels" in spec:
            folium.TileLayer(
                spec["labels"].replace("{key}", key),
                attr=spec["attribution"],
                name=f"{basemap}-labels",
                overlay=True,
                control=False,
                **opts,
            ).add_to(fmap)
    xmin, ymin, xmax, ymax = bounds
    fmap.fit_bounds([[ymin, xmin], [ymax, xmax]])
    return fmap


POPUP_CSS = Html(
    "<style>.leaflet-popup-content{font-size:13px;line-height:1.45;text-align:left}"
    ".lc-note{color:#555;font-style:normal}"  # notes upright: no oblique CJK
    ".leaflet-popup-content td,.leaflet-popup-content th{text-align:left;font-size:13px}"
    ".lc-pop{margin-top:4px;border-collapse:collapse}"
    ".leaflet-popup-content .lc-pop td{padding:1px 4px;font-size:12px}.lc-pop .y{color:#1a9850;font-weight:bold}"
    ".lc-pop .n{color:#d73027;font-weight:bold}"
    ".lc-ico{width:16px;height:16px;border-radius:9px;color:#fff;font:bold 11px/16px sans-serif;"
    "text-align:center;border:1px solid #fff;box-shadow:0 0 2px rgba(0,0,0,.6)}"
    ".lc-lbl{font:bold 12px/16px sans-serif;color:#08306b;text-align:center;"
    "background:rgba(255,255,255,.8);border-radius:3px}"
    ".lc-card{max-width:320px;white-space:normal;overflow-wrap:anywhere}"
    ".lc-wrap{white-space:normal;width:300px}"
    ".lc-name{font:11px/13px sans-serif;color:#222;white-space:nowrap;text-shadow:0 0 2px #fff,0 0 2px #fff;"
    "pointer-events:none;transform:translate(-50%,-50%)}"
    ".lc-view{background:#fff;padding:6px 8px;font:13px/1.5 sans-serif}.lc-view label{display:block}"
    # the count of icons hidden under a drawn one (maps.js): generated content, not its text
    ".lc-more{position:relative}.lc-more::after{content:attr(data-more);position:absolute;"
    "left:calc(100% - 8px);top:-6px;padding:0 2px;border-radius:5px;background:#fff;color:#252525;"
    "border:1px solid #737373;font:bold 9px/10px sans-serif;white-space:nowrap;pointer-events:none}"
    ".lc-list{max-height:260px;overflow:auto}.lc-row{display:flex;align-items:center;gap:6px;margin:2px 0}"
    "</style>"
)


class _LateData(folium.map.Layer):
    """A layer whose data is put into the page after rendering (:func:`save_map`), not through
    its script template: branca parses every rendered script again as a Jinja2 template (its
    ``Element``), which for a city's layers of thousands of features was a large part of writing
    a map. The page is the same: while the layer renders, ``data`` is a small stand-in (for a
    GeoJSON layer its features without coordinates, which its tooltip reads), whose JSON in the page is then
    replaced by the JSON of the data — the template's own ``tojson``."""

    def render(self, **kwargs):
        data = self.data
        self.data = self._stand_in = self._small(data)
        try:
            super().render(**kwargs)
        finally:
            self.data = data

    def _small(self, data):
        return [[f"lc-late:{self.get_name()}"]]

    def late_json(self) -> tuple[str, str]:
        """The stand-in's JSON in the rendered page and the data's (the same ``tojson``)."""
        return _tojson(self, self._stand_in), _tojson(self, self.data)


class _LateGeoJson(folium.GeoJson, _LateData):
    def _small(self, data):
        shapes = [
            {
                "properties": f.get("properties"),
                "geometry": {"type": f["geometry"]["type"]} if f.get("geometry") else None,
            }
            for f in data["features"]
        ]
        return {**data, "features": shapes, "lc-late": self.get_name()}


def _tojson(layer: MacroElement, value: object) -> str:
    """``value|tojson`` as ``layer``'s template writes it; the JSON of one object once while it
    lives (the data of :func:`run_cached` is on several maps; :func:`clear_cache`)."""
    memo = _STATE.json
    hit = memo.get(id(value))
    if hit is None or hit[0] is not value:
        if len(memo) > 200:
            memo.clear()
        env = layer._template.environment
        dumps = env.policies["json.dumps_function"]
        text = str(htmlsafe_json_dumps(value, dumps, **env.policies["json.dumps_kwargs"]))
        hit = memo[id(value)] = (value, text)
    return hit[1]


def _late_layers(element) -> list[_LateData]:
    out = []
    for child in element._children.values():
        if isinstance(child, _LateData):
            out.append(child)
        out += _late_layers(child)
    return out


def save_map(fmap: folium.Map, target: Path) -> Path:
    """Render, put in the late layers' data, inline the vendored assets and write atomically."""
    fmap.get_root().header.add_child(HtmlElement(POPUP_CSS))
    page = fmap.get_root().render()
    for layer in _late_layers(fmap):
        stand_in, data = layer.late_json()
        if page.count(stand_in) != 1:
            raise RuntimeError(f"{layer.get_name()}: its data's place not found once in the page")
        page = page.replace(stand_in, data)
    return staging.write_text(target, inline_assets(page))


class StoreJson(str):
    """A part of a map store already encoded by :func:`store_json` (what the maps of a run
    share: encoded once, not once per map)."""


def store_json(value: object) -> StoreJson:
    """``value`` as :func:`add_store` writes it: htmlsafe JSON (``<``, ``>``, ``&``, ``'``
    escaped, so no ``</script>`` can occur), UTF-8 text rather than ``\\u`` escapes (a Chinese
    character takes 3 bytes instead of 6) except the two line separators a JavaScript string may
    not hold in older engines."""
    data = htmlsafe_json_dumps(value, separators=(",", ":"), ensure_ascii=False)
    return StoreJson(data.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def add_store(fmap: folium.Map, store: dict) -> None:
    """The map's data (:mod:`spatial.outputs.html.store`, every text already :class:`Html`) and the code
    that draws it (``maps.js``), as one page element: the JSON of :func:`store_json` (a
    value already :class:`StoreJson` as it is), a value of a constant template, never parsed by
    Jinja2."""
    items = (
        f"{store_json(k)}:{v if isinstance(v, StoreJson) else store_json(v)}"
        for k, v in store.items()
    )
    data = "{" + ",".join(items) + "}"
    code = _APP_JS.read_text("utf-8").replace("</script", "<\\/script")
    fmap.get_root().html.add_child(
        HtmlElement(Html(f"<script>window.LC_STORE = {data};</script><script>{code}</script>"))
    )


def feature_group(name: str, show: bool = True) -> folium.FeatureGroup:
    """A layer of the layer control named ``name`` (plain text, escaped here)."""
    return folium.FeatureGroup(name=str(esc(name)), show=show)


def features(
    geometry: gpd.GeoSeries,
    html: dict[str, list[Html]],
    style: dict[str, list[str]] | None = None,
) -> dict:
    """GeoJSON (lon/lat ``geometry``) whose properties are the HTML columns ``html`` (each value
    Html) and the style values ``style`` (colours set by the code)."""
    columns = {k: [str(require_html(v)) for v in values] for k, values in html.items()}
    frame = gpd.GeoDataFrame({**columns, **(style or {})}, geometry=geometry.values, crs=4326)
    return frame.__geo_interface__


def geojson(
    data: dict, name: str, tooltip: str | None = None, popup: str | None = None, **kwargs
) -> folium.GeoJson:
    """A GeoJSON layer named ``name`` (plain text) from :func:`features`; ``tooltip``/``popup``
    name HTML property columns."""
    if tooltip:
        kwargs["tooltip"] = folium.GeoJsonTooltip(fields=[tooltip], labels=False)
    if popup:
        kwargs["popup"] = folium.GeoJsonPopup(
            fields=[popup], labels=False, max_width=420, style="margin:0"
        )
    return _LateGeoJson(data, name=str(esc(name)), **kwargs)


def icon_html(colour: str, glyph: str) -> Html:
    """A marker: ``glyph`` on a disc of ``colour``, in dark ink on a light disc (yellow, sky
    blue), white on a dark one."""
    ink = "#222" if ink_is_dark(colour) else "#fff"
    return fragment(
        '<div class="lc-ico" style="background:{};color:{}">{}</div>', colour, ink, glyph
    )


def add_label(group, point: shapely.Point, text: str, size: tuple[int, int] = (34, 16)) -> None:
    """A text label (plain text) at a lon/lat point, not interactive."""
    icon = folium.DivIcon(
        html=str(fragment('<div class="lc-lbl">{}</div>', text)),
        icon_size=size,
        icon_anchor=(size[0] // 2, size[1] // 2),
    )
    folium.Marker([point.y, point.x], icon=icon, interactive=False).add_to(group)


def add_panel(fmap: folium.Map, inner_html: Html, position: str, element_id: str) -> None:
    """A fixed box (title, legend, figures) drawn over the map; ``position`` is CSS set by the code."""
    box = fragment(
        '<div id="{}" class="lc-panel" style="position:fixed;{};z-index:900;'
        "background:rgba(255,255,255,0.93);padding:8px 12px;border-radius:6px;"
        "box-shadow:0 1px 5px rgba(0,0,0,0.4);font:13px/1.45 'Noto Sans CJK SC','Microsoft YaHei',"
        'sans-serif;max-width:340px">{}</div>',
        element_id,
        Html(position),
        require_html(inner_html),
    )
    fmap.get_root().html.add_child(HtmlElement(box))


def legend_html(title: str, items: list[tuple]) -> Html:
    """Legend rows of (colour, text) or (colour, text, glyph) — glyph rows look like the icons.
    ``title`` and the texts are plain text."""
    rows = []
    for colour, text, *glyph in items:
        swatch = (
            icon_html(colour, glyph[0])
            if glyph
            else fragment(
                '<span style="display:inline-block;width:14px;height:14px;background:{};'
                'border:1px solid #555"></span>',
                colour,
            )
        )
        rows.append(
            fragment(
                '<div style="display:flex;align-items:center;gap:6px;margin:1px 0">{}{}</div>',
                swatch,
                text,
            )
        )
    return fragment("<b>{}</b>{}", title, join(rows))
