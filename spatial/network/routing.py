"""Shortest paths from snapped points: each source a virtual node linked to both ends of its street
edge, one bounded multi-source Dijkstra pass (scipy.sparse.csgraph) per set of sources."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from spatial.network.graph import StreetNetwork


def source_graph(
    net: StreetNetwork, edge: np.ndarray, along: np.ndarray, offset: np.ndarray
) -> sparse.csr_matrix:
    """The street graph plus one virtual node per snapped source (node ``n_nodes + i``), linked
        one-way to both ends of its edge by the off-street distance plus the walk along the edge from
    that end to the source (with hills: uphill and downhill differ, :mod:`spatial.network.elevation`).
        Virtual nodes have no way in, so no path passes through another source (see
        ``StreetNetwork.with_virtual_sources``); a source on a loop edge (only in a hand-built
        network: the readers split loops) gets one link, the shorter.

        Parameters
        ----------
        net : StreetNetwork
        edge, along, offset : (k,) arrays
            Each source's snapped edge, distance along it from ``u`` and off-street distance
            (:meth:`StreetNetwork.snap`; only snapped sources, no ``-1``).

        Returns
        -------
        scipy.sparse.csr_matrix
            ``(net.n_nodes + k)`` square; source ``i`` is node ``net.n_nodes + i``.
    """
    k = len(edge)
    length = net.edges["length"].to_numpy(float)[edge]
    u = net.edges["u"].to_numpy()[edge]
    v = net.edges["v"].to_numpy()[edge]
    to_u = offset + along + net.excess(edge, np.zeros(k), along)  # the walk u → source
    to_v = offset + length - along + net.excess(edge, length, along)  # the walk v → source
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
    sources of ``graph``): each street node's distance to, and index of, its nearest source.

    Parameters
    ----------
    graph : scipy.sparse.csr_matrix
        A :func:`source_graph`.
    n_nodes : int
        Street nodes in ``graph`` (the virtual nodes follow them).
    sources : (m,) int array
        The sources of this pass.
    bound : float
        Search limit in metres.

    Returns
    -------
    dist : (n_nodes,) float array
        Metres, ``inf`` beyond ``bound``.
    source : (n_nodes,) int array
        Index into the sources of ``graph`` of the nearest one, −1 where unreached.
    """
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

    Parameters
    ----------
    net : StreetNetwork
    edge, along, offset : (k,) arrays
        The snapped sources (see :func:`source_graph`).
    bound : float
        Search limit in metres.

    Returns
    -------
    dist : (n_nodes,) metres, ``inf`` beyond ``bound``
    source : (n_nodes,) index into the sources, −1 where unreached
    """
    graph = source_graph(net, edge, along, offset)
    return nearest_source(graph, net.n_nodes, np.arange(len(edge)), bound)
