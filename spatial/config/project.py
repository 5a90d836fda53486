"""The project file: one TOML parsed once into a ``Project`` that carries every setting.

Every key has a default; unknown keys are an error so that typos do not pass silently.
Paths in the file are relative to the file's folder.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from spatial.config.checks import CRS_HINT, validate_project
from spatial.config.checks import (
    DEMOGRAPHIC_KEYS as DEMOGRAPHIC_KEYS,  # where capacity imports it from
)
from spatial.config.schema import (
    COORDS,
    GATE_SETTINGS,
    BundlingConfig,
    CapacityConfig,
    CoverageConfig,
    GatesConfig,
    LayerConfig,
    NetworkConfig,
    PlanConfig,
    PolicyConfig,
    PriorityConfig,
    Project,
    RenderConfig,
    SitingConfig,
)
from spatial.core import settings
from spatial.core.errors import ConfigError
from spatial.core.messages import Msg, labels, msg

_LIMITS = ("input_limit_mb", "table_limit_mb")
_LAYER_KEYS = {"path", "layer", "encoding", "coords", "crs", "header_row"}


def _layer(table: dict[str, Any], section: str, where: Path) -> LayerConfig:
    cfg = LayerConfig()
    for key, value in table.items():
        if key in _LAYER_KEYS:
            setattr(cfg, key, str(value))
        elif key == "aliases" and section == "facilities":
            cfg.aliases = _aliases(value, where)
        elif isinstance(value, str):
            if value:
                cfg.columns[key] = value
        else:
            raise ConfigError("err_cfg_not_column", path=where, section=section, key=key)
    if cfg.coords.lower() not in COORDS:
        raise ConfigError(
            "err_cfg_choice",
            path=where,
            label=f"[{section}] coords",
            value=cfg.coords,
            allowed=", ".join(c for c in COORDS if c),
        )
    cfg.coords = cfg.coords.lower()
    return cfg


def _aliases(value: object, where: Path) -> dict[str, str]:
    """``[facilities] aliases``: a table of texts → category names (checked by the standards)."""
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError("err_cfg_aliases", path=where, label="[facilities] aliases")
    return {str(k): v for k, v in value.items() if str(k).strip()}


def _type_name(value: object) -> Msg | str:
    """The kind of a setting's value, for messages (the Python name when the catalogue has none)."""
    name = type(value).__name__
    return msg(f"type_{name}") if f"type_{name}" in labels("en") else name


def _fill(obj: Any, table: dict[str, Any], section: str, where: Path) -> Any:

    known = {f.name: f for f in fields(obj)}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(
                "err_cfg_unknown_key",
                path=where,
                section=f"[{section}]",
                key=key,
                known=", ".join(sorted(known)),
            )
        current = getattr(obj, key)
        if isinstance(current, dt.date) and isinstance(value, dt.datetime):
            value = value.date()  # a TOML date-time (2005-12-31T00:00:00): its day
        if isinstance(current, dt.date) and isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise ConfigError(
                    "err_cfg_date", path=where, section=section, key=key, value=value
                ) from None
        elif isinstance(current, bool) and not isinstance(value, bool):
            raise ConfigError("err_cfg_bool", path=where, section=section, key=key)
        elif isinstance(value, bool) and not isinstance(current, bool | None):  # true is an int
            raise ConfigError(
                "err_cfg_type", path=where, section=section, key=key,
                type=_type_name(current), value=repr(value),
            )  # fmt: skip
        elif isinstance(current, float) and isinstance(value, int | float):
            value = float(value)
        elif current is None and "float" in str(known[key].type):
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ConfigError(
                    "err_cfg_number", path=where, section=section, key=key, value=repr(value)
                )
            value = float(value)
        elif isinstance(current, int) and not isinstance(current, bool) and isinstance(value, int):
            pass
        elif current is not None and not isinstance(value, type(current)):
            raise ConfigError(
                "err_cfg_type",
                path=where,
                section=section,
                key=key,
                type=_type_name(current),
                value=repr(value),
            )
        setattr(obj, key, value)
    return obj


_SECTIONS = {
    "network": ("network", NetworkConfig),
    "coverage": ("coverage", CoverageConfig),
    "policy": ("policy", PolicyConfig),
    "bundling": ("bundling", BundlingConfig),
    "priority": ("priority", PriorityConfig),
    "siting": ("siting", SitingConfig),
    "render": ("render", RenderConfig),
    "capacity": ("capacity", CapacityConfig),
    "plan": ("plan", PlanConfig),
}


def load_project(path: str | Path | None = None) -> Project:
    """Parse a project TOML file (or the embedded demo project when ``path`` is None).

    Parameters
    ----------
    path : str or Path, optional
        The project file.

    Returns
    -------
    Project
    """
    from spatial.core.input_guard import check_input

    where = Path(path) if path else settings.DEMO_PROJECT
    if not check_input(where, msg("role_project_file")):
        raise ConfigError("err_cfg_not_found", path=where)
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("err_cfg_toml", path=where, reason=exc) from None
    project = project_from_tables(data, where, where.resolve().parent)
    project.source = where
    if not project.communities.path:
        raise ConfigError("err_cfg_communities_path", path=where)
    validate_project(project, where)
    return project


def project_from_tables(data: dict[str, Any], where: Path, base_dir: Path) -> Project:
    """A :class:`Project` from the project file's tables (``{"coverage": {...}, ...}``): the
    project file's, or the settings given to the Python API (:mod:`spatial.workflow.api`). Each key
    is type-checked; the ranges are checked by :func:`validate_project` after.

    Parameters
    ----------
    data : dict
        Section name → table, as ``tomllib`` parses the file.
    where : Path
        The file (or a label), for messages.
    base_dir : Path
        What relative paths are resolved against.

    Returns
    -------
    Project
    """
    coverage_table = data.get("coverage")
    if isinstance(coverage_table, dict) and coverage_table.get("basket", None) == []:
        raise ConfigError("err_cfg_basket_empty", path=where)
    project = Project(base_dir=base_dir)
    for section, table in data.items():
        if not isinstance(table, dict):
            raise ConfigError("err_cfg_not_section", path=where, section=section)
        if section == "project":
            _fill_project(project, table, where)
        elif section in ("communities", "facilities", "parcels", "subdistricts"):
            setattr(project, section, _layer(table, section, where))
        elif section == "gates":
            project.gates = _gates(table, where)
        elif section == "standards":
            project.standards_path = str(table.get("path", ""))
        elif section in _SECTIONS:
            attr, cls = _SECTIONS[section]
            setattr(project, attr, _fill(cls(), table, section, where))
        else:
            known = [
                "project",
                "communities",
                "facilities",
                "parcels",
                "subdistricts",
                "gates",
                "standards",
                *_SECTIONS,
            ]
            raise ConfigError(
                "err_cfg_unknown_section", path=where, section=section, known=", ".join(known)
            )
    if project.lang not in ("zh", "en"):
        raise ConfigError(
            "err_cfg_choice",
            path=where,
            label="[project] lang",
            value=project.lang,
            allowed="zh, en",
        )
    return project


def _gates(table: dict[str, Any], where: Path) -> GatesConfig:
    """``[gates]``: the layer keys (as any layer) and the gate settings."""
    layer = _layer({k: v for k, v in table.items() if k not in GATE_SETTINGS}, "gates", where)
    cfg = GatesConfig(**vars(layer))
    return _fill(cfg, {k: v for k, v in table.items() if k in GATE_SETTINGS}, "gates", where)


def _fill_project(project: Project, table: dict[str, Any], where: Path) -> None:
    for key, value in table.items():
        if key not in ("name", "lang", "crs", *_LIMITS):
            raise ConfigError(
                "err_cfg_unknown_key",
                path=where,
                section="[project]",
                key=key,
                known="crs, input_limit_mb, lang, name, table_limit_mb",
            )
        # the limits are checked as numbers by validate_project
        setattr(project, key, value if key in _LIMITS else str(value))


def input_paths(project: Project) -> list[tuple[Path, str | Msg]]:
    """Every file the run reads, with its role: the project file, the layers (with a shapefile's
    sidecar files), the network (and its elevation raster), the standards file and the barrier layer.

    Parameters
    ----------
    project : Project

    Returns
    -------
    list of (Path, str or Msg)
    """
    found: list[tuple[Path, str | Msg]] = []
    if project.source is not None:
        found.append((Path(project.source), msg("role_project_file")))
    for section in ("communities", "facilities", "parcels", "subdistricts", "gates"):
        layer: LayerConfig = getattr(project, section)
        if layer.path and layer.path.strip().lower() != "osm":
            path = project.resolve(layer.path)
            found.append((path, f"[{section}] path"))
            if path.suffix.lower() == ".shp":
                found += [
                    (path.with_suffix(s), f"[{section}] path")
                    for s in (".dbf", ".shx", ".prj", ".cpg")
                ]
    for path, role in (
        (project.network.path, "[network] path"),
        (project.network.elevation, "[network] elevation"),
        (project.standards_path, "[standards] path"),
        (project.capacity.path, "[capacity] path"),
        (project.bundling.barrier_path, "[bundling] barrier_path"),
    ):
        if path:
            found.append((project.resolve(path), role))
    return found


def project_warnings(project: Project) -> list:
    """Settings that are allowed but probably wrong, as ``Problem`` records (layer ``project``):
    a Web Mercator analysis CRS stretches distances (×1.22 in Shandong).

    Parameters
    ----------
    project : Project

    Returns
    -------
    list of Problem
    """
    from pyproj import CRS

    from spatial.core.problems import problem

    found = []
    if project.crs and CRS.from_user_input(project.crs).to_epsg() in (3857, 900913, 3785):
        found.append(problem("web_mercator", "project", [project.crs], hint=CRS_HINT))
    return found
