"""Capacity benchmark: 2SFCA for every category at city scale on the coverage's walking distances.

    python benchmarks/capacity.py [--repeat 5]

The city case (benchmarks/citycase.py: ~200,000 street nodes, 5,000 communities) with 2,000
facilities spread over all 13 GB 50180 categories. The communities' access points are computed
once, as the pipeline does for coverage, and reused; timed: the catchments (facility × community
walking distances within each category's radius) and the 2SFCA columns for all 13 categories
(the four with a policy indicator as in data/standards/capacity.toml, the other nine with a
stand-in "per 1,000 residents" indicator so that every category is measured).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.bundles.eligibility import assess_eligibility  # noqa: E402
from spatial.analysis.capacity.twostep import all_pairs, compute_capacity  # noqa: E402
from spatial.config.indicators import load_capacity  # noqa: E402
from spatial.config.project import Project  # noqa: E402
from spatial.config.standards import load_standards  # noqa: E402
from spatial.core import settings  # noqa: E402
from spatial.network.access_points import polygon_access  # noqa: E402


def indicator_table(folder: Path, standards) -> Path:
    """capacity.toml plus a stand-in indicator for every category that has none."""
    text = (settings.STANDARDS_DIR / "capacity.toml").read_text("utf-8")
    for key in standards.categories:
        if f"[indicators.{key}]" not in text:
            text += (f'\n[indicators.{key}]\nsupply = "count"\ndemand = "population"\nper = 1000\n'
                     "target = 0.2\n")  # fmt: skip
    path = folder / "capacity.toml"
    path.write_text(text, "utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--side", type=int, default=450)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    net = citycase.street_grid(args.side)
    project = Project(name="基准城市")
    std = load_standards(project)
    comm = assess_eligibility(citycase.communities(), project.policy)
    fac = citycase.facilities()
    cats = np.array(list(std.categories))
    fac["category"] = cats[np.arange(len(fac)) % len(cats)]
    with tempfile.TemporaryDirectory() as tmp:
        project.capacity.path = str(indicator_table(Path(tmp), std))
        capacity = load_capacity(project, std)
    cov = project.coverage
    print(f"case: {net.n_nodes:,} nodes, {len(comm):,} communities, {len(fac):,} facilities, "
          f"{len(capacity.indicators)} categories with an indicator")  # fmt: skip
    start = time.perf_counter()
    access = polygon_access(net, comm.geometry.values, cov.access_spacing_m, cov.max_snap_m)
    print(f"{'community access points (shared with coverage, once)':<58} "
          f"{time.perf_counter() - start:7.2f} s")  # fmt: skip
    runs, runs_pairs = [], []
    for i in range(args.repeat):
        start = time.perf_counter()
        pairs = all_pairs(comm, fac, std, capacity, cov.detour_factor, cov.max_snap_m, net, access)
        mid = time.perf_counter()
        out, _, _ = compute_capacity(comm, fac, std, capacity, pairs)
        end = time.perf_counter()
        wall = end - start
        runs.append(wall)
        runs_pairs.append(mid - start)
        print(f"{f'capacity, all categories #{i + 1}':<58} {wall:7.2f} s "
              f"(catchments {mid - start:.2f} s, 2SFCA {end - mid:.2f} s)")  # fmt: skip
    print(f"{'  … median':<58} {np.median(runs):7.2f} s (catchments {np.median(runs_pairs):.2f} s)")
    n_pairs = sum(len(p) for p in pairs.values())
    print(f"{n_pairs:,} facility × community pairs within the radii; "
          f"peak RSS {citycase.peak_rss_mb():.0f} MB")  # fmt: skip
    for key in ("elderly_daycare", "nursery", "kindergarten", "nursing_home"):
        states = out[f"{key}_state"].value_counts().to_dict()
        print(f"  {key}: shortfall {np.nansum(out[f'{key}_short']):,.0f}, states {states}")


if __name__ == "__main__":
    main()
