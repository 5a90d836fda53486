"""``lifecircle batch``: several projects as tasks on a Dask LocalCluster, each equal to its single
run, a bad project failing alone, and the region's figures summing its projects'."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest

from spatial.cli import main as cli
from spatial.config.project import load_project
from spatial.core.errors import InputError
from spatial.outputs.html.region import headline_colour, write_region_map
from spatial.workflow.batch import check_region_outputs, read_batch, worker_count
from spatial.workflow.pipeline import run
from spatial.workflow.region import project_record, region_summary, region_totals

VOLATILE = ("generated", "timings_s", "seconds")


@pytest.fixture(scope="module")
def batch_run(tmp_path_factory):
    """Three demo projects (b with another seed; "bad" names a missing id column) run as a
    batch on 2 local worker processes, and project b run on its own."""
    root = tmp_path_factory.mktemp("batch")
    projects = root / "projects"
    assert cli.main(["demo", str(projects / "a")]) == 0
    assert cli.main(["demo", str(projects / "b"), "--seed", "7"]) == 0
    shutil.copytree(projects / "a", projects / "bad")
    toml = projects / "bad" / "project.toml"
    toml.write_text(toml.read_text("utf-8").replace('id = "小区编号"', 'id = "编号X"'), "utf-8")
    out = root / "out"
    # the console script as a planner runs it: its workers are processes of their own
    done = subprocess.run(
        [sys.executable, "-m", "spatial", "batch", str(projects), "--out", str(out),
         "--workers", "2"], capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    single = root / "single_b"
    run(load_project(projects / "b" / "project.toml"), single)
    return done.returncode, projects, out, single, done.stdout + done.stderr


def _timeless(value: object) -> object:
    """A summary without its timings (``timings_s``, the solvers' ``seconds``) and timestamp."""
    if isinstance(value, dict):
        return {k: _timeless(v) for k, v in value.items() if k not in VOLATILE}
    return [_timeless(v) for v in value] if isinstance(value, list) else value


def _summary(path: Path) -> dict:
    return _timeless(json.loads((path / "summary.json").read_text("utf-8")))


def test_a_bad_project_fails_alone_with_exit_code_2(batch_run):
    code, _, out, _, _ = batch_run
    region = json.loads((out / "summary.json").read_text("utf-8"))
    assert code == 2
    assert [f["name"] for f in region["failed"]] == ["bad"]
    assert region["failed"][0]["code"] == 2
    assert "编号X" in region["failed"][0]["message"]
    assert not (out / "bad").exists()  # nothing of the failed project was written
    assert [p["name"] for p in region["projects"]] == ["a", "b"]
    assert sorted(region["outputs"]) == ["ledger.xlsx", "overview.html", "summary.json"]


def test_the_workers_print_no_library_chatter(batch_run):
    """A worker process does not inherit the command line's logging: the batch's task quiets the
    libraries itself (matplotlib's bold-face fallback was printed once per print map)."""
    printed = batch_run[4]
    assert "bad" in printed  # the failed project's line is there: the output was captured
    assert "findfont" not in printed and "fontTools" not in printed


def test_each_project_equals_its_single_run(batch_run):
    _, _, out, single, _ = batch_run
    assert _summary(out / "b") == _summary(single)
    assert sorted(p.name for p in (out / "b").iterdir()) == sorted(p.name for p in single.iterdir())
    batch_comm = gpd.read_file(out / "b" / "lifecircle.gpkg", layer="communities")
    single_comm = gpd.read_file(single / "lifecircle.gpkg", layer="communities")
    assert batch_comm.drop(columns="geometry").equals(single_comm.drop(columns="geometry"))
    assert _summary(out / "a")["communities"] != _summary(out / "b")["communities"]


def test_the_region_sums_its_projects(batch_run):
    _, _, out, _, _ = batch_run
    region = json.loads((out / "summary.json").read_text("utf-8"))
    totals = region["totals"]
    runs = [_summary(out / name) for name in ("a", "b")]
    for key in ("communities", "old_communities", "households"):
        assert totals[key] == sum(s[key] for s in runs)
    assert totals["bundles"] == sum(s["bundles"]["count"] for s in runs)
    assert totals["sites"] == sum(s["sites"]["count"] for s in runs)
    assert totals["data_problems"] == sum(len(s["warnings"]) for s in runs)
    hh = [s["households"] for s in runs]
    now = [s["coverage"]["full_coverage_households"] for s in runs]
    assert totals["full_coverage_now"] == round((now[0] * hh[0] + now[1] * hh[1]) / sum(hh), 4)
    short = [s["capacity"]["categories"]["kindergarten"]["shortfall"] for s in runs]
    # the projects' unrounded shortfalls added, rounded once: within 0.05 of each project's
    # 0.1-rounded figure, so within 0.1 of their sum (test_region_shortfall_is_rounded_once)
    assert totals["shortfall"]["kindergarten"] == pytest.approx(sum(short), abs=0.1 + 1e-9)
    # the health check counted again from the projects' GeoPackages
    comms = [gpd.read_file(out / n / "lifecircle.gpkg", layer="communities") for n in "ab"]
    missing = sum(int((~c["kindergarten_ok"].astype(bool)).sum()) for c in comms)
    assert totals["health"]["no_kindergarten"]["count"] == missing
    attained = sum(int(c["full_coverage"].astype(bool).sum()) for c in comms)
    assert totals["health"]["life_circle_rate"]["count"] == attained
    assert totals["health"]["life_circle_rate"]["share"] == round(
        attained / sum(map(len, comms)), 4
    )


def test_the_region_ledger_and_map(batch_run):
    _, _, out, _, _ = batch_run
    region = json.loads((out / "summary.json").read_text("utf-8"))
    book = openpyxl.load_workbook(out / "ledger.xlsx")
    assert book.sheetnames == ["各项目", "城市体检", "未完成项目"]
    rows = list(book["各项目"].iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["a", "b", "projects（合计）"]
    assert rows[-1][1:4] == (
        region["totals"]["communities"],
        region["totals"]["old_communities"],
        region["totals"]["households"],
    )
    health = {r[0]: r for r in book["城市体检"].iter_rows(values_only=True)}
    rate = health["15分钟生活圈达标率"]
    assert rate[1] == region["totals"]["health"]["life_circle_rate"]["share"]
    assert "建科〔2023〕75号" in rate[5]
    assert all(c.data_type != "f" for ws in book for row in ws.iter_rows() for c in row)
    page = (out / "overview.html").read_text("utf-8")
    assert 'href=\\"a/overview.html\\"' in page and 'href=\\"b/overview.html\\"' in page
    assert "bad/overview.html" not in page and "unpkg.com" not in page


def _record(name: str, households: int, communities: int, full: float, missing: int) -> dict:
    summary = {
        "communities": communities,
        "old_communities": communities // 2,
        "households": households,
        "coverage": {"full_coverage_households": full, "categories": {}},
        "sites": {"count": 1, "full_coverage_households_after": full + 0.1},
        "bundles": {"count": 2},
        "warnings": [{}],
    }
    health = {
        "no_elderly_care": {"count": missing, "communities": communities},
        "no_childcare": {"count": missing, "communities": communities},
        "no_kindergarten": {"count": None, "communities": communities},
        "life_circle_rate": {"count": 1, "communities": communities},
    }
    return {"name": name, "folder": name, "summary": summary, "health": health}


def test_region_shares_are_weighted_by_households_and_unmeasured_stays_none():
    totals = region_totals([_record("x", 100, 10, 0.5, 3), _record("y", 300, 30, 0.1, 6)])
    assert totals["full_coverage_now"] == 0.2  # (0.5 × 100 + 0.1 × 300) / 400
    assert totals["full_coverage_after"] == 0.3
    assert totals["health"]["no_elderly_care"] == {"count": 9, "communities": 40, "share": 0.225}
    assert totals["health"]["no_kindergarten"]["count"] is None  # not measured: not a zero
    assert (totals["bundles"], totals["sites"], totals["data_problems"]) == (4, 2, 2)


def _capacity_record(name: str, exact: float | None, rounded: float) -> dict:
    """A project's record with a nursing-home shortfall: ``rounded`` in its summary.json,
    ``exact`` (None: no ``exact`` block, a record of an older run) unrounded."""
    record = _record(name, 100, 10, 0.5, 3)
    record["summary"]["capacity"] = {"categories": {"nursing_home": {"shortfall": rounded}}}
    if exact is not None:
        record["exact"] = {"shortfall": {"nursing_home": exact}}
    return record


def test_region_shortfall_totals_unrounded_values_rounded_once():
    # 0.14 + 0.14 beds: each project says 0.1 (its summary.json), the region 0.3, not 0.1 + 0.1
    records = [_capacity_record("x", 0.14, 0.1), _capacity_record("y", 0.14, 0.1)]
    assert round(0.1 + 0.1, 1) == 0.2  # what adding the rounded figures gave
    assert region_totals(records)["shortfall"] == {"nursing_home": 0.3}
    summary = region_summary("r", records, [])
    assert [p["shortfall"]["nursing_home"] for p in summary["projects"]] == [0.1, 0.1]
    assert summary["totals"]["shortfall"]["nursing_home"] == 0.3
    # 12.46 + 3.46 = 15.92 → 15.9, where the rounded figures give 12.5 + 3.5 = 16.0
    records = [_capacity_record("x", 12.46, 12.5), _capacity_record("y", 3.46, 3.5)]
    assert region_totals(records)["shortfall"]["nursing_home"] == 15.9
    # a record without its unrounded amounts: the summary's figure is what is summed
    records = [_capacity_record("x", 0.14, 0.1), _capacity_record("y", None, 0.1)]
    assert region_totals(records)["shortfall"]["nursing_home"] == 0.2


def test_project_record_carries_the_shortfalls_its_summary_rounds(demo_analysis):
    result = demo_analysis(("coverage",))
    record = project_record("demo", result, "demo")
    exact = record["exact"]["shortfall"]
    cats = result.summary["capacity"]["categories"]
    assert set(exact) == {c for c, b in cats.items() if b.get("shortfall") is not None}
    assert len(exact) >= 2 and any(v != round(v, 1) for v in exact.values())  # really unrounded
    for cat, value in exact.items():
        assert round(value, 1) == cats[cat]["shortfall"]
        assert value == pytest.approx(result.communities[f"{cat}_short"].sum())


def test_the_region_map_escapes_names_and_links(tmp_path):
    outline = {"type": "Polygon", "coordinates": [[[117, 36.6], [117.01, 36.6], [117, 36.61]]]}
    entry = {
        "name": "<script>alert(1)</script>",
        "folder": "区 1",
        "communities": 3,
        "full_coverage_now": 0.9,
        "full_coverage_after": None,
    }
    page = write_region_map(tmp_path / "m.html", "市", [entry], [outline], "zh").read_text("utf-8")
    assert "<script>alert(1)" not in page
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page  # escaped, then JSON: shown as text
    assert "%E5%8C%BA%201/overview.html" in page  # the folder as a URL
    assert headline_colour(0.9) == "#1a9850" and headline_colour(0.1) == "#d73027"
    assert headline_colour(None) == "#bdbdbd"


def test_read_batch_file_folder_and_names(tmp_path):
    for name in ("p1", "p2"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "project.toml").write_text("[project]\n", "utf-8")
    folder = read_batch([tmp_path])
    assert [p.name for p in folder.projects] == ["p1", "p2"]
    spec = tmp_path / "jinan.toml"
    spec.write_text(
        '[batch]\nname = "济南市"\n[[projects]]\nname = "历下区"\nconfig = "p1"\n'
        '[[projects]]\nname = "市中区"\nconfig = "p2/project.toml"\n',
        "utf-8",
    )
    batch = read_batch([spec])
    assert batch.name == "济南市"
    assert [(p.name, p.config) for p in batch.projects] == [
        ("历下区", tmp_path / "p1" / "project.toml"),
        ("市中区", tmp_path / "p2" / "project.toml"),
    ]
    spec.write_text('[[projects]]\nname = "../x"\nconfig = "p1"\n', "utf-8")
    with pytest.raises(InputError, match="cannot be a folder name"):
        read_batch([spec])
    with pytest.raises(InputError, match="given twice"):
        read_batch([tmp_path / "p1", tmp_path / "p1" / "project.toml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no project found"):
        read_batch([tmp_path / "empty"])


def test_worker_count_is_bounded_by_projects_and_request():
    assert worker_count(1)[0] == 1
    assert worker_count(5, workers=2)[0] == 2
    n, memory = worker_count(50)
    assert 1 <= n <= (mp.cpu_count() or 1) and memory > 0


def _report(queue) -> None:
    from spatial.core.parallel import can_fork

    queue.put(can_fork())


def test_a_daemonic_process_runs_its_stages_in_process():
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_report, args=(queue,), daemon=True)
    child.start()
    assert queue.get(timeout=30) is False
    child.join()


def test_region_files_may_not_overwrite_a_projects_input(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "project.toml").write_text(
        '[communities]\npath = "../out/ledger.xlsx"\n', "utf-8"
    )
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "project.toml").write_text("[oops\n", "utf-8")  # fails in its own task
    batch = read_batch([tmp_path / "p", tmp_path / "q"])
    with pytest.raises(InputError, match="ledger.xlsx"):
        check_region_outputs(batch, tmp_path / "out")
    check_region_outputs(batch, tmp_path / "elsewhere")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('batch = 5\n[[projects]]\nconfig = "p1"\n', "[batch]"),  # was AttributeError, exit 3
        ("projects = 7\n", "[[projects]]"),  # was TypeError, exit 3
        ('projects = "p1"\n', "not written as a table"),  # was "number 1 has no config"
        ('[batch]\nlang = "fr"\n[[projects]]\nconfig = "p1"\n', "'fr'"),  # was ignored
        ('[[projects]]\nname = "overview.html"\nconfig = "p1"\n', "region file"),
        # one folder where the file system ignores case (Windows, macOS): two runs in one --out
        (
            '[[projects]]\nname = "Lixia"\nconfig = "p1"\n[[projects]]\nname = "lixia"\nconfig = "p1"\n',
            "given twice",
        ),
    ],
)
def test_a_malformed_batch_file_is_one_line_before_any_project_runs(tmp_path, text, words):
    """A project named like a region file ran (two demo projects: 2 minutes), then the region's
    write stopped on IsADirectoryError, exit 3; the shapes above were internal errors."""
    from spatial.core.errors import LifecircleError

    (tmp_path / "p1").mkdir()
    (tmp_path / "p1" / "project.toml").write_text("[project]\n", "utf-8")
    spec = tmp_path / "region.toml"
    spec.write_text(text, "utf-8")
    with pytest.raises(LifecircleError) as err:
        read_batch([spec])
    message = err.value.message("en")
    assert "region.toml" in message and words in message and "\n" not in message


def test_a_projects_outputs_may_not_overwrite_another_projects_input(tmp_path):
    """Project p reads the GeoPackage project q writes (a planner reusing an earlier output):
    each run checks only its own inputs, so q's run replaced p's input while p read it."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "project.toml").write_text(
        '[communities]\npath = "../out/q/lifecircle.gpkg"\n', "utf-8"
    )
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "project.toml").write_text("[project]\n", "utf-8")
    batch = read_batch([tmp_path / "p", tmp_path / "q"])
    with pytest.raises(InputError, match="lifecircle.gpkg"):
        check_region_outputs(batch, tmp_path / "out")
    check_region_outputs(batch, tmp_path / "elsewhere")
