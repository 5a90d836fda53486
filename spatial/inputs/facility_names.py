"""Facilities whose type says nothing: their names decide (``data/standards/poi_names.toml``).

A Gaode export types many elderly-care, childcare and clinic POIs generically
(``生活服务;生活服务场所;生活服务场所``) while the name says what they are (历下区颐养院). A row is
read by its name only when every category text of the row is empty or generic; a specific type
always wins. Every row classified by name and every row left out is reported, by name.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from spatial.config.standards import Standards, load_poi_mapping, load_poi_names
from spatial.core.messages import Joined, Msg, Named, text
from spatial.core.problems import Problem, problem
from spatial.inputs.parse import file_row, header_key, match_category


@dataclass(frozen=True)
class NameRules:
    """The generic types and the name keywords of ``poi_names.toml``.

    Attributes
    ----------
    generic_types : frozenset of str
        Most specific type segments that say nothing (lower case).
    generic_codes : frozenset of str
        Gaode typecodes that say nothing (besides every ``xx0000``).
    keywords : dict of str to (tuple of str, tuple of str)
        Category key → (words that name it, words that rule it out).
    """

    generic_types: frozenset[str]
    generic_codes: frozenset[str]
    keywords: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]


@cache
def load_name_rules() -> NameRules:
    """``data/standards/poi_names.toml`` as :class:`NameRules`."""
    raw = load_poi_names()
    generic = raw.get("generic", {})
    keywords = {
        key: (
            tuple(_plain(w) for w in spec.get("match", ())),
            tuple(_plain(w) for w in spec.get("exclude", ())),
        )
        for key, spec in raw.get("keywords", {}).items()
    }
    return NameRules(
        frozenset(_plain(t) for t in generic.get("types", ())),
        frozenset(str(c) for c in generic.get("codes", ())),
        keywords,
    )


def _plain(value: object) -> str:
    """Text for comparing: NFKC (full-width → half-width), no spaces, lower case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(value))).lower()


def is_generic(value: object, rules: NameRules) -> bool:
    """Whether a category text says nothing of the facility: empty, or every ``|`` type of it a
    generic one (its most specific ``;`` segment in ``rules.generic_types``, a ``xx0000`` code or
    one of ``rules.generic_codes``).

    Parameters
    ----------
    value : object
    rules : NameRules

    Returns
    -------
    bool
    """
    text = "" if pd.isna(value) else unicodedata.normalize("NFKC", str(value)).strip()
    for part in (p.strip() for p in re.split(r"[|｜]", text)):
        if not part:
            continue
        if re.fullmatch(r"\d{6}", part):
            if not (part.endswith("0000") or part in rules.generic_codes):
                return False
            continue
        segments = [s for s in re.split(r"[;；]", part) if s.strip()]
        if _plain(segments[-1]) not in rules.generic_types:
            return False
    return True


def _first(values: tuple) -> str:
    """The first non-empty category text of a row (the category column before the fallbacks)."""
    for value in values:
        if not pd.isna(value) and str(value).strip():
            return str(value)
    return ""


def category_by_name(
    name: object, rules: NameRules, categories: dict, project: dict[str, str]
) -> str:
    """The category a facility's name says, or ``""`` when none (or two tie).

    Parameters
    ----------
    name : object
    rules : NameRules
    categories : dict
        The active categories (keys).
    project : dict of str to str
        The project file's ``[facilities] aliases`` (text → key), tried first as keywords.

    Returns
    -------
    str
    """
    text = _plain("" if pd.isna(name) else name)
    if not text:
        return ""
    found = _longest({k: [w] for w, k in project.items() if _plain(w) in text}, categories)
    if found is not None:
        return found
    hits = {
        key: [w for w in words if w in text]
        for key, (words, exclude) in rules.keywords.items()
        if not any(x in text for x in exclude)
    }
    return _longest(hits, categories) or ""


def _longest(hits: dict[str, list[str]], categories: dict) -> str | None:
    """The category of the longest keyword found; ``""`` on a tie; None when nothing was found."""
    best = {key: max(map(len, words)) for key, words in hits.items() if words and key in categories}
    if not best:
        return None
    top = max(best.values())
    winners = [key for key, size in best.items() if size == top]
    return winners[0] if len(winners) == 1 else ""


def classify_by_name(
    texts: pd.DataFrame, names: pd.Series, keys: pd.Series, standards: Standards
) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Fill the categories of rows whose type (first category text) is generic from their names.

    Parameters
    ----------
    texts : DataFrame
        Each row's category texts (the category column, then the fallback columns present): the
        first that is not empty is the row's type.
    names : Series
        The facilities' names.
    keys : Series
        The category key per row from the types (``""`` = none).
    standards : Standards
        The active categories and the project's ``[facilities] aliases`` (``name_aliases``).

    Returns
    -------
    keys : Series
        With the categories found by name.
    by_name : (n,) bool array
        Rows classified by name.
    generic : (n,) bool array
        Rows whose type is generic or empty.
    """
    rules = load_name_rules()
    generic = np.array([is_generic(_first(row), rules) for row in texts.itertuples(index=False)])
    generic = generic.astype(bool) if len(texts) else np.zeros(0, bool)
    todo = generic & (keys == "").to_numpy(bool)
    found = names[todo].map(
        lambda n: category_by_name(n, rules, standards.categories, standards.name_aliases)
    )
    keys = keys.copy()
    keys.loc[found.index] = found
    by_name = todo & (keys != "").to_numpy(bool)
    return keys, by_name, generic


def name_problems(
    names: pd.Series, keys: pd.Series, by_name: np.ndarray, generic: np.ndarray, standards
) -> list[Problem]:
    """The warnings of the name step: rows classified by name (with their categories), and rows
    with a generic or missing type whose name says nothing either (listed by name)."""
    found: list[Problem] = []
    if by_name.any():
        counts = keys[by_name].value_counts()
        cats = standards.categories
        per = tuple(
            Msg("name_count", {"name": Named(cats[k].name_zh, cats[k].name_en), "count": int(n)})
            for k, n in counts.items()
        )
        found.append(
            problem("facilities_by_name", "facilities", names[by_name], categories=Joined(per))
        )
    left = generic & (keys == "").to_numpy(bool)
    if left.any():
        found.append(problem("facilities_generic_unmatched", "facilities", names[left]))
    return found


def unknown_problem(
    names: pd.Series, raw: pd.Series, keys: pd.Series, generic: np.ndarray
) -> list[Problem]:
    """The rows left out because their (specific) type is not a standard category: the types
    with their counts, and the rows by name."""
    specific = (keys == "").to_numpy(bool) & ~generic
    if not specific.any():
        return []
    kinds = raw[specific].value_counts()
    listed = tuple(f"{k}×{v}" for k, v in kinds.items())
    rows = int(specific.sum())
    return [
        problem(
            "unknown_categories", "facilities", names[specific], rows=rows, listed=Joined(listed)
        )
    ]


def dropped_table(
    names: pd.Series, raw: pd.Series, keys: pd.Series, generic: np.ndarray
) -> pd.DataFrame:
    """Every facility row left out for its category: file row, name, category text and why
    (``generic``: the type says nothing and neither does the name; ``unknown``: the type is not
    a standard category)."""
    out = (keys == "").to_numpy(bool)
    rows = [file_row(raw, int(i)) for i in np.flatnonzero(out)]
    return pd.DataFrame(
        {
            "row": pd.Series(rows, dtype=int),
            "name": names[out].astype(str).to_numpy(object),
            "category": raw[out].astype(str).to_numpy(object),
            "reason": np.where(generic[out], "generic", "unknown"),
        }
    )


def dropped_records(table: pd.DataFrame | None, lang: str) -> list[dict[str, object]]:
    """The facility rows left out (:func:`dropped_table`) as ``summary.json`` records, the reason
    as its code and its text in ``lang``."""
    if table is None or not len(table):
        return []
    why = {code: text(lang, f"facility_drop_{code}") for code in ("generic", "unknown")}
    return [
        {
            "row": int(r.row),
            "name": r.name,
            "category": r.category,
            "reason": r.reason,
            "why": why[r.reason],
        }  # fmt: skip
        for r in table.itertuples(index=False)
    ]


def empty_categories(facilities: pd.DataFrame, standards: Standards) -> list[str]:
    """The basket's categories with no facility at all in the data (their coverage is 0 for that
    reason, not because the district lacks them)."""
    present = set(facilities["category"]) if len(facilities) else set()
    return [key for key in standards.basket if key not in present]


def empty_note(standards: Standards, empty: list[str], keys: list[str], lang: str) -> str:
    """The headline's note on the categories of ``keys`` with no facility in the data (``empty``),
    in ``lang``; ``""`` when there are none."""
    missing = [k for k in keys if k in empty and k in standards.categories]
    if not missing:
        return ""
    names = text(lang, "sep_list").join(standards.categories[k].label(lang) for k in missing)
    return text(lang, "basket_empty_headline", count=len(missing), basket=len(keys), names=names)


def headline_notes(result, lang: str) -> list[str]:
    """What the headline must say first (``summary.json`` ``headline_notes``): the basket's
    categories with no facility in the data."""
    cov = result.summary.get("coverage") or {}
    note = empty_note(
        result.standards, cov.get("basket_without_facilities", []), cov.get("basket", []), lang
    )
    return [note] if note else []


def empty_basket(facilities: pd.DataFrame, standards: Standards) -> list[Problem]:
    """A warning naming the basket's categories that have no facility in the data."""
    empty = empty_categories(facilities, standards)
    if not empty:
        return []
    cats = standards.categories
    labels = Joined(tuple(Named(cats[k].name_zh, cats[k].name_en) for k in empty))
    return [
        problem(
            "basket_category_empty", "facilities", empty, names=labels, basket=len(standards.basket)
        )
    ]


def type_categories(
    gdf: pd.DataFrame, column: str, raw: pd.Series, standards: Standards, aliases: dict
) -> tuple[pd.Series, pd.DataFrame]:
    """Category key per row from its type: the category column, else a Gaode typecode / type /
    Baidu tag column (``[facility_category_fallbacks]``); and each row's category texts (those
    columns), for :func:`classify_by_name`."""
    poi = load_poi_mapping()
    keys = raw.map(lambda v: match_category(v, standards, poi))
    others = aliases.get("facility_category_fallbacks", {}).get("columns", [])
    by_key = {header_key(c): c for c in gdf.columns if c not in (column, gdf.geometry.name)}
    texts = {column: raw}
    for name in others:
        other = by_key.get(header_key(name))
        if other is None or other in texts:
            continue
        texts[other] = gdf[other].astype("string").fillna("")
        if not (keys == "").any():
            continue
        more = texts[other][keys == ""]
        keys.loc[more.index] = more.map(lambda v: match_category(v, standards, poi))
    return keys, pd.DataFrame(texts, index=raw.index)
