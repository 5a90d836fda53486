"""The walking network: read from OSM XML / PBF / GraphML into arrays for sparse shortest paths."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pykdtree.kdtree import KDTree
from pyproj import CRS
from scipy import sparse
from scipy.sparse import csgraph

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

    @cached_property
    def _base_csr(self) -> sparse.csr_matrix:
        """The street graph as a sparse matrix, both directions."""
        u = self.edges["u"].to_numpy()
        v = self.edges["v"].to_numpy()
        w = np.maximum(self.edges["length"].to_numpy(float), 1e-6)
        shape = (self.n_nodes, self.n_nodes)
        return sparse.csr_matrix((np.r_[w, w], (np.r_[u, v], np.r_[v, u])), shape=shape)

    @cached_property
    def node_tree(self) -> shapely.STRtree:
        """Spatial index of the nodes (as points)."""
        return shapely.STRtree(shapely.points(self.node_xy))

    @cached_property
    def _segments(self) -> dict[str, np.ndarray]:
        """Every straight segment of every edge, with a k-d tree of points sampled along them.

        A segment of length ``L`` gets ``ceil(L / SAMPLE_STEP_M)`` samples (at least one) at the
        middles of equal parts, so every point of it lies within half a step of one of its own
        samples, and samples never pile up at junctions.
        """
        geoms = np.asarray(self.edges.geometry.values)
        coords, owner = shapely.get_coordinates(geoms, return_index=True)
        pair = np.flatnonzero(owner[1:] == owner[:-1])
        a, b, edge = coords[pair], coords[pair + 1], owner[pair]
        ab = b - a
        seg_len = np.hypot(*ab.T)
        run = np.cumsum(seg_len)
        edge_start = np.r_[0, np.flatnonzero(np.diff(edge)) + 1]
        before = np.repeat(
            run[edge_start] - seg_len[edge_start], np.diff(np.r_[edge_start, len(edge)])
        )
        counts = np.maximum(np.ceil(seg_len / SAMPLE_STEP_M).astype(np.int64), 1)
        seg_of = np.repeat(np.arange(len(pair)), counts)
        part = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        t = (part + 0.5) / counts[seg_of]
        samples = a[seg_of] + t[:, None] * ab[seg_of]
        geom_len = np.bincount(edge, weights=seg_len, minlength=len(geoms))
        scale = self.edges["length"].to_numpy(float) / np.maximum(geom_len, 1e-9)
        inv_len2 = 1.0 / np.maximum(seg_len * seg_len, 1e-18)
        return {"tree": KDTree(samples), "n_samples": len(samples), "seg_of": seg_of, "ax": a[:, 0].copy(),
                "ay": a[:, 1].copy(), "abx": ab[:, 0].copy(), "aby": ab[:, 1].copy(),
                "inv_len2": inv_len2, "edge": edge, "len": seg_len,
                "start": run - seg_len - before, "scale": scale}  # fmt: skip

    def _nearest_segments(self, points: np.ndarray, k: int):
        """Nearest segment of each point: (segment, distance, position 0-1 along it).

        Exact: every segment has one of its own samples within its distance + half the sample
        step, so when the k-th nearest sample is farther than the best distance + half a step no
        segment was missed; points where that does not hold are looked up again with more
        candidates.
        """
        seg = self._segments
        n = len(points)
        far, idx = seg["tree"].query(np.ascontiguousarray(points), k=k)
        far, idx = far.reshape(n, k), idx.reshape(n, k).astype(np.int64)
        cand = seg["seg_of"][idx]
        abx, aby = seg["abx"][cand], seg["aby"][cand]
        rx = points[:, :1] - seg["ax"][cand]
        ry = points[:, 1:] - seg["ay"][cand]
        t = rx * abx
        t += ry * aby
        t *= seg["inv_len2"][cand]
        np.clip(t, 0, 1, out=t)
        rx -= t * abx
        ry -= t * aby
        rx *= rx
        ry *= ry
        rx += ry  # squared distance to each candidate
        best = np.argmin(rx, axis=1)
        rows = np.arange(n)
        chosen, off, tb = cand[rows, best], np.sqrt(rx[rows, best]), t[rows, best]
        unsure = np.flatnonzero(far[:, -1] <= off + SAMPLE_STEP_M / 2)
        if len(unsure) and k < seg["n_samples"]:
            again = self._nearest_segments(points[unsure], min(2 * k, seg["n_samples"]))
            chosen[unsure], off[unsure], tb[unsure] = again
        return chosen, off, tb

    def snap(self, points: np.ndarray, max_distance: float | None = None):
        """Snap points to the nearest edge.

        Candidate segments come from the nearest sample points along the streets (a k-d tree);
        the exact projection onto each candidate decides (see ``_nearest_segments``).

        Returns
        -------
        edge : int array (−1 where nothing is within ``max_distance``)
        along : distance from the edge's ``u`` end along the edge (m, scaled to ``length``)
        offset : straight distance from the point to the edge (m)
        """
        points = np.asarray(points, float).reshape(-1, 2)
        n = len(points)
        edge = np.full(n, -1, dtype=np.int64)
        along = np.zeros(n)
        offset = np.full(n, np.inf)
        if n == 0 or len(self.edges) == 0:
            return edge, along, offset
        seg = self._segments
        chosen, off, tb = self._nearest_segments(points, min(SNAP_CANDIDATES, seg["n_samples"]))
        ok = off <= (np.inf if max_distance is None else max_distance)
        e = seg["edge"][chosen]
        edge[ok] = e[ok]
        offset[ok] = off[ok]
        along[ok] = ((seg["start"][chosen] + tb * seg["len"][chosen]) * seg["scale"][e])[ok]
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


def source_graph(
    net: StreetNetwork, edge: np.ndarray, along: np.ndarray, offset: np.ndarray
) -> sparse.csr_matrix:
    """The street graph plus one virtual node per snapped source (node ``n_nodes + i``), linked
    one-way to both ends of its edge by the off-street distance plus the distance along the edge.
    Virtual nodes have no way in, so no path passes through another source. (Built by appending
    rows to the cached street matrix: a source on a loop edge gets one link, the shorter.)"""
    base = net._base_csr
    n, k = net.n_nodes, len(edge)
    length = net.edges["length"].to_numpy(float)[edge]
    u = net.edges["u"].to_numpy()[edge]
    v = net.edges["v"].to_numpy()[edge]
    to_u = np.maximum(offset + along, 1e-6)
    to_v = np.maximum(offset + length - along, 1e-6)
    loop = u == v
    to_u[loop] = np.minimum(to_u[loop], to_v[loop])
    both = np.column_stack([u, v]), np.column_stack([to_u, to_v])
    keep = np.column_stack([np.ones(k, bool), ~loop])
    indptr = np.r_[base.indptr, base.indptr[-1] + np.cumsum(keep.sum(axis=1))]
    indices = np.r_[base.indices, both[0][keep]]
    data = np.r_[base.data, both[1][keep]]
    return sparse.csr_matrix((data, indices, indptr), shape=(n + k, n + k))


def nearest_source(
    graph: sparse.csr_matrix, n_nodes: int, sources: np.ndarray, bound: float
) -> tuple[np.ndarray, np.ndarray]:
    """One ``min_only`` Dijkstra pass from the virtual nodes of ``sources`` (indices into the
    sources of ``graph``): each street node's distance to, and index of, its nearest source."""
    if len(sources) == 0:
        return np.full(n_nodes, np.inf), np.full(n_nodes, -1)
    dist, _, src = csgraph.dijkstra(
        graph, directed=True, indices=n_nodes + sources, limit=bound, min_only=True,
        return_predecessors=True,
    )  # fmt: skip
    src = np.where(src >= n_nodes, src - n_nodes, -1)
    return dist[:n_nodes], src[:n_nodes]


def multi_source_distances(
    net: StreetNetwork, edge: np.ndarray, along: np.ndarray, offset: np.ndarray, bound: float
) -> tuple[np.ndarray, np.ndarray]:
    """One multi-source Dijkstra from snapped sources to every node, bounded by ``bound``.

    Returns
    -------
    dist : (n_nodes,) metres, ``inf`` beyond ``bound``
    source : (n_nodes,) index into the sources, −1 where unreached
    """
    graph = source_graph(net, edge, along, offset)
    return nearest_source(graph, net.n_nodes, np.arange(len(edge)), bound)
