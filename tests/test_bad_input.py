"""Every bad input gives one line naming the file/row/column and the fix, exit code 2, no traceback,
and leaves the inputs untouched and no output written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from .conftest import JINAN, file_digest, small_communities, small_facilities_csv


def _break(case: str, folder: Path) -> None:
    comm = small_communities()
    if case == "missing_file":
        (folder / "communities.gpkg").unlink()
    elif case == "missing_column":
        text = (folder / "project.toml").read_text("utf-8")
        (folder / "project.toml").write_text(text.replace('path = "communities.gpkg"',
                                             'path = "communities.gpkg"\nhouseholds = "总户数"'), "utf-8")  # fmt: skip
    elif case == "no_crs":
        comm.to_file(folder / "c.shp", encoding="gbk")
        (folder / "c.prj").unlink()
        text = (folder / "project.toml").read_text("utf-8")
        (folder / "project.toml").write_text(text.replace("communities.gpkg", "c.shp"), "utf-8")
    elif case == "swapped":
        small_facilities_csv(folder / "facilities.csv")
        frame = pd.read_csv(folder / "facilities.csv")
        frame = frame.rename(columns={"经度": "纬度", "纬度": "经度"})
        frame.to_csv(folder / "facilities.csv", index=False)
    elif case == "outside_china":
        small_facilities_csv(
            folder / "facilities.csv", [("x", "托老所", 2.35, 48.85), ("y", "托老所", *JINAN)]
        )
    elif case == "duplicate_ids":
        comm["编号"] = ["A1", "A2", "A2", "A3"]
        comm.to_file(folder / "communities.gpkg")
    elif case == "non_numeric_households":
        comm["户数"] = ["100", "约120", "130", "140"]
        comm.to_file(folder / "communities.gpkg")
    elif case == "empty_layer":
        comm.iloc[:0].to_file(folder / "communities.gpkg")
    elif case == "no_category":
        frame = pd.read_csv(folder / "facilities.csv").drop(columns=["类别"])
        frame.to_csv(folder / "facilities.csv", index=False)
    elif case == "bad_toml":
        (folder / "project.toml").write_text('[communities\npath = "x"', "utf-8")
    elif case == "unknown_key":
        text = (folder / "project.toml").read_text("utf-8")
        (folder / "project.toml").write_text(text + "\n[policy]\nold_cutof = 2005\n", "utf-8")
    elif case == "points_as_communities":
        comm.set_geometry(comm.centroid).to_file(folder / "communities.gpkg")


CASES = {
    "missing_file": ["communities.gpkg", "file not found"],
    "missing_column": ["'总户数'", "columns in the file:", "小区名称"],
    "no_crs": ["c.shp", "no CRS", 'crs = "EPSG:4548"'],
    "swapped": ["facilities.csv", "swapped"],
    "outside_china": ["facilities.csv", "row 2", "outside China"],
    "duplicate_ids": ["communities.gpkg", "duplicate id 'A2'", "rows 3, 4"],
    "non_numeric_households": ["communities.gpkg", "row 3", "'户数'", "'约120' is not a number"],
    "empty_layer": ["communities.gpkg", "empty"],
    "no_category": ["facilities.csv", "no category column", "名称"],
    "bad_toml": ["project.toml", "not valid TOML"],
    "unknown_key": ["unknown key 'old_cutof'", "old_cutoff"],
    "points_as_communities": ["communities.gpkg", "polygons"],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_one_line_exit_2(case, small_project, run_cli, tmp_path):
    folder = small_project.parent
    _break(case, folder)
    before = {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()}
    out = tmp_path / "out"
    code, stdout, stderr = run_cli("coverage", "--config", small_project, "--out", out)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("错误：")
    assert "Traceback" not in stderr + stdout
    # the same error in English (--lang en) names the same file/row/column
    code, stdout, stderr = run_cli(
        "coverage", "--config", small_project, "--out", out, "--lang", "en"
    )
    assert code == 2
    lines_en = stderr.strip().splitlines()
    assert len(lines_en) == 1 and lines_en[0].startswith("error: "), stderr
    for fragment in CASES[case]:
        assert fragment in lines_en[0], lines_en[0]
    assert lines[0] != "错误：" + lines_en[0].removeprefix("error: ")  # the body is Chinese too

    assert {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()} == before
    assert not out.exists() or not any(out.iterdir())


def test_debug_flag_shows_traceback(small_project, run_cli, tmp_path):
    _break("missing_file", small_project.parent)
    code, _, stderr = run_cli("--debug", "check", "--config", small_project)
    assert code == 2 and "Traceback" in stderr


def test_debug_traceback_shows_data_text_as_escapes(small_project, run_cli, monkeypatch):
    """A library's exception may quote data: with --debug its traceback is printed with control
    and bidi characters as escapes, like every other line on the terminal."""
    from spatial.workflow import pipeline

    def broken(*args, **kwargs):
        raise ValueError("bad name 测试\x1b[31m红\u202e反")

    monkeypatch.setattr(pipeline, "load_inputs", broken)
    code, _, stderr = run_cli("--debug", "coverage", "--config", small_project)
    assert code == 3 and "Traceback" in stderr
    assert "测试\\x1b[31m红\\u202e反" in stderr
    assert "\x1b" not in stderr and "\u202e" not in stderr


def test_failed_write_leaves_no_half_written_file(tmp_path):
    from spatial.outputs import staging as io

    target = tmp_path / "summary.json"
    target.write_text("old", "utf-8")
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        tmp.write_text("half", "utf-8")
        raise RuntimeError("disk full")
    assert target.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]
