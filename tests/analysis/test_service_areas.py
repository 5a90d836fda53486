"""Service-area geometry: reached street pieces (cut at the exact reach point), buffered."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from spatial.analysis.coverage.service_areas import QUAD_SEGS, _cut, reached_pieces, street_area
from spatial.network.graph import StreetNetwork

from ..conftest import grid_network


def _net(lines: list[list[tuple[float, float]]], nodes: list[tuple[float, float]]) -> StreetNetwork:
    """Edges given as coordinate lists whose ends are in ``nodes``."""
    xy = np.array(nodes, float)
    index = {tuple(p): i for i, p in enumerate(nodes)}
    u = [index[tuple(line[0])] for line in lines]
    v = [index[tuple(line[-1])] for line in lines]
    edges = gpd.GeoDataFrame(
        {"u": u, "v": v, "highway": "residential"},
        geometry=[shapely.LineString(line) for line in lines],
        crs=4548,
    )  # fmt: skip
    edges["length"] = edges.geometry.length
    return StreetNetwork(xy, edges, edges.crs, "hand-built")


def test_cut_matches_shapely_substring():
    from shapely.ops import substring

    lines = np.array(
        [
            shapely.LineString([(0, 0), (30, 0), (30, 40), (90, 40)]),
            shapely.LineString([(0, 0), (10, 0)]),
        ]
    )
    start, end = np.array([10.0, 0.0]), np.array([55.0, 10.0])
    got = _cut(lines, start, end)
    for g, line, s, e in zip(got, lines, start, end, strict=True):
        assert shapely.equals_exact(g, substring(line, s, e), tolerance=1e-9)


def test_area_reaches_10m_beside_the_street_at_90pct_and_not_past_radius_plus_buffer():
    # an L-shaped street 0 → (200, 0) → (200, 300), the facility's node at the origin
    net = _net([[(0, 0), (200, 0)], [(200, 0), (200, 300)]], [(0, 0), (200, 0), (200, 300)])
    radius, buffer = 250.0, 30.0
    node_dist = np.array([0.0, 200.0, 500.0])
    pieces, edge, _ = reached_pieces(net, node_dist, radius)
    assert sorted(edge.tolist()) == [0, 1]
    partial = pieces[edge == 1][0]
    assert shapely.get_coordinates(partial)[-1] == pytest.approx([200, 50])  # cut at 250 m
    area = street_area(pieces, pieces[:0], buffer)
    assert area.contains(shapely.Point(210, 0.9 * radius - 200))  # 10 m beside, at 90 %
    assert area.contains(shapely.Point(200, 50 + buffer - 1))
    assert not area.contains(shapely.Point(200, 50 + buffer + 1))  # past radius + buffer
    assert not area.contains(shapely.Point(100, 60))  # no hull across the corner


def test_enclosed_blocks_keep_their_unreached_middle_and_match_the_union_of_buffers():
    # 4×4 blocks of 100 m, every street reached: a block's middle is 50 m from any street
    net = grid_network(5, 100.0)
    pieces, _, _ = reached_pieces(net, np.zeros(net.n_nodes), 1_000.0)
    area = street_area(pieces, pieces[:0], 30.0)
    plain = shapely.union_all(
        shapely.buffer(pieces, 30.0, quad_segs=QUAD_SEGS)
    )  # the same buffers, dissolved the slow way: the same set
    assert not area.contains(shapely.Point(150, 150))  # the block's core stays a hole
    assert area.contains(shapely.Point(150, 125))  # 25 m from the street
    assert shapely.get_num_interior_rings(area) == 16
    assert area.area == pytest.approx(plain.area, rel=1e-9)
    assert shapely.symmetric_difference(area, plain).area < 1e-9 * plain.area


def test_island_loop_inside_a_block_and_a_crossing_street_are_covered():
    outer = [(0, 0), (400, 0), (400, 400), (0, 400)]
    inner = [(150, 150), (250, 150), (250, 250), (150, 250)]
    ring = lambda pts: [[pts[i], pts[(i + 1) % 4]] for i in range(4)]  # noqa: E731
    pieces = shapely.linestrings(ring(outer) + ring(inner))
    bridge = shapely.linestrings([[(-50, 200), (450, 200)]])  # crosses both loops, no node
    area = street_area(pieces, bridge, 30.0)
    plain = shapely.union_all(
        shapely.buffer(np.r_[pieces, bridge], 30.0, quad_segs=QUAD_SEGS)
    )  # the same buffers, dissolved the slow way: the same set
    assert area.contains(shapely.Point(200, 125))  # 25 m outside the island loop
    assert area.contains(shapely.Point(80, 210))  # 10 m beside the bridge, inside the block
    assert not area.contains(shapely.Point(80, 100))  # 80 m from every street
    assert shapely.symmetric_difference(area, plain).area < 1e-9 * plain.area
