"""The print maps' line layers: single-part lines go to one path as they are (no copy of every
part), multi-part ones part by part; both give the path drawn before (a MOVETO per part)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from matplotlib.path import Path  # noqa: E402

from spatial.outputs.printing.draw import lines  # noqa: E402


def _drawn(geoms) -> Path:
    fig, ax = plt.subplots()
    try:
        return lines(ax, geoms, "black", 1.0).get_path()
    finally:
        plt.close(fig)


def test_single_and_multi_part_lines_give_a_moveto_per_part():
    a = shapely.LineString([(0, 0), (1, 0), (1, 1)])
    b = shapely.LineString([(5, 5), (6, 6)])
    single = _drawn(np.array([a, b]))
    assert single.vertices.tolist() == [[0, 0], [1, 0], [1, 1], [5, 5], [6, 6]]
    assert single.codes.tolist() == [1, 2, 2, 1, 2]
    multi = _drawn(
        np.array([shapely.MultiLineString([a, b]), shapely.LineString([(9, 9), (8, 8)])])
    )
    assert multi.vertices.tolist() == [[0, 0], [1, 0], [1, 1], [5, 5], [6, 6], [9, 9], [8, 8]]
    assert multi.codes.tolist() == [1, 2, 2, 1, 2, 1, 2]
    ring = shapely.Polygon([(0, 0), (4, 0), (4, 4)], [[(1, 0.5), (3, 0.5), (3, 2.5)]])
    holed = _drawn(np.array([ring]))  # outer ring and hole: two parts
    assert holed.codes.tolist() == [1, 2, 2, 2, 1, 2, 2, 2]
