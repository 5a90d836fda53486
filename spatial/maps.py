"""The map layouts: an overview and one map per planner group (elderly, childcare, clinics, markets)."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from .render import (
    CATEGORY_COLOURS,
    GAP_COLOURS,
    TIER_COLOURS,
    add_panel,
    add_points,
    display_frame,
    esc,
    labels,
    legend_html,
    new_map,
    title_html,
)  # fmt: skip

CORE_GROUPS = ("elderly", "childcare", "clinics", "markets")


def _gap_colour(n: float) -> str:
    return GAP_COLOURS[int(min(max(n, 0), len(GAP_COLOURS) - 1))]


def community_popup(row: pd.Series, result, lang: str) -> str:
    """Popup HTML of one community: every value from the data is escaped."""
    lab = labels(lang)
    std = result.standards
    parts = [f"<b>{esc(row.get('name'))}</b>"]
    facts = [
        (lab["built"], row.get("built_raw")),
        (lab["households"], _int(row.get("households"))),
        (lab["subdistrict"], row.get("subdistrict")),
        (lab["tier"], _tier_label(row.get("tier"), lab)),
        (lab["bundle"], row.get("bundle_id")),
    ]
    parts += [f"<br>{k}: {esc(v)}" for k, v in facts if _present(v)]
    if "gaps" in row.index:
        cells = []
        for key in std.categories:
            dist = row.get(f"{key}_m")
            ok = bool(row.get(f"{key}_ok"))
            text = (
                f"{dist:.0f} m / {std.minutes(dist):.0f} {lab['minutes']}"
                if pd.notna(dist)
                else lab["none_reached"]
            )
            mark = "✓" if ok else "✗"
            css = "y" if ok else "n"
            cells.append(
                f"<tr><td>{esc(std.categories[key].label(lang))}<td>{text}<td class={css}>{mark}"
            )
        parts.append(f"<table class=lc-pop>{''.join(cells)}</table>")
    return "".join(parts)


def _present(value) -> bool:
    return (
        value is not None and not (pd.api.types.is_scalar(value) and pd.isna(value)) and value != ""
    )


def _int(value) -> object:
    return int(value) if value is not None and pd.notna(value) else ""


def _tier_label(tier, lab) -> str:
    return {"priority": lab["tier_priority"], "standard": lab["tier_standard"],
            "not_eligible": lab["tier_not"], "unknown": lab["tier_unknown"]}.get(tier, "")  # fmt: skip


def _community_layer(result, lang, basemap, colour_of, name) -> folium.GeoJson:
    comm = result.communities
    disp = display_frame(comm, basemap)
    frame = gpd.GeoDataFrame(
        {
            "label": [esc(v) for v in comm["name"]],
            "popup": [community_popup(r, result, lang) for _, r in comm.iterrows()],
            "colour": [colour_of(r) for _, r in comm.iterrows()],
        },
        geometry=disp.geometry.values,
        crs=4326,
    )
    return folium.GeoJson(
        frame.__geo_interface__,
        name=name,
        style_function=lambda f: {
            "fillColor": f["properties"]["colour"],
            "color": "#333",
            "weight": 0.8,
            "fillOpacity": 0.7,
        },  # fmt: skip
        highlight_function=lambda _f: {"weight": 2.5, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup"], labels=False, max_width=420, style="margin:0"),
    )


def _outline_layer(frame: gpd.GeoDataFrame, basemap, name, colour, tip_col, show=True, fill=0.0):
    disp = display_frame(frame, basemap, tolerance=4.0)
    data = gpd.GeoDataFrame(
        {"tip": [esc(v) for v in frame[tip_col]]}, geometry=disp.geometry.values, crs=4326
    )
    return folium.GeoJson(
        data.__geo_interface__, name=name, show=show,
        style_function=lambda _f: {"color": colour, "weight": 2.5, "fillColor": colour,
                                   "fillOpacity": fill, "fill": fill > 0, "dashArray": "6 4"},
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
    )  # fmt: skip


def _facility_groups(fmap, result, lang, basemap, keys, show=True) -> list[tuple[str, str]]:
    fac = result.layers.facilities
    legend = []
    for i, key in enumerate(result.standards.categories):
        if key not in keys:
            continue
        pts = fac.loc[fac["category"] == key]
        colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
        label = result.standards.categories[key].label(lang)
        legend.append((colour, f"{label} ({len(pts)})", result.standards.categories[key].icon))
        if len(pts) == 0:
            continue
        group = folium.FeatureGroup(name=f"{labels(lang)['facilities']}: {label}", show=show)
        disp = display_frame(pts, basemap)
        glyph = result.standards.categories[key].icon
        add_points(group, disp, colour, glyph, [f"{esc(n)} ({esc(label)})" for n in pts["name"]])
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
        colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
        tip = sel.assign(tip=name)
        _outline_layer(tip, basemap, name, colour, "tip", show=show, fill=0.15).add_to(fmap)


def _sites_layer(fmap, result, lang, basemap, keys) -> None:
    sites = result.layers_out.get("sites")
    if sites is None or len(sites) == 0:
        return
    sel = sites.loc[sites["category"].isin(keys)]
    if len(sel) == 0:
        return
    lab = labels(lang)
    tips = [
        f"{lab['sites']} #{r['rank']}: {esc(result.standards.categories[r['category']].label(lang))}"
        f" — {esc(r['kind'])}, {lab['new_households']} {int(r['new_households'])}"
        for _, r in sel.iterrows()
    ]
    _outline_layer(sel.assign(tip=tips), basemap, lab["sites"], "#6a00a8", "tip", fill=0.5).add_to(
        fmap
    )


def _headline(result, lang) -> str:
    lab = labels(lang)
    s = result.summary
    lines = [f"<b>{lab['headline']}</b>",
             f"{lab['communities']}: {s.get('communities', 0)}",
             f"{lab['old_communities']}: {s.get('old_communities', 0)}",
             f"{lab['households']}: {s['households']:,}" if s.get("households") is not None
             else ""]  # fmt: skip
    lines = [line for line in lines if line]
    cov = s.get("coverage")
    if cov:
        share, key = cov["full_coverage_households"], "full_share"
        if share is None:  # no household counts: the share of communities
            share, key = cov["full_coverage_communities"], "full_share_communities"
        colour = "#1a9850" if share >= cov["national_target"] else "#d73027"
        lines.append(
            f'{lab[key]}: <b style="color:{colour}">{share:.0%}</b> '
            f"({lab['target']} {cov['national_target']:.0%})"
        )
        mode = lab["mode_network"] if cov["distance_mode"] == "network" else lab["mode_straight"]
        lines.append(f"<i>{mode}</i>")
    if "bundles" in s:
        lines.append(f"{lab['bundles']}: {s['bundles'].get('count', 0)}")
    if "sites" in s:
        lines.append(f"{lab['sites']}: {s['sites'].get('count', 0)}")
    return "<br>".join(lines)


def _base(result, lang, basemap, subtitle):
    bounds = result.communities.to_crs(4326).total_bounds
    fmap = new_map(bounds, basemap, result.project.render.tianditu_key)
    add_panel(
        fmap, title_html(result.project.name, subtitle, lang), "top:10px;left:60px", "lc-title"
    )
    add_panel(fmap, _headline(result, lang), "bottom:60px;left:10px", "lc-headline")
    return fmap


def _bundles_layer(fmap, result, lang, basemap) -> None:
    """Bundle outlines with their ids as labels; the description shows on hover."""
    bundles = result.layers_out.get("bundles")
    if bundles is None or len(bundles) == 0:
        return
    tip = "description" if lang == "zh" else "description_en"
    group = folium.FeatureGroup(name=labels(lang)["bundles"])
    _outline_layer(bundles, basemap, labels(lang)["bundles"], "#08306b", tip).add_to(group)
    points = display_frame(bundles.assign(geometry=bundles.representative_point()), basemap, 0)
    for bid, point in zip(bundles["bundle_id"], points.geometry, strict=True):
        html = f'<div class="lc-lbl">{esc(bid)}</div>'
        folium.Marker([point.y, point.x], icon=folium.DivIcon(html=html, icon_size=(34, 16),
                      icon_anchor=(17, 8)), interactive=False).add_to(group)  # fmt: skip
    group.add_to(fmap)


def _subdistrict_layer(fmap, result, lang, basemap) -> None:
    """Subdistrict (街道) outlines from ``[subdistricts]``, or the hull of their communities."""
    given = result.layers.subdistricts
    if given is not None and len(given):
        _outline_layer(given, basemap, labels(lang)["subdistrict"], "#525252", "name").add_to(fmap)
        return
    comm = result.communities
    subs = comm["subdistrict"].fillna("").astype(str)
    if (subs == "").all():
        return
    hulls = comm.assign(_s=subs).loc[subs != ""].dissolve("_s").convex_hull
    frame = gpd.GeoDataFrame(
        {"tip": [f"{s}" for s in hulls.index]}, geometry=hulls.values, crs=comm.crs
    )
    name = f"{labels(lang)['subdistrict']}" + (
        "（按小区范围推算）" if lang == "zh" else " (hull of its communities)"
    )
    _outline_layer(frame, basemap, name, "#525252", "tip", show=True).add_to(fmap)


def overview_map(result, lang: str, basemap: str) -> folium.Map:
    """Communities by gaps (or tier), bundles, facilities, service areas (off), sites."""
    lab = labels(lang)
    std = result.standards
    fmap = _base(result, lang, basemap, lab["gaps_legend"])
    has_cov = "gaps" in result.communities
    if has_cov:
        colour_of = lambda r: _gap_colour(r["gaps"])  # noqa: E731
        items = [(c, f"{lab['gaps']} {i}" + ("+" if i == len(GAP_COLOURS) - 1 else ""))
                 for i, c in enumerate(GAP_COLOURS)]  # fmt: skip
    else:
        colour_of = lambda r: TIER_COLOURS.get(r.get("tier"), "#9ecae1")  # noqa: E731
        items = [(TIER_COLOURS[t], _tier_label(t, lab)) for t in TIER_COLOURS]
    # drawn bottom to top: filled areas under the communities, outlines (no fill) above them
    _service_layers(fmap, result, lang, basemap, set(std.categories), show=False)
    _community_layer(result, lang, basemap, colour_of, lab["communities"]).add_to(fmap)
    _subdistrict_layer(fmap, result, lang, basemap)
    _bundles_layer(fmap, result, lang, basemap)
    fac_legend = _facility_groups(fmap, result, lang, basemap, set(std.categories))
    _sites_layer(fmap, result, lang, basemap, set(std.categories))
    folium.LayerControl(collapsed=True).add_to(fmap)
    add_panel(fmap, legend_html(lab["gaps"], items) + "<hr style='margin:4px 0'>"
              + legend_html(lab["facilities"], fac_legend), "bottom:30px;right:10px;max-height:60vh;overflow:auto",
              "lc-legend")  # fmt: skip
    return fmap


def group_maps(result, lang: str, basemap: str):
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
        gaps = (~comm[[f"{k}_ok" for k in keys]]).sum(axis=1)
        result_view = _View(result, comm.assign(group_gaps=gaps))
        fmap = _base(result_view, lang, basemap, f"{gname} — {lab['gaps']}")
        n_keys = len(keys)
        colour_of = lambda r, n=n_keys: _gap_colour(np.ceil(r["group_gaps"] * 4 / n))  # noqa: E731
        _service_layers(fmap, result, lang, basemap, set(keys), show=True)
        _community_layer(result_view, lang, basemap, colour_of, lab["communities"]).add_to(fmap)
        legend = _facility_groups(fmap, result, lang, basemap, set(keys))
        _sites_layer(fmap, result, lang, basemap, set(keys))
        folium.LayerControl(collapsed=False).add_to(fmap)
        items = [
            (_gap_colour(np.ceil(i * 4 / len(keys))), f"{lab['gaps']} {i}")
            for i in range(len(keys) + 1)
        ]
        add_panel(fmap, legend_html(gname, items) + "<hr style='margin:4px 0'>"
                  + legend_html(lab["facilities"], legend), "bottom:30px;right:10px;max-height:60vh;overflow:auto", "lc-legend")  # fmt: skip
        yield group, fmap


class _View:
    """The run result with a different communities frame (for per-group colouring)."""

    def __init__(self, result, communities):
        self._result, self.communities = result, communities

    def __getattr__(self, name):
        return getattr(self._result, name)
