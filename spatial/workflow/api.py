"""The Python API (``import spatial``): the command line's stages as functions for notebooks.

Every function checks what it is given as the command line checks a project's files: a layer may
be a (Geo)DataFrame or a file path (``str`` or ``Path``) and goes through the same loader
(:func:`spatial.inputs.load.load_layers`: columns detected from common Chinese and English
headers, category names and aliases matched through the standards, lon/lat reprojected to the
metric analysis CRS, impossible coordinates refused); settings are the project file's keys,
checked by the same rules. A problem the caller must fix raises
:class:`~spatial.core.errors.InputError` (also a ``ValueError``); a data problem the run
worked around (an unknown category, a dropped row) is a :class:`LifecircleWarning`.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TypeAlias

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from spatial.analysis.coverage.measure import CoverageResult, compute_coverage
from spatial.analysis.result import BundlingResult, RunResult, SitingResult
from spatial.config.checks import validate_project
from spatial.config.project import load_project as _load_project_file
from spatial.config.project import project_from_tables
from spatial.config.schema import Project
from spatial.core.crs import describe as describe_crs
from spatial.core.errors import InputError, reading
from spatial.core.problems import Problem
from spatial.core.settings import ALL_STAGES, COMMAND_STAGES
from spatial.network.elevation import read_elevation
from spatial.network.graph import StreetNetwork
from spatial.network.read import lines_network
from spatial.network.read import read_network as read_network_file
from spatial.workflow import pipeline

#: a layer: a frame (GeoDataFrame, or a table with x/y or lon/lat columns) or a file path
Layer: TypeAlias = pd.DataFrame | str | os.PathLike[str]
#: the streets: a network read before, a road-line GeoDataFrame or a network file
Streets: TypeAlias = StreetNetwork | gpd.GeoDataFrame | str | os.PathLike[str]

#: the project file's sections a setting may name (``coverage={...}``, ``siting={...}``)
_SECTIONS = ("coverage", "policy", "bundling", "priority", "siting", "capacity", "standards")
_PROJECT_KEYS = ("crs", "lang", "name")
_PACKAGE = Path(__file__).resolve().parents[1]


class LifecircleWarning(UserWarning):
    """A data problem the analysis worked around (the ``warnings`` of ``summary.json``)."""


def load_project(path: str | Path | None = None) -> Project:
    """Read and check a project file, as ``lifecircle --config`` does.

    Parameters
    ----------
    path : str or Path, optional
        The ``project.toml`` file or a folder holding one; None: the embedded demo project.

    Returns
    -------
    Project
        Every setting, paths resolved against the file's folder.

    Raises
    ------
    InputError
        The file is missing, is not TOML, or a setting is unknown or out of range.
    """
    if path is not None and Path(path).is_dir():
        path = Path(path) / "project.toml"
    return _load_project_file(path)


def run(
    project: Project | str | Path | None = None,
    out: str | Path | None = None,
    *,
    stages: Iterable[str] = ALL_STAGES,
    lang: str | None = None,
) -> RunResult:
    """Run the whole job of a project, as ``lifecircle run`` does.

    Parameters
    ----------
    project : Project, str or Path, optional
        A :class:`Project` (e.g. from :func:`load_project`) or its file; None: the demo.
    out : str or Path, optional
        The output folder (written all or nothing, as by the command line); None: nothing is
        written and the ``map`` stage is left out.
    stages : iterable of str
        Of ``coverage``, ``bundle``, ``sites``, ``map`` (default: all).
    lang : str, optional
        ``zh`` or ``en`` for the outputs and warnings (default: the project's language).

    Returns
    -------
    RunResult
        The inputs, the analysed communities and each stage's result; ``summary`` is what
        ``summary.json`` holds.

    Raises
    ------
    InputError
        A problem in the inputs, settings or output folder (one line naming what to fix).
    """
    if not isinstance(project, Project):
        project = load_project(project)
    if out is None:
        result = pipeline.load_inputs(project)
        pipeline.analyse(result, [s for s in stages if s != "map"])
    else:
        result = pipeline.run(project, Path(out), tuple(stages), lang)
    _warn(result.layers.problems, lang or project.lang)
    return result


def read_network(
    source: Streets,
    crs: str | CRS | None = None,
    *,
    elevation: str | os.PathLike[str] | None = None,
    lang: str = "zh",
) -> StreetNetwork:
    """Read a walking network, as ``[network] path`` (and ``[network] elevation``) do.

    Parameters
    ----------
    source : StreetNetwork, GeoDataFrame, str or Path
        An OSM file (``.osm``, ``.osm.pbf``, ``.osm.bz2``…), an OSMnx ``.graphml``, a road-line
        layer file (``.gpkg``, ``.shp``, ``.geojson``) or a GeoDataFrame of road lines (with a
        CRS; a road-class column is mapped through ``road_classes.toml``).
    crs : str or pyproj.CRS, optional
        The metric analysis CRS; None: the CGCS2000 Gauss-Krüger zone (UTM outside China) of
        the streets' median point. A geographic CRS is refused.
    elevation : str or Path, optional
        An elevation GeoTIFF (any CRS, metres; needs ``lifecircle[hills]``): each street is
        walked uphill and downhill at Tobler's hiking speed, so :func:`coverage`,
        :func:`bundle` and :func:`sites` given this network measure flat-equivalent metres.
        A network given as ``source`` is copied, not changed.
    lang : str
        ``zh`` or ``en``: the language of the warnings (streets off the raster).

    Returns
    -------
    StreetNetwork
        The largest connected component of the walkable streets, in ``crs``.

    Raises
    ------
    InputError
        The file is missing or unreadable, the lines have no CRS, ``crs`` is not metric; the
        elevation file is missing, has no CRS, or lies off every street.
    """
    metric = _checked_crs(crs, "spatial.read_network()")
    if isinstance(source, StreetNetwork):
        net = source
    elif isinstance(source, gpd.GeoDataFrame):
        net = lines_network(source, metric, "<streets>")
    else:
        path = Path(source)
        with reading(path, "what_network"):
            net = read_network_file(path, metric)
    if elevation is None:
        return net
    dem = Path(elevation).expanduser().resolve()
    if not dem.exists():
        raise InputError("err_file_not_found", path=dem)
    hilly = replace(net, problems=list(net.problems))  # the caller's network keeps its slope
    known = len(hilly.problems)
    read_elevation(hilly, dem)
    _warn(hilly.problems[known:], lang)
    return hilly


def coverage(
    communities: Layer,
    facilities: Layer,
    streets: Streets | None = None,
    *,
    layers: Mapping[str, Mapping[str, str]] | None = None,
    **settings: object,
) -> CoverageResult:
    """Each community's walking distance to every facility category, as ``lifecircle coverage``.

    Parameters
    ----------
    communities : GeoDataFrame, str or Path
        Community (小区) polygons in any CRS, or their file; a households column is detected
        (else say ``layers={"communities": {"households": "none"}}``).
    facilities : DataFrame, GeoDataFrame, str or Path
        Facility points (or a table with lon/lat columns) with a category column; categories
        may be named by key, Chinese name or alias (``幼儿园``).
    streets : StreetNetwork, GeoDataFrame, str or Path, optional
        The walking network (see :func:`read_network`); None: straight-line distance × the
        ``detour_factor``.
    layers : mapping, optional
        Per layer (``communities``, ``facilities``), the project file's layer keys: column
        names by role (``{"id": "小区编号"}``), ``coords``, ``crs`` (for data without one).
    **settings
        ``[coverage]`` keys (``basket``, ``radius={"幼儿园": 400}``, ``walk_speed_kmh``…),
        ``crs`` / ``lang``, or another section as a mapping (``policy={...}``).

    Returns
    -------
    CoverageResult
        ``communities`` in the analysis CRS with ``<cat>_m``, ``<cat>_ok``, ``gaps``,
        ``full_coverage``; the per-category distances; what could not reach the streets.

    Raises
    ------
    InputError
        A missing column, impossible coordinates, an unknown setting or category.
    """
    given = {"communities": communities, "facilities": facilities}
    result, _ = _loaded("spatial.coverage()", given, streets, layers, settings, "coverage")
    return compute_coverage(
        result.communities,
        result.layers.facilities,
        result.standards,
        result.project.coverage,
        result.network,
    )


def bundle(
    communities: Layer,
    facilities: Layer,
    streets: Streets | None = None,
    *,
    parcels: Layer | None = None,
    layers: Mapping[str, Mapping[str, str]] | None = None,
    **settings: object,
) -> BundlingResult:
    """Renovation bundles (成片改造) and the priority list, as ``lifecircle bundle``.

    Parameters
    ----------
    communities, facilities : GeoDataFrame, DataFrame, str or Path
        As for :func:`coverage` (the coverage gaps feed the priority score).
    streets : StreetNetwork, GeoDataFrame, str or Path, optional
        As for :func:`coverage`; major roads split bundles.
    parcels : GeoDataFrame, str or Path, optional
        Candidate land, counted per bundle.
    layers : mapping, optional
        As for :func:`coverage` (also ``parcels``).
    **settings
        ``[bundling]`` keys, or a section as a mapping (``policy={"old_cutoff": "2005-12-31"}``).

    Returns
    -------
    BundlingResult
        ``bundles`` (one row per bundle, by rank) and ``priority`` (the communities ranked).

    Raises
    ------
    InputError
        As for :func:`coverage`.
    """
    given = {"communities": communities, "facilities": facilities, "parcels": parcels}
    result = _analysed("bundle", given, streets, layers, settings, "bundling")
    assert result.bundling is not None  # the bundle stage ran
    return result.bundling


def sites(
    communities: Layer,
    facilities: Layer,
    parcels: Layer,
    streets: Streets | None = None,
    *,
    layers: Mapping[str, Mapping[str, str]] | None = None,
    **settings: object,
) -> SitingResult:
    """Candidate land (存量用地挖潜) that would close the coverage gaps, as ``lifecircle sites``.

    Parameters
    ----------
    communities, facilities : GeoDataFrame, DataFrame, str or Path
        As for :func:`coverage`.
    parcels : GeoDataFrame, str or Path
        Candidate parcels (polygons).
    streets : StreetNetwork, GeoDataFrame, str or Path, optional
        As for :func:`coverage`.
    layers : mapping, optional
        As for :func:`coverage` (also ``parcels``).
    **settings
        ``[siting]`` keys (``max_sites``, ``objective``…), or a section as a mapping.

    Returns
    -------
    SitingResult
        The recommended ``sites``, every parcel's ``programmes``, the ``unserved`` gaps.

    Raises
    ------
    InputError
        As for :func:`coverage`.
    """
    given = {"communities": communities, "facilities": facilities, "parcels": parcels}
    result = _analysed("sites", given, streets, layers, settings, "siting")
    assert result.siting is not None  # the sites stage ran
    return result.siting


def _analysed(
    command: str,
    given: Mapping[str, Layer | None],
    streets: Streets | None,
    layers: Mapping[str, Mapping[str, str]] | None,
    settings: Mapping[str, object],
    section: str,
) -> RunResult:
    """Load the inputs (:func:`_loaded`) and run ``lifecircle <command>``'s stages on them.

    The problems the stages found are warnings, as the loader's are.
    """
    result, warned = _loaded(f"spatial.{command}()", given, streets, layers, settings, section)
    pipeline.analyse(result, COMMAND_STAGES[command])
    _warn(result.layers.problems[warned:], result.project.lang)  # found by the stages
    return result


def _loaded(
    where: str,
    given: Mapping[str, Layer | None],
    streets: Streets | None,
    layers: Mapping[str, Mapping[str, str]] | None,
    settings: Mapping[str, object],
    main: str,
) -> tuple[RunResult, int]:
    """Load and check the API's arguments as ``load_inputs`` does a project's files.

    Returns the run and the number of data problems found (and warned about) so far.
    """
    label = Path(where)
    project = _project(label, given, streets, layers or {}, settings, main)
    result = pipeline.load_inputs(project)  # reads the streets when they are a file
    if isinstance(streets, gpd.GeoDataFrame):
        result.network = lines_network(
            streets, result.layers.crs, "<streets>", result.project.network
        )
        result.layers.problems += result.network.problems  # e.g. streets cut at the edge
    elif isinstance(streets, StreetNetwork):
        if not streets.crs.equals(result.layers.crs):
            raise InputError(
                "err_api_network_crs",
                path=label,
                network=describe_crs(streets.crs),
                crs=describe_crs(result.layers.crs),
            )
        result.network = streets
    _warn(result.layers.problems, project.lang)
    return result, len(result.layers.problems)


def _project(
    label: Path,
    given: Mapping[str, Layer | None],
    streets: Streets | None,
    layers: Mapping[str, Mapping[str, str]],
    settings: Mapping[str, object],
    main: str,
) -> Project:
    """Build and check the project the API's arguments describe, as a project file's is."""
    tables = _tables(settings, main)
    unknown = set(layers) - set(given)
    if unknown:
        raise InputError(
            "err_cfg_unknown_section",
            path=label,
            section=", ".join(sorted(unknown)),
            known=", ".join(given),
        )
    for section, value in given.items():
        table: dict[str, object] = dict(layers.get(section, {}))
        if isinstance(value, str | os.PathLike):
            table["path"] = str(Path(value).expanduser().resolve())
        if value is not None:
            tables[section] = table
    if isinstance(streets, str | os.PathLike):
        tables["network"] = {"path": str(Path(streets).expanduser().resolve())}
    if isinstance(streets, StreetNetwork) and "crs" not in tables.get("project", {}):
        tables.setdefault("project", {})["crs"] = streets.crs.to_string()
    project = project_from_tables(tables, label, Path.cwd())
    for section, value in given.items():
        if isinstance(value, pd.DataFrame):
            getattr(project, section).frame = value
    validate_project(project, label)
    return project


def _tables(settings: Mapping[str, object], main: str) -> dict[str, dict[str, object]]:
    """Put the API's keyword settings in the project file's tables.

    ``crs``/``lang``/``name`` go to ``[project]``, a section name with a mapping to that
    section, any other key to ``main``.
    """
    tables: dict[str, dict[str, object]] = {}
    for key, value in settings.items():
        if key in _PROJECT_KEYS:
            if value is not None:
                tables.setdefault("project", {})[key] = str(value)
        elif key in _SECTIONS and isinstance(value, Mapping):
            tables.setdefault(key, {}).update(value)
        else:
            tables.setdefault(main, {})[key] = value
    return tables


def _checked_crs(crs: str | CRS | None, where: str) -> CRS | None:
    """``crs`` as a pyproj CRS, checked as ``[project] crs`` is (metric; None passes)."""
    if crs is None:
        return None
    text = crs.to_wkt() if isinstance(crs, CRS) else str(crs)
    validate_project(Project(crs=text), Path(where))
    return CRS.from_user_input(text)


def _warn(problems: Iterable[Problem], lang: str) -> None:
    """Each data problem as a :class:`LifecircleWarning` (its catalogue text in ``lang``)."""
    level = 1  # the warning points at the caller's line, outside this package
    while Path(sys._getframe(level).f_code.co_filename).is_relative_to(_PACKAGE):
        level += 1
    for found in problems:
        warnings.warn(found.message(lang), LifecircleWarning, stacklevel=level + 1)
