"""Coverage distances against networkx and hand-computed values."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from spatial.analysis.coverage.measure import compute_coverage, coverage_summary
from spatial.analysis.coverage.service_areas import service_areas
from spatial.config.project import CoverageConfig, Project
from spatial.config.standards import load_standards
from spatial.network.graph import StreetNetwork
from spatial.network.routing import multi_source_distances

from ..conftest import grid_network, line_network


def _facilities(points, categories, names=None):
    return gpd.GeoDataFrame(
        {"category": categories, "name": names or [f"f{i}" for i in range(len(points))]},
        geometry=[shapely.Point(p) for p in points],
        crs=4548,
    )


def _communities(polys, households=None):
    return gpd.GeoDataFrame(
        {"cid": [f"C{i}" for i in range(len(polys))], "name": [f"c{i}" for i in range(len(polys))],
         "households": households or [100] * len(polys), "subdistrict": ["A"] * len(polys)},
        geometry=polys, crs=4548,
    )  # fmt: skip


def test_node_distances_match_networkx_multi_source():
    rng = np.random.default_rng(7)
    net = grid_network(15, 80.0, rng, drop=0.25)
    # random edge lengths longer than the straight line (curved streets)
    net.edges["length"] = net.edges.geometry.length * rng.uniform(1.0, 1.6, len(net.edges))
    graph = nx.Graph()
    for u, v, w in net.edges[["u", "v", "length"]].itertuples(index=False):
        graph.add_edge(int(u), int(v), weight=float(w))
    sources = rng.choice(net.n_nodes, 6, replace=False)
    # a facility exactly on node u of an edge: along = 0, offset = 0
    edge_of = [
        int(np.flatnonzero((net.edges["u"] == s) | (net.edges["v"] == s))[0]) for s in sources
    ]
    along = np.array([0.0 if net.edges["u"][e] == s else net.edges["length"][e]
                      for e, s in zip(edge_of, sources, strict=True)])  # fmt: skip
    dist, src = multi_source_distances(net, np.array(edge_of), along, np.zeros(6), bound=np.inf)
    expected = nx.multi_source_dijkstra_path_length(graph, set(sources.tolist()))
    for node in range(net.n_nodes):
        if node in expected:
            assert dist[node] == pytest.approx(expected[node], abs=1e-4)
            assert src[node] >= 0
        else:
            assert np.isinf(dist[node])


def test_bounded_search_marks_far_nodes_unreached():
    net = line_network([0, 100, 200, 300, 400, 500])
    dist, src = multi_source_distances(net, np.array([0]), np.array([0.0]), np.array([0.0]), 250)
    assert dist[:3] == pytest.approx([0, 100, 200], abs=1e-4)
    assert np.isinf(dist[3:]).all() and (src[3:] == -1).all()


def test_facility_on_a_loop_street_links_by_the_shorter_way_round():
    # a street 0 → 100 and a 400 m loop from node 1 back to itself (a cul-de-sac ring)
    xy = np.array([[0.0, 0.0], [100.0, 0.0]])
    ring = [(100, 0), (200, 0), (200, 100), (100, 100), (100, 0)]
    edges = gpd.GeoDataFrame(
        {"u": [0, 1], "v": [1, 1], "highway": "residential"},
        geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString(ring)],
        crs=4548,
    )
    edges["length"] = edges.geometry.length
    net = StreetNetwork(xy, edges, edges.crs, "hand-built")
    # facility 350 m along the loop: 50 m back to node 1 the short way, 350 m the long way
    edge, along, offset = net.snap(np.array([[100.0, 50.0]]))
    assert edge[0] == 1 and along[0] == pytest.approx(350.0)
    dist, _ = multi_source_distances(net, edge, along, offset, bound=np.inf)
    assert dist == pytest.approx([150.0, 50.0])


def test_community_distance_is_through_its_nearest_boundary_point():
    net = line_network([0, 100, 200, 300, 400, 500, 600, 700])
    fac = _facilities([(0, 0)], ["market"])
    comm = _communities([shapely.box(440, 10, 560, 60)])
    std = load_standards(Project())
    out = compute_coverage(comm, fac, std, CoverageConfig(), net).communities
    # nearest corner (440, 10): 440 m along the street + 10 m to the gate
    assert out["market_m"].iloc[0] == pytest.approx(450.0, abs=1e-6)
    assert bool(out["market_ok"].iloc[0]) is True  # market radius 500 m
    assert out["market_nearest"].iloc[0] == "f0"
    assert np.isnan(out["kindergarten_m"].iloc[0])  # no kindergarten at all
    assert out["gaps"].iloc[0] == 7
    assert out["distance_mode"].iloc[0] == "network"


def test_facility_off_street_and_same_edge():
    net = line_network([0, 1000])
    fac = _facilities([(300, -20)], ["convenience"])  # 20 m off the street
    comm = _communities([shapely.box(500, 5, 540, 40)])
    out = compute_coverage(comm, fac, load_standards(Project()), CoverageConfig(), net).communities
    # both on the single edge: 20 (facility to street) + 200 along + 5 (street to gate)
    assert out["convenience_m"].iloc[0] == pytest.approx(225.0, abs=1e-6)


def test_boundary_access_beats_centroid_on_large_compound():
    # a 400 m compound whose only street runs along its south side; the facility is on that street
    net = line_network([0, 100, 200, 300, 400, 500, 600])
    compound = shapely.box(100, 8, 500, 408)
    fac = _facilities([(150, 0)], ["health_station"])
    out = compute_coverage(_communities([compound]), fac, load_standards(Project()),
                           CoverageConfig(), net).communities  # fmt: skip
    boundary = out["health_station_m"].iloc[0]
    # the centroid approach: snap the centroid (300, 208) to the street, walk from there
    centroid = _communities([shapely.Point(300, 208).buffer(1)])
    via_centroid = compute_coverage(centroid, fac, load_standards(Project()),
                                    CoverageConfig(), net).communities  # fmt: skip
    # outline points every 25 m: one sits at x = 150, straight across the street
    assert boundary == pytest.approx(8.0, abs=1e-6)
    assert via_centroid["health_station_m"].iloc[0] == pytest.approx(207 + 150, abs=1)
    assert out["health_station_ok"].iloc[0]  # within 300 m through the gate
    assert not via_centroid["health_station_ok"].iloc[0]


def test_straight_line_fallback_uses_detour_factor():
    fac = _facilities([(0, 0)], ["market"])
    comm = _communities([shapely.box(300, -50, 400, 50)])
    cfg = CoverageConfig(detour_factor=1.5)
    out = compute_coverage(comm, fac, load_standards(Project()), cfg, None).communities
    assert out["market_m"].iloc[0] == pytest.approx(450.0)
    assert bool(out["market_ok"].iloc[0]) is True
    cfg.detour_factor = 1.8
    out = compute_coverage(comm, fac, load_standards(Project()), cfg, None).communities
    assert out["market_m"].iloc[0] == pytest.approx(540.0)
    assert not out["market_ok"].iloc[0]
    assert out["distance_mode"].iloc[0] == "straight_line"


def test_service_area_follows_the_street_not_a_circle():
    net = line_network([0, 100, 200, 300, 400, 500, 600, 700, 800])
    fac = _facilities([(0, 0)], ["convenience"])
    comm = _communities([shapely.box(900, 10, 950, 60)])
    std = load_standards(Project())
    cfg = CoverageConfig(service_area_buffer_m=20)
    results = compute_coverage(comm, fac, std, cfg, net).categories
    areas = service_areas(net, fac, results, std, cfg, 4548)
    area = areas.loc[areas["category"] == "convenience"].geometry.iloc[0]
    assert area.contains(shapely.Point(290, 0))
    assert not area.contains(shapely.Point(330, 0))  # beyond 300 m + 20 m buffer
    assert not area.contains(shapely.Point(0, 200))  # a circle would contain this
    assert area.area == pytest.approx(320 * 40, rel=0.05)


def test_summary_shares_by_households_and_subdistrict():
    net = line_network([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000])
    fac = _facilities([(0, 0)], ["market"])
    comm = _communities([shapely.box(100, 5, 150, 50), shapely.box(800, 5, 850, 50)], [300, 100])
    comm["subdistrict"] = ["甲街道", "乙街道"]
    project = Project()
    project.coverage.basket = ["market"]
    std = load_standards(project)
    summary = coverage_summary(compute_coverage(comm, fac, std, project.coverage, net), std)
    assert summary["categories"]["market"] == {"communities": 0.5, "households": 0.75}
    assert summary["full_coverage_households"] == 0.75
    assert summary["gap_to_target"] == pytest.approx(0.10)
    assert summary["by_subdistrict"]["乙街道"]["full_coverage_households"] == 0.0
    assert summary["distance_mode"] == "network"


def test_real_osm_extract_distances_agree_with_networkx():
    import pyrosm
    from pyproj import CRS

    from spatial.network.read import _walkable, read_network

    path = pyrosm.get_data("test_pbf")
    net = read_network(__import__("pathlib").Path(path), CRS.from_epsg(32635))
    osm = pyrosm.OSM(path)
    nodes, edges = osm.get_network(network_type="all", nodes=True)
    edges = edges.loc[_walkable(edges)]  # pyrosm reads, the one walking filter (osm_walk.toml)
    graph = nx.Graph()  # built straight from pyrosm's edges and its great-circle lengths
    for u, v, w in edges[["u", "v", "length"]].itertuples(index=False):
        if not graph.has_edge(u, v) or graph[u][v]["length"] > w:
            graph.add_edge(int(u), int(v), length=float(w))
    rng = np.random.default_rng(3)
    picks = rng.choice(net.n_nodes, 5, replace=False)
    e_u = net.edges["u"].to_numpy()
    e_v = net.edges["v"].to_numpy()
    edge = np.array([int(np.flatnonzero((e_u == p) | (e_v == p))[0]) for p in picks])
    along = np.where(e_u[edge] == picks, 0.0, net.edges["length"].to_numpy()[edge])
    ours, _ = multi_source_distances(net, edge, along, np.zeros(5), bound=np.inf)
    sources = {int(net.node_ids[p]) for p in picks}
    theirs = nx.multi_source_dijkstra_path_length(graph, sources, weight="length")
    compared = 0
    for i, osm_id in enumerate(net.node_ids):
        if int(osm_id) in theirs and np.isfinite(ours[i]):
            # UTM vs great-circle edge lengths: agree within 0.5 %
            assert ours[i] == pytest.approx(theirs[int(osm_id)], rel=5e-3, abs=1e-3)
            compared += 1
    assert compared > 500


@pytest.mark.slow
def test_outline_points_match_shapely_interpolation_on_many_rings():
    from spatial.network.access_points import _outline_points

    rng = np.random.default_rng(11)
    # thousands of rings far from the origin: cumulative lengths get large, as in a city
    x = 500_000 + rng.uniform(0, 20_000, 3000)
    y = 4_000_000 + rng.uniform(0, 20_000, 3000)
    w = rng.uniform(20, 300, 3000)
    rings = shapely.get_exterior_ring(shapely.box(x, y, x + w, y + w * rng.uniform(0.3, 2, 3000)))
    ours, ring_of = _outline_points(rings, 25.0)
    counts = np.maximum(np.ceil(shapely.length(rings) / 25.0).astype(int), 4)
    assert np.array_equal(ring_of, np.repeat(np.arange(len(rings)), counts))
    frac = np.concatenate([np.arange(c) / c for c in counts])
    expected = shapely.get_coordinates(
        shapely.line_interpolate_point(rings[ring_of], frac, normalized=True)
    )
    assert np.abs(ours - expected).max() < 1e-6


def test_snapping_is_exact_against_shapely_nearest():
    from spatial.core import settings
    from spatial.network.read import read_network

    net = read_network(settings.DEMO_DIR / "network.osm", __import__("pyproj").CRS.from_epsg(4548))
    rng = np.random.default_rng(5)
    lo, hi = net.node_xy.min(axis=0) - 200, net.node_xy.max(axis=0) + 200
    pts = rng.uniform(lo, hi, (4000, 2))
    edge, along, offset = net.snap(pts)
    truth = shapely.STRtree(net.edges.geometry.values).query_nearest(
        shapely.points(pts), return_distance=True, all_matches=False
    )[1]
    assert np.allclose(offset, truth, atol=1e-6)


def test_snapping_near_a_busy_junction_finds_the_passing_street():
    # 40 short spokes meet at the origin, their ends crowd the k-d tree around the query point;
    # a long street passes 3 m from it, its nearest sample point 10 m away
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    spokes = [[(0, 0), (15 * np.cos(a), 15 * np.sin(a))] for a in angles]
    lines = [*spokes, [(-500, 20), (500, 20)]]
    xy, idx, pairs = [], {}, []
    for line in lines:
        ends = []
        for p in line:
            key = (round(p[0], 6), round(p[1], 6))
            if key not in idx:
                idx[key] = len(xy)
                xy.append(key)
            ends.append(idx[key])
        pairs.append(ends)
    geoms = shapely.linestrings([[xy[a], xy[b]] for a, b in pairs])
    edges = gpd.GeoDataFrame({"u": [a for a, _ in pairs], "v": [b for _, b in pairs], "highway": "x"},
                             geometry=geoms, crs=4548)  # fmt: skip
    edges["length"] = edges.geometry.length
    from spatial.network.graph import StreetNetwork

    net = StreetNetwork(np.array(xy, float), edges, edges.crs)
    edge, along, offset = net.snap(np.array([[10.0, 17.0]]))
    assert edge[0] == 40 and offset[0] == pytest.approx(3.0) and along[0] == pytest.approx(510.0)


def test_far_from_the_network_is_counted_not_hidden():
    net = line_network([0, 100, 200, 300])
    fac = _facilities([(100, 0), (100, 5000)], ["market", "market"])  # the second is 5 km away
    comm = _communities([shapely.box(150, 10, 200, 60), shapely.box(0, 3000, 50, 3050)])
    coverage = compute_coverage(comm, fac, load_standards(Project()), CoverageConfig(), net)
    summary = coverage_summary(coverage, load_standards(Project()))
    assert (coverage.facilities_off_network, coverage.communities_off_network) == (1, 1)
    out = coverage.communities
    assert summary["facilities_off_network"] == 1
    assert summary["communities_off_network"] == 1
    assert np.isnan(out["market_m"].iloc[1])


@pytest.mark.parametrize("where", [None, (100, 5000)])
def test_no_facility_on_the_network_leaves_every_distance_empty(where):
    """No facilities at all, or only one too far from every street: nothing is reachable."""
    net = line_network([0, 100, 200, 300])
    fac = _facilities([where] if where else [], ["market"] if where else [])
    comm = _communities([shapely.box(150, 10, 200, 60)])
    std = load_standards(Project())
    out = compute_coverage(comm, fac, std, CoverageConfig(), net).communities
    assert out[[f"{k}_m" for k in std.categories]].isna().all(axis=None)
    assert (out["market_nearest"] == "").all() and (out["gaps"] == len(std.basket)).all()
