"""Hills (issue 26): an elevation raster costs each street direction by Tobler's hiking function.

The hand-built hill is a ridge: z = 100 − 0.08·|x − 50| m (8 % slopes either side of x = 50),
written as a 1 m GeoTIFF whose cell centres fall on whole metres, so the raster's bilinear
surface *is* the ridge (its kink lies on a cell-centre line and on a node column). Walking 1 m
up 8 % costs exp(3.5·0.08) = 1.3231 flat-equivalent metres, down 8 %
exp(3.5·(0.03 − 0.05)) = 0.9324: the references below compute Tobler's speed on their own and
run networkx's directed Dijkstra.
"""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from spatial.analysis.coverage.measure import compute_coverage, coverage_summary
from spatial.config.project import CoverageConfig, Project
from spatial.config.standards import load_standards
from spatial.core.errors import InputError
from spatial.network.catchment import NetworkCatchments
from spatial.network.elevation import add_elevation
from spatial.network.graph import StreetNetwork
from spatial.network.routing import multi_source_distances

from ..conftest import grid_network

GRADE = 0.08


def ridge(x: np.ndarray) -> np.ndarray:
    return 100.0 - GRADE * np.abs(np.asarray(x, float) - 50.0)


def _tiff(path: Path, z: np.ndarray, x0: float, y_top: float, cell: float = 1.0, crs=4548):
    import rasterio
    from rasterio.transform import from_origin

    profile = dict(driver="GTiff", width=z.shape[1], height=z.shape[0], count=1,
                   dtype="float64", crs=f"EPSG:{crs}",
                   transform=from_origin(x0, y_top, cell, cell), nodata=-9999.0)  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


def ridge_tiff(path: Path) -> Path:
    """Cell centres on whole metres from x = −40 … 140, y = −60 … 160."""
    xs = np.arange(-40, 141)
    rows = len(np.arange(-60, 161))
    return _tiff(path, np.tile(ridge(xs), (rows, 1)), -40.5, 160.5)


def flat_tiff(path: Path, bounds, value: float = 37.25) -> Path:
    x0, y0, x1, y1 = bounds
    z = np.full((int(y1 - y0) // 10 + 3, int(x1 - x0) // 10 + 3), value)
    return _tiff(path, z, x0 - 15, y1 + 15, cell=10.0)


def hill_network() -> StreetNetwork:
    """An 11 × 11 grid at 10 m (0 … 100) and three long edges: (0, 0) → (50, −30) → (100, 0)
    (about 58 m each, cut in 3 pieces) and (0, 100) → (50, 130) → (100, 100) as one edge bent
    on the ridge."""
    base = grid_network(11, 10.0)
    xy = np.vstack([base.node_xy, [[50.0, -30.0]]])
    extra = [
        (0, 121, shapely.LineString([(0, 0), (50, -30)])),
        (121, 10, shapely.LineString([(50, -30), (100, 0)])),
        (110, 120, shapely.LineString([(0, 100), (50, 130), (100, 100)])),
    ]
    more = gpd.GeoDataFrame(
        {"u": [e[0] for e in extra], "v": [e[1] for e in extra], "highway": "residential"},
        geometry=[e[2] for e in extra],
        crs=4548,
    )
    edges = gpd.GeoDataFrame(
        gpd.pd.concat([base.edges.drop(columns="length"), more], ignore_index=True), crs=4548
    )
    edges["length"] = edges.geometry.length
    return StreetNetwork(xy, edges, edges.crs, "hand-built hill")


def tobler_cost(a, b) -> float:
    """Flat-equivalent metres walking the straight line a → b on the ridge (no kink inside)."""
    h = math.dist(a, b)
    s = (ridge(b[0]) - ridge(a[0])) / h
    speed = 6 * math.exp(-3.5 * abs(s + 0.05))
    return h * (6 * math.exp(-3.5 * 0.05)) / speed


def walk_graph(net: StreetNetwork) -> nx.DiGraph:
    """The reference: a directed graph, each edge walked both ways at Tobler's speed."""
    g = nx.DiGraph()
    for u, v, line in zip(net.edges["u"], net.edges["v"], net.edges.geometry, strict=True):
        pts = list(line.coords)
        g.add_edge(u, v, weight=sum(tobler_cost(p, q) for p, q in pairwise(pts)))
        g.add_edge(v, u, weight=sum(tobler_cost(q, p) for p, q in pairwise(pts)))
    return g


def test_directed_distances_match_a_networkx_reference_on_a_hand_built_hill(tmp_path):
    net = hill_network()
    add_elevation(net, ridge_tiff(tmp_path / "dem.tif"))
    points = np.array([[37.0, 43.0], [80.0, 61.5], [20.0, -16.0], [50.0, 127.0]])
    edge, along, offset = net.snap(points)
    dist, src = multi_source_distances(net, edge, along, offset, 1e9)
    g = walk_graph(net)
    for i, (e, a, o) in enumerate(zip(edge, along, offset, strict=True)):
        u, v = int(net.edges["u"].iloc[e]), int(net.edges["v"].iloc[e])
        line = net.edges.geometry.iloc[e]
        at = line.interpolate(a)
        pts = [c for c in line.coords if line.project(shapely.Point(c)) <= a] + [at.coords[0]]
        back = [c for c in line.coords if line.project(shapely.Point(c)) >= a][::-1]
        back = back + [at.coords[0]]
        g.add_edge(u, ("f", i), weight=o + sum(tobler_cost(p, q) for p, q in pairwise(pts)))
        g.add_edge(v, ("f", i), weight=o + sum(tobler_cost(p, q) for p, q in pairwise(back)))
    ref = nx.multi_source_dijkstra_path_length(g.reverse(), [("f", i) for i in range(4)])
    want = np.array([ref[n] for n in range(net.n_nodes)])
    np.testing.assert_allclose(dist, want, rtol=0, atol=1e-6)
    # the walk is toward the facility: from the foot of the ridge up is dearer than down
    up = dist[0]  # node (0, 0), 40 m of grid below facility 0 … at least partly uphill
    flat, _ = multi_source_distances(hill_network(), edge, along, offset, 1e9)
    assert up > flat[0]
    assert (dist != flat).sum() > 100  # slope changes nearly every node's distance


def _line_over_the_ridge(tmp_path):
    net = StreetNetwork(
        np.array([[x, 0.0] for x in range(0, 101, 10)]),
        gpd.GeoDataFrame(
            {"u": range(10), "v": range(1, 11), "highway": "residential"},
            geometry=[shapely.LineString([(x, 0), (x + 10, 0)]) for x in range(0, 100, 10)],
            crs=4548,
        ),
        4548,
        "line over the ridge",
    )
    net.edges["length"] = net.edges.geometry.length
    net.crs = net.edges.crs
    add_elevation(net, ridge_tiff(tmp_path / "dem.tif"))
    return net


def _valley_case(tmp_path, community_x: float, store_x: float):
    net = _line_over_the_ridge(tmp_path)
    comm = gpd.GeoDataFrame(
        {"cid": ["c"], "name": ["c"], "households": [10], "subdistrict": ["s"]},
        geometry=[shapely.box(community_x - 5, 5, community_x + 5, 15)],
        crs=4548,
    )
    shop = gpd.GeoDataFrame(
        {"category": ["convenience"], "name": ["shop"]},
        geometry=[shapely.Point(store_x, -3)],
        crs=4548,
    )
    std = load_standards(Project())
    cfg = CoverageConfig(access_spacing_m=10.0)
    return compute_coverage(comm, shop, std, cfg, net), std


def test_uphill_to_the_shop_costs_more_than_downhill(tmp_path):
    """The community's outline corner 5 m from the street, 45 m of street, the shop 3 m off it:
    up the ridge 5 + 45·1.3231 + 3; the other way (from the box round x = 50 to a shop at x = 5)
    its corner at x = 45 walks 40 m down: 5 + 40·0.9324 + 3 flat-equivalent metres."""
    up, std = _valley_case(tmp_path, 0.0, 50.0)
    down, _ = _valley_case(tmp_path, 50.0, 5.0)
    f_up, f_down = math.exp(3.5 * GRADE), math.exp(3.5 * (abs(-GRADE + 0.05) - 0.05))
    assert up.communities["convenience_m"].iloc[0] == pytest.approx(8 + 45 * f_up, abs=0.05)
    assert down.communities["convenience_m"].iloc[0] == pytest.approx(8 + 40 * f_down, abs=0.05)
    summary = coverage_summary(up, std)
    assert summary["distance_unit"] == "flat_equivalent_m"
    assert summary["slope"] == "tobler"


def _scatter(net: StreetNetwork, rng):
    lo, hi = net.node_xy.min(axis=0), net.node_xy.max(axis=0)
    centres = rng.uniform(lo, hi, (12, 2))
    comm = gpd.GeoDataFrame(
        {"cid": [f"c{i}" for i in range(12)], "name": "c", "households": 10, "subdistrict": "s"},
        geometry=[shapely.box(x - 30, y - 20, x + 30, y + 20) for x, y in centres],
        crs=4548,
    )
    cats = ["convenience", "kindergarten", "health_station", "market"]
    fac = gpd.GeoDataFrame(
        {"category": rng.choice(cats, 40), "name": [f"f{i}" for i in range(40)]},
        geometry=shapely.points(rng.uniform(lo, hi, (40, 2))),
        crs=4548,
    )
    return comm, fac


def test_a_flat_raster_gives_exactly_the_flat_results(tmp_path):
    rng = np.random.default_rng(26)
    hilly = grid_network(14, 40.0, np.random.default_rng(0), drop=0.15)
    flat = grid_network(14, 40.0, np.random.default_rng(0), drop=0.15)
    add_elevation(hilly, flat_tiff(tmp_path / "flat.tif", hilly.edges.total_bounds))
    assert hilly.slope is not None and hilly.min_cost_ratio == 1.0
    comm, fac = _scatter(flat, rng)
    std = load_standards(Project())
    cfg = CoverageConfig()
    a = compute_coverage(comm, fac, std, cfg, flat)
    b = compute_coverage(comm, fac, std, cfg, hilly)
    cols = [c for c in a.communities.columns if c.endswith(("_m", "_ok", "_nearest"))]
    assert len(cols) > 6
    assert a.communities[cols].equals(b.communities[cols])
    for key in a.categories:
        np.testing.assert_array_equal(a.categories[key].node_dist, b.categories[key].node_dist)
    pts = np.asarray(shapely.get_coordinates(fac.geometry.values))
    for net_a, net_b in ((flat, hilly),):
        ca = NetworkCatchments(net_a, pts, a.access, 200.0).pairs(np.arange(40), 400.0)
        cb = NetworkCatchments(net_b, pts, b.access, 200.0).pairs(np.arange(40), 400.0)
        assert len(ca) > 10 and ca.equals(cb)


def test_a_raster_that_misses_the_streets_is_refused(tmp_path):
    net = hill_network()
    far = _tiff(tmp_path / "far.tif", np.zeros((5, 5)), 10_000.0, 10_000.0)
    with pytest.raises(InputError) as err:
        add_elevation(net, far)
    assert err.value.key == "err_elevation_no_cover"


def test_streets_partly_off_the_raster_count_flat_there_and_are_a_warning(tmp_path):
    net = hill_network()
    half = _tiff(tmp_path / "half.tif", np.tile(ridge(np.arange(-40, 41)), (221, 1)), -40.5, 160.5)
    add_elevation(net, half)
    codes = [p.code for p in net.problems]
    assert codes == ["network_elevation_missing"]
    assert 0 < net.problems[0].count < len(net.edges)


def test_an_undeclared_void_is_no_data_and_a_warning_not_a_wall(tmp_path):
    """SRTM's −32768 (or float32's largest value) left undeclared was read as an elevation: the
    streets beside it cost exp(3.5 × thousands) — infinite — and the demo's full coverage fell
    from 3.7 % to 0.0 % without a word. Out-of-range values are no-data, as a declared void."""
    z = np.tile(ridge(np.arange(-40, 141)), (221, 1))
    declared, void = z.copy(), z.copy()
    declared[100:120, 80:100] = -9999.0  # the helper's declared no-data value
    void[100:120, 80:100] = -32768.0  # not declared
    for name, grid in (("declared", declared), ("void", void)):
        _tiff(tmp_path / f"{name}.tif", grid, -40.5, 160.5)
    a, b = hill_network(), hill_network()
    add_elevation(a, tmp_path / "declared.tif")
    add_elevation(b, tmp_path / "void.tif")
    np.testing.assert_array_equal(a.slope.up, b.slope.up)
    np.testing.assert_array_equal(a.slope.down, b.slope.down)
    assert np.isfinite(b.slope.up).all() and np.isfinite(b.slope.down).all()
    odd = [p for p in b.problems if p.code == "elevation_implausible"]
    assert len(odd) == 1 and odd[0].count == 400 and odd[0].sample == ("-32768",)
    assert "void.tif" in odd[0].message("en") and "NoData" in odd[0].message("en")
    assert "network_elevation_missing" in [p.code for p in b.problems]


def test_a_coarse_cliff_of_a_raster_is_a_warning_naming_the_share(tmp_path):
    """2 × 2 cells of 100 m with 1,000 m relief: the streets east of x = 9.5 (the west cells'
    centre) climb 10 m per metre. Under Tobler that is no walk at all, and coverage fell
    to 0 % without a check; now the share of street length steeper than 30 % is a warning (the
    costs stay as they are). The 8 % ridge raises none."""
    net = hill_network()
    cliff = _tiff(tmp_path / "cliff.tif", np.array([[0.0, 1000.0], [0.0, 1000.0]]), -40.5, 160.5,
                  cell=100.0)  # fmt: skip
    add_elevation(net, cliff)
    steep = [p for p in net.problems if p.code == "network_steep_streets"]
    assert len(steep) == 1
    lines = net.edges.geometry
    climbs = lines.apply(lambda g: g.coords[0][0] != g.coords[-1][0])  # all but north-south
    # every piece of them climbs: the first (x = 0 … 10 m, or 0 … 16.7 m on the long edges)
    # rises 5 m over 10 m from x = 9.5 on, 50 %; 1,333 of the 2,433 m
    share = lines[climbs].length.sum() / lines.length.sum()
    assert f"{share:.0%} of the street length is steeper than 30%" in steep[0].message("en")
    assert "cliff.tif" in steep[0].message("en") and "units" in steep[0].message("en")
    ridge_net = hill_network()
    add_elevation(ridge_net, ridge_tiff(tmp_path / "ridge.tif"))
    assert "network_steep_streets" not in [p.code for p in ridge_net.problems]


def test_only_the_raster_under_the_streets_is_read_and_a_huge_one_is_refused(tmp_path, monkeypatch):
    """A 51 KB compressed GeoTIFF of 40,000² cells was read whole: a 6 GB MemoryError (exit 3)
    or the machine's OOM killer. Now the window under the network is read (the same costs as
    the whole raster, bit for bit) and a window over the cell limit is one line."""
    from spatial.core import settings

    z = np.tile(ridge(np.arange(-40, 141)), (221, 1))
    wide = np.full((221 + 600, 181 + 600), 5000.0)  # far more raster round the same ridge
    wide[300:521, 300:481] = z
    _tiff(tmp_path / "ridge.tif", z, -40.5, 160.5)
    _tiff(tmp_path / "wide.tif", wide, -340.5, 460.5)
    a, b = hill_network(), hill_network()
    add_elevation(a, tmp_path / "ridge.tif")
    add_elevation(b, tmp_path / "wide.tif")
    np.testing.assert_array_equal(a.slope.up, b.slope.up)
    np.testing.assert_array_equal(a.slope.down, b.slope.down)
    monkeypatch.setattr(settings, "ELEVATION_MAX_CELLS", 10_000)
    with pytest.raises(InputError) as err:
        add_elevation(hill_network(), tmp_path / "wide.tif")
    assert err.value.key == "err_elevation_too_large"
    assert "wide.tif" in err.value.message("en") and "clip" in err.value.message("en")


def test_the_project_setting_applies_the_hills_and_every_output_states_the_rule(tmp_path):
    from spatial.analysis.coverage.basis import threshold_text

    from .test_gates import X0, Y0, _files, _run

    config = _files(tmp_path, 'elevation = "dem.tif"\n')
    z = np.tile(0.05 * np.arange(0, 500, 10.0), (25, 1))  # 5 % up towards the east
    _tiff(tmp_path / "dem.tif", z, X0 - 55, Y0 + 185, cell=10.0)
    result = _run(config)
    cov = result.summary["coverage"]
    assert (cov["slope"], cov["distance_unit"]) == ("tobler", "flat_equivalent_m")
    rule = threshold_text(cov, str, "zh")
    assert "平地等效米" in rule and "从小区走向设施" in rule
    assert "flat-equivalent metres" in threshold_text(cov, str, "en")
    # compound B east of the store: 100 m off-street (flat), 10 m north along the east street
    # (level) and 100 m west along the north street, 5 % down Tobler's fastest slope: ×0.8395
    (tmp_path / "flat").mkdir()
    flat = _run(_files(tmp_path / "flat", ""))
    assert flat.communities["convenience_m"].iloc[1] == pytest.approx(215.0, abs=0.05)
    saved = 100 * (1 - math.exp(-3.5 * 0.05))  # 16.05 m (the reader's lengths are geodesic)
    got = flat.communities["convenience_m"].iloc[1] - result.communities["convenience_m"].iloc[1]
    assert got == pytest.approx(saved, abs=0.15)
    assert flat.summary["coverage"]["slope"] == "none"


def test_a_raster_without_a_crs_is_one_line_naming_it(tmp_path):
    from .test_gates import _files, _run

    config = _files(tmp_path, 'elevation = "dem.tif"\n')
    import rasterio

    with rasterio.open(tmp_path / "dem.tif", "w", driver="GTiff", width=3, height=3, count=1,
                       dtype="float32") as dst:  # fmt: skip
        dst.write(np.zeros((1, 3, 3), "float32"))
    with pytest.raises(InputError) as err:
        _run(config)
    assert err.value.key == "err_elevation_no_crs"
    assert "dem.tif" in err.value.message("en")


def test_a_picture_renamed_tif_says_it_is_no_geotiff(tmp_path):
    """A PNG saved as dem.tif has no CRS too, but the fix is another file: name its format."""
    from .test_gates import _files, _run

    config = _files(tmp_path, 'elevation = "dem.tif"\n')
    import rasterio

    with rasterio.open(tmp_path / "dem.png", "w", driver="PNG", width=3, height=3, count=1,
                       dtype="uint8") as dst:  # fmt: skip
        dst.write(np.zeros((1, 3, 3), "uint8"))
    (tmp_path / "dem.png").rename(tmp_path / "dem.tif")
    with pytest.raises(InputError) as err:
        _run(config)
    assert err.value.key == "err_elevation_not_geotiff"
    line = err.value.message("en")
    assert "dem.tif" in line and "not a GeoTIFF" in line and "PNG" in line


def test_service_areas_cut_partial_streets_where_the_walk_uphill_runs_out(tmp_path):
    """A shop on the ridge top (50, 0), 20 flat-equivalent metres: the walk to it is uphill from
    both sides, 1.3231 per metre, so the reached street is 50 ± 20 / 1.3231 = 50 ± 15.116 m."""
    from spatial.analysis.coverage.service_areas import reached_pieces

    net = _line_over_the_ridge(tmp_path)
    edge, along, offset = net.snap(np.array([[50.0, 0.0]]))
    dist, _ = multi_source_distances(net, edge, along, offset, 1e9)
    pieces, _, _ = reached_pieces(net, dist, 20.0)
    reached = shapely.union_all(pieces)
    lo, _, hi, _ = reached.bounds
    half = 20.0 / math.exp(3.5 * GRADE)
    assert (lo, hi) == (pytest.approx(50 - half, abs=1e-6), pytest.approx(50 + half, abs=1e-6))
    assert reached.length == pytest.approx(2 * half, abs=1e-6)


@pytest.fixture(scope="module")
def gated_hills(tmp_path_factory):
    """The gates block of ``test_gates`` with compound A reached through its east gate, over a
    5 % slope up to the east, analysed (coverage)."""
    import pandas as pd

    from .test_gates import EAST_GATE, X0, Y0, _files, _lonlat, _run

    tmp_path = tmp_path_factory.mktemp("gated_hills")
    pd.DataFrame([("A", *_lonlat(*EAST_GATE))], columns=["小区编号", "lon", "lat"]).to_csv(
        tmp_path / "gates.csv", index=False
    )
    gates = '[gates]\npath = "gates.csv"\ncoords = "wgs84"\n'
    config = _files(tmp_path, 'elevation = "dem.tif"\n' + gates)
    z = np.tile(0.05 * np.arange(0, 500, 10.0), (25, 1))
    _tiff(tmp_path / "dem.tif", z, X0 - 55, Y0 + 185, 10.0)
    return _run(config)


def test_the_print_map_states_the_rule_and_the_access_basis_under_the_map(gated_hills):
    from spatial.outputs.printing.pack import draw_overview

    texts = [t.get_text() for t in draw_overview(gated_hills, "zh").texts]
    footer = [t for t in texts if "平地等效米" in t and "Tobler" in t]
    assert len(footer) == 1 and "按出入口计算 1 个小区，按边界计算 1 个" in footer[0]
    assert any("便利店 300 平地等效米" in t for t in texts)  # the definition's radii, same unit
    texts = [t.get_text() for t in draw_overview(gated_hills, "en").texts]
    assert any("flat-equivalent metres" in t and "1 community measured from their gates" in t
               for t in texts)  # fmt: skip


def test_the_html_map_draws_communities_measured_from_gates_in_their_own_style(gated_hills):
    import json

    from spatial.outputs.html import contents as maps
    from spatial.outputs.style import GATE_COLOUR

    fmap = maps.overview_map(gated_hills, "zh", "none")
    page = fmap.get_root().render()
    maps.clear_cache()
    start = page.index("window.LC_STORE = ") + len("window.LC_STORE = ")
    store = json.loads(page[start : page.index(";</script>", start)])
    assert store["comm"]["gate"] == [1, 0]  # A through its gate, B from its outline
    assert store["gateColour"] == GATE_COLOUR
    legend = " ".join(e["html"] for e in store["legend"])
    assert "按出入口计算距离的小区：蓝色边" in legend
    assert "平地等效米" in page  # the headline's rule sentence


def test_siting_reach_walks_from_the_community_up_to_the_parcel(tmp_path):
    """A parcel on the ridge top and a community at its foot (boxes 10 m wide, 5 m off the
    street): 5 m out, 40 m up, 5 m in = 10 + 40·1.3231; the other way round 10 + 40·0.9324."""
    from spatial.network.reach import network_reach

    net = _line_over_the_ridge(tmp_path)
    cfg = CoverageConfig(access_spacing_m=10.0)
    top, foot = shapely.box(45, 5, 55, 15), shapely.box(-5, 5, 5, 15)
    up = network_reach(net, np.array([top]), np.array([foot]), 200.0, cfg)
    down = network_reach(net, np.array([foot]), np.array([top]), 200.0, cfg)
    assert up["distance_m"].tolist() == pytest.approx([10 + 40 * math.exp(3.5 * GRADE)])
    assert down["distance_m"].tolist() == pytest.approx([10 + 40 * math.exp(3.5 * -0.02)])


def test_catchments_on_a_hill_give_each_community_its_coverage_distance(tmp_path):
    net = hill_network()
    add_elevation(net, ridge_tiff(tmp_path / "dem.tif"))
    rng = np.random.default_rng(7)
    comm, fac = _scatter(net, rng)
    comm.geometry = comm.geometry.scale(0.2, 0.2)  # 12 m × 8 m compounds inside the 100 m grid
    std = load_standards(Project())
    cov = compute_coverage(comm, fac, std, CoverageConfig(access_spacing_m=5.0), net)
    pts = shapely.get_coordinates(fac.geometry.values)
    catch = NetworkCatchments(net, pts, cov.access, 500.0)
    checked = 0
    for key in ("convenience", "kindergarten", "health_station", "market"):
        rows = np.flatnonzero(fac["category"].to_numpy() == key)
        best = catch.pairs(rows, 1000.0).groupby("community")["distance_m"].min()
        got = cov.communities[f"{key}_m"].to_numpy()
        for c, d in best.items():
            assert got[c] == pytest.approx(d, abs=0.051)
            checked += 1
    assert checked > 20


def test_without_rasterio_the_setting_is_one_line_naming_the_extra(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_rasterio(name, *args, **kwargs):
        if name == "rasterio":
            raise ImportError("No module named 'rasterio'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_rasterio)
    with pytest.raises(InputError) as err:
        add_elevation(hill_network(), tmp_path / "dem.tif")
    assert err.value.key == "err_elevation_needs_rasterio"
    assert "lifecircle[hills]" in err.value.message("en")


def test_the_html_map_draws_the_same_reached_streets_as_the_service_area_layer(tmp_path):
    """The page's partly reached streets (fraction of the edge from its end) with hills: on the
    ridge line, 20 flat-equivalent metres from the top reach 15.116 m down each side."""
    from types import SimpleNamespace

    from spatial.outputs.html.areas import FRACTION, StreetTable

    net = _line_over_the_ridge(tmp_path)
    edge, along, offset = net.snap(np.array([[50.0, 0.0]]))
    dist, _ = multi_source_distances(net, edge, along, offset, 1e9)
    fake = SimpleNamespace(network=net, node_dist={"k": dist})
    out = StreetTable(fake, "none", (0, 0)).reach(fake, "k", 20.0)
    half = 20.0 / math.exp(3.5 * GRADE)  # 15.116 m: edge 3 (30–40) from 40 on, edge 4 whole…
    fracs = out["fracA"] + out["fracB"]
    assert sorted(fracs) == [int(np.ceil((half - 10) / 10 * FRACTION))] * 2


def test_distances_are_titled_in_flat_equivalent_metres_everywhere_with_hills(gated_hills):
    """The one unit word (``distance_unit``) in the ledger's columns, the map cards and the
    maps' radii; a flat run keeps metres."""
    import json

    from spatial.analysis.coverage.basis import distance_unit
    from spatial.outputs.html import contents as maps
    from spatial.outputs.ledger.workbook import INTEGER
    from spatial.outputs.ledger.write import _column_formats, _community_sheet

    cov = gated_hills.summary["coverage"]
    assert distance_unit(cov, "zh") == "平地等效米"
    assert distance_unit(cov, "en") == "flat-equivalent m"
    assert distance_unit({"distance_unit": "m"}, "zh") == distance_unit(None, "en") == "m"
    sheet = _community_sheet(gated_hills, "zh")
    assert "便利店距离(平地等效米)" in sheet.columns and "便利店距离(m)" not in sheet.columns
    col = list(sheet.columns).index("便利店距离(平地等效米)") + 1
    assert _column_formats(sheet, "zh")[col] == INTEGER  # whole (flat-equivalent) metres
    assert "Convenience store (flat-equivalent m)" in _community_sheet(gated_hills, "en").columns
    page = maps.overview_map(gated_hills, "zh", "none").get_root().render()
    maps.clear_cache()
    start = page.index("window.LC_STORE = ") + len("window.LC_STORE = ")
    store = json.loads(page[start : page.index(";</script>", start)])
    assert store["text"]["unit"] == "平地等效米"  # the card: "<d> 平地等效米 / <min> 分钟"
    assert "300 平地等效米" in page  # the definition's radii


def test_the_api_reads_the_hills_as_the_command_line_does(tmp_path, run_cli):
    """``spatial.read_network(..., elevation=...)`` then ``spatial.coverage``: the distances of
    ``lifecircle coverage`` with ``[network] elevation``, to the centimetre."""
    import warnings

    import spatial

    from .test_gates import X0, Y0, _files

    config = _files(tmp_path, 'elevation = "dem.tif"\n')
    z = np.tile(0.05 * np.arange(0, 500, 10.0), (25, 1))  # 5 % up towards the east
    _tiff(tmp_path / "dem.tif", z, X0 - 55, Y0 + 185, cell=10.0)
    code, _, err = run_cli("coverage", "--config", config, "--out", tmp_path / "o")
    assert code == 0, err
    cli = gpd.read_file(tmp_path / "o" / "lifecircle.gpkg", layer="communities")
    flat = spatial.read_network(tmp_path / "network.osm", "EPSG:4548")
    net = spatial.read_network(flat, elevation=tmp_path / "dem.tif")
    assert flat.slope is None and net.slope is not None  # the network given stays flat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", spatial.LifecircleWarning)
        api = spatial.coverage(
            tmp_path / "communities.gpkg",
            tmp_path / "facilities.gpkg",
            net,
            layers={"communities": {"id": "小区编号"}},
        )
    got = api.communities["convenience_m"].to_numpy()
    np.testing.assert_allclose(got, cli["convenience_m"].to_numpy(), atol=0.01)
    assert got[1] < 215.0 - 15  # downhill to the store: fewer flat-equivalent metres
    with pytest.raises(InputError) as err:
        spatial.read_network(flat, elevation=tmp_path / "none.tif")
    assert err.value.key == "err_file_not_found"
