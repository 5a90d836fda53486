"""The map files of a run: the interactive maps, the ledger, the print maps and the bundle
sheets, written into the run's staging folder.

Each of them only reads the analysed run and writes its own files, so a large run writes them
side by side in forked worker processes (they share the run without copying it) while this
process writes the GeoPackage: the writing takes about as long as its longest part instead of
the sum of all. A small run, or a platform without ``fork``, writes them one after another in
this process, through the same jobs. The print pack's PDF is joined from its parts at the end
(the maps' pages, then the sheets in bundle order).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from spatial.analysis.result import RunResult
from spatial.core import parallel
from spatial.core.errors import DependencyError

SHEETS_PER_PART = 120  # bundle sheets drawn by one job (a few seconds)
ORDER = ("map", "ledger", "print_map", "print_sheets")  # the order the files are listed in


def _maps_pdf(out: Path) -> Path:
    return out / ".print-maps.pdf"


def _sheets_pdf(out: Path, part: int) -> Path:
    return out / f".print-sheets-{part}.pdf"


def _job(run: tuple, name: str, part: int = 0, parts: int = 1) -> tuple[list[Path], float]:
    """Write one output: its files (the print pack's PDF parts are not among them) and the wall
    time it took."""
    from spatial.outputs.html import write as report
    from spatial.outputs.ledger.write import write_ledger
    from spatial.outputs.printing import pack as printmap
    from spatial.outputs.printing import sheets as printpack

    result, out, lang, font = run
    start = time.perf_counter()
    files: list[Path] = []
    if name == "map":
        files = report.write_maps(result, out, lang)
    elif name == "ledger":
        files = [write_ledger(result, out, lang)]
    elif name == "print_map":
        files = printmap.write_map_pages(result, out, lang, _maps_pdf(out))
    elif name == "print_sheets":
        count = printpack.bundle_count(result)
        rows = slice(count * part // parts, count * (part + 1) // parts)
        printpack.write_bundle_pages(_sheets_pdf(out, part), result, lang, font, rows)
    return files, time.perf_counter() - start


def _jobs(result: RunResult, font) -> list[tuple[str, int, int]]:
    """The outputs to write as (name, part, parts), the longest first (so that the workers
    finish close together); without a font no print pack."""
    from spatial.outputs.printing.sheets import bundle_count

    if not font:
        return [("ledger", 0, 1), ("map", 0, 1)]
    parts = max(1, -(-bundle_count(result) // SHEETS_PER_PART))
    jobs = [("print_map", 0, 1), ("ledger", 0, 1), ("map", 0, 1)]
    return jobs + [("print_sheets", k, parts) for k in range(parts)]


def _side_by_side(result: RunResult) -> bool:
    """Whether to write in forked workers: a large run where the platform can fork."""
    return parallel.worth_it(len(result.communities))


def write_map_files(
    result: RunResult,
    out: Path,
    lang: str,
    font: tuple[str, int] | None,
    also: Callable[[], list[Path]],
    progress: Callable[[str], None] | None = None,
) -> list[Path]:
    """Write the maps, the ledger and (with a ``font``: :func:`spatial.text.printing.font_file`) the
    print pack of ``result`` (already in ``lang``) into ``out``, and run ``also`` (the
    GeoPackage) in this process meanwhile; returns the files, ``also``'s first. The wall time of
    each output is added to ``result.timings`` (``print_sheets``: summed over its parts)."""
    jobs = _jobs(result, font)
    run = (result, out, lang, font)
    found: dict[tuple, tuple[list[Path], float]] = {}
    if _side_by_side(result):
        calls = [partial(_job, run, *job) for job in jobs]
        with parallel.started(calls) as futures:
            files = also()
            for job, future in zip(jobs, futures, strict=True):
                if progress and job[1] == 0:
                    progress(job[0])
                found[job] = future.result()  # a worker's error is raised here
    else:
        files = also()
        for job in jobs:
            if progress and job[1] == 0:
                progress(job[0])
            found[job] = _job(run, *job)
    for job in sorted(found, key=lambda job: ORDER.index(job[0])):  # files listed as before
        paths, seconds = found[job]
        files += paths
        result.timings[job[0]] = round(result.timings.get(job[0], 0.0) + seconds, 3)
    if font:
        files.append(_join_pack(run, [job for job in jobs if job[0] == "print_sheets"]))
    return files


def _join_pack(run: tuple, sheet_jobs: list) -> Path:
    from spatial.outputs.printing.pack import join_pack

    result, out, lang, _ = run
    parts = [_sheets_pdf(out, part) for _, part, _ in sheet_jobs]
    try:
        return join_pack(out, _maps_pdf(out), parts, result, lang)
    finally:
        for path in [_maps_pdf(out), *parts]:
            path.unlink(missing_ok=True)


def print_font(lang: str, strict: bool) -> tuple[tuple[str, int] | None, str | None]:
    """The print pack's font (path, face index), or None and the note for ``summary.json`` when
    no CJK font is installed (an error when ``strict``: the ``map`` command)."""
    from spatial.text.printing import cjk_font, font_file

    try:
        return font_file(cjk_font()), None
    except DependencyError as exc:
        if strict:
            raise
        return None, exc.message(lang)
