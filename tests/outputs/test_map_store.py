"""The compact encodings of the map store (issue 14, large projects), decoded in headless
Chromium on the demo: the what-if reach sets (distance classes of delta-coded community indices)
and the community card facts (a table of distinct values) equal what Python computed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from spatial.core.messages import labels, tier_label
from spatial.outputs.html import contents as maps
from spatial.outputs.html import leaflet
from spatial.outputs.html.overlays import ICON_OVERLAP
from spatial.text import html as htmltext
from spatial.workflow.pipeline import in_language

from ..conftest import open_page
from .test_map_thinning import worst_cover


@pytest.fixture(scope="module")
def overview(demo_analysis, tmp_path_factory) -> tuple[object, Path, dict]:
    """The demo analysed, its overview written; the store read back from the page as JSON."""
    result = in_language(demo_analysis(("coverage", "bundle", "sites")), "zh")
    path = tmp_path_factory.mktemp("store") / "overview.html"
    leaflet.save_map(maps.overview_map(result, "zh", "none"), path)
    maps.clear_cache()
    page = path.read_text("utf-8")
    start = page.index("window.LC_STORE = ") + len("window.LC_STORE = ")
    store = json.loads(page[start : page.index(";</script>", start)])
    return result, path, store


def test_store_text_is_utf8_and_cannot_end_the_script(overview):
    _, path, store = overview
    page = path.read_text("utf-8")
    start = page.index("window.LC_STORE = ")
    data = page[start : page.index(";</script>", start)]
    assert store["comm"]["name"][0] in data  # Chinese as UTF-8, not \\u escapes (half the bytes)
    assert "\\u5c0f" not in data.lower()
    assert "</" not in data and "\u2028" not in data and "\u2029" not in data
    assert "\\u003c" in data  # the cards' HTML is still escaped for the script element


def test_reach_classes_decode_to_the_siting_reach(overview, browser, tmp_path):
    result, path, store = overview
    P = store["parcels"]
    radii = [c.radius_m for c in result.standards.categories.values()]
    assert P["radii"] == sorted(set(radii)) and len(P["radii"]) >= 2
    index = {cid: i for i, cid in enumerate(result.communities["cid"])}
    reach = result.siting.reach
    expected, asked = [], []
    for j, (pid, kind) in enumerate(zip(P["pid"], P["kind"], strict=True)):
        if kind == "partner":
            assert P["reach"][j] == [] and P["prog"][j] == []
            continue
        near = reach.loc[reach["pid"] == pid]
        for k in P["prog"][j]:
            within = near.loc[near["distance_m"] <= radii[k], "cid"]
            expected.append(sorted(index[c] for c in within))
            asked.append([j, k])
    assert len(asked) > 20
    # the classes matter: a category of a smaller radius reaches fewer than the parcel's largest
    largest = reach.groupby("pid")["cid"].nunique()
    fewer = [
        0 < len(e) < largest[P["pid"][j]]
        for (j, k), e in zip(asked, expected, strict=True)
        if radii[k] < max(radii)
    ]
    assert any(fewer)
    page, errors, _, _ = open_page(browser, path, tmp_path / "r.png")
    decoded = page.evaluate(
        "pairs => pairs.map(([j, k]) => window.lcState.reached(j, k).sort((a, b) => a - b))", asked
    )
    page.close()
    assert errors == []
    assert decoded == expected


def test_card_facts_decode_to_the_community_values(overview, browser, tmp_path):
    result, path, store = overview
    lab = labels("zh")
    comm = result.communities
    expected = []
    for _, row in comm.iterrows():
        lines = [
            (lab["built"], row["built_raw"]),
            (lab["households"], int(row["households"])),
            (lab["subdistrict"], row["subdistrict"]),
            (lab["tier"], tier_label("zh", row["tier"], result.project.policy)),
            (lab["bundle"], row["bundle_id"] if isinstance(row["bundle_id"], str) else ""),
        ]
        expected.append("".join(f"<br>{k}: {htmltext.esc(v)}" for k, v in lines if v != ""))
    assert sum("所属片区" in e for e in expected) > 20  # bundle members and others differ
    assert len(store["comm"]["facts"]["cols"][2]["v"]) < len(comm) / 5  # subdistricts once each
    page, errors, _, _ = open_page(browser, path, tmp_path / "f.png")
    decoded = page.evaluate(
        f"() => Array.from({{length: {len(comm)}}}, (_, i) => window.lcState.facts(i))"
    )
    page.close()
    assert errors == []
    assert decoded == expected


def test_bundle_cards_decode_to_the_bundle_rows(overview, browser, tmp_path):
    result, path, store = overview
    lab = labels("zh")
    cats = result.standards.categories
    expected = []
    for _, row in result.bundling.bundles.iterrows():
        gaps = "、".join(cats[k].label("zh") for k in row["shared_gaps"].split(",") if k)
        lines = [
            f"<b>{lab['bundle_title']} {row['bundle_id']}</b>",
            f"{lab['members']}: {row['members']} — {row['member_names']}",
            f"{lab['households']}: {int(row['households']):,}",
            f"{lab['shared_gaps']}: {gaps or lab['none']}",
            f"{lab['partner_parcels']}: {row['partner_parcels'] or '—'}",
            f"<span class=lc-note>{htmltext.esc(row['description'])}</span>",
        ]
        expected.append("<div class=lc-card>" + "<br>".join(lines) + "</div>")
    desc = store["bundles"]["card"]["desc"]
    assert any(isinstance(d, list) for d in desc)  # the gap list stored once, not twice
    assert len(store["bundles"]["card"]["gaps"]["v"]) < len(expected)
    page, errors, _, _ = open_page(browser, path, tmp_path / "c.png")
    decoded = page.evaluate(
        f"() => Array.from({{length: {len(expected)}}}, (_, b) => window.lcState.bundleCard(b))"
    )
    page.close()
    assert errors == []
    assert decoded == expected


def test_outlines_decode_to_the_open_display_rings(overview, browser, tmp_path):
    result, path, store = overview
    disp = leaflet.display_frame(result.communities, "none", tolerance=3.0)
    expected = []
    for geom in disp.geometry:
        part = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        ring = np.round(np.asarray(part.exterior.coords)[:-1] * 1e5) / 1e5
        expected.append(ring.round(5).tolist())
    for geom, stored in zip(disp.geometry, store["comm"]["geom"], strict=True):
        parts = list(getattr(geom, "geoms", [geom]))
        sizes = [[len(r.coords) - 1 for r in [p.exterior, *p.interiors]] for p in parts]
        assert [[len(r) // 2 for r in part] for part in stored] == sizes  # no closing points
    page, errors, _, _ = open_page(browser, path, tmp_path / "g.png")
    drawn = page.evaluate(
        """() => { const out = [];
        window[window.LC_STORE.map].eachLayer(l => { const p = l.feature && l.feature.properties;
          if (p && p.index !== undefined) out[p.index] = l.getLatLngs(); });
        return out; }"""
    )
    page.close()
    assert errors == []
    for want, parts in zip(expected, drawn, strict=True):
        rings = [r for part in parts for r in (part if isinstance(part[0], list) else [part])]
        got = max(rings, key=len)  # the largest part's outer ring (the demo's are single parts)
        assert [[round(p["lng"], 5), round(p["lat"], 5)] for p in got] == want


def test_every_bundle_is_labelled_or_counted_at_every_zoom(overview, browser, tmp_path):
    """At the demo's first view every bundle label shows; three zoom steps out they would lie on
    one another: those that would are counted in a badge on the label they lie under."""
    result, path, store = overview
    page, errors, _, _ = open_page(browser, path, tmp_path / "t.png")
    ids = sorted(result.bundling.bundles["bundle_id"])
    assert sorted(page.locator(".leaflet-marker-pane .lc-lbl").all_inner_texts()) == ids
    page.evaluate("() => { const m = window[window.LC_STORE.map]; m.setZoom(m.getZoom() - 3); }")
    page.wait_for_timeout(800)
    shown = page.locator(".leaflet-marker-pane .lc-lbl").all_inner_texts()
    boxes = page.evaluate(
        """() => Array.from(document.querySelectorAll('.leaflet-marker-pane .lc-lbl'),
        e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })"""
    )
    counted = page.evaluate(
        """() => { const m = window[window.LC_STORE.map];
        return lcState.placement(m.getZoom()).flatMap(q => [q.it].concat(q.hidden))
          .filter(it => it.tag).map(it => it.tip); }"""
    )
    page.close()
    assert errors == []
    assert set(shown) < set(ids)  # zoomed out: some labels grouped under others
    assert worst_cover(boxes) <= ICON_OVERLAP + 0.02
    assert sorted(t.split()[-1] for t in counted) == ids  # every one drawn or counted
