"""What a planner reads of the analysis is in the run's language: the notes of the bundle and
sites stages (the solver's own message verbatim inside a translated frame), the reasons of the
programmes and unserved tables, the size basis in the ledger, and the sizing lines of the terminal
and the ledger's summary sheet, taken from ``summary["sites"]["sizing"]``. Also: no module of the
package imports another module's private name."""

from __future__ import annotations

import ast
import copy
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from rich.console import Console

from spatial.analysis.siting.selector import SiteSelector
from spatial.cli import terminal
from spatial.config.project import SitingConfig, load_project
from spatial.config.standards import load_standards
from spatial.core.messages import labels, text
from spatial.outputs.ledger.write import write_ledger
from spatial.workflow.pipeline import localise_summary

from ..analysis.test_siting import _case

CJK = re.compile(r"[\u4e00-\u9fff]")
STAGES = ("coverage", "bundle", "sites")


def test_siting_notes_render_in_each_language():
    """One parcel far outside, one marked unavailable, and the exact solve switched off: three
    notes, with their counts, in Chinese and in English."""
    net, comm, parcels, std, project = _case()
    far = parcels.iloc[[0]].assign(pid="FAR")
    far = far.set_geometry(far.geometry.translate(50_000))
    parcels = parcels.assign(available=[True, True, False])
    parcels = gpd.GeoDataFrame(pd.concat([parcels, far]), crs=4548)
    cfg = SitingConfig(exact_max_parcels=0)
    sel = SiteSelector(comm, parcels, std, cfg, project.coverage, net).solve()
    assert [n.key for n in sel.notes] == [
        "note_parcels_outside",
        "note_parcels_unavailable",
        "note_sites_greedy_only",
    ]
    assert [n.render("en") for n in sel.notes] == [
        "1 parcel lies outside the study area (beyond every radius): not used",
        "1 parcel marked unavailable",
        "2 candidate parcels > exact_max_parcels (0): greedy plan only",
    ]
    assert [n.render("zh") for n in sel.notes] == [
        "1 个地块位于研究范围外（超出所有服务半径），未使用",
        "1 个地块标为不可用",
        "候选地块2个，多于 exact_max_parcels（0）：仅用贪心算法",
    ]
    # the programmes layer (GeoPackage) keeps the code and the Chinese catalogue text
    progs = sel.programmes.set_index("pid")
    assert progs.loc["P3", "reason_code"] == "unavailable"
    assert progs.loc["P3", "reason"] == text("zh", "site_reason_unavailable") == "地块不可用"
    assert progs.loc["FAR", "reason_code"] == "outside"


@pytest.fixture(scope="module")
def demo(demo_analysis, tmp_path_factory):
    """The demo analysed once; per language the summary localised, the ledger and the terminal."""
    result = demo_analysis(STAGES, basemap=None)
    out = {}
    for lang in ("zh", "en"):
        localise_summary(result, lang)
        folder = tmp_path_factory.mktemp(f"ledger-{lang}")
        book = load_workbook(write_ledger(result, folder, lang), read_only=True)
        sheets = {ws.title: list(ws.iter_rows(values_only=True)) for ws in book.worksheets}
        console = Console(record=True, width=400, color_system=None)
        names = {k: c.label(lang) for k, c in result.standards.categories.items()}
        terminal.print_summary(console, lang, result.summary, result.project.name, names)
        out[lang] = {
            "summary": copy.deepcopy(result.summary),
            "sheets": sheets,
            "terminal": console.export_text(),
        }
    return out


def test_solver_note_keeps_the_solvers_text_in_a_translated_frame(demo):
    zh, en = demo["zh"]["summary"]["sites"]["notes"], demo["en"]["summary"]["sites"]["notes"]
    assert len(zh) == len(en) == 1
    assert zh[0].startswith("整数规划求解器 HiGHS：") and en[0].startswith("MILP solver HiGHS: ")
    assert zh[0].split("：", 1)[1] == en[0].split(": ", 1)[1]  # HiGHS's own words, verbatim
    assert "Optimal" in en[0]


def test_load_notes_and_warnings_follow_the_written_language(demo):
    """Rendered in the language the outputs are written in, not the project's (zh)."""
    en = demo["en"]["summary"]
    notes = [n for r in en["inputs"] for n in r["notes"]]
    assert "converted GCJ02 → WGS84" in notes
    assert not any(CJK.search(n.replace("银行", "").replace("90年代", "")) for n in notes)
    assert en["warnings"][0]["message"].startswith("5 communities have no build year")
    zh = demo["zh"]["summary"]
    assert "已由 GCJ02 转换为 WGS84" in [n for r in zh["inputs"] for n in r["notes"]]


def _table(rows):
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]] if rows else []


def test_ledger_reasons_size_basis_and_status_in_each_language(demo):
    zh, en = demo["zh"]["sheets"], demo["en"]["sheets"]
    sites_zh, sites_en = _table(zh["推荐选址"]), _table(en["Recommended sites"])
    assert "规模依据" in zh["推荐选址"][0] and not any(
        "standard_min" in str(h) for h in zh["推荐选址"][0]
    )
    basis_zh = {r["规模依据"] for r in sites_zh}
    basis_en = {r["Size basis"] for r in sites_en}
    assert basis_zh <= {"标准下限", "按缺口", "受地块容量限制", "标准上限"} and "按缺口" in basis_zh
    assert basis_en <= {"standard minimum", "shortfall", "parcel capacity", "standard maximum"}
    progs_en = _table(en["Parcel programmes"])
    assert {r["Status"] for r in progs_en} == {"picked", "not picked"}
    assert {r["状态"] for r in _table(zh["地块方案"])} == {"选用", "未选用"}
    for r in progs_en:
        code = r["Reason code"]
        assert (r["Reason"] or "") == (text("en", f"site_reason_{code}") if code else "")
    unserved_en = _table(en["Needs other measures"])
    unserved_zh = _table(zh["需其他措施"])
    assert len(unserved_en) == len(unserved_zh) == 172
    assert {r["Reason code"] for r in unserved_en} <= {"no_room", "no_parcel"}
    for r_en, r_zh in zip(unserved_en, unserved_zh, strict=True):
        code = r_en["Reason code"]
        assert r_en["Reason"] == text("en", f"site_reason_{code}")
        assert r_zh["原因"] == text("zh", f"site_reason_{code}")
        assert not CJK.search(r_en["Suggestion"])


def test_sizing_in_the_terminal_and_summary_sheet_equals_summary_json(demo):
    names = load_standards(load_project()).categories
    for lang, sheet in (("zh", "汇总"), ("en", "Summary")):
        sites = demo[lang]["summary"]["sites"]
        sizing = sites["sizing"]
        rows = dict(demo[lang]["sheets"][sheet][1:])
        heads = labels(lang)["ledger"]["summary"]
        terminal = demo[lang]["terminal"]
        assert rows[heads["sites_sized"]] == sizing["sites_from_shortfall"]
        sized = text(lang, "cli_sizing", sized=sizing["sites_from_shortfall"], count=sites["count"])
        assert sized in terminal
        assert len(sizing["by_category"]) == 4
        for key, block in sizing["by_category"].items():
            name = names[key].label(lang)
            unit = block["unit"] if lang == "zh" else block["unit_en"]
            closed = heads["shortfall_closed"].format(name=name, unit=unit)
            left = heads["shortfall_left"].format(name=name, unit=unit)
            assert rows[closed] == pytest.approx(block["closed"])
            assert rows[left] == pytest.approx(block["left"])
            line = text(
                lang,
                "cli_sizing_category",
                name=name,
                shortfall=block["shortfall"],
                closed=block["closed"],
                left=block["left"],
                unit=unit,
            )
            assert line in terminal
    # the demo's figures: 4 facilities sized from the shortfall of 53; the nursing homes sited
    # close the 337 beds their communities lack
    assert (
        "4 facilities sized from the capacity shortfall (53 recommended in all)"
        in (demo["en"]["terminal"])
    )
    assert (
        "Nursing home: shortfall of the communities served 337 beds, closed 337 beds, left 0"
        in (demo["en"]["terminal"])
    )
    assert "养老院：服务小区缺口337张床位，补足337张床位，剩余0张床位" in demo["zh"]["terminal"]


def test_no_module_imports_another_modules_private_name():
    """A ``_name`` is its module's own: no ``from spatial.x.module import _name`` in the package."""
    package = Path(__file__).parents[2] / "spatial"
    found = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("spatial"):
                found += [
                    f"{path.name}: {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_")
                ]
    assert found == []
