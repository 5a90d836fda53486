"""The one message catalogue: every text a planner reads (terminal, maps, ledger), zh and en.

Texts live in ``data/i18n.toml`` under ``[zh]`` and ``[en]``. A text may hold ``{field}``
placeholders, filled by :func:`text`. Values are inserted as plain text; the escaping of the output
format (HTML, terminal markup, spreadsheet cells) is applied where the text enters that format.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from . import settings

LANGS = ("zh", "en")


class PolicyDates(Protocol):
    """The ``[policy]`` cut-offs texts name (``config.PolicyConfig`` has them)."""

    priority_cutoff: dt.date
    old_cutoff: dt.date


@cache
def labels(lang: str) -> dict[str, str]:
    """All texts of ``lang`` (``data/i18n.toml``), keyed by message id."""
    return tomllib.loads((settings.DATA_DIR / "i18n.toml").read_text("utf-8"))[lang]


@dataclass(frozen=True)
class Msg:
    """A catalogue text not yet put in a language: its key and fields.

    A field of :func:`text` may itself be a ``Msg`` (e.g. the allowed range inside an error
    about a setting); it is rendered in the same language as the text holding it.
    """

    key: str
    fields: dict[str, object] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        """The text in ``lang``."""
        return text(lang, self.key, **self.fields)


def msg(key: str, **fields: object) -> Msg:
    """A :class:`Msg` for ``key`` with ``fields``."""
    return Msg(key, fields)


def text(lang: str, key: str, /, **fields: object) -> str:
    """The message ``key`` in ``lang`` with its ``{placeholders}`` filled from ``fields``.

    Parameters
    ----------
    lang : str
        ``"zh"`` or ``"en"``; a key missing in ``lang`` falls back to English.
    key : str
        Message id in ``data/i18n.toml``.
    **fields
        Values for the placeholders (inserted as text, never parsed again); a :class:`Msg`
        value is rendered in ``lang`` first.

    Returns
    -------
    str
    """
    template = labels(lang).get(key) or labels("en").get(key)
    if template is None:
        raise KeyError(f"message '{key}' is missing from data/i18n.toml")
    filled = {k: v.render(lang) if isinstance(v, Msg) else v for k, v in fields.items()}
    return template.format_map(filled)


def policy_date(lang: str, day: dt.date) -> str:
    """A policy cut-off as planners write it: ``2000年底`` for 31 December, else the full date."""
    if (day.month, day.day) == (12, 31):
        return text(lang, "date_year_end", year=day.year)
    return text(lang, "date_full", year=day.year, month=day.month, day=day.day)


def policy_fields(lang: str, policy: PolicyDates) -> dict[str, str]:
    """``priority_by`` and ``old_by``: the ``[policy]`` cut-offs for texts that name them."""
    return {
        "priority_by": policy_date(lang, policy.priority_cutoff),
        "old_by": policy_date(lang, policy.old_cutoff),
    }


def tier_label(lang: str, tier: object, policy: PolicyDates) -> str:
    """The label of an eligibility tier, its years taken from the policy ('' for no tier)."""
    key = {
        "priority": "tier_priority",
        "standard": "tier_standard",
        "not_eligible": "tier_not",
        "unknown": "tier_unknown",
    }.get(str(tier))
    return text(lang, key, **policy_fields(lang, policy)) if key else ""
