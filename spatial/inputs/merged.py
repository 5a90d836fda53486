"""Merged cells of a planner's workbook: Excel keeps a merged cell's value in its top-left cell
only, so a 类别 merged over the ten rows of one category left nine rows without a type (read as
"type generic or missing", classified by name or dropped). Each merged range is read as its
value repeated in every cell it covers, as the planner sees it on screen."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def fill_merged(raw: pd.DataFrame, path: Path, sheet: str) -> pd.DataFrame:
    """``raw`` (a sheet read with ``header=None``: row ``i``, column ``j`` is cell ``(i + 1,
    j + 1)``) with every merged range of ``sheet`` filled with its top-left value.

    Parameters
    ----------
    raw : DataFrame
    path : Path
        The workbook (``.xlsx`` / ``.xlsm``; other formats are returned as they are).
    sheet : str

    Returns
    -------
    DataFrame
        ``raw`` itself when the sheet has no merged cells, else a filled copy (same ``attrs``).
    """
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return raw
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)  # read_only mode hides merged ranges
    try:
        ranges = list(book[sheet].merged_cells.ranges) if sheet in book.sheetnames else []
    finally:
        book.close()
    if not ranges:
        return raw
    out = raw.copy()
    rows, cols = out.shape
    for cell in ranges:
        r0, c0 = cell.min_row - 1, cell.min_col - 1
        if r0 >= rows or c0 >= cols:
            continue
        r1, c1 = min(cell.max_row, rows), min(cell.max_col, cols)
        out.iloc[r0:r1, c0:c1] = out.iat[r0, c0]
    out.attrs = dict(raw.attrs)
    return out
