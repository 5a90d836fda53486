"""The Python API (``import spatial``): what a notebook passes goes through the loader's checks,
and the numbers are the command line's."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import spatial
from spatial.analysis.coverage.measure import coverage_summary
from spatial.config.standards import load_standards
from tests.conftest import to_4548

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "data" / "demo"
#: the demo project's layer settings, so the API reads the files as ``lifecircle`` does
DEMO_LAYERS = {"communities": {"id": "小区编号"}, "facilities": {"coords": "gcj02"}}
X0, Y0 = to_4548(117.02, 36.66)


def _square() -> gpd.GeoDataFrame:
    """One 80 m compound with 100 households at (X0, Y0), EPSG:4548."""
    return gpd.GeoDataFrame(
        {"小区名称": ["甲"], "户数": [100]},
        geometry=[shapely.box(X0, Y0, X0 + 80, Y0 + 80)],
        crs=4548,
    )


def _facility(category: str, dx: float = 280.0, dy: float = 40.0) -> gpd.GeoDataFrame:
    """One facility ``dx``, ``dy`` metres from the square's corner: 200 m from its east side."""
    return gpd.GeoDataFrame(
        {"名称": ["设施"], "类别": [category]}, geometry=[shapely.Point(X0 + dx, Y0 + dy)], crs=4548
    )


def _straight(communities: object, facilities: object, **settings: object) -> pd.DataFrame:
    """Straight-line coverage with no detour: distances are known by hand."""
    return spatial.coverage(communities, facilities, detour_factor=1.0, **settings).communities


# -- the package: small, lazy, documented ----------------------------------------------------


@pytest.mark.slow
def test_import_spatial_is_light_and_lists_the_api():
    probe = (
        "import json, spatial\n"
        "names = dir(spatial)\n"
        "found = {n: type(getattr(spatial, n)).__name__ for n in spatial.__all__}\n"
        "print(json.dumps([names, found]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    names, found = json.loads(out.stdout)
    assert names == sorted(spatial.__all__)
    assert {"coverage", "bundle", "sites", "read_network", "load_project", "run"} <= set(names)
    assert found["coverage"] == "function" and found["CoverageResult"] == "type"
    assert found["run"] == "function"  # the run layer is spatial.workflow: no name clash


def test_import_spatial_imports_nothing_heavy():
    probe = "import json, sys, spatial\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "spatial" in loaded
    assert loaded.isdisjoint(
        {"numpy", "pandas", "geopandas", "shapely", "pyproj", "scipy", "matplotlib", "osmnx"}
    )


@pytest.mark.slow
def test_importing_the_print_modules_leaves_logging_alone_the_cli_quiets_it():
    probe = (
        "import json, logging\n"
        "import spatial.outputs.printing.pdf, spatial.outputs.printing.pack\n"
        "names = ['fontTools', 'fpdf', 'matplotlib.font_manager']\n"
        "before = [logging.getLogger(n).level for n in names]\n"
        "from spatial.cli.main import main\n"
        "main(['init', __import__('tempfile').mkdtemp() + '/p'])\n"
        "print(json.dumps([before, [logging.getLogger(n).level for n in names]]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    before, after = json.loads(out.stdout.strip().splitlines()[-1])
    assert before == [logging.NOTSET] * 3
    assert after == [logging.ERROR] * 3  # set by the command line only


def test_input_error_is_a_value_error(tmp_path):
    assert issubclass(spatial.InputError, ValueError)
    with pytest.raises(ValueError, match="not found") as caught:
        spatial.coverage(tmp_path / "missing.gpkg", _facility("幼儿园"))
    assert caught.value.key == "err_layer_file_not_found"
    with pytest.raises(ValueError) as caught:
        spatial.coverage(_square(), _facility("幼儿园"), radius_m=300)  # not a [coverage] key
    assert caught.value.key == "err_cfg_unknown_key"


# -- what users pass is checked as the loader checks files --------------------------------------


@pytest.mark.parametrize("name", ["幼儿园", "幼稚园", "kindergarten"])
def test_chinese_category_names_and_aliases_are_matched(name):
    frame = _straight(_square(), _facility(name))
    assert frame["kindergarten_m"].iloc[0] == 200.0
    assert bool(frame["kindergarten_ok"].iloc[0])  # radius 300 m
    nearer = _straight(_square(), _facility(name), radius={"幼儿园": 150})
    assert not bool(nearer["kindergarten_ok"].iloc[0])


def test_unknown_categories_are_a_warning_naming_them():
    facilities = pd.concat([_facility("幼儿园"), _facility("火星站", dx=100)], ignore_index=True)
    with pytest.warns(spatial.LifecircleWarning, match="火星站"):
        frame = _straight(_square(), facilities)
    assert frame["kindergarten_m"].iloc[0] == 200.0


def test_missing_optional_columns_do_not_raise():
    communities = gpd.GeoDataFrame(geometry=_square().geometry)  # no name, year, households
    facilities = gpd.GeoDataFrame({"类别": ["幼儿园"]}, geometry=_facility("").geometry)
    frame = _straight(communities, facilities, layers={"communities": {"households": "none"}})
    assert frame["kindergarten_m"].iloc[0] == 200.0
    assert frame["cid"].iloc[0] == "C0001"
    with pytest.raises(ValueError) as caught:  # households are needed unless said "none"
        _straight(communities, facilities)
    assert caught.value.key == "err_no_households_column"


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857", "EPSG:4549"])
def test_frames_in_any_crs_are_projected_to_the_metric_crs(crs):
    frame = _straight(_square().to_crs(crs), _facility("幼儿园").to_crs(crs))
    assert frame.crs.to_epsg() == 4548  # the automatic choice for Jinan
    assert frame["kindergarten_m"].iloc[0] == pytest.approx(200.0, abs=0.11)


def test_lonlat_without_crs_is_read_as_lonlat_projected_without_is_refused():
    lonlat = _square().to_crs(4326).set_crs(None, allow_override=True)
    facility = _facility("幼儿园").to_crs(4326).set_crs(None, allow_override=True)
    frame = _straight(lonlat, facility)
    assert frame["kindergarten_m"].iloc[0] == pytest.approx(200.0, abs=0.11)  # not 0.002°
    with pytest.raises(ValueError) as caught:
        _straight(_square().set_crs(None, allow_override=True), _facility("幼儿园"))
    assert caught.value.key == "err_no_crs_projected"
    with pytest.raises(ValueError) as caught:  # degrees are no analysis CRS
        _straight(_square(), _facility("幼儿园"), crs="EPSG:4326")
    assert caught.value.key == "err_cfg_crs_geographic"


def test_the_frames_passed_are_not_modified():
    communities, facilities = _square().to_crs(4326), _facility("幼儿园")
    before = communities.copy(), facilities.copy()
    _straight(communities, facilities)
    assert communities.equals(before[0]) and communities.crs == before[0].crs
    assert facilities.equals(before[1])


def _street(crs: str | int = 4548) -> gpd.GeoDataFrame:
    """A street 20 m south of the square, from 50 m west of it to 500 m east."""
    line = shapely.LineString([(X0 - 50, Y0 - 20), (X0 + 500, Y0 - 20)])
    return gpd.GeoDataFrame({"道路等级": ["支路"]}, geometry=[line], crs=4548).to_crs(crs)


def test_a_streets_geodataframe_works_like_its_file(tmp_path):
    facility = _facility("幼儿园", dx=300, dy=-20)  # on the street
    # 20 m from the square's south-east corner to the street, then 220 m along it
    by_frame = spatial.coverage(_square(), facility, _street()).communities
    assert by_frame["kindergarten_m"].iloc[0] == 240.0
    assert by_frame["distance_mode"].iloc[0] == "network"
    _street().to_file(tmp_path / "roads.gpkg")
    by_file = spatial.coverage(_square(), facility, str(tmp_path / "roads.gpkg")).communities
    assert by_file["kindergarten_m"].iloc[0] == 240.0
    net = spatial.read_network(_street(4326))  # lon/lat lines: the automatic metric CRS
    assert net.crs.to_epsg() == 4548
    by_net = spatial.coverage(_square(), facility, net).communities
    assert by_net["kindergarten_m"].iloc[0] == pytest.approx(240.0, abs=0.11)
    with pytest.raises(ValueError) as caught:  # a network in another CRS than asked for
        spatial.coverage(_square(), facility, net, crs="EPSG:4549")
    assert caught.value.key == "err_api_network_crs"


# -- the same numbers as the command line ------------------------------------------------------


@pytest.fixture(scope="module")
def cli_coverage(tmp_path_factory) -> tuple[dict, gpd.GeoDataFrame]:
    from spatial.cli.main import main

    out = tmp_path_factory.mktemp("coverage")
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["coverage", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text("utf-8"))
    frame = gpd.read_file(out / "lifecircle.gpkg", layer="communities")
    return summary["coverage"], frame.sort_values("cid").reset_index(drop=True)


def _same_coverage(result: spatial.CoverageResult, cli: tuple[dict, gpd.GeoDataFrame]) -> None:
    block, frame = cli
    ours = coverage_summary(result, load_standards(spatial.load_project()))
    for key in ("categories", "full_coverage_communities", "full_coverage_households"):
        assert ours[key] == block[key], key
    mine = result.communities.sort_values("cid").reset_index(drop=True)
    assert mine["cid"].tolist() == frame["cid"].tolist()
    for key in block["categories"]:
        assert np.allclose(mine[f"{key}_m"], frame[f"{key}_m"], atol=0.11, equal_nan=True), key
        assert (mine[f"{key}_ok"] == frame[f"{key}_ok"]).all(), key


def test_api_coverage_on_the_demo_files_is_the_cli_coverage(cli_coverage):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.LifecircleWarning)
        result = spatial.coverage(
            str(DEMO / "communities.gpkg"),  # str and Path alike
            DEMO / "facilities.csv",
            DEMO / "network.osm",
            layers=DEMO_LAYERS,
            policy={"old_cutoff": "2005-12-31"},  # a section as a mapping is accepted
        )
    assert result.communities.crs.to_epsg() == 4548
    _same_coverage(result, cli_coverage)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:3857"])
def test_user_frames_in_another_crs_give_the_cli_coverage(cli_coverage, crs):
    communities = gpd.read_file(DEMO / "communities.gpkg").to_crs(crs)
    facilities = pd.read_csv(DEMO / "facilities.csv")  # GCJ-02 lon/lat columns (a Gaode export)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.LifecircleWarning)
        result = spatial.coverage(communities, facilities, DEMO / "network.osm", layers=DEMO_LAYERS)
    _same_coverage(result, cli_coverage)


@pytest.mark.slow
def test_bundles_and_sites_are_the_cli_ones(tmp_path):
    from spatial.cli.main import main

    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["bundle", "--out", str(tmp_path / "b")]) == 0
        assert main(["sites", "--out", str(tmp_path / "s")]) == 0
    layers = {**DEMO_LAYERS, "parcels": {}}
    args = (DEMO / "communities.gpkg", DEMO / "facilities.csv")
    policy = {
        "old_cutoff": "2005-12-31",
        "priority_cutoff": "2000-12-31",
        "exclude_column": "拟征收",
        "exclude_values": ["是"],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.LifecircleWarning)
        bundling = spatial.bundle(
            *args, DEMO / "network.osm", parcels=DEMO / "parcels.geojson", layers=layers,
            policy=policy,
        )  # fmt: skip
        siting = spatial.sites(
            *args, DEMO / "parcels.geojson", DEMO / "network.osm", layers=layers, policy=policy
        )
    bundles = gpd.read_file(tmp_path / "b" / "lifecircle.gpkg", layer="bundles")
    assert len(bundling.bundles) == len(bundles) > 0
    assert bundling.bundles["bundle_id"].tolist() == bundles["bundle_id"].tolist()
    assert bundling.bundles["members"].tolist() == bundles["members"].tolist()
    sites = gpd.read_file(tmp_path / "s" / "lifecircle.gpkg", layer="sites")
    assert len(siting.sites) == len(sites) > 0
    assert siting.sites["pid"].tolist() == sites["pid"].tolist()


def test_run_is_the_whole_job_without_writing(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.LifecircleWarning)
        result = spatial.run(spatial.load_project(DEMO), stages=["coverage"])
    assert isinstance(result, spatial.RunResult)
    assert result.summary["coverage"]["communities"] == 134
    assert result.files == []


def test_readme_notebook_example_runs():
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Python / notebooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len([line for line in code.splitlines() if line.strip()]) <= 6
    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.LifecircleWarning)
        namespace: dict = {}
        exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    result = namespace["result"]
    assert len(result.communities) == 134 and result.communities.crs.to_epsg() == 4548
    assert "full_coverage" in out.getvalue()


def test_the_readme_test_command_is_what_ci_runs_and_checks_the_api():
    readme = (ROOT / "README.md").read_text("utf-8")
    command = next(line for line in readme.splitlines() if "pip install -e '.[test]'" in line)
    ci = (ROOT / ".ci" / "run").read_text("utf-8").strip().splitlines()[-1]
    assert ci == command
    assert "mypy spatial/__init__.py spatial/workflow/api.py" in command
