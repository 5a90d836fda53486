"""The GeoPackage's styles, field titles and layer types, read back from the file (QGIS itself
opens it in test_gpkg_qgis.py)."""

from __future__ import annotations

import sqlite3
from xml.etree.ElementTree import fromstring

import geopandas as gpd
import pyogrio
import shapely

from spatial.analysis.siting.tables import SITE_COLUMNS
from spatial.core.messages import labels
from spatial.outputs import staging
from spatial.outputs.gpkg import drawing, symbology
from spatial.outputs.gpkg.symbology import Style, Sym
from spatial.text.xml import xml_text

HOSTILE = "<b>养老</b> & \"x\" 'y' ]]> \x01\x1b[31m\u202e\ud800"


def test_text_from_data_is_inert_in_the_qml_and_the_sld():
    """A category whose key and name are hostile: both documents stay well-formed and hold the
    text literally (controls, a bidi override and a lone surrogate as their escapes)."""
    spec = Style("categories", [(HOSTILE, HOSTILE, Sym("marker", fill="#e69f00"))], "category")
    qml = symbology.qml(spec, ["category"], {"category": HOSTILE}, {"category": {HOSTILE: HOSTILE}})
    cat = fromstring(qml).find("renderer-v2/categories/category")
    assert cat.get("value") == cat.get("label") == xml_text(HOSTILE)
    assert cat.get("label").startswith('<b>养老</b> & "x"') and "\\x01" in cat.get("label")
    assert "\\u202e" in cat.get("label") and "\\ud800" in cat.get("label")
    alias = fromstring(qml).find("aliases/alias")
    assert alias.get("name") == xml_text(HOSTILE)
    sld = fromstring(symbology.sld(spec, "facilities", HOSTILE))
    literal = next(sld.iter("{http://www.opengis.net/ogc}Literal"))
    assert literal.text == xml_text(HOSTILE)


def test_rule_filters_are_quoted_expressions():
    assert symbology.expression(("ge", "gaps", 4)) == '"gaps" >= 4'
    assert symbology.expression(("in", "tier", ("a'b", "c"))) == "\"tier\" IN ('a''b', 'c')"


def test_styles_and_titles_in_the_runs_language(demo_analysis):
    result = demo_analysis(("coverage", "bundle", "sites"))
    layers = {"communities": result.communities, "bundles": result.bundling.bundles}
    for lang in ("zh", "en"):
        looks = drawing.looks(layers, result, lang)
        comm = looks["communities"]
        assert comm.titles["cid"] == labels(lang)["ledger"]["columns"]["cid"]
        assert comm.title == labels(lang)["communities"]
        rules = fromstring(comm.qml).findall("renderer-v2/rules/rule")
        assert [r.get("label") for r in rules][:5] == [t for _, t in drawing.style.gap_legend(lang)]
        assert rules[0].get("filter") == '"gaps" = 0' and rules[4].get("filter") == '"gaps" >= 4'
        bundles = fromstring(looks["bundles"].qml)
        assert bundles.find("labeling/settings/text-style").get("fieldName") == "bundle_id"
        outer = bundles.find("renderer-v2/symbols/symbol/layer")  # drawn 10 m outside
        assert outer.get("class") == "GeometryGenerator"
        assert {p.get("k"): p.get("v") for p in outer.findall("prop")}["geometryModifier"] == (
            f"buffer($geometry, {drawing.style.BUNDLE_OFFSET_M:g})"
        )
        props = {p.get("k"): p.get("v") for p in outer.findall("symbol/layer/prop")}
        assert props["style"] == "no" and props["outline_style"] == "dash"


def test_empty_layers_keep_their_geometry_and_column_types(demo_analysis, tmp_path):
    """No sites and no bundles: the layers are still multi-polygons with number columns, not
    text columns of unknown geometry; a layer with rows is a multi-polygon even when each row
    is a single polygon."""
    result = demo_analysis(("coverage", "bundle", "sites"))
    empty_sites = gpd.GeoDataFrame(columns=SITE_COLUMNS, geometry="geometry", crs=4548)
    empty_bundles = result.bundling.bundles.iloc[:0]
    one = gpd.GeoDataFrame(
        {"pid": ["P1"], "area_m2": [10.0]}, geometry=[shapely.box(0, 0, 1, 1)], crs=4548
    )
    layers = {"sites": empty_sites, "bundles": empty_bundles, "parcels": one}
    looks = drawing.looks(layers, result, "zh")
    path = staging.write_gpkg(tmp_path / "lifecircle.gpkg", layers, looks)
    sites = pyogrio.read_info(path, layer="sites")
    assert sites["geometry_type"] == "MultiPolygon" and sites["features"] == 0
    types = dict(zip(sites["fields"], sites["dtypes"], strict=True))
    assert types["rank"] == "int64" and types["area_m2"] == "float64" and types["pid"] == "object"
    bundles = pyogrio.read_info(path, layer="bundles")
    assert bundles["geometry_type"] == "MultiPolygon"
    assert dict(zip(bundles["fields"], bundles["dtypes"], strict=True))["members"] == "int64"
    assert pyogrio.read_info(path, layer="parcels")["geometry_type"] == "MultiPolygon"
    with sqlite3.connect(path) as db:
        styled = {r[0] for r in db.execute("SELECT f_table_name FROM layer_styles")}
        titled = dict(db.execute(
            "SELECT column_name, title FROM gpkg_data_columns WHERE table_name = 'sites'"
        ))  # fmt: skip
        schema = db.execute(
            "SELECT count(*) FROM gpkg_extensions WHERE extension_name = 'gpkg_schema'"
        ).fetchone()[0]
    assert styled == set(layers) and schema == 2
    assert titled["pid"] == labels("zh")["ledger"]["columns"]["pid"]


def test_demo_gpkg_holds_styles_titles_and_project(demo_out):
    with sqlite3.connect(demo_out / "lifecircle.gpkg") as db:
        rows = db.execute(
            "SELECT f_table_name, f_table_schema, f_geometry_column, useAsDefault, styleQML,"
            " styleSLD FROM layer_styles"
        ).fetchall()
        listed = {r[0] for r in db.execute("SELECT table_name FROM gpkg_contents")}
        titles = db.execute("SELECT count(*) FROM gpkg_data_columns").fetchone()[0]
        project = db.execute("SELECT name FROM qgis_projects").fetchall()
    assert {r[0] for r in rows} | {"layer_styles"} == listed
    assert all(r[1] == "" and r[3] == 1 and r[4].startswith("<?xml") for r in rows)
    assert all(fromstring(r[5]).tag.endswith("StyledLayerDescriptor") for r in rows)
    assert titles > 50 and project == [("lifecircle",)]
