"""Load → validate → project: the three input layers as clean GeoDataFrames in a metric CRS."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import CRS

from spatial.config.project import LayerConfig, Project
from spatial.config.standards import Standards, load_column_aliases
from spatial.core.crs import choose_metric_crs, describe
from spatial.core.errors import InputError, in_layer, reading
from spatial.core.messages import msg
from spatial.core.problems import Problem, problem
from spatial.core.settings import PLAUSIBLE_MAX
from spatial.inputs.cleaning import (
    drop_duplicate_rows,
    drop_outliers,
    empty_geometry,
    repair_polygons,
)
from spatial.inputs.facility_names import (
    classify_by_name,
    dropped_table,
    empty_basket,
    name_problems,
    type_categories,
    unknown_problem,
)
from spatial.inputs.files import read_any
from spatial.inputs.gates import load_gates
from spatial.inputs.georef import georeference, resolve_lonlat
from spatial.inputs.parse import (
    parse_built_year,
    parse_number,
    parse_share,
)
from spatial.inputs.patterns import (
    check_household_units,
    drop_repeated_facilities,
    name_parcels_beyond_reach,
    name_stacked_facilities,
)
from spatial.inputs.validate import LayerReport, check_unique_ids, detect_columns


@dataclass
class Layers:
    """The validated, projected inputs of one run.

    Attributes
    ----------
    communities, facilities, parcels : GeoDataFrame
        In ``crs``; ``parcels`` empty when the project has none.
    crs : pyproj.CRS
        The metric analysis CRS.
    reports : list of LayerReport
        Per layer: rows read, kept, repaired, dropped; columns; notes.
    unknown_categories : dict of str to int
        Facility category texts matching no category, with their counts.
    subdistricts : GeoDataFrame or None
        街道 outlines, when the project gives them.
    problems : list of Problem
        Data problems, shown by every command.
    households_known : bool
        False when the communities carry no household figures.
    """

    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    crs: CRS
    reports: list[LayerReport] = field(default_factory=list)
    unknown_categories: dict[str, int] = field(default_factory=dict)
    subdistricts: gpd.GeoDataFrame | None = None  # 街道 outlines, when the project gives them
    problems: list[Problem] = field(default_factory=list)  # data problems, for every command
    households_known: bool = True  # False: no household figures (households = "none")
    gates: gpd.GeoDataFrame | None = None  # gates of gated compounds ([gates]), with ``comm``
    #: facility rows left out for their category: row, name, category, reason
    dropped_facilities: pd.DataFrame | None = None


def _read_layer(project: Project, section: str, aliases: dict) -> tuple:
    cfg: LayerConfig = getattr(project, section)
    explicit = {k: v for k, v in cfg.columns.items() if not _says_none(k, v)}
    path = project.resolve(cfg.path)
    report = LayerReport(layer=section, path=str(path))
    if cfg.frame is not None:  # given in Python (spatial.workflow.api): read like a file's rows
        path = Path(f"<{section}>")
        report.path = str(path)
        frame = cfg.frame.copy()
        frame.attrs = {}
    elif cfg.path.strip().lower() == "osm":
        from spatial.inputs.osm import osm_layer

        path = project.resolve(project.network.path or "(no [network] path)")
        report.path = f"osm:{path}"
        with reading(path, msg("what_osm_layer", section=section)):
            frame = osm_layer(path, section)
    else:
        if not path.exists():  # the first error of a new project: say which section's path
            raise InputError("err_layer_file_not_found", path=path, section=section)
        frame = read_any(path, cfg, aliases.get(section, {}), section)
        if frame.attrs.get("header_row", 1) > 1:
            report.note("note_header_row", row=frame.attrs["header_row"])
        if frame.attrs.get("sheets"):
            report.note(
                "note_sheet", sheet=frame.attrs["sheet"], sheets=", ".join(frame.attrs["sheets"])
            )
    report.rows_read = len(frame)
    if len(frame) == 0:
        raise InputError("err_layer_empty", path=path, section=section)
    columns = detect_columns(frame, aliases.get(section, {}), explicit, path, section)
    if len(explicit) < len(cfg.columns):
        columns.pop("households", None)
    report.columns = dict(columns)
    with reading(path, msg("what_layer", section=section)):
        gdf = georeference(frame, cfg, path, section, columns, report)
    report.crs = describe(gdf.crs) if gdf.crs else ""
    return gdf, columns, path, report


def _standardise(gdf: gpd.GeoDataFrame, mapped: dict[str, pd.Series], used: set[str]):
    rest = [c for c in gdf.columns if c not in used and c != gdf.geometry.name]
    out = pd.DataFrame(mapped, index=gdf.index)
    extra = gdf[rest].rename(columns=lambda c: f"orig_{c}" if c in out.columns else c)
    return gpd.GeoDataFrame(pd.concat([out, extra], axis=1), geometry=gdf.geometry, crs=gdf.crs)


def _says_none(role: str, column: str) -> bool:
    return role == "households" and column.strip().lower() == "none"


@in_layer("communities")
def _communities(
    project: Project, aliases: dict, problems: list[Problem]
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    gdf, cols, path, report = _read_layer(project, "communities", aliases)
    gdf = gdf.reset_index(drop=True)
    col = cols.get
    no_households = _says_none("households", project.communities.columns.get("households", ""))
    if project.communities.path.strip().lower() == "osm" and not col("households"):
        no_households = True  # OSM landuse outlines carry no household counts
        report.note("note_osm_no_households")
    if not col("households") and not no_households:
        raise InputError(
            "err_no_households_column",
            path=path,
            columns=", ".join(str(c) for c in gdf.columns if c != gdf.geometry.name),
        )
    ids = gdf[col("id")].astype("string").str.strip() if col("id") else None
    gdf = drop_duplicate_rows(gdf, ids, col("id"), problems)
    ids = ids.loc[gdf.index] if ids is not None else None
    if ids is not None:
        check_unique_ids(ids, col("id"), path)
    else:
        ids = pd.Series([f"C{i + 1:04d}" for i in gdf.index], index=gdf.index)
        report.note("note_ids_assigned")
    gdf = drop_outliers(gdf, ids, "communities", report, problems)
    ids = ids.loc[gdf.index]
    n = len(gdf)
    years = (
        [parse_built_year(v) for v in gdf[col("built_year")]]
        if col("built_year")
        else [(np.nan, np.nan, False)] * n
    )
    ymin, ymax, approx = (np.array(v) for v in zip(*years, strict=True)) if n else ([], [], [])
    mapped = {
        "cid": ids,
        "name": gdf[col("name")].astype("string").fillna("") if col("name") else ids,
        "subdistrict": gdf[col("subdistrict")].astype("string").fillna("")
        if col("subdistrict")
        else pd.Series([""] * n, index=gdf.index, dtype="string"),
        "built_raw": gdf[col("built_year")].astype("string") if col("built_year") else pd.NA,
        "built_year": np.where(np.isnan(ymin), np.nan, np.round((ymin + ymax) / 2)),
        "built_year_min": ymin,
        "built_year_max": ymax,
        "built_approx": approx.astype(bool),
    }
    for role, unit in (("households", "户"), ("floor_area", ""), ("infrastructure_deficit", "")):
        mapped[role] = (
            parse_number(gdf[col(role)], col(role), path, unit, PLAUSIBLE_MAX.get(role))
            if col(role)
            else np.nan
        )
    for role in ("willingness", "funding_share"):
        mapped[role] = parse_share(gdf[col(role)], col(role), path) if col(role) else np.nan
    for role in ("population", "older", "infants", "preschoolers"):  # demand, if given
        if col(role):
            mapped[role] = parse_number(gdf[col(role)], col(role), path, "人", PLAUSIBLE_MAX[role])
    if col("households"):  # 万户 (0.3, 1.2): refused; a few fractional counts: named
        raw_hh = gdf[col("households")]
        problems += check_household_units(
            mapped["households"], raw_hh, col("households"), path, ids
        )
        blank = np.flatnonzero(pd.isna(mapped["households"]).to_numpy())
        if len(blank):
            problems.append(
                problem(
                    "households_blank", "communities", ids.iloc[blank], column=col("households")
                )
            )
    if col("built_year"):
        raw = gdf[col("built_year")].astype("string").str.strip()
        missing = (raw.isna() | (raw == "")).to_numpy(bool)
        unparsed = np.isnan(ymin) & ~missing
        if missing.any():
            problems.append(
                problem("built_year_missing", "communities", ids[missing], column=col("built_year"))
            )
            report.note("note_years_missing", count=int(missing.sum()))
        if unparsed.any():
            problems.append(
                problem(
                    "built_year_unparsed",
                    "communities",
                    [f"{i}（{v}）" for i, v in zip(ids[unparsed], raw[unparsed], strict=True)],
                    column=col("built_year"),
                )
            )
            report.note("note_years_unparsed", count=int(unparsed.sum()))
    if int(approx.sum()):
        report.note("note_years_approx", count=int(approx.sum()))
    out = _standardise(gdf, mapped, set(cols.values()))
    out = repair_polygons(out, report, path, out["cid"], problems)
    report.rows_kept = len(out)
    return out, report


@in_layer("facilities")
def _facilities(
    project: Project,
    aliases: dict,
    standards: Standards,
    communities: gpd.GeoDataFrame,
    problems: list[Problem],
):
    gdf, cols, path, report = _read_layer(project, "facilities", aliases)
    gdf = gdf.reset_index(drop=True)
    if "category" not in cols:
        raise InputError(
            "err_no_category_column",
            path=path,
            columns=", ".join(c for c in gdf.columns if c != "geometry"),
        )
    raw_lonlat = gdf.attrs.get("raw_lonlat", False)
    row_names = pd.Series([f"row {i + 2}" for i in gdf.index], index=gdf.index)
    same = [cols["name"], cols["category"]] if "name" in cols else None
    gdf = drop_repeated_facilities(gdf, row_names, same, problems)  # a table pasted twice
    gdf = drop_outliers(
        gdf, row_names.loc[gdf.index], "facilities", report, problems
    )  # before the system test
    if raw_lonlat:
        gdf = resolve_lonlat(gdf, project.facilities.coords, communities, report, problems)
    raw = gdf[cols["category"]].astype("string").fillna("").str.strip()
    names = gdf[cols["name"]].astype("string").fillna("") if "name" in cols else raw
    keys, texts = type_categories(gdf, cols["category"], raw, standards, aliases)
    keys, by_name, generic = classify_by_name(texts, names, keys, standards)
    problems += name_problems(names, keys, by_name, generic, standards)
    unknown = raw[keys == ""].value_counts().to_dict()
    if len(raw) and (keys == "").all():
        listed = ", ".join(f"{k or '(empty)'}×{v}" for k, v in list(unknown.items())[:8])
        raise InputError("err_no_category_match", path=path, column=cols["category"], listed=listed)
    empty = pd.Series(empty_geometry(gdf, row_names.loc[gdf.index], report, problems), gdf.index)
    kept = ((keys != "") & ~empty).to_numpy()
    name_stacked_facilities(gdf.loc[kept], row_names.loc[gdf.index][kept], problems)
    if unknown:
        report.drop("unknown_category", int(sum(unknown.values())))
        listed = ", ".join(f"{k or '(empty)'}×{v}" for k, v in list(unknown.items())[:8])
        report.note("note_unknown_categories", listed=listed)
        problems += unknown_problem(names, raw, keys, generic)
    dropped = dropped_table(names, raw, keys, generic)
    out = gpd.GeoDataFrame(
        {
            "category": keys,
            "category_raw": raw,
            "matched_by": np.where(by_name, "name", "type"),
            "name": names,
        },  # fmt: skip
        geometry=gdf.geometry.representative_point() if len(gdf) else gdf.geometry,
        crs=gdf.crs,
    )
    for role in (
        "beds",
        "places",
        "floor_area",
    ):  # capacity, if given (spatial.analysis.capacity.twostep)
        if role in cols:
            numbers = parse_number(gdf[cols[role]], cols[role], path, maximum=PLAUSIBLE_MAX[role])
            out[role] = numbers.to_numpy(float)
    out = out.loc[(keys != "") & ~empty].reset_index(drop=True)
    out.insert(0, "facility_id", [f"F{i + 1:05d}" for i in range(len(out))])
    report.rows_kept = len(out)
    return out, report, {str(k): int(v) for k, v in unknown.items()}, dropped


@in_layer("parcels")
def _parcels(
    project: Project, aliases: dict, problems: list[Problem]
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    gdf, cols, path, report = _read_layer(project, "parcels", aliases)
    gdf = gdf.reset_index(drop=True)
    col = cols.get
    ids = gdf[col("id")].astype("string") if col("id") else None
    if ids is not None:
        check_unique_ids(ids, col("id"), path)
    else:
        ids = pd.Series([f"P{i + 1:04d}" for i in range(len(gdf))], index=gdf.index)
    gdf = drop_outliers(gdf, ids, "parcels", report, problems)  # as the communities get
    ids = ids.loc[gdf.index]
    mapped = {
        "pid": ids,
        "name": gdf[col("name")].astype("string").fillna("") if col("name") else ids,
        "kind": gdf[col("kind")].astype("string").fillna("未注明") if col("kind") else "未注明",
        "area_given": _number(gdf, col("area"), path, "area"),
        "max_floor_area": _number(gdf, col("max_floor_area"), path, "max_floor_area"),
        "available": _flags(gdf[col("available")]) if col("available") else True,
    }
    out = _standardise(gdf, mapped, set(cols.values()))
    out = repair_polygons(out, report, path, out["pid"], problems)
    report.rows_kept = len(out)
    return out, report


def _number(gdf: gpd.GeoDataFrame, column: str | None, path: Path, role: str) -> pd.Series | float:
    """Column ``role`` as numbers within its plausible maximum, or NaN if the layer has none."""
    if not column:
        return np.nan
    return parse_number(gdf[column], column, path, maximum=PLAUSIBLE_MAX[role])


@in_layer("subdistricts")
def _subdistricts(
    project: Project, aliases: dict, problems: list[Problem]
) -> tuple[gpd.GeoDataFrame, LayerReport]:
    gdf, cols, path, report = _read_layer(project, "subdistricts", aliases)
    names = (
        gdf[cols["name"]].astype("string").fillna("")
        if "name" in cols
        else pd.Series([f"街道{i + 1}" for i in range(len(gdf))], index=gdf.index)
    )
    out = gpd.GeoDataFrame({"name": names}, geometry=gdf.geometry, crs=gdf.crs)
    out = repair_polygons(out, report, path, names, problems)
    report.rows_kept = len(out)
    return out, report


def _flags(series: pd.Series) -> pd.Series:
    no = {"0", "否", "false", "no", "n", "不可用", "f"}
    return ~series.astype("string").str.strip().str.lower().isin(no)


def load_layers(project: Project, standards: Standards) -> Layers:
    """Read, validate and project the communities, facilities and (optional) parcels.

    The analysis CRS is the project's ``crs`` or the CGCS2000 Gauss-Krüger zone (UTM outside
    China) of the communities' centre. Input files are only read, never written.

    Parameters
    ----------
    project : Project
    standards : Standards
        The categories facility texts are matched to.

    Returns
    -------
    Layers

    Raises
    ------
    InputError
        A file is missing or unreadable, a needed column is absent, ids repeat, coordinates are
        impossible (one line naming the file, row and column).
    """
    aliases = load_column_aliases()
    problems: list[Problem] = []
    communities, c_report = _communities(project, aliases, problems)
    reports = [c_report]
    unknown: dict[str, int] = {}
    dropped = None
    if len(communities) == 0:
        raise InputError("err_no_communities_left", path=c_report.path)
    if project.facilities.given():
        facilities, f_report, unknown, dropped = _facilities(
            project, aliases, standards, communities, problems
        )
        reports.append(f_report)
    else:
        facilities = gpd.GeoDataFrame(
            {"facility_id": [], "category": [], "category_raw": [], "name": []},
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        )
    problems += empty_basket(facilities, standards)
    if project.parcels.given():
        parcels, p_report = _parcels(project, aliases, problems)
        reports.append(p_report)
    else:
        parcels = gpd.GeoDataFrame(
            {
                "pid": [],
                "name": [],
                "kind": [],
                "area_given": [],
                "max_floor_area": [],
                "available": [],
            },
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        )
    subdistricts = None
    if project.subdistricts.given():
        subdistricts, s_report = _subdistricts(project, aliases, problems)
        reports.append(s_report)
    metric = choose_metric_crs([communities], project.crs)
    communities = communities.to_crs(metric)
    facilities = facilities.to_crs(metric)
    parcels = parcels.to_crs(metric)
    parcels["area_m2"] = parcels.geometry.area
    radius = max((c.radius_m for c in standards.categories.values()), default=0.0)
    name_parcels_beyond_reach(parcels, communities, radius, problems)
    if len(parcels):
        given = parcels["area_given"].astype(float)
        parcels["area_m2"] = given.where(given > 0, parcels["area_m2"])
    communities["area_m2"] = communities.geometry.area
    if subdistricts is not None:
        subdistricts = subdistricts.to_crs(metric)
    known = bool(communities["households"].notna().any())
    gates = None
    if project.gates.path:
        gates, g_report = load_gates(
            project, lambda s: _read_layer(project, s, aliases), communities, metric, problems
        )
        reports.append(g_report)
    return Layers(
        communities,
        facilities,
        parcels,
        metric,
        reports,
        unknown,
        subdistricts,
        problems,
        known,
        gates,
        dropped,
    )
