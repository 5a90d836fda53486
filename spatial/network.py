"""The walking network: read from OSM XML / PBF / GraphML into arrays for sparse shortest paths."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from .errors import InputError

#: Spacing of the sample points used to find candidate edges when snapping, and how many.
SAMPLE_STEP_M = 20.0
SNAP_CANDIDATES = 6

#: Highway classes people cannot walk along.
NOT_WALKABLE = {"motorway", "motorway_link", "trunk", "trunk_link", "construction", "proposed"}


@dataclass
class StreetNetwork:
    """An undirected walking network in a metric CRS.

    Attributes
    ----------
    node_xy : (n, 2) array of node coordinates.
    edges : GeoDataFrame with ``u``, ``v`` (node positions), ``length`` (m), ``highway`` and a
        LineString geometry from node ``u`` to node ``v``.
    """

    node_xy: np.ndarray
    edges: gpd.GeoDataFrame
    crs: CRS
    source: str = ""
    dropped_nodes: int = 0
    node_ids: np.ndarray | None = None  # OSM ids where known

    @property
    def n_nodes(self) -> int:
        return len(self.node_xy)

    def adjacency(self, extra_nodes: int = 0) -> sparse.csr_matrix:
        """Symmetric CSR matrix of edge lengths, with room for ``extra_nodes`` virtual nodes."""
        n = self.n_nodes + extra_nodes
        rows, cols, data = self._base_coo
        return sparse.csr_matrix((data, (rows, cols)), shape=(n, n))

    @cached_property
    def _base_coo(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        u = self.edges["u"].to_numpy()
        v = self.edges["v"].to_numpy()
        w = np.maximum(self.edges["length"].to_numpy(float), 1e-6)
        return np.r_[u, v], np.r_[v, u], np.r_[w, w]

    @cached_property
    def _samples(self) -> tuple[cKDTree, np.ndarray]:
        """Points every ``SAMPLE_STEP_M`` along every edge (ends included), for nearest-edge look-ups."""
        geoms = self.edges.geometry.values
        counts = np.ceil(shapely.length(geoms) / SAMPLE_STEP_M).astype(int) + 1
        edge_of = np.repeat(np.arange(len(geoms)), counts)
        first = np.repeat(np.cumsum(counts) - counts, counts)
        frac = (np.arange(counts.sum()) - first) / np.repeat(np.maximum(counts - 1, 1), counts)
        pts = shapely.get_coordinates(
            shapely.line_interpolate_point(geoms[edge_of], frac, normalized=True)
        )
        return cKDTree(pts), edge_of

    def snap(self, points: np.ndarray, max_distance: float | None = None):
        """Snap points to the nearest edge.

        Candidate edges come from the nearest sample points along the edges (a k-d tree); the
        exact distance to each candidate decides. Returns
        -------
        edge : int array (−1 where nothing is within ``max_distance``)
        along : distance from the edge's ``u`` end along the edge (m, scaled to ``length``)
        offset : straight distance from the point to the edge (m)
        """
        n = len(points)
        edge = np.full(n, -1, dtype=np.int64)
        along = np.zeros(n)
        offset = np.full(n, np.inf)
        if n == 0:
            return edge, along, offset
        tree, edge_of = self._samples
        k = min(SNAP_CANDIDATES, tree.n)
        _, idx = tree.query(points, k=k)
        cand = edge_of[idx.reshape(n, k)]
        geoms = np.asarray(self.edges.geometry.values)
        pts = shapely.points(points)
        dist = shapely.distance(geoms[cand], pts[:, None])
        best = np.argmin(dist, axis=1)
        chosen = cand[np.arange(n), best]
        off = dist[np.arange(n), best]
        ok = off <= (np.inf if max_distance is None else max_distance)
        edge[ok] = chosen[ok]
        offset[ok] = off[ok]
        g = geoms[edge[ok]]
        scale = self.edges["length"].to_numpy(float)[edge[ok]] / np.maximum(shapely.length(g), 1e-9)
        along[ok] = shapely.line_locate_point(g, pts[ok]) * scale
        return edge, along, offset


def _walkable(edges: pd.DataFrame) -> np.ndarray:
    highway = edges.get("highway", pd.Series("", index=edges.index)).astype(str)
    foot = edges.get("foot", pd.Series("", index=edges.index)).astype(str)
    return ~highway.isin(NOT_WALKABLE).to_numpy() & (foot != "no").to_numpy()


def _build(nodes: pd.DataFrame, edges: gpd.GeoDataFrame, metric: CRS, source: str) -> StreetNetwork:
    """From WGS84 node lon/lat (index = OSM id) and edges (u, v ids) to a StreetNetwork."""
    edges = edges.loc[_walkable(edges)]
    edges = edges.loc[edges["u"].isin(nodes.index) & edges["v"].isin(nodes.index)]
    edges = edges.loc[edges["u"] != edges["v"]]
    if len(edges) == 0:
        raise InputError("the network has no walkable streets", path=source)
    used = pd.Index(np.unique(np.r_[edges["u"].to_numpy(), edges["v"].to_numpy()]))
    pts = gpd.GeoSeries(
        gpd.points_from_xy(nodes.loc[used, "x"], nodes.loc[used, "y"]), crs="EPSG:4326"
    ).to_crs(metric)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    u = used.get_indexer(edges["u"])
    v = used.get_indexer(edges["v"])
    geom = gpd.GeoSeries(edges.geometry.values, crs="EPSG:4326").to_crs(metric).values
    frame = gpd.GeoDataFrame(
        {"u": u, "v": v, "highway": edges["highway"].astype(str).to_numpy()},
        geometry=geom,
        crs=metric,
    )
    frame["length"] = frame.geometry.length
    frame = _dedupe(frame)
    return _largest_component(xy, frame, metric, source, used.to_numpy())


def _dedupe(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    a = np.minimum(frame["u"], frame["v"])
    b = np.maximum(frame["u"], frame["v"])
    order = frame.assign(_a=a, _b=b).sort_values(["_a", "_b", "length"])
    return order.drop_duplicates(["_a", "_b"]).drop(columns=["_a", "_b"]).reset_index(drop=True)


def _largest_component(xy, frame, metric, source, ids) -> StreetNetwork:
    n = len(xy)
    adj = sparse.coo_matrix((np.ones(len(frame)), (frame["u"], frame["v"])), shape=(n, n))
    _, labels = csgraph.connected_components(adj, directed=False)
    main = np.bincount(labels).argmax()
    keep = labels == main
    remap = np.cumsum(keep) - 1
    frame = frame.loc[keep[frame["u"].to_numpy()]].copy()
    frame["u"] = remap[frame["u"].to_numpy()]
    frame["v"] = remap[frame["v"].to_numpy()]
    dropped = int((~keep).sum())
    return StreetNetwork(xy[keep], frame.reset_index(drop=True), metric, source, dropped, ids[keep])


def _from_osmnx_graph(graph, metric: CRS, source: str) -> StreetNetwork:
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(graph)
    edges = edges.reset_index()
    edges["highway"] = edges["highway"].map(lambda h: h[0] if isinstance(h, list) else h)
    if "foot" in edges:
        edges["foot"] = edges["foot"].map(lambda f: f[0] if isinstance(f, list) else f)
    return _build(nodes[["x", "y"]], edges, metric, source)


def _from_pbf(path: Path, metric: CRS) -> StreetNetwork:
    import pyrosm

    nodes, edges = pyrosm.OSM(str(path)).get_network(network_type="walking", nodes=True)
    if edges is None or len(edges) == 0:
        raise InputError("no walkable streets in the OSM extract", path=path)
    nodes = pd.DataFrame({"x": nodes["lon"], "y": nodes["lat"]}).set_index(nodes["id"])
    return _build(nodes, edges, metric, str(path))


_CLASS_COLUMNS = ("highway", "fclass", "class", "道路等级", "等级", "kind", "type")


def _from_lines(path: Path, metric: CRS) -> StreetNetwork:
    """A road-centreline layer (GPKG/SHP/GeoJSON): lines joined where they share a vertex."""
    lines = gpd.read_file(path, engine="pyogrio")
    if lines.crs is None:
        raise InputError("the road layer has no CRS; add a .prj or convert it", path=path)
    lines = lines.loc[lines.geometry.notna() & ~lines.geometry.is_empty].to_crs(metric)
    kinds = set(lines.geometry.geom_type)
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError(f"the road layer must hold lines, not {sorted(kinds)}", path=path)
    column = next((c for c in _CLASS_COLUMNS if c in lines.columns), None)
    highway = lines[column].astype(str).to_numpy() if column else np.full(len(lines), "road")
    parts, part_of = shapely.get_parts(lines.geometry.values, return_index=True)
    coords, line_of = shapely.get_coordinates(parts, return_index=True)
    same = line_of[1:] == line_of[:-1]
    key = np.round(coords, 2)
    uniq, node_of = np.unique(key, axis=0, return_inverse=True)
    node_of = node_of.ravel()
    first = np.flatnonzero(same)
    u, v = node_of[first], node_of[first + 1]
    geoms = shapely.linestrings(np.stack([coords[first], coords[first + 1]], axis=1))
    frame = gpd.GeoDataFrame(
        {"u": u, "v": v, "highway": highway[part_of[line_of[first]]]}, geometry=geoms, crs=metric
    )
    frame = frame.loc[frame["u"] != frame["v"]]
    frame = frame.loc[_walkable(frame)]
    frame["length"] = frame.geometry.length
    return _largest_component(uniq, _dedupe(frame), metric, str(path), np.arange(len(uniq)))


def read_network(path: Path, metric: CRS) -> StreetNetwork:
    """Read a walking network from ``.osm``/``.xml``, ``.osm.pbf``, ``.graphml`` or a road-line
    layer (``.gpkg``, ``.shp``, ``.geojson``: lines joined where they share a vertex)."""
    if not path.exists():
        raise InputError("network file not found; check [network] path", path=path)
    name = path.name.lower()
    try:
        if name.endswith(".pbf"):
            return _from_pbf(path, metric)
        import osmnx as ox

        if name.endswith(".graphml"):
            return _from_osmnx_graph(ox.load_graphml(path), metric, str(path))
        if name.endswith((".gpkg", ".shp", ".geojson", ".json", ".fgb")):
            return _from_lines(path, metric)
        if name.endswith((".osm", ".xml", ".osm.bz2")):
            graph = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=True)
            return _from_osmnx_graph(graph, metric, str(path))
    except (ValueError, KeyError, OSError) as exc:
        raise InputError(f"cannot read the network ({exc})", path=path) from None
    raise InputError("network must be .osm, .osm.pbf, .graphml or a road-line layer", path=path)


def download_network(place: str, metric: CRS) -> StreetNetwork:
    """Download the walking network of ``place`` through osmnx (needs the internet)."""
    import osmnx as ox

    try:
        graph = ox.graph_from_place(place, network_type="walk", simplify=False)
    except Exception as exc:  # noqa: BLE001 - any network/geocoder failure is one message
        raise InputError(f"could not download '{place}' from OSM ({exc}); work offline with "
                         "[network] path") from None  # fmt: skip
    return _from_osmnx_graph(graph, metric, f"osm:{place}")


def multi_source_distances(
    net: StreetNetwork, edge: np.ndarray, along: np.ndarray, offset: np.ndarray, bound: float
) -> tuple[np.ndarray, np.ndarray]:
    """One multi-source Dijkstra from snapped sources to every node, bounded by ``bound``.

    Each source becomes a virtual node with one-way links to both ends of its edge (weighted by
    the off-street distance plus the distance along the edge), so a single ``min_only`` pass gives
    each node's distance to its nearest source and which source that is.

    Returns
    -------
    dist : (n_nodes,) metres, ``inf`` beyond ``bound``
    source : (n_nodes,) index into the sources, −1 where unreached
    """
    n = net.n_nodes
    k = len(edge)
    if k == 0:
        return np.full(n, np.inf), np.full(n, -1)
    length = net.edges["length"].to_numpy(float)[edge]
    u = net.edges["u"].to_numpy()[edge]
    v = net.edges["v"].to_numpy()[edge]
    virt = n + np.arange(k)
    w_u = np.maximum(offset + along, 1e-6)
    w_v = np.maximum(offset + (length - along), 1e-6)
    base_rows, base_cols, base_data = net._base_coo
    rows = np.r_[base_rows, virt, virt]
    cols = np.r_[base_cols, u, v]
    data = np.r_[base_data, w_u, w_v]
    graph = sparse.csr_matrix((data, (rows, cols)), shape=(n + k, n + k))
    dist, _, src = csgraph.dijkstra(
        graph, directed=True, indices=virt, limit=bound, min_only=True, return_predecessors=True
    )
    src = np.where(src >= n, src - n, -1)
    return dist[:n], src[:n]
