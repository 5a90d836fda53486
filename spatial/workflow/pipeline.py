"""The run: load → validate → project → analyse → render, with timings for ``summary.json``."""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from pathlib import Path

import geopandas as gpd

from spatial.analysis.bundles.eligibility import (
    assess_eligibility,
    eligibility_summary,
    last_full_year,
)
from spatial.analysis.capacity.tables import bundle_totals
from spatial.analysis.result import RunResult, gpkg_layers
from spatial.config.project import Project, input_paths, project_warnings
from spatial.config.standards import load_standards
from spatial.core import parallel, settings
from spatial.core.crs import describe
from spatial.core.errors import ConfigError, InputError, LifecircleError, OutputError, reading
from spatial.core.input_guard import check_inputs as check_input_files
from spatial.core.messages import render, render_frame
from spatial.inputs.facility_names import dropped_records, headline_notes
from spatial.inputs.files import check_data_file
from spatial.inputs.load import load_layers
from spatial.network.alignment import check_alignment
from spatial.network.crossings import with_crossing_gates
from spatial.network.elevation import read_elevation
from spatial.network.read import download_network, read_network
from spatial.outputs import staging
from spatial.workflow.stages import (
    STAGE_RESULTS,
    Progress,
    Timer,
    bundle_stage,
    capacity_stage,
    coverage_stage,
    plan_stage,
    service_areas_stage,
    sites_stage,
    timed,
)
from spatial.workflow.write import print_font, write_map_files

ALL_STAGES = settings.ALL_STAGES


def load_inputs(project: Project, progress: Progress | None = None, place: str = "") -> RunResult:
    """Load and validate the inputs (``load.load_layers``) and the walking network."""
    check_inputs(project)
    timings: dict[str, float] = {}
    with Timer(timings, "load", progress):
        standards = load_standards(project)
        layers = load_layers(project, standards)
        layers.problems[:0] = project_warnings(project)  # e.g. a Web Mercator analysis CRS
    result = RunResult(project, standards, layers, timings=timings)
    with Timer(timings, "network", progress):
        if project.network.path:
            path = project.resolve(project.network.path)
            with reading(path, "what_network"):
                check_data_file(path)  # a link to a system file: its lines are never quoted
                result.network = read_network(path, layers.crs, project.network)
        elif place or project.network.place:
            result.network = download_network(
                place or project.network.place, layers.crs, project.network.min_connected_share
            )
        if result.network is not None and project.network.elevation:  # hills (Tobler)
            read_elevation(result.network, project.resolve(project.network.elevation))
        osm_gates = project.gates.path.strip().lower() == "osm"
        if result.network is not None and layers.gates is not None and osm_gates:
            report = next((r for r in layers.reports if r.layer == "gates"), None)
            layers.gates = with_crossing_gates(
                layers.gates, result.network, layers.communities, project.gates.tolerance_m, report
            )  # and where the footways cross the outlines
        if result.network is not None:
            layers.problems += result.network.problems  # e.g. streets cut at the extract's edge
            if result.network.report is not None:  # a road layer: its columns and values
                layers.reports.append(result.network.report)
        check_alignment(result)  # communities drawn on a Gaode map but saved as WGS84
    return result


def base_summary(result: RunResult, lang: str | None = None) -> dict:
    """The summary figures every command writes; ``warnings`` lists the data problems met.

    Without household counts (``households = "none"``) no household figure is given: the keys
    are null and ``households_known`` is false.
    """
    comm = result.communities
    net = result.network
    known = result.layers.households_known
    return {
        "project": result.project.name,
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "crs": describe(result.layers.crs),
        "communities": len(comm),
        "households": int(comm["households"].fillna(0).sum()) if known else None,
        "households_known": known,
        "communities_with_households": int(comm["households"].notna().sum()),
        "old_communities": int(
            (comm["built_year_max"] <= last_full_year(result.project.policy.old_cutoff)).sum()
        ),
        "facilities": len(result.layers.facilities),
        "parcels": len(result.layers.parcels),
        "unknown_categories": result.layers.unknown_categories,
        "network": {
            "source": net.source if net else "",
            "nodes": net.n_nodes if net else 0,
            "edges": len(net.edges) if net else 0,
            "dropped_disconnected_nodes": net.dropped_nodes if net else 0,
            "largest_part_share": round(net.largest_share, 4) if net else None,
        },
        "inputs": [r.record(lang or result.project.lang) for r in result.layers.reports],
        "warnings": [p.record(lang or result.project.lang) for p in result.layers.problems],
        "facilities_dropped": dropped_records(
            result.layers.dropped_facilities, lang or result.project.lang
        ),
    }


def _no_household_figures(block: object) -> None:
    """Null every household figure in a summary block (the data has no household counts)."""
    if isinstance(block, dict):
        for key, value in block.items():
            if "households" in key and key not in (
                "households_known",
                "communities_with_households",
            ):
                block[key] = None
            else:
                _no_household_figures(value)
    elif isinstance(block, list):
        for item in block:
            _no_household_figures(item)


def analyse(
    result: RunResult, stages: Iterable[str], progress: Progress | None = None
) -> RunResult:
    """Run the analysis stages on loaded inputs (``result`` is filled in place): coverage and
    capacity, then the service areas, the bundles and the sites (side by side in forked workers
    for a large run: :mod:`spatial.core.parallel`)."""
    stages = set(stages)
    project, layers = result.project, result.layers
    result.communities = assess_eligibility(layers.communities, project.policy)
    result.summary = base_summary(result)
    result.summary["eligibility"] = eligibility_summary(result.communities)
    access = capacity = None
    if "coverage" in stages:
        access, categories = coverage_stage(result, progress)
        capacity = capacity_stage(result, access, progress)
    calls = {}  # the stages that only read what is computed so far
    if "coverage" in stages:
        calls["service_areas"] = partial(timed, service_areas_stage, result, categories)
    if "bundle" in stages:
        calls["bundle"] = partial(timed, bundle_stage, result)
    together = len(calls) + ("sites" in stages and "coverage" in stages)  # stages to overlap
    side = together >= 2 and parallel.worth_it(len(result.communities))
    with parallel.started(list(calls.values())) if side else contextlib.nullcontext() as futures:
        pending = dict(zip(calls, futures, strict=True)) if side else {}
        if "sites" in stages and "coverage" in stages:
            with Timer(result.timings, "sites", progress):
                sites_stage(result, access, capacity)
        for name, call in calls.items():
            if progress:
                progress(name)
            value, seconds = pending[name].result() if side else call()
            STAGE_RESULTS[name](result, value)
            result.timings[name] = seconds
    if "bundle" in stages and result.capacity is not None:
        result.summary["capacity"]["by_bundle"] = bundle_totals(
            result.communities, result.capacity.settings
        )
    if "plan" in stages:
        plan_stage(result, progress)
    if not layers.households_known:
        _no_household_figures(result.summary)
    localise_summary(result, project.lang)
    return result


def localise_summary(result: RunResult, lang: str) -> None:
    """Put the texts of ``result.summary`` a planner reads in ``lang``: the load notes of each
    input, the data problems, the notes of the bundle and sites stages, the priority reasons and
    bundle descriptions, and the sizing units (kept as catalogue texts on the result, so a run
    written with ``--lang`` reads in that language)."""
    s = result.summary
    result.summary_lang = lang
    s["inputs"] = [r.record(lang) for r in result.layers.reports]
    s["warnings"] = [p.record(lang) for p in result.layers.problems]
    s["facilities_dropped"] = dropped_records(result.layers.dropped_facilities, lang)
    s["headline_notes"] = headline_notes(result, lang)
    for block, stage in (("bundles", result.bundling), ("sites", result.siting)):
        if block in s and stage is not None:
            s[block]["notes"] = [n.render(lang) for n in stage.notes]
    if "capacity" in s and result.capacity is not None:
        s["capacity"]["categories"] = render(result.capacity.categories, lang)
    if "sites" in s and result.siting is not None:
        s["sites"]["sizing"] = render(result.siting.sizing, lang)
    if "priority" in s and result.bundling is not None:
        ranked, bundles = result.bundling.priority, result.bundling.bundles
        s["priority"]["top_communities"] = render_frame(
            ranked[["cid", "name", "score", "reasons"]].head(10), lang
        ).to_dict("records")
        s["priority"]["top_bundles"] = render_frame(
            bundles[["bundle_id", "score", "description"]].head(10), lang
        ).to_dict("records")


def write_outputs(
    result: RunResult,
    out: Path,
    stages: Iterable[str],
    lang: str,
    progress: Progress | None = None,
    strict_print: bool = False,
) -> list[Path]:
    """Write the GeoPackage, maps and ``summary.json`` into ``out``, all or nothing.

    Everything is written into a staging folder beside ``out`` first and swapped in at the end,
    so that ``out`` holds either the complete new set or, after any failure (an error, Ctrl-C, a
    full disk), exactly what it held before. The tool's files of the previous run that this run
    does not produce are removed with the swap; no other file in ``out`` is touched.
    """
    stages = set(stages)
    if "map" in stages and strict_print:
        from spatial.text.printing import cjk_font

        cjk_font()  # fail before writing anything
    inputs = [path for path, _ in input_paths(result.project)]
    try:
        with staging.Staging(out, keep=inputs) as stage:
            try:
                names = _write_all(result, stage.path, stages, lang, progress, strict_print)
            except (LifecircleError, OSError):
                raise
            except Exception as exc:  # a library's own words for a full disk (see staging.no_space)
                if staging.no_space(exc, stage.root):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from exc
                raise
            result.files = stage.commit(names)  # what really is in ``out`` afterwards
    except OSError as exc:
        raise OutputError("err_write_outputs", path=out, reason=exc.strerror or exc) from exc
    return result.files


def _write_all(
    result: RunResult,
    out: Path,
    stages: set[str],
    lang: str,
    progress: Progress | None,
    strict_print: bool,
) -> list[str]:
    files: list[Path] = []
    if lang != result.summary_lang:  # analyse() rendered the texts in the project's language
        localise_summary(result, lang)  # before the ledger and maps read them

    def gpkg() -> list[Path]:
        from spatial.outputs.gpkg import drawing  # the maps' palette module imports networkx

        with Timer(result.timings, "write", progress):
            layers = drawing.in_drawing_order(_for_gpkg(gpkg_layers(result), result.project.lang))
            looks = drawing.looks(layers, result, lang)  # styles and titles: the run's language
            return [staging.write_gpkg(out / "lifecircle.gpkg", layers, looks)]

    if "map" in stages:
        font, note = print_font(lang, strict_print)
        if note:
            result.summary["print_map"] = note
        shown = in_language(result, lang)
        files += write_map_files(shown, out, lang, font, gpkg, progress)
    else:
        files += gpkg()
        if "plan" in stages and result.plan is not None:  # lifecircle plan: the ledger too
            from spatial.outputs.ledger.write import write_ledger

            with Timer(result.timings, "ledger", progress):
                files.append(write_ledger(in_language(result, lang), out, lang))
    result.summary["timings_s"] = dict(result.timings)
    result.summary["outputs"] = [p.name for p in files] + ["summary.json"]
    staging.write_json(out / "summary.json", result.summary)
    return result.summary["outputs"]


def check_before_run(project: Project, out: Path, stages: Iterable[str] = ALL_STAGES) -> None:
    """The checks that need no analysis, run before anything is read: the basemap and its key,
    the output folder, and that no output would overwrite an input.

    Raises
    ------
    InputError
        An output path is an input path, an unknown basemap, or 天地图 without a key.
    OutputError
        ``out`` is a file or cannot be written.
    """
    if "map" in set(stages):
        from spatial.outputs.html.leaflet import basemaps

        spec = basemaps().get(project.render.basemap)
        if spec is None:
            raise ConfigError(
                "err_cfg_choice",
                path=project.source,
                label="[render] basemap",
                value=project.render.basemap,
                allowed=", ".join(basemaps()),
            )
        if spec.get("needs_key") and not project.render.tianditu_key:
            raise ConfigError("err_tianditu_key", path=project.source)
    check_inputs(project)
    staging.check_output_folder(out)
    check_no_overwrite(project, out)
    # what a killed run left, even if this run stops before writing; never an input
    staging.clean_stale(out, [path for path, _ in input_paths(project)])


def check_inputs(project: Project) -> None:
    """Every input is a readable regular file within ``[project] input_limit_mb`` (a table:
    ``table_limit_mb``; ``input_guard``): checked before anything is read.

    Raises
    ------
    InputError
    """
    check_input_files(input_paths(project), project.input_limit_mb, project.table_limit_mb)


def check_no_overwrite(project: Project, out: Path) -> None:
    """Refuse (``InputError``) when a file the run would write is one of its inputs: the same
    resolved path, or the same file under another name (hard link, symlink)."""
    inputs = input_paths(project)
    for name in staging.OUTPUT_NAMES:
        target = out / name
        for src, role in inputs:
            same = target.resolve() == src.resolve()
            if not same and target.exists() and src.exists():
                with contextlib.suppress(OSError):
                    same = os.path.samefile(target, src)
            if same:
                raise InputError(
                    "err_overwrite_input", path=project.source, target=target, src=src, role=role
                )


def in_language(result: RunResult, lang: str) -> RunResult:
    """A view of ``result`` for the writers of ``lang``: the frames' catalogue texts (reasons,
    descriptions, category names and units kept as texts not yet in a language) rendered in
    ``lang`` (:func:`messages.render_frame`); codes and numbers as they are."""
    view = replace(result)
    view.communities = render_frame(result.communities, lang)
    if result.bundling is not None:
        view.bundling = replace(
            result.bundling,
            bundles=render_frame(result.bundling.bundles, lang),
            priority=render_frame(result.bundling.priority, lang),
        )
    if result.siting is not None:
        view.siting = replace(
            result.siting,
            sites=render_frame(result.siting.sites, lang),
            programmes=render_frame(result.siting.programmes, lang),
            unserved=render_frame(result.siting.unserved, lang),
        )
    return view


def _for_gpkg(layers: dict[str, gpd.GeoDataFrame], lang: str) -> dict[str, gpd.GeoDataFrame]:
    """The GeoPackage's frames: catalogue texts in the project's language ``lang``, any other
    object that is not a plain value as text."""
    out = {}
    for name, frame in layers.items():
        frame = render_frame(frame, lang).copy()
        for col in frame.columns:
            if col != frame.geometry.name and frame[col].dtype == object:
                frame[col] = frame[col].map(
                    lambda v: v if v is None or isinstance(v, str | int | float | bool) else str(v)
                )
        out[name] = frame
    return out


def run(
    project: Project,
    out: Path,
    stages: Iterable[str] = ALL_STAGES,
    lang: str | None = None,
    progress: Progress | None = None,
    place: str = "",
    strict_print: bool = False,
) -> RunResult:
    """Load, analyse and write everything for ``stages``.

    ``strict_print``: a missing CJK font for the print map is an error (else it is skipped and
    noted in ``summary.json`` under ``print_map``).
    """
    stages = tuple(stages)
    check_before_run(project, out, stages)
    result = load_inputs(project, progress, place)
    analyse(result, stages, progress)
    write_outputs(result, out, stages, lang or project.lang, progress, strict_print)
    return result
