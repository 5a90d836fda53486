"""Exported maps and reports opened the way a planner would: HTML in headless Chromium with the
network blocked, the ledger read back with openpyxl, the PNG checked for size and content."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from spatial.config.project import load_project
from spatial.workflow.pipeline import run

from ..conftest import open_page

_CLICK_FIRST_POLYGON = """() => {
  const key = Object.keys(window).find(k => k.startsWith('map_'));
  const map = window[key];
  let target = null;
  map.eachLayer(l => { if (!target && l.feature && l.feature.properties.popup && l.getBounds) target = l; });
  const pt = map.latLngToContainerPoint(target.getBounds().getCenter());
  const box = map.getContainer().getBoundingClientRect();
  return [pt.x + box.left, pt.y + box.top, target.feature.properties.label];
}"""


@pytest.mark.parametrize("name", ["overview", "elderly", "childcare", "clinics", "markets"])
def test_html_opens_offline_with_layers_and_popup(browser, demo_out, name, tmp_path):
    page, errors, blocked, _ = open_page(
        browser, demo_out / f"{name}.html", tmp_path / f"{name}.png"
    )
    assert errors == []
    assert blocked == []  # nothing asked for the network: Leaflet and plugins are inlined
    overlays = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert any("小区" in t for t in overlays)
    assert any("公共服务设施" in t for t in overlays)
    assert page.locator(".leaflet-marker-pane .lc-ico").count() > 0  # category icons
    if name == "overview":
        assert any("成片改造片区" in t for t in overlays)
        assert any("服务范围" in t for t in overlays)
        assert "全覆盖户数占比" in page.locator("#lc-headline").inner_text()
    x, y, label = page.evaluate(_CLICK_FIRST_POLYGON)
    page.mouse.click(x, y)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=3000)
    text = popup.inner_text()
    assert label in text and "建成年代" in text and ("✓" in text or "✗" in text)
    assert (tmp_path / f"{name}.png").stat().st_size > 20_000
    page.close()


def test_names_are_escaped(browser, small_project, tmp_path):
    from ..conftest import small_communities

    comm = small_communities()
    comm.loc[0, "小区名称"] = "<script>alert(1)</script>"
    comm.loc[1, "小区名称"] = '<img src=x onerror="alert(2)">'
    comm.to_file(small_project.parent / "communities.gpkg")
    project = load_project(small_project)
    project.render.basemap = "none"
    run(project, tmp_path / "out", ("coverage", "map"))
    html = (tmp_path / "out" / "overview.html").read_text("utf-8")
    assert "<script>alert(1)</script>" not in html
    page, errors, _, dialogs = open_page(
        browser, tmp_path / "out" / "overview.html", tmp_path / "x.png"
    )
    assert dialogs == [] and errors == []
    page.evaluate("""() => { const k = Object.keys(window).find(k => k.startsWith('map_'));
        window[k].eachLayer(l => { if (l.feature && l.feature.properties.popup && !window._done) {
            l.fire('click', {latlng: l.getBounds().getCenter()}, true); window._done = true; } }); }""")
    assert "<script>alert(1)</script>" in page.locator(".leaflet-popup-content").inner_text()
    page.close()


def test_gaode_basemap_shifts_overlays_to_gcj02(demo_out, tmp_path):
    from spatial.outputs.html.leaflet import display_frame

    comm = gpd.read_file(demo_out / "lifecircle.gpkg", layer="communities")
    wgs = display_frame(comm, "none").geometry.iloc[0].centroid
    gcj = display_frame(comm, "gaode").geometry.iloc[0].centroid
    from pyproj import Geod

    shift = Geod(ellps="WGS84").inv(wgs.x, wgs.y, gcj.x, gcj.y)[2]
    assert 100 < shift < 700


def test_ledger_read_back(demo_out):
    from openpyxl import load_workbook

    book = load_workbook(demo_out / "ledger.xlsx")
    assert (
        book.sheetnames
        == [
            "汇总",
            "数据问题",  # the demo's facilities have no capacity: assumed (spatial.analysis.capacity.twostep)
            "未计入的设施",  # the demo's three 银行 rows, by name
            "小区台账",
            "街道汇总",
            "缺口测算",
            "年度计划优先序",
            "成片改造片区",
            "推荐选址",
            "地块方案",
            "选址前后覆盖",
            "需其他措施",
        ]
    )
    sheet = book["小区台账"]
    headers = [c.value for c in sheet[1]]
    assert headers[:4] == ["小区编号", "小区名称", "所属街道", "建成年代（原值）"]
    assert "养老院距离(m)" in headers and "养老院达标" in headers and "所属片区" in headers
    assert sheet.freeze_panes == "C2" and sheet.auto_filter.ref  # id and name stay in view
    assert (
        sheet.max_row
        == 1 + gpd.read_file(demo_out / "lifecircle.gpkg", layer="communities").shape[0]
    )
    col = headers.index("养老院达标") + 1
    marks = {v for (v,) in sheet.iter_rows(min_row=2, min_col=col, max_col=col, values_only=True)}
    assert marks <= {"✓", "✗"} and len(marks) == 2
    assert sheet.column_dimensions["B"].width >= 10
    summary = {r[0].value: r[1].value for r in book["汇总"].iter_rows(min_row=2)}
    assert summary["小区数"] == sheet.max_row - 1


def test_print_map_png_is_a3_at_300_dpi_and_not_blank(demo_out):
    from PIL import Image

    image = Image.open(demo_out / "overview.png").convert("RGB")
    assert image.size == (4960, 3507)  # A3 landscape at 300 dpi
    pixels = np.asarray(image.resize((496, 350)))
    assert pixels.std() > 20  # a drawing, not an empty page
    colours = {tuple(p) for p in pixels.reshape(-1, 3)[::7]}
    assert len(colours) > 50
    assert (demo_out / "overview.pdf").read_bytes()[:5] == b"%PDF-"


@pytest.mark.slow
def test_missing_cjk_font_is_a_clear_error(monkeypatch, run_cli, tmp_path):
    from spatial.text import printing as printtext

    monkeypatch.setattr(printtext, "CJK_FAMILIES", ("No Such Font",))
    code, _, err = run_cli("map", "--out", tmp_path / "m", "--basemap", "none", "--lang", "en")
    assert code == 2 and "no Chinese (CJK) font" in err and "fonts-wqy-microhei" in err
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())
    code, out, _ = run_cli("run", "--out", tmp_path / "r", "--basemap", "none")
    assert code == 0 and "找不到用于打印图的中文字体" in out and "fonts-wqy-microhei" in out


@pytest.mark.slow
def test_english_labels(run_cli, tmp_path):
    code, _, err = run_cli("map", "--out", tmp_path, "--lang", "en", "--basemap", "none")
    assert code == 0, err
    html = (tmp_path / "overview.html").read_text("utf-8")
    assert "Households fully covered" in html and "Communities" in html
    from openpyxl import load_workbook

    assert "Communities" in load_workbook(tmp_path / "ledger.xlsx").sheetnames


@pytest.mark.slow
def test_given_subdistrict_outlines_are_drawn(small_project, tmp_path):
    import shapely

    from ..conftest import small_communities

    outline = shapely.box(*small_communities().total_bounds).buffer(50)
    gpd.GeoDataFrame({"街道名称": ["<b>历下</b>街道"]}, geometry=[outline], crs=4548).to_file(
        small_project.parent / "streets.geojson"
    )
    text = small_project.read_text("utf-8") + '[subdistricts]\npath = "streets.geojson"\n'
    small_project.write_text(text, "utf-8")
    project = load_project(small_project)
    project.render.basemap = "none"
    result = run(project, tmp_path, ("coverage", "map"))
    assert result.layers.subdistricts["name"].iloc[0] == "<b>历下</b>街道"
    html = (tmp_path / "overview.html").read_text("utf-8")
    as_json = json.dumps("&lt;b&gt;历下&lt;/b&gt;街道")[1:-1].replace("&", "\\u0026")
    assert as_json in html  # escaped, then JSON-encoded by folium
    hull = "按小区范围推算"
    assert hull not in html and json.dumps(hull)[1:-1] not in html


def test_imports_run_one_way():
    """No import cycle between the package's modules; on the map side style → leaflet → contents →
    write, and the print pack never imports the HTML side."""
    import ast
    import graphlib

    package = Path(__file__).parents[2] / "spatial"
    graph = {}
    for path in package.rglob("*.py"):
        name = ".".join(("spatial", *path.relative_to(package).with_suffix("").parts))
        name = name.removesuffix(".__init__")
        deps = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.startswith("spatial")
            ):
                deps |= {node.module}
        graph[name] = deps
    order = list(graphlib.TopologicalSorter(graph).static_order())  # raises CycleError
    html = "spatial.outputs.html."
    chain = ["spatial.outputs.style", html + "leaflet", html + "contents", html + "write"]
    assert [order.index(m) for m in chain] == sorted(order.index(m) for m in chain)
    assert not any(d.startswith(html) for d in graph["spatial.outputs.printing.pack"])
    assert html + "contents" not in graph[html + "leaflet"]
