"""What the thread pools of :mod:`spatial.core.parallel` buy: the service areas (a category a
thread) and the print maps (a page's PNG encoded while the next is drawn), each with threads
(this process's cores) and with one core (as in a forked worker's share on a 2-core machine: every
call in the caller's thread), alternated; wall and CPU time, with the load average.

    python benchmarks/threads.py service_areas demo [--repeat 5]
    python benchmarks/threads.py service_areas city [--repeat 3]
    python benchmarks/threads.py print_maps demo|city [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402
import print_pack  # noqa: E402
import service_areas as sa_bench  # noqa: E402

from spatial.analysis.coverage.measure import compute_coverage  # noqa: E402
from spatial.analysis.coverage.service_areas import service_areas  # noqa: E402
from spatial.core import parallel  # noqa: E402
from spatial.outputs.printing.pack import write_map_pages  # noqa: E402


def _service_areas(case: str):
    if case == "demo":
        net, comm, fac, project, std = sa_bench._demo()
    else:
        net = citycase.street_grid()
        comm, fac = citycase.communities(), citycase.facilities()
        project, std = citycase.core_project()
    res = compute_coverage(comm, fac, std, project.coverage, net).categories
    return lambda: service_areas(net, fac, res, std, project.coverage, net.edges.crs)


def _print_maps(case: str):
    result = print_pack._demo() if case == "demo" else print_pack._city()

    def call() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            write_map_pages(result, Path(tmp), "zh", Path(tmp) / "maps.pdf")

    return call


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["service_areas", "print_maps"])
    parser.add_argument("case", choices=["demo", "city"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    call = (_service_areas if args.what == "service_areas" else _print_maps)(args.case)
    found: dict[str, list[tuple[float, float, float]]] = {"threads": [], "one core": []}
    for _ in range(args.repeat):
        for mode in found:
            parallel._SHARE = None if mode == "threads" else 1  # a forked worker's share
            load = os.getloadavg()[0]
            start, cpu = time.perf_counter(), time.process_time()
            call()
            found[mode].append((time.perf_counter() - start, time.process_time() - cpu, load))
    parallel._SHARE = None
    for mode, rows in found.items():
        wall, cpu, load = (np.array(c) for c in zip(*rows, strict=True))
        print(f"{args.what} {args.case} {mode:8s} ({parallel.cores_here() if mode == 'threads' else 1}"
              f" cores): wall {np.round(wall, 2).tolist()} median {np.median(wall):.2f} s; CPU "
              f"{np.round(cpu, 2).tolist()} median {np.median(cpu):.2f} s; load "
              f"{np.round(load, 1).tolist()}")  # fmt: skip


if __name__ == "__main__":
    main()
