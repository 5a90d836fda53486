"""The supply-per-demand indicators (``data/standards/capacity.toml``, or the project's
``[capacity] path``) of the active categories, with the project's target overrides, and the
demographic settings in force (census shares, persons per household, per-subdistrict values)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass

from spatial.config.project import DEMOGRAPHIC_KEYS, CapacityConfig, Project
from spatial.config.standards import Standards
from spatial.core import settings
from spatial.core.errors import ConfigError


@dataclass(frozen=True)
class Indicator:
    """One category's supply-per-demand indicator (``[indicators.<key>]`` of capacity.toml).

    Attributes
    ----------
    key : str
        The category.
    supply : str
        The facility column that holds its capacity (``floor_area``, ``places``, ``beds``), or
        ``"count"`` (each facility counts 1).
    demand : str
        The demand base: ``households``, ``population``, ``older``, ``infants``,
        ``preschoolers``.
    per, target : float
        The target is ``target`` supply units per ``per`` units of demand.
    target_existing : float or None
        The target for old (eligible) communities in built-up areas, where the indicator has one.
    m2_per_unit, land_m2_per_unit : float
        Floor (and land, for facilities on their own land) m² per supply unit.
    source, source_existing, size_source : str
        The documents the targets and sizes come from; ``verified`` / ``size_verified`` whether
        their text was checked; ``source_en`` the source in English.
    caveat_zh, caveat_en : str
        What a reader must know when reading the indicator (e.g. a city-wide ratio applied
        inside a catchment), shown beside it in the ledger.
    """

    key: str
    supply: str  # facility column role: floor_area, places, beds; or "count"
    demand: str  # households, population, older, infants, preschoolers
    per: float
    target: float
    target_existing: float | None
    unit_zh: str
    unit_en: str
    supply_unit_zh: str
    supply_unit_en: str
    m2_per_unit: float
    source: str
    source_existing: str
    verified: bool
    land_m2_per_unit: float | None = None  # land m² per supply unit (sizing own-land facilities)
    size_source: str = ""
    size_verified: bool = False
    source_en: str = ""  # the source in English (the Chinese ``source`` when not given)
    caveat_zh: str = ""  # what a reader must know about the indicator (capacity.toml)
    caveat_en: str = ""


@dataclass
class Capacity:
    """The indicators of the active categories and the demographic settings in force.

    Attributes
    ----------
    indicators : dict of str to Indicator
        Per category with an indicator.
    demographics : dict of str to float
        ``persons_per_household`` and the age-group shares (census defaults, project overrides).
    demographics_source : str
        Where the default shares come from.
    decay : str
        ``none`` (2SFCA), ``gaussian`` or ``linear`` (enhanced 2SFCA).
    subdistricts : dict of str to dict
        Per-subdistrict demographic settings over the project's.
    defaults : tuple of str
        The demographic settings left at the table's census defaults (the project set none).
    """

    indicators: dict[str, Indicator]
    demographics: dict[str, float]
    demographics_source: str
    decay: str
    subdistricts: dict[str, dict[str, float]]
    defaults: tuple[str, ...] = ()


def load_capacity(project: Project, standards: Standards) -> Capacity:
    """Read the indicator table and apply the project's ``[capacity]`` overrides.

    Categories in ``targets`` / ``targets_existing`` may be named by key, Chinese name or alias.

    Parameters
    ----------
    project : Project
        Its ``[capacity]`` table: ``path`` (else the bundled ``capacity.toml``), targets,
        demographic shares, decay, subdistricts.
    standards : Standards
        The active categories: indicators of other categories are left out.

    Returns
    -------
    Capacity

    Raises
    ------
    ConfigError
        The table cannot be read, an indicator lacks a field, or a target names a category
        without an indicator.
    """
    cfg: CapacityConfig = project.capacity
    where = project.resolve(cfg.path) if cfg.path else settings.STANDARDS_DIR / "capacity.toml"
    try:
        raw = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("err_capacity_read", path=where, reason=exc) from None
    demo = raw.get("demographics", {})
    demographics = {k: float(demo.get(k, 0.0)) for k in DEMOGRAPHIC_KEYS}
    if cfg.persons_per_household:
        demographics["persons_per_household"] = cfg.persons_per_household
    demographics.update({k: float(v) for k, v in cfg.shares.items()})
    indicators = {}
    for key, spec in raw.get("indicators", {}).items():
        if key not in standards.categories:
            continue
        try:
            indicators[key] = Indicator(
                key=key,
                supply=spec["supply"],
                demand=spec["demand"],
                per=float(spec["per"]),
                target=float(spec["target"]),
                target_existing=float(spec["target_existing"])
                if "target_existing" in spec
                else None,
                unit_zh=spec.get("unit_zh", ""),
                unit_en=spec.get("unit_en", ""),
                supply_unit_zh=spec.get("supply_unit_zh", ""),
                supply_unit_en=spec.get("supply_unit_en", ""),
                m2_per_unit=float(spec.get("m2_per_unit", 1.0)),
                source=spec.get("source", ""),
                source_existing=spec.get("source_existing", ""),
                verified=bool(spec.get("verified", False)),
                land_m2_per_unit=float(spec["land_m2_per_unit"])
                if "land_m2_per_unit" in spec
                else None,
                size_source=spec.get("size_source", ""),
                size_verified=bool(spec.get("size_verified", False)),
                source_en=spec.get("source_en", ""),
                caveat_zh=spec.get("caveat_zh", ""),
                caveat_en=spec.get("caveat_en", ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError("err_capacity_indicator", path=where, key=key, reason=exc) from None
    for name, table in (("targets", cfg.targets), ("targets_existing", cfg.targets_existing)):
        for given, value in table.items():
            key = standards.match(given)
            if key not in indicators:
                raise ConfigError(
                    "err_capacity_target_unknown",
                    path=project.source,
                    name=name,
                    given=given,
                    known=", ".join(indicators),
                )
            field_ = "target" if name == "targets" else "target_existing"
            indicators[key] = Indicator(**{**indicators[key].__dict__, field_: float(value)})
    given = {"persons_per_household"} if cfg.persons_per_household else set()
    defaults = tuple(k for k in demographics if k not in given | set(cfg.shares))
    return Capacity(
        indicators,
        demographics,
        str(demo.get("source", "")),
        cfg.decay,
        dict(cfg.subdistricts),
        defaults,
    )
