"""Siting benchmark: parcel programmes on the generated city (2,000 parcels, 5,000 communities,
~200,000 street nodes, all 13 categories) and on the demo district.

Reports the time to the greedy plan and to the exact plan (HiGHS, or to its time limit with the
bound and gap), and the households newly (fully) covered by each. Targets: greedy plan < 10 s;
exact within 2 % of its bound in < 60 s at demo scale; city scale reported as measured.
Timings are medians of ``--repeat`` runs; other processes on the machine make them noisy.

    python benchmarks/siting.py [--repeat 3] [--time-limit 60]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.coverage.measure import compute_coverage  # noqa: E402
from spatial.analysis.siting.selector import SiteSelector, sites_summary  # noqa: E402
from spatial.config.project import Project, SitingConfig, load_project  # noqa: E402
from spatial.config.standards import load_standards  # noqa: E402
from spatial.network.access_points import polygon_access  # noqa: E402


def _plans(label, comm, parcels, std, cov, net, access, repeat, limit, objective) -> None:
    greedy_cfg = SitingConfig(exact_max_parcels=0, objective=objective)
    walls, sel = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        sel = SiteSelector(comm, parcels, std, greedy_cfg, cov, net, access).solve()
        walls.append(time.perf_counter() - start)
    g = sel.greedy
    print(f"{label} [{objective}]: greedy siting stage median {statistics.median(walls):.2f} s "
          f"(runs {', '.join(f'{w:.2f}' for w in walls)}; greedy search itself {g.seconds:.2f} s; "
          f"target < 10 s)")  # fmt: skip
    print(f"    greedy: {len(g.chosen)} facilities, newly covered {g.value.households:,.0f} "
          f"(weighted households), newly fully covered {g.value.full_coverage:,.0f} households")  # fmt: skip
    exact_cfg = SitingConfig(exact_max_parcels=10**9, exact_time_limit_s=limit, objective=objective)
    start = time.perf_counter()
    sel = SiteSelector(comm, parcels, std, exact_cfg, cov, net, access).solve()
    wall = time.perf_counter() - start
    e = sel.exact
    s = sites_summary(sel)
    gap = "n/a" if e.gap is None else f"{e.gap:.2%}"
    print(f"    exact:  status {e.status}, MILP {e.seconds:.1f} s (stage {wall:.1f} s, limit {limit:g} s), "
          f"{len(e.chosen)} facilities, newly covered {e.value.households:,.0f}, newly fully covered "
          f"{e.value.full_coverage:,.0f}; bound {e.bound if e.bound is None else f'{e.bound:,.0f}'}, "
          f"gap {gap} (target ≤ 2 %)")  # fmt: skip
    print(f"    used: {s['method']} ({s['status']}); full coverage "
          f"{s['full_coverage_households_before']:.1%} → {s['full_coverage_households_after']:.1%}; "
          f"parcels used {s['parcels_used']}, max facilities on one parcel "
          f"{int(sel.programmes['n_facilities'].max())}")  # fmt: skip


def city(repeat: int, limit: float, objective: str) -> None:
    net = citycase.street_grid()
    comm = citycase.communities()
    fac = citycase.facilities()
    parcels = citycase.parcels()
    project = Project(name="基准城市")
    std = load_standards(project)
    cov = project.coverage
    access = polygon_access(net, comm.geometry.values, cov.access_spacing_m, cov.max_snap_m)
    comm = compute_coverage(comm, fac, std, cov, net, access).communities
    print(f"city: {net.n_nodes:,} nodes, {len(comm):,} communities, {len(parcels):,} parcels, "
          f"{len(std.categories)} categories, max_sites {SitingConfig().max_sites}")  # fmt: skip
    _plans("city", comm, parcels, std, cov, net, access, repeat, limit, objective)


def demo(repeat: int, limit: float, objective: str) -> None:
    from spatial.workflow.pipeline import analyse, load_inputs

    result = analyse(load_inputs(load_project(None)), ["coverage"])
    project = result.project
    print(f"demo: {len(result.communities)} communities, {len(result.layers.parcels)} parcels")
    _plans("demo", result.communities, result.layers.parcels, result.standards,
           project.coverage, result.network, None, repeat, limit, objective)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--skip-city", action="store_true")
    args = parser.parse_args()
    for objective in ("households", "full_coverage"):
        demo(args.repeat, args.time_limit, objective)
    if not args.skip_city:
        for objective in ("households", "full_coverage"):
            city(args.repeat, args.time_limit, objective)
    print(f"peak RSS {citycase.peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
