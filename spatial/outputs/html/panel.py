"""The panels of a map page: its title, the headline figures and the legend rows, and the words
the page's script shows. Every text from the data enters through :mod:`spatial.text.html`
(``fragment``/``esc``).
"""

from __future__ import annotations

import datetime as dt

from spatial.analysis.coverage.basis import distance_unit, threshold_text
from spatial.core.messages import labels, text
from spatial.inputs.facility_names import empty_note
from spatial.outputs.html.overlays import section
from spatial.outputs.style import (
    CANDIDATE_COLOUR,
    GATE_COLOUR,
    OLD_OUTLINE,
    OTHER_OUTLINE,
    PARTNER_COLOUR,
    SITE_COLOUR,
    STREET_COLOUR,
    group_shares,
    share_text,
)
from spatial.text.html import Html, esc, fragment, join


def title_html(project_name: str, subtitle: str, lang: str) -> Html:
    """The title panel: the project, the map's subtitle and the date."""
    return fragment(
        '<div style="font-size:17px;font-weight:bold">{}</div><div>{}</div>'
        "<div style='color:#555'>{}: {}</div>",
        project_name,
        subtitle,
        labels(lang)["generated"],
        dt.date.today().isoformat(),
    )


def _definition(result, lang: str, keys: list[str], group: bool) -> str:
    std = result.standards
    unit = distance_unit(result.summary.get("coverage"), lang)
    radii = text(lang, "sep_list").join(
        f"{std.categories[k].label(lang)} {std.categories[k].radius_m:.0f} {unit}" for k in keys
    )
    key = "group_definition" if group else "full_definition"
    return text(lang, key, count=len(keys), radii=radii)


def headline(result, lang: str, keys: list[str], sites, group: bool) -> Html:
    """The headline panel: counts, full coverage now and after the sites (of ``keys``, a group's
    own share when ``group``), the rules the figures follow, bundles, sites and data problems."""
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
        note = empty_note(result.standards, cov.get("basket_without_facilities", []), keys, lang)
        if note:  # a 0 % that comes from the data, not the district: said first
            lines.insert(1, fragment('<b class="lc-empty" style="color:#d73027">⚠ {}</b>', note))
        if group or not known:  # a group's own share, or shares of communities
            known_hh = s.get("households") is not None
            before, after = group_shares(result.communities, known_hh, keys, sites)
        else:
            before = cov["full_coverage_households"]
            after = s.get("sites", {}).get("full_coverage_households_after", before)
        colour = "#1a9850" if before >= cov["national_target"] else "#d73027"
        lines.append(
            fragment("<span class=lc-note>{}</span>", _definition(result, lang, keys, group))
        )
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
        lines.append(fragment("<span class=lc-note>{}</span>", mode))
        cats = result.standards.categories
        rule = threshold_text(cov, lambda k: cats[k].label(lang) if k in cats else k, lang)
        lines.append(fragment("<span class=lc-note>{}</span>", rule))
        basis = cov.get("access_basis") or {}
        if basis.get("gates"):
            note = text(lang, "map_access_basis", gates=basis["gates"], outline=basis["outline"])
            lines.append(fragment("<span class=lc-note>{}</span>", note))
    if "bundles" in s and not group:
        lines.append(fragment("{}: {}", lab["bundles"], s["bundles"].get("count", 0)))
    if "sites" in s:
        count = len(sites) if group and sites is not None else s["sites"].get("count", 0)
        parcels = sites["pid"].nunique() if sites is not None and "pid" in sites else None
        if parcels is None:
            lines.append(fragment("{}: {}", lab["sites"], count))
        else:  # facilities and the parcels they stand on, both named (53 on 34)
            on = text(lang, "sites_on_parcels", sites=count, parcels=parcels)
            lines.append(fragment("{}: {}", lab["sites"], on))
    warnings = s.get("warnings") or []
    if warnings:
        note = text(lang, "map_warnings_note", count=len(warnings))
        lines.append(fragment('<span class="lc-warn" style="color:#b35806">⚠ {}</span>', note))
    return join(lines, "<br>")


def page_texts(lang: str) -> dict[str, str]:
    """The words maps.js puts on the page, escaped once here."""
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
        "tiles_failed",
    ]
    out = {k: str(esc(lab[k])) for k in plain}
    out["partners"] = str(esc(lab["partner_layer"]))
    out["whatif_count"] = str(esc(text(lang, "whatif_count", count="#")))
    for key in ("more_here", "grouped_here"):  # the page puts the count where "#" is
        out[key] = str(esc(text(lang, f"map_{key}", count="#")))
    return out


def legend(
    result, lang, store: dict, items: list[tuple], title: str, facilities, extra
) -> list[dict]:
    """The legend rows, each with the layer (``ref``) it follows: streets, gap fills, the old / other
    outlines, gates, bundles, parcels, the ``extra`` rows and the ``facilities`` rows."""
    lab = labels(lang)
    entries = [{"ref": "lc:streets", "html": section("", [(STREET_COLOUR, lab["streets"])])}]
    entries.append({"ref": "lc:communities", "html": section(title, items)})
    row = (
        '<div><span style="display:inline-block;width:14px;height:10px;'
        'border:{}px {} {}"></span> {}</div>'
    )
    rows = ((OLD_OUTLINE, "eligible_outline"), (OTHER_OUTLINE, "new_outline"))
    args = [
        part
        for o, key in rows
        for part in (max(1, round(o.width_px)), "dashed" if o.dash_px else "solid", o.colour)
        + (lab[key],)
    ]  # the outlines of spatial.outputs.style, as the map draws them
    outline = fragment(f"<div class=lc-leg>{row}{row}</div>", *args)
    entries.append({"ref": "lc:communities", "html": outline})
    basis = result.communities.get("access_basis")
    if basis is not None and (basis == "gates").any():  # the access basis: from the gates
        gated = fragment(
            '<div class=lc-leg><span style="display:inline-block;width:14px;height:10px;'
            'border:2px solid {}"></span> {}</div>',
            GATE_COLOUR,
            lab["gates_outline"],
        )
        entries.append({"ref": "lc:communities", "html": gated})
    if store["bundles"]["id"]:
        swatches = join(
            [
                fragment(
                    '<span style="display:inline-block;width:14px;height:10px;'
                    'border:2px dashed {};margin-right:1px"></span>',
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
            row = f"{lab[key]} ({kinds.count(kind)})"
            if kind == "site":  # parcels, and the facilities they hold
                progs = [
                    p for p, k in zip(store["parcels"]["prog"], kinds, strict=True) if k == kind
                ]
                row = text(
                    lang,
                    "site_parcels_count",
                    parcels=kinds.count(kind),
                    sites=sum(len(p) for p in progs),
                )
            entries.append({"ref": ref, "html": section("", [(colour, row)])})
    entries += extra
    for ref, row in facilities:
        entries.append({"ref": ref, "html": section("", [row])})
    note = fragment(
        "<div class=lc-leg><span class=lc-note>{}</span></div>", lab["map_icons_grouped"]
    )
    entries.append({"ref": "lc:grouped", "html": note})  # while icons or labels are grouped
    for e in entries:
        e["html"] = str(e["html"])
    return entries
