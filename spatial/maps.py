"""The map layouts: an overview and one map per planner group (elderly, childcare, clinics, markets).

Every text from the data enters the page through :mod:`spatial.render` (``fragment``/``esc`` for
HTML, ``feature_group``/``geojson`` for layer names): nothing here hands folium a plain string.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from . import mapstore
from .messages import labels, text
from .render import (
    Html,
    add_panel,
    add_points,
    add_store,
    display_frame,
    esc,
    feature_group,
    features,
    fragment,
    geojson,
    join,
    legend_html,
    new_map,
)
from .runresult import RunResult
from .style import (
    CANDIDATE_COLOUR,
    GAP_COLOURS,
    PARTNER_COLOUR,
    SITE_COLOUR,
    STREET_COLOUR,
    category_colour,
    gap_colour,
    gap_legend,
    share_text,
    share_weights,
)

CORE_GROUPS = ("elderly", "childcare", "clinics", "markets")


def _outline_layer(
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


def _facility_groups(fmap, result: RunResult, lang, basemap, keys) -> list[tuple[str, tuple]]:
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


def _service_layers(fmap, result: RunResult, lang, basemap, keys, show) -> list[dict]:
    """Service areas per category (folium layers); legend entries keyed by their layer."""
    areas = result.service_areas
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
        layer = _outline_layer(
            sel, tips, basemap, name, category_colour(i), show=show, fill=0.15, tolerance=8.0
        )
        layer.add_to(fmap)
        legend.append(
            {"ref": layer.get_name(), "html": str(_section("", [(category_colour(i), name)]))}
        )
    return legend


#: supply-ratio classes of the capacity layers: (upper bound of ratio, colour, message key)
CAPACITY_CLASSES = (
    (0.5, "#d7301f", "< 50%"),
    (1.0, "#fdae61", "50–100%"),
    (float("inf"), "#1a9850", "≥ 100%"),
)
CAPACITY_GAP, CAPACITY_UNKNOWN = "#bdbdbd", "#f7f7f7"


def _capacity_layers(fmap, result: RunResult, lang: str, basemap: str) -> list[dict]:
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
        legend.append({"ref": layer.get_name(), "html": str(_section(title, items))})
    return legend


def _title_html(project_name: str, subtitle: str, lang: str) -> Html:
    return fragment(
        '<div style="font-size:17px;font-weight:bold">{}</div><div>{}</div>'
        "<div style='color:#555'>{}: {}</div>",
        project_name,
        subtitle,
        labels(lang)["generated"],
        dt.date.today().isoformat(),
    )


def _base(
    result: RunResult, comm: gpd.GeoDataFrame, lang: str, basemap: str, subtitle: str
) -> folium.Map:
    bounds = comm.to_crs(4326).total_bounds
    fmap = new_map(bounds, basemap, result.project.render.tianditu_key)
    # the browser tab: escaped like every data text (branca inserts it into <title>)
    fmap.get_root().title = str(fragment("{} — {}", result.project.name, subtitle))
    add_panel(
        fmap, _title_html(result.project.name, subtitle, lang), "top:10px;left:60px", "lc-title"
    )
    return fmap


def _section(title: str, items: list[tuple]) -> Html:
    return fragment("<div class=lc-leg>{}</div>", legend_html(title, items))


def _definition(result: RunResult, lang: str, keys: list[str], group: bool) -> str:
    std = result.standards
    radii = "、".join(
        f"{std.categories[k].label(lang)} {std.categories[k].radius_m:.0f} m" for k in keys
    )
    sep_radii = radii if lang == "zh" else radii.replace("、", ", ")
    key = "group_definition" if group else "full_definition"
    return text(lang, key, count=len(keys), radii=sep_radii)


def _shares(result: RunResult, keys: list[str], sites: pd.DataFrame | None) -> tuple[float, float]:
    """Share of households with every category of ``keys`` within reach, today and after the
    recommended sites (from the sites' newly covered community ids)."""
    comm = result.communities
    hh = share_weights(comm, result.summary.get("households") is not None)
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


def _headline(result: RunResult, lang: str, keys: list[str], sites, group: bool) -> Html:
    lab = labels(lang)
    s = result.summary
    lines = [
        fragment("<b>{}</b>", lab["headline"]),
        fragment("{}: {}", lab["communities"], s.get("communities", 0)),
        fragment("{}: {}", lab["old_communities"], s.get("old_communities", 0)),
    ]
    known = s.get("households") is not None
    if known:
        lines.append(fragment("{}: {:,}", lab["households"], s["households"]))
    cov = s.get("coverage")
    if cov:
        if group or not known:  # a group's own share, or shares of communities
            before, after = _shares(result, keys, sites)
        else:
            before = cov["full_coverage_households"]
            after = s.get("sites", {}).get("full_coverage_households_after", before)
        colour = "#1a9850" if before >= cov["national_target"] else "#d73027"
        lines.append(fragment("<i>{}</i>", _definition(result, lang, keys, group)))
        share_key = "full_share" if known else "full_share_communities"
        lines.append(
            fragment(
                '{}: <b style="color:{}">{}</b>',
                lab[share_key],
                colour,
                text(lang, "share_before_after", before=share_text(before), after=share_text(after))
                if "sites" in s
                else share_text(before),
            )
        )
        lines.append(fragment("{}: {:.0%}", lab["target"], cov["national_target"]))
        lines.append(
            fragment(
                '{} (<span id="lc-shown-label">{}</span>): <b id="lc-shown">{}</b>',
                lab["shown"],
                lab["view_today"],
                share_text(before),
            )
        )
        mode = lab["mode_network"] if cov["distance_mode"] == "network" else lab["mode_straight"]
        lines.append(fragment("<i>{}</i>", mode))
    if "bundles" in s and not group:
        lines.append(fragment("{}: {}", lab["bundles"], s["bundles"].get("count", 0)))
    if "sites" in s:
        count = len(sites) if group and sites is not None else s["sites"].get("count", 0)
        lines.append(fragment("{}: {}", lab["sites"], count))
    warnings = s.get("warnings") or []
    if warnings:
        note = text(lang, "map_warnings_note", count=len(warnings))
        lines.append(fragment('<span class="lc-warn" style="color:#b35806">⚠ {}</span>', note))
    return join(lines, "<br>")


def _texts(lang: str) -> dict[str, str]:
    lab = labels(lang)
    plain = [
        "communities",
        "bundles",
        "sites",
        "candidates",
        "streets",
        "minutes",
        "none_reached",
        "view_label",
        "view_today",
        "view_after",
        "view_whatif",
        "search",
    ]
    out = {k: str(esc(lab[k])) for k in plain}
    out["partners"] = str(esc(lab["partner_layer"]))
    out["whatif_count"] = str(esc(text(lang, "whatif_count", count="#")))
    return out


def _legend(
    result, lang, store: dict, items: list[tuple], title: str, facilities, extra
) -> list[dict]:
    lab = labels(lang)
    entries = [{"ref": "lc:streets", "html": _section("", [(STREET_COLOUR, lab["streets"])])}]
    entries.append({"ref": "lc:communities", "html": _section(title, items)})
    outline = fragment(
        '<div class=lc-leg><div><span style="display:inline-block;width:14px;height:10px;'
        'border:2px solid #111"></span> {}</div><div><span style="display:inline-block;'
        'width:14px;height:10px;border:1px dashed #8c8c8c"></span> {}</div></div>',
        lab["eligible_outline"],
        lab["new_outline"],
    )
    entries.append({"ref": "lc:communities", "html": outline})
    if store["bundles"]["id"]:
        swatches = join(
            [
                fragment(
                    '<span style="display:inline-block;width:8px;height:14px;'
                    'background:{};opacity:.7"></span>',
                    c,
                )
                for c in dict.fromkeys(store["bundles"]["colour"])
            ]
        )
        row = fragment(
            "<div class=lc-leg>{} {} ({})</div>",
            swatches,
            lab["bundles"],
            len(store["bundles"]["id"]),
        )
        entries.append({"ref": "lc:bundles", "html": row})
    kinds = store["parcels"]["kind"]
    for kind, colour, key in (
        ("site", SITE_COLOUR, "site_outline"),
        ("candidate", CANDIDATE_COLOUR, "candidates"),
        ("partner", PARTNER_COLOUR, "partner_layer"),
    ):
        if kind in kinds:
            ref = {"site": "lc:sites", "candidate": "lc:candidates", "partner": "lc:partners"}[kind]
            entries.append(
                {"ref": ref, "html": _section("", [(colour, f"{lab[key]} ({kinds.count(kind)})")])}
            )
    entries += extra
    for ref, row in facilities:
        entries.append({"ref": ref, "html": _section("", [row])})
    for e in entries:
        e["html"] = str(e["html"])
    return entries


_CACHE: dict[tuple, object] = {}


def _cached(key: tuple, result: RunResult, make):
    """The store parts every map of one run shares (streets, communities), built once: the
    overview and the group maps are written one after another from the same result. The entry
    holds the result itself, so its id cannot be reused while cached; :func:`clear_cache`."""
    hit = _CACHE.get(key)
    if hit is None or hit[0] is not result:
        if len(_CACHE) > 4:
            _CACHE.clear()
        hit = _CACHE[key] = (result, make())
    return hit[1]


def clear_cache() -> None:
    _CACHE.clear()


def _street_store(result: RunResult, basemap: str, origin) -> list | None:
    streets = mapstore.street_lines(result, basemap)
    return mapstore.encode(streets.geometry.values, origin) if streets is not None else None


def metres_per_minute(std) -> float:
    """The walking speed the page turns distances into minutes with (the standards' one rule)."""
    return std.walk_speed_kmh * 1000 / 60


def _draw(
    fmap, result: RunResult, comm, lang, basemap, keys, group, items, title, facilities, extra
) -> None:
    origin = np.floor(comm.to_crs(4326).total_bounds[:2] * mapstore.SCALE).astype(np.int64)
    streets = _cached(
        ("streets", id(result), basemap, tuple(origin)),
        result,
        lambda: _street_store(result, basemap, origin),
    )
    std = result.standards
    cat_index = {k: i for i, k in enumerate(std.categories)}
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
            {"label": str(esc(c.label(lang))), "radius": c.radius_m}
            for c in std.categories.values()
        ],
        "comm": _cached(
            ("comm", id(result), basemap, lang, tuple(origin)),
            result,
            lambda: mapstore.community_store(result, comm, lang, basemap, origin),
        ),
        "bundles": mapstore.bundle_store(result, comm, lang, basemap, origin, group),
        "parcels": mapstore.parcel_store(result, comm, lang, basemap, origin, keys, group),
        "streets": streets,
        "streetColour": STREET_COLOUR,
        "siteColour": SITE_COLOUR,
        "candidateColour": CANDIDATE_COLOUR,
        "partnerColour": PARTNER_COLOUR,
        "text": _texts(lang),
    }
    store["legend"] = _legend(result, lang, store, items, title, facilities, extra)
    add_store(fmap, store)


def _subdistrict_layer(fmap, result: RunResult, lang, basemap) -> list[dict]:
    """Subdistrict (街道) outlines from ``[subdistricts]``; without them, the hull of their
    communities drawn as approximate (thin dotted, "approximate" in name and legend)."""
    lab = labels(lang)
    given = result.layers.subdistricts
    if given is not None and len(given):
        tips = [esc(v) for v in given["name"]]
        layer = _outline_layer(given, tips, basemap, lab["subdistrict"], "#525252")
        layer.add_to(fmap)
        return [{"ref": layer.get_name(), "html": _section("", [("#525252", lab["subdistrict"])])}]
    comm = result.communities
    subs = comm["subdistrict"].fillna("").astype(str)
    if (subs == "").all():
        return []
    hulls = comm.assign(_s=subs).loc[subs != ""].dissolve("_s").convex_hull
    frame = gpd.GeoDataFrame(geometry=hulls.values, crs=comm.crs)
    name = lab["subdistrict_approx"]
    tips = [fragment("{} ({})", esc(s), name) for s in hulls.index]
    layer = _outline_layer(frame, tips, basemap, name, "#737373", weight=1.2, dash="1 5")
    layer.add_to(fmap)
    row = fragment(
        '<div class=lc-leg><span style="display:inline-block;width:14px;height:10px;'
        'border:1.5px dotted #737373"></span> {}</div>',
        name,
    )
    return [{"ref": layer.get_name(), "html": row}]


def overview_map(result: RunResult, lang: str, basemap: str) -> folium.Map:
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
            _headline(result, lang, keys, sites, False),
            "bottom:60px;left:10px",
            "lc-headline",
        )
    extra = _service_layers(fmap, result, lang, basemap, set(std.categories), show=False)
    extra += _subdistrict_layer(fmap, result, lang, basemap)
    extra += _capacity_layers(fmap, result, lang, basemap)
    fac_legend = _facility_groups(fmap, result, lang, basemap, set(std.categories))
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
        fac_legend,
        extra,
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
            fmap, _headline(result, lang, keys, sel, True), "bottom:60px;left:10px", "lc-headline"
        )
        n_keys = len(keys)
        extra = _service_layers(fmap, result, lang, basemap, set(keys), show=True)
        legend = _facility_groups(fmap, result, lang, basemap, set(keys))
        _legend_panel(fmap)
        items = [
            (gap_colour(np.ceil(i * 4 / n_keys)), f"{lab['gaps']} {i}") for i in range(n_keys + 1)
        ]
        _draw(fmap, result, comm, lang, basemap, keys, True, items, gname, legend, extra)
        yield group, fmap
