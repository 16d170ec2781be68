"""FHIR XML in: the XML form of a resource or Bundle, read into the JSON shape the FHIR reader
takes, following the FHIR XML ↔ JSON rules (``value`` attributes are primitives, a nested
resource is an element named after its type, ``id`` and ``url`` attributes are kept).

Without the resource definitions, whether an element repeats is known only where it does; the
elements the reader walks as lists are made lists always, and the reader accepts one item
where FHIR has a list anyway. Narrative (``text/div``) and extensions are dropped: nothing
here uses them. Parsed with the standard library's ElementTree, which resolves no external
entities.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from ..errors import DataError
from .jsonin import MAX_DEPTH

FHIR_NS = "http://hl7.org/fhir"
_NS = "{" + FHIR_NS + "}"
# Elements that repeat in the resources pars-docs reads, so a single one is still a list.
LISTS = {
    "entry", "link", "participant", "identifier", "name", "given", "prefix", "suffix",
    "coding", "contained", "serviceType", "basedOn", "reasonCode", "note", "appointment",
    "telecom", "address", "line", "specialty", "profile", "category", "author", "content",
}  # fmt: skip
# Elements holding a resource: the child element is the resource, named by its type.
RESOURCE_HOLDERS = {"resource", "contained"}
SKIPPED = {"extension", "modifierExtension"}


def _local(tag: str) -> str | None:
    return tag[len(_NS) :] if tag.startswith(_NS) else None


def _resource(element: ET.Element) -> dict[str, Any]:
    kind = _local(element.tag)
    result: dict[str, Any] = {"resourceType": kind}
    result.update(_children(element))
    return result


def _children(element: ET.Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        if name is None or name in SKIPPED:
            continue
        if name == "text" and "value" not in child.attrib:
            continue  # a resource's narrative, not a CodeableConcept's or a name's text
        if name in RESOURCE_HOLDERS:
            inner = [c for c in child if _local(c.tag)]
            if not inner:
                continue
            value: Any = _resource(inner[0])
        elif "value" in child.attrib and not len(child):
            value = child.attrib["value"]
        else:
            value = _children(child)
            if "value" in child.attrib:
                value["value"] = child.attrib["value"]
            if "url" in child.attrib:
                value["url"] = child.attrib["url"]
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = [value] if name in LISTS else value
    if "id" in element.attrib and "id" not in out:
        out["id"] = element.attrib["id"]
    return out


def _depth(root: ET.Element) -> int:
    """How deeply elements nest under ``root`` (walked without recursion)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in element)
    return deepest


def read_xml(text: str, label: str) -> dict[str, Any]:
    """The resource or Bundle in ``text`` (FHIR XML) as FHIR JSON would hold it."""
    try:
        root = ET.fromstring(text.lstrip("\ufeff").strip())
    except ET.ParseError as e:
        raise DataError(f"{label}: not well-formed XML ({e})", field="input") from e
    if _depth(root) > MAX_DEPTH:
        raise DataError(f"{label}: nested more than {MAX_DEPTH} levels deep", field="input")
    if _local(root.tag) is None:
        raise DataError(
            f"{label}: XML that is not FHIR (its root element is not in the {FHIR_NS} namespace)",
            field="input",
        )
    return _resource(root)
