"""Road-centreline layers as planning bureaus draw them (issue 22): one line per street, noded at
the crossings as a GIS would, except at a bridge; CAD undershoots joined within ``snap_m``; a GBK
Shapefile without ``.cpg`` read like every other layer; what was done said in ``check`` and the
warnings. Distances are known by hand on :mod:`tests.planner_data`'s streets."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from spatial.analysis.bundles.adjacency import barrier_lines
from spatial.config.project import BundlingConfig
from spatial.config.schema import NetworkConfig
from spatial.core.errors import InputError
from spatial.network.read import read_network
from tests.network.test_network_readers import market_distances
from tests.planner_data import at, write_road_layer

METRIC = CRS.from_epsg(4548)


def _box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(*at(x0, y0), *at(x1, y1))


#: Small squares (local metres) and the facility each walks to, with the distance by hand:
#: east of 燕子山路 under the bridge → a point by 解放路 west of the bridge: 10 + 240 (down to
#: 文化东路) + 250 + 200 (千佛山路) + 200 + 10 = 910 m (110 m if the bridge met the street);
#: by 甲巷 → south of 经十路: 5 + 30 (incl. the 1.5 m joined) + 10 = 45 m;
#: by 乙巷 (5 m short, not joined): 5 + 160 + 125 + 200 + 125 + 10 = 625 m round by 山大路.
BRIDGE = (_box(760, 640, 770, 650), at(700, 610), 910.0)
SPUR_A = (_box(130, 230, 140, 240), at(125, 190), 45.0)
SPUR_B = (_box(380, 230, 390, 240), at(375, 190), 625.0)


def _distance(net, case) -> float:
    polygon, point, _ = case
    return float(market_distances(net, [polygon], [point])[0])


@pytest.fixture(scope="module")
def roads(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("roads")
    return {
        "unsplit": write_road_layer(folder, "unsplit"),
        "presplit": write_road_layer(folder, "presplit", presplit=True),
        "cpg": write_road_layer(folder, "with_cpg", cpg=True),
    }


def test_an_unsplit_layer_gives_the_presplit_distances(roads):
    unsplit = read_network(roads["unsplit"], METRIC)
    presplit = read_network(roads["presplit"], METRIC)
    assert (unsplit.n_nodes, len(unsplit.edges)) == (presplit.n_nodes, len(presplit.edges))
    assert (unsplit.n_nodes, len(unsplit.edges), unsplit.dropped_nodes) == (43, 54, 0)
    assert np.allclose(
        np.sort(unsplit.edges["length"]), np.sort(presplit.edges["length"]), atol=0.1
    )
    rng = np.random.default_rng(22)
    corners = rng.uniform([-50, -50], [1050, 650], (25, 2))
    polygons = [_box(x, y, x + 8, y + 8) for x, y in corners]
    points = [at(*p) for p in rng.uniform([-50, -50], [1050, 650], (3, 2))]
    one = market_distances(unsplit, polygons, points)
    two = market_distances(presplit, polygons, points)
    assert np.isfinite(one).all() and np.allclose(one, two, atol=0.1)
    codes = {p.code: p.count for p in unsplit.problems}
    assert codes == {
        "network_crossings_split": 19,  # 5 × 4 crossings, less the bridge over 燕子山路
        "network_grade_separated": 1,
        "network_ends_snapped": 1,
    }
    assert "network_crossings_split" not in {p.code for p in presplit.problems}


def test_diagonal_streets_noded_like_the_geos_noder(tmp_path):
    """Streets crossing at odd angles, many at a point: the same pieces as GEOS's noder (what
    GIS tools use) gives, and the same distances."""
    rng = np.random.default_rng(7)
    ends = rng.uniform(0, 600, (14, 2, 2))
    lines = [shapely.LineString([at(*a), at(*b)]) for a, b in ends]
    lines.append(shapely.LineString([at(0, 300), at(600, 300)]))  # through several crossings
    noded = shapely.get_parts(shapely.node(shapely.MultiLineString(lines)))
    gpd.GeoDataFrame(geometry=lines, crs=4548).to_file(tmp_path / "raw.gpkg")
    gpd.GeoDataFrame(geometry=noded, crs=4548).to_file(tmp_path / "geos.gpkg")
    cfg = NetworkConfig(snap_m=0, min_connected_share=0)
    raw = read_network(tmp_path / "raw.gpkg", METRIC, cfg)
    geos = read_network(tmp_path / "geos.gpkg", METRIC, cfg)
    assert raw.n_nodes == geos.n_nodes and len(raw.edges) == len(geos.edges)
    assert raw.edges["length"].sum() == pytest.approx(geos.edges["length"].sum(), abs=0.01)
    polygons = [_box(x, y, x + 5, y + 5) for x, y in rng.uniform(50, 550, (12, 2))]
    points = [at(*p) for p in rng.uniform(50, 550, (3, 2))]
    assert np.allclose(
        market_distances(raw, polygons, points), market_distances(geos, polygons, points), atol=0.1
    )


def test_a_bridge_over_a_street_stays_unconnected(roads):
    assert _distance(read_network(roads["unsplit"], METRIC), BRIDGE) == pytest.approx(910.0)
    # the same crossing at grade (the bridge column ignored) is 10 + 40 + 50 + 10 m
    at_grade = read_network(roads["unsplit"], METRIC, NetworkConfig(bridge="none"))
    assert _distance(at_grade, BRIDGE) == pytest.approx(110.0)


def test_a_level_column_keeps_streets_apart_and_a_cad_layer_name_is_not_a_level(tmp_path):
    lines = [
        shapely.LineString([at(0, 0), at(200, 0)]),
        shapely.LineString([at(100, -100), at(100, 100)]),
    ]
    kinds = {"layer": [0, 1], "Layer": ["道路中心线", "道路中心线"]}  # fmt: skip
    for column, values in kinds.items():
        layer = gpd.GeoDataFrame({column: values}, geometry=lines, crs=4548)
        layer.to_file(tmp_path / f"{column}1.gpkg")
    cfg = NetworkConfig(min_connected_share=0)
    apart = read_network(tmp_path / "layer1.gpkg", METRIC, cfg)
    assert apart.largest_share == pytest.approx(0.5) and apart.n_nodes == 2
    assert [p.code for p in apart.problems] == ["network_grade_separated", "network_largest_part"]
    cad = read_network(tmp_path / "Layer1.gpkg", METRIC, cfg)
    assert cad.n_nodes == 5 and cad.largest_share == 1.0
    assert "level" not in cad.report.columns
    assert [n.key for n in cad.report.notes] == ["note_network_level_not_numbers"]


@pytest.mark.parametrize("snap_m, joined_a, joined_b", [(2.0, True, False), (0.0, False, False),
                                                        (6.0, True, True)])  # fmt: skip
def test_undershoots_are_joined_within_snap_m(roads, snap_m, joined_a, joined_b):
    net = read_network(roads["unsplit"], METRIC, NetworkConfig(snap_m=snap_m))
    assert _distance(net, SPUR_A) == pytest.approx(45.0 if joined_a else 625.0)
    # joined, 乙巷 is 5 + 25 + 5 + 10 m from the point south of 经十路
    assert _distance(net, SPUR_B) == pytest.approx(45.0 if joined_b else 625.0)


def test_a_gbk_shapefile_without_cpg_reads_like_one_with_it(roads):
    plain = read_network(roads["unsplit"], METRIC)
    named = read_network(roads["cpg"], METRIC)
    assert plain.report.columns == named.report.columns == {
        "name": "道路名称", "road_class": "道路等级", "bridge": "桥梁"}  # fmt: skip
    assert sorted(plain.edges["highway"]) == sorted(named.edges["highway"])
    assert set(plain.edges["highway"]) == {"tertiary", "primary", "secondary", "residential"}
    for net in (plain, named):  # 千佛山路 (主干路, 800 m) and 经十路 (次干路, 1200 m)
        barriers = barrier_lines(net, BundlingConfig(), METRIC)
        assert shapely.length(barriers).sum() == pytest.approx(2000.0)


def _project(folder: Path, roads: Path, extra: str = "") -> Path:
    """Four old communities: A and D side by side, B across 千佛山路 (主干路) from A, C across
    经十路 (次干路) — one bundle (A + D) when the arterials are barriers."""
    boxes = {"A": (440, 205, 495, 300), "B": (505, 205, 560, 300), "C": (440, 100, 495, 195),
             "D": (380, 205, 430, 300)}  # fmt: skip
    gpd.GeoDataFrame(
        {"小区名称": list(boxes), "建成年代": ["1995"] * 4, "户数": [120, 130, 140, 150]},
        geometry=[_box(*b) for b in boxes.values()],
        crs=4548,
    ).to_file(folder / "communities.gpkg")
    (folder / "project.toml").write_text(
        '[project]\nname = "路网"\n[communities]\npath = "communities.gpkg"\n'
        f'[network]\npath = "{roads.as_posix()}"\n{extra}',
        encoding="utf-8",
    )
    return folder / "project.toml"


@pytest.mark.slow
def test_bundles_and_warnings_from_a_gbk_road_layer(roads, tmp_path, run_cli):
    bundles = {}
    for key in ("unsplit", "cpg"):
        (tmp_path / key).mkdir()
        project = _project(tmp_path / key, roads[key])
        code, out, err = run_cli("bundle", "--config", project, "--out", tmp_path / key / "o")
        assert code == 0, err
        summary = json.loads((tmp_path / key / "o" / "summary.json").read_text("utf-8"))
        bundles[key] = summary["bundles"]
        warned = {w["code"]: w["count"] for w in summary["warnings"]}
        assert warned["network_crossings_split"] == 19
        assert warned["network_grade_separated"] == 1
        assert warned["network_ends_snapped"] == 1
        assert summary["network"]["largest_part_share"] == 1.0
        network = next(r for r in summary["inputs"] if r["layer"] == "network")
        assert network["columns"]["road_class"] == "道路等级"
    assert bundles["unsplit"]["count"] == bundles["cpg"]["count"] == 1
    assert bundles["unsplit"]["communities"] == 2  # A + D; B and C across the arterials
    # A–B, B–C (千佛山路), A–C, C–D (经十路): the near pairs the arterials split
    assert bundles["unsplit"]["pairs_blocked_by_barriers"] == 4


def test_check_says_what_the_road_layer_held_and_what_was_joined(roads, tmp_path, run_cli):
    project = _project(tmp_path, roads["unsplit"])
    code, out, _ = run_cli("check", "--config", project)
    assert code == 0
    text = " ".join(out.split())
    assert "道路等级（road_class）的取值：支路×9, 街巷×2, 主干路×1, 次干路×1" in text
    assert "桥梁（bridge）的取值：否×12, 是×1" in text
    assert "道路图层有 19 处交叉没有打断" in text
    assert "燕子山路 × 解放路高架桥↑" in text
    assert "甲巷（1.5 m）" in text
    assert "最大连通部分占街道总长 100.0%" in text


def test_a_network_mostly_cut_off_is_refused_unless_accepted(tmp_path, run_cli):
    """Every street a bridge: nothing meets, the largest part is one street (400 of 2,100 m) — exit 2 with the
    share named; with min_connected_share = 0 it runs and the warning says the share."""
    lines = [shapely.LineString([at(x, -50), at(x, 350)]) for x in (0, 100, 200)] + [
        shapely.LineString([at(-50, y), at(250, y)]) for y in (0, 150, 300)
    ]
    layer = gpd.GeoDataFrame({"桥梁": ["是"] * 6}, geometry=lines, crs=4548)
    layer.to_file(tmp_path / "bridges.gpkg")
    with pytest.raises(InputError) as caught:
        read_network(tmp_path / "bridges.gpkg", METRIC)
    assert caught.value.key == "err_network_fragmented"
    project = _project(tmp_path, tmp_path / "bridges.gpkg")
    code, _, err = run_cli("check", "--config", project)
    assert code == 2 and "19%" in err and "min_connected_share" in err
    project.write_text(project.read_text("utf-8") + "min_connected_share = 0\n", encoding="utf-8")
    code, out, _ = run_cli("check", "--config", project)
    assert code == 0 and "最大连通部分只占街道总长的 19%" in " ".join(out.split())


def test_a_road_layer_without_prj_takes_network_crs(tmp_path):
    path = write_road_layer(tmp_path, "cad")
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError) as caught:
        read_network(path, METRIC)
    assert caught.value.key == "err_roads_no_crs"
    net = read_network(path, METRIC, NetworkConfig(crs="EPSG:4548"))
    assert (net.n_nodes, len(net.edges)) == (43, 54)
    assert net.report.notes[0].key == "note_network_crs_given"
