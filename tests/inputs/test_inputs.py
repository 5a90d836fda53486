"""Loading real planning formats, encodings and coordinate systems; column auto-detection."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from spatial.config.project import load_project
from spatial.config.standards import load_standards
from spatial.core.crs import wgs84_to_gcj02
from spatial.inputs.load import load_layers

from ..conftest import JINAN, small_communities, small_facilities_csv


def _project(folder: Path, communities: str, facilities: str = "", extra: str = "") -> Path:
    text = f'[project]\nname = "t"\n[communities]\npath = "{communities}"\n{extra}'
    if facilities:
        text += f'\n[facilities]\npath = "{facilities}"\ncoords = "gcj02"\n'
    path = folder / "project.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _load(project_file: Path):
    project = load_project(project_file)
    return load_layers(project, load_standards(project))


def test_gpkg_and_csv_with_auto_detected_columns(small_project):
    layers = _load(small_project)
    comm = layers.communities
    assert layers.crs.to_epsg() == 4548
    assert list(comm["name"]) == ["测试小区1", "测试小区2", "测试小区3", "测试小区4"]
    assert list(comm["built_year_max"]) == [1995, 2003, 1999, 2010]
    assert list(comm["built_approx"]) == [False, False, True, False]
    assert list(comm["households"]) == [100, 110, 120, 130]
    assert list(comm["subdistrict"])[:2] == ["历下街道", "历下街道"]
    report = layers.reports[0]
    assert report.columns["name"] == "小区名称" and report.columns["built_year"] == "建成年代"
    fac = layers.facilities
    assert list(fac["category"]) == ["elderly_daycare", "kindergarten"]  # 托老所 → elderly_daycare
    # the GCJ-02 export was converted back: the first point sits on the community corner
    assert fac.geometry.iloc[0].distance(comm.geometry.iloc[0]) < 1.0


def test_gbk_shapefile_without_cpg(tmp_path):
    comm = small_communities()
    comm.to_file(tmp_path / "c.shp", encoding="gbk", engine="pyogrio")
    (tmp_path / "c.cpg").unlink(missing_ok=True)
    assert "测试".encode("gbk") in (tmp_path / "c.dbf").read_bytes()
    layers = _load(_project(tmp_path, "c.shp"))
    assert layers.communities["name"].iloc[0] == "测试小区1"
    assert layers.communities["subdistrict"].iloc[3] == "泉城路街道"


def test_utf8_shapefile_with_cpg(tmp_path):
    # dBase field names hold 10 bytes: UTF-8 Chinese headers are kept to three characters
    short = small_communities().rename(
        columns={"小区名称": "名称", "建成年代": "建成年", "所属街道": "街道"}
    )
    short.to_file(tmp_path / "c.shp", encoding="utf-8", engine="pyogrio")
    assert (tmp_path / "c.cpg").exists()
    comm = _load(_project(tmp_path, "c.shp")).communities
    assert comm["name"].iloc[1] == "测试小区2"
    assert comm["built_year_max"].iloc[1] == 2003


def test_geojson_in_gcj02_is_shifted_to_wgs84(tmp_path):
    wgs = small_communities().to_crs(4326)
    gcj = wgs.copy()
    gcj.geometry = gcj.geometry.map(
        lambda g: type(g)(np.column_stack(wgs84_to_gcj02(*np.asarray(g.exterior.coords).T)))
    )
    gcj.to_file(tmp_path / "c.geojson", driver="GeoJSON")
    layers = _load(_project(tmp_path, "c.geojson", extra='coords = "gcj02"'))
    truth = small_communities()
    offset = layers.communities.geometry.iloc[0].centroid.distance(truth.geometry.iloc[0].centroid)
    assert offset < 1.0
    # without the setting the layer would be hundreds of metres off
    plain = _load(_project(tmp_path, "c.geojson")).communities
    assert plain.geometry.iloc[0].centroid.distance(truth.geometry.iloc[0].centroid) > 100


def test_xlsx_and_gbk_csv_facilities(small_project):
    folder = small_project.parent
    frame = pd.read_csv(folder / "facilities.csv")
    frame.to_excel(folder / "fac.xlsx", index=False)
    frame.to_csv(folder / "fac_gbk.csv", index=False, encoding="gbk")
    for name in ("fac.xlsx", "fac_gbk.csv"):
        layers = _load(_project(folder, "communities.gpkg", name))
        assert list(layers.facilities["name"]) == ["幸福托老所", "和平幼儿园"]


def test_bd09_points(tmp_path):
    from prcoords import Coords, wgs_bd

    c = wgs_bd(Coords(JINAN[1], JINAN[0]))
    pd.DataFrame({"名称": ["a"], "类别": ["菜市场"], "lng": [c.lon], "lat": [c.lat]}).to_csv(
        tmp_path / "f.csv", index=False
    )
    small_communities().to_file(tmp_path / "c.gpkg")
    text = (
        _project(tmp_path, "c.gpkg").read_text() + '[facilities]\npath = "f.csv"\ncoords = "bd09"\n'
    )
    (tmp_path / "project.toml").write_text(text, encoding="utf-8")
    layers = _load(tmp_path / "project.toml")
    corner = small_communities().geometry.iloc[0]
    assert layers.facilities.geometry.iloc[0].distance(corner) < 1.0
    assert layers.facilities["category"].iloc[0] == "market"


def test_multilayer_gpkg_and_explicit_columns(tmp_path):
    comm = small_communities().rename(columns={"小区名称": "XQMC", "户数": "HS"})
    comm.to_file(tmp_path / "all.gpkg", layer="roads_dummy")
    comm.to_file(tmp_path / "all.gpkg", layer="xiaoqu")
    extra = 'layer = "xiaoqu"\nname = "XQMC"\nhouseholds = "HS"\n'
    layers = _load(_project(tmp_path, "all.gpkg", extra=extra))
    assert layers.communities["name"].iloc[0] == "测试小区1"
    assert layers.communities["households"].sum() == 460


def test_invalid_polygons_repaired_and_empty_dropped(tmp_path):
    import shapely

    comm = small_communities()
    x, y = comm.total_bounds[:2]
    bowtie = shapely.Polygon([(x, y), (x + 50, y + 50), (x + 50, y), (x, y + 50)])
    assert not bowtie.is_valid
    comm.loc[0, "geometry"] = bowtie
    comm.loc[1, "geometry"] = shapely.Polygon()
    comm.to_file(tmp_path / "c.gpkg")
    layers = _load(_project(tmp_path, "c.gpkg"))
    report = layers.reports[0]
    assert report.repaired == 1
    assert report.dropped == {"empty_geometry": 1}
    assert len(layers.communities) == 3
    assert layers.communities.geometry.is_valid.all()


def test_rows_without_geometry_are_named_in_every_layer(tmp_path):
    """A null or empty geometry was only counted (``inputs[].dropped``), never named: now each
    layer names the rows it drops through one problem, ``empty_geometry``."""
    comm = small_communities()
    comm.loc[2, "geometry"] = None
    comm.to_file(tmp_path / "c.gpkg")
    fac = gpd.GeoDataFrame(
        {"名称": ["托老所A", "托老所B", "托老所C"], "类别": ["托老所"] * 3},
        geometry=[comm.geometry[0].centroid, None, comm.geometry[1].centroid],
        crs=4548,
    )
    fac.to_file(tmp_path / "f.gpkg")
    text = _project(tmp_path, "c.gpkg").read_text("utf-8") + '[facilities]\npath = "f.gpkg"\n'
    (tmp_path / "project.toml").write_text(text, encoding="utf-8")
    layers = _load(tmp_path / "project.toml")
    named = {p.layer: p for p in layers.problems if p.code == "empty_geometry"}
    assert named["communities"].count == 1 and named["communities"].sample == ("C0003",)
    assert named["facilities"].count == 1 and named["facilities"].sample == ("row 3",)
    assert len(layers.communities) == 3 and len(layers.facilities) == 2
    assert [r.dropped.get("empty_geometry") for r in layers.reports] == [1, 1]
    line = named["facilities"].message("en")
    assert line.startswith("1 row of the facilities layer has no geometry") and "row 3" in line


def test_unknown_categories_are_reported_not_silently_dropped(small_project):
    folder = small_project.parent
    small_facilities_csv(
        folder / "facilities.csv", [("工商银行", "银行", *JINAN), ("托老所A", "托老所", *JINAN)]
    )
    layers = _load(small_project)
    assert layers.unknown_categories == {"银行": 1}
    assert layers.reports[1].dropped == {"unknown_category": 1}
    assert any("银行" in note.render("zh") for note in layers.reports[1].notes)


@pytest.mark.parametrize("value", ["120户", "1,200", " 80 "])
def test_household_numbers_in_common_forms(tmp_path, value):
    comm = small_communities()
    comm["户数"] = comm["户数"].astype(str)
    comm.loc[0, "户数"] = value
    comm.to_file(tmp_path / "c.gpkg")
    hh = _load(_project(tmp_path, "c.gpkg")).communities["households"].iloc[0]
    assert hh == float(value.replace("户", "").replace(",", "").strip())


def test_inputs_are_never_modified(small_project, run_cli, tmp_path):
    from ..conftest import file_digest

    files = [p for p in small_project.parent.iterdir() if p.is_file()]
    before = {p: file_digest(p) for p in files}
    code, _, _ = run_cli("coverage", "--config", small_project, "--out", tmp_path / "out")
    assert code == 0
    assert {p: file_digest(p) for p in files} == before
    assert gpd.read_file(tmp_path / "out" / "lifecircle.gpkg", layer="communities").shape[0] == 4
