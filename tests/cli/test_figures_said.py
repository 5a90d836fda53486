"""Issue 30, "Figures that say where they come from": a total is the sum of the unrounded
community values rounded once (summary.json, the ledger's cell, the terminal), and ``check``
says which demand was estimated from the census defaults, as ``run`` does."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
import shapely

from spatial.config.project import Project
from spatial.config.standards import load_standards
from spatial.core.messages import labels, text

from ..conftest import JINAN, small_communities, small_facilities_csv, to_4548

#: 12 compounds of 400 households and 1,030 residents each: a nursery's need is 4.5 places per
#: 1,000 residents, 4.635 places each, 55.62 in all. Rounded first, 12 × 4.6 = 55.2.
COMPOUNDS, RESIDENTS = 12, 1030
NEED = 4.5 * RESIDENTS / 1000


def _grid_project(folder: Path, population: bool = True) -> Path:
    """12 compounds (40 m squares, a 4 × 3 grid 60 m apart) near Jinan, no nursery within reach
    (one 1.3 km east), one vacant parcel between the columns; only nurseries are analysed."""
    x0, y0 = to_4548(*JINAN)
    rows = []
    for i in range(COMPOUNDS):
        row, col = divmod(i, 4)
        x, y = x0 + 60 * col, y0 + 60 * row
        rows.append({"小区名称": f"格{i + 1}", "建成年代": "2010", "户数": 400,
                     "geometry": shapely.box(x, y, x + 40, y + 40)})  # fmt: skip
        if population:
            rows[-1]["常住人口"] = RESIDENTS
    gpd.GeoDataFrame(rows, crs=4548).to_file(folder / "communities.gpkg")
    gpd.GeoDataFrame(
        {"地块编号": ["D1"], "用地类型": ["闲置用地"], "面积": [3200.0]},
        geometry=[shapely.box(x0 + 100, y0, x0 + 120, y0 + 160)],
        crs=4548,
    ).to_file(folder / "parcels.gpkg")
    small_facilities_csv(folder / "facilities.csv", [("远处托儿所", "托儿所", JINAN[0] + 0.015,
                                                      JINAN[1])])  # fmt: skip
    others = [k for k in load_standards(Project()).categories if k != "nursery"]
    project = folder / "project.toml"
    project.write_text(
        '[project]\nname = "取整"\n[communities]\npath = "communities.gpkg"\n'
        '[facilities]\npath = "facilities.csv"\ncoords = "gcj02"\n'
        '[parcels]\npath = "parcels.gpkg"\n'
        f'[coverage]\nbasket = ["nursery"]\ndrop = {json.dumps(others)}\n',
        encoding="utf-8",
    )
    return project


@pytest.mark.slow
def test_totals_are_sums_of_unrounded_values_rounded_once(run_cli, tmp_path):
    project = _grid_project(tmp_path)
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("run", "--config", project, "--out", out, "--basemap", "none")
    assert code == 0, stderr
    once, first = round(COMPOUNDS * NEED, 1), round(COMPOUNDS * round(NEED, 1), 1)
    assert (once, first) == (55.6, 55.2)  # the case tells the two apart
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    nursery = summary["capacity"]["categories"]["nursery"]
    assert (nursery["need"], nursery["shortfall"], nursery["communities_gap"]) == (
        once, once, COMPOUNDS,
    )  # fmt: skip
    sized = summary["sites"]["sizing"]["by_category"]["nursery"]  # whole places, rounded once
    assert (sized["shortfall"], sized["closed"], sized["left"]) == (56, 56, 0)
    # the ledger: 缺口测算's total cell, and each compound's shortfall at full precision
    book = openpyxl.load_workbook(out / "ledger.xlsx")
    sheet = book[text("zh", "cap_sheet")]
    heads = [c.value for c in sheet[1]]
    total = dict(zip(heads, [c.value for c in sheet[2]], strict=True))
    assert total[text("zh", "cap_short")] == total[text("zh", "cap_need")] == once
    communities = book[labels("zh")["ledger"]["sheets"]["communities"]]
    heads = [c.value for c in communities[1]]
    column = next(i for i, h in enumerate(heads) if h.endswith("缺口（个托位）"))
    cells = [row[column] for row in communities.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [4.64] * COMPOUNDS  # 4.635 to two decimals, not 4.6
    assert {c.number_format for c in cells} == {"#,##0.0"}
    # the terminal and the ledger's summary: the shortfall of the communities the site serves
    assert "：服务小区缺口56个托位，补足56个托位，剩余0个托位" in stdout, stdout
    rows = {
        r[0].value: r[1].value
        for r in book[labels("zh")["ledger"]["sheets"]["summary"]].iter_rows(min_row=2)
    }
    heads = labels("zh")["ledger"]["summary"]
    name = load_standards(Project()).categories["nursery"].label("zh")
    closed = heads["shortfall_closed"].format(name=name, unit="个托位")
    assert rows[closed] == 56


# -- check says the census defaults, as run does ----------------------------------------------


def _defaults_line(stdout: str) -> str | None:
    lines = [line for line in stdout.splitlines() if "需求人口按默认值推算" in line]
    assert len(lines) <= 1, lines
    return lines[0] if lines else None


def test_check_says_the_demo_demand_is_estimated_from_the_census_defaults(run_cli):
    from spatial.config.project import load_project
    from spatial.workflow.pipeline import load_inputs

    code, stdout, stderr = run_cli("check")
    assert code == 0, stderr
    count = len(load_inputs(load_project(None)).communities)
    line = _defaults_line(stdout)
    # the demo gives households only: persons per household, 60+ (nursing homes) and 3–5
    # (kindergartens) are defaults; no indicator reads the 0–2 share, so it is not named
    said = f"{count} 个小区的需求人口按默认值推算：户均 2.6 人、60岁及以上占 20.9%、3–5岁占 3.6%（"
    assert line is not None and said in line, line


def test_check_names_only_the_defaults_a_persons_column_leaves(small_project, run_cli, tmp_path):
    frame = small_communities()
    frame["常住人口"] = [250, 280, 300, 320]
    frame.to_file(small_project.parent / "communities.gpkg", driver="GPKG")
    code, stdout, stderr = run_cli("check", "--config", small_project)
    assert code == 0, stderr
    line = _defaults_line(stdout)
    assert (
        line is not None
        and "4 个小区的需求人口按默认值推算：60岁及以上占 20.9%、3–5岁占 3.6%（" in line
    )
    assert "户均" not in line  # the residents are given: persons per household is not used
    code, stdout, _ = run_cli("check", "--config", small_project, "--lang", "en")
    assert "4 communities estimated from default settings: 20.9% aged 60+, 3.6% aged 3–5 (" in (
        stdout.replace("\n", " ")
    )


def test_check_is_silent_when_no_default_is_used(run_cli, tmp_path):
    # only nurseries (4.5 places per 1,000 residents) with the residents given: nothing estimated
    code, stdout, stderr = run_cli("check", "--config", _grid_project(tmp_path))
    assert code == 0, stderr
    assert _defaults_line(stdout) is None
    other = tmp_path / "without"
    other.mkdir()
    code, stdout, _ = run_cli("check", "--config", _grid_project(other, population=False))
    line = _defaults_line(stdout)
    assert line is not None and f"{COMPOUNDS} 个小区的需求人口按默认值推算：户均 2.6 人（" in line
