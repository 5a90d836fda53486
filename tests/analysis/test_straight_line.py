"""One straight-line fallback: coverage, reach and catchment measure the same distance."""

import numpy as np
import pandas as pd
import shapely

from spatial.network.catchment import straight_pairs
from spatial.network.nearest import straight_within
from spatial.network.reach import straight_reach


def test_straight_within_keeps_pairs_within_radius_at_detour_distance():
    squares = np.array([shapely.box(0, 0, 10, 10), shapely.box(100, 0, 110, 10)])
    points = shapely.points([[20, 5], [5, 5], [300, 5]])
    ia, ib, d = straight_within(squares, points, 200.0, 1.3)
    # (square 0, point 0): 10 m × 1.3; point 1 inside square 0: 0; square 1 to point 0: 80 × 1.3;
    # point 1 from square 1: 95 × 1.3 = 123.5; point 2: 190 × 1.3 > 200 from square 1
    got = sorted(zip(ia.tolist(), ib.tolist(), np.round(d, 6).tolist(), strict=True))
    assert got == [(0, 0, 13.0), (0, 1, 0.0), (1, 0, 104.0), (1, 1, 123.5)]


def test_reach_and_catchment_fallbacks_agree():
    comms = np.array([shapely.box(0, 0, 10, 10), shapely.box(100, 0, 110, 10)])
    xy = np.array([[20.0, 5.0], [150.0, 5.0]])
    pairs = straight_pairs(comms, xy, np.array([0, 1]), 60.0, 1.3)
    # facility 0 is 10 m from community 0 and 80 m (104 walked) from community 1
    assert pairs.to_dict("records") == [
        {"facility": 0, "community": 0, "distance_m": 13.0},
        {"facility": 1, "community": 1, "distance_m": 52.0},
    ]
    # the same facilities as small parcels: the same pairs and distances
    parcels = shapely.buffer(shapely.points(xy), 1e-9)
    reach = straight_reach(parcels, comms, 60.0, 1.3)
    merged = pd.merge(
        reach.rename(columns={"parcel": "facility"}), pairs, on=["facility", "community"]
    )
    assert len(merged) == len(pairs) == len(reach)
    assert np.allclose(merged["distance_m_x"], merged["distance_m_y"], atol=1e-6)
