"""The embedded demo district, the commands, and a real OSM extract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest

from spatial.cli.parser import basemap_names
from spatial.core import settings
from spatial.workflow.demo_files import write_demo


@pytest.mark.slow
def test_demo_generator_is_deterministic_and_matches_committed_files(tmp_path):
    first = write_demo(tmp_path / "a")
    second = write_demo(tmp_path / "b")
    for key in ("facilities", "parcels", "network", "gates"):
        committed = settings.DEMO_DIR / first[key].name
        assert first[key].read_bytes() == second[key].read_bytes()
        assert first[key].read_bytes() == committed.read_bytes(), f"regenerate data/demo ({key})"
    import rasterio

    with (
        rasterio.open(first["elevation"]) as got,
        rasterio.open(settings.DEMO_DIR / "elevation.tif") as kept,
    ):
        assert (got.read(1) == kept.read(1)).all(), "regenerate data/demo (elevation)"
        assert (got.transform, got.crs) == (kept.transform, kept.crs)
    a = gpd.read_file(first["communities"])
    b = gpd.read_file(settings.DEMO_DIR / "communities.gpkg")
    assert a.drop(columns="geometry").equals(b.drop(columns="geometry"))
    assert a.geometry.geom_equals_exact(b.geometry, tolerance=1e-6).all()
    assert 60 <= len(a) <= 150
    assert (
        a["建成年代"].str[:4].str.isdigit()
        | a["建成年代"].str.contains("年代")
        | (a["建成年代"] == "")
    ).all()


@pytest.mark.slow
def test_the_demo_hills_cover_every_street_and_change_the_distances(tmp_path):
    """The demo's elevation.tif (commented out in its project file) under every street: with it
    the distances are flat-equivalent metres and differ from the flat ones, no street flat."""
    from spatial.config.project import load_project
    from spatial.workflow.pipeline import analyse, load_inputs

    paths = write_demo(tmp_path)
    text = paths["project"].read_text("utf-8")
    assert '# elevation = "elevation.tif"' in text
    hills = tmp_path / "hills.toml"
    hills.write_text(text.replace('# elevation = "elevation.tif"', 'elevation = "elevation.tif"'))
    flat = analyse(load_inputs(load_project(paths["project"])), ("coverage",))
    hilly = analyse(load_inputs(load_project(hills)), ("coverage",))
    assert hilly.summary["coverage"]["distance_unit"] == "flat_equivalent_m"
    codes = [w["code"] for w in hilly.summary["warnings"]]
    assert "network_elevation_missing" not in codes
    assert "network_steep_streets" not in codes  # plausible hills: no steep-street warning
    a, b = flat.communities["market_m"], hilly.communities["market_m"]
    assert (a != b).mean() > 0.9 and ((b - a).abs() > 5).any()


@pytest.mark.slow
def test_demo_differs_with_another_seed(tmp_path):
    a = write_demo(tmp_path / "a", seed=1)["facilities"].read_bytes()
    b = write_demo(tmp_path / "b", seed=2)["facilities"].read_bytes()
    assert a != b


@pytest.mark.slow
def test_run_without_arguments_uses_demo_and_writes_maps(run_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli("run", "--basemap", "none")
    assert code == 0, err
    summary = json.loads((tmp_path / "maps" / "summary.json").read_text("utf-8"))
    assert 60 <= summary["communities"] <= 150
    assert summary["old_communities"] < summary["communities"]
    assert summary["households"] > 10000
    assert summary["crs"].startswith("EPSG:4548")
    assert summary["network"]["nodes"] > 2000
    assert summary["coverage"]["distance_mode"] == "network"
    assert 0 <= summary["coverage"]["full_coverage_households"] < 0.85
    assert set(summary["timings_s"]) >= {"load", "network", "coverage", "map"}
    html = (tmp_path / "maps" / "overview.html").read_text("utf-8")
    assert "兰山区老旧小区改造" in html
    assert "cdn.jsdelivr" not in html and "<script src=" not in html


def test_check_prints_layers_and_detection(run_cli):
    code, out, _ = run_cli("check")
    assert code == 0
    assert "communities" in out and "facilities" in out and "parcels" in out
    assert "built_year ← 建成年代" in out
    assert "银行×3" in out  # unknown categories reported
    assert "EPSG:4548" in out


def test_init_writes_template_and_refuses_to_overwrite(run_cli, tmp_path):
    code, out, _ = run_cli("init", tmp_path / "p")
    assert code == 0
    text = (tmp_path / "p" / "project.toml").read_text("utf-8")
    assert "[communities]" in text and "old_cutoff" in text
    code, _, err = run_cli("init", tmp_path / "p")
    assert code == 2 and "已存在" in err and "project.toml" in err
    # the template parses; its data files do not exist yet: a clear error
    code, _, err = run_cli("check", "--config", tmp_path / "p" / "project.toml", "--lang", "en")
    assert code == 2 and "communities.shp" in err and "file not found" in err


def test_python_dash_m_spatial():
    done = subprocess.run(
        [sys.executable, "-m", "spatial", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and "lifecircle" in done.stdout


@pytest.fixture
def osm_project(tmp_path: Path) -> Path:
    from pyrosm import get_data

    pbf = Path(get_data("test_pbf"))
    (tmp_path / "project.toml").write_text(
        f'[project]\nname = "OSM test"\nlang = "en"\n[communities]\npath = "osm"\n'
        f'[facilities]\npath = "osm"\n[network]\npath = "{pbf.as_posix()}"\n',
        encoding="utf-8",
    )
    return tmp_path / "project.toml"


def test_real_osm_extract_layers_and_network(osm_project, run_cli, tmp_path):
    code, out, err = run_cli("coverage", "--config", osm_project, "--out", tmp_path / "o")
    assert code == 0, err
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert summary["crs"].startswith("EPSG:32635")  # Finland: UTM 35N
    # residential landuse polygons: the 17 complete outlines; the 9 the extract clips (nodes
    # missing) are left out rather than closed across the gap as pyrosm did
    assert summary["communities"] == 17
    assert summary["network"]["nodes"] > 500
    comm = gpd.read_file(tmp_path / "o" / "lifecircle.gpkg", layer="communities")
    fac = gpd.read_file(tmp_path / "o" / "lifecircle.gpkg", layer="facilities")
    assert {"kindergarten", "nursery", "convenience"} <= set(fac["category"])
    assert comm["kindergarten_m"].notna().any()


@pytest.mark.slow
def test_place_download_path_uses_osmnx(monkeypatch, run_cli, tmp_path, small_project):
    """`--place` asks osmnx for the walking network (faked here: the tests stay offline)."""
    import osmnx as ox

    from ..conftest import JINAN

    asked = []

    def fake_graph_from_place(place, **kwargs):
        asked.append((place, kwargs.get("network_type")))
        lon, lat = JINAN
        graph = ox.graph_from_xml(settings.DEMO_DIR / "network.osm", simplify=False)
        # move the demo streets under the test communities
        dx, dy = lon - 118.33, lat - 35.05
        for _, data in graph.nodes(data=True):
            data["x"] += dx
            data["y"] += dy
        return graph

    monkeypatch.setattr(ox, "graph_from_place", fake_graph_from_place)
    code, out, err = run_cli("coverage", "--config", small_project, "--out", tmp_path / "o",
                             "--place", "历下区, 济南市")  # fmt: skip
    assert code == 0, err
    assert asked == [("历下区, 济南市", "walk")]
    summary = json.loads((tmp_path / "o" / "summary.json").read_text("utf-8"))
    assert summary["network"]["source"] == "osm:历下区, 济南市"
    assert summary["coverage"]["distance_mode"] == "network"


def test_place_download_failure_is_a_clear_error(monkeypatch, run_cli, small_project, tmp_path):
    import osmnx as ox

    def offline(place, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(ox, "graph_from_place", offline)
    code, _, err = run_cli(
        "coverage", "--config", small_project, "--out", tmp_path, "--place", "x", "--lang", "en"
    )
    assert code == 2 and "could not download 'x'" in err and "[network] path" in err


@pytest.mark.slow
def test_console_script_flushes_its_output_and_exits_with_the_code(tmp_path):
    """The console entry ends the process without the interpreter's teardown: what it printed
    is all there and the exit code is main's (0 after a run, 2 for a missing project file)."""
    done = subprocess.run(
        [sys.executable, "-m", "spatial", "coverage", "--out", str(tmp_path / "o"), "--lang", "en"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.rstrip().endswith("summary.json") and "wrote: " in done.stdout
    assert (tmp_path / "o" / "summary.json").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "spatial", "check", "--config", str(tmp_path / "none.toml")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and bad.stderr.strip().endswith("新建一个")


def test_basemap_choices_are_the_basemaps_file():
    from spatial.outputs.html import leaflet

    assert basemap_names() == list(leaflet.basemaps())
    assert {"osm", "gaode", "tianditu", "none"} <= set(basemap_names())
