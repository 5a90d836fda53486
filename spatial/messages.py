"""The one message catalogue: every text a planner reads (terminal, maps, ledger), zh and en.

Texts live in ``data/i18n.toml`` under ``[zh]`` and ``[en]``. A text may hold ``{field}``
placeholders, filled by :func:`text`. Values are inserted as plain text; the escaping of the output
format (HTML, terminal markup, spreadsheet cells) is applied where the text enters that format.
"""

from __future__ import annotations

import tomllib
from functools import cache

from . import settings

LANGS = ("zh", "en")


@cache
def labels(lang: str) -> dict[str, str]:
    """All texts of ``lang`` (``data/i18n.toml``), keyed by message id."""
    return tomllib.loads((settings.DATA_DIR / "i18n.toml").read_text("utf-8"))[lang]


def text(lang: str, key: str, **fields: object) -> str:
    """The message ``key`` in ``lang`` with its ``{placeholders}`` filled from ``fields``.

    Parameters
    ----------
    lang : str
        ``"zh"`` or ``"en"``; a key missing in ``lang`` falls back to English.
    key : str
        Message id in ``data/i18n.toml``.
    **fields
        Values for the placeholders (inserted as text, never parsed again).

    Returns
    -------
    str
    """
    template = labels(lang).get(key) or labels("en").get(key)
    if template is None:
        raise KeyError(f"message '{key}' is missing from data/i18n.toml")
    return template.format_map(fields)
