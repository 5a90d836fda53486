"""Text in XML: the GeoPackage's styles for QGIS (QML) and for other programs (SLD).

:func:`element` and :func:`sub` are the one door through which text enters an XML document of
the tool: every attribute value and every text node goes through :func:`xml_text` and the tree
is serialised by :mod:`xml.etree.ElementTree`, so escaping (``<``, ``&``, quotes) is structural,
never a string put together by hand. :func:`xml_text` writes control and bidi characters as
their escapes (:func:`spatial.core.messages.visible`, the rule every plain-text output shares)
and so do characters XML 1.0 cannot hold at all (lone surrogates, U+FFFE, U+FFFF): a category
name or an id from the data can neither break the document nor reorder the text after it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from spatial.core.messages import visible

#: characters XML 1.0 forbids that :func:`visible` leaves (it escapes the C0/C1 controls)
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """``value`` as text an XML document can hold and show literally.

    Parameters
    ----------
    value : object
        ``None`` is the empty text.

    Returns
    -------
    str
    """
    line = visible("" if value is None else str(value))
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


def element(tag: str, attrs: dict[str, object] | None = None, text: object = None) -> ET.Element:
    """A new element ``tag`` whose attribute values and text pass :func:`xml_text`.

    Parameters
    ----------
    tag : str
    attrs : dict, optional
    text : object, optional

    Returns
    -------
    xml.etree.ElementTree.Element
    """
    node = ET.Element(tag, {k: xml_text(v) for k, v in (attrs or {}).items()})
    if text is not None:
        node.text = xml_text(text)
    return node


def sub(
    parent: ET.Element, tag: str, attrs: dict[str, object] | None = None, text: object = None
) -> ET.Element:
    """:func:`element` appended to ``parent``; returns the new element."""
    node = element(tag, attrs, text)
    parent.append(node)
    return node


def to_xml(root: ET.Element, doctype: str = "") -> str:
    """The document of ``root`` as text (UTF-8 declared), ``doctype`` line after the
    declaration when given."""
    body = ET.tostring(root, encoding="unicode")
    head = "<?xml version='1.0' encoding='UTF-8'?>\n" + (doctype + "\n" if doctype else "")
    return head + body
