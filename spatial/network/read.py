"""Reading the walking network: OSM XML / PBF (the one pyosmium reader), OSMnx GraphML or a
download, and road-centreline layers, each through the one walking filter, to a connected
:class:`~spatial.network.graph.StreetNetwork` with one edge per node pair."""

from __future__ import annotations

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

from spatial.config.schema import NetworkConfig
from spatial.core import settings
from spatial.core.crs import choose_metric_crs, metric_crs_for
from spatial.core.errors import InputError
from spatial.core.problems import problem
from spatial.inputs.osm import read_street_ways, walk_filter
from spatial.network.graph import StreetNetwork
from spatial.network.road_lines import node_road_lines, noding_problems, read_road_lines

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
    min_share: float = settings.NETWORK_MIN_CONNECTED_SHARE,
) -> StreetNetwork:
    """Node coordinates and edges (u→v geometries, metric CRS) to a connected StreetNetwork:
    identical duplicates dropped, differing parallel edges and loops split so that every node
    pair has one edge (the sparse graph holds one weight per pair), largest component kept (an
    error when it holds less than ``min_share`` of the street length)."""
    frame = gpd.GeoDataFrame({"u": u, "v": v, "highway": highway}, geometry=geoms, crs=metric)
    frame["length"] = shapely.length(geoms)
    frame = frame.loc[frame["length"] > 0]
    if len(frame) == 0:
        raise InputError("err_no_walkable", path=source)
    xy, ids, frame = _split_parallel(xy, ids, frame)
    return _largest_component(xy, frame, metric, source, ids, min_share)


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
    xy: np.ndarray,
    frame: gpd.GeoDataFrame,
    metric: CRS,
    source: str,
    ids: np.ndarray,
    min_share: float = settings.NETWORK_MIN_CONNECTED_SHARE,
) -> StreetNetwork:
    """The connected component with the most street length, nodes renumbered; the other
    components' nodes counted and their length warned (refused below ``min_share`` of it)."""
    n = len(xy)
    adj = sparse.coo_matrix((np.ones(len(frame)), (frame["u"], frame["v"])), shape=(n, n))
    _, labels = csgraph.connected_components(adj, directed=False)
    used = np.zeros(n, bool)
    used[frame["u"].to_numpy()] = used[frame["v"].to_numpy()] = True
    length = frame["length"].to_numpy(float)
    per_part = np.bincount(labels[frame["u"].to_numpy()], weights=length, minlength=n)
    main = per_part.argmax()  # the part with the most street length
    keep = labels == main
    share = float(per_part[main] / length.sum())
    parts = len(np.unique(labels[used])) - 1
    if share < min_share:
        raise InputError(
            "err_network_fragmented",
            path=source,
            share=f"{share:.0%}",
            parts=parts + 1,
            minimum=f"{min_share:g}",
        )
    remap = np.cumsum(keep) - 1
    frame = frame.loc[keep[frame["u"].to_numpy()]].copy()
    frame["u"] = remap[frame["u"].to_numpy()]
    frame["v"] = remap[frame["v"].to_numpy()]
    dropped = int((~keep & used).sum())
    net = StreetNetwork(xy[keep], frame.reset_index(drop=True), metric, source, dropped, ids[keep])
    net.largest_share = share
    if share < settings.NETWORK_WARN_CONNECTED_SHARE:
        cut = f"{(1 - share) * length.sum() / 1000:.1f}"
        net.problems.append(
            problem(
                "network_largest_part", "network", [], share=f"{share:.0%}", parts=parts, km=cut
            )
        )
    return net


def _from_osm(path: Path, metric: CRS | None, min_share: float) -> StreetNetwork:
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
    metric = metric or metric_crs_for(float(np.median(lon)), float(np.median(lat)))
    to_metric = Transformer.from_crs(4326, metric, always_xy=True)
    xy = np.column_stack(to_metric.transform(lon, lat))
    u, v = node_of[: len(first)], node_of[len(first) :]
    geoms = shapely.linestrings(np.stack([xy[u], xy[v]], axis=1))
    highway = ways.highway[ways.way[first]].astype(str)
    net = _assemble(xy, node_ids, u, v, highway, geoms, metric, str(path), min_share)
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


def _from_osmnx_graph(
    graph: nx.MultiDiGraph,
    metric: CRS | None,
    source: str,
    min_share: float = settings.NETWORK_MIN_CONNECTED_SHARE,
) -> StreetNetwork:
    """An OSMnx graph (directed or not, lon/lat or projected: its ``crs`` attribute)."""
    import osmnx as ox

    nodes, edges = ox.graph_to_gdfs(graph)
    edges = edges.reset_index()
    edges = edges.loc[_walkable(edges)]
    if len(edges) == 0:
        raise InputError("err_no_walkable", path=source)
    crs = CRS.from_user_input(graph.graph.get("crs", "EPSG:4326"))
    metric = metric or choose_metric_crs([gpd.GeoDataFrame(geometry=nodes.geometry, crs=crs)])
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
    return _assemble(xy, node_ids, u, v, highway, geoms, metric, source, min_share)


def _from_lines(
    source: Path | gpd.GeoDataFrame, metric: CRS | None, cfg: NetworkConfig, label: str
) -> StreetNetwork:
    """A road-centreline layer (a GPKG/SHP/GeoJSON file or a GeoDataFrame) through the one vector
    reader: the walkable lines (class column → OSM tags → the one walking filter) noded at their
    crossings, ends and undershoots except where they are at different levels
    (:mod:`spatial.network.road_lines`)."""
    lines, grade, report = read_road_lines(source, cfg, _walkable, label)
    if len(lines) == 0:
        raise InputError("err_no_walkable", path=label)
    metric = metric or choose_metric_crs([lines])
    noded = node_road_lines(lines, grade, metric, cfg.snap_m)
    highway = grade["highway"].to_numpy()[noded.line]
    ids = np.arange(len(noded.xy))
    net = _assemble(
        noded.xy, ids, noded.u, noded.v, highway, noded.geoms, metric, label,
        cfg.min_connected_share,
    )  # fmt: skip
    net.report = report
    net.problems[:0] = noding_problems(noded, grade, cfg.snap_m)
    return net


def lines_network(
    lines: gpd.GeoDataFrame, metric: CRS | None, source: str, cfg: NetworkConfig | None = None
) -> StreetNetwork:
    """A road-centreline layer given as a GeoDataFrame, built as a file's (:func:`read_network`):
    noded at crossings except at different levels, undershoots joined, the class column mapped
    onto OSM tags and the one walking filter.

    Parameters
    ----------
    lines : GeoDataFrame
        LineStrings or MultiLineStrings with a CRS (it is not modified).
    metric : pyproj.CRS or None
        The analysis CRS (metres); None: the automatic choice for the lines' median point
        (:func:`spatial.core.crs.choose_metric_crs`).
    source : str
        A label for the frame, for messages and ``StreetNetwork.source``.
    cfg : NetworkConfig, optional
        ``[network]``: the columns, ``snap_m``, ``min_connected_share`` (default: the defaults).

    Returns
    -------
    StreetNetwork

    Raises
    ------
    InputError
        The layer has no CRS, holds other geometries than lines or no walkable street.
    """
    return _from_lines(lines, metric, cfg or NetworkConfig(), source)


_OSM_SUFFIXES = (".osm", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz", ".pbf")


def read_network(path: Path, metric: CRS | None, cfg: NetworkConfig | None = None) -> StreetNetwork:
    """Read a walking network from OSM (``.osm``, ``.osm.bz2``/``.gz``, ``.osm.pbf``: the one
    pyosmium reader), ``.graphml`` (OSMnx) or a road-line layer (``.gpkg``, ``.shp``,
    ``.geojson``: lines noded at their crossings except at different levels, undershoots joined).

    Parameters
    ----------
    path : Path
        The network file; its suffix chooses the reader.
    metric : pyproj.CRS or None
        The analysis CRS (metres) the nodes and edges are projected to; None: the automatic
        choice (the CGCS2000 Gauss-Krüger zone, UTM outside China) for the streets' median point.
    cfg : NetworkConfig, optional
        ``[network]``: a road layer's columns, encoding, ``snap_m``; ``min_connected_share``.

    Returns
    -------
    StreetNetwork
        The largest connected component of the walkable streets, one edge per node pair.

    Raises
    ------
    InputError
        The file is missing, unreadable, of an unknown format or holds no walkable street, or
        its largest connected part holds less than ``min_connected_share`` of its length.
    """
    cfg = cfg or NetworkConfig()
    share = cfg.min_connected_share
    if not path.exists():
        raise InputError("err_network_not_found", path=path)
    name = path.name.lower()
    try:
        if name.endswith(_OSM_SUFFIXES):
            return _from_osm(path, metric, share)
        if name.endswith(".graphml"):
            import osmnx as ox

            return _from_osmnx_graph(ox.load_graphml(path), metric, str(path), share)
        if name.endswith((".gpkg", ".shp", ".geojson", ".json", ".fgb")):
            return _from_lines(path, metric, cfg, str(path))
    except InputError:  # an InputError is a ValueError too: it says what to fix already
        raise
    except (ValueError, KeyError, OSError) as exc:
        raise InputError("err_network_read", path=path, reason=exc) from None
    raise InputError("err_network_format", path=path)


def download_network(
    place: str, metric: CRS, min_share: float = settings.NETWORK_MIN_CONNECTED_SHARE
) -> StreetNetwork:
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
    return _from_osmnx_graph(graph, metric, f"osm:{place}", min_share)
