"""Facility categories, service radii and name aliases, read from ``data/standards``."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spatial.config.project import Project
from spatial.core import settings
from spatial.core.errors import ConfigError
from spatial.core.messages import Joined, Named, msg


@dataclass(frozen=True)
class Category:
    """One facility category of the standards file (``[categories.<key>]``).

    Attributes
    ----------
    key : str
    name_zh, name_en : str
    level : int
        The life-circle level in minutes (5, 10, 15).
    radius_m : float
        Walking radius, after the project's ``[coverage] radius`` overrides.
    group : str
        The planner group (its own map).
    building_m2, land_m2 : (float, float) or None
        The typical size range (GB 50180-2018 Appendix C, or the source named), m².
    aliases : tuple of str
        Other names facility lists use.
    icon, icon_en : str
        The map marker's glyph (one or two characters) in Chinese and in English runs.
    """

    key: str
    name_zh: str
    name_en: str
    level: int
    radius_m: float
    group: str
    building_m2: tuple[float, float] | None = None
    land_m2: tuple[float, float] | None = None
    aliases: tuple[str, ...] = ()
    icon: str = "●"
    icon_en: str = ""

    def glyph(self, lang: str) -> str:
        """The map marker's glyph in ``lang`` (``icon_en`` in English, the Chinese one else)."""
        return self.icon_en or self.icon if lang == "en" else self.icon

    def label(self, lang: str) -> str:
        """The category's name in ``lang``."""
        return self.name_zh if lang == "zh" else self.name_en


@dataclass
class Standards:
    """The active categories after the project's overrides, and the coverage basket.

    Attributes
    ----------
    categories : dict of str to Category
        The active categories, in the standards file's order.
    basket : list of str
        The categories "fully covered" asks for.
    groups : dict of str to dict
        Planner groups (elderly, childcare, clinics, markets) with their names.
    source : str
        The standards file's citation.
    walk_speed_kmh : float
        Project file, else standards file, else ``settings.WALK_SPEED_KMH``.
    national_target : float
        The share of fully covered households the national target asks for.
    alias_map : dict of str to str
        Lower-case key, name or alias → category key (the project's ``[facilities] aliases``
        included, before the standards' own).
    name_aliases : dict of str to str
        The project's ``[facilities] aliases`` (lower case → key), also read as name keywords of
        facilities whose type says nothing (:mod:`spatial.inputs.facility_names`).
    """

    categories: dict[str, Category]
    basket: list[str]
    groups: dict[str, dict[str, str]]
    source: str
    walk_speed_kmh: float
    national_target: float
    alias_map: dict[str, str] = field(default_factory=dict)
    #: category → (group key, its walking speed in km/h) for categories serving a slower group
    #: (``data/standards/walk_speeds.toml``)
    pace: dict[str, tuple[str, float]] = field(default_factory=dict)
    #: ``distance`` (the standard's radii) or ``time`` (level minutes at each category's pace)
    threshold: str = "distance"

    def speed_kmh(self, key: str) -> float:
        """The walking speed minutes to category ``key`` are counted at (km/h)."""
        return self.pace[key][1] if key in self.pace else self.walk_speed_kmh

    name_aliases: dict[str, str] = field(default_factory=dict)

    def match(self, value: object) -> str | None:
        """Map a category value (key, Chinese name or alias) to a category key, or None.

        Parameters
        ----------
        value : object

        Returns
        -------
        str or None
        """
        text = str(value).strip().lower()
        if text in self.categories:
            return text
        return self.alias_map.get(text)

    def minutes(self, metres: float) -> float:
        """Walking minutes for ``metres`` at :attr:`walk_speed_kmh`.

        Parameters
        ----------
        metres : float

        Returns
        -------
        float
        """
        return metres / (self.walk_speed_kmh * 1000 / 60)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("err_standards_read", path=path, reason=exc) from None


def _size(key: str, spec: dict[str, Any], name: str, where: Path) -> tuple[float, float] | None:
    """``spec[name]`` as (min, max) m², None when absent; anything but two numbers is an error
    showing the form (``land_m2 = 500`` gave "'int' object is not iterable")."""
    if name not in spec:
        return None
    value = spec[name]
    numbers = isinstance(value, list) and len(value) == 2
    numbers = numbers and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    if not numbers or not (0 <= value[0] <= value[1]) or not math.isfinite(value[1]):
        raise ConfigError("err_category_size", path=where, key=key, field=name, value=repr(value))
    return float(value[0]), float(value[1])


def _category(key: str, spec: dict[str, Any], where: Path) -> Category:
    if not isinstance(spec, dict):
        raise ConfigError("err_category_spec", path=where, key=key, reason=repr(spec)[:80])
    if "radius_m" not in spec:
        raise ConfigError("err_category_no_radius", path=where, key=key)
    building, land = _size(key, spec, "building_m2", where), _size(key, spec, "land_m2", where)
    try:
        cat = Category(
            key=key,
            name_zh=spec.get("name_zh", key),
            name_en=spec.get("name_en", key),
            level=int(spec.get("level", 15)),
            radius_m=float(spec["radius_m"]),
            group=spec.get("group", "other"),
            building_m2=building,
            land_m2=land,
            aliases=tuple(spec.get("aliases", ())),
            icon=str(spec.get("icon", "●"))[:2],
            icon_en=str(spec.get("icon_en", ""))[:2],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError("err_category_spec", path=where, key=key, reason=exc) from None
    if not (math.isfinite(cat.radius_m) and cat.radius_m > 0):
        raise ConfigError("err_category_radius", path=where, key=key, value=cat.radius_m)
    return cat


def load_standards(project: Project | None = None) -> Standards:
    """Read the standards table and apply the project's overrides.

    Parameters
    ----------
    project : Project, optional
        Its ``[standards] path`` replaces the built-in table; ``[coverage]`` radius, drop, add,
        basket and walk_speed_kmh adjust it. Categories in ``basket``, ``radius``, ``drop`` and
        ``[siting] min_area`` may be named by key, Chinese name or alias (``project.siting.min_area``
        is rewritten to keys); an unknown name is a ``ConfigError`` listing the keys.
    """
    project = project or Project()
    where = (
        project.resolve(project.standards_path)
        if project.standards_path
        else settings.STANDARDS_DIR / "gb50180_2018.toml"
    )
    raw = _read_toml(where)
    cov = project.coverage
    cats = {k: _category(k, v, where) for k, v in raw.get("categories", {}).items()}
    for key, spec in cov.add.items():
        cats[key] = _category(key, spec, project.source or where)
    names = _aliases(cats)
    names_known = _known(cats)
    where_cfg = project.source or where
    given_basket = _resolve(cov.basket, names, "[coverage] basket", where_cfg, names_known)
    dropped = set(_resolve(cov.drop, names, "[coverage] drop", where_cfg, names_known))
    for key in dropped:
        cats.pop(key, None)
    if given_basket and not [k for k in given_basket if k not in dropped]:
        raise ConfigError("err_basket_empty_after_drop", path=project.source)
    given_basket = [k for k in given_basket if k not in dropped]
    names = _aliases(cats)
    radius = dict(
        zip(
            _resolve(cov.radius, names, "[coverage] radius", where_cfg, names_known),
            cov.radius.values(),
            strict=True,
        )
    )
    pace = _paces(cats)
    if cov.threshold == "time":  # a paced category: its level's minutes at its group's pace
        for key, (_group, speed) in pace.items():  # (the others and [coverage] radius: as given)
            cat = cats[key]
            cats[key] = Category(
                **{**cat.__dict__, "radius_m": round(cat.level * speed * 1000 / 60, 1)}
            )
    for key, value in radius.items():
        cats[key] = Category(**{**cats[key].__dict__, "radius_m": float(value)})
    basket = given_basket or [k for k in raw.get("core_basket", cats) if k in cats]
    basket = list(dict.fromkeys(basket))
    if not basket:
        raise ConfigError("err_basket_empty", path=project.source)
    min_area = project.siting.min_area
    project.siting.min_area = dict(
        zip(
            _resolve(min_area, names, "[siting] min_area", where_cfg, names_known),
            min_area.values(),
            strict=True,
        )
    )
    given = project.facilities.aliases
    resolved = _resolve(given.values(), names, "[facilities] aliases", where_cfg, names_known)
    name_aliases = {k.strip().lower(): v for k, v in zip(given, resolved, strict=True)}
    alias_map = name_aliases | {name: key for name, key in names.items() if name != key}
    alias_map |= name_aliases  # the project's own first
    speed = _walk_speed(cov.walk_speed_kmh, raw, where)
    return Standards(
        categories=cats,
        basket=basket,
        groups=raw.get("groups", {}),
        source=raw.get("source", str(where)),
        walk_speed_kmh=float(speed),
        national_target=float(raw.get("national_target", settings.NATIONAL_TARGET)),
        alias_map=alias_map,
        pace=pace,
        threshold=cov.threshold,
        name_aliases=name_aliases,
    )


def load_walk_speeds() -> dict[str, dict[str, Any]]:
    """Walking speed per resident group (``data/standards/walk_speeds.toml`` ``[groups]``)."""
    return _read_toml(settings.STANDARDS_DIR / "walk_speeds.toml").get("groups", {})


def _paces(cats: dict[str, Category]) -> dict[str, tuple[str, float]]:
    """Category → (group, km/h) for the active categories a slower group is served by."""
    out = {}
    for group, spec in load_walk_speeds().items():
        for key in spec.get("categories", ()):
            if key in cats:
                out[key] = (group, float(spec["speed_mps"]) * 3.6)
    return out


def _walk_speed(project_value: float | None, raw: dict[str, Any], where: Path) -> float:
    """The one rule for a default: the project file's value if it sets one, else the standards
    file's, else ``settings.WALK_SPEED_KMH``."""
    if project_value is not None:
        return float(project_value)
    speed = raw.get("walk_speed_kmh", settings.WALK_SPEED_KMH)
    ok = isinstance(speed, int | float) and not isinstance(speed, bool) and math.isfinite(speed)
    if not ok or speed <= 0:
        raise ConfigError(
            "err_cfg_range",
            path=where,
            label="walk_speed_kmh",
            value=repr(speed),
            allowed=msg("range_speed"),
        )
    return float(speed)


def _aliases(cats: dict[str, Category]) -> dict[str, str]:
    """Every name of every category (key, Chinese and English name, aliases; lower-case) → key."""
    names: dict[str, str] = {key.lower(): key for key in cats}
    for c in cats.values():
        for name in (c.name_zh, c.name_en, *c.aliases):
            names.setdefault(name.strip().lower(), c.key)
    return names


def _known(cats: dict[str, Category]) -> Joined:
    """The categories an error lists as usable, in the run's language: 幼儿园（kindergarten）、…
    in Chinese, kindergarten (Kindergarten), … in English."""
    return Joined(
        tuple(Named(f"{c.name_zh}（{k}）", f"{k} ({c.name_en})") for k, c in cats.items())
    )


def _resolve(
    given: Iterable[object], names: dict[str, str], where: str, path: Path, known: Joined
) -> list[str]:
    """Category keys for the names a project file gives (keys, Chinese names or aliases);
    ``known`` lists the usable ones when one is not (:func:`_known`)."""
    keys, unknown = [], []
    for name in given:
        key = names.get(str(name).strip().lower())
        (keys if key else unknown).append(key or str(name))
    if unknown:
        listed = ", ".join(f"'{u}'" for u in unknown)
        raise ConfigError(
            "err_unknown_category" if len(unknown) == 1 else "err_unknown_categories",
            path=path,
            where=where,
            listed=listed,
            known=known,
        )
    return keys


def load_column_aliases() -> dict[str, dict[str, list[str]]]:
    """Header names recognised per layer and role (``data/standards/columns.toml``)."""
    return _read_toml(settings.STANDARDS_DIR / "columns.toml")


def load_osm_tags() -> dict[str, dict[str, list[str]]]:
    """OSM tag → category mapping (``data/standards/osm_tags.toml``)."""
    return _read_toml(settings.STANDARDS_DIR / "osm_tags.toml")


def load_poi_names() -> dict[str, Any]:
    """Generic POI types and name keywords per category (``data/standards/poi_names.toml``)."""
    return _read_toml(settings.STANDARDS_DIR / "poi_names.toml")


def load_poi_mapping() -> dict[str, dict[str, str]]:
    """Gaode/Baidu POI type names and typecodes → category (``data/standards/poi_gaode.toml``)."""
    raw = _read_toml(settings.STANDARDS_DIR / "poi_gaode.toml")
    return {
        "names": {k.strip().lower(): v for k, v in raw.get("names", {}).items()},
        "typecodes": {str(k): v for k, v in raw.get("typecodes", {}).items()},
    }


def load_gate_codes() -> dict[str, dict]:
    """Which POI typecodes and OSM tags are gates (``data/standards/gates.toml``)."""
    return _read_toml(settings.STANDARDS_DIR / "gates.toml")
