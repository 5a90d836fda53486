"""Parcel programmes: the MILP against spopt's MCLP, honest solver labels, capacities and
exclusivity, objectives, and the demo's plan read as a reviewer would."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from spatial.analysis.siting.milp import exact_plan, solver_status
from spatial.analysis.siting.programmes import Instance, feasible, greedy_plan, single_category
from spatial.analysis.siting.selector import NotSolvedError, SiteSelector, sites_summary
from spatial.config.project import SitingConfig

from .test_siting import _case


def _covered(sets, weights, chosen) -> float:
    return float(weights[np.unique(np.concatenate([sets[p] for p in chosen]))].sum())


def test_greedy_can_miss_the_optimum_and_exact_finds_it():
    sets = {0: np.array([0, 1, 2, 3]), 1: np.array([0, 1, 4]), 2: np.array([2, 3, 5])}
    inst = single_category(sets, np.ones(6), 2)
    greedy, exact = greedy_plan(inst), exact_plan(inst)
    assert list(greedy.chosen) == [0, 1] and greedy.value.households == 5
    assert list(exact.chosen) == [1, 2] and exact.value.households == 6
    assert exact.status == "optimal" and exact.gap == pytest.approx(0, abs=1e-6)


def _spopt_mclp(cost: np.ndarray, weights: np.ndarray, radius: float, p: int) -> float:
    pulp = pytest.importorskip("pulp")
    from spopt.locate import MCLP

    with warnings.catch_warnings():  # PuLP 3 announces its 4.0 API changes on every variable
        warnings.simplefilter("ignore", DeprecationWarning)
        model = MCLP.from_cost_matrix(cost, weights, radius, p)
        model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    assert model.problem.status == pulp.LpStatusOptimal
    covered = np.unique([c for clients in model.fac2cli for c in clients]).astype(int)
    return float(weights[covered].sum())


def _sets(cost: np.ndarray, radius: float) -> dict[int, np.ndarray]:
    return {f: np.flatnonzero(cost[:, f] <= radius) for f in range(cost.shape[1])}


@pytest.mark.parametrize("seed", range(4))
def test_single_category_exact_equals_spopt_mclp_on_random_instances(seed):
    pytest.importorskip("spopt")
    rng = np.random.default_rng(seed)
    clients, sites = rng.uniform(0, 1000, (60, 2)), rng.uniform(0, 1000, (20, 2))
    cost = np.hypot(*(clients[:, None, :] - sites[None, :, :]).transpose(2, 0, 1))
    weights = rng.integers(10, 500, 60).astype(float)
    sets = _sets(cost, 250.0)
    inst = single_category(sets, weights, 4)
    exact = exact_plan(inst)
    assert exact.status == "optimal"
    assert exact.value.households == pytest.approx(_spopt_mclp(cost, weights, 250.0, 4))
    assert exact.value.households == pytest.approx(_covered(sets, weights, exact.chosen))
    greedy = greedy_plan(inst)
    assert exact.value.households >= greedy.value.households
    assert greedy.value.households >= (1 - 1 / np.e) * exact.value.households


def test_san_francisco_mclp_case_as_published_by_spopt():
    """spopt's San Francisco case (shipped with spopt's tests): 205 tracts, 16 stores, 5,000 m,
    p = 4 covers 875,247 people."""
    spopt = pytest.importorskip("spopt")
    data = Path(spopt.__file__).parent / "tests" / "test_locate" / "data"
    dist_file = data / "SF_network_distance_candidateStore_16_censusTract_205_new.csv"
    if not dist_file.exists():
        pytest.skip("spopt's San Francisco data not installed")
    dist = pd.read_csv(dist_file)
    cost = dist.pivot_table(values="distance", index="DestinationName", columns="name")
    demand = pd.read_csv(data / "SF_demand_205_centroid_uniform_weight.csv").sort_values("NAME")
    assert list(demand["NAME"].astype(str)) == [str(i) for i in cost.index]
    weights = demand["POP2000"].to_numpy(float)
    assert cost.shape == (205, 16)
    inst = single_category(_sets(cost.to_numpy(), 5000.0), weights, 4)
    exact = exact_plan(inst)
    assert exact.status == "optimal"
    assert exact.value.households == 875_247
    assert _spopt_mclp(cost.to_numpy(), weights, 5000.0, 4) == 875_247


def _hard_instance(seed: int = 0) -> Instance:
    rng = np.random.default_rng(seed)
    n_opt, n_comm = 600, 4000
    sets = {p: rng.choice(n_comm, 40, replace=False) for p in range(n_opt)}
    return single_category(sets, rng.integers(50, 500, n_comm).astype(float), 25)


def test_a_time_limited_solve_is_never_labelled_optimal():
    plan = exact_plan(_hard_instance(), time_limit=0.01)
    assert plan.status in ("time_limit", "no_solution")
    assert plan.status != "optimal"
    if plan.status == "time_limit":
        assert plan.bound >= plan.value.households and plan.gap >= 0


@pytest.mark.parametrize(
    ("status", "gap", "label"),
    [(0, 0.0, "optimal"), (0, 5e-5, "optimal"), (0, 0.03, "stopped"), (1, 0.0, "time_limit"),
     (1, 0.2, "time_limit"), (1, None, "time_limit"), (4, None, "stopped")],
)  # fmt: skip
def test_solver_status_labels(status, gap, label):
    assert solver_status(SimpleNamespace(status=status, mip_gap=gap)) == label


def _two_keys(max_sites: int = 1, land=(100.0, 100.0), floor=(100.0, 100.0), own=(False, False)):
    """Two categories A, B on two parcels; c0 (100 hh) lacks A and B, c1 (150) and c2 (120) lack
    A or B and the basket category C, which no parcel offers."""
    hh = np.array([100.0, 150.0, 120.0])
    gap = np.array([[True, True], [True, False], [False, True]])
    # options: A@p0 → c1, A@p1 → c0, B@p1 → c2, B@p0 → c0
    opt_parcel, opt_key = np.array([0, 1, 1, 0]), np.array([0, 0, 1, 1])
    cover = sparse.csr_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1], [1, 0, 0]], bool))
    return Instance(
        keys=["A", "B"], hh=hh, gap=gap, basket_gaps=np.array([2, 2, 2]),
        in_basket=np.array([True, True]), weight=np.ones(2), opt_parcel=opt_parcel,
        opt_key=opt_key, cover=cover, land=np.array(land), floor=np.array(floor),
        need_land=np.array([40.0, 40.0]), need_floor=np.array([60.0, 60.0]),
        own=np.array(own), max_sites=max_sites,
    )  # fmt: skip


def test_objective_households_or_full_coverage():
    inst = _two_keys()
    inst.basket_gaps[0] = 2  # c0 can be made full by A@p1 and B@p0
    inst.basket_gaps[1:] = 2  # c1, c2 also lack C: never full
    for plan in (greedy_plan(inst, "households"), exact_plan(inst, "households")):
        assert plan.value.households == 270 and plan.value.full_coverage == 0
    for plan in (greedy_plan(inst, "full_coverage"), exact_plan(inst, "full_coverage")):
        assert plan.value.full_coverage == 100 and plan.value.households == 200
        assert sorted(plan.chosen.tolist()) == [1, 3]


def test_sizes_add_up_against_the_parcel_and_own_land_excludes_others():
    # floor 100 per parcel, each facility 60: one facility per parcel
    inst = _two_keys(max_sites=2)
    for plan in (greedy_plan(inst), exact_plan(inst)):
        assert feasible(inst, plan.chosen)
        assert len(set(inst.opt_parcel[plan.chosen].tolist())) == len(plan.chosen)
    assert exact_plan(inst).value.households == 270  # A@p0 (c1, 150) + B@p1 (c2, 120)
    # room for two facilities per parcel, but A needs its own land: never beside B
    inst = _two_keys(max_sites=2, land=(500.0, 500.0), floor=(500.0, 500.0), own=(True, False))
    for plan in (greedy_plan(inst), exact_plan(inst)):
        assert feasible(inst, plan.chosen)
        for p in set(inst.opt_parcel[plan.chosen].tolist()):
            here = plan.chosen[inst.opt_parcel[plan.chosen] == p]
            assert len(here) == 1 or not inst.own[inst.opt_key[here]].any()
    # shared facilities may stack when the sizes allow
    inst = _two_keys(max_sites=2, land=(500.0, 500.0), floor=(500.0, 500.0))
    plan = exact_plan(inst)
    assert plan.value.households == 470 and plan.status == "optimal"  # all four options


def test_results_before_solve_raise_a_clear_error():
    net, comm, parcels, std, project = _case()
    sel = SiteSelector(comm, parcels, std, SitingConfig(), project.coverage, net)
    with pytest.raises(NotSolvedError, match="solve"):
        sites_summary(sel)
    with pytest.raises(NotSolvedError, match="solve"):
        _ = sel.sites
    assert sites_summary(sel.solve())["count"] == 2


def test_category_without_size_is_not_sited_unless_the_project_gives_one():
    net, comm, parcels, std, project = _case()
    std.categories["market"] = dataclasses.replace(std.categories["market"], building_m2=None)
    sel = SiteSelector(comm, parcels, std, SitingConfig(), project.coverage, net).solve()
    assert len(sel.sites) == 0 and any("no minimum size" in n.render("en") for n in sel.notes)
    cfg = SitingConfig(min_area={"market": 2500})
    sel = SiteSelector(comm, parcels, std, cfg, project.coverage, net).solve()
    assert list(sel.sites["pid"]) == ["P2"]  # only P2 (3,000 m²) offers 2,500 m² of land


def test_demo_plan_is_defensible_and_reach_is_exposed(demo_analysis):
    from spatial.config.project import load_project
    from spatial.config.standards import load_standards

    result = demo_analysis(["coverage", "sites"], basemap=None)
    progs = result.siting.programmes
    sites = result.siting.sites
    std = load_standards(load_project(None))
    assert len(progs) == len(result.layers.parcels)
    assert (progs["land_used_m2"] <= progs["land_m2"] + 1e-6).all()
    assert (progs["floor_used_m2"] <= progs["floor_m2"] + 1e-6).all()
    own = {"primary_school", "middle_school", "nursing_home", "health_center", "kindergarten"}
    for pid, group in sites.groupby("pid"):
        if set(group["category"]) & own:
            assert len(group) == 1, pid
        for key in group["category"]:
            land = std.categories[key].land_m2
            if land:
                assert group["area_m2"].iloc[0] >= land[0], (pid, key)
    assert progs["n_facilities"].max() <= 5
    assert set(progs.loc[progs["status"] != "picked", "reason_code"]) <= {
        "too_small", "kind_not_allowed", "not_needed", "unavailable", "outside"}  # fmt: skip
    s = result.summary["sites"]
    assert s["exact"]["status"] == "optimal" and s["optimal"] and s["gap"] == pytest.approx(0)
    assert s["exact"]["objective_value"] >= s["greedy"]["objective_value"]
    assert s["full_coverage_households_after"] > s["full_coverage_households_before"]
    assert set(s["by_subdistrict"]) == set(result.communities["subdistrict"].astype(str))
    reach = result.siting.reach
    assert list(reach.columns) == ["pid", "cid", "distance_m"]
    assert set(reach["pid"]) <= set(result.layers.parcels["pid"])
    assert set(sites["pid"]) <= set(reach["pid"])
    assert reach["distance_m"].max() <= max(c.radius_m for c in std.categories.values())


def test_unknown_objective_is_a_config_error(tmp_path):
    from spatial.config.project import load_project, validate_project
    from spatial.core.errors import ConfigError

    project = load_project(None)
    project.siting.objective = "cheapest"
    with pytest.raises(ConfigError, match=r"\[siting\] objective = 'cheapest'"):
        validate_project(project, tmp_path / "project.toml")
    project.siting.objective = "households"
    validate_project(project, tmp_path / "project.toml")
