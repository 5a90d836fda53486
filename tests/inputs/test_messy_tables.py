"""Honest numbers from planner data (issue 11): what cannot be computed is refused, what was
wrong is reported as a warning naming the rows, and the figures are computed from what is left."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from spatial.config.project import load_project
from spatial.core.crs import gcj02_to_wgs84
from spatial.core.settings import DATA_DIR
from spatial.workflow import pipeline

from ..conftest import JINAN, small_communities, small_facilities_csv

DEMO = DATA_DIR / "demo"


def _project(folder: Path, communities: str = "communities.gpkg", facilities: str = "",
             comm_extra: str = "", fac_extra: str = 'coords = "gcj02"') -> Path:  # fmt: skip
    text = f'[project]\nname = "t"\n[communities]\npath = "{communities}"\n{comm_extra}\n'
    if facilities:
        text += f'[facilities]\npath = "{facilities}"\n{fac_extra}\n'
    path = folder / "project.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _load(project_file: Path) -> pipeline.RunResult:
    return pipeline.load_inputs(load_project(project_file))


def _codes(result: pipeline.RunResult) -> dict[str, object]:
    return {p.code: p for p in result.layers.problems}


# households ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    "header", ["总户数（户）", "户数(户)", "户数（户）", "住户数", " 居民户数 "]
)
def test_households_headers_with_units_and_full_width_brackets(tmp_path, header):
    comm = small_communities().rename(columns={"户数": header})
    comm.to_file(tmp_path / "communities.gpkg")
    result = _load(_project(tmp_path))
    assert list(result.layers.communities["households"]) == [100, 110, 120, 130]


def test_unknown_households_header_is_an_error_listing_columns(tmp_path, run_cli):
    small_communities().rename(columns={"户数": "住宅套数合计"}).to_file(
        tmp_path / "communities.gpkg"
    )
    code, _, err = run_cli(
        "coverage", "--config", _project(tmp_path), "--out", tmp_path / "o", "--lang", "en"
    )
    assert code == 2
    assert "no households column" in err and "住宅套数合计" in err and "小区名称" in err
    assert '[communities] households = "<column>"' in err and 'households = "none"' in err
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_households_none_gives_no_household_figure_anywhere(tmp_path, run_cli):
    small_communities().drop(columns=["户数"]).to_file(tmp_path / "communities.gpkg")
    small_facilities_csv(tmp_path / "facilities.csv")
    project = _project(tmp_path, facilities="facilities.csv", comm_extra='households = "none"')
    code, out, err = run_cli("run", "--config", project, "--out", tmp_path / "o")
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert summary["households_known"] is False
    assert summary["coverage"]["households_known"] is False
    assert summary["coverage"]["full_coverage_communities"] == 0.0  # 2 facilities, 4 compounds

    def figures(block, path=""):
        if isinstance(block, dict):
            for key, value in block.items():
                if "households" in key and key not in ("households_known",
                                                       "communities_with_households"):  # fmt: skip
                    yield f"{path}/{key}", value
                else:
                    yield from figures(value, f"{path}/{key}")
        elif isinstance(block, list):
            for item in block:
                yield from figures(item, path)

    found = dict(figures(summary))
    assert "/households" in found and "/coverage/full_coverage_households" in found
    assert all(v is None for v in found.values()), found
    assert "户" not in json.dumps(summary["priority"], ensure_ascii=False)  # no "共0户"
    assert "全覆盖小区占比" in out and "户数占比" not in out  # terminal: shares of communities only
    assert " households" not in out.split("wrote:")[0]


def test_households_none_ignores_a_households_column(tmp_path):
    small_communities().to_file(tmp_path / "communities.gpkg")
    result = _load(_project(tmp_path, comm_extra='households = "none"'))
    assert result.layers.households_known is False
    assert result.layers.communities["households"].isna().all()


def test_blank_households_listed_and_left_out_of_shares(tmp_path):
    comm = small_communities()
    comm["编号"] = ["A1", "A2", "A3", "A4"]
    comm["户数"] = ["100", "", None, "130"]
    comm.to_file(tmp_path / "communities.gpkg")
    small_facilities_csv(tmp_path / "facilities.csv")  # 托老所 on A1's corner, 幼儿园 beside A3
    result = _load(_project(tmp_path, facilities="facilities.csv"))
    blank = _codes(result)["households_blank"]
    assert blank.count == 2 and blank.sample == ("A2", "A3")
    pipeline.analyse(result, ["coverage"])
    cov = result.summary["coverage"]
    assert result.summary["households"] == 230 and cov["communities_with_households"] == 2
    ok = result.communities["elderly_daycare_ok"].to_numpy(bool)
    # known: A1 100, A4 130; the share's denominator is 230, not 230 + 0 + 0 counted as homes
    expect = (100 * ok[0] + 130 * ok[3]) / 230
    assert cov["categories"]["elderly_daycare"]["households"] == round(expect, 4)
    assert ok[0] and not ok[3]


@pytest.mark.parametrize("value", ["inf", "-5"])
def test_infinite_or_negative_households_name_the_row(tmp_path, run_cli, value):
    comm = small_communities()
    comm["户数"] = ["100", "110", value, "130"]
    comm.to_file(tmp_path / "communities.gpkg")
    code, _, err = run_cli("check", "--config", _project(tmp_path), "--lang", "en")
    assert code == 2 and "row 4" in err and "'户数'" in err


def test_missing_and_unparsed_build_years_are_separate_problems(tmp_path):
    comm = small_communities()
    comm["编号"] = ["A1", "A2", "A3", "A4"]
    comm["建成年代"] = ["1995", "", "不详", "2001"]
    comm.to_file(tmp_path / "communities.gpkg")
    problems = _codes(_load(_project(tmp_path)))
    assert problems["built_year_missing"].sample == ("A2",)
    assert problems["built_year_unparsed"].sample == ("A3（不详）",)
    assert "不详" in problems["built_year_unparsed"].message("zh")


# categories ------------------------------------------------------------------------------------


def _facilities_table(path: Path, column: str, values: list[str], extra: dict | None = None):
    lon, lat = JINAN
    frame = pd.DataFrame({
        "名称": [f"设施{i}" for i in range(len(values))], column: values,
        "经度": [lon + 0.0003 * i for i in range(len(values))], "纬度": [lat] * len(values),
        **(extra or {}),
    })  # fmt: skip
    frame.to_csv(path, index=False, encoding="utf-8")


def test_gaode_types_typecodes_and_baidu_tags_are_mapped(tmp_path):
    small_communities().to_file(tmp_path / "communities.gpkg")
    values = {
        "医疗保健服务;诊所;诊所": "health_station",
        "科教文化服务;学校;幼儿园": "kindergarten",
        "购物服务;便民商店/便利店;便民商店/便利店": "convenience",
        "购物服务;综合市场;蔬菜市场|购物服务;超级市场;超市": "market",  # first type wins
        "医疗保健服务;综合医院;卫生院": "health_center",
        "141203": "primary_school",
        "060705": "market",  # 小类 of 综合市场
        "060200|050000": "convenience",
        "医疗;诊所": "health_station",  # Baidu tag
        "教育培训;幼儿园": "kindergarten",
        "美食;中餐厅": "",  # not a life-circle facility
        "060701": "",  # 小商品市场: deliberately not a food market
    }
    _facilities_table(tmp_path / "f.csv", "type", list(values))
    result = _load(_project(tmp_path, facilities="f.csv", fac_extra='coords = "wgs84"'))
    fac = result.layers.facilities
    assert dict(zip(fac["category_raw"], fac["category"], strict=True)) == {
        k: v for k, v in values.items() if v
    }
    unknown = _codes(result)["unknown_categories"]
    assert unknown.count == 2 and unknown.fields["rows"] == 2
    # the hint names what the planner can edit: the project file, not a file inside the package
    assert "[coverage.add]" in unknown.message("zh") and "[facilities]" in unknown.message("en")
    assert "aliases" in unknown.message("zh") and "data/standards" not in unknown.message("en")


def test_typecode_column_used_when_the_type_text_does_not_match(tmp_path):
    small_communities().to_file(tmp_path / "communities.gpkg")
    _facilities_table(tmp_path / "f.csv", "类别", ["某某服务", "托老所"],
                      {"typecode": ["141204", ""]})  # fmt: skip
    fac = _load(_project(tmp_path, facilities="f.csv", fac_extra='coords = "wgs84"'))
    assert list(fac.layers.facilities["category"]) == ["kindergarten", "elderly_daycare"]


def test_no_matching_category_is_an_error(tmp_path, run_cli):
    small_communities().to_file(tmp_path / "communities.gpkg")
    _facilities_table(tmp_path / "f.csv", "类别", ["美食;中餐厅", "银行", "050000"])
    project = _project(tmp_path, facilities="f.csv", fac_extra='coords = "wgs84"')
    code, _, err = run_cli("coverage", "--config", project, "--out", tmp_path / "o", "--lang", "en")
    assert code == 2
    assert "no facility matches a standard category" in err and "银行×1" in err
    assert "[facilities]" in err and "aliases" in err and "[coverage.add]" in err
    assert "data/standards" not in err


# coordinates -----------------------------------------------------------------------------------


def _demo_copy(folder: Path, coords: str, to_wgs84: bool = False) -> Path:
    frame = pd.read_csv(DEMO / "facilities.csv")
    if to_wgs84:
        lon, lat = gcj02_to_wgs84(frame["经度"].to_numpy(), frame["纬度"].to_numpy())
        frame["经度"], frame["纬度"] = np.round(lon, 7), np.round(lat, 7)
    frame.to_csv(folder / "facilities.csv", index=False)
    line = f'coords = "{coords}"' if coords else ""
    return _project(folder, str(DEMO / "communities.gpkg"), "facilities.csv",
                    'id = "小区编号"', line)  # fmt: skip


@pytest.mark.parametrize(("to_wgs84", "expected"), [(False, "gcj02"), (True, "wgs84")])
@pytest.mark.parametrize("coords", ["auto", ""])
def test_auto_coords_picks_the_system_of_the_data(tmp_path, to_wgs84, expected, coords):
    result = _load(_demo_copy(tmp_path, coords, to_wgs84))
    chosen = _codes(result)["coords_auto"]
    assert chosen.fields["chosen"] == expected
    assert "gcj02" in chosen.fields["evidence"] and " m" in chosen.fields["evidence"]
    # the facilities end where the GCJ-02 file, converted, puts them (same points either way)
    ref = _load(_demo_copy(tmp_path, "gcj02")).layers.facilities
    assert result.layers.facilities.distance(ref, align=True).max() < 1.0


def test_declared_gcj02_on_wgs84_data_warns_with_numbers(tmp_path, run_cli):
    project = _demo_copy(tmp_path, "gcj02", to_wgs84=True)
    result = _load(project)
    warn = _codes(result)["coords_mismatch"]
    assert warn.fields["declared"] == "gcj02" and warn.fields["better"] == "wgs84"
    numbers = dict(part.split(" ", 1) for part in warn.fields["evidence"].split(", "))
    wgs, gcj = float(numbers["wgs84"][:-2]), float(numbers["gcj02"][:-2])
    assert wgs <= 0.8 * gcj
    pipeline.analyse(result, [])
    assert any(w["code"] == "coords_mismatch" and "wgs84" in w["message"]
               for w in result.summary["warnings"])  # fmt: skip


def test_auto_coords_ignores_facilities_away_from_the_communities(tmp_path):
    project = _demo_copy(tmp_path, "auto")
    frame = pd.read_csv(tmp_path / "facilities.csv")
    far = frame.assign(经度=frame["经度"] + 0.06)  # ~5.5 km east: beyond every community
    pd.concat([frame, far, far]).to_csv(tmp_path / "facilities.csv", index=False)
    chosen = _codes(_load(project))["coords_auto"]
    assert chosen.fields["chosen"] == "gcj02"
    assert "gcj02 51 m" in chosen.fields["evidence"]  # the same figures as without the far ones


def test_auto_coords_with_too_few_points_warns_and_keeps_the_values(small_project):
    text = small_project.read_text("utf-8").replace('coords = "gcj02"', 'coords = "auto"')
    small_project.write_text(text, "utf-8")
    result = _load(small_project)
    warn = _codes(result)["coords_undecided"]
    assert warn.fields["chosen"] == "wgs84" and "WGS84" in warn.message("zh")
    raw = pd.read_csv(small_project.parent / "facilities.csv")
    fac = result.layers.facilities.to_crs(4326)
    assert fac.geometry.x.iloc[0] == pytest.approx(raw["经度"].iloc[0], abs=1e-9)


def test_declared_gcj02_on_the_demo_has_no_warning(tmp_path):
    assert "coords_mismatch" not in _codes(_load(_demo_copy(tmp_path, "gcj02")))


# outliers --------------------------------------------------------------------------------------


def test_community_at_zero_zero_is_dropped_and_the_crs_stays(tmp_path, run_cli):
    comm = small_communities().to_crs(4326)
    comm["编号"] = ["A1", "A2", "A3", "A4"]
    extra = comm.iloc[[0]].copy()
    extra["编号"] = "BAD"
    extra["geometry"] = [shapely.box(0, 0, 0.001, 0.001)]
    pd.concat([comm, extra]).to_file(tmp_path / "communities.gpkg")
    result = _load(_project(tmp_path))
    assert result.layers.crs.to_epsg() == 4548
    assert list(result.layers.communities["cid"]) == ["A1", "A2", "A3", "A4"]
    dropped = _codes(result)["outlier_dropped"]
    assert dropped.count == 1 and dropped.sample[0].startswith("BAD")
    code, _, err = run_cli(
        "coverage", "--config", tmp_path / "project.toml", "--out", tmp_path / "o"
    )
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert code == 0 and summary["crs"].startswith("EPSG:4548") and summary["communities"] == 4
    # the small project has a day-care centre and a kindergarten: six basket categories are empty;
    # its children aged 3–5 are estimated with the census default shares (issue 30: said)
    assert [w["code"] for w in summary["warnings"]] == [
        "outlier_dropped",
        "basket_category_empty",
        "demand_defaults",
    ]


def test_facility_far_from_the_others_is_dropped(tmp_path):
    small_communities().to_file(tmp_path / "communities.gpkg")
    _facilities_table(tmp_path / "f.csv", "类别", ["托老所"] * 5)
    frame = pd.read_csv(tmp_path / "f.csv")
    frame.loc[4, "经度"] = JINAN[0] + 2.0  # ~180 km east, still in China
    frame.to_csv(tmp_path / "f.csv", index=False)
    result = _load(_project(tmp_path, facilities="f.csv", fac_extra='coords = "wgs84"'))
    assert len(result.layers.facilities) == 4
    assert _codes(result)["outlier_dropped"].sample[0].startswith("row 6")


# shares ----------------------------------------------------------------------------------------


def test_percent_shares_are_percent(tmp_path):
    comm = small_communities()
    comm["改造意愿"] = ["1%", "66.7%", "80", "0.9"]
    comm.to_file(tmp_path / "communities.gpkg")
    shares = _load(_project(tmp_path)).layers.communities["willingness"]
    assert list(shares) == pytest.approx([0.01, 0.667, 0.8, 0.9])


@pytest.mark.parametrize("value", ["150%", "150"])
def test_share_above_100_percent_is_an_error(tmp_path, run_cli, value):
    comm = small_communities()
    comm["改造意愿"] = ["50%", value, "80%", "0.9"]
    comm.to_file(tmp_path / "communities.gpkg")
    code, _, err = run_cli("check", "--config", _project(tmp_path), "--lang", "en")
    assert code == 2 and "row 3" in err and "'改造意愿'" in err and "above 100 %" in err


def test_a_plain_one_among_percents_is_refused_as_ambiguous(tmp_path, run_cli):
    """Read value by value, 80 was 80 % and 1 was 100 %: the compound where 1 % agree passed
    the willingness gate. Without other percents a plain 1 stays 100 %."""
    comm = small_communities()
    comm["改造意愿"] = ["80", "1", "75", "0.9"]
    comm.to_file(tmp_path / "communities.gpkg")
    code, _, err = run_cli("check", "--config", _project(tmp_path), "--lang", "en")
    assert code == 2 and "row 3" in err and "'改造意愿'" in err and "1 % or 100 %" in err, err
    comm["改造意愿"] = ["0.8", "1", "0.75", "90%"]
    comm.to_file(tmp_path / "communities.gpkg")
    shares = _load(_project(tmp_path)).layers.communities["willingness"]
    assert list(shares) == pytest.approx([0.8, 1.0, 0.75, 0.9])


def test_a_csv_not_in_its_declared_encoding_says_so(tmp_path, run_cli):
    """A GBK table declared utf-8 was 'neither UTF-8 nor GBK': the file is GBK."""
    small_communities().to_file(tmp_path / "communities.gpkg")
    small_facilities_csv(tmp_path / "f.csv")
    text = (tmp_path / "f.csv").read_text("utf-8")
    (tmp_path / "f.csv").write_bytes(text.encode("gbk"))
    project = _project(
        tmp_path, facilities="f.csv", fac_extra='coords = "gcj02"\nencoding = "utf-8"'
    )
    code, _, err = run_cli("check", "--config", project, "--lang", "en")
    assert code == 2 and "f.csv" in err and 'encoding = "utf-8"' in err, err
    assert "neither" not in err and len(err.strip().splitlines()) == 1


def test_merged_cells_of_a_workbook_are_read_as_the_planner_sees_them(tmp_path):
    """类别 merged over each category's rows (and a title merged over the columns): Excel keeps
    the value in the top-left cell only, so all but the first row of each category were
    'type generic or missing' - classified by name or dropped."""
    import openpyxl

    small_communities().to_file(tmp_path / "communities.gpkg")
    lon, lat = JINAN
    cats = ["托老所"] * 3 + ["幼儿园"] * 2 + ["便利店"]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["历下区设施清单"])  # a title row merged over the four columns
    sheet.append(["名称", "类别", "经度", "纬度"])
    for i, cat in enumerate(cats):
        sheet.append([f"点{i}", cat if i in (0, 3, 5) else None, lon + 0.0003 * i, lat])
    for cells in ("A1:D1", "B3:B5", "B6:B7"):
        sheet.merge_cells(cells)
    book.save(tmp_path / "f.xlsx")
    result = _load(_project(tmp_path, facilities="f.xlsx", fac_extra='coords = "wgs84"'))
    got = result.layers.facilities.sort_values("name")["category"].tolist()
    assert got == ["elderly_daycare"] * 3 + ["kindergarten"] * 2 + ["convenience"]
    assert not {"facilities_by_name", "facilities_generic_unmatched"} & set(_codes(result))


# duplicates ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("with_ids", [True, False])
def test_identical_duplicate_communities_count_once(tmp_path, with_ids):
    comm = small_communities()
    if with_ids:
        comm["编号"] = ["A1", "A2", "A3", "A4"]
    pd.concat([comm, comm.iloc[[1, 3]]]).to_file(tmp_path / "communities.gpkg")
    small_facilities_csv(tmp_path / "facilities.csv")
    result = _load(_project(tmp_path, facilities="facilities.csv"))
    assert len(result.layers.communities) == 4
    copies = _codes(result)["duplicate_rows"]
    assert copies.count == 2
    assert copies.sample == (("A2", "A4") if with_ids else ("row 6", "row 7"))
    pipeline.analyse(result, ["coverage", "bundle"])
    assert result.summary["households"] == 460
    assert result.summary["coverage"]["households"] == 460


def test_same_id_different_outline_is_still_an_error(tmp_path, run_cli):
    comm = small_communities()
    comm["编号"] = ["A1", "A2", "A2", "A4"]
    comm.to_file(tmp_path / "communities.gpkg")
    code, _, err = run_cli("check", "--config", _project(tmp_path), "--lang", "en")
    assert code == 2 and "duplicate id 'A2'" in err


# Excel -----------------------------------------------------------------------------------------


def _workbook(path: Path, title_rows: int, sheet: str = "设施台账") -> None:
    from spatial.core.crs import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02([JINAN[0], JINAN[0] + 0.002], [JINAN[1], JINAN[1]])
    body = [["名称", "类别", "经度", "纬度"], ["幸福托老所", "托老所", lon[0], lat[0]],
            ["和平幼儿园", "幼儿园", lon[1], lat[1]]]  # fmt: skip
    titles = [["历下区公共服务设施台账", None, None, None], [None, None, None, "2024年5月"]]
    with pd.ExcelWriter(path) as book:
        pd.DataFrame([["说明"]]).to_excel(book, sheet_name="说明", header=False, index=False)
        pd.DataFrame(titles[:title_rows] + body).to_excel(
            book, sheet_name=sheet, header=False, index=False
        )


@pytest.mark.slow
@pytest.mark.parametrize("title_rows", [0, 1, 2])
def test_excel_with_title_rows_above_the_header(tmp_path, title_rows):
    small_communities().to_file(tmp_path / "communities.gpkg")
    _workbook(tmp_path / "f.xlsx", title_rows)
    fac_extra = 'coords = "gcj02"\nlayer = "设施台账"'
    result = _load(_project(tmp_path, facilities="f.xlsx", fac_extra=fac_extra))
    fac = result.layers.facilities
    assert list(fac["category"]) == ["elderly_daycare", "kindergarten"]
    assert fac.geometry.iloc[0].distance(result.layers.communities.geometry.iloc[0]) < 1.0


def test_excel_header_row_setting(tmp_path):
    small_communities().to_file(tmp_path / "communities.gpkg")
    _workbook(tmp_path / "f.xlsx", 2)
    fac_extra = 'coords = "gcj02"\nlayer = "设施台账"\nheader_row = 3'
    result = _load(_project(tmp_path, facilities="f.xlsx", fac_extra=fac_extra))
    assert list(result.layers.facilities["name"]) == ["幸福托老所", "和平幼儿园"]


def test_workbook_without_a_sheet_name_reads_the_sheet_with_the_table(tmp_path):
    small_communities().to_file(tmp_path / "communities.gpkg")
    _workbook(tmp_path / "f.xlsx", 1)  # first sheet 说明, the table on 设施台账
    result = _load(_project(tmp_path, facilities="f.xlsx"))
    assert list(result.layers.facilities["name"]) == ["幸福托老所", "和平幼儿园"]
    assert any("设施台账" in note.render("en") for note in result.layers.reports[1].notes)


def test_csv_with_a_title_row(tmp_path):
    small_communities().to_file(tmp_path / "communities.gpkg")
    small_facilities_csv(tmp_path / "f.csv")
    text = (tmp_path / "f.csv").read_text("utf-8")
    (tmp_path / "f.csv").write_text("历下区设施台账（2024年）\n" + text, "utf-8")
    result = _load(_project(tmp_path, facilities="f.csv"))
    assert list(result.layers.facilities["category"]) == ["elderly_daycare", "kindergarten"]


def test_wrong_sheet_lists_the_sheets(tmp_path, run_cli):
    small_communities().to_file(tmp_path / "communities.gpkg")
    _workbook(tmp_path / "f.xlsx", 1)
    project = _project(tmp_path, facilities="f.xlsx", fac_extra='layer = "设施"')
    code, _, err = run_cli("check", "--config", project, "--lang", "en")
    assert code == 2 and "sheet '设施' not found" in err and "说明, 设施台账" in err


def test_check_and_run_report_the_same_problems(tmp_path):
    comm = small_communities()
    comm["户数"] = ["100", "", "120", "130"]
    comm.to_file(tmp_path / "communities.gpkg")
    project = load_project(_project(tmp_path))
    # demographic settings given: no capacity-stage warning about census defaults (issue 30)
    project.capacity.persons_per_household = 2.6
    project.capacity.shares = {"older": 0.2, "infants": 0.03, "preschoolers": 0.036}
    checked = pipeline.load_inputs(project).layers.problems
    ran = pipeline.run(project, tmp_path / "o", ["coverage"]).summary["warnings"]
    assert [p.record("zh") for p in checked] == ran
    comm = gpd.read_file(tmp_path / "o" / "lifecircle.gpkg", layer="communities")
    assert list(comm["households"].isna()) == [False, True, False, False]
