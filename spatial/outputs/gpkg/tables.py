"""Writing the layers' looks (:class:`spatial.outputs.gpkg.drawing.LayerLook`) into the GeoPackage,
beside its layers, in one transaction:

- ``layer_styles``: each layer's QML and SLD as its default style — the table and columns QGIS's
  OGR provider reads and writes (``QgsOgrProviderMetadata::saveStyle``), registered in
  ``gpkg_contents`` as an attributes table as QGIS does;
- ``gpkg_data_columns``: each field's title (``name`` and ``title``) — the GeoPackage schema
  extension, registered in ``gpkg_extensions`` (GDAL reads ``name`` as a field's alternative
  name);
- ``qgis_projects``: a QGIS project named ``lifecircle`` holding every layer in drawing order,
  styled, the layers that would cover the communities unticked (QGIS: Browser → the GeoPackage →
  ``lifecircle``) — the table QGIS's GeoPackage project storage reads (the ``.qgz`` as hex text).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import sqlite3
import zipfile
from pathlib import Path
from xml.etree.ElementTree import fromstring

from spatial.outputs.gpkg.drawing import HIDDEN, LayerLook
from spatial.outputs.gpkg.symbology import QGIS_VERSION, QML_DOCTYPE
from spatial.text.xml import element, sub, to_xml

PROJECT_NAME = "lifecircle"
SCHEMA_EXTENSION = "http://www.geopackage.org/spec121/#extension_schema"

_LAYER_STYLES = """CREATE TABLE IF NOT EXISTS layer_styles (
  id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
  f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
  styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
  update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""
_DATA_COLUMNS = """CREATE TABLE IF NOT EXISTS gpkg_data_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT,
  description TEXT, mime_type TEXT, constraint_name TEXT,
  CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
  CONSTRAINT gdc_tn UNIQUE (table_name, name))"""
_CONSTRAINTS = """CREATE TABLE IF NOT EXISTS gpkg_data_column_constraints (
  constraint_name TEXT NOT NULL, constraint_type TEXT NOT NULL, value TEXT, min NUMERIC,
  min_is_inclusive BOOLEAN, max NUMERIC, max_is_inclusive BOOLEAN, description TEXT,
  CONSTRAINT gdcc_ntv UNIQUE (constraint_name, constraint_type, value))"""
_EXTENSIONS = """CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))"""
_PROJECTS = (
    "CREATE TABLE IF NOT EXISTS qgis_projects (name TEXT PRIMARY KEY, metadata BLOB, content BLOB)"
)


def write_looks(path: Path, looks: dict[str, LayerLook], order: list[str], crs_wkt: str) -> None:
    """Write the styles, field titles and the QGIS project of ``looks`` into the GeoPackage.

    Parameters
    ----------
    path : Path
        The GeoPackage, its layers already written.
    looks : dict of str to LayerLook
    order : list of str
        The layers top to bottom.
    crs_wkt : str
        The layers' coordinate system (the project's), WKT.
    """
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        geoms = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
        _styles(db, looks, geoms, now)
        _titles(db, looks)
        content = _project(looks, order, geoms, crs_wkt)
        db.execute(_PROJECTS)
        meta = json.dumps({"last_modified_time": now[:19], "last_modified_user": "lifecircle"})
        db.execute("INSERT OR REPLACE INTO qgis_projects VALUES (?, ?, ?)",
                   (PROJECT_NAME, meta, content.hex()))  # fmt: skip


def _styles(db: sqlite3.Connection, looks: dict[str, LayerLook], geoms: dict, now: str) -> None:
    db.execute(_LAYER_STYLES)
    db.execute(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description,"
        " last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?)",
        (now,),
    )
    db.executemany(
        "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name,"
        " f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner,"
        " ui, update_time) VALUES ('', '', ?, ?, ?, ?, ?, 1, ?, '', NULL, ?)",
        [
            (name, geoms.get(name, "geom"), name, look.qml, look.sld, look.title, now)
            for name, look in looks.items()
        ],
    )


def _titles(db: sqlite3.Connection, looks: dict[str, LayerLook]) -> None:
    db.execute(_DATA_COLUMNS)
    db.execute(_CONSTRAINTS)
    db.execute(_EXTENSIONS)
    db.executemany(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_schema', ?, 'read-write')",
        [
            ("gpkg_data_columns", SCHEMA_EXTENSION),
            ("gpkg_data_column_constraints", SCHEMA_EXTENSION),
        ],
    )
    rows = []
    for name, look in looks.items():
        for column, title in _unique(look.titles).items():
            rows.append((name, column, title, title))
    db.executemany(
        "INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title)"
        " VALUES (?, ?, ?, ?)",
        rows,
    )


def _unique(titles: dict[str, str]) -> dict[str, str]:
    """Titles made unique within a layer (``gpkg_data_columns.name`` is): a second "户数"
    becomes "户数 (2)"."""
    seen: dict[str, int] = {}
    out = {}
    for column, title in titles.items():
        seen[title] = seen.get(title, 0) + 1
        out[column] = title if seen[title] == 1 else f"{title} ({seen[title]})"
    return out


def _project(looks: dict[str, LayerLook], order: list[str], geoms: dict, crs_wkt: str) -> bytes:
    """The QGIS project (a ``.qgz``: the ``.qgs`` zipped) of the layers in ``order``."""
    names = [n for n in order if n in looks]
    root = element("qgis", {"version": QGIS_VERSION, "projectname": PROJECT_NAME})
    sub(root, "title", text=PROJECT_NAME)
    _crs(sub(root, "projectCrs"), crs_wkt)
    tree = sub(root, "layer-tree-group")
    for name in names:
        sub(tree, "layer-tree-layer", {"id": layer_id(name), "name": looks[name].title,
                                       "source": _source(name), "providerKey": "ogr",
                                       "checked": "Qt::Unchecked" if name in HIDDEN else "Qt::Checked",
                                       "expanded": "1"})  # fmt: skip
    order_node = sub(tree, "custom-order", {"enabled": "0"})
    for name in names:
        sub(order_node, "item", text=layer_id(name))
    layers = sub(root, "projectlayers")
    for name in names:
        layers.append(_map_layer(name, looks[name], crs_wkt))
    paths = sub(sub(root, "properties"), "Paths")
    sub(paths, "Absolute", {"type": "bool"}, "false")
    qgs = to_xml(root, QML_DOCTYPE)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as qgz:
        qgz.writestr(f"{PROJECT_NAME}.qgs", qgs)
    return buffer.getvalue()


def _source(name: str) -> str:
    return f"./lifecircle.gpkg|layername={name}"


def layer_id(name: str) -> str:
    """A layer's id in the project: QGIS keeps an id only when it is longer than 10 characters
    (it makes a new one otherwise, and the layer tree then points at nothing)."""
    return f"lifecircle_{name}"


def _crs(parent, wkt: str) -> None:
    ref = sub(parent, "spatialrefsys")
    sub(ref, "wkt", text=wkt)


def _map_layer(name: str, look: LayerLook, crs_wkt: str):
    kind = "Point" if "Point" in look.geometry else "Polygon"
    node = element("maplayer", {"type": "vector", "geometry": kind, "wkbType": look.geometry,
                                "labelsEnabled": "1" if look.style.label_field else "0"})  # fmt: skip
    sub(node, "id", text=layer_id(name))
    sub(node, "datasource", text=_source(name))
    sub(node, "layername", text=look.title)
    _crs(sub(node, "srs"), crs_wkt)
    sub(node, "provider", {"encoding": "UTF-8"}, "ogr")
    node.extend(list(fromstring(look.qml)))  # the QML symbology made: its renderer, labels, fields
    return node
