"""``lifecircle plan`` end to end on a small hand-built district (issue 27): two bundles of three
compounds, the programme in the summary, the ledger and the terminal; the ledger's 改造状态 /
计划年度 read back on a rerun; an infeasible deadline named on the terminal; bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ..conftest import small_communities, small_facilities_csv

PLAN = "[plan]\nstart = 2027\nend = 2029\nmax_households = 500.0\n"


def _project(folder: Path, plan: str = PLAN, extra: dict | None = None) -> Path:
    """Eight compounds in a row, 20 m apart: rows 3 and 7 are built in 2010 (not eligible), so
    rows 0-2 (330 households) and 4-6 (450 households) form two bundles."""
    comm = small_communities(8)
    comm["小区编号"] = [f"C{i + 1}" for i in range(8)]
    for column, values in (extra or {}).items():
        comm[column] = values
    comm.to_file(folder / "communities.gpkg", driver="GPKG")
    small_facilities_csv(folder / "facilities.csv")
    (folder / "project.toml").write_text(
        '[project]\nname = "测试"\n[communities]\npath = "communities.gpkg"\nid = "小区编号"\n'
        '[facilities]\npath = "facilities.csv"\ncoords = "gcj02"\n' + plan,
        encoding="utf-8",
    )
    return folder / "project.toml"


def _years(summary: dict) -> dict[int, int]:
    return {y["year"]: y["compounds"] for y in summary["plan"]["years"]}


def test_plan_places_each_bundle_whole_in_one_year_and_reads_its_ledger_back(run_cli, tmp_path):
    project = _project(tmp_path)
    code, out, err = run_cli("plan", "--config", project, "--out", tmp_path / "o")
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    plan = summary["plan"]
    assert plan["status"] == "optimal" and plan["method"] == "exact"
    assert summary["bundles"]["count"] == 2
    # 330 + 450 households under a 500 cap: one bundle a year, the larger score first
    assert _years(summary) == {2027: 3, 2028: 3, 2029: 0}
    assert [y["households"] for y in plan["years"]][:2] in ([330, 450], [450, 330])
    assert "年度计划 2027–2029" in out and "2027 年：3 个小区（1 个片区）" in out
    sheets = pd.read_excel(tmp_path / "o" / "ledger.xlsx", sheet_name=None)
    year_sheet, rows = sheets["年度计划"], sheets["年度计划明细"]
    assert list(year_sheet["小区数"]) == [3, 3, 0]
    assert set(rows["改造状态"]) == {"已列入计划"}
    assert rows.groupby("所属片区")["计划年度"].nunique().tolist() == [1, 1]
    # the planner marks the 2027 bundle finished — in 2028, a year no plan chose for it — and
    # feeds the ledger's two columns back with the communities
    first = rows.set_index("小区编号")
    done = first.index[first["计划年度"] == 2027]
    status = ["已完成" if f"C{i + 1}" in done else "" for i in range(8)]
    years = [2028 if f"C{i + 1}" in done else None for i in range(8)]
    project = _project(tmp_path, extra={"改造状态": status, "计划年度": years})
    code, out, err = run_cli("plan", "--config", project, "--out", tmp_path / "o2")
    assert code == 0, err
    again = json.loads((tmp_path / "o2" / "summary.json").read_text("utf-8"))["plan"]
    assert again["done"] == 3 and again["planned"] == 3
    rows = pd.read_excel(tmp_path / "o2" / "ledger.xlsx", sheet_name="年度计划明细")
    rows = rows.set_index("小区编号")
    assert (rows.loc[done, "计划年度"] == 2028).all()
    assert (rows.loc[done, "改造状态"] == "已完成").all()
    # the finished bundle uses 2028's cap: the other bundle moves to 2027
    assert (rows.loc[~rows.index.isin(done), "计划年度"] == 2027).all()


def test_started_work_without_a_year_is_named_not_silently_outside_the_caps(run_cli, tmp_path):
    """在建 without 计划年度 (and 已完成 in 2099) counted against no year's household cap and no
    warning said so: the programme looked as if the cap held the started work too."""
    status = ["在建", "", "", "", "已完成", "", "已完成", ""]
    years = [None, None, None, None, 2099, None, "2026年", None]  # 2026年 was "not a number"
    project = _project(tmp_path, extra={"改造状态": status, "计划年度": years})
    code, out, err = run_cli("plan", "--config", project, "--out", tmp_path / "o")
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    found = [w for w in summary["warnings"] if w["code"] == "plan_status_no_year"]
    assert len(found) == 1 and found[0]["sample"] == ["C1", "C5"]
    assert "不计入任何年度的上限" in out and "C1、C5" in out


def test_an_infeasible_deadline_is_named_on_the_terminal(run_cli, tmp_path):
    project = _project(tmp_path, PLAN + "priority_by = 2027\n")
    code, out, err = run_cli("plan", "--config", project, "--out", tmp_path / "o")
    assert code == 0, err
    plan = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))["plan"]
    assert plan["status"] == "infeasible" and plan["planned"] == 0
    assert plan["diagnosis"]["caps"] == {"households": 780.0}
    # both bundles hold priority-tier compounds (1995, 90年代): one of them waits
    assert "2027 年前完成全部优先改造小区：在上限内尚差" in out
    assert "户数年度上限须提高到 780（现为 500）" in out


def test_willingness_below_the_gate_is_in_the_reserve_with_its_reason(run_cli, tmp_path):
    will = [0.9, 0.9, 0.9, 0.9, 0.5, 0.9, 0.9, 0.9]
    project = _project(tmp_path, extra={"改造意愿": will})
    code, out, err = run_cli("plan", "--config", project, "--out", tmp_path / "o", "--lang", "en")
    assert code == 0, err
    rows = pd.read_excel(tmp_path / "o" / "ledger.xlsx", sheet_name="Programme compounds")
    row = rows.set_index("Community id").loc["C5"]
    assert row["Renovation status"] == "reserve"
    assert row["Reason in reserve"] == "share of households agreeing below the gate"
    assert "in reserve: share of households agreeing below the gate 1" in out


@pytest.mark.parametrize("plan, expected", [
    ("", "没有 [plan] 小节"),
    (PLAN + "share = 0.8\n", "share = 0.8 与 share_by = 0 须同时设置"),
    (PLAN + "max_investment = 100.0\n", "max_investment 需要每个小区的投资额"),
    # a deadline after end was enforced as end, and summary.json showed the year written
    (PLAN + "priority_by = 2040\n", "priority_by = 2040 不允许；应为start（2027）至 end（2029）"),
    (PLAN + "share = 0.85\nshare_by = 2031\n", "share_by = 2031 不允许"),
])  # fmt: skip
def test_plan_settings_refused_with_the_fix(run_cli, tmp_path, plan, expected):
    project = _project(tmp_path, plan)
    code, _, err = run_cli("plan", "--config", project, "--out", tmp_path / "o")
    assert code == 2 and expected in err and "Traceback" not in err


def test_an_unknown_status_names_its_row(run_cli, tmp_path):
    status = ["", "已完成", "", "", "差不多了", "", "", ""]
    project = _project(tmp_path, extra={"改造状态": status})
    code, _, err = run_cli("plan", "--config", project, "--out", tmp_path / "o")
    assert code == 2 and "第 6 行" in err and "差不多了" in err, err
