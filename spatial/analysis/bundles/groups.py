"""Bundles (成片改造片区): connected groups of adjacent eligible communities within limits
(:class:`Bundler`); their layer, with the redevelopment parcels that can finance them
(大片区统筹平衡), and their figures are :mod:`spatial.analysis.bundles.tables`."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from spatial.analysis.bundles.adjacency import adjacent_pairs, overlapping_pairs
from spatial.config.project import BundlingConfig
from spatial.core.messages import Msg, msg

_PAIR_COLUMNS = ["i", "j", "gap_m", "crosses_barrier", "other_subdistrict", "blocked"]


class Bundler:
    """Adjacent eligible communities grouped into bundles (spopt style: build, ``.solve()``, read).

    Parameters
    ----------
    communities : GeoDataFrame
        With ``eligible``, ``households``, ``subdistrict`` (metric CRS).
    cfg : BundlingConfig
        The project's ``[bundling]`` settings.
    barriers : ndarray of geometries, optional
        Lines and polygons adjacency may not cross (``adjacency.barrier_lines``).

    Attributes
    ----------
    Set by :meth:`solve`; reading one before raises ``RuntimeError``.

    pairs : DataFrame
        Near pairs of usable communities (``adjacency.adjacent_pairs``: ``i``, ``j``, ``gap_m``,
        ``crosses_barrier``, ``other_subdistrict``, ``blocked``), rows of ``communities``.
    overlaps : DataFrame
        Overlapping community pairs (``adjacency.overlapping_pairs``).
    duplicates : list of int
        Rows overlapping an earlier row by more than half: counted once (left out).
    groups : list of list of int
        The bundles, each the sorted rows of its members.
    notes : list of Msg
        Why no bundle could be formed, when that is the case (catalogue texts, ``note_*``).
    """

    _RESULTS = ("pairs", "overlaps", "duplicates", "groups", "notes")

    def __init__(
        self, communities: gpd.GeoDataFrame, cfg: BundlingConfig, barriers: np.ndarray | None = None
    ) -> None:
        self.communities = communities
        self.cfg = cfg
        self.barriers = barriers if barriers is not None else np.array([])

    def __getattr__(self, name: str):
        # only called for attributes not set: the results before solve()
        if name in Bundler._RESULTS:
            raise RuntimeError(f"Bundler.{name} is set by .solve(); call .solve() first")
        raise AttributeError(name)

    @property
    def solved(self) -> bool:
        """Whether :meth:`solve` has run."""
        return "groups" in self.__dict__

    def solve(self) -> Bundler:
        """Find the near pairs, join them into components and split those within the limits."""
        comm = self.communities
        polys = comm.geometry.values
        overlaps = overlapping_pairs(polys)
        # near-duplicates (more than half of the smaller one) are counted once: the later row
        duplicates = sorted(set(overlaps.loc[overlaps["share"] > 0.5, "j"].tolist()))
        usable = comm["eligible"].to_numpy(bool).copy()
        usable[duplicates] = False
        idx = np.flatnonzero(usable)
        pairs, groups = pd.DataFrame(columns=_PAIR_COLUMNS), []
        notes: list[Msg] = []
        if len(idx) < self.cfg.min_members:
            notes.append(msg("note_bundle_too_few", min_members=self.cfg.min_members))
        else:
            sub = (
                comm["subdistrict"].astype(str).to_numpy()[idx]
                if self.cfg.same_subdistrict
                else None
            )
            pairs = adjacent_pairs(polys[idx], self.cfg.tolerance_m, self.barriers, sub)
            pairs["i"], pairs["j"] = idx[pairs["i"].to_numpy()], idx[pairs["j"].to_numpy()]
            groups = self._groups(idx, pairs.loc[~pairs["blocked"]])
        self.pairs, self.overlaps, self.duplicates = pairs, overlaps, duplicates
        self.groups, self.notes = groups, notes
        return self

    def _groups(self, idx: np.ndarray, open_pairs: pd.DataFrame) -> list[list[int]]:
        """Connected components of the open pairs, each split within the limits."""
        n = len(self.communities)
        graph = sparse.coo_matrix(
            (np.ones(len(open_pairs)), (open_pairs["i"], open_pairs["j"])), shape=(n, n)
        )
        _, labels = csgraph.connected_components(graph, directed=False)
        neighbours = _neighbour_lists(open_pairs, n)
        hh = self.communities["households"].fillna(0).to_numpy(float)
        cent = shapely.get_coordinates(self.communities.geometry.centroid.values)
        groups: list[list[int]] = []
        for label in _ordered_labels(labels, idx, self.communities.geometry.values):
            members = idx[labels[idx] == label]
            if len(members) >= self.cfg.min_members:
                groups += self._split(members, neighbours, hh, cent)
        return [g for g in groups if len(g) >= self.cfg.min_members]

    def _split(
        self,
        members: np.ndarray,
        neighbours: list[set[int]],
        hh: np.ndarray,
        cent: np.ndarray,
    ) -> list[list[int]]:
        """Region growing: from the south-west-most member, add the adjacent member nearest the
        region's centre while households and span stay within limits; repeat on the rest."""
        polys = self.communities.geometry.values
        left = set(members.tolist())
        # seeds in south-west order, sorted once: the next seed is the first still left (a min
        # over what is left for every region would be quadratic in a large component)
        seeds = sorted(left, key=lambda k: (cent[k, 0] + cent[k, 1], k))
        at = 0
        regions = []
        while left:
            while seeds[at] not in left:
                at += 1
            seed = seeds[at]
            region, total = [seed], hh[seed]
            left.discard(seed)
            while True:
                frontier = sorted({m for r in region for m in neighbours[r] if m in left})
                centre = cent[region].mean(axis=0)
                frontier.sort(key=lambda k: (np.hypot(*(cent[k] - centre)), k))
                added = False
                for k in frontier:
                    if total + hh[k] > self.cfg.max_households:
                        continue
                    if span(polys[[*region, k]]) > self.cfg.max_span_m:
                        continue
                    region.append(k)
                    total += hh[k]
                    left.discard(k)
                    added = True
                    break
                if not added:
                    break
            regions.append(sorted(region))
        return regions


def span(polys: np.ndarray) -> float:
    """Largest extent of a group: the diameter of the smallest circle around it (m).

    Parameters
    ----------
    polys : ndarray of geometries

    Returns
    -------
    float
    """
    return 2 * float(
        shapely.minimum_bounding_radius(shapely.multipolygons(shapely.get_parts(polys)))
    )


def _neighbour_lists(pairs: pd.DataFrame, n: int) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(n)]
    for i, j in pairs[["i", "j"]].itertuples(index=False):
        out[int(i)].add(int(j))
        out[int(j)].add(int(i))
    return out


def _ordered_labels(labels: np.ndarray, idx: np.ndarray, polys: np.ndarray) -> list[int]:
    """Component labels in a deterministic geographic order (south-west first)."""
    cent = shapely.get_coordinates(shapely.centroid(polys[idx]))
    first: dict[int, float] = {}
    for k, lab in enumerate(labels[idx]):
        key = cent[k, 0] + cent[k, 1]
        first[lab] = min(first.get(lab, np.inf), key)
    return sorted(first, key=lambda lab: (first[lab], lab))
