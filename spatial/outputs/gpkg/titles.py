"""The GeoPackage's words: each field's title and the words of coded values, in the run's language.

One source with the ledger: a column the ledger shows has the ledger's header
(``ledger.columns.*``, the per-category ``ledger.category_columns.*`` and
``ledger.capacity_columns.*``), and a coded value its ledger word (``ledger.tiers``,
``ledger.values.*``, the categories' names); the GeoPackage's own columns are ``gpkg.columns.*``.
A column the catalogue does not know keeps its name as its title.
"""

from __future__ import annotations

from spatial.analysis.coverage.basis import distance_unit
from spatial.analysis.result import RunResult
from spatial.core.messages import labels, text

_CAPACITY_SUFFIXES = ("need", "supply", "ratio", "short", "state", "assumed")
#: coded columns whose words are ``ledger.values.<column>``
_VALUE_TABLES = ("distance_mode", "access_basis", "method", "size_basis", "status")
_PLAN_STATES = ("done", "started", "planned", "reserve", "unplanned")


def _category_titles(result: RunResult, lang: str, columns: set[str]) -> dict[str, str]:
    """Titles of the per-category columns (distance, reached, nearest, minutes, capacity)."""
    book = labels(lang)["ledger"]
    named, cap = book["category_columns"], book["capacity_columns"]
    indicators = result.capacity.settings.indicators if result.capacity else {}
    metres = distance_unit(result.summary.get("coverage"), lang)  # flat-equivalent with hills
    out = {}
    for key, cat in result.standards.categories.items():
        name = cat.label(lang)
        out[f"{key}_m"] = named["distance"].format(name=name, unit=metres)
        out[f"{key}_ok"] = named["ok"].format(name=name)
        out[f"{key}_nearest"] = named["nearest"].format(name=name)
        if f"{key}_min" in columns:  # minutes at the pace of the group it serves
            group = text(lang, f"pace_{result.standards.pace[key][0]}")
            out[f"{key}_min"] = named["minutes"].format(name=name, group=group)
        ind = indicators.get(key)
        unit = (ind.supply_unit_zh if lang == "zh" else ind.supply_unit_en) if ind else ""
        for suffix in _CAPACITY_SUFFIXES:
            out[f"{key}_{suffix}"] = cap[suffix].format(name=name, unit=unit)
    return out


def field_titles(
    columns: list[str], result: RunResult, lang: str, layer: str = ""
) -> dict[str, str]:
    """The title of each of ``columns`` of ``layer`` in ``lang`` (its own name when the catalogue
    has none): ``gpkg.layer_columns.<layer>.<column>`` first (``name`` is a facility's or a
    parcel's there), then the ledger's header, then ``gpkg.columns.<column>``.

    Parameters
    ----------
    columns : list of str
    result : RunResult
        For the categories' names and the capacity units.
    lang : str
    layer : str

    Returns
    -------
    dict of str to str
    """
    book = labels(lang)["ledger"]
    known = (
        dict(book["columns"])
        | {k: v for k, v in book["capacity_columns"].items() if k.startswith("demand_")}
        | {"partner_parcels": labels(lang)["partner_parcels"]}
        | _category_titles(result, lang, set(columns))
        | labels(lang)["gpkg"]["columns"]
        | labels(lang)["gpkg"]["layer_columns"].get(layer, {})
    )
    return {c: str(known.get(c, c)) for c in columns}


def value_words(result: RunResult, lang: str) -> dict[str, dict[str, str]]:
    """Per coded column, its codes and the words a planner reads for them.

    Parameters
    ----------
    result : RunResult
    lang : str

    Returns
    -------
    dict
        Column → {code: word}.
    """
    book = labels(lang)["ledger"]
    states = book["capacity_columns"]["states"]
    cats = result.standards.categories
    out: dict[str, dict[str, str]] = {
        "tier": dict(book["tiers"]),
        "category": {k: c.label(lang) for k, c in cats.items()},
        "state": {s: text(lang, f"plan_state_{s}") for s in _PLAN_STATES},
        **{col: dict(book["values"][col]) for col in _VALUE_TABLES},
    }
    for key in cats:
        out[f"{key}_state"] = dict(states)
    return out
