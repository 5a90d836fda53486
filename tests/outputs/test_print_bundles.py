"""Maps that carry the meeting (issue 14), the print side and the shared style rules: bundles in
the HTML map's colours on the print overview, group print maps with their group's before → after
share, and subdistrict hulls left out (with one warning) where they cross other subdistricts."""

from __future__ import annotations

from types import SimpleNamespace

import folium
import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pytest
import shapely
from matplotlib.patches import PathPatch

from spatial.outputs import style
from spatial.outputs.html.overlays import subdistrict_layer
from spatial.outputs.html.store import bundle_store
from spatial.outputs.printing import pack as printmap
from spatial.outputs.style import share_text


@pytest.fixture(scope="module")
def demo(demo_analysis):
    return demo_analysis(("coverage", "bundle", "sites"))


def _texts(fig) -> str:
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            found += [t.get_text() for t in legend.get_texts()]
    return "\n".join(found)


def test_print_overview_colours_adjacent_bundles_apart_as_the_html_map(demo):
    bundles = demo.bundling.bundles
    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        fig = printmap._overview(printmap.MapBase(demo), "zh")
    ax = fig.axes[0]
    offset = printmap.bundle_offset_m(ax)  # the line runs outside the members' outlines
    assert 10 <= offset < 12  # at the demo's scale (4 m a point) about the HTML map's 10 m
    drawn = {
        a.get_gid().split(":", 1)[1]: a.get_path().vertices
        for a in ax.artists + ax.patches
        if isinstance(a, PathPatch) and str(a.get_gid()).startswith("bundles:")
    }
    shown = _texts(fig)
    plt.close(fig)
    # each bundle's outline is in exactly one colour's path: read the colour it was drawn in
    colour_of = []
    for geom in shapely.buffer(bundles.geometry.values, offset):
        first = shapely.get_coordinates(shapely.boundary(geom))[0]
        owners = [
            c for c, v in drawn.items() if np.isclose(v, first, rtol=0, atol=1e-6).all(axis=1).any()
        ]  # to the micrometre: a relative tolerance spans metres at these coordinates
        assert len(owners) == 1
        colour_of.append(owners[0])
    assert colour_of == style.bundle_colours(bundles)  # the one rule the HTML store uses too
    geoms = bundles.geometry.values
    i, j = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=50.0)
    pairs = [(a, b) for a, b in zip(i, j, strict=True) if a < b]
    assert len(pairs) >= 3  # the demo has neighbouring bundles (B01/B11, B06/B17 …)
    assert all(colour_of[a] != colour_of[b] for a, b in pairs)
    assert len(set(colour_of)) > 1
    assert f"成片改造片区 ({len(bundles)})" in shown  # one legend row with the colour swatches


def test_html_store_uses_the_same_bundle_colours(demo):
    origin = np.array([0, 0])
    store = bundle_store(demo, demo.communities, "zh", "none", origin, False)
    assert store["colour"] == style.bundle_colours(demo.bundling.bundles)


def test_bundle_colouring_keeps_touching_and_near_bundles_apart():
    squares = [shapely.box(x, 0, x + 100, 100) for x in (0, 100, 230, 400)]  # gaps 0, 30, 70 m
    colours = style.bundle_colours(gpd.GeoDataFrame(geometry=squares, crs=4548))
    assert colours[0] != colours[1] and colours[1] != colours[2]
    assert colours[3] != colours[2]  # 70 m apart: free, and takes the least used colour


def test_group_print_map_shows_before_and_after_from_summary(demo):
    """A one-category group's share is that category's in summary.json, before → after."""
    block = demo.summary["sites"]["by_category"]["market"]
    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        fig = printmap._group(printmap.MapBase(demo), "zh", "markets", ["market"])
    shown = _texts(fig)
    plt.close(fig)
    before, after = share_text(block["households_before"]), share_text(block["households_after"])
    assert before != after
    assert f"全覆盖户数占比 {before} → {after}（推荐选址后）" in shown


def test_group_print_map_after_share_counts_the_groups_sites(demo):
    comm = demo.communities
    keys = ["elderly_daycare", "nursing_home"]
    sites = demo.siting.sites
    hh = comm["households"].fillna(0).to_numpy(float)
    after = np.ones(len(comm), bool)
    for k in keys:
        ids = set(",".join(sites.loc[sites["category"] == k, "covered_ids"]).split(","))
        after &= comm[f"{k}_ok"].to_numpy(bool) | comm["cid"].isin(ids).to_numpy()
    expected = share_text(hh[after].sum() / hh.sum())
    with plt.rc_context(printmap.print_style(printmap.cjk_font())):
        fig = printmap._group(printmap.MapBase(demo), "en", "elderly", keys)
    first = _texts(fig).split("\n")[1]
    plt.close(fig)
    assert f"→ {expected} (after the recommended sites)" in first or f"→ {expected}（" in first
    overall = share_text(demo.summary["sites"]["full_coverage_households_after"])
    assert overall != expected and overall not in first


def _hull_case(b_shift: float) -> gpd.GeoDataFrame:
    """Subdistrict A: two communities 300 m apart; B: one community between them, moved up by
    ``b_shift`` m (A's hull is the strip y 0–100 between them)."""
    geoms = [
        shapely.box(0, 0, 100, 100),
        shapely.box(400, 0, 500, 100),
        shapely.box(200, b_shift, 300, b_shift + 100),
    ]
    return gpd.GeoDataFrame(
        {"cid": ["a1", "a2", "b1"], "subdistrict": ["A", "A", "B"]}, geometry=geoms, crs=4548
    )


def test_subdistrict_hull_crossing_another_subdistricts_community_is_left_out():
    hulls, crossing = style.subdistrict_hulls(_hull_case(50.0))  # B1 half inside A's hull
    assert crossing == ["A"] and list(hulls.index) == ["B"]
    hulls, crossing = style.subdistrict_hulls(_hull_case(99.5))  # 0.5 % overlap: tolerated
    assert crossing == [] and list(hulls.index) == ["A", "B"]
    hulls, crossing = style.subdistrict_hulls(_hull_case(98.0))  # 2 %: crosses
    assert crossing == ["A"]


def test_html_map_draws_only_the_clean_hulls_and_warns_once():
    comm = _hull_case(50.0)
    result = SimpleNamespace(
        communities=comm, layers=SimpleNamespace(subdistricts=None, problems=[])
    )
    fmap = folium.Map()
    entries = subdistrict_layer(fmap, result, "zh", "none")
    subdistrict_layer(folium.Map(), result, "zh", "none")  # the group maps: no second note
    assert len(entries) == 1  # B's hull, drawn as approximate
    layer = fmap._children[entries[0]["ref"]]
    assert len(layer.data["features"]) == 1
    assert "B" in layer.data["features"][0]["properties"]["tip"]
    [p] = result.layers.problems
    assert p.code == "subdistrict_hull_crosses" and p.sample == ("A",)
    assert "穿过其他街道的小区" in p.message("zh") and "A" in p.message("zh")
    assert "crosses communities of another subdistrict" in p.message("en")


def test_bundle_sheets_follow_the_maps_in_bundle_order(demo, tmp_path, monkeypatch):
    from pypdf import PdfReader

    monkeypatch.setattr(printmap, "_groups", lambda result: [])  # the overview only, for speed
    files = printmap.write_print_maps(demo, tmp_path, "en")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["overview.pdf", "overview.png"]
    assert [f.name for f in files] == ["overview.png", "overview.pdf"]
    pages = PdfReader(tmp_path / "overview.pdf").pages
    ids = list(demo.bundling.bundles["bundle_id"])
    assert len(pages) == 1 + len(ids)
    for page, bid in zip(pages[1:], ids, strict=True):
        assert f"Bundle {bid}" in page.extract_text()


def _nursery_ratio_tips(chromium, folder):
    """Open ``folder/overview.html``, switch on the nursery supply-ratio layer: the page, its
    errors and blocked requests, and the layer's tooltip texts."""
    from ..conftest import open_page

    page, errors, blocked, _ = open_page(chromium, folder / "overview.html", folder / "shot.png")
    page.hover(".leaflet-control-layers")
    label = page.locator(".leaflet-control-layers-overlays label", has_text="Supply ratio: Nursery")
    label.locator("input").first.set_checked(True)
    tips = page.evaluate(
        """() => { const out = [];
        window[window.LC_STORE.map].eachLayer(l => {
          const t = l instanceof L.Polygon && l.getTooltip() && l.getTooltip().getContent();
          if (typeof t === "string" && t.includes("supply ratio")) out.push(t); });
        return out; }"""
    )
    return page, errors, blocked, tips


def test_capacity_layer_is_drawn_from_the_store_with_the_catalogue_tooltip(
    demo,
    browser,
    tmp_path,
):
    import math

    from spatial.core.messages import text
    from spatial.outputs.html.write import write_maps

    write_maps(demo, tmp_path, "en", "none")
    page, errors, blocked, tips = _nursery_ratio_tips(browser, tmp_path)
    legend = page.inner_text("#lc-legend")
    page.close()
    assert errors == [] and blocked == []
    comm = demo.communities
    assert len(tips) == len(comm)  # one polygon per community, from the shared outlines
    info = demo.summary["capacity"]["categories"]["nursery"]
    expected = []
    for name, r, s in zip(comm["name"], comm["nursery_ratio"], comm["nursery_short"], strict=True):
        fields = {
            "ratio": "—" if math.isnan(r) else f"{r:.0%}",
            "short": "—" if math.isnan(s) else f"{s:,.0f}",
        }
        expected.append(
            text(
                "en",
                "cap_tooltip",
                name=name,
                category="Nursery (0-3)",
                unit=info["supply_unit_en"],
                **fields,
            )
        )
    assert sorted(tips) == sorted(expected)
    assert "Supply ratio (vs target): Nursery (0-3)" in legend


def test_capacity_tooltip_keeps_a_name_that_looks_like_its_marks(
    demo,
    browser,
    tmp_path,
    monkeypatch,
):
    """A community named like the page's value marks (``@@R@@``) shows its name, not a value."""
    from spatial.outputs.html.write import write_maps

    names = demo.communities["name"].copy()
    names.iloc[0] = "@@R@@ @@S@@ 小区"
    monkeypatch.setitem(demo.communities, "name", names)
    write_maps(demo, tmp_path, "en", "none")
    page, errors, blocked, tips = _nursery_ratio_tips(browser, tmp_path)
    page.close()
    assert errors == [] and blocked == []
    assert sum("@@R@@ @@S@@ 小区" in t for t in tips) == 1
