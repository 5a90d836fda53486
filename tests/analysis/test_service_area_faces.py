"""The numpy planar-face finder behind the service areas: faces, outlines and loose lines."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from spatial.analysis.coverage.service_areas import QUAD_SEGS, _faces, street_area


def _grid_lines(n: int, step: float) -> np.ndarray:
    """Unit streets of an n×n node grid, one line per block side."""
    lines = []
    for i in range(n):
        for j in range(n - 1):
            lines.append([(j * step, i * step), ((j + 1) * step, i * step)])
            lines.append([(i * step, j * step), (i * step, (j + 1) * step)])
    return shapely.linestrings(lines)


def test_grid_faces_are_the_blocks_and_a_dead_end_is_a_spike_of_the_outline():
    lines = np.r_[_grid_lines(3, 100.0), shapely.linestrings([[(200, 200), (260, 260)]])]
    faces, outer, face_part, outer_part, loose = _faces(lines)
    assert sorted(shapely.area(faces).round(6)) == [10_000.0] * 4
    assert len(outer) == 1 and shapely.area(outer[0]) == pytest.approx(40_000.0)
    ring = shapely.get_coordinates(outer[0]).tolist()
    assert ring.count([260.0, 260.0]) == 1 and ring.count([200.0, 200.0]) == 2  # out and back
    assert face_part.tolist() == [outer_part[0]] * 4
    assert len(loose) == 0
    area = street_area(lines, lines[:0], 30.0)
    plain = shapely.union_all(shapely.buffer(lines, 30.0, quad_segs=QUAD_SEGS))
    assert shapely.symmetric_difference(area, plain).area < 1e-9 * plain.area


def test_a_part_without_a_cycle_is_loose_and_a_spike_into_a_block_keeps_the_core_clear():
    tree = shapely.linestrings([[(1000, 0), (1100, 0)], [(1100, 0), (1100, 80)]])
    block = _grid_lines(2, 600.0)
    spike = shapely.linestrings([[(600, 600), (400, 400)]])  # a dead end into the block
    lines = np.r_[block, spike, tree]
    faces, outer, _, _, loose = _faces(lines)
    assert len(faces) == 1 and len(outer) == 1
    assert sorted(shapely.length(loose).tolist()) == [80.0, 100.0]
    area = street_area(lines, lines[:0], 30.0)
    assert area.contains(shapely.Point(393, 393))  # 10 m past the dead end's tip
    assert not area.contains(shapely.Point(330, 330))  # 99 m from the tip
    assert area.contains(shapely.Point(1100, 100))  # 20 m past the tree's end
    plain = shapely.union_all(shapely.buffer(lines, 30.0, quad_segs=QUAD_SEGS))
    assert shapely.symmetric_difference(area, plain).area < 1e-9 * plain.area


def test_two_blocks_touching_at_a_corner_and_a_curved_street():
    a = [[(0, 0), (100, 0)], [(100, 0), (100, 100)], [(100, 100), (0, 100)], [(0, 100), (0, 0)]]
    b = [[(100, 100), (200, 100)], [(200, 100), (200, 200)], [(200, 200), (100, 200)]]
    curved = [[(100, 200), (90, 150), (100, 100)]]  # a bent line closing the second block
    lines = np.array([shapely.LineString(c) for c in a + b + curved])
    faces, outer, _, _, cut = _faces(lines)
    assert len(cut) == 0 and len(faces) == 2 and len(outer) == 1
    assert sorted(shapely.area(faces).round(6)) == [10_000.0, 10_500.0]
    area = street_area(lines, lines[:0], 30.0)
    plain = shapely.union_all(shapely.buffer(lines, 30.0, quad_segs=QUAD_SEGS))
    assert area.area == pytest.approx(plain.area, rel=1e-4)
    # the curved street's inner side: the core's chord corners differ by a few square metres
    assert shapely.symmetric_difference(area, plain).area < 1e-3 * plain.area


def test_street_area_matches_the_union_of_buffers_on_a_large_block_with_an_island():
    outer = _grid_lines(2, 600.0)  # one 600 m block: a core remains
    island = shapely.linestrings([[(250, 250), (350, 250)], [(350, 250), (350, 350)],
                                  [(350, 350), (250, 350)], [(250, 350), (250, 250)]])  # fmt: skip
    lines = np.r_[outer, island]
    area = street_area(lines, lines[:0], 30.0)
    plain = shapely.union_all(shapely.buffer(lines, 30.0, quad_segs=QUAD_SEGS))
    assert area.contains(shapely.Point(300, 225))  # 25 m outside the island
    assert not area.contains(shapely.Point(150, 150))
    assert shapely.symmetric_difference(area, plain).area < 1e-9 * plain.area
