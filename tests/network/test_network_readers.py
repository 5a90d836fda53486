"""The street-network readers: one OSM reader (pyosmium) for .osm / .osm.bz2 / .osm.gz / .osm.pbf,
GraphML (any direction, lon/lat or projected) and road-centreline layers give the same streets and
the same distances; the one walking filter keeps car parks, buildings and foot=no ways off."""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Transformer

from spatial.analysis.bundles.adjacency import barrier_lines
from spatial.analysis.coverage.measure import compute_coverage
from spatial.config.project import BundlingConfig, CoverageConfig
from spatial.config.standards import load_standards
from spatial.core.errors import InputError
from spatial.network.read import _walkable, read_network

FINLAND = CRS.from_epsg(32635)  # the pyrosm test extract (Kotka region)
JINAN = CRS.from_epsg(4548)
#: Hand-placed communities (UTM 35N squares) and facilities inside the pyrosm test extract.
COMMUNITIES = [(496700, 6709700, 60), (497300, 6710400, 80), (497900, 6711000, 60),
               (497500, 6710900, 50), (496400, 6710200, 70)]  # fmt: skip
FACILITIES = [(497000, 6710000), (497700, 6710700), (496800, 6710500)]


def market_distances(net, polygons, points) -> np.ndarray:
    """Per community: walking distance to the nearest of ``points`` (all markets), unbounded."""
    comm = gpd.GeoDataFrame(geometry=list(polygons), crs=net.crs)
    fac = gpd.GeoDataFrame({"name": [f"f{i}" for i in range(len(points))],
                            "category": "market"}, geometry=shapely.points(points), crs=net.crs)  # fmt: skip
    results = compute_coverage(
        comm, fac, load_standards(), CoverageConfig(search_bound_m=1e5), net
    ).categories
    return results["market"].distance


# ---------------------------------------------------------------- the real extract, every format


def _copy_osm(source: Path, target: Path) -> Path:
    import osmium

    writer = osmium.SimpleWriter(str(target))
    for obj in osmium.FileProcessor(str(source)):
        writer.add(obj)
    writer.close()
    return target


def _graphs(pbf: Path) -> dict[str, nx.MultiDiGraph]:
    """OSMnx graphs of the extract's walkable streets, read by pyrosm (an independent reader):
    directed segments, simplified (multi-vertex lines), undirected (lines kept in one direction,
    so many run v→u) and projected to UTM."""
    import osmnx as ox
    import pyrosm

    nodes, edges = pyrosm.OSM(str(pbf)).get_network(network_type="all", nodes=True)
    edges = edges.loc[_walkable(edges)]
    graph = nx.MultiDiGraph(crs="EPSG:4326")
    for i, x, y in nodes[["id", "lon", "lat"]].itertuples(index=False):
        graph.add_node(int(i), x=float(x), y=float(y))
    for u, v, highway, foot, osmid in edges[["u", "v", "highway", "foot", "id"]].itertuples(
        index=False
    ):
        tags = {"highway": highway, "osmid": int(osmid)} | ({"foot": foot} if foot else {})
        graph.add_edge(int(u), int(v), **tags)
        graph.add_edge(int(v), int(u), **tags)
    graph.remove_nodes_from([n for n, d in dict(graph.degree).items() if d == 0])
    simple = ox.simplify_graph(graph, edge_attrs_differ=["highway", "foot"])
    undirected = ox.convert.to_undirected(simple)
    return {"directed": graph, "simplified": simple, "undirected": undirected,
            "projected": ox.project_graph(undirected, to_crs=FINLAND)}  # fmt: skip


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> dict[str, Path]:
    """The pyrosm test extract as .osm.pbf, .osm, .osm.bz2, .osm.gz, four GraphMLs and a GPKG."""
    import osmnx as ox
    import pyrosm

    folder = tmp_path_factory.mktemp("extract")
    pbf = Path(pyrosm.get_data("test_pbf"))
    paths = {"pbf": pbf}
    for key in ("osm", "osm.bz2", "osm.gz"):
        paths[key] = _copy_osm(pbf, folder / f"test.{key}")
    for key, graph in _graphs(pbf).items():
        paths[key] = folder / f"{key}.graphml"
        ox.save_graphml(graph, paths[key])
    nodes, edges = pyrosm.OSM(str(pbf)).get_network(network_type="all", nodes=True)
    lines = edges.loc[_walkable(edges), ["name", "geometry"]]  # a planner's street layer
    paths["gpkg"] = folder / "streets.gpkg"
    lines.to_crs(4326).to_file(paths["gpkg"], driver="GPKG")
    return paths


@pytest.fixture(scope="module")
def reference(extract):
    net = read_network(extract["pbf"], FINLAND)
    polygons = [shapely.box(x, y, x + s, y + s) for x, y, s in COMMUNITIES]
    dist = market_distances(net, polygons, FACILITIES)
    return net, polygons, dist


@pytest.mark.slow
def test_pbf_reference_distances_are_real(reference):
    net, _, dist = reference
    assert net.n_nodes > 900 and np.isfinite(dist).all()
    assert dist.min() > 50 and dist.max() < 3000


@pytest.mark.parametrize(
    "key", ["osm", "osm.bz2", "osm.gz", "directed", "simplified", "undirected", "projected", "gpkg"]
)
@pytest.mark.slow
def test_every_format_gives_the_same_distances(extract, reference, key):
    ref_net, polygons, expected = reference
    net = read_network(extract[key], FINLAND)
    assert net.edges["length"].sum() == pytest.approx(ref_net.edges["length"].sum(), abs=0.5)
    assert np.abs(market_distances(net, polygons, FACILITIES) - expected).max() <= 0.1


def test_osm_xml_and_pbf_are_the_same_graph(extract, reference):
    ref_net = reference[0]
    net = read_network(extract["osm"], FINLAND)
    assert np.array_equal(net.node_ids, ref_net.node_ids)
    assert np.allclose(net.node_xy, ref_net.node_xy, atol=1e-6)
    assert len(net.edges) == len(ref_net.edges)


def test_walking_filter_on_the_extract(reference):
    """Cycleways count only with a foot permission; motorways and private service roads never."""
    import pyrosm

    _, edges = pyrosm.OSM(pyrosm.get_data("test_pbf")).get_network(network_type="all", nodes=True)
    walked = _walkable(edges)
    foot = edges["foot"].fillna("")
    cycle = (edges["highway"] == "cycleway").to_numpy()
    assert walked[cycle & (foot == "yes").to_numpy()].all()
    assert not walked[cycle & (foot == "").to_numpy()].any()
    assert not walked[edges["highway"].str.startswith("motorway").to_numpy()].any()
    assert not walked[(edges["access"] == "private").to_numpy()].any()
    assert set(reference[0].edges["highway"]) >= {"cycleway", "footway", "residential"}


# ------------------------------------------------------------------- hand-built OSM XML cases


def _write_osm(path: Path, nodes: dict[int, tuple[float, float]], ways: list[tuple[list[int], dict]],
               crs: CRS = JINAN) -> Path:  # fmt: skip
    """An OSM XML file from metric node coordinates (written as lon/lat to 7 decimals)."""
    to_wgs = Transformer.from_crs(crs, 4326, always_xy=True)
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (x, y) in nodes.items():
        lon, lat = to_wgs.transform(x + 500_000, y + 4_060_000)
        out.append(f'  <node id="{nid}" version="1" lat="{lat:.7f}" lon="{lon:.7f}"/>')
    for wid, (refs, tags) in enumerate(ways, start=1):
        out.append(f'  <way id="{wid}" version="1">')
        out += [f'    <nd ref="{r}"/>' for r in refs]
        out += [f"    <tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items()]
        out.append("  </way>")
    path.write_text("\n".join([*out, "</osm>"]) + "\n", encoding="utf-8")
    return path


def _local(x0: float, y0: float, x1: float, y1: float):
    return shapely.box(x0 + 500_000, y0 + 4_060_000, x1 + 500_000, y1 + 4_060_000)


def _at(*xy: tuple[float, float]) -> np.ndarray:
    return np.array([(x + 500_000, y + 4_060_000) for x, y in xy], float)


#: A street 1–2–3 along y = 0 and a closed outline 3–4–5–6–3 beside its end, sharing node 3.
STREET_AND_OUTLINE = {
    1: (0, 0),
    2: (100, 0),
    3: (200, 0),
    4: (200, 100),
    5: (300, 100),
    6: (300, 0),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    "tags",
    [{"amenity": "parking"}, {"building": "yes"}, {"landuse": "grass"},
     {"highway": "service", "foot": "no"}, {"highway": "service", "access": "private"},
     {"highway": "pedestrian", "area": "yes"}, {"highway": "service", "service": "private"}],
)  # fmt: skip
def test_an_outline_that_is_not_a_walkable_street_is_not_walked(tmp_path, tags):
    path = _write_osm(tmp_path / "a.osm", STREET_AND_OUTLINE,
                      [([1, 2, 3], {"highway": "residential"}), ([3, 4, 5, 6, 3], tags)])  # fmt: skip
    net = read_network(path, JINAN)
    assert net.n_nodes == 3 and net.edges["length"].sum() == pytest.approx(200, abs=0.05)
    # the community beside the outline's far corner walks straight to the street's end (node 3)
    dist = market_distances(net, [_local(290, 90, 310, 110)], _at((0, -10)))
    assert dist[0] == pytest.approx(np.hypot(90, 90) + 200 + 10, abs=0.05)


def test_a_walkable_outline_is_walked(tmp_path):
    """The control: the same outline as a footway is walked (the test above can fail)."""
    path = _write_osm(tmp_path / "a.osm", STREET_AND_OUTLINE,
                      [([1, 2, 3], {"highway": "residential"}),
                       ([3, 4, 5, 6, 3], {"highway": "footway"})])  # fmt: skip
    net = read_network(path, JINAN)
    assert net.n_nodes == 6
    dist = market_distances(net, [_local(290, 90, 310, 110)], _at((0, -10)))
    assert dist[0] == pytest.approx(200 + 200 + 10, abs=0.05)  # node 5 (inside) → 6 → 3 → 1


def test_a_clipped_way_keeps_its_present_parts(tmp_path):
    """Way 1 references node 99, missing from the extract: 1–2 and 3–4 stay, 2–99–3 goes."""
    nodes = {1: (0, 0), 2: (100, 0), 3: (300, 0), 4: (400, 0), 5: (200, 80)}
    path = _write_osm(tmp_path / "clip.osm", nodes,
                      [([1, 2, 99, 3, 4], {"highway": "residential"}),
                       ([2, 5, 3], {"highway": "footway"})])  # fmt: skip
    net = read_network(path, JINAN)
    assert sorted(net.node_ids) == [1, 2, 3, 4, 5]
    detour = 2 * np.hypot(100, 80)
    assert net.edges["length"].sum() == pytest.approx(200 + detour, abs=0.05)
    dist = market_distances(net, [_local(-30, -10, -10, 10)], _at((400, -10)))
    assert dist[0] == pytest.approx(10 + 100 + detour + 100 + 10, abs=0.05)


@pytest.mark.parametrize("cut", ["test.osm", "test.osm.pbf"])
def test_a_truncated_osm_file_is_one_clear_error(extract, tmp_path, cut):
    source = extract["osm"] if cut.endswith(".osm") else extract["pbf"]
    data = source.read_bytes()
    (tmp_path / cut).write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=rf"{cut}: cannot read the OSM file, truncated or corrupt"):
        read_network(tmp_path / cut, FINLAND)


def test_a_truncated_osm_file_exits_2_from_the_command_line(small_project, run_cli, extract):
    data = extract["osm"].read_bytes()
    (small_project.parent / "cut.osm").write_bytes(data[:100_000])
    text = small_project.read_text("utf-8") + '[network]\npath = "cut.osm"\n'
    small_project.write_text(text, "utf-8")
    code, _, err = run_cli(
        "coverage", "--config", small_project, "--out", small_project.parent / "o"
    )
    assert code == 2 and "cut.osm" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------- GraphML


def test_graphml_lines_running_v_to_u_give_the_hand_computed_distance(tmp_path):
    """An undirected, projected graph: edge 1–2 (A–B) is stored from B to A via a bend."""
    import osmnx as ox

    graph = nx.MultiGraph(crs="EPSG:4548")
    for name, (x, y) in {1: (0, 0), 2: (300, 0), 3: (300, 200)}.items():
        graph.add_node(name, x=x + 500_000.0, y=y + 4_060_000.0)
    bend = shapely.LineString(_at((300, 0), (150, 80), (0, 0)))
    graph.add_edge(1, 2, highway="residential", geometry=bend)
    graph.add_edge(2, 3, highway="residential")
    ox.save_graphml(graph, tmp_path / "g.graphml")
    net = read_network(tmp_path / "g.graphml", JINAN)
    assert net.edges["length"].sum() == pytest.approx(340 + 200, abs=1e-6)
    dist = market_distances(net, [_local(290, 190, 310, 210)], _at((0, -5)))
    assert dist[0] == pytest.approx(200 + 340 + 5, abs=1e-6)  # C → B → along the bend → A


# ------------------------------------------------------------------ road-centreline layers


def test_chinese_road_classes(tmp_path):
    """快速路 is not walked; 主干路 is walked and a barrier; 支路 is walked and not a barrier."""
    lines = gpd.GeoDataFrame(
        {"道路等级": ["快速路", "支路", "支路", "主干路"]},
        geometry=[shapely.LineString(_at((-100, 0), (400, 0), (500, 0))),
                  shapely.LineString(_at((0, 100), (400, 100))),
                  shapely.LineString(_at((400, 100), (400, 0), (400, -100))),
                  shapely.LineString(_at((400, -100), (0, -100)))],
        crs=JINAN,
    )  # fmt: skip
    lines.to_file(tmp_path / "roads.gpkg")
    net = read_network(tmp_path / "roads.gpkg", JINAN)
    assert set(net.edges["highway"]) == {"tertiary", "primary"}
    assert net.edges["length"].sum() == pytest.approx(400 + 200 + 400)
    # walking on the expressway would give 10 + 380 + 100 + 400 + 10 = 900 m
    dist = market_distances(net, [_local(0, 10, 20, 30)], _at((0, -110)))
    assert dist[0] == pytest.approx(70 + 380 + 200 + 400 + 10, abs=1e-6)
    barriers = barrier_lines(net, BundlingConfig(), JINAN)
    assert shapely.length(barriers).sum() == pytest.approx(400)  # the 主干路 only


def test_road_class_column_and_unknown_values(tmp_path):
    lines = gpd.GeoDataFrame(
        {"FCLASS": ["motorway", "footway", "某种道路"]},
        geometry=[shapely.LineString(_at((0, 0), (100, 0))),
                  shapely.LineString(_at((100, 0), (200, 0))),
                  shapely.LineString(_at((200, 0), (300, 0)))],
        crs=JINAN,
    )  # fmt: skip
    lines.to_file(tmp_path / "roads.gpkg")
    net = read_network(tmp_path / "roads.gpkg", JINAN)
    assert sorted(net.edges["highway"]) == ["footway", "某种道路"]


def test_osm_layers_come_from_the_same_reader(extract):
    from spatial.inputs.osm import osm_layer

    fac = osm_layer(extract["osm.bz2"], "facilities")
    # the school's outline is clipped by the extract: it stays, at the centre of its present nodes
    assert {"kindergarten", "nursery", "convenience", "primary_school"} <= set(fac["category"])
    comm = osm_layer(extract["pbf"], "communities")
    same = osm_layer(extract["osm"], "communities")
    assert len(comm) == 17 and (comm.geom_type.isin(["Polygon", "MultiPolygon"])).all()
    assert pd.Series(comm["osm_id"]).str.startswith(("way/", "relation/")).all()
    assert np.allclose(comm.area, same.area)
