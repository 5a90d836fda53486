"""The map layouts: an overview and one map per planner group (elderly, childcare, clinics, markets).

Every text from the data enters the page through :mod:`spatial.outputs.html.leaflet` (``fragment``/``esc`` for
HTML, ``feature_group``/``geojson`` for layer names): nothing here hands folium a plain string.
"""

from __future__ import annotations

from collections.abc import Iterator

import folium
import geopandas as gpd
import numpy as np

from spatial.analysis.coverage.basis import distance_unit
from spatial.analysis.result import RunResult
from spatial.core.messages import labels
from spatial.outputs.html import areas as mapareas
from spatial.outputs.html import leaflet, store_parcels
from spatial.outputs.html.leaflet import (
    StoreJson,
    add_panel,
    add_store,
    new_map,
    run_cached,
    store_json,
)
from spatial.outputs.html.overlays import (
    ICON_OVERLAP,
    capacity_layers,
    facility_store,
    subdistrict_layer,
)
from spatial.outputs.html.panel import headline, legend, page_texts, title_html
from spatial.outputs.html.plan_layer import plan_layers
from spatial.outputs.html.store import SCALE, bundle_store, community_store, encode, street_lines
from spatial.outputs.style import (
    CANDIDATE_COLOUR,
    GAP_COLOURS,
    GATE_COLOUR,
    OLD_OUTLINE,
    OTHER_OUTLINE,
    PARTNER_COLOUR,
    SITE_COLOUR,
    STREET_COLOUR,
    gap_colour,
    gap_legend,
)
from spatial.text.html import Html, esc, fragment

CORE_GROUPS = ("elderly", "childcare", "clinics", "markets")


def _base(
    result: RunResult, comm: gpd.GeoDataFrame, lang: str, basemap: str, subtitle: str
) -> folium.Map:
    fmap = new_map(_lonlat_bounds(result, comm), basemap, result.project.render.tianditu_key)
    # the browser tab: escaped like every data text (branca inserts it into <title>)
    fmap.get_root().title = str(fragment("{} — {}", result.project.name, subtitle))
    add_panel(
        fmap, title_html(result.project.name, subtitle, lang), "top:10px;left:60px", "lc-title"
    )
    return fmap


def clear_cache() -> None:
    """Drop what the maps of the last run shared (:func:`spatial.outputs.html.leaflet.clear_cache`)."""
    leaflet.clear_cache()


def _cached(key: tuple, result: RunResult, make):
    """The store parts every map of one run shares (:func:`spatial.outputs.html.leaflet.run_cached`)."""
    return run_cached(result, key, make)


def _lonlat_bounds(result: RunResult, comm: gpd.GeoDataFrame) -> np.ndarray:
    """The communities' lon/lat bounds (every map of a run is framed on them), computed once."""
    return _cached(("lonlat_bounds",), result, lambda: comm.to_crs(4326).total_bounds)


def _street_store(result: RunResult, basemap: str, origin) -> StoreJson:
    streets = street_lines(result, basemap)
    return store_json(encode(streets.geometry.values, origin) if streets is not None else None)


def metres_per_minute(std) -> float:
    """The walking speed the page turns distances into minutes with (the standards' one rule)."""
    return std.walk_speed_kmh * 1000 / 60


def _areas(result, lang: str, basemap: str, origin, keys: set[str], show: bool):
    """The service areas of ``keys`` (:func:`spatial.outputs.html.areas.area_store`), the street table
    they are drawn from (encoded once per run, None when no area uses it) and their legend."""

    def table() -> mapareas.StreetTable:
        return _cached(
            ("street_table", basemap, tuple(origin)),
            result,
            lambda: mapareas.StreetTable(result, basemap, origin),
        )

    entries, legend = mapareas.area_store(result, lang, basemap, origin, keys, show, table)
    used = any("streets" in e for e in entries)
    data = (
        _cached(
            ("street_table_json", basemap, tuple(origin)), result, lambda: store_json(table().data)
        )
        if used
        else None
    )
    return entries, data, legend


def _draw(
    fmap,
    result,
    comm,
    lang,
    basemap,
    keys,
    group,
    items,
    title,
    facilities,
    extra,
    capacity=(),
    areas=(set(), False),
) -> None:
    origin = np.floor(_lonlat_bounds(result, comm)[:2] * SCALE).astype(np.int64)
    area_entries, street_table, area_legend = _areas(result, lang, basemap, origin, *areas)
    streets = None  # the page draws the streets from the table the areas are drawn from
    if street_table is None:
        streets = _cached(
            ("streets", basemap, tuple(origin)),
            result,
            lambda: _street_store(result, basemap, origin),
        )
    std = result.standards
    cat_index = {k: i for i, k in enumerate(std.categories)}
    fac_store, fac_legend = facility_store(result, lang, basemap, origin, facilities)
    overlays = [
        {"ref": child.get_name(), "name": child.layer_name}
        for child in fmap._children.values()
        if isinstance(child, folium.map.Layer) and child.control and child.overlay
    ]
    store = {
        "map": fmap.get_name(),
        "overlays": overlays,
        "origin": origin.tolist(),
        "keys": [cat_index[k] for k in keys],
        "groupScale": bool(group),
        "gapColours": GAP_COLOURS,
        "speed": metres_per_minute(std),
        "labelZoom": 16,
        "cats": [
            {
                "label": str(esc(c.label(lang))),
                "radius": c.radius_m,
                "speed": std.speed_kmh(k) * 1000 / 60,
            }
            for k, c in std.categories.items()
        ],
        "comm": _cached(
            ("comm", basemap, lang, tuple(origin)),
            result,
            lambda: store_json(community_store(result, comm, lang, basemap, origin)),
        ),
        "bundles": bundle_store(result, comm, lang, basemap, origin, group),
        "parcels": store_parcels.parcel_store(
            result,
            comm,
            lang,
            basemap,
            origin,
            keys,
            group,
            _cached(
                ("parcels", basemap, tuple(origin)),
                result,
                lambda: store_parcels.ParcelTable(result, basemap, origin),
            ),
        ),
        "streets": streets,
        "areas": area_entries,
        "streetTable": street_table,
        "streetColour": STREET_COLOUR,
        "siteColour": SITE_COLOUR,
        "gateColour": GATE_COLOUR,
        "outlines": [
            {"color": o.colour, "weight": o.width_px, "dashArray": o.dash_array}
            for o in (OTHER_OUTLINE, OLD_OUTLINE)
        ],  # by C.elig: other, old (spatial.outputs.style)
        "candidateColour": CANDIDATE_COLOUR,
        "partnerColour": PARTNER_COLOUR,
        "text": page_texts(lang)
        | {"unit": str(esc(distance_unit(result.summary.get("coverage"), lang)))},
        "capacity": list(capacity),
        "facilities": fac_store,
        "thin": {"overlap": ICON_OVERLAP},
    }
    store["legend"] = legend(result, lang, store, items, title, fac_legend, area_legend + extra)
    add_store(fmap, store)


def overview_map(result, lang: str, basemap: str) -> folium.Map:
    """Communities by gaps (today / after / what-if), eligibility outlines, bundles, sites,
    candidates, partners, streets, facilities, service areas (off), subdistricts."""
    lab = labels(lang)
    std = result.standards
    comm = result.communities
    fmap = _base(result, comm, lang, basemap, lab["gaps_legend"])
    keys = list(std.basket)
    sites = result.siting.sites if result.siting else None
    if "gaps" in comm:
        add_panel(
            fmap,
            headline(result, lang, keys, sites, False),
            "bottom:60px;left:10px",
            "lc-headline",
        )
    extra = subdistrict_layer(fmap, result, lang, basemap)
    extra += plan_layers(fmap, result, lang, basemap)  # the programme by year (年度计划)
    capacity, cap_legend = capacity_layers(result, lang)
    extra += cap_legend
    _legend_panel(fmap)
    if "gaps" not in comm:  # no coverage stage: nothing to colour by gaps
        comm = _no_coverage(comm, std)
    _draw(
        fmap,
        result,
        comm,
        lang,
        basemap,
        keys,
        False,
        gap_legend(lang),
        lab["gaps"],
        set(std.categories),
        extra,
        capacity,
        (set(std.categories), False),
    )
    return fmap


def _no_coverage(comm, std):
    extra = {f"{k}_ok": True for k in std.categories}
    extra.update({f"{k}_m": np.nan for k in std.categories})
    return comm.assign(**extra)


def _legend_panel(fmap) -> None:
    add_panel(fmap, Html(""), "bottom:30px;right:10px;max-height:60vh;overflow:auto", "lc-legend")


def group_maps(result: RunResult, lang: str, basemap: str) -> Iterator[tuple[str, folium.Map]]:
    """One map per core group: its gaps (today / after / what-if), its facilities and service
    areas, its recommended sites and candidates; the headline is the group's own share."""
    if "gaps" not in result.communities:
        return
    std = result.standards
    lab = labels(lang)
    sites = result.siting.sites if result.siting else None
    for group in CORE_GROUPS:
        keys = [k for k, c in std.categories.items() if c.group == group]
        if not keys:
            continue
        gname = std.groups.get(group, {}).get("name_zh" if lang == "zh" else "name_en", group)
        comm = result.communities
        fmap = _base(result, comm, lang, basemap, f"{gname} — {lab['gaps']}")
        sel = sites.loc[sites["category"].isin(keys)] if sites is not None else None
        add_panel(
            fmap, headline(result, lang, keys, sel, True), "bottom:60px;left:10px", "lc-headline"
        )
        n_keys = len(keys)
        _legend_panel(fmap)
        items = [
            (gap_colour(np.ceil(i * 4 / n_keys)), f"{lab['gaps']} {i}") for i in range(n_keys + 1)
        ]
        _draw(
            fmap, result, comm, lang, basemap, keys, True, items, gname, set(keys), [], (),
            (set(keys), True),
        )  # fmt: skip
        yield group, fmap
