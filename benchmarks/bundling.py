"""Adjacency + bundling benchmark on 5,000 communities (target: under 5 s together).

    python benchmarks/bundling.py

Also times the all-pairs loop a hand-written script would use, on a sample, for the ratio.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.bundles.adjacency import barrier_lines  # noqa: E402
from spatial.analysis.bundles.eligibility import assess_eligibility  # noqa: E402
from spatial.analysis.bundles.groups import Bundler  # noqa: E402
from spatial.analysis.bundles.tables import bundle_frame  # noqa: E402
from spatial.config.project import BundlingConfig, PolicyConfig, Project  # noqa: E402
from spatial.config.standards import load_standards  # noqa: E402


def main() -> None:
    net = citycase.street_grid()
    for label, fill in (("mixed", (0.45, 0.98)), ("dense", (0.88, 0.99))):
        print(f"--- {label} layout: compounds fill {fill[0]:.0%}-{fill[1]:.0%} of their cell")
        run(net, fill)


def run(net, fill) -> None:
    comm = assess_eligibility(citycase.communities(fill=fill), PolicyConfig())
    parcels = citycase.parcels()
    cfg = BundlingConfig()
    print(f"case: {len(comm):,} communities ({int(comm['eligible'].sum()):,} eligible), "
          f"{len(parcels):,} parcels, {net.n_nodes:,} street nodes")  # fmt: skip
    start = time.perf_counter()
    barriers = barrier_lines(net, cfg, comm.crs)
    t_barriers = time.perf_counter() - start
    start = time.perf_counter()
    bundler = Bundler(comm, cfg, barriers).solve()
    t_solve = time.perf_counter() - start
    start = time.perf_counter()
    bundles, _ = bundle_frame(bundler, parcels, load_standards(Project()), comm.crs)
    t_frame = time.perf_counter() - start
    total = t_barriers + t_solve + t_frame
    print(
        f"barrier lines from the network        {t_barriers:7.2f} s ({len(barriers):,} arterial edges)"
    )
    print(f"adjacency + components + splitting    {t_solve:7.2f} s "
          f"({(~bundler.pairs['blocked']).sum():,} adjacent pairs, "
          f"{bundler.pairs['crosses_barrier'].sum():,} blocked by arterials)")  # fmt: skip
    print(f"bundle outlines, partners, text       {t_frame:7.2f} s ({len(bundles):,} bundles, "
          f"{int(bundles['members'].sum()):,} communities)")  # fmt: skip
    print(f"total                                 {total:7.2f} s   (target < 5 s)")
    print(f"households per bundle: max {bundles['households'].max():,.0f} (limit {cfg.max_households:,.0f}); "
          f"span max {bundles['span_m'].max():.0f} m (limit {cfg.max_span_m:.0f})")  # fmt: skip
    polys = comm.geometry.values
    sample = 100
    start = time.perf_counter()
    for i in range(sample):
        for j in range(i + 1, len(polys)):
            if polys[i].distance(polys[j]) <= cfg.tolerance_m:
                pass
    t_loop = (time.perf_counter() - start) * (len(polys) / 2) / sample
    print(f"all-pairs distance loop (extrapolated from {sample} rows)  {t_loop:7.1f} s  "
          f"→ the STRtree adjacency is {t_loop / t_solve:.0f}× faster than that loop alone")  # fmt: skip
    print(f"peak RSS {citycase.peak_rss_mb():.0f} MB")
    assert np.all(bundles["households"] <= cfg.max_households)
    assert shapely.is_valid(bundles.geometry.values).all()


if __name__ == "__main__":
    main()
