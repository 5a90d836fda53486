"""Coverage benchmark: our multi-source sparse pass vs networkx multi-source vs per-community.

    python benchmarks/coverage.py [--per-community-sample 200]

Builds the city-sized case in one process and times, on the same data:
  1. ours: ``compute_coverage`` (8 categories, one scipy multi-source Dijkstra each, boundary
     access points, nearest-facility names);
  2. networkx ``multi_source_dijkstra_path_length`` per category (graph build timed apart);
  3. the per-community approach (one bounded networkx search from each community, as in the
     OSMnx isochrone examples), on a sample, extrapolated to all communities;
  4. the whole ``lifecircle coverage`` command on files written from the same case.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.coverage.measure import compute_coverage  # noqa: E402


def timed(label, func):
    """Wall time, and the process's peak RSS after the call (it only grows)."""
    start = time.perf_counter()
    value = func()
    wall = time.perf_counter() - start
    print(f"{label:<58} {wall:9.2f} s   peak RSS so far {citycase.peak_rss_mb():6.0f} MB")
    return value, wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-community-sample", type=int, default=200)
    parser.add_argument("--side", type=int, default=450)
    parser.add_argument("--repeat", type=int, default=5, help="runs of ours (median reported)")
    parser.add_argument("--repeat-networkx", type=int, default=3)
    args = parser.parse_args()
    net = citycase.street_grid(args.side)
    comm = citycase.communities()
    fac = citycase.facilities()
    project, std = citycase.core_project()
    print(f"case: {net.n_nodes:,} nodes, {len(net.edges):,} edges, {len(comm):,} communities, "
          f"{len(fac):,} facilities, {len(std.categories)} categories")  # fmt: skip
    bound = project.coverage.search_bound_m  # = the largest radius, 1000 m

    def ours_coverage():
        return compute_coverage(comm, fac, std, project.coverage, net).communities

    ours, t_first = timed("ours: compute_coverage, incl. building the snap index", ours_coverage)
    runs = []
    for i in range(args.repeat):
        ours, wall = timed(
            f"ours: compute_coverage (8 categories, index built) #{i + 1}", ours_coverage
        )
        runs.append(wall)
    t_ours = float(np.median(runs))
    print(f"{'  … median':<58} {t_ours:9.2f} s")

    def build_nx():
        g = nx.Graph()
        g.add_weighted_edges_from(net.edges[["u", "v", "length"]].itertuples(index=False))
        return g

    graph, t_build = timed("networkx: build graph", build_nx)
    fac_node = net.snap(np.column_stack([fac.geometry.x, fac.geometry.y]))[0]
    fac_node = net.edges["u"].to_numpy()[fac_node]

    def nx_multi():
        return {c: nx.multi_source_dijkstra_path_length(graph, set(fac_node[(fac["category"] == c).to_numpy()].tolist()),
                                                       cutoff=bound) for c in std.categories}  # fmt: skip

    multi = [timed(f"networkx: multi_source_dijkstra per category #{i + 1}", nx_multi)[1]
             for i in range(args.repeat_networkx)]  # fmt: skip
    t_multi = float(np.median(multi))
    print(f"{'  … median':<58} {t_multi:9.2f} s")

    comm_node = net.snap(np.column_stack([comm.centroid.x, comm.centroid.y]))[0]
    comm_node = net.edges["u"].to_numpy()[comm_node]
    fac_sets = {
        c: set(fac_node[(fac["category"] == c).to_numpy()].tolist()) for c in std.categories
    }
    sample = comm_node[: args.per_community_sample]

    def per_community():
        for node in sample:
            reach = nx.single_source_dijkstra_path_length(graph, int(node), cutoff=1000)
            for nodes in fac_sets.values():
                min((reach[f] for f in nodes if f in reach), default=None)

    _, t_sample = timed(
        f"networkx: per-community search ({len(sample)} of {len(comm)})", per_community
    )
    t_per = t_sample * len(comm) / len(sample)
    print(f"{'  … extrapolated to all communities':<58} {t_per:9.2f} s")

    def per_community_ego():  # literally the OSMnx isochrone example: ego_graph per centre
        for node in sample:
            sub = nx.ego_graph(graph, int(node), radius=1000, distance="weight")
            for nodes in fac_sets.values():
                any(f in sub for f in nodes)

    _, t_ego = timed(
        f"networkx: per-community ego_graph ({len(sample)} of {len(comm)})", per_community_ego
    )
    t_ego = t_ego * len(comm) / len(sample)
    print(f"{'  … extrapolated to all communities':<58} {t_ego:9.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        t_cli = whole_command(Path(tmp), net, comm, fac)

    print()
    print(f"ours vs networkx multi-source: {t_multi / t_ours:6.1f}× faster, medians "
          f"(range {min(multi) / max(runs):.1f}–{max(multi) / min(runs):.1f}×; "
          f"{(t_multi + t_build) / t_first:.1f}× counting graph and index builds)")  # fmt: skip
    print(f"ours vs per-community search:  {t_per / t_ours:6.1f}× faster "
          f"({(t_per + t_build) / t_first:.1f}× counting graph and index builds)")  # fmt: skip
    print(f"ours vs per-community ego_graph (the OSMnx isochrone example): {t_ego / t_ours:6.1f}× faster "
          f"({(t_ego + t_build) / t_first:.1f}× counting builds)")  # fmt: skip
    print(f"whole `lifecircle coverage`:   {t_cli:6.1f} s")
    print(f"process peak RSS:              {citycase.peak_rss_mb():6.0f} MB")
    full = ours["full_coverage"].mean()
    print(f"(sanity: {full:.1%} of communities fully covered; "
          f"{np.isfinite(ours['market_m']).mean():.1%} reach a market within {bound:.0f} m)")  # fmt: skip


def whole_command(folder: Path, net, comm, fac) -> float:
    """Write the case as files and time the CLI in a child process (its own peak memory)."""
    import subprocess

    lines = net.edges[["highway", "geometry"]]
    lines.to_file(folder / "roads.gpkg", layer="roads")
    citycase.write_project(folder, comm, fac, "roads.gpkg")
    cmd = [sys.executable, "-c",
           "import resource, sys; from spatial.cli import main; code = main(sys.argv[1:]); "
           "print(f'child peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB'); "
           "sys.exit(code)",
           "coverage", "--config", str(folder / "project.toml"), "--out", str(folder / "out")]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    print(f"{'lifecircle coverage (files → summary.json, gpkg)':<58} {wall:9.2f} s   "
          f"{done.stdout.strip().splitlines()[-1] if done.stdout else ''}")  # fmt: skip
    if done.returncode:
        print(done.stderr)
    return wall


if __name__ == "__main__":
    main()
