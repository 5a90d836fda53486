"""The map layouts: an overview and one map per planner group (elderly, childcare, clinics, markets).

Every text from the data enters the page through :mod:`spatial.render` (``fragment``/``esc`` for
HTML, ``feature_group``/``geojson`` for layer names): nothing here hands folium a plain string.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .messages import labels, text, tier_label
from .render import (
    Html,
    add_label,
    add_panel,
    add_points,
    display_frame,
    esc,
    feature_group,
    features,
    fragment,
    geojson,
    join,
    legend_html,
    new_map,
)  # fmt: skip
from .style import (
    BUNDLE_COLOUR,
    SITE_COLOUR,
    TIER_COLOURS,
    category_colour,
    gap_colour,
    gap_legend,
)  # fmt: skip

CORE_GROUPS = ("elderly", "childcare", "clinics", "markets")


def community_popup(row: pd.Series, result, lang: str) -> Html:
    """Popup HTML of one community: every value from the data is escaped."""
    lab = labels(lang)
    std = result.standards
    facts = [
        (lab["built"], row.get("built_raw")),
        (lab["households"], _int(row.get("households"))),
        (lab["subdistrict"], row.get("subdistrict")),
        (lab["tier"], tier_label(lang, row.get("tier"), result.project.policy)),
        (lab["bundle"], row.get("bundle_id")),
    ]
    parts = [fragment("<b>{}</b>", esc(row.get("name")))]
    parts += [fragment("<br>{}: {}", k, esc(v)) for k, v in facts if _present(v)]
    if "gaps" in row.index:
        cells = []
        for key in std.categories:
            dist = row.get(f"{key}_m")
            ok = bool(row.get(f"{key}_ok"))
            reach = (
                f"{dist:.0f} m / {std.minutes(dist):.0f} {lab['minutes']}"
                if pd.notna(dist)
                else lab["none_reached"]
            )
            cells.append(
                fragment(
                    "<tr><td>{}<td>{}<td class={}>{}",
                    std.categories[key].label(lang),
                    reach,
                    "y" if ok else "n",
                    "✓" if ok else "✗",
                )  # fmt: skip
            )
        parts.append(fragment("<table class=lc-pop>{}</table>", join(cells)))
    return join(parts)


def _present(value) -> bool:
    return (
        value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value)) and value != ""
    )


def _int(value) -> object:
    return int(value) if value is not None and pd.notna(value) else ""


def _community_layer(result, comm: gpd.GeoDataFrame, lang: str, basemap: str,
                     colour_of: Callable[[pd.Series], str], name: str) -> folium.GeoJson:  # fmt: skip
    disp = display_frame(comm, basemap)
    data = features(
        disp.geometry,
        {"label": [esc(v) for v in comm["name"]],
         "popup": [community_popup(r, result, lang) for _, r in comm.iterrows()]},
        {"colour": [colour_of(r) for _, r in comm.iterrows()]},
    )  # fmt: skip
    return geojson(
        data, name, tooltip="label", popup="popup",
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#333",
                                  "weight": 0.8, "fillOpacity": 0.7},
        highlight_function=lambda _f: {"weight": 2.5, "color": "#000"},
    )  # fmt: skip


def _outline_layer(frame: gpd.GeoDataFrame, tips: list[Html], basemap: str, name: str,
                   colour: str, show: bool = True, fill: float = 0.0) -> folium.GeoJson:  # fmt: skip
    disp = display_frame(frame, basemap, tolerance=4.0)
    return geojson(
        features(disp.geometry, {"tip": tips}), name, tooltip="tip", show=show,
        style_function=lambda _f: {"color": colour, "weight": 2.5, "fillColor": colour,
                                   "fillOpacity": fill, "fill": fill > 0, "dashArray": "6 4"},
    )  # fmt: skip


def _facility_groups(fmap, result, lang, basemap, keys) -> list[tuple[str, str, str]]:
    fac = result.layers.facilities
    legend = []
    for i, (key, cat) in enumerate(result.standards.categories.items()):
        if key not in keys:
            continue
        pts = fac.loc[fac["category"] == key]
        colour = category_colour(i)
        label = cat.label(lang)
        legend.append((colour, f"{label} ({len(pts)})", cat.icon))
        if len(pts) == 0:
            continue
        group = feature_group(f"{labels(lang)['facilities']}: {label}")
        tips = [fragment("{} ({})", esc(n), label) for n in pts["name"]]
        add_points(group, display_frame(pts, basemap), colour, cat.icon, tips)
        group.add_to(fmap)
    return legend


def _service_layers(fmap, result, lang, basemap, keys, show) -> None:
    areas = result.layers_out.get("service_areas")
    if areas is None or len(areas) == 0:
        return
    for i, key in enumerate(result.standards.categories):
        sel = areas.loc[areas["category"] == key]
        if key not in keys or len(sel) == 0:
            continue
        label = result.standards.categories[key].label(lang)
        name = f"{labels(lang)['service_areas']}: {label} {sel['radius_m'].iloc[0]:.0f} m"
        tips = [esc(name)] * len(sel)
        _outline_layer(sel, tips, basemap, name, category_colour(i), show=show, fill=0.15).add_to(
            fmap
        )


def _sites_layer(fmap, result, lang, basemap, keys) -> None:
    sites = result.layers_out.get("sites")
    if sites is None or len(sites) == 0:
        return
    sel = sites.loc[sites["category"].isin(keys)]
    if len(sel) == 0:
        return
    lab = labels(lang)
    tips = [
        fragment(
            "{} #{}: {} — {}, {} {}",
            lab["sites"],
            r["rank"],
            result.standards.categories[r["category"]].label(lang),
            esc(r["kind"]),
            lab["new_households"],
            int(r["new_households"]),
        )  # fmt: skip
        for _, r in sel.iterrows()
    ]
    _outline_layer(sel, tips, basemap, lab["sites"], SITE_COLOUR, fill=0.5).add_to(fmap)


def _headline(result, lang) -> Html:
    lab = labels(lang)
    s = result.summary
    lines = [fragment("<b>{}</b>", lab["headline"]),
             fragment("{}: {}", lab["communities"], s.get("communities", 0)),
             fragment("{}: {}", lab["old_communities"], s.get("old_communities", 0))]  # fmt: skip
    if s.get("households") is not None:
        lines.append(fragment("{}: {:,}", lab["households"], s["households"]))
    cov = s.get("coverage")
    if cov:
        share, key = cov["full_coverage_households"], "full_share"
        if share is None:  # no household counts: the share of communities
            share, key = cov["full_coverage_communities"], "full_share_communities"
        colour = "#1a9850" if share >= cov["national_target"] else "#d73027"
        lines.append(
            fragment(
                '{}: <b style="color:{}">{:.0%}</b> ({} {:.0%})',
                lab[key],
                colour,
                share,
                lab["target"],
                cov["national_target"],
            )  # fmt: skip
        )
        mode = lab["mode_network"] if cov["distance_mode"] == "network" else lab["mode_straight"]
        lines.append(fragment("<i>{}</i>", mode))
    if "bundles" in s:
        lines.append(fragment("{}: {}", lab["bundles"], s["bundles"].get("count", 0)))
    if "sites" in s:
        lines.append(fragment("{}: {}", lab["sites"], s["sites"].get("count", 0)))
    warnings = s.get("warnings") or []
    if warnings:
        note = text(lang, "map_warnings_note", count=len(warnings))
        lines.append(fragment('<span class="lc-warn" style="color:#b35806">⚠ {}</span>', note))
    return join(lines, "<br>")


#: supply-ratio classes of the capacity layers: (upper bound of ratio, colour, message key)
CAPACITY_CLASSES = ((0.5, "#d7301f", "< 50%"), (1.0, "#fdae61", "50–100%"),
                    (float("inf"), "#1a9850", "≥ 100%"))  # fmt: skip
CAPACITY_GAP, CAPACITY_UNKNOWN = "#bdbdbd", "#f7f7f7"


def _capacity_layers(fmap, result, lang: str, basemap: str) -> None:
    """Per category with an indicator: communities coloured by their 2SFCA supply ratio against
    the target (layers off by default), and one legend of the classes."""
    block = (result.summary.get("capacity") or {}).get("categories", {})
    comm = result.communities
    keys = [k for k in block if f"{k}_ratio" in comm]
    if not keys:
        return

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
            esc(text(lang, "cap_tooltip", name=n, category=label,
                     ratio="—" if pd.isna(r) else f"{r:.0%}",
                     short="—" if pd.isna(s) else f"{s:,.0f}", unit=unit))
            for n, r, s in zip(comm["name"], comm[f"{key}_ratio"], comm[f"{key}_short"], strict=True)
        ]  # fmt: skip
        colours = [colour(r, st) for r, st in zip(comm[f"{key}_ratio"], comm[f"{key}_state"], strict=True)]  # fmt: skip
        geojson(
            features(disp.geometry, {"tip": tips}, {"colour": colours}),
            text(lang, "cap_layer", category=label), tooltip="tip", show=False,
            style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#555",
                                      "weight": 0.6, "fillOpacity": 0.75},
        ).add_to(fmap)  # fmt: skip
    items = [(c, name) for _, c, name in CAPACITY_CLASSES]
    items += [(CAPACITY_GAP, text(lang, "cap_gap")), (CAPACITY_UNKNOWN, text(lang, "cap_unknown"))]
    add_panel(fmap, legend_html(text(lang, "cap_ratio"), items), "top:60px;right:60px",
              "lc-capacity-legend")  # fmt: skip


def _title_html(project_name: str, subtitle: str, lang: str) -> Html:
    return fragment(
        '<div style="font-size:17px;font-weight:bold">{}</div><div>{}</div>'
        "<div style='color:#555'>{}: {}</div>",
        project_name, subtitle, labels(lang)["generated"], dt.date.today().isoformat(),
    )  # fmt: skip


def _base(result, comm: gpd.GeoDataFrame, lang: str, basemap: str, subtitle: str) -> folium.Map:
    bounds = comm.to_crs(4326).total_bounds
    fmap = new_map(bounds, basemap, result.project.render.tianditu_key)
    add_panel(fmap, _title_html(result.project.name, subtitle, lang), "top:10px;left:60px",
              "lc-title")  # fmt: skip
    add_panel(fmap, _headline(result, lang), "bottom:60px;left:10px", "lc-headline")
    return fmap


def _bundles_layer(fmap, result, lang, basemap) -> None:
    """Bundle outlines with their ids as labels; the description shows on hover."""
    bundles = result.layers_out.get("bundles")
    if bundles is None or len(bundles) == 0:
        return
    name = labels(lang)["bundles"]
    tips = [esc(v) for v in bundles["description" if lang == "zh" else "description_en"]]
    group = feature_group(name)
    _outline_layer(bundles, tips, basemap, name, BUNDLE_COLOUR).add_to(group)
    points = display_frame(bundles.assign(geometry=bundles.representative_point()), basemap, 0)
    for bid, point in zip(bundles["bundle_id"], points.geometry, strict=True):
        add_label(group, point, bid)
    group.add_to(fmap)


def _subdistrict_layer(fmap, result, lang, basemap) -> None:
    """Subdistrict (街道) outlines from ``[subdistricts]``, or the hull of their communities."""
    given = result.layers.subdistricts
    name = labels(lang)["subdistrict"]
    if given is not None and len(given):
        tips = [esc(v) for v in given["name"]]
        _outline_layer(given, tips, basemap, name, "#525252").add_to(fmap)
        return
    comm = result.communities
    subs = comm["subdistrict"].fillna("").astype(str)
    if (subs == "").all():
        return
    hulls = comm.assign(_s=subs).loc[subs != ""].dissolve("_s").convex_hull
    frame = gpd.GeoDataFrame(geometry=hulls.values, crs=comm.crs)
    name += "（按小区范围推算）" if lang == "zh" else " (hull of its communities)"
    _outline_layer(frame, [esc(s) for s in hulls.index], basemap, name, "#525252").add_to(fmap)


def _legend_panel(fmap, title: str, items: list[tuple], facilities: list[tuple], lang: str) -> None:
    box = fragment("{}<hr style='margin:4px 0'>{}", legend_html(title, items),
                   legend_html(labels(lang)["facilities"], facilities))  # fmt: skip
    add_panel(fmap, box, "bottom:30px;right:10px;max-height:60vh;overflow:auto", "lc-legend")


def overview_map(result, lang: str, basemap: str) -> folium.Map:
    """Communities by gaps (or tier), bundles, facilities, service areas (off), sites."""
    lab = labels(lang)
    std = result.standards
    comm = result.communities
    fmap = _base(result, comm, lang, basemap, lab["gaps_legend"])
    if "gaps" in comm:
        colour_of = lambda r: gap_colour(r["gaps"])  # noqa: E731
        items = gap_legend(lang)
    else:
        colour_of = lambda r: TIER_COLOURS.get(r.get("tier"), "#9ecae1")  # noqa: E731
        items = [
            (TIER_COLOURS[t], tier_label(lang, t, result.project.policy)) for t in TIER_COLOURS
        ]
    # drawn bottom to top: filled areas under the communities, outlines (no fill) above them
    _service_layers(fmap, result, lang, basemap, set(std.categories), show=False)
    _community_layer(result, comm, lang, basemap, colour_of, lab["communities"]).add_to(fmap)
    _capacity_layers(fmap, result, lang, basemap)
    _subdistrict_layer(fmap, result, lang, basemap)
    _bundles_layer(fmap, result, lang, basemap)
    fac_legend = _facility_groups(fmap, result, lang, basemap, set(std.categories))
    _sites_layer(fmap, result, lang, basemap, set(std.categories))
    folium.LayerControl(collapsed=True).add_to(fmap)
    _legend_panel(fmap, lab["gaps"], items, fac_legend, lang)
    return fmap


def group_maps(result, lang: str, basemap: str) -> Iterator[tuple[str, folium.Map]]:
    """One map per core group: its gaps, its facilities and service areas, its recommended sites."""
    if "gaps" not in result.communities:
        return
    std = result.standards
    lab = labels(lang)
    for group in CORE_GROUPS:
        keys = [k for k, c in std.categories.items() if c.group == group]
        if not keys:
            continue
        gname = std.groups.get(group, {}).get("name_zh" if lang == "zh" else "name_en", group)
        comm = result.communities
        comm = comm.assign(group_gaps=(~comm[[f"{k}_ok" for k in keys]]).sum(axis=1))
        fmap = _base(result, comm, lang, basemap, f"{gname} — {lab['gaps']}")
        n_keys = len(keys)
        colour_of = lambda r, n=n_keys: gap_colour(np.ceil(r["group_gaps"] * 4 / n))  # noqa: E731
        _service_layers(fmap, result, lang, basemap, set(keys), show=True)
        _community_layer(result, comm, lang, basemap, colour_of, lab["communities"]).add_to(fmap)
        legend = _facility_groups(fmap, result, lang, basemap, set(keys))
        _sites_layer(fmap, result, lang, basemap, set(keys))
        folium.LayerControl(collapsed=False).add_to(fmap)
        items = [(gap_colour(np.ceil(i * 4 / n_keys)), f"{lab['gaps']} {i}")
                 for i in range(n_keys + 1)]  # fmt: skip
        _legend_panel(fmap, gname, items, legend, lang)
        yield group, fmap
