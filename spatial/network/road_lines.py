"""A road-centreline layer (GPKG/SHP/GeoJSON) as a walking network: read through the one vector
reader (:func:`spatial.inputs.files.read_vector`: GBK Shapefiles, layers), its columns detected
like every layer's (``columns.toml`` ``[network]``), its classes mapped onto OSM tags, its lines
noded at crossings except where they are at different levels (:mod:`spatial.network.noding`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from spatial.config.project import LayerConfig
from spatial.config.schema import NetworkConfig
from spatial.config.standards import load_column_aliases
from spatial.core.crs import describe
from spatial.core.errors import InputError
from spatial.core.problems import Problem, problem
from spatial.inputs.files import read_vector
from spatial.inputs.osm import road_classes
from spatial.inputs.validate import LayerReport, detect_columns
from spatial.network.noding import Noded, node_lines

ROLES = ("name", "road_class", "bridge", "tunnel", "elevated", "level")
RAISED = ("bridge", "tunnel", "elevated")
#: At most this many distinct values of a column are listed in ``check``.
SHOWN_VALUES = 12
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def read_road_lines(
    source: Path | gpd.GeoDataFrame,
    cfg: NetworkConfig,
    walkable: Callable[[pd.DataFrame], np.ndarray],
    label: str | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, LayerReport]:
    """The walkable lines of a road layer with their ``highway`` tag, raised flag and level.

    Parameters
    ----------
    source : Path or GeoDataFrame
        The layer's file, or the layer itself (a frame is copied, never modified).
    cfg : NetworkConfig
        ``layer``, ``encoding``, ``crs`` (for a file without one), the column names (empty = detected, ``"none"`` = absent).
    walkable : callable
        The one walking filter on a frame of OSM tag columns (``highway``, ``foot``).
    label : str, optional
        What messages call a frame (a file is named by its path).

    Returns
    -------
    lines : GeoDataFrame
        The walkable lines, in the file's CRS, with the file's row numbers as index.
    grade : DataFrame
        ``highway``, ``raised`` (bool), ``level`` (float) and ``label`` (the street's name or
        ``#row``) per line of ``lines``.
    report : LayerReport
        For ``check``: rows, the columns used and their values with counts.

    Raises
    ------
    InputError
        No CRS, not lines, an explicit column missing.
    """
    if isinstance(source, gpd.GeoDataFrame):
        lines, path = source.copy(), Path(label or "<streets>")
    else:
        lines, path = (
            read_vector(
                source, LayerConfig(layer=cfg.layer, encoding=cfg.encoding), section="network"
            ),
            source,
        )
    report = LayerReport(layer="network", path=str(path), rows_read=len(lines))
    if lines.crs is None and cfg.crs:
        lines = lines.set_crs(cfg.crs)
        report.note("note_network_crs_given", crs=cfg.crs)
    if lines.crs is None:
        raise InputError("err_roads_no_crs", path=path)
    report.crs = describe(lines.crs)
    lines = lines.loc[lines.geometry.notna() & ~lines.geometry.is_empty]
    kinds = set(lines.geometry.geom_type)
    if not kinds <= {"LineString", "MultiLineString"}:
        raise InputError("err_roads_not_lines", path=path, kinds=", ".join(sorted(kinds)))
    explicit = {r: getattr(cfg, r) for r in ROLES if getattr(cfg, r).strip()}
    named = {r: c for r, c in explicit.items() if c.strip().lower() != "none"}
    aliases = {
        r: names for r, names in load_column_aliases().get("network", {}).items() if r in ROLES
    }
    cols = detect_columns(lines, aliases, named, path, "network")
    for role in explicit.keys() - named.keys():
        cols.pop(role, None)
    if "level" in cols and not _numeric(lines[cols["level"]]):
        report.note("note_network_level_not_numbers", column=cols.pop("level"))
    report.columns = dict(cols)
    for role, column in cols.items():
        if role != "name":
            report.note(
                "note_network_values", role=role, column=column, values=_values(lines[column])
            )
    grade = _grade(lines, cols)
    keep = walkable(grade[["highway", "foot"]])
    report.drop("not_walkable", int((~keep).sum()))
    report.rows_kept = int(keep.sum())
    return lines.loc[keep], grade.loc[keep], report


def _numeric(values: pd.Series) -> bool:
    text = values.dropna().astype(str).str.strip()
    return bool(text.loc[text != ""].str.match(_NUMBER).all())


def _values(values: pd.Series) -> str:
    counts = values.astype("string").fillna("").str.strip().value_counts()
    shown = [f"{k or '(empty)'}×{v}" for k, v in counts.iloc[:SHOWN_VALUES].items()]
    return ", ".join(shown) + (" …" if len(counts) > SHOWN_VALUES else "")


def _grade(lines: gpd.GeoDataFrame, cols: dict[str, str]) -> pd.DataFrame:
    """``highway``/``foot`` (road_classes.toml), ``raised``, ``level`` and ``label`` per line."""
    data = road_classes()
    classes = data.get("classes", {})
    no = {str(v).strip().lower() for v in data.get("grade", {}).get("no", [])}
    blank = pd.Series("", index=lines.index)
    text = (lines[cols["road_class"]] if "road_class" in cols else blank).astype("string")
    text = text.fillna("").str.strip()
    mapped = {c: classes.get(c, {"highway": c or "road"}) for c in text.unique()}
    raised = np.zeros(len(lines), bool)
    for role in RAISED:
        if role in cols:
            flag = lines[cols[role]].astype("string").fillna("").str.strip().str.lower()
            raised |= ~flag.isin(no).to_numpy()
    level = (
        pd.to_numeric(lines[cols["level"]], errors="coerce").fillna(0).to_numpy(float)
        if "level" in cols
        else np.zeros(len(lines))
    )
    names = lines[cols["name"]].astype("string").fillna("").str.strip() if "name" in cols else blank
    label = [n or f"#{i + 1}" for i, n in zip(lines.index, names, strict=True)]
    return pd.DataFrame(
        {
            "highway": text.map(lambda c: mapped[c].get("highway", "road")),
            "foot": text.map(lambda c: mapped[c].get("foot")),
            "raised": raised,
            "level": level,
            "label": label,
        },
        index=lines.index,
    )


def node_road_lines(
    lines: gpd.GeoDataFrame, grade: pd.DataFrame, metric: CRS, snap_m: float
) -> Noded:
    """The lines in ``metric`` noded (:func:`spatial.network.noding.node_lines`)."""
    geoms = np.asarray(lines.to_crs(metric).geometry.values)
    return node_lines(geoms, grade["raised"].to_numpy(), grade["level"].to_numpy(), snap_m)


def noding_problems(noded: Noded, grade: pd.DataFrame, snap_m: float) -> list[Problem]:
    """What the noding did, as warnings: crossings split, crossings left unconnected at
    different levels, ends joined to a street they stopped short of."""
    label = grade["label"].to_numpy()
    raised = grade["raised"].to_numpy()
    level = grade["level"].to_numpy()

    def tag(i: int) -> str:
        extra = "↑" if raised[i] else ""
        return f"{label[i]}{extra}" + (f"[{level[i]:g}]" if level[i] else "")

    found = []
    if noded.crossings:
        pairs = [f"{label[a]} × {label[b]}" for a, b in noded.crossings]
        found.append(problem("network_crossings_split", "network", pairs))
    if noded.separated:
        pairs = [f"{tag(a)} × {tag(b)}" for a, b in noded.separated]
        found.append(problem("network_grade_separated", "network", pairs))
    if noded.snapped:
        ends = [f"{label[a]}（{gap:.1f} m）" for a, gap in noded.snapped]
        found.append(problem("network_ends_snapped", "network", ends, snap_m=f"{snap_m:g}"))
    return found
