"""Every setting of a project checked before anything runs: ranges, choices, CRSs and
encodings (:func:`validate_project`); the first key out of range is refused with a
:class:`~spatial.core.errors.ConfigError` naming it and the allowed range.
"""

from __future__ import annotations

import codecs
import math
from pathlib import Path

from spatial.config.schema import INNER_RULES, CapacityConfig, LayerConfig, Project
from spatial.core.errors import ConfigError
from spatial.core.messages import msg

#: (section, key) → (lowest, lowest allowed itself?, wording of the allowed range)
_RANGES: dict[tuple[str, str], tuple[float, bool, str]] = {
    ("network", "snap_m"): (0.0, True, "range_distance_or_0"),
    ("network", "min_connected_share"): (0.0, True, "range_share"),
    ("coverage", "walk_speed_kmh"): (0.0, False, "range_speed"),
    ("coverage", "detour_factor"): (1.0, True, "range_detour"),
    ("coverage", "search_bound_m"): (0.0, False, "range_distance"),
    ("coverage", "access_spacing_m"): (0.0, False, "range_distance"),
    ("coverage", "max_snap_m"): (0.0, False, "range_distance"),
    ("coverage", "service_area_buffer_m"): (0.0, False, "range_distance"),
    ("policy", "min_willingness"): (0.0, True, "range_share"),
    ("bundling", "tolerance_m"): (0.0, True, "range_distance_or_0"),
    ("bundling", "max_households"): (0.0, False, "range_positive"),
    ("bundling", "min_members"): (2.0, True, "range_min_members"),
    ("bundling", "max_span_m"): (0.0, False, "range_distance"),
    ("priority", "tier"): (0.0, True, "range_weight"),
    ("priority", "gaps"): (0.0, True, "range_weight"),
    ("priority", "willingness"): (0.0, True, "range_weight"),
    ("priority", "infrastructure"): (0.0, True, "range_weight"),
    ("priority", "funding"): (0.0, True, "range_weight"),
    ("priority", "shortfall"): (0.0, True, "range_weight"),
    ("siting", "max_sites"): (0.0, True, "range_count"),
    ("siting", "exact_max_parcels"): (0.0, True, "range_count"),
    ("siting", "exact_time_limit_s"): (0.0, False, "range_seconds"),
    ("gates", "tolerance_m"): (0.0, True, "range_distance_or_0"),
    ("gates", "inner_detour"): (1.0, True, "range_detour"),
}

#: Projected CRSs a planner in Shandong most likely meant (CGCS2000 3-degree Gauss-Krüger).
CRS_HINT = msg("crs_hint")


def _check_number(value: object, label: str, where: Path, rule: tuple[float, bool, str]) -> None:
    low, inclusive, allowed = rule
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = value >= low if inclusive else value > low
    if ok and allowed == "range_share":
        ok = value <= 1
    if not ok:
        raise ConfigError(
            "err_cfg_range", path=where, label=label, value=repr(value), allowed=msg(allowed)
        )


def _check_choice(value: object, allowed: tuple[str, ...], label: str, where: Path) -> None:
    """Refuse ``value`` unless it is one of ``allowed`` (the message lists them)."""
    if value not in allowed:
        raise ConfigError(
            "err_cfg_choice", path=where, label=label, value=value, allowed=", ".join(allowed)
        )


def _check_crs(text: str, label: str, where: Path, analysis: bool) -> None:
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        raise ConfigError("err_cfg_crs_unknown", path=where, label=label, value=text) from None
    if not analysis:
        return
    if crs.is_geographic or not crs.is_projected:
        raise ConfigError(
            "err_cfg_crs_geographic", path=where, label=label, value=text, hint=CRS_HINT
        )
    units = {(axis.unit_name or "").lower() for axis in crs.axis_info}
    if not units <= {"metre", "meter"}:
        raise ConfigError(
            "err_cfg_crs_units",
            path=where,
            label=label,
            value=text,
            units=", ".join(sorted(units)),
            hint=CRS_HINT,
        )


def _check_encoding(text: str, label: str, where: Path) -> None:
    try:
        codecs.lookup(text)
    except LookupError:
        raise ConfigError("err_cfg_encoding", path=where, label=label, value=text) from None


def validate_project(project: Project, where: Path) -> None:
    """Check every setting of ``project`` and raise a :class:`ConfigError` naming the first
    key that is out of range (with the allowed range). Nothing has been read or written yet.

    Parameters
    ----------
    project : Project
        The parsed project.
    where : Path
        The project file (named in the message).
    """
    for (section, key), rule in _RANGES.items():
        value = getattr(getattr(project, section), key)
        if value is not None:  # None = not set here; the standards file or settings decide
            _check_number(value, f"[{section}] {key}", where, rule)
    for key, value in project.coverage.radius.items():
        _check_number(
            value,
            f"[coverage] radius.{key}",
            where,
            (0.0, False, "range_radius"),
        )
    for key, value in project.siting.min_area.items():
        _check_number(value, f"[siting] min_area.{key}", where, (0.0, True, "range_area"))
    for key in ("input_limit_mb", "table_limit_mb"):
        _check_number(
            getattr(project, key), f"[project] {key}", where, (0.0, False, "range_positive")
        )
    _check_capacity(project.capacity, where)
    if project.plan is not None:
        from spatial.config.plan import check_plan

        check_plan(project.plan, project.policy, where)
    choices = (
        ("[siting] objective", project.siting.objective, ("households", "full_coverage")),
        ("[coverage] threshold", project.coverage.threshold, ("distance", "time")),
        ("[gates] inner", project.gates.inner, INNER_RULES),
    )
    for label, value, allowed in choices:
        _check_choice(value, allowed, label, where)
    policy = project.policy
    if policy.priority_cutoff > policy.old_cutoff:
        raise ConfigError(
            "err_cfg_cutoffs",
            path=where,
            priority=policy.priority_cutoff,
            old=policy.old_cutoff,
        )
    if project.crs:
        _check_crs(project.crs, "[project] crs", where, analysis=True)
    for section in ("communities", "facilities", "parcels", "subdistricts", "gates"):
        layer: LayerConfig = getattr(project, section)
        if layer.crs:
            _check_crs(layer.crs, f"[{section}] crs", where, analysis=False)
        if layer.encoding:
            _check_encoding(layer.encoding, f"[{section}] encoding", where)
    if project.network.crs:
        _check_crs(project.network.crs, "[network] crs", where, analysis=False)
    if project.network.encoding:
        _check_encoding(project.network.encoding, "[network] encoding", where)


DECAYS = ("none", "gaussian", "linear")
DEMOGRAPHIC_KEYS = ("persons_per_household", "older", "infants", "preschoolers")


def _check_capacity(cap: CapacityConfig, where: Path) -> None:
    """``[capacity]``: the decay is known, shares are 0-1, sizes and targets above 0."""
    _check_choice(cap.decay, DECAYS, "[capacity] decay", where)
    _check_number(
        cap.persons_per_household,
        "[capacity] persons_per_household",
        where,
        (0.0, True, "range_persons"),
    )
    tables = [("[capacity] shares", cap.shares)]
    tables += [(f'[capacity.subdistricts."{k}"]', v) for k, v in cap.subdistricts.items()]
    for label, table in tables:
        if not isinstance(table, dict):
            raise ConfigError("err_cfg_table", path=where, label=label)
        for key, value in table.items():
            if key not in DEMOGRAPHIC_KEYS or (
                label.endswith("shares") and key == DEMOGRAPHIC_KEYS[0]
            ):
                raise ConfigError(
                    "err_cfg_unknown_key",
                    path=where,
                    section=label,
                    key=key,
                    known=", ".join(DEMOGRAPHIC_KEYS),
                )
            rule = (
                (0.0, False, "range_positive")
                if key == DEMOGRAPHIC_KEYS[0]
                else (0.0, True, "range_share")
            )
            _check_number(value, f"{label} {key}", where, rule)
    for name, table in (("targets", cap.targets), ("targets_existing", cap.targets_existing)):
        for key, value in table.items():
            _check_number(
                value,
                f"[capacity] {name}.{key}",
                where,
                (0.0, False, "range_target"),
            )
