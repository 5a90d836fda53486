"""The GeoPackage's layer styles: how each layer of ``lifecircle.gpkg`` opens in QGIS (QML) and in
programs that read OGC styles (SLD), drawn as the tool's own maps draw it.

Colours and legend rows come from :mod:`spatial.outputs.style` (the palette of the HTML and print
maps), words from the message catalogue in the run's language. A style is first a small
description (:class:`Sym`, :class:`Style`): one symbol, categories of a field, or rules; both
formats are written from it (:func:`qml`, :func:`sld`), so QGIS and an SLD reader show the same
classes. Text from the data (a category's name, a value) enters the XML only through
:mod:`spatial.text.xml`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from xml.etree.ElementTree import Element

from spatial.text.xml import element, sub, to_xml

QGIS_VERSION = "3.22.16-Białowieża"  # the oldest QGIS the styles are checked with (Debian 12)
QML_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"


@dataclass(frozen=True)
class Sym:
    """One symbol: a fill (polygons) or a marker (points).

    Attributes
    ----------
    kind : str
        ``fill`` or ``marker``.
    fill : str or None
        ``#rrggbb``, None for no fill.
    fill_alpha : float
    stroke : str or None
        Outline colour, None for no outline.
    width : float
        Outline width, mm.
    dash : bool
        Dashed outline.
    size : float
        Marker diameter, mm.
    outside_m : float
        Draw the polygon this many metres outside the feature (the bundles' line around their
        members, :data:`spatial.outputs.style.BUNDLE_OFFSET_M`): a QGIS geometry generator
        ``buffer($geometry, …)`` in the layer's metric coordinates; SLD draws the outline itself.
    """

    kind: str = "fill"
    fill: str | None = None
    fill_alpha: float = 1.0
    stroke: str | None = "#333333"
    width: float = 0.26
    dash: bool = False
    size: float = 2.4
    outside_m: float = 0.0


@dataclass(frozen=True)
class Style:
    """A layer's look: ``single`` (one symbol), ``categories`` (one symbol per value of
    ``field``) or ``rules`` (each of ``classes`` drawn where its filter holds; every rule that
    holds is drawn, so a fill rule and an outline rule combine).

    Attributes
    ----------
    mode : str
    classes : list of tuple
        ``(value_or_filter, legend label, Sym)``; a filter is ``(op, field, value)`` with ``op``
        one of ``eq``, ``ge``, ``in`` (value a tuple), written by the tool, never from data.
    field : str
        The field of ``categories``.
    label_field : str
        The field labelled on the map ('' for none).
    label_colour : str
    """

    mode: str
    classes: list[tuple]
    field: str = ""
    label_field: str = ""
    label_colour: str = "#000000"


def rgba(colour: str | None, alpha: float = 1.0) -> str:
    """``#rrggbb`` as QGIS writes a colour, ``"r,g,b,a"`` (fully transparent for None)."""
    if colour is None:
        return "0,0,0,0"
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{round(alpha * 255)}"


# -- QML (QGIS) ---------------------------------------------------------------------------


def _props(sym: Sym) -> tuple[str, dict[str, str]]:
    stroke = {
        "outline_color": rgba(sym.stroke),
        "outline_style": "no" if sym.stroke is None else ("dash" if sym.dash else "solid"),
        "outline_width": f"{sym.width:g}",
        "outline_width_unit": "MM",
        "joinstyle": "round",
    }
    if sym.kind == "marker":
        return "SimpleMarker", {
            "name": "circle",
            "color": rgba(sym.fill, sym.fill_alpha),
            "size": f"{sym.size:g}",
            "size_unit": "MM",
            **stroke,
        }
    return "SimpleFill", {
        "color": rgba(sym.fill, sym.fill_alpha),
        "style": "no" if sym.fill is None else "solid",
        **stroke,
    }


def _symbol(sym: Sym, name: str) -> Element:
    node = element(
        "symbol",
        {"type": sym.kind, "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    if sym.outside_m > 0:
        generator = {
            "SymbolType": "Fill",
            "geometryModifier": f"buffer($geometry, {sym.outside_m:g})",
        }
        outer = _layer(node, "GeometryGenerator", generator)
        outer.append(_symbol(replace(sym, outside_m=0.0), f"@{name}@0"))
        return node
    _layer(node, *_props(sym))
    return node


def _layer(symbol: Element, cls: str, props: dict[str, str]) -> Element:
    """A symbol layer of ``cls`` with ``props``, appended to ``symbol``."""
    layer = sub(symbol, "layer", {"class": cls, "enabled": "1", "locked": "0", "pass": "0"})
    options = sub(layer, "Option", {"type": "Map"})  # QGIS 3.26 and later
    for key, value in props.items():
        sub(options, "Option", {"type": "QString", "name": key, "value": value})
    for key, value in props.items():  # QGIS 3.22 reads these
        sub(layer, "prop", {"k": key, "v": value})
    return layer


def expression(rule: tuple) -> str:
    """A rule's filter as a QGIS expression: ``("ge", "gaps", 4)`` → ``"gaps" >= 4``."""
    op, name, value = rule

    def lit(v: object) -> str:
        return str(v) if isinstance(v, int | float) else "'" + str(v).replace("'", "''") + "'"

    column = '"' + name.replace('"', '""') + '"'
    if op == "in":
        return f"{column} IN ({', '.join(lit(v) for v in value)})"
    return f"{column} {'>=' if op == 'ge' else '='} {lit(value)}"


def _renderer(style: Style) -> Element:
    kinds = {"single": "singleSymbol", "categories": "categorizedSymbol", "rules": "RuleRenderer"}
    attrs = {"type": kinds[style.mode], "symbollevels": "0", "forceraster": "0"}
    node = element("renderer-v2", attrs | ({"attr": style.field} if style.field else {}))
    if style.mode == "categories":
        cats = sub(node, "categories")
        for k, (value, label, _) in enumerate(style.classes):
            sub(cats, "category", {"value": value, "label": label, "symbol": k, "render": "true"})
    elif style.mode == "rules":
        rules = sub(node, "rules", {"key": "root"})
        for k, (rule, label, _) in enumerate(style.classes):
            sub(rules, "rule", {"key": f"r{k}", "filter": expression(rule), "label": label,
                                "symbol": k})  # fmt: skip
    symbols = sub(node, "symbols")
    for k, (_, _, sym) in enumerate(style.classes):
        symbols.append(_symbol(sym, str(k)))
    return node


def _labeling(style: Style) -> Element:
    node = element("labeling", {"type": "simple"})
    settings = sub(node, "settings", {"calloutType": "simple"})
    sub(settings, "text-style", {"fieldName": style.label_field, "isExpression": "0",
                                 "fontSize": "9", "fontSizeUnit": "Point", "fontWeight": "75",
                                 "textColor": rgba(style.label_colour)})  # fmt: skip
    sub(settings, "text-buffer", {"bufferDraw": "1", "bufferSize": "0.8",
                                  "bufferSizeUnits": "MM", "bufferColor": "255,255,255,255"})  # fmt: skip
    sub(settings, "placement", {"placement": "1", "centroidInside": "1"})
    sub(settings, "rendering", {"obstacle": "1", "displayAll": "0"})
    return node


def _fields(columns: list[str], titles: dict[str, str], words: dict[str, dict]) -> list[Element]:
    """``<fieldConfiguration>`` (code values shown by their words: a ValueMap per coded field)
    and ``<aliases>`` (every field's title)."""
    config = element("fieldConfiguration")
    for name in columns:
        node = sub(config, "field", {"name": name, "configurationFlags": "None"})
        if name not in words:
            continue
        widget = sub(node, "editWidget", {"type": "ValueMap"})
        pairs = sub(sub(sub(widget, "config"), "Option", {"type": "Map"}), "Option",
                    {"type": "List", "name": "map"})  # fmt: skip
        for code, word in words[name].items():
            item = sub(pairs, "Option", {"type": "Map"})
            sub(item, "Option", {"type": "QString", "name": word, "value": code})
    aliases = element("aliases")
    for k, name in enumerate(columns):
        sub(aliases, "alias", {"field": name, "index": k, "name": titles.get(name, "")})
    return [config, aliases]


def qml(style: Style, columns: list[str], titles: dict[str, str], words: dict[str, dict]) -> str:
    """The QML document of a layer: its renderer, labels, field titles and value words.

    Parameters
    ----------
    style : Style
    columns : list of str
        The layer's fields, in order (the geometry column left out).
    titles : dict
        Field → title.
    words : dict
        Field → {code: word} for the fields that hold codes.

    Returns
    -------
    str
    """
    root = element("qgis", {"version": QGIS_VERSION, "styleCategories": "AllStyleCategories",
                            "labelsEnabled": "1" if style.label_field else "0",
                            "hasScaleBasedVisibilityFlag": "0", "minScale": "0", "maxScale": "0"})  # fmt: skip
    root.append(_renderer(style))
    if style.label_field:
        root.append(_labeling(style))
    root.extend(_fields(columns, titles, words))
    sub(root, "layerOpacity", text="1")
    return to_xml(root, QML_DOCTYPE)


# -- SLD (OGC Styled Layer Descriptor 1.1 / Symbology Encoding) -----------------------------

_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"


def _sld_filter(rule: tuple) -> Element:
    op, name, value = rule
    node = element("ogc:Filter")
    if op == "in":
        parent = sub(node, "ogc:Or") if len(value) > 1 else node
        for v in value:
            cmp = sub(parent, "ogc:PropertyIsEqualTo")
            sub(cmp, "ogc:PropertyName", text=name)
            sub(cmp, "ogc:Literal", text=v)
        return node
    tag = "ogc:PropertyIsGreaterThanOrEqualTo" if op == "ge" else "ogc:PropertyIsEqualTo"
    cmp = sub(node, tag)
    sub(cmp, "ogc:PropertyName", text=name)
    sub(cmp, "ogc:Literal", text=value)
    return node


def _css(parent: Element, tag: str, params: dict[str, str]) -> None:
    node = sub(parent, tag)
    for key, value in params.items():
        sub(node, "se:SvgParameter", {"name": key}, value)


def _symbolizer(sym: Sym) -> Element:
    px = f"{sym.width * 96 / 25.4:.1f}"  # SLD sizes are pixels (0.28 mm)
    stroke = {"stroke": sym.stroke or "#000000", "stroke-width": px}
    if sym.dash:
        stroke["stroke-dasharray"] = "6 4"
    if sym.kind == "marker":
        node = element("se:PointSymbolizer")
        graphic = sub(node, "se:Graphic")
        mark = sub(graphic, "se:Mark")
        sub(mark, "se:WellKnownName", text="circle")
        _css(mark, "se:Fill", {"fill": sym.fill or "#000000"})
        _css(mark, "se:Stroke", stroke)
        sub(graphic, "se:Size", text=f"{sym.size * 96 / 25.4:.0f}")
        return node
    node = element("se:PolygonSymbolizer")
    if sym.fill is not None:
        _css(node, "se:Fill", {"fill": sym.fill, "fill-opacity": f"{sym.fill_alpha:g}"})
    if sym.stroke is not None:
        _css(node, "se:Stroke", stroke)
    return node


def sld(style: Style, layer: str, title: str) -> str:
    """The SLD document of a layer, the same classes as its QML.

    Parameters
    ----------
    style : Style
    layer : str
        The layer's table name.
    title : str
        Its title (the legend's heading).

    Returns
    -------
    str
    """
    root = element("StyledLayerDescriptor", {"version": "1.1.0", "xmlns": _SLD, "xmlns:se": _SE,
                                             "xmlns:ogc": _OGC})  # fmt: skip
    named = sub(root, "NamedLayer")
    sub(named, "se:Name", text=layer)
    user = sub(named, "UserStyle")
    sub(sub(user, "se:Description"), "se:Title", text=title)
    fts = sub(user, "se:FeatureTypeStyle")
    for value, label, sym in style.classes:
        rule = sub(fts, "se:Rule")
        sub(rule, "se:Name", text=label)
        sub(sub(rule, "se:Description"), "se:Title", text=label)
        if style.mode == "categories":
            rule.append(_sld_filter(("eq", style.field, value)))
        elif style.mode == "rules":
            rule.append(_sld_filter(value))
        rule.append(_symbolizer(sym))
    return to_xml(root)
