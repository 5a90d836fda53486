"""The values planners write in cells: headers, build years, numbers, shares, category text.

Each parser reads one kind of cell as written in 台账 (``1,200户``, ``80%``, ``90年代``,
``美食;中餐厅``); a value that cannot be read is an error naming the row and column.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from spatial.core.errors import InputError

if TYPE_CHECKING:
    from spatial.config.standards import Standards

_CN_DECADES = {"五十": 1950, "六十": 1960, "七十": 1970, "八十": 1980, "九十": 1990}


#: A Shapefile's ``.dbf`` holds this many bytes of a field name: longer headers are cut
#: (``总户数（户）`` → ``总户数（户`` in GBK, ``60岁及以上人口`` → ``60岁及以上``).
DBF_NAME_BYTES = 10


def _norm(header: object) -> str:
    """A header for matching: NFKC (full-width → half-width), no spaces, lower case, and without a
    trailing unit in brackets (``总户数（户）`` → ``总户数``, ``建筑面积(m2)`` → ``建筑面积``), also
    when a ``.dbf`` cut the bracket off (``总户数（户``, ``建成年代（`` → ``建成年代``) or cut a
    character in half (a trailing U+FFFD)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(header))).lower().rstrip("\ufffd")
    text = re.sub(r"(?<=.)[(\[][^()\[\]]*[)\]]$", "", text)
    return re.sub(r"(?<=.)[(\[][^()\[\]]*$", "", text)


def header_key(header: object) -> str:
    """The form in which a header is compared with known column names (see ``_norm``).

    Parameters
    ----------
    header : object

    Returns
    -------
    str
    """
    return _norm(header)


def maybe_cut(header: object) -> bool:
    """Whether ``header`` fills a ``.dbf`` field name (:data:`DBF_NAME_BYTES`) in GBK or UTF-8, so
    that a Shapefile writer may have cut a longer header to it: 10 bytes, or a few less when the
    next character did not fit whole (9 in GBK; 8 or 9 in UTF-8, where a CJK character is 3).

    Parameters
    ----------
    header : object

    Returns
    -------
    bool
    """
    text = str(header).strip()
    for encoding, widest in (("gb18030", 2), ("utf-8", 3)):
        size = len(text.encode(encoding, errors="replace"))
        if DBF_NAME_BYTES - widest < size <= DBF_NAME_BYTES:
            return True
    return False


def cut_header_roles(
    present: list[object], aliases: dict[str, list[str]], found: dict[str, str]
) -> dict[str, str]:
    """Roles of headers that a Shapefile cut to its 10 bytes (``60岁及以上`` from ``60岁及以上人口``).

    A header that fills a ``.dbf`` field name (:func:`maybe_cut`) and is the beginning of the
    known names of exactly one role still missing in ``found`` is that role's column; a header
    that begins the names of two roles is left alone (a guess would be a silent error).

    Parameters
    ----------
    present : list
        The layer's headers.
    aliases : dict of str to list of str
        Role → known headers (``data/standards/columns.toml``).
    found : dict of str to str
        Role → header matched already (exactly or by the project file).

    Returns
    -------
    dict of str to str
        Role → header, for the roles found this way.
    """
    used = set(found.values())
    out: dict[str, str] = {}
    for header in present:
        key = header_key(header)
        if header in used or len(key) < 2 or not maybe_cut(header):
            continue
        roles = {
            role
            for role, names in aliases.items()
            if role not in found and any(header_key(n).startswith(key) for n in names)
        }
        if len(roles) == 1 and (role := roles.pop()) not in out:
            out[role] = header
    return out


def parse_built_year(value: object) -> tuple[float, float, bool]:
    """Parse a build year into (earliest, latest, approximate).

    Accepts ``1998``, ``1998年``, ``1998-05``, ``1998.5``, ``90年代``, ``1990s``, ``八十年代``,
    ``2000年前``. Unknown or implausible values give (nan, nan, False).

    Parameters
    ----------
    value : object
        A cell as read.

    Returns
    -------
    earliest, latest : float
    approximate : bool
        A decade or "before" value rather than one year.
    """
    nan = (np.nan, np.nan, False)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return nan
    if isinstance(value, dt.date | pd.Timestamp):
        return float(value.year), float(value.year), False
    text = str(value).strip().replace(" ", "")
    if not text:
        return nan
    m = re.fullmatch(r"((?:19|20)\d\d)(?:年)?(?:以前|之前|前)", text)
    if m:
        return 1949.0, float(m.group(1)), True
    m = re.fullmatch(r"((?:19|20)?\d0)(?:年代|'?s)", text)
    if m:
        decade = int(m.group(1))
        if decade < 100:
            decade += 1900 if decade >= 40 else 2000
        return float(decade), float(decade + 9), True
    for word, decade in _CN_DECADES.items():
        if text.startswith(word + "年代"):
            return float(decade), float(decade + 9), True
    m = re.match(
        r"((?:19|20)\d\d)(?:\.0+)?(?:年(?:\d{1,2}月(?:\d{1,2}日)?)?|[-./]\d{1,2}(?:[-./]\d{1,2})?)?$",
        text,
    )
    if m:
        year = float(m.group(1))
        if 1900 <= year <= dt.date.today().year + 1:
            return year, year, False
    return nan


def file_row(values: pd.Series, pos: int) -> int:
    """The row of the file that holds ``values.iloc[pos]``, as a planner counts it (1 = the
    header row): the value's label in the layer as read — rows dropped before (duplicates,
    outliers) keep their labels — below the header row (``attrs["header_row"]``, 1 unless a
    title sits above it)."""
    label = values.index[pos]
    base = int(label) if isinstance(label, int | np.integer) else pos
    return base + int(values.attrs.get("header_row", 1)) + 1


def parse_number(
    series: pd.Series, column: str, path: Path, unit: str = "", maximum: float | None = None
) -> pd.Series:
    """Numbers from text like ``1,200`` or ``120户``; anything else is an error naming the row.

    Parameters
    ----------
    series : Series
        The column as read (blank cells stay NaN).
    column : str
        Its header, for messages.
    path : Path
    unit : str
        A unit planners append (``户``), stripped before parsing.
    maximum : float, optional
        The largest plausible value (``settings.PLAUSIBLE_MAX``); none if not given.

    Returns
    -------
    Series of float

    Raises
    ------
    InputError
        A value is not a number, not finite, negative or above ``maximum`` (naming its row).
    """
    text = series.astype("string").str.strip().str.replace(",", "", regex=False)
    if unit:
        text = text.str.removesuffix(unit)
    text = text.replace({"": pd.NA})
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() & text.notna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            "err_not_number",
            path=path,
            row=file_row(series, pos),
            column=column,
            value=series.iloc[pos],
            count=int(bad.sum()),
        )
    infinite = numbers.notna() & ~np.isfinite(numbers.astype(float))
    if infinite.any():
        pos = int(np.flatnonzero(infinite.to_numpy())[0])
        raise InputError(
            "err_not_finite",
            path=path,
            row=file_row(series, pos),
            column=column,
            value=series.iloc[pos],
        )
    negative = (numbers < 0).fillna(False).to_numpy(bool)  # blanks (NA) are not negative
    if negative.any():
        pos = int(np.flatnonzero(negative)[0])
        raise InputError(
            "err_negative",
            path=path,
            row=file_row(series, pos),
            column=column,
            value=numbers.iloc[pos],
        )
    above = (numbers > maximum).fillna(False).to_numpy(bool) if maximum is not None else None
    if above is not None and above.any():
        pos = int(np.flatnonzero(above)[0])
        raise InputError(
            "err_implausible",
            path=path,
            row=file_row(series, pos),
            column=column,
            value=series.iloc[pos],
            limit=f"{maximum:,.0f}",
            count=int(above.sum()),
        )
    return numbers.astype(float)


def parse_share(series: pd.Series, column: str, path: Path) -> pd.Series:
    """Shares as 0-1 from ``0.8`` or ``80%`` (a value with ``%`` is a percent: ``1%`` = 0.01).

    A plain number above 1 is read as a percent when it is at most 100 (``80`` = 0.8); a share
    above 100 % is an error naming the row.

    Parameters
    ----------
    series : Series
    column : str
    path : Path

    Returns
    -------
    Series of float
        0–1, NaN where blank.

    Raises
    ------
    InputError
        A value is not a number or above 100 %.
    """
    text = series.astype("string").str.strip()
    percent = text.str.endswith("%").fillna(False).to_numpy(bool)
    numbers = parse_number(text.str.rstrip("%").str.strip(), column, path)
    _refuse_ambiguous_one(series, numbers, percent, column, path)
    share = numbers.where(~percent & (numbers <= 1), numbers / 100)
    over = (share > 1).to_numpy(bool)
    if over.any():
        pos = int(np.flatnonzero(over)[0])
        raise InputError(
            "err_share_over",
            path=path,
            row=file_row(series, pos),
            column=column,
            value=series.iloc[pos],
            count=int(over.sum()),
        )
    return share


def _refuse_ambiguous_one(
    series: pd.Series, numbers: pd.Series, percent: np.ndarray, column: str, path: Path
) -> None:
    """A plain ``1`` in a column whose other plain numbers are percents (``80``, ``75``) is 1 %
    or 100 %: read alone it was 100 %, so a compound where 1 % agree passed the 2/3 gate."""
    plain = (~percent & numbers.notna()).to_numpy(bool)
    values = numbers.to_numpy(float)
    ones = np.flatnonzero(plain & (values == 1))
    above = np.flatnonzero(plain & (values > 1))
    if len(ones) and len(above):
        pos = int(ones[0])
        raise InputError(
            "err_share_ambiguous", path=path, row=file_row(series, pos), column=column,
            value=series.iloc[pos], other=series.iloc[int(above[0])], count=len(ones),
        )  # fmt: skip


def match_category(value: object, standards: Standards, poi: dict[str, dict[str, str]]) -> str:
    """The category key of a facility's category text, or ``""`` when nothing matches.

    Tried in order: the whole value against the standards' keys, names and aliases; a 6-digit
    Gaode typecode (exact, then its 中类 ``xxxx00``); each ``|``-separated Gaode type / Baidu tag,
    most specific ``;`` segment first, against ``poi["names"]`` then the standards' aliases.

    Parameters
    ----------
    value : object
        The facility's category cell.
    standards : Standards
    poi : dict
        ``data/standards/poi_gaode.toml`` (``codes``, ``names``).

    Returns
    -------
    str
    """
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return ""
    key = standards.match(text)
    if key:
        return key
    for part in re.split(r"[|｜]", text):
        part = part.strip()
        if re.fullmatch(r"\d{6}", part):
            codes = poi["typecodes"]
            found = codes[part] if part in codes else codes.get(part[:4] + "00", "")
            if found in standards.categories:
                return found
            continue
        for segment in reversed([s.strip() for s in re.split(r"[;；]", part) if s.strip()]):
            found = poi["names"].get(segment.lower()) or standards.match(segment)
            if found in standards.categories:
                return found
    return ""
