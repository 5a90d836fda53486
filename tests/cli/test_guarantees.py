"""The guarantees of issue 10 through the command line: inputs are never written, a run's outputs
appear together or not at all, every failure is one clean line with exit code 2, and the project
file is validated before anything runs.

Each case checks: the exit code, one line on stderr, no traceback, every input byte-identical and
the output folder either the complete new set or exactly as before.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import shapely

from spatial.outputs import staging
from spatial.workflow import pipeline
from tests.conftest import JINAN, small_communities, to_4548

CORE = ["elderly_daycare", "nursing_home", "nursery", "kindergarten", "health_station",
        "health_center", "market", "convenience"]  # fmt: skip


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) → its SHA-256."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def stagings(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{staging.STAGING_PREFIX}*"))


def assert_clean(code: int, err: str, expected: str, exit_code: int = 2) -> None:
    assert code == exit_code, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert expected in lines[0], lines[0]


@pytest.fixture
def project(small_project: Path) -> Path:
    return small_project


def _edit(project: Path, old: str, new: str) -> None:
    text = project.read_text("utf-8")
    assert old in text
    project.write_text(text.replace(old, new, 1), "utf-8")


# -- configuration validated before anything runs ---------------------------------------------

CONFIG_CASES = {
    "radius_text": ('\n[coverage]\nradius = {market = "abc"}\n', "[coverage] radius.market"),
    "radius_zero": ("\n[coverage]\nradius = {market = 0}\n", "above 0 metres"),
    "radius_negative": ("\n[coverage]\nradius = {market = -5}\n", "radius.market"),
    "spacing_zero": ("\n[coverage]\naccess_spacing_m = 0\n", "[coverage] access_spacing_m"),
    "speed_negative": ("\n[coverage]\nwalk_speed_kmh = -4\n", "[coverage] walk_speed_kmh"),
    "speed_nan": ("\n[coverage]\nwalk_speed_kmh = nan\n", "[coverage] walk_speed_kmh"),
    "bound_inf": ("\n[coverage]\nsearch_bound_m = inf\n", "[coverage] search_bound_m"),
    "bound_zero": ("\n[coverage]\nsearch_bound_m = 0\n", "[coverage] search_bound_m"),
    "snap_negative": ("\n[coverage]\nmax_snap_m = -1\n", "[coverage] max_snap_m"),
    "buffer_zero": ("\n[coverage]\nservice_area_buffer_m = 0\n", "service_area_buffer_m"),
    "detour_below_1": ("\n[coverage]\ndetour_factor = 0.9\n", "at least 1"),
    "cutoffs_reversed": ('\n[policy]\npriority_cutoff = "2010-01-01"\n', "later than old_cutoff"),
    "min_members_0": ("\n[bundling]\nmin_members = 0\n", "[bundling] min_members"),
    "min_members_1": ("\n[bundling]\nmin_members = 1\n", "at least 2"),
    "tolerance_negative": ("\n[bundling]\ntolerance_m = -1\n", "[bundling] tolerance_m"),
    "max_sites_negative": ("\n[siting]\nmax_sites = -1\n", "[siting] max_sites"),
    "weight_negative": ("\n[priority]\ntier = -10\n", "[priority] tier"),
    "willingness_share": ("\n[policy]\nmin_willingness = 1.5\n", "[policy] min_willingness"),
    "basket_empty": (f"\n[coverage]\ndrop = {CORE!r}\n".replace("'", '"'), "basket is empty"),
    "unknown_basemap": ('\n[render]\nbasemap = "bing"\n', "[render] basemap = 'bing'"),
    "tianditu_no_key": ('\n[render]\nbasemap = "tianditu"\n', "tianditu_key"),
    # true is an int to Python: it was read as 1 (detour 1.0 ran, max_sites = 1 ran)
    "detour_true": ("\n[coverage]\ndetour_factor = true\n", "detour_factor must be"),
    "max_sites_true": ("\n[siting]\nmax_sites = true\n", "max_sites must be"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_config_case_is_one_line_before_any_work(case, project, run_cli, monkeypatch):
    addition, expected = CONFIG_CASES[case]
    project.write_text(project.read_text("utf-8") + addition, "utf-8")
    out = project.parent / "out"
    before = snapshot(project.parent)
    analysed = []
    monkeypatch.setattr(pipeline, "analyse", lambda *a, **k: analysed.append(1))
    code, _, err = run_cli("run", "--config", project, "--out", out, "--lang", "en")
    assert_clean(code, err, expected)
    assert not analysed  # stopped before the analysis
    assert snapshot(project.parent) == before and not out.exists()
    assert not stagings(project.parent)


@pytest.mark.slow
@pytest.mark.parametrize(
    "old, new, expected",
    [
        ('name = "测试"', 'name = "测试"\ncrs = "EPSG:4490"', "geographic"),
        ('name = "测试"', 'name = "测试"\ncrs = "EPSG:4326"', "EPSG:4548"),
        ('name = "测试"', 'name = "测试"\ncrs = "EPSG:99999"', "[project] crs"),
        ('name = "测试"', 'name = "测试"\ncrs = "CGCS2000"', "[project] crs"),
        ("[communities]\n", '[communities]\ncrs = "EPSG:abc"\n', "[communities] crs"),
        ("[communities]\n", '[communities]\nencoding = "gbkk"\n', "[communities] encoding"),
    ],
)
def test_crs_and_encoding_settings(project, run_cli, old, new, expected):
    _edit(project, old, new)
    before = snapshot(project.parent)
    code, _, err = run_cli(
        "coverage", "--config", project, "--out", project.parent / "out", "--lang", "en"
    )
    assert_clean(code, err, expected)
    assert snapshot(project.parent) == before


def test_web_mercator_is_a_warning_in_the_summary(project, run_cli):
    import json

    _edit(project, 'name = "测试"', 'name = "测试"\ncrs = "EPSG:3857"')
    out = project.parent / "out"
    code, _, err = run_cli("coverage", "--config", project, "--out", out)
    assert code == 0, err
    warnings = json.loads((out / "summary.json").read_text("utf-8"))["warnings"]
    merc = [w for w in warnings if w["code"] == "web_mercator"]
    assert merc and merc[0]["layer"] == "project" and "1.22" in merc[0]["message"]


# -- inputs are never overwritten ------------------------------------------------------------


def test_input_named_like_an_output_inside_out_is_refused(project, run_cli):
    out = project.parent / "out"
    out.mkdir()
    (project.parent / "communities.gpkg").rename(out / "lifecircle.gpkg")
    _edit(project, 'path = "communities.gpkg"', 'path = "out/lifecircle.gpkg"')
    before = snapshot(project.parent)
    code, _, err = run_cli("run", "--config", project, "--out", out, "--lang", "en")
    assert_clean(code, err, "would overwrite the input")
    assert "lifecircle.gpkg" in err and "[communities] path" in err
    assert snapshot(project.parent) == before


def test_same_file_under_another_name_is_refused(project, run_cli):
    out = project.parent / "out"
    out.mkdir()
    os.link(project.parent / "facilities.csv", out / "summary.json")  # a hard link
    (out / "overview.html").symlink_to(project)  # a symbolic link to the project file
    before = snapshot(project.parent)
    code, _, err = run_cli("coverage", "--config", project, "--out", out, "--lang", "en")
    assert_clean(code, err, "would overwrite the input")
    assert snapshot(project.parent) == before


# -- all-or-nothing outputs ------------------------------------------------------------------


def _first_run(project: Path, run_cli) -> tuple[Path, dict[str, str]]:
    out = project.parent / "out"
    code, _, err = run_cli("coverage", "--config", project, "--out", out)
    assert code == 0, err
    (out / "notes.txt").write_text("the planner's own file", "utf-8")
    return out, snapshot(project.parent)


def _fail_in_map_stage(exc: BaseException):
    def write_maps(result, out, lang, basemap=None):
        (out / "overview.html").write_text("half", "utf-8")  # a half-written file
        raise exc

    return write_maps


@pytest.mark.parametrize(
    "exc, code, expected",
    [
        (KeyboardInterrupt(), 130, "未改动"),
        (OSError(errno.ENOSPC, "No space left on device"), 2, "No space left on device"),
        (RuntimeError("late bug"), 3, "内部错误（RuntimeError: late bug）"),
    ],
)
@pytest.mark.slow
def test_failure_in_map_stage_leaves_out_as_before(project, run_cli, monkeypatch, exc, code,
                                                   expected):  # fmt: skip
    from spatial.outputs.html import write as report

    out, before = _first_run(project, run_cli)
    monkeypatch.setattr(report, "write_maps", _fail_in_map_stage(exc))
    got, _, err = run_cli("run", "--config", project, "--out", out)
    assert_clean(got, err, expected, exit_code=code)
    assert snapshot(project.parent) == before  # inputs and --out exactly as before
    assert not stagings(project.parent)


def test_full_disk_while_writing_the_geopackage(project, run_cli, monkeypatch):
    out, before = _first_run(project, run_cli)

    def full(target, layers, *looks):  # noqa: ARG001
        target.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(staging, "write_gpkg", full)
    code, _, err = run_cli("coverage", "--config", project, "--out", out, "--lang", "en")
    assert_clean(code, err, "the folder is unchanged")
    assert snapshot(project.parent) == before and not stagings(project.parent)


@pytest.mark.slow
def test_new_set_replaces_the_old_set_only(project, run_cli):
    import json

    out, _ = _first_run(project, run_cli)
    code, _, err = run_cli("run", "--config", project, "--out", out)
    assert code == 0, err
    names = json.loads((out / "summary.json").read_text("utf-8"))["outputs"]
    assert {"lifecircle.gpkg", "overview.html", "ledger.xlsx", "summary.json"} <= set(names)
    assert {p.name for p in out.iterdir()} == set(names) | {"notes.txt"}
    # a coverage run afterwards: the tool's maps of the last run go, the planner's file stays
    code, _, err = run_cli("coverage", "--config", project, "--out", out)
    assert code == 0, err
    assert {p.name for p in out.iterdir()} == {"lifecircle.gpkg", "summary.json", "notes.txt"}
    assert (out / "notes.txt").read_text("utf-8") == "the planner's own file"


def test_stale_staging_is_removed_only_with_proof(project, run_cli):
    """A staging folder of a run that is over (valid marker, lock free) is removed; one without
    a marker (old style, or a planner's folder so named) and a hidden file named like the
    tool's temporary files are kept: the tool cannot prove it made them (issue 23)."""
    from spatial.outputs.run_marker import claim

    out, _ = _first_run(project, run_cli)
    stale, lock = claim(project.parent, staging.STAGING_PREFIX)
    os.close(lock)  # its run is over
    (stale / "new").mkdir()
    (stale / "new" / "lifecircle.gpkg").write_bytes(b"killed half way")
    unproven = project.parent / f"{staging.STAGING_PREFIX}999999-0a1b2c3d"
    (unproven / "new").mkdir(parents=True)
    tmp = out / ".lifecircle.ab12cd_9.gpkg"  # named like atomic_path's files: not proven ours
    tmp.write_bytes(b"x")
    code, _, err = run_cli("coverage", "--config", project, "--out", out)
    assert code == 0, err
    assert not stale.exists()
    assert unproven.exists() and tmp.read_bytes() == b"x"


# -- checks that need no analysis, and crashes that are now clean errors ---------------------


def test_out_is_a_file(project, run_cli):
    target = project.parent / "out.txt"
    target.write_text("not a folder", "utf-8")
    before = snapshot(project.parent)
    code, _, err = run_cli("coverage", "--config", project, "--out", target, "--lang", "en")
    assert_clean(code, err, "is a file, not a folder")
    assert snapshot(project.parent) == before


def test_out_not_writable(project, run_cli):
    code, _, err = run_cli(
        "coverage", "--config", project, "--out", "/proc/lifecircle-out", "--lang", "en"
    )
    assert_clean(code, err, "cannot write in /proc")


def test_tianditu_without_key_from_the_command_line(project, run_cli, monkeypatch):
    monkeypatch.delenv("TIANDITU_KEY", raising=False)
    monkeypatch.setattr(pipeline, "load_inputs", lambda *a, **k: pytest.fail("loaded"))
    code, _, err = run_cli("map", "--config", project, "--out", project.parent / "o",
                           "--basemap", "tianditu")  # fmt: skip
    assert_clean(code, err, "天地图")


def test_init_into_a_file(tmp_path, run_cli):
    target = tmp_path / "afile"
    target.write_text("x", "utf-8")
    code, _, err = run_cli("init", target)
    assert_clean(code, err, "不是文件夹")
    assert target.read_text("utf-8") == "x"


def test_missing_ids(project, run_cli):
    gdf = small_communities()
    gdf["编号"] = ["A", None, "C", "D"]
    gdf.to_file(project.parent / "communities.gpkg", driver="GPKG")
    _edit(project, "[communities]\n", '[communities]\nid = "编号"\n')
    code, _, err = run_cli(
        "run", "--config", project, "--out", project.parent / "out", "--lang", "en"
    )
    assert_clean(code, err, "row 3: empty id in column '编号'")


@pytest.mark.parametrize("highway, offset", [("residential", 5000.0), ("motorway", -20.0)])
def test_no_community_near_a_walkable_street(project, run_cli, highway, offset):
    import geopandas as gpd

    x0, y0 = to_4548(*JINAN)
    line = shapely.LineString([(x0 - 100, y0 + offset), (x0 + 600, y0 + offset)])
    gpd.GeoDataFrame({"highway": [highway]}, geometry=[line], crs=4548).to_file(
        project.parent / "roads.gpkg"
    )
    project.write_text(project.read_text("utf-8") + '[network]\npath = "roads.gpkg"\n', "utf-8")
    before = snapshot(project.parent)
    code, _, err = run_cli(
        "coverage", "--config", project, "--out", project.parent / "out", "--lang", "en"
    )
    assert_clean(code, err, "walkable street")
    assert "roads.gpkg" in err
    assert snapshot(project.parent) == before


def test_unreadable_layer_is_that_layers_error(project, run_cli):
    (project.parent / "communities.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    code, _, err = run_cli("check", "--config", project)
    assert_clean(code, err, "communities.gpkg")


def test_debug_shows_the_traceback(project, run_cli):
    _edit(project, 'name = "测试"', 'name = "测试"\ncrs = "EPSG:4326"')
    code, _, err = run_cli("--debug", "coverage", "--config", project)
    assert code == 2 and "Traceback" in err and "ConfigError" in err


@pytest.mark.slow
def test_real_process_one_line_exit_2(project):
    target = project.parent / "out.txt"
    target.write_text("x", "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "spatial", "coverage", "--config", str(project), "--out",
         str(target), "--lang", "en"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "is a file, not a folder" in done.stderr
