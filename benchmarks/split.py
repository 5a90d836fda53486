"""Issue 29: does splitting one large project by subdistrict (街道) onto Dask workers make it
faster, with identical results? The single in-process stages against the same stages split by
subdistrict on a LocalCluster, with the merged results compared value by value.

    python benchmarks/split.py [--communities 5000] [--case patchy|grid] [--layout blocks|strips]
                               [--parts 20] [--workers N] [--repeat 1]

Needs the batch extra (``pip install 'lifecircle[batch]'``: Dask and distributed).

What can be split, and how (the README's batch section states the answer):

- **coverage** (each community's walking distance to each category): a walk of length ``d`` never
  leaves the disc of radius ``d`` around its start, and a facility snaps to a street within
  ``max_snap_m`` of it. So a community's distances up to the search bound ``B`` (1000 m) depend
  only on the facilities within ``B`` of it and the streets within ``B + max_snap_m``. A part is
  a subdistrict's communities, the facilities within ``B`` of its hull and the streets within
  ``B + max_snap_m`` (+ a margin) of its hull; its distances are the single run's, exactly.
- **capacity** (2SFCA): ``R_j = S_j / Σ_i W D_i`` sums the demand of *every* community in facility
  ``j``'s catchment, across subdistrict lines, so a part alone gives other ratios (measured
  below: "naive split"). The catchment pairs (facility, community, walking distance) are local
  like coverage: each part finds its own communities' pairs, the parent merges them and computes
  ``R_j`` and ``A_i`` for the whole district (two bincounts).
- not split: reading the network (one file), the service areas (one layer per category across
  the district), the bundles (adjacency crosses subdistrict lines unless ``same_subdistrict``),
  the sites (one plan over every parcel and community: a site covers across the line), the plan
  by year (caps over the district) and the outputs (one map, ledger and print pack, already
  written side by side by forked workers).

Single: access points, coverage and capacity as the pipeline's coverage and capacity stages run
them, in this process. Split: the parent cuts the parts (network, facilities, communities),
each part is a Dask task (access points, coverage, catchment pairs), the parent merges them and
computes the capacity. Reports wall and CPU time of each step, each task's CPU time, the CPU
time of the client and scheduler (this process) and of the workers while the tasks run, the
bytes sent, the load average, and what the split would take on N idle cores: from the tasks'
own CPU times, and with the Dask costs measured (client and scheduler serial, the workers' whole
CPU time spread). Then whether the merged columns equal the single run's, and how many
communities' capacity figures differ when each part computes its capacity alone.

``--layout blocks`` (default) gives the communities compact subdistricts (a grid of blocks, as
real 街道 are); ``strips`` keeps the generator's own (20 bands across the whole city, the worst
case for the halo).
"""

from __future__ import annotations

import argparse
import heapq
import os
import pickle
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.bundles.eligibility import assess_eligibility  # noqa: E402
from spatial.analysis.capacity.twostep import all_pairs, compute_capacity, run_capacity  # noqa: E402
from spatial.analysis.coverage.measure import compute_coverage  # noqa: E402
from spatial.config.indicators import load_capacity  # noqa: E402
from spatial.network.access_points import polygon_access  # noqa: E402
from spatial.network.graph import StreetNetwork  # noqa: E402
from spatial.workflow.batch import dask_client  # noqa: E402

MARGIN_M = 50.0  # beyond the exact reach, for the rounding of a hull and a buffer


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def build(case: str, n: int, layout: str, parts: int):
    """The city (network, communities with eligibility, facilities) and its project."""
    spec = citycase.CASES[case]
    net = spec.network()
    comm = citycase.communities(n, extent=spec.extent)
    fac = citycase.facilities(extent=spec.extent)
    if layout == "blocks":  # compact subdistricts: a cols × rows grid of blocks
        cols = int(np.ceil(np.sqrt(parts)))
        rows = int(np.ceil(parts / cols))
        xy = shapely.get_coordinates(comm.geometry.centroid)
        cx = np.minimum(((xy[:, 0] - citycase.X0) / spec.extent * cols).astype(int), cols - 1)
        cy = np.minimum(((xy[:, 1] - citycase.Y0) / spec.extent * rows).astype(int), rows - 1)
        comm["subdistrict"] = [f"街道{r * cols + c}" for r, c in zip(cy, cx, strict=True)]
    project, standards = citycase.core_project()
    comm = assess_eligibility(comm, project.policy)
    return net, comm, fac, project, standards


def single(net: StreetNetwork, comm, fac, project, standards) -> gpd.GeoDataFrame:
    """The pipeline's coverage and capacity stages, in this process (on a fresh copy of the
    network, as a run reads it: its snapping index and street matrix built here)."""
    net = StreetNetwork(net.node_xy, net.edges, net.crs, net.source)
    cfg = project.coverage
    access = polygon_access(net, comm.geometry.values, cfg.access_spacing_m, cfg.max_snap_m)
    cov = compute_coverage(comm, fac, standards, cfg, net, access)
    out, _, _, _ = run_capacity(cov.communities, fac, standards, project, net, access)
    return out


def clip_network(net: StreetNetwork, tree: shapely.STRtree, area) -> StreetNetwork:
    """The streets of ``net`` that meet ``area``, their nodes renumbered in order."""
    keep = np.sort(tree.query(area, predicate="intersects"))
    edges = net.edges.iloc[keep].reset_index(drop=True)
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    nodes = np.unique(np.r_[u, v])
    edges["u"], edges["v"] = np.searchsorted(nodes, u), np.searchsorted(nodes, v)
    return StreetNetwork(net.node_xy[nodes], edges, net.crs, net.source)


def cut(net: StreetNetwork, comm, fac, project, standards) -> list[dict]:
    """One payload per subdistrict: its communities, the facilities within the search bound of
    its hull, the streets within the bound + ``max_snap_m`` of it (a superset of what its walks
    can use: the distances are exact), and the global positions to merge back."""
    cfg = project.coverage
    radii = [c.radius_m for c in standards.categories.values()]
    bound = max(cfg.search_bound_m, *radii) / net.min_cost_ratio  # as coverage searches
    tree = shapely.STRtree(net.edges.geometry.values)
    fac_tree = shapely.STRtree(fac.geometry.values)
    subs = comm["subdistrict"].astype(str).to_numpy()
    payloads = []
    for name in sorted(set(subs), key=lambda s: (len(s), s)):
        own = np.flatnonzero(subs == name)
        corners = shapely.get_coordinates(comm.geometry.values[own])
        hull = shapely.convex_hull(shapely.multipoints(corners))
        near = np.sort(fac_tree.query(hull.buffer(bound + MARGIN_M), predicate="intersects"))
        part_net = clip_network(net, tree, hull.buffer(bound + cfg.max_snap_m + MARGIN_M))
        payloads.append(
            {
                "name": name,
                "net": part_net,
                "comm": comm.iloc[own],
                "fac": fac.iloc[near],
                "own": own,
                "near": near,
                "drop": list(project.coverage.drop),
            }
        )
    return payloads


def part_task(payload: dict) -> dict:
    """A part on a worker: access points, coverage, the catchment pairs (part positions)."""
    import resource

    from spatial.config.project import Project
    from spatial.config.standards import load_standards

    start = _clock()
    project = Project(name="split")
    project.coverage.drop = payload["drop"]
    standards = load_standards(project)
    cfg = project.coverage
    net, comm, fac = payload["net"], payload["comm"], payload["fac"]
    access = polygon_access(net, comm.geometry.values, cfg.access_spacing_m, cfg.max_snap_m)
    cov = compute_coverage(comm, fac, standards, cfg, net, access)
    capacity = load_capacity(project, standards)
    pairs = all_pairs(comm, fac, standards, capacity, cfg.detour_factor, cfg.max_snap_m, net,
                      access)  # fmt: skip
    wall, cpu = _since(start)
    columns = [c for c in cov.communities.columns if c not in comm.columns]
    return {
        "name": payload["name"],
        "coverage": pd.DataFrame(cov.communities[columns]),
        "pairs": pairs,
        "wall": wall,
        "cpu": cpu,
        "pid": os.getpid(),
        "nodes": net.n_nodes,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def merge(comm, fac, standards, capacity, payloads, results) -> gpd.GeoDataFrame:
    """The parts' coverage columns in the district's order, and the capacity computed once from
    every part's pairs (global positions): each facility's catchment demand is the whole
    district's."""
    frames, pairs = [], {}
    for payload, res in zip(payloads, results, strict=True):
        frame = res["coverage"]
        frames.append(frame.set_axis(comm.index[payload["own"]]))
        for key, p in res["pairs"].items():
            pairs.setdefault(key, []).append(
                pd.DataFrame(
                    {
                        "facility": payload["near"][p["facility"].to_numpy(np.int64)],
                        "community": payload["own"][p["community"].to_numpy(np.int64)],
                        "distance_m": p["distance_m"].to_numpy(float),
                    }
                )
            )
    columns = pd.concat(frames).reindex(comm.index)
    covered = pd.concat([comm, columns], axis=1)
    merged = {k: pd.concat(v, ignore_index=True) for k, v in pairs.items()}
    out, _, _ = compute_capacity(covered, fac, standards, capacity, merged)
    return out


def naive_capacity(standards, capacity, payloads, results) -> pd.DataFrame:
    """Capacity computed inside each part alone (its own communities are all the demand a
    facility sees): what a split without the global step would report."""
    frames = []
    for payload, res in zip(payloads, results, strict=True):
        comm = pd.concat([payload["comm"], res["coverage"].set_axis(payload["comm"].index)], axis=1)
        out, _, _ = compute_capacity(comm, payload["fac"], standards, capacity, res["pairs"])
        frames.append(out)
    return pd.concat(frames)


def differences(reference: pd.DataFrame, other: pd.DataFrame, columns: list[str]) -> dict:
    """Per column: rows whose value differs (NaN equals NaN)."""
    other = other.reindex(reference.index)
    out = {}
    for col in columns:
        a, b = reference[col].to_numpy(), other[col].to_numpy()
        same = (a == b) | (pd.isna(a) & pd.isna(b))
        if not same.all():
            out[col] = int((~same).sum())
    return out


def makespan(times: list[float], cores: int) -> float:
    """Longest-first onto ``cores`` idle cores: the time the last one finishes."""
    finish = [0.0] * cores
    for t in sorted(times, reverse=True):
        heapq.heapreplace(finish, finish[0] + t)
    return max(finish)


def _warm() -> None:
    """A worker imports what the tasks use before the clock starts."""
    import spatial.analysis.capacity.twostep
    import spatial.analysis.coverage.measure  # noqa: F401


def _process_cpu() -> float:
    return time.process_time()


def run_split(client, payloads, tag: int) -> tuple[list[dict], float, float, float]:
    """The parts as Dask tasks: their results, the wall time, this process's CPU time meanwhile
    (the client's sending and, on a LocalCluster, the scheduler) and the workers' whole CPU time
    (the tasks, unpickling the parts, Dask's own threads)."""
    before = sum(client.run(_process_cpu).values())
    start = _clock()
    futures = [client.submit(part_task, p, key=f"part-{tag}-{k}") for k, p in enumerate(payloads)]
    results = client.gather(futures)
    wall, cpu = _since(start)
    return results, wall, cpu, sum(client.run(_process_cpu).values()) - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--communities", type=int, default=5000)
    parser.add_argument("--case", choices=sorted(citycase.CASES), default="patchy")
    parser.add_argument("--layout", choices=["blocks", "strips"], default="blocks")
    parser.add_argument("--parts", type=int, default=20, help="subdistricts with --layout blocks")
    parser.add_argument("--workers", type=int, help="LocalCluster workers (default: auto)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    net, comm, fac, project, standards = build(args.case, args.communities, args.layout, args.parts)
    capacity = load_capacity(project, standards)
    print(f"{args.case} city: {len(comm)} communities in {comm['subdistrict'].nunique()} "
          f"subdistricts ({args.layout}), {len(fac)} facilities, {net.n_nodes} street nodes; "
          f"{os.cpu_count()} CPUs, load {_load()}", flush=True)  # fmt: skip
    start = time.perf_counter()
    with dask_client("", args.workers, comm["subdistrict"].nunique()) as client:
        client.run(_warm)
        print(f"LocalCluster started in {time.perf_counter() - start:.1f} s", flush=True)
        for i in range(args.repeat):
            start = _clock()
            reference = single(net, comm, fac, project, standards)
            s_wall, s_cpu = _since(start)
            print(f"#{i + 1} single (coverage + capacity, in process): {s_wall:.2f} s wall, "
                  f"{s_cpu:.2f} CPU-s, load {_load()}", flush=True)  # fmt: skip
            start = _clock()
            payloads = cut(net, comm, fac, project, standards)
            c_wall, c_cpu = _since(start)
            sent = sum(len(pickle.dumps(p, protocol=5)) for p in payloads)
            results, t_wall, t_cpu, w_cpu = run_split(client, payloads, i)
            start = _clock()
            merged = merge(comm, fac, standards, capacity, payloads, results)
            m_wall, m_cpu = _since(start)
            cpus = [r["cpu"] for r in results]
            nodes = sum(r["nodes"] for r in results)
            workers = len(client.scheduler_info()["workers"])
            total = c_wall + t_wall + m_wall
            print(f"#{i + 1} split into {len(payloads)} parts on {workers} Dask workers: "
                  f"{total:.2f} s wall = cut {c_wall:.2f} s ({c_cpu:.2f} CPU-s) + tasks "
                  f"{t_wall:.2f} s + merge and capacity {m_wall:.2f} s ({m_cpu:.2f} CPU-s); "
                  f"load {_load()}", flush=True)  # fmt: skip
            print(f"   meanwhile this process (client, scheduler) {t_cpu:.2f} CPU-s, the workers "
                  f"{w_cpu:.2f} CPU-s in all", flush=True)  # fmt: skip
            print(f"   tasks: {sum(cpus):.2f} CPU-s in all (min {min(cpus):.2f}, max "
                  f"{max(cpus):.2f}); street nodes in the parts {nodes} = "
                  f"{nodes / net.n_nodes:.2f}× the city's; {sent / 2**20:.1f} MB sent; worker "
                  f"peak RSS {max(r['rss_mb'] for r in results):.0f} MB", flush=True)  # fmt: skip
            print(f"   single / split wall: {s_wall / total:.2f}×; split CPU (cut, this process "
                  f"meanwhile, the workers, merge) {c_cpu + t_cpu + w_cpu + m_cpu:.2f} / single "
                  f"{s_cpu:.2f} CPU-s", flush=True)  # fmt: skip
            serial, cores = c_cpu + m_cpu, (1, 2, 4, 8, 16, len(cpus))
            line = ", ".join(f"{n}: {serial + makespan(cpus, n):.2f} s" for n in cores)
            print(f"   on N idle cores, the tasks alone (cut + merge + the tasks' CPU-s spread "
                  f"longest first): {line} — single {s_cpu:.2f} s", flush=True)  # fmt: skip
            serial += t_cpu  # the client's sending and the scheduler: one process
            spread = [c * w_cpu / sum(cpus) for c in cpus]  # with unpickling and Dask's threads
            line = ", ".join(f"{n}: {serial + makespan(spread, n):.2f} s" for n in cores)
            print(f"   with this run's Dask costs (client and scheduler serial, the workers' whole "
                  f"CPU spread): {line}", flush=True)  # fmt: skip
    cov_cols = list(results[0]["coverage"].columns)
    cap_cols = [c for c in reference.columns if c not in comm.columns and c not in cov_cols]
    print(f"identical? coverage columns ({len(cov_cols)}): "
          f"{differences(reference, merged, cov_cols) or 'all equal'}; capacity columns "
          f"({len(cap_cols)}): {differences(reference, merged, cap_cols) or 'all equal'}")  # fmt: skip
    naive = naive_capacity(standards, capacity, payloads, results)
    ratios = [c for c in cap_cols if c.endswith(("_ratio", "_short", "_state"))]
    print(
        f"naive split (capacity inside each part): {differences(reference, naive, ratios)} "
        f"communities differ, of {len(comm)}"
    )


if __name__ == "__main__":
    main()
