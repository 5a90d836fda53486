"""Siting benchmark: 2,000 parcels, 5,000 communities on the ~200,000-node city network
(target: the whole siting stage under 10 s).

    python benchmarks/siting.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.coverage import community_access, compute_coverage  # noqa: E402
from spatial.siting import SiteSelector, sites_summary  # noqa: E402


def main() -> None:
    net = citycase.street_grid()
    comm = citycase.communities()
    fac = citycase.facilities()
    parcels = citycase.parcels()
    project, std = citycase.core_project()
    cov = project.coverage
    access = community_access(net, comm.geometry.values, cov.access_spacing_m, cov.max_snap_m)
    comm, _ = compute_coverage(comm, fac, std, cov, net, access)
    print(f"case: {net.n_nodes:,} nodes, {len(comm):,} communities, {len(parcels):,} parcels, "
          f"{len(std.categories)} categories, max_sites {project.siting.max_sites}")  # fmt: skip
    for mode, network in (("network", net), ("straight line", None)):
        start = time.perf_counter()
        shared = access if network is not None else None  # as the pipeline shares them
        sel = SiteSelector(comm, parcels, std, project.siting, cov, network, shared).solve()
        wall = time.perf_counter() - start
        s = sites_summary(sel)
        methods = {k: b["method"] for k, b in s["by_category"].items()}
        print(f"{mode:<14} siting stage {wall:6.2f} s  (target < 10 s)   {s['count']} sites; "
              f"full coverage {s['full_coverage_households_before']:.1%} → "
              f"{s['full_coverage_households_after']:.1%}")  # fmt: skip
        print(f"               methods: {sorted(set(methods.values()))}")
    print(f"peak RSS {citycase.peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
