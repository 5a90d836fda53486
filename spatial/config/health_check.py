"""The city health-check (城市体检) indicators of the regional ledger, as data
(``data/standards/health_check.toml``): what each counts, its definition and source."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from spatial.core import settings
from spatial.core.errors import ConfigError

KINDS = ("missing", "full_coverage")


@dataclass(frozen=True)
class HealthIndicator:
    """One indicator of the 城市体检 sheet.

    Attributes
    ----------
    key : str
        Its key in the file.
    kind : str
        ``missing`` (compounds without any of ``categories`` within the radius) or
        ``full_coverage`` (compounds with the whole basket within the radii).
    categories : tuple of str
        The categories a ``missing`` indicator looks at.
    label_zh, label_en, definition_zh, definition_en : str
        Its name and definition in each language.
    source : str
        The document it comes from; ``verified`` whether its text was checked.
    """

    key: str
    kind: str
    categories: tuple[str, ...]
    label_zh: str
    label_en: str
    definition_zh: str
    definition_en: str
    source: str
    verified: bool

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en

    def definition(self, lang: str) -> str:
        return self.definition_zh if lang == "zh" else self.definition_en


@cache
def health_indicators() -> tuple[HealthIndicator, ...]:
    """The indicators of ``health_check.toml``, in file order.

    Raises
    ------
    ConfigError
        An indicator of an unknown kind.
    """
    path = settings.STANDARDS_DIR / "health_check.toml"
    data = tomllib.loads(path.read_text("utf-8"))
    out = []
    for key, spec in data["indicators"].items():
        if spec.get("kind") not in KINDS:
            raise ConfigError(
                "err_cfg_choice",
                path=path,
                label=f"[indicators.{key}] kind",
                value=spec.get("kind"),
                allowed=", ".join(KINDS),
            )
        fields = {k: spec[k] for k in ("label_zh", "label_en", "definition_zh", "definition_en")}
        out.append(
            HealthIndicator(
                key=key,
                kind=spec["kind"],
                categories=tuple(spec.get("categories", ())),
                source=spec.get("source", ""),
                verified=bool(spec.get("verified", False)),
                **fields,
            )
        )
    return tuple(out)
