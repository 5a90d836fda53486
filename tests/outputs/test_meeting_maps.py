"""The maps that carry a meeting (issue 14), opened in headless Chromium with the network
blocked: bundle colours, the legend of visible layers, today / after / what-if coverage equal to
summary.json, streets without tiles, the community search."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial.outputs.style import STREET_COLOUR, share_text

from ..conftest import open_page

_MAP = "window[window.LC_STORE.map]"


@pytest.fixture
def meeting(demo_out) -> Path:
    """The demo's whole run, written once for the session (conftest)."""
    return demo_out


def _shown(page) -> str:
    return page.locator("#lc-shown").inner_text()


def _set_overlay(page, text: str, on: bool) -> None:
    page.hover(".leaflet-control-layers")
    box = page.locator(".leaflet-control-layers-overlays label", has_text=text).locator("input")
    box.first.set_checked(on)
    page.mouse.move(700, 450)


def test_share_text_is_one_rule_in_python_and_the_page(browser, meeting, tmp_path):
    assert share_text(0.0691) == "6.9%" and share_text(0.51129) == "51.1%"
    assert share_text(1) == "100.0%" and share_text(0) == "0.0%"
    page, errors, blocked, _ = open_page(browser, meeting / "overview.html", tmp_path / "o.png")
    assert errors == [] and blocked == []
    values = np.random.default_rng(1).random(300).round(6).tolist() + [0.0691, 0.51125, 1.0]
    shown = page.evaluate("v => v.map(window.lcState.pct)", values)
    assert shown == [share_text(v) for v in values]
    page.close()


def test_adjacent_bundles_differ_in_colour_and_fill_is_clickable(browser, meeting, tmp_path):
    bundles = gpd.read_file(meeting / "lifecircle.gpkg", layer="bundles")
    page, errors, _, _ = open_page(browser, meeting / "overview.html", tmp_path / "b.png")
    assert errors == []
    drawn = dict(
        page.evaluate(f"""() => {{ const out = [];
        {_MAP}.eachLayer(l => {{ if (l.feature && l.feature.properties.bundle !== undefined)
            out.push([l.feature.properties.label, l.options.fillColor, l.options.fillOpacity]); }});
        return out.map(r => [r[0], r[1] + '|' + r[2]]); }}""")
    )
    assert sorted(drawn) == sorted(bundles["bundle_id"])
    colour = {k: v.split("|")[0] for k, v in drawn.items()}
    # no tint over the gap colours (issue 30), but filled transparently: clickable inside
    assert all(float(v.split("|")[1]) == 0 for v in drawn.values())
    geoms = bundles.geometry.values
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=50.0)
    pairs = [
        (bundles["bundle_id"][i], bundles["bundle_id"][j])
        for i, j in zip(a, b, strict=True)
        if i < j
    ]
    assert len(pairs) >= 3  # the demo has neighbouring bundles (e.g. touching ones)
    assert all(colour[x] != colour[y] for x, y in pairs), pairs
    # a click inside a bundle but off its outline opens the wrapped card with members
    first = bundles.iloc[0]
    inner = first.geometry.buffer(-15)
    point = gpd.GeoSeries([inner.representative_point()], crs=bundles.crs).to_crs(4326).iloc[0]
    page.evaluate(
        f"""([lat, lng, id]) => {{ {_MAP}.eachLayer(l => {{
        if (l.feature && l.feature.properties.label === id && l.feature.properties.bundle !== undefined)
            l.fire('click', {{latlng: L.latLng(lat, lng)}}, true); }}); }}""",
        [point.y, point.x, first["bundle_id"]],
    )
    card = page.locator(".leaflet-popup-content").inner_text()
    assert first["bundle_id"] in card and "成员小区" in card and "共同缺项" in card
    page.close()


def test_legend_lists_each_visible_layer(browser, meeting, tmp_path):
    page, errors, _, _ = open_page(browser, meeting / "overview.html", tmp_path / "l.png")
    assert errors == []
    legend = page.locator("#lc-legend").inner_text()
    for shown in ["街道路网", "缺项数 0", "老旧小区（可纳入改造）", "成片改造片区 (19)",
                  "推荐选址地块", "街道范围（近似", "养老院 (3)", "便利店 (70)"]:  # fmt: skip
        assert shown in legend, shown
    for hidden in ["服务范围", "未选中的候选用地", "片区统筹平衡地块"]:  # off by default
        assert hidden not in legend, hidden
    _set_overlay(page, "未选中的候选用地", True)
    _set_overlay(page, "成片改造片区", False)
    legend = page.locator("#lc-legend").inner_text()
    assert "未选中的候选用地" in legend and "成片改造片区" not in legend
    page.close()


_PARCELS = """kind => { const P = window.lcState.parcels, out = [];
  P.kind.forEach((k, j) => { if (k === kind) out.push(j); }); return out; }"""
_CLICK_PARCEL = f"""j => {{ {_MAP}.eachLayer(l => {{
  if (l.feature && l.feature.properties.parcel === j)
    l.fire('click', {{latlng: l.getBounds().getCenter()}}, true); }}); }}"""
_FILLS = f"""() => {{ const out = [];
  {_MAP}.eachLayer(l => {{ if (l.feature && l.feature.properties.index !== undefined)
    out[l.feature.properties.index] = l.options.fillColor; }}); return out; }}"""


def test_before_after_and_what_if_match_summary(browser, meeting, tmp_path):
    summary = json.loads((meeting / "summary.json").read_text("utf-8"))
    before = summary["coverage"]["full_coverage_households"]
    after = summary["sites"]["full_coverage_households_after"]
    assert share_text(before) != share_text(after)
    page, errors, _, _ = open_page(browser, meeting / "overview.html", tmp_path / "w.png")
    assert errors == []
    headline = page.locator("#lc-headline").inner_text()
    headline = headline.replace("\u00a0", " ")  # number and unit never broken apart
    assert "8类设施均在标准步行距离内" in headline and "养老院 1000 m" in headline
    assert f"现状 {share_text(before)} → 推荐选址后 {share_text(after)}" in headline
    assert _shown(page) == share_text(before)
    today = page.evaluate(_FILLS)
    page.locator(".lc-view input[value=after]").check()
    assert _shown(page) == share_text(after)
    changed = sum(a != b for a, b in zip(today, page.evaluate(_FILLS), strict=True))
    assert changed > 10  # communities recoloured after the programme
    # what-if: starts from today; clicking every recommended parcel rebuilds the programme
    page.locator(".lc-view input[value=whatif]").check()
    assert _shown(page) == share_text(before)
    sites = page.evaluate(_PARCELS, "site")
    assert len(sites) == gpd.read_file(meeting / "lifecircle.gpkg", layer="sites")["pid"].nunique()
    for j in sites:
        page.evaluate(_CLICK_PARCEL, j)
    assert _shown(page) == share_text(after)
    assert page.evaluate(_FILLS) != today
    page.evaluate(_CLICK_PARCEL, sites[0])  # remove one parcel: the share falls
    assert _shown(page) != share_text(after)
    for j in sites[1:]:
        page.evaluate(_CLICK_PARCEL, j)
    assert _shown(page) == share_text(before)
    assert page.evaluate(_FILLS) == today
    # a candidate parcel adds its facilities: the share never falls, the label counts it
    cand = page.evaluate(_PARCELS, "candidate")
    assert cand
    page.evaluate(_CLICK_PARCEL, cand[0])
    assert float(_shown(page)[:-1]) >= float(share_text(before)[:-1])
    assert "1处地块" in page.locator("#lc-shown-label").inner_text()
    page.close()


def test_group_map_headline_is_the_groups_own_share(browser, meeting, tmp_path):
    comm = gpd.read_file(meeting / "lifecircle.gpkg", layer="communities")
    sites = gpd.read_file(meeting / "lifecircle.gpkg", layer="sites")
    keys = ["elderly_daycare", "nursing_home"]
    hh = comm["households"].fillna(0).to_numpy(float)
    ok = np.all([comm[f"{k}_ok"].astype(bool) for k in keys], axis=0)
    after = np.ones(len(comm), bool)
    for k in keys:
        ids = set(",".join(sites.loc[sites["category"] == k, "covered_ids"].astype(str)).split(","))
        after &= (
            comm[f"{k}_ok"].astype(bool).to_numpy() | comm["cid"].astype(str).isin(ids).to_numpy()
        )
    share_before, share_after = hh[ok].sum() / hh.sum(), hh[after].sum() / hh.sum()
    page, errors, _, _ = open_page(browser, meeting / "elderly.html", tmp_path / "elderly.png")
    assert errors == []
    headline = page.locator("#lc-headline").inner_text()
    assert "本组全覆盖：2类设施" in headline
    assert f"现状 {share_text(share_before)} → 推荐选址后 {share_text(share_after)}" in headline
    page.locator(".lc-view input[value=after]").check()
    assert _shown(page) == share_text(share_after)
    page.close()


def test_streets_draw_without_tiles(browser, meeting, tmp_path):
    page, errors, blocked, _ = open_page(browser, meeting / "overview.html", tmp_path / "s.png")
    assert errors == [] and blocked == []
    assert page.locator(".leaflet-tile").count() == 0
    for name in ["小区", "成片改造片区", "推荐选址", "街道范围"]:
        _set_overlay(page, name, False)
    page.evaluate(f"() => {{ {_MAP}.closePopup(); return 0; }}")
    shot = tmp_path / "streets.png"
    page.locator(".leaflet-container").screenshot(path=str(shot))
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3).astype(int)
    grey = np.array([int(STREET_COLOUR[i : i + 2], 16) for i in (1, 3, 5)])
    streets = (np.abs(pixels - grey).max(axis=1) <= 12).sum()
    assert streets > 5000, streets  # the network as lines, drawn without any tile
    page.close()


def test_search_finds_a_community_by_name(browser, meeting, tmp_path):
    comm = gpd.read_file(meeting / "lifecircle.gpkg", layer="communities")
    name = comm["name"].iloc[40]
    page, errors, _, _ = open_page(browser, meeting / "overview.html", tmp_path / "q.png")
    assert errors == []
    page.locator(".leaflet-control-search .search-button").click()
    box = page.locator(".leaflet-control-search input.search-input")
    box.fill(name[:2])  # as an input method leaves it: the text, then a keyup
    box.dispatch_event("keyup")
    tip = page.locator(".leaflet-control-search .search-tip", has_text=name)
    tip.first.click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    assert popup.inner_text().startswith(name + "\n")
    assert page.evaluate(f"() => {_MAP}.getZoom()") >= 16
    page.close()


@pytest.mark.slow
def test_tianditu_key_from_flag_or_environment(run_cli, small_project, tmp_path, monkeypatch):
    from spatial.outputs.html.leaflet import new_map

    monkeypatch.setenv("TIANDITU_KEY", "ENVKEY")
    page = new_map(np.array([117.0, 36.6, 117.1, 36.7]), "tianditu_img").get_root().render()
    assert "img_w" in page and "cia_w" in page and "tk=ENVKEY" in page  # imagery + annotation
    code, _, err = run_cli("map", "--config", small_project, "--out", tmp_path / "o",
                           "--basemap", "tianditu", "--tianditu-key", "FLAGKEY")  # fmt: skip
    assert code == 0, err
    html = (tmp_path / "o" / "overview.html").read_text("utf-8")
    assert "tk=FLAGKEY" in html and "tk=ENVKEY" not in html and "cva_w" in html
    monkeypatch.delenv("TIANDITU_KEY")
    code, _, err = run_cli("map", "--config", small_project, "--out", tmp_path / "p",
                           "--basemap", "tianditu")  # fmt: skip
    assert code == 2 and "天地图" in err  # no key anywhere: stops before reading anything
