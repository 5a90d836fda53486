"""Projects without household counts, and basket settings that leave nothing to measure."""

from __future__ import annotations

import json
import re

import pytest
from openpyxl import load_workbook


def _demo(tmp_path, run_cli, edit):
    folder = tmp_path / "d"
    code, _, err = run_cli("demo", folder)
    assert code == 0, err
    project = folder / "project.toml"
    text = project.read_text("utf-8")
    project.write_text(edit(text), "utf-8")
    return folder


def _under(section: str, line: str):
    def edit(text: str) -> str:
        if re.search(rf"^\[{section}\]$", text, flags=re.M):
            return re.sub(rf"^\[{section}\]\n", f"[{section}]\n{line}\n", text, flags=re.M)
        return f"{text}\n[{section}]\n{line}\n"

    return edit


@pytest.mark.slow
def test_households_none_with_the_column_still_present(tmp_path, run_cli):
    """The 户数 column stays in the file while the project says it has none: the run completes,
    sites are chosen by communities covered and every output says shares of communities."""
    folder = _demo(tmp_path, run_cli, _under("communities", 'households = "none"'))
    out = tmp_path / "o"
    code, printed, err = run_cli("run", "--config", folder, "--out", out)
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    sites = summary["sites"]
    assert sites["weights"] == "communities" and sites["count"] > 0
    assert sites["full_coverage_households_after"] is None  # never a household figure
    before, after = (
        sites["full_coverage_communities_before"],
        sites["full_coverage_communities_after"],
    )
    assert before == summary["coverage"]["full_coverage_communities"] and after > before
    assert f"全覆盖小区占比{after:.1%}" in printed and "户数占比" not in printed
    book = load_workbook(out / "ledger.xlsx")
    rows = {r[0]: r[1] for r in book["汇总"].iter_rows(values_only=True) if len(r) > 1}
    assert rows["选址后全覆盖小区占比"] == after
    headers = next(book["小区台账"].iter_rows(values_only=True))
    assert len(headers) == len(set(headers))  # the kept 户数 column does not collide


def test_empty_basket_is_refused(tmp_path, run_cli):
    folder = _demo(tmp_path, run_cli, _under("coverage", "basket = []"))
    code, _, err = run_cli("check", "--config", folder, "--lang", "en")
    assert code == 2 and "basket = [] is empty" in err and len(err.strip().splitlines()) == 1


def test_basket_emptied_by_drop_says_so(tmp_path, run_cli):
    edit = _under("coverage", 'basket = ["market"]\ndrop = ["菜市场"]')
    folder = _demo(tmp_path, run_cli, edit)
    code, _, err = run_cli("check", "--config", folder, "--lang", "en")
    assert code == 2 and "empty after drop" in err, err
