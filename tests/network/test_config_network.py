"""Network formats (OSM XML, GraphML, road-centre lines), project-file overrides and the standards."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from spatial.config.project import load_project
from spatial.config.standards import load_standards
from spatial.core import settings
from spatial.core.errors import ConfigError, InputError
from spatial.network.read import read_network

METRIC = CRS.from_epsg(4548)


@pytest.fixture(scope="module")
def demo_net():
    return read_network(settings.DEMO_DIR / "network.osm", METRIC)


def test_osm_xml_demo_network(demo_net):
    assert 3000 < demo_net.n_nodes < 5000
    assert {"primary", "secondary", "tertiary", "residential", "footway"} <= set(
        demo_net.edges["highway"]
    )
    assert demo_net.dropped_nodes == 0
    assert demo_net.edges["length"].between(20, 30).mean() > 0.95  # 25 m steps


@pytest.mark.slow
def test_graphml_gives_the_same_network(demo_net, tmp_path):
    import osmnx as ox

    graph = ox.graph_from_xml(settings.DEMO_DIR / "network.osm", simplify=False, retain_all=True)
    ox.save_graphml(graph, tmp_path / "net.graphml")
    net = read_network(tmp_path / "net.graphml", METRIC)
    assert net.n_nodes == demo_net.n_nodes and len(net.edges) == len(demo_net.edges)
    assert net.edges["length"].sum() == pytest.approx(demo_net.edges["length"].sum(), rel=1e-6)


def test_road_centre_lines_joined_at_shared_vertices_and_crossings(tmp_path):
    lines = gpd.GeoDataFrame(
        {"道路等级": ["primary", "residential", "residential"]},
        geometry=[shapely.LineString([(0, 0), (100, 0), (200, 0)]), shapely.LineString([(100, 0), (100, 80)]),
                  shapely.LineString([(150, -50), (150, 50)])],  # crosses without a shared vertex
        crs=4548,
    )  # fmt: skip
    lines.to_file(tmp_path / "roads.gpkg")
    net = read_network(tmp_path / "roads.gpkg", METRIC)
    # the T-junction joins at the shared vertex, the crossing is split as a GIS would (issue 22)
    assert net.n_nodes == 7 and net.dropped_nodes == 0 and net.largest_share == 1.0
    assert sorted(net.edges["length"].round(3)) == [50.0, 50.0, 50.0, 50.0, 80.0, 100.0]
    assert set(net.edges["highway"]) == {"primary", "residential"}
    assert [p.code for p in net.problems] == ["network_crossings_split"]


def test_a_bridge_crossing_stays_unconnected_and_its_part_is_warned(tmp_path):
    lines = gpd.GeoDataFrame(
        {"道路等级": ["primary", "residential", "residential"], "桥梁": ["否", "否", "是"]},
        geometry=[shapely.LineString([(0, 0), (100, 0), (200, 0)]), shapely.LineString([(100, 0), (100, 80)]),
                  shapely.LineString([(150, -50), (150, 50)])],  # a bridge over the primary
        crs=4548,
    )  # fmt: skip
    lines.to_file(tmp_path / "roads.gpkg")
    net = read_network(tmp_path / "roads.gpkg", METRIC)
    assert net.n_nodes == 4 and net.dropped_nodes == 2
    assert net.largest_share == pytest.approx(280 / 380)
    assert [p.code for p in net.problems] == ["network_grade_separated", "network_largest_part"]


def test_road_layer_of_points_is_refused(tmp_path):
    gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)], crs=4548).to_file(tmp_path / "pts.gpkg")
    with pytest.raises(InputError, match="must hold lines"):
        read_network(tmp_path / "pts.gpkg", METRIC)


def _project(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.toml"
    path.write_text('[communities]\npath = "c.gpkg"\n' + text, encoding="utf-8")
    return path


def test_standards_overrides(tmp_path):
    text = """
[coverage]
radius = { market = 600 }
drop = ["middle_school"]
add = { pharmacy = { name_zh = "药店", radius_m = 400, aliases = ["药房"] } }
basket = ["market", "pharmacy"]
walk_speed_kmh = 3.0
"""
    std = load_standards(load_project(_project(tmp_path, text)))
    assert std.categories["market"].radius_m == 600
    assert "middle_school" not in std.categories
    assert std.match("药房") == "pharmacy" and std.match("托老所") == "elderly_daycare"
    assert std.basket == ["market", "pharmacy"]
    assert std.minutes(1000) == pytest.approx(20.0)


def test_default_standards_match_gb50180(tmp_path):
    std = load_standards(load_project(_project(tmp_path, "")))
    radii = {k: c.radius_m for k, c in std.categories.items()}
    assert radii["elderly_daycare"] == 300 and radii["nursing_home"] == 1000
    assert radii["market"] == 500 and radii["health_center"] == 1000
    assert std.basket == ["elderly_daycare", "nursing_home", "nursery", "kindergarten",
                          "health_station", "health_center", "market", "convenience"]  # fmt: skip
    assert std.minutes(1000) == pytest.approx(15.0)
    assert "GB 50180-2018" in std.source


@pytest.mark.parametrize(
    ("text", "message"),
    [('[coverage]\nradius = { shop = 100 }', "unknown category 'shop'"),
     ('[coverage]\nbasket = ["x"]', "unknown category 'x'"),
     ('[policy]\nold_cutoff = "2005/12/31"', "not a date"),
     ('[bundling]\nsame_subdistrict = "yes"', "true or false"),
     ('[communities]\ncoords = "beijing54"', "coords"),
     ('[projekt]\nname = "x"', "unknown section [projekt]")],
)  # fmt: skip
def test_config_errors(tmp_path, text, message):
    path = tmp_path / "p.toml"
    base = "" if text.startswith("[communities]") else '[communities]\npath = "c.gpkg"\n'
    path.write_text(base + text + ('\npath = "c.gpkg"' if text.startswith("[communities]") else ""),
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_standards(load_project(path))


def test_crs_override(small_project, run_cli, tmp_path):
    text = small_project.read_text("utf-8").replace(
        'name = "测试"', 'name = "测试"\ncrs = "EPSG:32650"'
    )
    small_project.write_text(text, "utf-8")
    code, out, _ = run_cli("check", "--config", small_project)
    assert code == 0 and "EPSG:32650" in out


def test_parcels_without_crs_or_area_are_refused(small_project, run_cli):
    from ..conftest import small_communities

    folder = small_project.parent
    parcels = small_communities()[["geometry"]].assign(类型="闲置用地")
    parcels.to_file(folder / "parcels.shp")
    (folder / "parcels.prj").unlink()
    small_project.write_text(
        small_project.read_text("utf-8") + '[parcels]\npath = "parcels.shp"\n', "utf-8"
    )
    code, _, err = run_cli(
        "sites", "--config", small_project, "--out", folder / "out", "--lang", "en"
    )
    assert code == 2 and "parcels.shp" in err and "no CRS" in err
