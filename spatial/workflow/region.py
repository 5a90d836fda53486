"""The figures of a region (a city's districts, a province's cities) from its projects' runs:
one record per project, the region's totals, the region's ``summary.json``, ledger and map.

A project's record (:func:`project_record`) is taken from its run where the run is: its
``summary.json`` figures, the compounds counted for each health-check indicator
(``data/standards/health_check.toml``) and its outline (the hull of its communities, in lon/lat).
The region's figures (:func:`region_totals`) are sums of the projects' counts, and its shares the
projects' shares weighted by their households (or communities): the same numbers the planner
finds in each project's own outputs. An amount that ``summary.json`` rounds (a capacity
shortfall, to 0.1) is carried in the record unrounded too (``exact``) and rounded once, after
the projects' amounts are added.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from spatial.analysis.result import RunResult
from spatial.config.health_check import HealthIndicator, health_indicators
from spatial.outputs import staging

#: the outputs of a region, written into the batch's ``--out`` beside the project folders
REGION_FILES = ("summary.json", "ledger.xlsx", "overview.html")


def _health_counts(result: RunResult) -> dict[str, dict]:
    """Per health-check indicator: ``count`` (compounds missing the provision, or attaining the
    life circle) and ``communities``; ``count`` is None where the run did not measure the
    indicator's categories (not a zero)."""
    comm = result.communities
    out = {}
    for ind in health_indicators():
        if ind.kind == "full_coverage":
            col = comm.get("full_coverage")
            count = None if col is None else int(col.fillna(False).astype(bool).sum())
        else:
            cols = [f"{c}_ok" for c in ind.categories]
            if not cols or any(c not in comm.columns for c in cols):
                count = None
            else:
                reached = comm[cols].fillna(False).astype(bool).any(axis=1)
                count = int((~reached).sum())
        out[ind.key] = {"count": count, "communities": len(comm)}
    return out


def _outline(result: RunResult) -> dict | None:
    """The hull of the project's communities in lon/lat (GeoJSON geometry), or None."""
    comm = result.communities
    if comm is None or not len(comm):
        return None
    hull = comm.geometry.union_all().convex_hull
    import geopandas as gpd

    lonlat = gpd.GeoSeries([hull], crs=comm.crs).to_crs(4326)
    return lonlat.iloc[0].__geo_interface__


def _exact(result: RunResult) -> dict[str, dict[str, float]]:
    """The amounts of the project's ``summary.json`` that are rounded there, unrounded: per
    capacity category the shortfall, the sum of its communities' ``<category>_short`` (the
    same sum ``summary.json`` rounds to 0.1)."""
    comm = result.communities
    cats = [c for c in _capacity(result.summary) if f"{c}_short" in comm]
    return {"shortfall": {c: float(np.nansum(comm[f"{c}_short"])) for c in cats}}


def project_record(name: str, result: RunResult, folder: str) -> dict:
    """What the region needs of one project's run.

    Parameters
    ----------
    name : str
        The project's name in the region (its folder under the batch's ``--out``).
    result : RunResult
        The project's run, written.
    folder : str
        Its output folder, relative to the batch's ``--out``.

    Returns
    -------
    dict
        ``name``, ``folder``, ``status`` ("ok"), ``summary`` (the project's ``summary.json``),
        ``exact`` (its rounded amounts unrounded, :func:`_exact`), ``health`` (per indicator
        ``count`` and ``communities``), ``outline``.
    """
    return {
        "name": name,
        "folder": folder,
        "status": "ok",
        "summary": result.summary,
        "exact": _exact(result),
        "health": _health_counts(result),
        "outline": _outline(result),
    }


def _weight(summary: dict) -> float:
    """A project's weight in the region's shares: its households, else its communities."""
    households = summary.get("households")
    return float(households if households is not None else summary.get("communities", 0))


def _weighted(records: list[dict], get) -> float | None:
    """The share ``get(summary)`` over the projects, weighted by :func:`_weight`; None when a
    project lacks it."""
    pairs = [(get(r["summary"]), _weight(r["summary"])) for r in records]
    total = sum(w for _, w in pairs)
    if not pairs or any(v is None for v, _ in pairs) or not total:
        return None
    if len(pairs) == 1:
        return pairs[0][0]
    return round(sum(v * w for v, w in pairs) / total, 4)


def headline(summary: dict) -> float | None:
    """A project's headline figure: the share fully covered now (households, else communities)."""
    cov = summary.get("coverage") or {}
    if summary.get("households") is not None:
        return cov.get("full_coverage_households")
    return cov.get("full_coverage_communities")


def after_sites(summary: dict) -> float | None:
    """The share fully covered after the recommended sites (the same basis as :func:`headline`)."""
    sites = summary.get("sites") or {}
    key = "households" if summary.get("households") is not None else "communities"
    return sites.get(f"full_coverage_{key}_after")


def _sum(records: list[dict], get) -> float | int | None:
    """The sum of ``get(record)``, a float sum rounded once to 0.1 (as the projects give their
    amounts), None when one project lacks it."""
    values = [get(r) for r in records]
    if not values or any(v is None for v in values):
        return None
    total = sum(values)
    return round(total, 1) if isinstance(total, float) else total


def region_totals(records: list[dict]) -> dict:
    """The region's figures from the records of the projects that succeeded.

    Counts are sums; capacity shortfalls are the projects' unrounded shortfalls added and
    rounded once to 0.1 (:func:`_shortfall`); shares are the projects' shares weighted by
    households (by communities where a project has no household counts), to 4 decimals as in
    ``summary.json``; the health-check shares are the summed counts over the summed compounds.
    A figure one project lacks is None (not a zero).
    """
    s = lambda key: lambda r: r["summary"].get(key)  # noqa: E731
    cats = list(dict.fromkeys(c for r in records for c in _coverage(r["summary"])))
    capacity = list(dict.fromkeys(c for r in records for c in _capacity(r["summary"])))
    return {
        "projects": len(records),
        "communities": _sum(records, s("communities")),
        "old_communities": _sum(records, s("old_communities")),
        "households": _sum(records, s("households")),
        "full_coverage_now": _weighted(records, headline),
        "full_coverage_after": _weighted(records, after_sites),
        "coverage": {c: _weighted(records, lambda x, c=c: _category_share(x, c)) for c in cats},
        "bundles": _sum(records, lambda r: (r["summary"].get("bundles") or {}).get("count")),
        "sites": _sum(records, lambda r: (r["summary"].get("sites") or {}).get("count")),
        "shortfall": {c: _sum(records, lambda r, c=c: _shortfall(r, c)) for c in capacity},
        "data_problems": _sum(records, lambda r: len(r["summary"].get("warnings", []))),
        "health": {ind.key: _health_total(records, ind) for ind in health_indicators()},
    }


def _coverage(summary: dict) -> dict[str, dict]:
    """Per category, its coverage block (in the standards' order)."""
    return (summary.get("coverage") or {}).get("categories") or {}


def _category_share(summary: dict, cat: str) -> float | None:
    block = _coverage(summary).get(cat)
    if block is None:
        return None
    return block["households"] if summary.get("households") is not None else block["communities"]


def _capacity(summary: dict) -> dict[str, float]:
    """Per capacity category, the shortfall in its supply unit."""
    cats = (summary.get("capacity") or {}).get("categories") or {}
    return {c: b.get("shortfall") for c, b in cats.items() if b.get("shortfall") is not None}


def _shortfall(record: dict, cat: str) -> float | None:
    """A project's shortfall of ``cat`` unrounded (its record's ``exact``); the 0.1-rounded
    figure of its ``summary.json`` for a record that carries none."""
    exact = (record.get("exact") or {}).get("shortfall") or {}
    return exact[cat] if cat in exact else _capacity(record["summary"]).get(cat)


def _health_total(records: list[dict], ind: HealthIndicator) -> dict:
    count = _sum(records, lambda r: r["health"][ind.key]["count"])
    communities = _sum(records, lambda r: r["health"][ind.key]["communities"])
    share = round(count / communities, 4) if count is not None and communities else None
    return {"count": count, "communities": communities, "share": share}


def _without(block: dict, key: str) -> dict:
    return {k: v for k, v in block.items() if k != key}


def region_summary(name: str, records: list[dict], failed: list[dict]) -> dict:
    """The region's ``summary.json``: its totals, each project's figures (the same figures, of a
    region of that one project) and folder, and the projects that failed with their one-line
    message."""
    return {
        "region": name,
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "totals": region_totals(records),
        "projects": [
            {"name": r["name"], "folder": r["folder"], **_without(region_totals([r]), "projects")}
            for r in records
        ],
        "failed": [{k: f[k] for k in ("name", "code", "message")} for f in failed],
    }


def write_region(
    out: Path, name: str, records: list[dict], failed: list[dict], lang: str
) -> list[Path]:
    """Write the region's ``summary.json``, ledger and overview map into ``out``, all or nothing
    (:class:`spatial.outputs.staging.Staging`; the project folders are not touched).

    Returns
    -------
    list of Path
        The files written.
    """
    from spatial.outputs.html.region import write_region_map
    from spatial.outputs.ledger.region import write_region_ledger

    summary = region_summary(name, records, failed)
    with staging.Staging(out) as stage:
        write_region_ledger(stage.path / "ledger.xlsx", summary, records, failed, lang)
        outlines = [r["outline"] for r in records]
        write_region_map(stage.path / "overview.html", name, summary["projects"], outlines, lang)
        summary["outputs"] = list(REGION_FILES)
        staging.write_json(stage.path / "summary.json", summary)
        return stage.commit(list(REGION_FILES))  # what really is in ``out`` afterwards
