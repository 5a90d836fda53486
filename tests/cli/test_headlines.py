"""Issue 23: no confident wrong headline with exit 0, no crash after the analysis, messages that
say which file, layer and row — each through the command line (exit code, one line, no traceback,
inputs byte-identical, ``--out`` complete or unchanged)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from ..conftest import JINAN, file_digest, small_communities, to_4548

FULL_SET = {"lifecircle.gpkg", "summary.json", "ledger.xlsx", "overview.html", "overview.pdf"}


def _inputs(folder: Path) -> dict[str, str]:
    return {p.name: file_digest(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _edit(project: Path, old: str, new: str) -> None:
    text = project.read_text("utf-8")
    assert old in text
    project.write_text(text.replace(old, new, 1), "utf-8")


def _refused(run_cli, project: Path, out: Path, *fragments: str, command: str = "check") -> str:
    """Run ``command``: exit 2, one English line holding ``fragments``, inputs unchanged, no
    output written. Returns the line."""
    before = _inputs(project.parent)
    args = [command, "--config", project, "--lang", "en"]
    if command != "check":
        args += ["--out", out, "--basemap", "none"]
    code, stdout, stderr = run_cli(*args)
    lines = stderr.strip().splitlines()
    assert code == 2, stderr + stdout
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr + stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert _inputs(project.parent) == before
    assert not out.exists() or not any(out.iterdir())
    return lines[0]


def _ran(run_cli, project: Path, out: Path) -> dict:
    """``lifecircle run``: exit 0, the full set of outputs, inputs unchanged; the summary."""
    before = _inputs(project.parent)
    code, stdout, stderr = run_cli(
        "run", "--config", project, "--out", out, "--basemap", "none", "--lang", "en"
    )
    assert code == 0, stderr
    assert "Traceback" not in stderr + stdout
    assert {p.name for p in out.iterdir()} >= FULL_SET
    assert _inputs(project.parent) == before
    return json.loads((out / "summary.json").read_text("utf-8"))


def _parcels(folder: Path, boxes: list[tuple[float, float, float, float]]) -> Path:
    frame = gpd.GeoDataFrame(
        {"地块编号": [f"D{i + 1}" for i in range(len(boxes))], "用地性质": "空地"},
        geometry=[shapely.box(*b) for b in boxes],
        crs=4548,
    )
    path = folder / "parcels.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


# -- crashes after the analysis -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("count", [1, 4])
def test_run_with_no_bundle_and_parcels_completes(small_project, run_cli, tmp_path, count):
    # no bundle forms (one community; or four all built after the old cut-off): the bundle
    # tables linked parcels to an empty list of outlines and crashed after the whole analysis
    folder = small_project.parent
    small_communities(count).to_file(folder / "communities.gpkg", driver="GPKG")
    x0, y0 = to_4548(*JINAN)
    _parcels(folder, [(x0 - 60, y0, x0 - 20, y0 + 40), (x0, y0 + 100, x0 + 50, y0 + 150)])
    text = small_project.read_text("utf-8") + '[parcels]\npath = "parcels.gpkg"\n'
    if count > 1:
        text += "[policy]\nold_cutoff = 1900-12-31\npriority_cutoff = 1900-12-31\n"
    small_project.write_text(text, "utf-8")
    summary = _ran(run_cli, small_project, tmp_path / "out")
    assert summary["bundles"]["count"] == 0
    assert summary["communities"] == count and summary["parcels"] == 2


@pytest.mark.slow
def test_toml_datetime_cutoff_is_its_day(small_project, run_cli, tmp_path):
    small_project.write_text(
        small_project.read_text("utf-8")
        + "[policy]\nold_cutoff = 2005-12-31T00:00:00\n",  # the other cut-off a date
        "utf-8",
    )
    with_datetime = _ran(run_cli, small_project, tmp_path / "a")
    _edit(small_project, "2005-12-31T00:00:00", "2005-12-31")
    with_date = _ran(run_cli, small_project, tmp_path / "b")
    assert with_datetime["old_communities"] == with_date["old_communities"] == 3
    assert with_datetime["eligibility"] == with_date["eligibility"]


# -- files that hold several layers -----------------------------------------------------------


def test_several_layers_and_no_layer_setting_is_refused_listing_them(small_project, run_cli):
    # the first layer (a district outline) was read as the communities: "1 community, 100 %"
    folder = small_project.parent
    comm = small_communities()
    district = gpd.GeoDataFrame(
        {"名称": ["历下区"]}, geometry=[comm.union_all().envelope], crs=4548
    )
    (folder / "communities.gpkg").unlink()
    district.to_file(folder / "communities.gpkg", layer="district", driver="GPKG")
    comm.to_file(folder / "communities.gpkg", layer="小区", driver="GPKG")
    line = _refused(
        run_cli, small_project, folder / "out", "communities.gpkg", "2 layers", "district, 小区"
    )
    assert 'layer = "<layer name>" in [communities]' in line
    _edit(small_project, 'path = "communities.gpkg"', 'path = "communities.gpkg"\nlayer = "小区"')
    code, _, err = run_cli("check", "--config", small_project)
    assert code == 0, err


@pytest.mark.slow
def test_one_layer_with_geometry_beside_attribute_tables_is_read(small_project, run_cli, tmp_path):
    import pandas as pd
    import pyogrio

    folder = small_project.parent
    pyogrio.write_dataframe(pd.DataFrame({"备注": ["x"]}), folder / "communities.gpkg", layer="t")
    summary = _ran(run_cli, small_project, tmp_path / "out")
    assert summary["communities"] == 4


def test_sheets_with_equally_matching_headers_are_refused(small_project, run_cli):
    import pandas as pd

    folder = small_project.parent
    frame = pd.read_csv(folder / "facilities.csv")
    with pd.ExcelWriter(folder / "facilities.xlsx") as book:
        frame.to_excel(book, sheet_name="2023年", index=False)
        frame.iloc[:1].to_excel(book, sheet_name="2024年", index=False)
        pd.DataFrame().to_excel(book, sheet_name="Sheet3", index=False)
    _edit(small_project, "facilities.csv", "facilities.xlsx")
    _refused(run_cli, small_project, folder / "out", "facilities.xlsx", "2023年, 2024年",
             '[facilities]')  # fmt: skip
    _edit(small_project, 'path = "facilities.xlsx"', 'path = "facilities.xlsx"\nlayer = "2024年"')
    code, out, err = run_cli("check", "--config", small_project, "--lang", "en")
    assert code == 0, err


def _roads(path: Path, layers: dict[str, list[tuple[float, float]]]) -> None:
    x0, y0 = to_4548(*JINAN)
    for name, points in layers.items():
        line = shapely.LineString([(x0 + a, y0 + b) for a, b in points])
        gpd.GeoDataFrame({"道路等级": ["支路"]}, geometry=[line], crs=4548).to_file(
            path, layer=name, driver="GPKG"
        )


@pytest.mark.slow
@pytest.mark.parametrize("role", ["network", "barrier"])
def test_network_and_barrier_files_with_several_layers_are_refused(
    small_project, run_cli, tmp_path, role
):
    folder = small_project.parent
    _roads(folder / "lines.gpkg", {"roads": [(-50, -20), (500, -20)], "rivers": [(0, 0), (0, 90)]})
    section = (
        '[network]\npath = "lines.gpkg"\n'
        if role == "network"
        else '[bundling]\nbarrier_path = "lines.gpkg"\n'
    )
    small_project.write_text(small_project.read_text("utf-8") + section, "utf-8")
    # the road layer has a layer key ([network] layer): the fix names it; the barrier file has none
    what = "in [network]" if role == "network" else "barrier layer"
    _refused(run_cli, small_project, tmp_path / "out", "lines.gpkg", "2 layers", "roads, rivers",
             what, command="run")  # fmt: skip


# -- a shapefile whose .dbf and .shp disagree -------------------------------------------------


@pytest.mark.parametrize("rows", [3, 5])
def test_shapefile_dbf_rows_other_than_shapes_are_refused(small_project, run_cli, rows):
    import struct

    folder = small_project.parent
    small_communities().to_file(folder / "c.shp", encoding="utf-8")
    dbf = bytearray((folder / "c.dbf").read_bytes())
    count, header, width = struct.unpack("<IHH", dbf[4:12])
    assert count == 4
    records = dbf[header : header + 4 * width]
    records = records[: rows * width] if rows < 4 else records + records[-width:]
    dbf[4:8] = struct.pack("<I", rows)
    (folder / "c.dbf").write_bytes(bytes(dbf[:header] + records + b"\x1a"))
    _edit(small_project, "communities.gpkg", "c.shp")
    _refused(run_cli, small_project, folder / "out", "c.shp", "4 shapes", f"{rows} attribute rows")


# -- patterns a planner's file shows ----------------------------------------------------------


def _warnings(summary: dict) -> dict[str, dict]:
    return {w["code"]: w for w in summary["warnings"]}


@pytest.mark.slow
def test_households_in_wan_are_refused_with_the_fix(small_project, run_cli):
    folder = small_project.parent
    comm = small_communities()
    comm["户数"] = [0.3, 1.2, 0.8, 0.05]
    comm.to_file(folder / "communities.gpkg", driver="GPKG")
    _refused(run_cli, small_project, folder / "out", "communities.gpkg", "'户数'", "row 2",
             "'0.3'", "万户", "×10,000", command="run")  # fmt: skip


@pytest.mark.slow
def test_a_few_fractional_household_counts_are_named(small_project, run_cli, tmp_path):
    folder = small_project.parent
    comm = small_communities()
    comm["户数"] = [120.5, 110, 130, 140]
    comm.to_file(folder / "communities.gpkg", driver="GPKG")
    warning = _warnings(_ran(run_cli, small_project, tmp_path / "out"))["households_fractional"]
    assert warning["count"] == 1 and warning["sample"] == ["C0001（120.5）"]


def _facility_rows(n: int) -> list[tuple[str, str, float, float]]:
    kinds = ["托老所", "幼儿园", "卫生服务站", "菜市场"]
    return [(f"设施{i}", kinds[i % 4], JINAN[0] + 0.001 * i, JINAN[1] + 0.0005 * i)
            for i in range(n)]  # fmt: skip


@pytest.mark.slow
def test_a_facility_table_pasted_three_times_counts_each_once(small_project, run_cli, tmp_path):
    import pandas as pd

    from ..conftest import small_facilities_csv

    folder = small_project.parent
    small_facilities_csv(folder / "facilities.csv", _facility_rows(4))
    once = _ran(run_cli, small_project, tmp_path / "once")
    frame = pd.read_csv(folder / "facilities.csv")
    pasted = pd.concat([frame, frame, frame], ignore_index=True)
    pasted.insert(0, "序号", range(1, len(pasted) + 1))  # the row numbers differ, nothing else
    pasted.to_csv(folder / "facilities.csv", index=False)
    thrice = _ran(run_cli, small_project, tmp_path / "thrice")
    warning = _warnings(thrice)["facility_duplicates"]
    assert warning["count"] == 8
    assert warning["sample"][:2] == ["row 6 = row 2", "row 7 = row 3"]
    assert thrice["facilities"] == once["facilities"] == 4
    assert thrice["capacity"] == once["capacity"]
    assert thrice["coverage"] == once["coverage"]


@pytest.mark.slow
def test_facilities_stacked_on_one_point_are_named(small_project, run_cli, tmp_path):
    from ..conftest import small_facilities_csv

    folder = small_project.parent
    rows = [(n, k, *JINAN) for n, k, _, _ in _facility_rows(6)]
    small_facilities_csv(folder / "facilities.csv", rows)
    warning = _warnings(_ran(run_cli, small_project, tmp_path / "out"))["facilities_stacked"]
    assert warning["count"] == 6
    assert warning["sample"] == [f"row {i}" for i in range(2, 8)]
    assert "up to 6 at 117.02" in warning["message"]


# -- coordinates that cannot be what the file says --------------------------------------------


@pytest.mark.slow
def test_geojson_parcels_in_metres_without_crs_are_refused(small_project, run_cli, tmp_path):
    folder = small_project.parent
    x0, y0 = to_4548(*JINAN)
    path = _parcels(folder, [(x0, y0 + 100, x0 + 50, y0 + 150)])
    frame = gpd.read_file(path)
    path.unlink()
    data = json.loads(frame.to_json())
    data.pop("crs", None)  # saved in metres without saying so
    (folder / "parcels.geojson").write_text(json.dumps(data), "utf-8")
    small_project.write_text(
        small_project.read_text("utf-8") + '[parcels]\npath = "parcels.geojson"\n', "utf-8"
    )
    _refused(run_cli, small_project, tmp_path / "out", "parcels.geojson", "feature 1",
             "cannot be lon/lat", '[parcels] crs = "EPSG:4548"')  # fmt: skip
    _edit(small_project, 'path = "parcels.geojson"', 'path = "parcels.geojson"\ncrs = "EPSG:4548"')
    assert _ran(run_cli, small_project, tmp_path / "out")["parcels"] == 1


@pytest.mark.slow
def test_parcels_get_the_study_area_checks(small_project, run_cli, tmp_path):
    folder = small_project.parent
    x0, y0 = to_4548(*JINAN)
    near = [(x0 + 20 * i, y0 + 100, x0 + 20 * i + 15, y0 + 115) for i in range(3)]
    beyond = (x0 + 3000, y0, x0 + 3050, y0 + 50)  # 3 km: beyond every radius
    far = (x0 + 90_000, y0, x0 + 90_050, y0 + 50)  # 90 km: outside the study area
    _parcels(folder, [*near, beyond, far])
    small_project.write_text(
        small_project.read_text("utf-8") + '[parcels]\npath = "parcels.gpkg"\n', "utf-8"
    )
    summary = _ran(run_cli, small_project, tmp_path / "out")
    warnings = _warnings(summary)
    assert warnings["outlier_dropped"]["sample"][0].startswith("D5（")
    assert warnings["outlier_dropped"]["layer"] == "parcels"
    assert warnings["parcels_beyond_reach"]["sample"] == ["D4"]
    assert summary["parcels"] == 4


def test_infinite_lonlat_is_named_by_row(small_project, run_cli):
    import pandas as pd

    folder = small_project.parent
    frame = pd.read_csv(folder / "facilities.csv", dtype=str)
    frame.loc[1, "经度"] = "inf"
    frame.to_csv(folder / "facilities.csv", index=False)
    line = _refused(run_cli, small_project, folder / "out", "facilities.csv", "row 3",
                    "not finite")  # fmt: skip
    assert "projected" not in line


@pytest.mark.slow
def test_facility_polygons_with_empty_rows_are_not_outside_china(small_project, run_cli, tmp_path):
    folder = small_project.parent
    x0, y0 = to_4548(*JINAN)
    shapes = [shapely.box(x0 + 10, y0 + 10, x0 + 30, y0 + 30), None, shapely.Polygon()]
    gpd.GeoDataFrame(
        {"名称": ["甲", "乙", "丙"], "类别": ["托老所", "幼儿园", "幼儿园"]},
        geometry=gpd.GeoSeries(shapes, crs=4548),
    ).to_crs(4326).to_file(folder / "fac.gpkg", driver="GPKG")
    _edit(
        small_project,
        'path = "facilities.csv"\ncoords = "gcj02"',
        'path = "fac.gpkg"\ncoords = "gcj02"',
    )
    summary = _ran(run_cli, small_project, tmp_path / "out")
    assert summary["facilities"] == 1


# -- communities drawn on a Gaode map, saved as WGS84 ------------------------------------------


def _demo_with_gcj_communities(folder: Path) -> Path:
    import shutil

    import numpy as np

    from spatial.core import settings
    from spatial.core.crs import wgs84_to_gcj02

    for name in ("communities.gpkg", "facilities.csv", "network.osm", "project.toml"):
        shutil.copy(settings.DEMO_PROJECT.parent / name, folder / name)
    comm = gpd.read_file(folder / "communities.gpkg").to_crs(4326)

    def _to_gcj(xy):
        return np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1]))

    comm.geometry = shapely.transform(comm.geometry.values, _to_gcj)
    comm.to_file(folder / "communities.gpkg", driver="GPKG")  # GCJ-02 labelled EPSG:4326
    text = (folder / "project.toml").read_text("utf-8")
    (folder / "project.toml").write_text(
        text.split("[parcels]")[0] + '[network]\npath = "network.osm"\n', "utf-8"
    )
    return folder / "project.toml"


@pytest.mark.slow
def test_communities_off_the_streets_are_named_and_the_facility_advice_withdrawn(tmp_path, run_cli):
    # the facilities (GCJ-02, declared so) fitted these communities best "as WGS84": the old
    # warning told the planner to set the facilities to wgs84, which moved them off the streets
    project = _demo_with_gcj_communities(tmp_path)
    warnings = _warnings(_ran(run_cli, project, tmp_path / "out"))
    assert "coords_mismatch" not in warnings
    shifted = warnings["communities_shifted"]["message"]
    assert 'set coords = "gcj02" in [communities]' in shifted
    assert "drawn on a Gaode/Baidu map but saved as WGS84" in shifted
    assert "to the west" in shifted and "wgs84 6775 m, gcj02 17" in shifted
    # the advice followed: no warning about either layer's coordinates
    _edit(project, 'path = "communities.gpkg"', 'path = "communities.gpkg"\ncoords = "gcj02"')
    code, out, err = run_cli("check", "--config", project, "--lang", "en")
    assert code == 0, err
    assert "coords" not in out.split("data problems")[1]


@pytest.mark.slow
def test_the_demo_communities_are_on_their_streets(run_cli, tmp_path):
    from spatial.config.project import load_project
    from spatial.workflow import pipeline

    result = pipeline.load_inputs(load_project())
    assert "communities_shifted" not in {p.code for p in result.layers.problems}


# -- messages that say which file, layer and row ---------------------------------------------


@pytest.mark.parametrize("prj", ['PROJCS["garbage', "hello world"])
def test_a_garbage_prj_is_named_as_the_prj(small_project, run_cli, prj):
    # was "c.shp: cannot read as a GIS layer (missing , or ])", or "no CRS (missing .prj)"
    folder = small_project.parent
    comm = small_communities()
    comm.columns = ["name", "year", "hh", "sub", "geometry"]
    comm.to_file(folder / "c.shp")
    (folder / "c.prj").write_text(prj, "utf-8")
    _edit(small_project, 'path = "communities.gpkg"', 'path = "c.shp"\nhouseholds = "hh"')
    line = _refused(run_cli, small_project, folder / "out", "c.prj [communities]:", "c.shp's .prj file",
                    'crs = "EPSG:')  # fmt: skip
    assert prj not in line and "missing" not in line


@pytest.mark.parametrize("name", ["facilities.csv", "facilities.gpkg"])
def test_a_link_to_a_system_file_is_refused_without_quoting_it(small_project, run_cli, name):
    folder = small_project.parent
    (folder / "facilities.csv").unlink()
    (folder / name).symlink_to("/etc/passwd")
    if name != "facilities.csv":
        _edit(small_project, "facilities.csv", name)
    first = Path("/etc/passwd").read_text().splitlines()[0]
    line = _refused(run_cli, small_project, folder / "out", name, "/etc/passwd", "not a data file")
    assert first not in line and first.split(":")[0] + ":" not in line


def test_a_custom_category_size_written_as_one_number_names_the_form(small_project, run_cli):
    small_project.write_text(
        small_project.read_text("utf-8")
        + '[coverage.add.library]\nname_zh = "图书室"\nradius_m = 1000\nland_m2 = 500\n',
        "utf-8",
    )
    line = _refused(run_cli, small_project, small_project.parent / "out", "'library'",
                    "land_m2 must be written [min, max]", "it is 500")  # fmt: skip
    assert "iterable" not in line
    _edit(small_project, "land_m2 = 500", "building_m2 = [200, 400]")
    code, _, err = run_cli("check", "--config", small_project)
    assert code == 0, err
    _edit(small_project, "radius_m = 1000\n", "")
    _refused(run_cli, small_project, small_project.parent / "out", "'library'", "no radius_m")


def test_a_table_given_as_the_communities_says_which_layer(small_project, run_cli):
    # "no coordinate columns found; set [communities] x = ..." although 经度/纬度 were there
    _edit(small_project, 'path = "communities.gpkg"', 'path = "facilities.csv"')
    _refused(run_cli, small_project, small_project.parent / "out", "facilities.csv",
             "[communities] must be a GIS layer of outlines", "the facility table")  # fmt: skip


def test_a_row_error_names_the_layer_the_file_was_read_as(small_project, run_cli):
    folder = small_project.parent
    comm = small_communities()
    comm["户数"] = ["100", "约120", "130", "140"]
    comm.to_file(folder / "communities.gpkg", driver="GPKG")
    _refused(run_cli, small_project, folder / "out", "communities.gpkg [communities]: row 3")


def test_every_compass_direction_is_in_the_catalogue():
    from spatial.core.messages import labels
    from spatial.network.alignment import DIRECTIONS, _direction

    assert all(k in labels("zh") and k in labels("en") for k in DIRECTIONS)
    assert _direction(-500, -10).key == "dir_w" and _direction(300, 300).key == "dir_ne"


@pytest.mark.slow
def test_a_refused_run_leaves_the_previous_outputs_as_they_were(small_project, run_cli, tmp_path):
    out = tmp_path / "out"
    _ran(run_cli, small_project, out)
    before = {p.name: file_digest(p) for p in out.iterdir()}
    folder = small_project.parent
    small_communities().to_file(folder / "communities.gpkg", layer="copy", driver="GPKG")
    code, _, err = run_cli("run", "--config", small_project, "--out", out, "--basemap", "none")
    assert code == 2 and "2" in err and "Traceback" not in err
    assert {p.name: file_digest(p) for p in out.iterdir()} == before


def test_an_infinite_coordinate_in_a_gis_layer_is_named_by_feature(small_project, run_cli):
    import numpy as np

    folder = small_project.parent
    gpd.GeoDataFrame(
        {"名称": ["甲", "乙"], "类别": ["托老所", "幼儿园"]},
        geometry=[shapely.Point(*JINAN), shapely.Point(np.inf, JINAN[1])],
        crs=4326,
    ).to_file(folder / "fac.gpkg", driver="GPKG")
    _edit(small_project, "facilities.csv", "fac.gpkg")
    line = _refused(run_cli, small_project, folder / "out", "fac.gpkg [facilities]", "feature 2",
                    "not finite")  # fmt: skip
    assert "projected" not in line
