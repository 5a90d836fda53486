"""Writing the map files: the interactive HTML maps (layouts from :mod:`spatial.outputs.html.contents`, drawn
with :mod:`spatial.outputs.html.leaflet`). The top of the map side: nothing below imports it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from spatial.analysis.result import RunResult
from spatial.outputs.html.contents import clear_cache, group_maps, overview_map
from spatial.outputs.html.leaflet import save_map


def write_maps(result: RunResult, out: Path, lang: str, basemap: str | None = None) -> list[Path]:
    """Write ``overview.html`` and one map per core category group into ``out``.

    Parameters
    ----------
    result : RunResult
        The analysed run.
    out : Path
        Output folder.
    lang : str
        ``"zh"`` or ``"en"``.
    basemap : str, optional
        Key of ``data/basemaps.toml``; default the project's ``[render] basemap``.

    Returns
    -------
    list of Path
        The files written.
    """
    basemap = basemap or result.project.render.basemap
    try:
        with _no_collector():
            files = [save_map(overview_map(result, lang, basemap), out / "overview.html")]
            for name, fmap in group_maps(result, lang, basemap):
                files.append(save_map(fmap, out / f"{name}.html"))
    finally:
        clear_cache()
    return files


@contextmanager
def _no_collector() -> Iterator[None]:
    """Python's cycle collector paused while the maps are built: they make millions of small
    lists and strings (none in cycles that need it), and each full collection walks every object
    of the run — a sixth of the time of writing the maps of a city. Restored after."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()
