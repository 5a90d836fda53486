"""Data problems a run met: every analysis command reports them, never a silent zero.

A :class:`Problem` names what was wrong, how many rows, and a sample of their ids. Its text comes
from the message catalogue (key ``problem_<code>``), so the terminal, ``summary.json`` (under
``warnings``), the ledger sheet 数据问题 and the map panel all say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from spatial.core.messages import text

SAMPLE_SIZE = 10


@dataclass(frozen=True)
class Problem:
    """One kind of data problem in one layer.

    Attributes
    ----------
    code : str
        Stable identifier; the message is ``problem_<code>`` in ``data/i18n.toml``.
    layer : str
        ``communities``, ``facilities``, ``parcels``, ``network``, ``subdistricts`` or ``project``.
    count : int
        How many rows (or values) are affected.
    sample : tuple of str
        Ids or values of the first affected rows (at most ``SAMPLE_SIZE``).
    fields : dict
        Extra values for the message placeholders.
    """

    code: str
    layer: str
    count: int
    sample: tuple[str, ...] = ()
    fields: dict[str, object] = field(default_factory=dict)

    def message(self, lang: str) -> str:
        """The problem as one sentence in ``lang`` (plain text)."""
        return text(
            lang,
            f"problem_{self.code}",
            layer=self.layer,
            count=self.count,
            sample=text(lang, "sep_list").join(self.sample),
            **self.fields,
        )

    def record(self, lang: str) -> dict[str, object]:
        """The problem as a ``summary.json`` record."""
        return {
            "code": self.code,
            "layer": self.layer,
            "message": self.message(lang),
            "count": self.count,
            "sample": list(self.sample),
        }


def problem(code: str, layer: str, items: Iterable[object], **fields: object) -> Problem:
    """A :class:`Problem` for the affected ``items`` (row ids or values).

    Parameters
    ----------
    code : str
        ``problem_<code>`` is its message in the catalogue.
    layer : str
    items : iterable
        Counted; the first ``SAMPLE_SIZE`` are shown.
    **fields
        The message's other fields.

    Returns
    -------
    Problem
    """
    items = [str(v) for v in items]
    return Problem(code, layer, len(items), tuple(items[:SAMPLE_SIZE]), dict(fields))
