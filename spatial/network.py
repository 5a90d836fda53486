"""The walking network: read from OSM XML / PBF / GraphML into arrays for sparse shortest paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pykdtree.kdtree import KDTree
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from shapely.ops import substring

from .errors import InputError
from .osm import read_street_ways, road_classes, walk_filter
from .problems import Problem, problem

#: Spacing of the sample points used to find candidate edges when snapping, and how many.
SAMPLE_STEP_M = 20.0
SNAP_CANDIDATES = 6


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
    problems: list[Problem] = field(default_factory=list)  # e.g. ways clipped by the extract

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

    def with_virtual_sources(
        self, owner: np.ndarray, node: np.ndarray, extra: np.ndarray, n_sources: int
    ) -> sparse.csr_matrix:
        """The street graph plus ``n_sources`` virtual nodes (node ``n_nodes + i`` is source
        ``i``), each linked one-way to street nodes.

        Parameters
        ----------
        owner : (k,) int array
            The source of each link (``0 … n_sources - 1``); links may come in any order.
        node : (k,) int array
            The street node each link leads to.
        extra : (k,) float array
            Each link's length in metres (at least 1e-6 is kept, so a zero link still counts).
        n_sources : int
            Number of virtual nodes; a source without links is isolated.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``(n_nodes + n_sources)`` square. Virtual nodes have no way in, so no path passes
            through another source. Built by appending rows to the cached street matrix.
        """
        base = self._base_csr
        order = np.argsort(owner, kind="stable")
        per_source = np.bincount(owner, minlength=n_sources)
        size = self.n_nodes + n_sources
        return sparse.csr_matrix(
            (
                np.r_[base.data, np.maximum(np.asarray(extra, float)[order], 1e-6)],
                np.r_[base.indices, np.asarray(node)[order]],
                np.r_[base.indptr, base.indptr[-1] + np.cumsum(per_source)],
            ),
            shape=(size, size),
        )

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
        return {
            "tree": KDTree(samples),
            "n_samples": len(samples),
            "seg_of": seg_of,
            "ax": a[:, 0].copy(),
            "ay": a[:, 1].copy(),
            "abx": ab[:, 0].copy(),
            "aby": ab[:, 1].copy(),
            "inv_len2": inv_len2,
            "edge": edge,
            "len": seg_len,
            "start": run - seg_len - before,
            "scale": scale,
        }

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
    """The one walking filter (``osm_walk.toml``) applied to edge tag columns (absent = untagged)."""
    rules = walk_filter()
    cols = [k for k in rules.keys if k in edges]
    if "highway" not in cols:
        return np.ones(len(edges), bool)
    tags = edges[cols].map(_first).astype(object)
    tags = tags.where(tags.notna(), None)
    return np.fromiter(
        (rules.walkable(dict(zip(cols, row, strict=True))) for row in tags.itertuples(index=False)),
        bool,
        len(edges),
    )


def _first(value: object) -> object:
    """OSMnx keeps merged tags as lists: the first value stands for the edge."""
    return value[0] if isinstance(value, list) and value else value


def _assemble(
    xy: np.ndarray,
    ids: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    highway: np.ndarray,
    geoms: np.ndarray,
    metric: CRS,
    source: str,
) -> StreetNetwork:
    """Node coordinates and edges (u→v geometries, metric CRS) to a connected StreetNetwork:
    identical duplicates dropped, differing parallel edges and loops split so that every node
    pair has one edge (the sparse graph holds one weight per pair), largest component kept."""
    frame = gpd.GeoDataFrame({"u": u, "v": v, "highway": highway}, geometry=geoms, crs=metric)
    frame["length"] = shapely.length(geoms)
    frame = frame.loc[frame["length"] > 0]
    if len(frame) == 0:
        raise InputError("err_no_walkable", path=source)
    xy, ids, frame = _split_parallel(xy, ids, frame)
    return _largest_component(xy, frame, metric, source, ids)


def _split_parallel(xy, ids, frame):
    """Drop exact duplicates; split a loop in thirds and a second, different edge between the
    same two nodes in halves (new nodes get id −1), so shortest paths keep every street."""
    a = np.minimum(frame["u"], frame["v"]).to_numpy()
    b = np.maximum(frame["u"], frame["v"]).to_numpy()
    frame = frame.assign(_a=a, _b=b, _l=frame["length"].round(3))
    frame = frame.sort_values(["_a", "_b", "length"]).drop_duplicates(["_a", "_b", "_l"])
    extra = frame.duplicated(["_a", "_b"]).to_numpy() | (frame["u"] == frame["v"]).to_numpy()
    frame = frame.drop(columns=["_a", "_b", "_l"])
    if not extra.any():
        return xy, ids, frame.reset_index(drop=True)
    keep, split = frame.loc[~extra], frame.loc[extra]
    pieces, new_xy = [], []
    n = len(xy)
    for row in split.itertuples(index=False):
        cuts = (1 / 3, 2 / 3) if row.u == row.v else (0.5,)
        ends = [row.u, *range(n, n + len(cuts)), row.v]
        bounds = (0.0, *cuts, 1.0)
        for k in range(len(cuts) + 1):
            line = substring(row.geometry, bounds[k], bounds[k + 1], normalized=True)
            pieces.append((ends[k], ends[k + 1], row.highway, line))
        new_xy += [
            shapely.get_coordinates(
                shapely.line_interpolate_point(row.geometry, c, normalized=True)
            )[0]
            for c in cuts
        ]
        n += len(cuts)
    u, v, highway, geoms = zip(*pieces, strict=True)
    added = gpd.GeoDataFrame(
        {"u": u, "v": v, "highway": highway}, geometry=list(geoms), crs=frame.crs
    )
    added["length"] = added.geometry.length
    frame = pd.concat([keep, added], ignore_index=True)
    return np.vstack([xy, new_xy]), np.r_[ids, np.full(len(new_xy), -1)], frame


def _largest_component(xy, frame, metric, source, ids) -> StreetNetwork:
    n = len(xy)
    adj = sparse.coo_matrix((np.ones(len(frame)), (frame["u"], frame["v"])), shape=(n, n))
    _, labels = csgraph.connected_components(adj, directed=False)
    used = np.zeros(n, bool)
    used[frame["u"].to_numpy()] = used[frame["v"].to_numpy()] = True
    main = np.bincount(labels[used]).argmax()
    keep = labels == main
    remap = np.cumsum(keep) - 1
    frame = frame.loc[keep[frame["u"].to_numpy()]].copy()
    frame["u"] = remap[frame["u"].to_numpy()]
    frame["v"] = remap[frame["v"].to_numpy()]
    dropped = int((~keep & used).sum())
    return StreetNetwork(xy[keep], frame.reset_index(drop=True), metric, source, dropped, ids[keep])


def _from_osm(path: Path, metric: CRS) -> StreetNetwork:
    """OSM XML / PBF through the one pyosmium reader: one edge per pair of consecutive nodes of a
    walkable way; a pair with a node missing from the extract is left out (clipped ways keep
    their present parts)."""
    ways = read_street_ways(path)
    same = ways.way[1:] == ways.way[:-1]
    present = ~np.isnan(ways.lon)
    first = np.flatnonzero(same & present[:-1] & present[1:])
    first = first[ways.ref[first] != ways.ref[first + 1]]
    if len(first) == 0:
        raise InputError("err_osm_no_walkable", path=path)
    ends = np.r_[first, first + 1]
    node_ids, node_of = np.unique(ways.ref[ends], return_inverse=True)
    lon = np.empty(len(node_ids))
    lat = np.empty(len(node_ids))
    lon[node_of], lat[node_of] = ways.lon[ends], ways.lat[ends]
    to_metric = Transformer.from_crs(4326, metric, always_xy=True)
    xy = np.column_stack(to_metric.transform(lon, lat))
    u, v = node_of[: len(first)], node_of[len(first) :]
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    highway = ways.highway[ways.way[first]].astype(str)
    net = _assemble(xy, node_ids, u, v, highway, geoms, metric, str(path))
    cut = np.zeros(len(ways.way_id), bool)
    cut[ways.way[~present]] = True  # a node of the way is not in the file
    kept = np.zeros(len(ways.way_id), bool)
    kept[ways.way[first]] = True
    if (cut & kept).any():
        clipped = [f"way/{i}" for i in ways.way_id[cut & kept]]
        net.problems.append(problem("network_clipped_ways", "network", clipped))
    return net


def _oriented(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Each line reversed where it runs from ``end`` to ``start`` (undirected OSMnx graphs keep
    one geometry for both directions), so positions along it are measured from ``start``."""
    coords = shapely.get_coordinates(geoms)
    counts = shapely.get_num_coordinates(geoms)
    head = coords[np.r_[0, np.cumsum(counts)[:-1]]]
    flip = np.hypot(*(head - end).T) < np.hypot(*(head - start).T)
    out = geoms.copy()
    out[flip] = shapely.reverse(geoms[flip])
    return out


def _from_osmnx_graph(graph, metric: CRS, source: str) -> StreetNetwork:
    """An OSMnx graph (directed or not, lon/lat or projected: its ``crs`` attribute)."""
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(graph)
    edges = edges.reset_index()
    edges = edges.loc[_walkable(edges)]
    if len(edges) == 0:
        raise InputError("err_no_walkable", path=source)
    crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    to_metric = Transformer.from_crs(crs, metric, always_xy=True)
    node_ids = nodes.index.to_numpy()
    xy = np.column_stack(
        to_metric.transform(nodes["x"].to_numpy(float), nodes["y"].to_numpy(float))
    )
    u = nodes.index.get_indexer(edges["u"])
    v = nodes.index.get_indexer(edges["v"])
    geoms = shapely.transform(
        edges.geometry.values, lambda c: np.column_stack(to_metric.transform(c[:, 0], c[:, 1]))
    )
    geoms = _oriented(np.asarray(geoms), xy[u], xy[v])
    highway = edges["highway"].map(_first).astype(str).to_numpy()
    return _assemble(xy, node_ids, u, v, highway, geoms, metric, source)


def _class_tags(values: pd.Series) -> pd.DataFrame:
    """Road-class values → ``highway``/``foot`` tags through ``road_classes.toml``."""
    classes = road_classes().get("classes", {})
    text = values.fillna("").astype(str).str.strip()
    mapped = {c: classes.get(c, {"highway": c or "road"}) for c in text.unique()}
    return pd.DataFrame(
        {
            "highway": text.map(lambda c: mapped[c].get("highway", "road")),
            "foot": text.map(lambda c: mapped[c].get("foot")),
        }
    )


def _class_column(columns) -> str | None:
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[a] for a in road_classes().get("columns", []) if a in lower), None)


def _from_lines(path: Path, metric: CRS) -> StreetNetwork:
    """A road-centreline layer (GPKG/SHP/GeoJSON): lines joined where they share a vertex; the
    class column (``road_classes.toml``) mapped onto OSM tags and the one walking filter."""
    lines = gpd.read_file(path, engine="pyogrio")
    if lines.crs is None:
        raise InputError("err_roads_no_crs", path=path)
    lines = lines.loc[lines.geometry.notna() & ~lines.geometry.is_empty].to_crs(metric)
    kinds = set(lines.geometry.geom_type)
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError("err_roads_not_lines", path=path, kinds=", ".join(sorted(kinds)))
    column = _class_column(lines.columns)
    tags = _class_tags(lines[column] if column else pd.Series("", index=lines.index))
    lines = lines.loc[_walkable(tags)]
    highway = tags.loc[lines.index, "highway"].to_numpy()
    parts, part_of = shapely.get_parts(lines.geometry.values, return_index=True)
    coords, line_of = shapely.get_coordinates(parts, return_index=True)
    same = line_of[1:] == line_of[:-1]
    uniq, node_of = np.unique(np.round(coords, 2), axis=0, return_inverse=True)
    node_of = node_of.ravel()
    first = np.flatnonzero(same)
    u, v = node_of[first], node_of[first + 1]
    geoms = shapely.linestrings(np.stack([coords[first], coords[first + 1]], axis=1))
    keep = u != v
    hw = highway[part_of[line_of[first]]][keep]
    return _assemble(
        uniq, np.arange(len(uniq)), u[keep], v[keep], hw, geoms[keep], metric, str(path)
    )


_OSM_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz", ".pbf")


def read_network(path: Path, metric: CRS) -> StreetNetwork:
    """Read a walking network from OSM (``.osm``, ``.osm.bz2``/``.gz``, ``.osm.pbf``: the one
    pyosmium reader), ``.graphml`` (OSMnx) or a road-line layer (``.gpkg``, ``.shp``,
    ``.geojson``: lines joined where they share a vertex)."""
    if not path.exists():
        raise InputError("err_network_not_found", path=path)
    name = path.name.lower()
    try:
        if name.endswith(_OSM_SUFFIXES):
            return _from_osm(path, metric)
        if name.endswith(".graphml"):
            import osmnx as ox

            return _from_osmnx_graph(ox.load_graphml(path), metric, str(path))
        if name.endswith((".gpkg", ".shp", ".geojson", ".json", ".fgb")):
            return _from_lines(path, metric)
    except (ValueError, KeyError, OSError) as exc:
        raise InputError("err_network_read", path=path, reason=exc) from None
    raise InputError("err_network_format", path=path)


def download_network(place: str, metric: CRS) -> StreetNetwork:
    """Download the walking network of ``place`` through osmnx (needs the internet)."""
    import osmnx as ox

    try:
        graph = ox.graph_from_place(place, network_type="walk", simplify=False)
    except Exception as exc:  # noqa: BLE001 - any network/geocoder failure is one message
        raise InputError("err_download", place=place, reason=exc) from None
    return _from_osmnx_graph(graph, metric, f"osm:{place}")


def major_edges(net: StreetNetwork, highways: list[str]) -> np.ndarray:
    """Which edges of ``net`` are major roads: ``highway`` in ``highways``, a ``_link`` road
    counting as its road (``primary_link`` as ``primary``).

    Returns
    -------
    (n_edges,) bool array
    """
    highway = net.edges["highway"].astype(str).str.removesuffix("_link")
    return highway.isin(highways).to_numpy()


def source_graph(
    net: StreetNetwork, edge: np.ndarray, along: np.ndarray, offset: np.ndarray
) -> sparse.csr_matrix:
    """The street graph plus one virtual node per snapped source (node ``n_nodes + i``), linked
    one-way to both ends of its edge by the off-street distance plus the distance along the edge.
    Virtual nodes have no way in, so no path passes through another source (see
    ``StreetNetwork.with_virtual_sources``); a source on a loop edge gets one link, the shorter."""
    k = len(edge)
    length = net.edges["length"].to_numpy(float)[edge]
    u = net.edges["u"].to_numpy()[edge]
    v = net.edges["v"].to_numpy()[edge]
    to_u = offset + along
    to_v = offset + length - along
    loop = u == v
    to_u[loop] = np.minimum(to_u[loop], to_v[loop])
    keep = np.column_stack([np.ones(k, bool), ~loop])
    owner = np.repeat(np.arange(k), 2).reshape(k, 2)
    return net.with_virtual_sources(
        owner[keep], np.column_stack([u, v])[keep], np.column_stack([to_u, to_v])[keep], k
    )


def nearest_source(
    graph: sparse.csr_matrix, n_nodes: int, sources: np.ndarray, bound: float
) -> tuple[np.ndarray, np.ndarray]:
    """One ``min_only`` Dijkstra pass from the virtual nodes of ``sources`` (indices into the
    sources of ``graph``): each street node's distance to, and index of, its nearest source."""
    if len(sources) == 0:
        return np.full(n_nodes, np.inf), np.full(n_nodes, -1)
    dist, _, src = csgraph.dijkstra(
        graph,
        directed=True,
        indices=n_nodes + sources,
        limit=bound,
        min_only=True,
        return_predecessors=True,
    )
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
