"""Facility icons and bundle labels on the HTML overview at city scale (``maps.js``): at every zoom
no two drawn ones cover more than ``ICON_OVERLAP`` of the smaller one's box; every hidden one is
counted in a badge on a drawn one, whose click zooms in until they come apart, and at the last
zoom lists the ones that still stand on one another. A generated city (benchmarks/citycase.py)
opened in headless Chromium."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest
import shapely

from spatial.outputs.html import contents as maps
from spatial.outputs.html import leaflet
from spatial.outputs.html.overlays import ICON_OVERLAP
from spatial.workflow.pipeline import in_language

from ..conftest import open_page

EXTENT = 5_000.0  # metres: 1,500 facilities and 400 communities over 5 km
STACKED = 3  # a building holding three facilities: never apart, listed at the last zoom


def _citycase():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "citycase.py"
    spec = importlib.util.spec_from_file_location("citycase", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("citycase", module)  # its dataclass looks its module up
    spec.loader.exec_module(sys.modules["citycase"])
    return sys.modules["citycase"]


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The overview of a generated city (straight-line distances, bundles), with ``STACKED``
    facilities of three categories at one point; and its facilities."""
    from spatial.analysis.result import RunResult
    from spatial.inputs.load import Layers
    from spatial.workflow.pipeline import analyse

    case = _citycase()
    project, std = case.core_project("城市图标测试")
    project.render.basemap = "none"
    fac = case.facilities(1500, extent=EXTENT)
    at = shapely.Point(case.X0 + EXTENT / 2, case.Y0 + EXTENT / 2)
    stack = fac.iloc[:STACKED].copy()  # three categories (the generator cycles through them)
    stack["name"] = [f"同楼设施{i}" for i in range(STACKED)]
    stack["facility_id"] = [f"S{i}" for i in range(STACKED)]
    stack = stack.set_geometry([at] * STACKED, crs=fac.crs)
    fac = pd.concat([fac, stack], ignore_index=True).set_crs(fac.crs, allow_override=True)
    comm = case.communities(400, extent=EXTENT)
    layers = Layers(comm, fac, case.parcels(20, extent=EXTENT), fac.crs)
    result = analyse(RunResult(project, std, layers), ("coverage", "bundle"))
    path = tmp_path_factory.mktemp("thin") / "overview.html"
    leaflet.save_map(maps.overview_map(in_language(result, "zh"), "zh", "none"), path)
    maps.clear_cache()
    return path, fac


_DRAWN = """() => Array.from(document.querySelectorAll('.leaflet-marker-pane .lc-ico,'
  + '.leaflet-marker-pane .lc-lbl')).map(e => { const r = e.getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom]; })
  .filter(b => b[2] > 0 && b[0] < innerWidth && b[3] > 0 && b[1] < innerHeight)"""

_MAP = "window[Object.keys(window).find(k => k.startsWith('map_'))]"

_COUNTS = f"""z => {{ const m = {_MAP}, placed = lcState.placement(z);
  return [placed.length, placed.reduce((s, q) => s + q.hidden.length, 0)]; }}"""


def worst_cover(boxes: list) -> float:
    """The largest share of the smaller box that two of ``boxes`` (left, top, right, bottom) have in
    common."""
    worst = 0.0
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            w = min(a[2], b[2]) - max(a[0], b[0])
            h = min(a[3], b[3]) - max(a[1], b[1])
            if w > 0 and h > 0:
                area = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
                worst = max(worst, w * h / area)
    return worst


def _zoom(page, z: int, at: str = "m.getCenter()") -> None:
    page.evaluate(f"() => {{ const m = {_MAP}; m.setView({at}, {z}, {{animate: false}}); }}")
    page.wait_for_timeout(200)


def test_city_icons_never_overlap_and_every_one_is_counted(city, browser, tmp_path):
    path, fac = city
    page, errors, _, _ = open_page(browser, path, tmp_path / "full.png")
    assert errors == []
    items = page.evaluate("() => lcState.thinItems.length")
    full = page.evaluate(f"() => {_MAP}.getZoom()")
    top = page.evaluate(f"() => {_MAP}.getMaxZoom()")
    drawn = page.evaluate(_DRAWN)
    # full extent: a fraction of the 1,503 icons drawn, none over another beyond the threshold
    assert 50 < len(drawn) < len(fac)
    assert worst_cover(drawn) <= ICON_OVERLAP + 0.02  # a pixel of rounding
    assert page.locator("#lc-legend").inner_text().count("角标 +n") == 1
    counts = {z: page.evaluate(_COUNTS, z) for z in range(full, top + 1)}
    for z, (placed, hidden) in counts.items():  # every item drawn or counted, at every zoom
        assert placed + hidden == items, z
    assert counts[full + 1][0] > counts[full][0] and counts[full + 2][0] > counts[full + 1][0]
    # the last zoom: only icons a few metres from the one they are under stay hidden (the
    # stacked building's two among them), listed by its click (next test)
    near = page.evaluate(
        f"""z => {{ const m = {_MAP};
        return lcState.placement(z).flatMap(q => q.hidden.map(it => m.distance(q.it.ll, it.ll))); }}""",
        top,
    )
    assert len(near) >= STACKED - 1 and max(near) < 6.5  # 18 px at 0.24 m a pixel, corner to corner
    _zoom(page, full + 1)
    page.screenshot(path=str(tmp_path / "zoom1.png"))
    assert worst_cover(page.evaluate(_DRAWN)) <= ICON_OVERLAP + 0.02
    page.close()


def test_a_badge_zooms_in_to_the_hidden_icons_and_lists_a_stack(city, browser, tmp_path):
    path, _ = city
    page, errors, _, _ = open_page(browser, path, tmp_path / "full.png")
    before = page.evaluate(f"() => {_MAP}.getZoom()")
    # the drawn icon with a badge nearest the centre: its click zooms in, and there at least one
    # of the icons it stood for is drawn
    hidden = page.evaluate(
        f"""() => {{ const m = {_MAP}, c = m.project(m.getCenter());
        const q = lcState.placement(m.getZoom()).filter(q => q.hidden.length && !q.it.tag)
          .sort((a, b) => a.p.distanceTo(c) - b.p.distanceTo(c))[0];
        const pt = m.latLngToContainerPoint(q.it.ll), box = m.getContainer().getBoundingClientRect();
        window._under = q.hidden.map(it => it.i);
        return [pt.x + box.left, pt.y + box.top]; }}"""
    )
    page.mouse.click(*hidden)
    page.wait_for_timeout(400)
    after = page.evaluate(f"() => {_MAP}.getZoom()")
    assert after > before
    shown = page.evaluate(
        f"""() => {{ const drawn = new Set(lcState.placement({_MAP}.getZoom()).map(q => q.it.i));
        return window._under.filter(i => drawn.has(i)).length; }}"""
    )
    assert shown >= 1
    # the stacked building at the last zoom: one icon with +2, whose click lists all three
    top = page.evaluate(f"() => {_MAP}.getMaxZoom()")
    stack = "lcState.thinItems.find(it => it.tip.startsWith('同楼设施')).ll"
    _zoom(page, top, stack)
    badge = page.locator(".lc-more")
    assert badge.count() == 1 and badge.get_attribute("data-more") == f"+{STACKED - 1}"
    badge.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    text = popup.inner_text()
    assert all(f"同楼设施{i}" in text for i in range(STACKED)), text
    assert f"此处重叠的 {STACKED} 个图标或编号" in text
    assert page.evaluate(f"() => {_MAP}.getZoom()") == top
    assert errors == []
    page.close()


def test_a_category_switched_off_frees_its_places(city, browser, tmp_path):
    path, fac = city
    page, errors, _, _ = open_page(browser, path, tmp_path / "full.png")
    name = "公共服务设施: 老年人日间照料中心"
    before = page.evaluate(_COUNTS, page.evaluate(f"() => {_MAP}.getZoom()"))
    ticked = page.evaluate(
        """name => { const label = [...document.querySelectorAll(
             '.leaflet-control-layers-overlays label')].find(l => l.innerText.trim() === name);
           label.querySelector('input').click(); return label.querySelector('input').checked; }""",
        name,
    )
    assert ticked is False
    page.wait_for_timeout(200)
    after = page.evaluate(_COUNTS, page.evaluate(f"() => {_MAP}.getZoom()"))
    assert sum(after) == sum(before) - (fac["category"] == "elderly_daycare").sum()
    assert page.locator(".lc-ico", has_text="照").count() == 0
    assert errors == []
    page.close()


def test_demo_draws_every_icon_that_overlaps_none_and_its_popups_open(demo_out, browser, tmp_path):
    """At the demo's first view every icon or label whose box covers no other's beyond the
    threshold is drawn (as before thinning); the bundle popup opens."""
    page, errors, _, _ = open_page(browser, demo_out / "overview.html", tmp_path / "demo.png")
    isolated, missing = page.evaluate(
        f"""lim => {{ const m = {_MAP}, z = m.getZoom();
        const items = lcState.thinItems.filter(it => m.hasLayer(it.on));
        const boxes = items.map(it => {{ const p = m.project(it.ll, z).round();
          return [p.x - it.w / 2, p.y - it.h / 2, p.x + it.w / 2, p.y + it.h / 2]; }});
        const cover = (a, b) => {{ const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]),
          h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
          return w <= 0 || h <= 0 ? 0 : w * h / Math.min((a[2] - a[0]) * (a[3] - a[1]),
            (b[2] - b[0]) * (b[3] - b[1])); }};
        const placed = lcState.placement(z), drawn = new Set(placed.map(q => q.it.i));
        const alone = items.filter((it, a) => boxes.every((b, c) => c === a || cover(boxes[a], b) <= lim));
        return [alone.length, alone.filter(it => !drawn.has(it.i)).map(it => it.tip)]; }}""",
        ICON_OVERLAP,
    )
    assert isolated > 0 and missing == []
    note = page.locator("#lc-legend").inner_text().count("角标 +n")
    badges = page.evaluate(
        """() => [...document.querySelectorAll('.lc-more')].map(e => e.getBoundingClientRect())
             .filter(r => (r.left + r.right) / 2 >= 0 && (r.left + r.right) / 2 <= innerWidth
               && (r.top + r.bottom) / 2 >= 0 && (r.top + r.bottom) / 2 <= innerHeight).length"""
    )
    assert note == (1 if badges else 0)  # the legend says so while a badge is in view
    bundle = page.evaluate(
        f"""() => {{ const m = {_MAP}; let b = null;
        m.eachLayer(l => {{ if (!b && l.feature && l.feature.properties.bundle !== undefined) b = l; }});
        b.fire('click', {{latlng: b.getBounds().getCenter()}}, true);
        return document.querySelector('.leaflet-popup-content').innerText; }}"""
    )
    assert "片区" in bundle
    assert errors == []
    page.close()
