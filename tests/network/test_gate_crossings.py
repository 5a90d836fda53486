"""Gates where a footway crosses a community's outline (issue 26, ``[gates] path = "osm"``).

The block of ``test_gates``: streets round (0, 0)–(200, 100), compound A the box (10, 10)–
(190, 90), a convenience store 5 m north of the north street at x = 100. A footway from the
south street at (100, 0) into A crosses its south wall at (100, 10): measured from that gate the
store is the walk round, 10 + 100 + 100 + 100 + 5 = 315 m (from A's outline: 15 m).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial.network.crossings import crossing_rule, outline_crossings
from spatial.network.graph import StreetNetwork

from .test_gates import CORNERS, A, B, _files, _lonlat, _run

KINDS, ANGLE = crossing_rule()


def _net(ways: list[tuple[str, list[tuple[float, float]]]]) -> StreetNetwork:
    """One edge per consecutive pair of points of each way (as the OSM reader makes them)."""
    coords = sorted({p for _, pts in ways for p in pts})
    index = {p: i for i, p in enumerate(coords)}
    rows = [(index[a], index[b], hw, shapely.LineString([a, b]))
            for hw, pts in ways for a, b in zip(pts[:-1], pts[1:], strict=True)]  # fmt: skip
    u, v, hw, geoms = zip(*rows, strict=True)
    edges = gpd.GeoDataFrame({"u": u, "v": v, "highway": hw}, geometry=list(geoms), crs=4548)
    edges["length"] = edges.geometry.length
    return StreetNetwork(np.array(coords, float), edges, edges.crs, "hand-built")


BLOCK = [("residential", [(0, 0), (100, 0), (200, 0), (200, 100), (0, 100), (0, 0)])]


def _crossings(*ways):
    found = outline_crossings(_net(BLOCK + list(ways)), np.array([A, B]), KINDS, ANGLE)
    return sorted(map(tuple, np.round(found.xy, 6).tolist())), found.comm.tolist()


def test_a_footway_through_the_wall_is_a_gate_at_the_crossing():
    assert _crossings(("footway", [(100, 0), (100, 50)])) == ([(100.0, 10.0)], [0])
    # the same with an OSM node on the wall: the two pieces meet there, one gate
    assert _crossings(("footway", [(100, 0), (100, 10), (100, 50)])) == ([(100.0, 10.0)], [0])


def test_a_way_through_a_compound_gives_two_gates():
    xy, comm = _crossings(("service", [(100, 0), (100, 100)]))
    assert (xy, comm) == ([(100.0, 10.0), (100.0, 90.0)], [0, 0])


def test_ways_along_or_only_touching_the_wall_are_not_gates():
    along = ("footway", [(0, 10), (10, 10), (190, 10), (200, 10)])  # on the south wall
    assert _crossings(along) == ([], [])
    wander = ("footway", [(0, 8), (100, 12), (200, 8)])  # in and out across it at 2.3°
    assert _crossings(wander) == ([], [])
    dead_end = ("footway", [(100, 0), (100, 10)])  # ends on the wall, never goes in
    assert _crossings(dead_end) == ([], [])
    street = ("residential", [(100, 0), (100, 50)])  # not a kind of gates.toml [osm_crossings]
    assert _crossings(street) == ([], [])
    assert "residential" not in KINDS and {"footway", "service"} <= KINDS


def _osm(path, extra_nodes=(), entrances=()):
    """The block with a node at (100, 0) on the south street and a footway from it to (100, 50)
    (nodes 1-4 the corners, 5 and 6 the footway's ends), plus entrance nodes."""
    points = [*map(tuple, CORNERS), (100.0, 0.0), (100.0, 50.0), *extra_nodes]
    nodes = [f'<node id="{i + 1}" lat="{la:.9f}" lon="{lo:.9f}"/>'
             for i, (lo, la) in enumerate(_lonlat(*p) for p in points)]  # fmt: skip
    for k, (x, y) in enumerate(entrances):
        lo, la = _lonlat(x, y)
        nodes.append(
            f'<node id="{100 + k}" lat="{la:.9f}" lon="{lo:.9f}"><tag k="entrance" v="yes"/></node>'
        )
    streets = [(1, 5, 2), (2, 3), (3, 4), (4, 1)]
    ways = [
        f'<way id="{10 + i}">' + "".join(f'<nd ref="{n}"/>' for n in refs)
        + '<tag k="highway" v="residential"/></way>'
        for i, refs in enumerate(streets)
    ]  # fmt: skip
    ways.append('<way id="20"><nd ref="5"/><nd ref="6"/><tag k="highway" v="footway"/></way>')
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        + "\n".join(nodes + ways)
        + "\n</osm>\n",
        encoding="utf-8",
    )


def test_gates_from_osm_crossings_measure_the_walk_round_and_are_counted(tmp_path):
    config = _files(tmp_path, '[gates]\npath = "osm"\n')
    _osm(tmp_path / "network.osm")
    result = _run(config)
    comm = result.communities
    assert comm["convenience_m"].tolist() == pytest.approx([315.0, 215.0], abs=0.05)
    assert comm["access_basis"].tolist() == ["gates", "outline"]
    block = result.summary["coverage"]["access_basis"]
    assert block["gate_sources"] == {"osm_node": 0, "osm_crossing": 1}
    gates = result.layers.gates
    assert gates["source"].tolist() == ["osm_crossing"]
    assert gates["gate"].tolist() == ["crossing:node/5-node/6"]
    report = next(r for r in result.layers.reports if r.layer == "gates")
    assert (report.rows_read, report.rows_kept) == (1, 1)
    assert [n.key for n in report.notes] == ["note_gates_osm_sources"]
    assert report.notes[0].fields == {"nodes": 0, "crossings": 1}


def test_a_gate_node_beside_a_crossing_is_the_gate_and_the_crossing_is_not_doubled(tmp_path):
    config = _files(tmp_path, '[gates]\npath = "osm"\n')
    _osm(tmp_path / "network.osm", entrances=[(104.0, 10.0)])  # 4 m from the crossing
    result = _run(config)
    gates = result.layers.gates
    assert gates["source"].tolist() == ["osm_node"]
    block = result.summary["coverage"]["access_basis"]
    assert block["gate_sources"] == {"osm_node": 1, "osm_crossing": 0}
    report = next(r for r in result.layers.reports if r.layer == "gates")
    assert report.dropped["near_gate_node"] == 1
    # the entrance node (4 m along the wall) snaps to the footway: 4 + 10 + 300 + 5 m
    assert result.communities["convenience_m"].iloc[0] == pytest.approx(319.0, abs=0.05)


def test_check_and_the_terminal_say_where_the_gates_came_from(tmp_path, run_cli):
    config = _files(tmp_path, '[gates]\npath = "osm"\n')
    _osm(tmp_path / "network.osm")
    code, out, err = run_cli("check", "--config", config)
    assert code == 0, err
    assert "OSM 出入口节点 0 个，步行道穿越小区边界处 1 个" in out
    code, out, err = run_cli(
        "coverage", "--config", config, "--out", tmp_path / "o", "--lang", "en"
    )
    assert code == 0, err
    assert "gates from OSM: 0 entrance / gate nodes, 1 place where a footway crosses" in out
