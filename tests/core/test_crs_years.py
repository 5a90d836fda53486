"""Coordinate conversions, metric CRS choice and build-year parsing."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from spatial.core import crs
from spatial.inputs.parse import parse_built_year

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> float:
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# Published reference pairs (coordTransform / eviltransform documentation, Tiananmen area):
# WGS84 (116.404, 39.915) -> GCJ-02 (116.41024449916938, 39.91640428150164)
# GCJ-02 (116.404, 39.915) -> BD-09 (116.41036949371029, 39.92133699351022)
@pytest.mark.parametrize(
    ("func", "src", "dst"),
    [
        (crs.gcj02_to_wgs84, (116.41024449916938, 39.91640428150164), (116.404, 39.915)),
        (crs.bd09_to_wgs84, (116.41036949371029, 39.92133699351022), (116.39775550083061, 39.91359571849836)),
    ],
)  # fmt: skip
def test_chinese_systems_to_wgs84_within_a_metre(func, src, dst):
    lon, lat = func([src[0]], [src[1]])
    assert _metres(lon[0], lat[0], *dst) < 1.0


def test_round_trip_gcj02_over_shandong():
    rng = np.random.default_rng(1)
    lon = rng.uniform(114.8, 122.7, 200)
    lat = rng.uniform(34.4, 38.3, 200)
    glon, glat = crs.wgs84_to_gcj02(lon, lat)
    shift = [_metres(a, b, c, d) for a, b, c, d in zip(lon, lat, glon, glat, strict=True)]
    assert 100 < np.median(shift) < 700  # the offset a Gaode point carries
    back_lon, back_lat = crs.gcj02_to_wgs84(glon, glat)
    err = [_metres(a, b, c, d) for a, b, c, d in zip(lon, lat, back_lon, back_lat, strict=True)]
    assert max(err) < 1.0


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [(117.0, 36.65, 4548), (118.35, 35.05, 4548), (120.38, 36.07, 4549), (116.5, 35.4, 4548),
     (115.2, 36.5, 4547), (115.9, 36.5, 4548), (122.1, 37.5, 4550), (24.94, 60.17, 32635), (-74.0, 40.7, 32618)],
)  # fmt: skip
def test_metric_crs_choice(lon, lat, epsg):
    assert crs.metric_crs_for(lon, lat).to_epsg() == epsg


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1998", (1998, 1998, False)), (1998, (1998, 1998, False)), ("1998年", (1998, 1998, False)),
        ("1998-05", (1998, 1998, False)), ("1998.5", (1998, 1998, False)),
        (1998.0, (1998, 1998, False)), ("1998年5月", (1998, 1998, False)),
        ("90年代", (1990, 1999, True)), ("1990s", (1990, 1999, True)),
        ("八十年代", (1980, 1989, True)), ("2000年代", (2000, 2009, True)),
        ("2000年以前", (1949, 2000, True)),
    ],
)  # fmt: skip
def test_build_years(raw, expected):
    assert parse_built_year(raw) == expected


@pytest.mark.parametrize("raw", ["", None, "不详", "abc", "3021", float("nan")])
def test_unknown_build_years(raw):
    lo, hi, approx = parse_built_year(raw)
    assert np.isnan(lo) and np.isnan(hi) and approx is False
