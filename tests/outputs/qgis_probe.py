"""Open a GeoPackage of the tool in QGIS, headless, and say what QGIS sees: run by
``tests/outputs/test_gpkg_qgis.py`` with QGIS's own Python (Debian's ``python3-qgis`` binds the
system ``/usr/bin/python3``, not the project's virtual environment).

``python3 qgis_probe.py GPKG OUT_DIR``: loads each layer with its default style from the file
(``layer_styles``), reads the QGIS project stored in it, renders the project's shown layers to
``OUT_DIR/project.png`` and the communities alone to ``OUT_DIR/communities.png``, and prints
a JSON report (renderer type and classes, field aliases and widgets per layer; the project's
layer order and ticked layers).
"""

import json
import os
import sqlite3
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsProject,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QSize  # noqa: E402
from qgis.PyQt.QtGui import QColor  # noqa: E402


def classes(renderer):
    """(value or filter, legend label, colour) of each class of ``renderer``."""
    kind = renderer.type()
    if kind == "categorizedSymbol":
        return [
            [str(c.value()), c.label(), c.symbol().color().name()] for c in renderer.categories()
        ]
    if kind == "RuleRenderer":
        return [
            [r.filterExpression(), r.label(), r.symbol().color().name()]
            for r in renderer.rootRule().children()
        ]
    return [[None, "", renderer.symbol().color().name()]]


def describe(layer):
    """What QGIS made of a layer and its default style."""
    fields = layer.fields()
    return {
        "valid": layer.isValid(),
        "geometry": QgsWkbTypes.displayString(layer.wkbType()),
        "features": layer.featureCount(),
        "renderer": layer.renderer().type() if layer.renderer() else None,
        "classes": classes(layer.renderer()) if layer.renderer() else [],
        "labels": layer.labelsEnabled(),
        "aliases": {f.name(): layer.attributeAlias(i) for i, f in enumerate(fields)},
        "widgets": {
            f.name(): [layer.editorWidgetSetup(i).type(), layer.editorWidgetSetup(i).config()]
            for i, f in enumerate(fields)
            if layer.editorWidgetSetup(i).type() == "ValueMap"
        },
    }


def render(layers, extent, path):
    """Render ``layers`` (top first) over ``extent`` to a 1200 × 900 PNG on white."""
    settings = QgsMapSettings()
    settings.setLayers(layers)
    settings.setDestinationCrs(layers[-1].crs())
    settings.setOutputSize(QSize(1200, 900))
    settings.setBackgroundColor(QColor("white"))
    settings.setExtent(extent)
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage().save(path)


def main(gpkg, out):
    """Probe ``gpkg``; write the PNGs into ``out``; print the report."""
    app = QgsApplication([], False)
    app.initQgis()
    with sqlite3.connect(gpkg) as db:
        names = [r[0] for r in db.execute("SELECT f_table_name FROM layer_styles ORDER BY id")]
    report = {"layers": {}}
    opened = []
    for name in names:
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", name, "ogr")
        opened.append(layer)
        report["layers"][name] = describe(layer)
        if name == "communities":
            report["communities_png"] = render(
                [layer], layer.extent(), os.path.join(out, "communities.png")
            )
    project = QgsProject.instance()
    report["project_read"] = project.read(f"geopackage:{gpkg}?projectName=lifecircle")
    root = project.layerTreeRoot()
    table = {lyr.id(): lyr.source().split("layername=")[-1] for lyr in project.mapLayers().values()}
    nodes = root.findLayers()
    report["project_tree"] = [table.get(node.layerId()) for node in nodes]  # None: a lost layer
    report["project_order"] = [table[lyr.id()] for lyr in root.layerOrder()]
    report["project_names"] = [node.name() for node in nodes]
    report["project_ticked"] = [table.get(node.layerId()) for node in nodes if node.isVisible()]
    report["project_valid"] = {table[i]: lyr.isValid() for i, lyr in project.mapLayers().items()}
    shown = [lyr for lyr in root.layerOrder() if root.findLayer(lyr.id()).isVisible()]
    if shown:
        report["project_png"] = render(shown, shown[-1].extent(), os.path.join(out, "project.png"))
    print(json.dumps(report, ensure_ascii=False), flush=True)
    project.clear()  # before QGIS exits: a layer still alive then crashes the exit
    del opened, layer, shown
    app.exitQgis()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
