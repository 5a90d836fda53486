"""The one message catalogue: every text a planner reads (terminal, maps, ledger), zh and en.

Texts live in ``data/i18n.toml`` under ``[zh]`` and ``[en]``. A text may hold ``{field}``
placeholders, filled by :func:`text`. Values are inserted as plain text; the escaping of the output
format (HTML, terminal markup, spreadsheet cells) is applied where the text enters that format.
"""

from __future__ import annotations

import datetime as dt
import re
import string
import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from spatial.core import settings

if TYPE_CHECKING:
    import pandas as pd

LANGS = ("zh", "en")


class PolicyDates(Protocol):
    """The ``[policy]`` cut-offs texts name (``config.PolicyConfig`` has them)."""

    priority_cutoff: dt.date
    old_cutoff: dt.date


@cache
def labels(lang: str) -> dict[str, str]:
    """All texts of ``lang`` (``data/i18n.toml``), keyed by message id.

    Parameters
    ----------
    lang : str
        ``zh`` or ``en``.

    Returns
    -------
    dict of str to str
    """
    return tomllib.loads((settings.DATA_DIR / "i18n.toml").read_text("utf-8"))[lang]


@dataclass(frozen=True)
class Msg:
    """A catalogue text not yet put in a language: its key and fields.

    A field of :func:`text` may itself be a ``Msg`` (e.g. the allowed range inside an error
    about a setting); it is rendered in the same language as the text holding it.

    Attributes
    ----------
    key : str
        A key of ``data/i18n.toml``.
    fields : dict
        Its placeholders' values.
    """

    key: str
    fields: dict[str, object] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        """The text in ``lang``."""
        return text(lang, self.key, **self.fields)


def msg(key: str, **fields: object) -> Msg:
    """A :class:`Msg` for ``key`` with ``fields``.

    Parameters
    ----------
    key : str
    **fields

    Returns
    -------
    Msg
    """
    return Msg(key, fields)


@dataclass(frozen=True)
class Named:
    """A name the data gives in both languages (a category's label, a unit): rendered like a
    :class:`Msg`, in the language of the text or table it is shown in.

    Attributes
    ----------
    zh, en : str
    """

    zh: str
    en: str

    def render(self, lang: str) -> str:
        """The name in ``lang`` (English when there is no Chinese, and back)."""
        return (self.zh or self.en) if lang == "zh" else (self.en or self.zh)


@dataclass(frozen=True)
class Joined:
    """Texts (``str`` or anything with ``render(lang)``) joined by the catalogue's separator
    ``sep`` (e.g. ``sep_list``: 、 / , ), rendered in one language; empty when ``items`` is.

    Attributes
    ----------
    items : tuple
    sep : str
        The catalogue key of the separator.
    """

    items: tuple
    sep: str = "sep_list"

    def __bool__(self) -> bool:
        return bool(self.items)

    def render(self, lang: str) -> str:
        """The joined text in ``lang``."""
        return text(lang, self.sep).join(render(v, lang) for v in self.items)


def render(value: Any, lang: str) -> Any:
    """``value`` in ``lang``: a :class:`Msg`, :class:`Named` or :class:`Joined` becomes its
    text, dicts and lists are rendered item by item, anything else is returned as it is.

    Parameters
    ----------
    value : object
    lang : str

    Returns
    -------
    object
    """
    if hasattr(value, "render"):
        return value.render(lang)
    if isinstance(value, dict):
        return {k: render(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, lang) for v in value]
    return value


def render_frame(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with every catalogue text in its cells (:func:`render`) put in ``lang``:
    columns the analysis keeps as texts not yet in a language become text columns. The frame
    is returned as it is when it holds none.

    Parameters
    ----------
    frame : DataFrame
    lang : str

    Returns
    -------
    DataFrame
    """
    cols = [
        c
        for c in frame.columns
        if frame[c].dtype == object and frame[c].map(lambda v: hasattr(v, "render")).any()
    ]
    if not cols:
        return frame
    out = frame.copy()
    for c in cols:
        out[c] = out[c].map(lambda v: render(v, lang))
    out.attrs = frame.attrs
    return out


def text(lang: str, key: str, /, **fields: object) -> str:
    """The message ``key`` in ``lang`` with its ``{placeholders}`` filled from ``fields``.

    Parameters
    ----------
    lang : str
        ``"zh"`` or ``"en"``; a key missing in ``lang`` falls back to English.
    key : str
        Message id in ``data/i18n.toml``.
    **fields
        Values for the placeholders (inserted as text, never parsed again); a :class:`Msg`,
        :class:`Named` or :class:`Joined` value is rendered in ``lang`` first.

    Returns
    -------
    str
    """
    template = labels(lang).get(key) or labels("en").get(key)
    if template is None:
        raise KeyError(f"message '{key}' is missing from data/i18n.toml")
    filled = {k: render(v, lang) for k, v in fields.items()}
    if "|" in template:  # a number's word: "{n} {n:community|communities}"
        return _WORDS.vformat(template, (), filled)
    return template.format_map(filled)


class _NumberWords(string.Formatter):
    """``str.format`` with one more format spec: ``{n:one|many}`` is the word ``one`` when ``n``
    is 1 and ``many`` otherwise (English plurals: "1 community", "3 communities")."""

    def format_field(self, value: object, format_spec: str) -> str:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            return one if value == 1 else many
        return super().format_field(value, format_spec)


_WORDS = _NumberWords()


def format_value(value: object, spec: str) -> str:
    """``format(value, spec)`` as :func:`text` fills a field, ``{n:one|many}`` words included."""
    return _WORDS.format_field(value, spec)


#: Characters a terminal acts on instead of showing them: C0/C1 controls (ESC starts colour,
#: cursor and title sequences) and the bidirectional marks, embeddings, overrides and isolates
#: (they reorder the rest of the line, e.g. an id quoted after the value).
_UNSHOWN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(line: str) -> str:
    """``line`` with every control and bidi-override character written as its escape
    (``\\x1b``, ``\\u202e``), so a quoted value is shown as it is, never acted on.

    The rule every plain-text output applies first: the terminal
    (:func:`spatial.text.terminal.terminal_text`), the print pack
    (:func:`spatial.text.printing.shown`), an error's English line (``str(InputError)``) and the
    command line's warnings on stderr. It lives here, in the lowest layer, because the errors
    use it; each output format's own rule is in :mod:`spatial.text`.
    """
    return _UNSHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), line)


def date_msg(day: dt.date) -> Msg:
    """A policy cut-off as planners write it: ``2000年底`` for 31 December, else the full date
    (not yet in a language).

    Parameters
    ----------
    day : datetime.date

    Returns
    -------
    Msg
    """
    if (day.month, day.day) == (12, 31):
        return msg("date_year_end", year=day.year)
    return msg("date_full", year=day.year, month=day.month, day=day.day)


def policy_date(lang: str, day: dt.date) -> str:
    """:func:`date_msg` in ``lang``.

    Parameters
    ----------
    lang : str
    day : datetime.date

    Returns
    -------
    str
    """
    return date_msg(day).render(lang)


def policy_fields(lang: str, policy: PolicyDates) -> dict[str, str]:
    """``priority_by`` and ``old_by``: the ``[policy]`` cut-offs for texts that name them.

    Parameters
    ----------
    lang : str
    policy : PolicyDates
        ``config.PolicyConfig`` or anything with the two cut-offs.

    Returns
    -------
    dict of str to str
    """
    return {
        "priority_by": policy_date(lang, policy.priority_cutoff),
        "old_by": policy_date(lang, policy.old_cutoff),
    }


def tier_label(lang: str, tier: object, policy: PolicyDates) -> str:
    """The label of an eligibility tier, its years taken from the policy ('' for no tier).

    Parameters
    ----------
    lang : str
    tier : object
        ``priority``, ``standard``, ``not_eligible`` or ``unknown``.
    policy : PolicyDates

    Returns
    -------
    str
    """
    key = {
        "priority": "tier_priority",
        "standard": "tier_standard",
        "not_eligible": "tier_not",
        "unknown": "tier_unknown",
    }.get(str(tier))
    return text(lang, key, **policy_fields(lang, policy)) if key else ""
