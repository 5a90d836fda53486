"""Every bad input gives one line naming the file/row/column and the fix, exit code 2, no traceback,
and leaves the inputs untouched and no output written."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from spatial.core.errors import InputError
from spatial.inputs.parse import parse_number

from ..conftest import JINAN, file_digest, small_communities, small_facilities_csv


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


@pytest.mark.slow
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
    from spatial.outputs import staging

    target = tmp_path / "summary.json"
    target.write_text("old", "utf-8")
    with pytest.raises(RuntimeError), staging.atomic_path(target) as tmp:
        tmp.write_text("half", "utf-8")
        raise RuntimeError("disk full")
    assert target.read_text("utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_negative_value_in_a_column_with_blanks_is_a_clean_error():
    """A capacity column is mostly blank (only some facilities have beds): a negative value in it
    was an internal error (``boolean value of NA is ambiguous``, exit 3), not the row's error."""
    with pytest.raises(InputError) as info:
        parse_number(pd.Series(["", "12", None, "-5", ""]), "床位", Path("facilities.csv"))
    assert info.value.key == "err_negative"
    assert info.value.fields["row"] == 5  # header is row 1: the 4th value is row 5
    assert "'床位'" in str(info.value) and "-5" in str(info.value)
    # blanks alone stay blanks, numbers stay numbers
    values = parse_number(pd.Series(["", "12", None]), "床位", Path("f.csv"))
    assert values.isna().tolist() == [True, False, True] and values.iloc[1] == 12.0


def test_negative_beds_exit_2_through_the_cli(small_project, run_cli):
    folder = small_project.parent
    rows = [("幸福养老院", "养老院", *JINAN), ("和平幼儿园", "幼儿园", JINAN[0] + 0.002, JINAN[1])]
    small_facilities_csv(folder / "facilities.csv", rows)
    frame = pd.read_csv(folder / "facilities.csv")
    frame["床位"] = [-20, None]
    frame.to_csv(folder / "facilities.csv", index=False)
    before = {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()}
    code, stdout, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr + stdout
    assert "facilities.csv" in lines[0] and "row 2" in lines[0] and "'床位'" in lines[0]
    assert {p.name: file_digest(p) for p in folder.iterdir() if p.is_file()} == before


def test_empty_layer_names_its_project_section(small_project, run_cli):
    """An empty facility table said "facilities 图层为空": the English key read as a word inside
    the Chinese line. It names the project file's section: [facilities]."""
    folder = small_project.parent
    pd.read_csv(folder / "facilities.csv").iloc[:0].to_csv(folder / "facilities.csv", index=False)
    code, _, stderr = run_cli("check", "--config", small_project)
    assert code == 2 and "facilities.csv" in stderr
    assert "项目文件 [facilities] 的图层为空" in stderr
    code, _, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2 and "the [facilities] layer is empty" in stderr


def test_new_project_missing_file_names_the_section(tmp_path, run_cli):
    """The first thing a new planner sees after ``lifecircle init DIR`` + ``check`` is the
    template's communities.shp missing: the line said "check [path] in the project file"
    without saying which of the sections' paths."""
    assert run_cli("init", tmp_path / "p")[0] == 0
    code, _, stderr = run_cli("check", "--config", tmp_path / "p", "--lang", "en")
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert "communities.shp" in stderr and "file not found" in stderr
    assert "path under [communities]" in stderr
    code, _, stderr = run_cli("check", "--config", tmp_path / "p")
    assert code == 2 and "项目文件 [communities] 的 path" in stderr


def _facilities_with_beds(folder: Path, title: bool) -> None:
    """Four facilities, the 2nd 90 km away (dropped as an outlier), the 4th with beds 'abc'."""
    rows = [
        ("幸福养老院", "养老院", *JINAN),
        ("远处养老院", "养老院", JINAN[0] + 1.0, JINAN[1]),
        ("和平幼儿园", "幼儿园", JINAN[0] + 0.002, JINAN[1]),
        ("东方养老院", "养老院", JINAN[0] + 0.001, JINAN[1]),
    ]
    small_facilities_csv(folder / "facilities.csv", rows)
    frame = pd.read_csv(folder / "facilities.csv")
    frame["床位"] = ["100", "", "", "abc"]
    body = frame.to_csv(index=False)
    head = "某区设施清单（2024年）,,,,\n" if title else ""
    (folder / "facilities.csv").write_text(head + body, encoding="utf-8")


@pytest.mark.parametrize("title", [False, True])
def test_bad_value_row_counts_rows_dropped_before_and_a_title_row(small_project, run_cli, title):
    """The row was the value's position + 2 after outliers were dropped and without the title
    rows above the header: 'row 4' for a value on line 5 (6 with a title row)."""
    folder = small_project.parent
    _facilities_with_beds(folder, title)
    line = next(
        i
        for i, t in enumerate((folder / "facilities.csv").read_text("utf-8").splitlines(), 1)
        if t.endswith(",abc")
    )
    assert line == (6 if title else 5)
    code, _, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2, stderr
    assert f"row {line}, column '床位': 'abc' is not a number" in stderr


def test_duplicate_id_rows_count_a_copy_dropped_before(small_project, run_cli):
    """An exact copy of a community (dropped with a warning) sat above two communities sharing
    an id: the error named rows 4, 5 — the rows after the copy was taken out — not 5, 6."""
    folder = small_project.parent
    comm = small_communities(4)
    comm["编号"] = ["A1", "A2", "A3", "A3"]
    comm = pd.concat([comm.iloc[:1], comm]).reset_index(drop=True)  # row 3 copies row 2
    comm.to_file(folder / "communities.gpkg")
    text_ = (folder / "project.toml").read_text("utf-8")
    text_ = text_.replace('path = "communities.gpkg"', 'path = "communities.gpkg"\nid = "编号"')
    (folder / "project.toml").write_text(text_, "utf-8")
    code, _, stderr = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 2 and "duplicate id 'A3'" in stderr, stderr
    assert "(rows 5, 6)" in stderr, stderr  # header 1, A1 2, its copy 3, A2 4, A3 5 and 6
