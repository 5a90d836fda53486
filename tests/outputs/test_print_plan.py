"""The print overview by year (issue 27): the demo run with its ``[plan]`` section uncommented
writes ``plan.png`` (A3, 300 dpi) and the same page in ``overview.pdf`` with its bookmark; each
compound is filled in its year's colour, the reserve and the communities outside the programme
in their own; the legend's per-year figures are ``summary.json["plan"]``'s; in English every
word on the page is English. On a hand-built programme: unknown figures said, a greedy
programme's missed deadline said, a long programme's legend kept short, no page when
infeasible."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import shapely
from matplotlib.patches import PathPatch
from PIL import Image

from spatial.analysis.result import PlanResult
from spatial.config.project import load_project
from spatial.core import settings
from spatial.outputs.printing import pack as printmap
from spatial.outputs.printing import plan_page as planprint
from spatial.outputs.printing.draw import figure, frame
from spatial.outputs.printing.page import A3_LANDSCAPE_IN, DPI, MAP_BOX, MapBase, print_style
from spatial.outputs.style import year_colours
from spatial.workflow.pipeline import in_language, run

CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef\u3000-\u303f]")


def _with_plan(folder: Path) -> Path:
    """A copy of the demo project in ``folder`` with its commented ``[plan]`` section in force."""
    shutil.copytree(settings.DEMO_DIR, folder, dirs_exist_ok=True)
    toml = folder / "project.toml"
    lines, on = [], False
    for line in toml.read_text("utf-8").splitlines():
        on = line == "# [plan]" or (on and line.startswith("# "))
        lines.append(line[2:] if on else line)
    toml.write_text("\n".join(lines) + "\n", "utf-8")
    assert "\n[plan]\nstart = 2027\nend = 2030\n" in toml.read_text("utf-8")
    return toml


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The demo with [plan] run whole (no basemap, print failures raised): (result, out)."""
    project = load_project(_with_plan(tmp_path_factory.mktemp("demo_plan")))
    project.render.basemap = "none"
    out = tmp_path_factory.mktemp("plan_out")
    return run(project, out, strict_print=True), out


def _pixels(result, geom, image: np.ndarray) -> Counter:
    """The colours of the PNG's pixels inside ``geom`` (2 px in from its outline)."""
    fig = figure(A3_LANDSCAPE_IN, DPI)
    ax = fig.add_axes(MAP_BOX)
    frame(ax, result.communities.total_bounds)
    ax.apply_aspect()
    x0, y0, x1, y1 = geom.bounds
    (px0, py0), (px1, py1) = ax.transData.transform([(x0, y0), (x1, y1)])
    xs, ys = np.meshgrid(np.arange(int(px0), int(px1) + 1), np.arange(int(py0), int(py1) + 1))
    centres = ax.transData.inverted().transform(np.column_stack([xs.ravel(), ys.ravel()]) + 0.5)
    metres_per_px = (x1 - x0) / max(px1 - px0, 1)
    inner = geom.buffer(-2 * metres_per_px)
    inside = shapely.contains_xy(inner, centres[:, 0], centres[:, 1])
    rows = image.shape[0] - 1 - ys.ravel()[inside]  # the PNG's first row is the page's top
    return Counter(map(tuple, image[rows, xs.ravel()[inside]]))


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


@pytest.mark.slow  # a whole demo run
def test_plan_png_is_a3_and_fills_each_compound_in_its_years_colour(planned):
    result, out = planned
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    assert summary["plan"]["status"] == "optimal"
    assert "plan.png" in summary["outputs"]
    assert printmap.print_names(result)[:2] == ["overview.png", "plan.png"]
    png = Image.open(out / "plan.png")
    assert png.size == (4960, 3507)
    image = np.asarray(png.convert("RGB"))
    plan = result.plan.plan
    years = result.plan.years["year"].tolist()
    colours = dict(zip(years, year_colours(len(years)), strict=True))
    checked = 0
    for year in years:
        these = plan.loc[((plan["year"] == year) & (plan["state"] == "planned")).to_numpy(bool)]
        for geom in these.geometry.values[:4]:
            found = _pixels(result, geom, image)
            assert found.most_common(1)[0][0] == _rgb(colours[year]), (year, found.most_common(3))
            checked += 1
    assert checked >= 8 and len({y for y in years if (plan["year"] == y).any()}) >= 3
    reserve = plan.loc[(plan["state"] == "reserve").to_numpy(bool)]
    assert len(reserve)
    found = _pixels(result, reserve.geometry.values[0], image)
    assert found.most_common(1)[0][0] == _rgb(planprint.RESERVE_FILL)
    comm = result.communities
    other = comm.loc[~comm["eligible"].to_numpy(bool)]
    found = _pixels(result, other.geometry.values[0], image)
    assert found.most_common(1)[0][0] == _rgb(planprint.OTHER_FILL)


@pytest.mark.slow
def test_pdf_has_the_plan_page_with_its_bookmark_and_the_years_figures(planned):
    from pypdf import PdfReader

    result, out = planned
    block = json.loads((out / "summary.json").read_text("utf-8"))["plan"]
    reader = PdfReader(out / "overview.pdf")
    bundles = len(result.bundling.bundles)
    assert len(reader.pages) == 2 + 4 + bundles  # overview, plan, 4 groups, one sheet each
    top = [item for item in reader.outline if not isinstance(item, list)]
    assert [t.title for t in top[:3]] == ["总图", "年度计划 2027–2030", "养老"]
    assert reader.get_destination_page_number(top[1]) == 1
    page = reader.pages[1].extract_text()
    assert "年度计划 2027–2030" in page and "年度上限：户数 6,000" in page
    for year in block["years"]:
        assert f"{year['year']} 年改造：{year['compounds']} 个小区" in page
        assert f"户数 {year['households']:,.0f}" in page
        assert f"投资(万元) {year['investment']:,.0f}" in page
    steps = [f"{y['year']} 年 {y['full_coverage_households']:.1%}" for y in
             block["coverage"]["by_year"]]  # fmt: skip
    assert " → ".join(steps) in page.replace("\n", "")
    assert f"储备（未列入计划）：{block['reserve']} 个小区" in page


@pytest.mark.slow
def test_plan_page_in_english(planned):
    result, _ = planned
    shown = in_language(result, "en")
    with plt.rc_context(print_style(printmap.cjk_font())):
        fig = planprint.plan_page(MapBase(shown), "en")
    ax = fig.axes[0]
    legend = ax.get_legend()
    title, *head = [t.get_text() for t in fig.texts]
    entries = [t.get_text() for t in legend.get_texts()]
    plt.close(fig)
    assert title.endswith(" — Programme by year 2027–2030")
    assert legend.get_title().get_text() == "Programme by year\nannual caps: households 6,000"
    assert entries[0].startswith("renovated in 2027: ")
    assert any("Investment (10,000 yuan)" in e for e in entries)
    assert any(e.startswith("reserve (not in the programme): ") for e in entries)
    assert head[0].startswith("Households fully covered: now ")
    for line in [*head, *entries]:  # every word but the project name's is English
        assert not CJK.search(line), line


# ---- a hand-built programme: three compounds 100 m apart, no streets


def _hand_built(years: int, status: str = "optimal", **block) -> SimpleNamespace:
    """A run with a programme of ``years`` years from 2027: A (2027, 120 households, 300 万元),
    B (2027, 80 households, investment unknown), C in the reserve, D not eligible."""
    boxes = [
        shapely.box(500_000 + 100 * i, 4_000_000, 500_080 + 100 * i, 4_000_080) for i in range(4)
    ]
    comm = gpd.GeoDataFrame({"cid": list("ABCD")}, geometry=boxes, crs=4548)
    plan = gpd.GeoDataFrame(
        {"cid": list("ABC"), "year": pd.array([2027, 2027, None], "Int64"),
         "state": ["planned", "planned", "reserve"], "households": [120.0, 80.0, 50.0],
         "investment": [300.0, np.nan, 90.0]},
        geometry=boxes[:3], crs=4548,
    )  # fmt: skip
    frame = pd.DataFrame({"year": range(2027, 2027 + years), "compounds": [2] + [0] * (years - 1),
                          "bundles": 0, "households": [200.0] + [0.0] * (years - 1),
                          "investment": [300.0] + [0.0] * (years - 1)})  # fmt: skip
    summary = {
        "crs": "EPSG:4548",
        "plan": {"start": 2027, "end": 2026 + years, "method": "greedy", "status": status,
                 "planned": 2, "reserve": 1, "done": 0, "started": 0, "reserve_households": 50.0,
                 "caps": {"households": 200.0}, "years": frame.to_dict("records"),
                 "deadlines": {"priority_by": 2028, "share_by": None}, "shortfall": {}, **block},
    }  # fmt: skip
    return SimpleNamespace(
        communities=comm, network=None, bundling=None, summary=summary,
        project=SimpleNamespace(name="测试"), standards=SimpleNamespace(categories={}),
        plan=PlanResult(plan, frame),
    )  # fmt: skip


def _with_coverage(result: SimpleNamespace) -> SimpleNamespace:
    """``result`` with full coverage measured: 10 % now, 12.5 % after each year."""
    years = result.plan.years.assign(full_coverage_households=0.125)
    shares = {"full_coverage_households": 0.125, "full_coverage_communities": 0.25}
    result.summary["coverage"] = {"full_coverage_households": 0.1, "national_target": 0.85,
                                  "full_coverage_communities": 0.25, "basket": []}  # fmt: skip
    result.summary["plan"]["coverage"] = {
        "before": {"full_coverage_households": 0.1, "full_coverage_communities": 0.25},
        "by_year": [{"year": y, "sites": 0, **shares} for y in years["year"]],
        "sites_outside": 0,
    }
    result.plan = PlanResult(result.plan.plan, years)
    return result


def _drawn(result, lang: str = "zh"):
    with plt.rc_context(print_style(printmap.cjk_font())):
        fig = planprint.plan_page(MapBase(result), lang)
    ax = fig.axes[0]
    legend = ax.get_legend()
    found = {
        "head": [t.get_text() for t in fig.texts],
        "title": legend.get_title().get_text(),
        "entries": [t.get_text() for t in legend.get_texts()],
        "fills": {p.get_facecolor()[:3]: p.get_hatch() for p in ax.get_children()
                  if isinstance(p, PathPatch) and p.get_fill()},
    }  # fmt: skip
    plt.close(fig)
    return found


def test_unknown_figures_and_a_missed_deadline_are_said_never_a_silent_sum():
    result = _hand_built(3, shortfall={"priority": 2})
    found = _drawn(result)
    first = found["entries"][0].split("\n")
    # B's investment is unknown: the year's 300 says so (households are all known)
    assert first == [
        "2027 年改造：2 个小区",
        "片区数 0",
        "户数 200",
        "投资(万元) 300（1 个小区未知）",
    ]
    assert found["entries"][3].startswith("储备（未列入计划）：1 个小区\n户数 50")
    assert found["title"] == "年度计划\n年度上限：户数 200"
    assert "未满足期限：2028 年前尚有 2 个优先改造小区未排入" in found["head"][1]
    colours = [tuple(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)) for c in year_colours(3)]
    assert colours[0] in found["fills"] and found["fills"][colours[0]] is None
    reserve = tuple(int(planprint.RESERVE_FILL[i : i + 2], 16) / 255 for i in (1, 3, 5))
    assert found["fills"][reserve] == planprint.RESERVE_HATCH


def test_a_long_programme_keeps_its_legend_short_and_says_where_the_figures_are():
    found = _drawn(_hand_built(12), "en")
    years = found["entries"][:12]
    assert years[0] == "renovated in 2027: 2 compounds" and all("\n" not in e for e in years)
    assert found["title"].replace("\n", " ").endswith("the ledger's sheet Programme by year")


def test_no_plan_page_without_a_programme_that_meets_its_rules():
    assert planprint.has_plan_page(_hand_built(3))
    assert not planprint.has_plan_page(_hand_built(3, status="infeasible"))
    assert not planprint.has_plan_page(SimpleNamespace(plan=None, summary={}))


@pytest.mark.parametrize("years", [5, 8, 9, 30])
def test_the_legend_stays_on_the_page_however_long_the_programme(years):
    """Five lines a year in 10 pt up to five years, in 8 pt up to eight, one line beyond."""
    result = _with_coverage(_hand_built(years))
    with plt.rc_context(print_style(printmap.cjk_font())):
        fig = planprint.plan_page(MapBase(result), "en")
        fig.canvas.draw()
        box = fig.axes[0].get_legend().get_window_extent()
        entries = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    page = fig.bbox
    plt.close(fig)
    assert page.y0 < box.y0 and box.x1 < page.x1 and box.y1 < page.y1, (box, page)
    first = entries[0].replace("\n", " ")
    if years > planprint.FULL_LEGEND_YEARS:
        assert first == "renovated in 2027: 2 compounds"
    else:
        assert first.startswith("renovated in 2027: 2 compounds Bundles 0 Households 200 ")
        assert first.endswith("Households fully covered after the year 12.5%")


@pytest.mark.slow
def test_the_geopackage_plan_layer_opens_coloured_by_year(planned):
    """The GeoPackage's plan style (QGIS reads ``layer_styles``) has one class per year in the
    years' colours of the print and HTML maps, then the reserve."""
    import sqlite3
    from xml.etree.ElementTree import fromstring

    from spatial.outputs.style import year_colours

    result, out = planned
    with sqlite3.connect(out / "lifecircle.gpkg") as db:
        (qml,) = db.execute(
            "SELECT styleQML FROM layer_styles WHERE f_table_name = 'plan'"
        ).fetchone()
    root = fromstring(qml)
    values = [c.get("value") for c in root.findall("renderer-v2/categories/category")]
    years = [str(y) for y in result.plan.years["year"]]
    assert values == [*years, ""]
    fills = [
        s.find("layer/Option/Option[@name='color']")
        for s in root.findall("renderer-v2/symbols/symbol")
    ]
    assert len(fills) == len(values)
    colours = year_colours(len(years))
    got = [f.get("value") for f in fills[: len(years)] if f is not None]
    want = [",".join(str(int(c[i : i + 2], 16)) for i in (1, 3, 5)) for c in colours]
    assert [g.split(",")[:3] for g in got] == [w.split(",") for w in want]
