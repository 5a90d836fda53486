"""The analysis stages as :func:`spatial.workflow.pipeline.analyse` runs them: each reads the run and puts
its result into it (coverage, capacity, sites), or, for the stages that may run in a forked
worker (service areas, bundles), returns its value for :data:`STAGE_RESULTS` to put in."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from spatial.analysis.bundles.adjacency import barrier_lines
from spatial.analysis.bundles.groups import Bundler
from spatial.analysis.bundles.priority import bundle_priorities, community_priorities
from spatial.analysis.bundles.tables import bundle_frame, bundles_summary
from spatial.analysis.capacity.twostep import run_capacity
from spatial.analysis.coverage.basis import basis_summary
from spatial.analysis.coverage.measure import compute_coverage, coverage_summary
from spatial.analysis.coverage.service_areas import service_areas
from spatial.analysis.plan.coverage import coverage_by_year
from spatial.analysis.plan.planner import Planner
from spatial.analysis.plan.tables import gate_of, plan_compounds, plan_summary
from spatial.analysis.result import (
    BundlingResult,
    CapacityResult,
    PlanResult,
    RunResult,
    SitingResult,
)
from spatial.analysis.siting.selector import SiteSelector, sites_summary
from spatial.core.errors import reading
from spatial.core.problems import problem
from spatial.inputs.facility_names import empty_categories
from spatial.network.access_points import polygon_access
from spatial.network.gates import GateSet, inner_walk

Progress = Callable[[str], None]


class Timer:
    """Time a stage into ``timings[name]`` (seconds) and tell ``progress`` it started."""

    def __init__(self, timings: dict[str, float], name: str, progress: Progress | None):
        self.timings, self.name, self.progress = timings, name, progress

    def __enter__(self):
        if self.progress:
            self.progress(self.name)
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.name] = round(time.perf_counter() - self.start, 3)


def timed(call: Callable, *args) -> tuple[object, float]:
    start = time.perf_counter()
    value = call(*args)
    return value, round(time.perf_counter() - start, 3)


def coverage_stage(result: RunResult, progress: Progress | None) -> tuple:
    """Coverage (the access points are computed once, for coverage, capacity and siting);
    returns the access points and the categories of the coverage."""
    project, layers = result.project, result.layers
    with Timer(result.timings, "coverage", progress):
        access = None
        if result.network is not None:
            access = polygon_access(
                result.network,
                result.communities.geometry.values,
                project.coverage.access_spacing_m,
                project.coverage.max_snap_m,
            )
        coverage = compute_coverage(
            result.communities,
            layers.facilities,
            result.standards,
            project.coverage,
            result.network,
            access,
            gate_set(result),
        )
        result.communities = coverage.communities
        result.node_dist = {
            k: c.node_dist for k, c in coverage.categories.items() if c.node_dist is not None
        }
        result.summary["coverage"] = coverage_summary(coverage, result.standards)
        result.summary["coverage"]["access_basis"] = basis_summary(
            coverage.communities,
            coverage.outline_ok,
            coverage.gate_rule,
            result.standards,
            layers.households_known,
            gate_sources(result),
        )
        off = coverage.gates_off_network
        if off is not None and len(off):
            found = problem(
                "gates_off_network",
                "gates",
                layers.gates["gate"].to_numpy()[off],
                max_snap=f"{project.coverage.max_snap_m:g}",
            )
            layers.problems.append(found)
            result.summary["warnings"].append(found.record(project.lang))
        empty = empty_categories(layers.facilities, result.standards)
        result.summary["coverage"]["basket_without_facilities"] = empty
    used = coverage.access if coverage.access is not None else access
    return used, coverage.categories


def gate_sources(result: RunResult) -> dict[str, int] | None:
    """How many of the run's gates came from its gate layer (``layer``), or from the OSM file's
    gate nodes (``osm_node``) and its footways crossing the outlines (``osm_crossing``)."""
    gates = result.layers.gates
    if gates is None:
        return None
    osm = result.project.gates.path.strip().lower() == "osm"
    counts = gates["source"].value_counts()
    return {k: int(counts.get(k, 0)) for k in (("osm_node", "osm_crossing") if osm else ("layer",))}


def gate_set(result: RunResult) -> GateSet | None:
    """The run's gates with the walk inside each compound, or None without a gate layer."""
    gates, cfg = result.layers.gates, result.project.gates
    if gates is None:
        return None
    xy = shapely.get_coordinates(gates.geometry.values)
    comm = gates["comm"].to_numpy(int)
    polygons = result.communities.geometry.values
    inner = inner_walk(polygons, xy, comm, cfg.inner, cfg.inner_detour)
    return GateSet(xy, comm, inner, cfg.inner)


def capacity_stage(result: RunResult, access, progress: Progress | None):
    project = result.project
    with Timer(result.timings, "capacity", progress):
        comm, found, block, capacity = run_capacity(
            result.communities,
            result.layers.facilities,
            result.standards,
            project,
            result.network,
            access,
        )
        result.communities = comm
        result.capacity = CapacityResult(capacity, tuple(found), block["categories"])
        result.layers.problems += found
        result.summary["warnings"] += [p.record(project.lang) for p in found]
        result.summary["capacity"] = block
    return capacity


def service_areas_stage(result: RunResult, categories) -> gpd.GeoDataFrame:
    project, layers = result.project, result.layers
    return service_areas(
        result.network,
        layers.facilities,
        categories,
        result.standards,
        project.coverage,
        layers.crs,
    )


def set_service_areas(result: RunResult, areas: gpd.GeoDataFrame) -> None:
    result.service_areas = areas


def sites_stage(result: RunResult, access, capacity) -> None:
    project = result.project
    selector = SiteSelector(
        result.communities,
        result.layers.parcels,
        result.standards,
        project.siting,
        project.coverage,
        result.network,
        access,
        capacity=capacity,
    ).solve()
    block = sites_summary(selector)
    result.siting = SitingResult(
        sites=selector.sites,
        programmes=selector.programmes,
        unserved=selector.unserved,
        reach=selector.reach,
        notes=tuple(block["notes"]),
        sizing=block["sizing"],
    )
    result.summary["sites"] = block


def bundle_stage(result: RunResult) -> tuple:
    """The bundles and the priority lists of ``result`` (read only): each community's bundle
    id, the :class:`BundlingResult` and the summary's ``bundles`` block."""
    project, layers = result.project, result.layers
    cfg = project.bundling
    barrier_file = project.resolve(cfg.barrier_path) if cfg.barrier_path else None
    guard = reading(barrier_file, "what_barrier")
    with guard if barrier_file else contextlib.nullcontext():
        barriers = barrier_lines(result.network, cfg, layers.crs, barrier_file)
    bundler = Bundler(result.communities, cfg, barriers).solve()
    bundles, bundle_id = bundle_frame(
        bundler, layers.parcels, result.standards, layers.crs, project.policy
    )
    comm = result.communities.copy()
    comm["bundle_id"] = bundle_id
    ranked = community_priorities(comm, project.priority, project.policy)
    ranked_bundles = bundle_priorities(bundles, comm, project.priority, project.policy)
    bundles = bundles.merge(
        ranked_bundles[["bundle_id", "score", "rank", "reasons"]], on="bundle_id"
    )
    bundling = BundlingResult(
        bundles=bundles.sort_values("rank").reset_index(drop=True),
        priority=ranked,
        notes=tuple(bundler.notes),
    )
    return comm["bundle_id"], bundling, bundles_summary(bundles, bundler, comm)


def set_bundles(result: RunResult, value: tuple) -> None:
    bundle_id, bundling, block = value
    comm = result.communities.copy()
    comm["bundle_id"] = bundle_id
    result.communities = comm
    result.bundling = bundling
    result.summary["bundles"] = block
    result.summary["priority"] = {"weights": dict(result.project.priority.__dict__)}


def _warn_unplaced_work(result: RunResult, compounds, end: int) -> None:
    """Finished or started compounds without a year up to ``end`` count against no year's caps:
    a data problem naming them (``plan_status_no_year``), never a silent zero."""
    fixed = compounds["status"].isin(["done", "started"]).to_numpy(bool)
    year = compounds["status_year"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        loose = fixed & ~(year <= end)
    if loose.any():
        found = problem(
            "plan_status_no_year", "communities", compounds["cid"].to_numpy()[loose], end=end
        )
        result.layers.problems.append(found)
        result.summary["warnings"].append(found.record(result.project.lang))


def plan_stage(result: RunResult, progress: Progress | None) -> None:
    """The programme by year (年度计划) of the eligible compounds and bundles, when the project
    has a ``[plan]`` section and the bundles are known."""
    project = result.project
    cfg = project.plan
    if cfg is None or result.bundling is None:
        return
    with Timer(result.timings, "plan", progress):
        path = project.resolve(project.communities.path)
        comm = result.communities
        compounds = plan_compounds(comm, result.bundling.priority, cfg, path)
        _warn_unplaced_work(result, compounds, cfg.end)
        planner = Planner(compounds, cfg, gate_of(comm, cfg, project.policy)).solve()
        outlines = comm.set_index(comm["cid"].astype(str)).geometry
        frame = gpd.GeoDataFrame(
            planner.plan.drop(columns=["status", "status_year"]),
            geometry=outlines.reindex(planner.plan["cid"]).to_numpy(),
            crs=comm.crs,
        )
        years = planner.years
        block = plan_summary(planner)
        if result.siting is not None and "gaps" in comm and planner.solution.status != "infeasible":
            grows = coverage_by_year(
                comm, result.siting.sites, planner.plan, result.standards.basket, planner.year_list
            )
            years = years.assign(
                full_coverage_households=[y["full_coverage_households"] for y in grows["by_year"]],
                sites=[y["sites"] for y in grows["by_year"]],
            )
            block["coverage"] = grows
        result.plan = PlanResult(plan=frame, years=years)
        result.summary["plan"] = block


#: how a stage run on the side puts its value into the run
STAGE_RESULTS = {"service_areas": set_service_areas, "bundle": set_bundles}
