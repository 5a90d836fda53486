"""The programme by year (年度计划) at city scale: 5,000 communities, their bundles, 5 years with
binding annual caps and both deadlines (target: solved in under 30 s, or its gap stated).

    python benchmarks/plan.py [--time-limit 30]

Prints the instance (eligible compounds, bundles, items), the exact solve (status, gap,
seconds) and the greedy fallback's objective for comparison.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import citycase  # noqa: E402

from spatial.analysis.bundles.eligibility import assess_eligibility  # noqa: E402
from spatial.analysis.bundles.groups import Bundler  # noqa: E402
from spatial.analysis.bundles.priority import community_priorities  # noqa: E402
from spatial.analysis.bundles.tables import bundle_frame  # noqa: E402
from spatial.analysis.plan.planner import Planner  # noqa: E402
from spatial.analysis.plan.tables import plan_compounds  # noqa: E402
from spatial.config.project import BundlingConfig, PolicyConfig, PriorityConfig, Project  # noqa: E402
from spatial.config.schema import PlanConfig  # noqa: E402
from spatial.config.standards import load_standards  # noqa: E402

LAYOUTS = {"mixed": (0.45, 0.98), "dense": (0.88, 0.99)}  # as benchmarks/bundling.py


def case(layout: str = "dense"):
    """The city's eligible compounds with bundles and priority scores (the plan's input)."""
    comm = assess_eligibility(citycase.communities(fill=LAYOUTS[layout]), PolicyConfig())
    bundler = Bundler(comm, BundlingConfig()).solve()
    bundles, bundle_id = bundle_frame(
        bundler, citycase.parcels(), load_standards(Project()), comm.crs
    )
    comm["bundle_id"] = bundle_id
    ranked = community_priorities(comm, PriorityConfig(), PolicyConfig())
    return comm, bundles, ranked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--layout", choices=list(LAYOUTS), default="dense")
    parser.add_argument("--tight", type=float, default=1.1, help="caps × this of an even spread")
    args = parser.parse_args()
    comm, bundles, ranked = case(args.layout)
    compounds = plan_compounds(comm, ranked, PlanConfig(start=2027, end=2031), Path("city"))
    gate = 2 / 3
    passing = compounds.loc[compounds["willingness"] >= gate]
    per_year = float(passing["households"].sum()) / 5
    cfg = PlanConfig(start=2027, end=2031, max_households=round(per_year * args.tight),
                     max_compounds=int(len(passing) / 5 * args.tight), unit_cost=400.0,
                     max_investment=round(float(passing["floor_area"].sum()) * 400 / 1e4 / 5 * args.tight),
                     priority_by=2030, share=0.4, share_by=2030, time_limit_s=args.time_limit)  # fmt: skip
    compounds = plan_compounds(comm, ranked, cfg, Path("city"))
    print(f"case: {len(comm):,} communities, {len(compounds):,} eligible, {len(bundles):,} bundles "
          f"({int(bundles['members'].sum()):,} compounds); {len(passing):,} pass the 2/3 gate; "
          f"caps per year: {cfg.max_households:,.0f} households, {cfg.max_compounds} compounds, "
          f"{cfg.max_investment:,.0f} 万元; priority by {cfg.priority_by}, "
          f"{cfg.share:.0%} by {cfg.share_by}; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")  # fmt: skip
    for method in ("exact", "greedy"):
        cfg.method = method
        start = time.perf_counter()
        planner = Planner(compounds, cfg, gate).solve()
        seconds = time.perf_counter() - start
        sol = planner.solution
        gap = f"{sol.gap:.4%}" if sol.gap is not None else "-"
        print(f"{method:6s}: status {sol.status}, objective {sol.objective:,.0f}, "
              f"bound {sol.bound or 0:,.0f}, gap {gap}, solver {sol.seconds:.2f} s, "
              f"whole stage {seconds:.2f} s, shortfall {planner.shortfall}")  # fmt: skip
        print(planner.years[["year", "compounds", "bundles", "households", "investment"]]
              .to_string(index=False))  # fmt: skip
        plan = planner.plan
        if planner.diagnosis:
            print(f"diagnosis: {planner.diagnosis}")
        # a bundle's planned members share one year (members below the gate wait in the reserve)
        placed = plan.loc[plan["state"] == "planned"].dropna(subset=["bundle_id"])
        assert np.all(placed.groupby("bundle_id")["year"].nunique() == 1)


if __name__ == "__main__":
    main()
