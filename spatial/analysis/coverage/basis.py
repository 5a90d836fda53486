"""Which basis each community's distances used (its gates or its outline) and what measuring
from the gates changed: the ``coverage.access_basis`` block of ``summary.json``."""

from __future__ import annotations

import numpy as np

from spatial.config.standards import Standards
from spatial.core.messages import text


def basis_summary(
    communities,
    outline_ok: dict[str, np.ndarray] | None,
    rule: str,
    standards: Standards,
    known: bool,
    sources: dict[str, int] | None = None,
) -> dict:
    """Counts per basis and, where gates were used, the communities and households that are
    covered from the outline but not from the gates (``lost``) or the other way (``gained``),
    per category and for the whole basket (``full_coverage``).

    Parameters
    ----------
    communities : GeoDataFrame
        With ``access_basis``, ``households``, ``<cat>_ok`` and ``full_coverage``.
    outline_ok : dict of str to bool array, or None
        Per category, covered by the outline rule (None: no gates were used).
    rule : str
        The inner-walk rule (``none``, ``mean``, ``farthest``).
    standards : Standards
    known : bool
        Household counts are known (else household figures are null).
    sources : dict of str to int, optional
        The gates of the run by where they came from (``layer``; ``osm_node``, ``osm_crossing``
        for ``path = "osm"``): ``gate_sources``.

    Returns
    -------
    dict
    """
    basis = communities["access_basis"].to_numpy(object)
    block: dict = {
        "gates": int((basis == "gates").sum()),
        "outline": int((basis == "outline").sum()),
        "inner_walk": rule or "none",
    }
    if sources is not None:
        block["gate_sources"] = sources
    if outline_ok is None:
        return block
    h = communities["households"].fillna(0).to_numpy(float)

    def change(before: np.ndarray, after: np.ndarray) -> dict:
        lost, gained = before & ~after, ~before & after
        return {
            "lost_communities": int(lost.sum()),
            "lost_households": int(h[lost].sum()) if known else None,
            "gained_communities": int(gained.sum()),
            "gained_households": int(h[gained].sum()) if known else None,
        }

    per_cat = {}
    for key in standards.categories:
        per_cat[key] = change(outline_ok[key], communities[f"{key}_ok"].to_numpy(bool))
    full_before = np.ones(len(basis), bool)
    for key in standards.basket:
        full_before &= outline_ok[key]
    block["categories"] = per_cat
    block["full_coverage"] = change(full_before, communities["full_coverage"].to_numpy(bool))
    return block


#: ``summary.json`` ``coverage.distance_unit``: metres, or with hills ([network] elevation)
#: Tobler's flat-equivalent metres (the walking time × the flat walking speed)
DISTANCE_UNITS = ("m", "flat_equivalent_m")


def distance_unit(cov: dict | None, lang: str) -> str:
    """The unit word of every distance and radius a run's outputs title (the ledger's distance
    columns, the map cards, the radii of the maps' definitions): the one place deciding it.

    Parameters
    ----------
    cov : dict or None
        The ``coverage`` block of ``summary.json`` (its ``distance_unit``; None or without
        it: metres).
    lang : str

    Returns
    -------
    str
        ``m``, or ``平地等效米`` / ``flat-equivalent m`` with hills.
    """
    unit = (cov or {}).get("distance_unit") or "m"
    return text(lang, f"distance_unit_{unit}")


def threshold_text(cov: dict, name_of, lang: str) -> str:
    """The coverage rule of a run in one sentence (the ``coverage`` block of ``summary.json``):
    GB 50180's radii, or walking minutes at the pace of the group a category serves; with hills
    (``slope`` = ``tobler``) followed by how slopes are counted (flat-equivalent metres, the walk
    from the community to the facility).

    Parameters
    ----------
    cov : dict
        The ``coverage`` block (``threshold``, ``pace``, ``slope``).
    name_of : callable
        Category key → its name in ``lang``.
    lang : str

    Returns
    -------
    str
    """
    pace = cov.get("pace") or {}
    if cov.get("threshold") != "time" or not pace:
        rule = text(lang, "threshold_distance")
    else:
        rule = text(lang, "threshold_time", **_pace_fields(pace, name_of, lang))
    if cov.get("slope") == "tobler":  # [network] elevation: uphill and downhill differ
        rule += text(lang, "threshold_hills")
    return rule


def rule_line(cov: dict | None, name_of, lang: str) -> str:
    """The rule sentence (:func:`threshold_text`) and, where gates were used, how many
    communities were measured from them and from their outline: one line (the print maps).

    Parameters
    ----------
    cov : dict or None
        The ``coverage`` block of ``summary.json`` (None or empty: ``""``).
    name_of : callable
        Category key → its name in ``lang``, already made safe for the output.
    lang : str

    Returns
    -------
    str
    """
    if not cov:
        return ""
    rule = threshold_text(cov, name_of, lang)
    basis = cov.get("access_basis") or {}
    if basis.get("gates"):
        note = text(lang, "map_access_basis", gates=basis["gates"], outline=basis["outline"])
        rule += "   " + note
    return rule


def pace_text(cov: dict, name_of, lang: str, source: str) -> str:
    """Which categories also show minutes at a slower group's pace ('' when none)."""
    pace = cov.get("pace") or {}
    if not pace:
        return ""
    return text(lang, "cli_pace", source=source, **_pace_fields(pace, name_of, lang))


def _pace_fields(pace: dict, name_of, lang: str) -> dict:
    first = next(iter(pace.values()))
    return {
        "names": text(lang, "sep_list").join(str(name_of(k)) for k in pace),
        "group": text(lang, f"pace_{first['group']}"),
        "speed": first["speed_kmh"] / 3.6,
    }
