"""Lines in the terminal: data text reaches it without acting on it (control and bidi characters
shown as escapes in run output and in error lines, a newline not splitting a line); implausibly
large numbers stop the run with one line naming the row and column."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from spatial.core.errors import InputError
from spatial.core.messages import visible
from spatial.core.settings import PLAUSIBLE_MAX
from spatial.inputs.parse import parse_number

from ..conftest import small_communities, small_facilities_csv

#: What must never reach stdout/stderr raw: C0/C1 controls (but tab and newline), bidi marks,
#: embeddings, overrides and isolates.
RAW = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
EVIL_NAME = "测试\x1b[31m红\u202e反\n第二行"
EVIL_CATEGORY = "\x1b[2J\x1b[H清屏\u200f"


def _cli(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "spatial.cli.main", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def _project(folder: Path, name: str = "测试", households: list | None = None) -> Path:
    gdf = small_communities()
    if households is not None:
        gdf["户数"] = households
    gdf.to_file(folder / "communities.gpkg", driver="GPKG")
    small_facilities_csv(
        folder / "facilities.csv",
        [("幸福托老所", "托老所", 117.02, 36.66), ("某处", EVIL_CATEGORY, 117.021, 36.66)],
    )
    (folder / "project.toml").write_text(
        f"[project]\nname = {json.dumps(name)}\n[communities]"
        '\npath = "communities.gpkg"\n'
        '[facilities]\npath = "facilities.csv"\ncoords = "gcj02"\n',
        encoding="utf-8",
    )
    return folder / "project.toml"


@pytest.fixture(scope="module")
def evil_run(tmp_path_factory) -> subprocess.CompletedProcess:
    folder = tmp_path_factory.mktemp("evil")
    config = _project(folder, EVIL_NAME)
    return _cli("run", "--config", config, "--out", folder / "out", cwd=folder)


@pytest.mark.slow
def test_run_prints_names_with_control_and_bidi_characters_as_escapes(evil_run):
    assert evil_run.returncode == 0, evil_run.stderr
    out, err = evil_run.stdout, evil_run.stderr
    assert RAW.findall(out) == [] and RAW.findall(err) == []
    # the names are still there, their characters written as escapes
    assert "测试\\x1b[31m红\\u202e反\\n第二行" in out
    assert "\\x1b[2J\\x1b[H清屏\\u200f" in out


def test_newline_in_a_name_does_not_split_the_line(evil_run):
    headline = [line for line in evil_run.stdout.splitlines() if "测试" in line]
    assert len(headline) == 1 and "第二行" in headline[0]
    assert not any(line.startswith("第二行") for line in evil_run.stdout.splitlines())


def test_parse_number_maximum_is_inclusive_and_names_the_row():
    limit = PLAUSIBLE_MAX["households"]
    ok = parse_number(pd.Series([str(limit), "120户"]), "户数", Path("a.csv"), "户", limit)
    assert ok.tolist() == [limit, 120.0]
    with pytest.raises(InputError) as caught:
        parse_number(pd.Series(["98", "1e300"]), "户数", Path("a.csv"), "户", limit)
    line = caught.value.message("en")
    assert "row 3" in line and "'户数'" in line and "1e300" in line and "200,000" in line


@pytest.mark.slow
def test_implausible_households_stop_the_run_with_one_line_naming_row_and_column(tmp_path):
    config = _project(tmp_path, households=["100", "110", "1e300", "130"])
    done = _cli("check", "--config", config, "--lang", "en", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "row 4" in lines[0] and "'户数'" in lines[0] and "200,000" in lines[0]
    assert "communities.gpkg" in lines[0]


@pytest.mark.slow
def test_plausible_households_still_run(tmp_path):
    config = _project(tmp_path, households=["100", "110", "200000", "130"])
    done = _cli("check", "--config", config, cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_implausible_beds_name_the_facility_row(tmp_path, run_cli):
    config = _project(tmp_path)
    frame = pd.read_csv(tmp_path / "facilities.csv")
    frame["床位数"] = ["50", "1e12"]
    frame.to_csv(tmp_path / "facilities.csv", index=False, encoding="utf-8")
    code, _, err = run_cli("check", "--config", config, "--lang", "en")
    assert code == 2
    assert "facilities.csv" in err and "row 3" in err and "'床位数'" in err and "100,000" in err


def test_error_line_shows_escape_sequences_and_bidi_overrides_as_text(small_project, run_cli):
    """A households cell holding ``ESC[2J`` (clear screen), a colour code and a right-to-left
    override was printed raw in the error line: the terminal cleared itself and the rest of the
    line ran backwards. The line now quotes them as ``\\x1b``/``\\u202e``."""
    folder = small_project.parent
    comm = small_communities()
    comm["户数"] = ["100", "\x1b[2J\x1b[31m12\u202e3", "130", "140"]
    comm.to_file(folder / "communities.gpkg")
    for lang, start in (("zh", "错误："), ("en", "error: ")):
        code, stdout, stderr = run_cli("check", "--config", small_project, "--lang", lang)
        assert code == 2
        line = stderr.strip()
        assert line.startswith(start) and "\n" not in line, stderr
        assert not any(ch in line for ch in "\x1b\u202e\x07"), repr(line)
        assert "\\x1b[2J\\x1b[31m12\\u202e3" in line and "communities.gpkg" in line
    assert visible("名称\u2066x\u2069\x9b\x7f") == "名称\\u2066x\\u2069\\x9b\\x7f"
    assert visible("A 栋 ✓ é\u200d") == "A 栋 ✓ é\u200d"  # printable text is untouched
