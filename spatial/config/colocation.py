"""Co-location rules (``data/standards/colocation.toml``: which facilities need a parcel of their
own, which share one building, which parcel kinds are an existing building) and what one
facility of each category takes from a parcel (its :class:`Need`, from the standards' sizes)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from spatial.config.project import SitingConfig
from spatial.config.standards import Standards
from spatial.core import settings
from spatial.core.errors import ConfigError


@dataclass(frozen=True)
class Rules:
    """Co-location rules (``data/standards/colocation.toml``).

    Attributes
    ----------
    own_land : frozenset of str
        Categories that need a parcel of their own.
    shared : frozenset of str
        Categories that share one building (their floor sizes add up).
    building_kinds : frozenset of str
        Parcel kinds that are an existing building (no own-land facility).
    default_far : float
        Floor area per land area where a parcel gives no ``max_floor_area``.
    """

    own_land: frozenset[str]
    shared: frozenset[str]
    building_kinds: frozenset[str]
    default_far: float = settings.DEFAULT_FAR


def load_rules(path: Path | None = None) -> Rules:
    """Read the co-location rules (default: the built-in ``colocation.toml``).

    Parameters
    ----------
    path : Path, optional

    Returns
    -------
    Rules

    Raises
    ------
    ConfigError
        The file cannot be read or holds a value of the wrong type.
    """
    where = path or settings.STANDARDS_DIR / "colocation.toml"
    try:
        raw = tomllib.loads(where.read_text(encoding="utf-8"))
        return Rules(
            own_land=frozenset(raw.get("own_land", {}).get("categories", ())),
            shared=frozenset(raw.get("shared", {}).get("categories", ())),
            building_kinds=frozenset(raw.get("building_kinds", {}).get("kinds", ())),
            default_far=float(raw.get("default_far", settings.DEFAULT_FAR)),
        )
    except (OSError, UnicodeError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
        raise ConfigError("err_colocation_read", path=where, reason=exc) from None


@dataclass(frozen=True)
class Need:
    """What one facility of a category takes from a parcel (m²) and whether it needs the parcel
    to itself.

    Attributes
    ----------
    land, floor : float
        m² of the parcel's land and floor one facility takes.
    own : bool
        The facility needs the parcel to itself.
    """

    land: float
    floor: float
    own: bool


def needs(standards: Standards, cfg: SitingConfig, rules: Rules) -> dict[str, Need | None]:
    """Per category its :class:`Need`, or None when no size is known (not sited).

    ``[siting] min_area`` gives the land a parcel must offer and makes any category siteable.
    A shared facility with a building size takes floor only; own-land facilities and facilities
    without a building (fitness ground) take their land size too.

    Parameters
    ----------
    standards : Standards
        Sizes per category (``land_m2``, ``building_m2``).
    cfg : SitingConfig
        ``min_area`` overrides.
    rules : Rules
        Which categories need their own land.

    Returns
    -------
    dict of str to Need or None
    """
    out: dict[str, Need | None] = {}
    for key, cat in standards.categories.items():
        own = key in rules.own_land or key not in rules.shared
        floor = float(cat.building_m2[0]) if cat.building_m2 else 0.0
        land = float(cat.land_m2[0]) if cat.land_m2 else 0.0
        if key in cfg.min_area:
            land = float(cfg.min_area[key])
        elif not own and floor > 0:
            land = 0.0
        out[key] = Need(land, floor, own) if (land > 0 or floor > 0) else None
    return out
