"""Service-area layer on the city case: faces-based build vs buffering every piece and dissolving.

    python benchmarks/service_areas.py [--repeat 3] [--no-old] [--demo]

Times ``service_areas`` (8 core categories, threads over categories) and, unless ``--no-old``,
the previous construction (buffer every reached piece, ``union_all`` per category, same threads),
then measures how far apart the two polygons are per category: relative area difference,
symmetric difference, and the farthest point of either outside the other (in metres).
``--demo``: the same on the embedded demo district (``data/demo``) instead of the city case.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.coverage.measure import compute_coverage  # noqa: E402
from spatial.analysis.coverage.service_areas import QUAD_SEGS, reached_pieces, service_areas  # noqa: E402


def _far(a, b) -> float:
    """The farthest vertex of ``a`` outside ``b`` from ``b`` (m)."""
    pts = shapely.points(shapely.get_coordinates(shapely.difference(a, b)))
    return float(shapely.distance(pts, b).max()) if len(pts) else 0.0


def _demo():
    """The demo district's network, communities, facilities, project and standards."""
    from spatial.analysis.bundles.eligibility import assess_eligibility
    from spatial.config.project import load_project
    from spatial.core.settings import DEMO_DIR
    from spatial.workflow import pipeline

    project = load_project(DEMO_DIR / "project.toml")
    run = pipeline.load_inputs(project)
    comm = assess_eligibility(run.layers.communities, project.policy)
    return run.network, comm, run.layers.facilities, project, run.standards


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-old", action="store_true")
    parser.add_argument("--demo", action="store_true", help="the demo district, not the city")
    args = parser.parse_args()
    if args.demo:
        net, comm, fac, project, std = _demo()
    else:
        net = citycase.street_grid()
        comm, fac = citycase.communities(), citycase.facilities()
        project, std = citycase.core_project()
    cfg = project.coverage
    res = compute_coverage(comm, fac, std, cfg, net).categories
    runs, cpu = [], []
    print(f"load average before: {os.getloadavg()}")
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        new = service_areas(net, fac, res, std, cfg, net.edges.crs)
        runs.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)  # all threads of the process
    print(f"service_areas (faces): wall {[round(r, 2) for r in runs]} s, median "
          f"{np.median(runs):.2f} s; CPU {[round(c, 2) for c in cpu]} s, median "
          f"{np.median(cpu):.2f} s; load average after: {os.getloadavg()}")  # fmt: skip
    if args.no_old:
        return

    def old_area(key):
        pieces, _, _ = reached_pieces(net, res[key].node_dist, std.categories[key].radius_m)
        buffered = shapely.buffer(pieces, cfg.service_area_buffer_m, quad_segs=QUAD_SEGS)
        return len(pieces), shapely.union_all(buffered)

    keys = list(new["category"])
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        old = dict(zip(keys, pool.map(old_area, keys), strict=True))
    print(f"buffer every piece + union_all (before): {time.perf_counter() - start:.2f} s")
    for key, geom in zip(new["category"], new.geometry, strict=True):
        n, ref = old[key]
        sym = shapely.symmetric_difference(ref, geom).area / ref.area
        print(f"  {key:16s} {n:7d} pieces  area {geom.area / ref.area - 1:+.4%}  "
              f"sym diff {sym:.4%}  new outside old {_far(geom, ref):.2f} m  "
              f"old outside new {_far(ref, geom):.2f} m")  # fmt: skip


if __name__ == "__main__":
    main()
