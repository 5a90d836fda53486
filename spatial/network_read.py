"""Reading the walking network: OSM XML / PBF (the one pyosmium reader), OSMnx GraphML or a
download, and road-centreline layers, each through the one walking filter, to a connected
:class:`~spatial.network.StreetNetwork` with one edge per node pair."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy import sparse
from scipy.sparse import csgraph
from shapely.ops import substring

from .errors import InputError
from .input_files import choose_layer
from .network import StreetNetwork
from .osm import read_street_ways, road_classes, walk_filter
from .problems import problem

if TYPE_CHECKING:
    import networkx as nx


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


def _split_parallel(
    xy: np.ndarray, ids: np.ndarray, frame: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, gpd.GeoDataFrame]:
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


def _largest_component(
    xy: np.ndarray, frame: gpd.GeoDataFrame, metric: CRS, source: str, ids: np.ndarray
) -> StreetNetwork:
    """The largest connected component, nodes renumbered; the other components' nodes counted."""
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


def _from_osmnx_graph(graph: nx.MultiDiGraph, metric: CRS, source: str) -> StreetNetwork:
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


def _class_column(columns: Iterable[object]) -> str | None:
    """The road-class column (``road_classes.toml`` ``columns``, any case), if the layer has one."""
    lower = {str(c).strip().lower(): c for c in columns}
    return next((lower[a] for a in road_classes().get("columns", []) if a in lower), None)


def _from_lines(path: Path, metric: CRS) -> StreetNetwork:
    """A road-centreline layer (GPKG/SHP/GeoJSON): lines joined where they share a vertex; the
    class column (``road_classes.toml``) mapped onto OSM tags and the one walking filter."""
    layer = choose_layer(path, what="what_network")  # several layers: an error listing them
    lines = gpd.read_file(path, engine="pyogrio", layer=layer)
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
    ``.geojson``: lines joined where they share a vertex).

    Parameters
    ----------
    path : Path
        The network file; its suffix chooses the reader.
    metric : pyproj.CRS
        The analysis CRS (metres) the nodes and edges are projected to.

    Returns
    -------
    StreetNetwork
        The largest connected component of the walkable streets, one edge per node pair.

    Raises
    ------
    InputError
        The file is missing, unreadable, of an unknown format or holds no walkable street.
    """
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
    """Download the walking network of ``place`` through osmnx (needs the internet).

    Parameters
    ----------
    place : str
        A place name the OSM geocoder knows (e.g. ``"历下区, 济南市"``).
    metric : pyproj.CRS
        The analysis CRS (metres).

    Returns
    -------
    StreetNetwork
        As :func:`read_network` for a GraphML of the same streets.
    """
    import osmnx as ox

    try:
        graph = ox.graph_from_place(place, network_type="walk", simplify=False)
    except Exception as exc:  # noqa: BLE001 - any network/geocoder failure is one message
        raise InputError("err_download", place=place, reason=exc) from None
    return _from_osmnx_graph(graph, metric, f"osm:{place}")
