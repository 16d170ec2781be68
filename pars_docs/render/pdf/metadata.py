"""Document-level entries of an accessible (PDF/UA-1) and, on request, archival (PDF/A-2)
PDF: the XMP metadata packet, the document information dictionary it must agree with, the
viewer preference that shows the title, and PDF/A's output intent with its sRGB profile.

Dates come from ReportLab's own time stamp, so the XMP dates equal the information
dictionary's and stay fixed under ``SOURCE_DATE_EPOCH``.
"""

from __future__ import annotations

import math
import struct
from functools import cache
from typing import Any

from reportlab.pdfbase.pdfdoc import (
    XMP,
    PDFArray,
    PDFCatalog,
    PDFDate,
    PDFDictionary,
    PDFDocument,
    PDFInfo,
    PDFName,
    PDFStream,
    PDFString,
)

from ...compose.markup import escape
from .flowables import document_timestamp

PDFA_PART, PDFA_CONFORMANCE = 2, "B"
SRGB = "sRGB IEC61966-2.1"


def finish(doc: Any, lang: str | None, pdfa: bool = False) -> None:
    """Give ``doc`` its XMP metadata and ``DisplayDocTitle``, an information dictionary
    without empty entries, and with ``pdfa`` the PDF/A-2 output intent."""
    doc.info.__class__ = _Info
    viewer = PDFDictionary({"DisplayDocTitle": "true"})
    doc.Catalog.ViewerPreferences = viewer
    doc.Catalog.Metadata = XMP(creator=lambda d: xmp_packet(d, lang, pdfa).encode("utf-8"))
    if pdfa:
        doc.Catalog.__class__ = _ArchivalCatalog
        doc.Catalog.OutputIntents = PDFArray([_output_intent(doc)])


def xmp_packet(doc: Any, lang: str | None, pdfa: bool) -> str:
    """The XMP packet: Dublin Core, XMP basic and PDF properties equal to the information
    dictionary's, the PDF/UA identification and, with ``pdfa``, the PDF/A one."""
    info = doc.info
    stamp = document_timestamp(doc)
    year, month, day, hour, minute, second = stamp.YMDhms
    offset = f"{'+' if stamp.dhh >= 0 else '-'}{abs(stamp.dhh):02d}:{stamp.dmm:02d}"
    when = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}{offset}"
    languages = (
        f"<dc:language><rdf:Bag><rdf:li>{escape(lang or '')}</rdf:li></rdf:Bag></dc:language>"
    )
    fields = [
        "<dc:format>application/pdf</dc:format>",
        _alt("dc:title", info.title),
        f"<dc:creator><rdf:Seq><rdf:li>{escape(info.author)}</rdf:li></rdf:Seq></dc:creator>",
        languages if lang else "",
        _alt("dc:description", info.subject) if info.subject else "",
        f"<pdf:Keywords>{escape(info.keywords)}</pdf:Keywords>" if info.keywords else "",
        f"<pdf:Producer>{escape(info.producer)}</pdf:Producer>",
        f"<xmp:CreatorTool>{escape(info.creator)}</xmp:CreatorTool>",
        f"<xmp:CreateDate>{when}</xmp:CreateDate>",
        f"<xmp:ModifyDate>{when}</xmp:ModifyDate>",
        f"<xmp:MetadataDate>{when}</xmp:MetadataDate>",
        "<pdfuaid:part>1</pdfuaid:part>",
    ]
    if pdfa:
        fields += [
            f"<pdfaid:part>{PDFA_PART}</pdfaid:part>",
            f"<pdfaid:conformance>{PDFA_CONFORMANCE}</pdfaid:conformance>",
            _PDFUA_SCHEMA,  # PDF/A wants every schema outside its own list described
        ]
    body = "\n".join(f"   {field}" for field in fields if field)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about=""\n'
        '    xmlns:dc="http://purl.org/dc/elements/1.1/"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/"\n'
        '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"\n'
        '    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"\n'
        '    xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/"\n'
        '    xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/"\n'
        '    xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#"\n'
        '    xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">\n'
        f"{body}\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def _alt(name: str, text: str) -> str:
    return (
        f'<{name}><rdf:Alt><rdf:li xml:lang="x-default">{escape(text)}</rdf:li></rdf:Alt></{name}>'
    )


_PDFUA_SCHEMA = """<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
    <pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
    <pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
    <pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
    <pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
     <pdfaProperty:name>part</pdfaProperty:name>
     <pdfaProperty:valueType>Integer</pdfaProperty:valueType>
     <pdfaProperty:category>internal</pdfaProperty:category>
     <pdfaProperty:description>Indicates, which part of ISO 14289 standard is followed\
</pdfaProperty:description>
    </rdf:li></rdf:Seq></pdfaSchema:property>
   </rdf:li></rdf:Bag></pdfaExtension:schemas>"""


class _Info(PDFInfo):
    """The information dictionary without the entries pars-docs leaves empty (subject,
    keywords) or that have no XMP counterpart (trapping), so the two always agree."""

    def format(self, document: Any) -> bytes:
        entries: dict[str, Any] = {
            "Title": PDFString(self.title),
            "Author": PDFString(self.author),
            "Creator": PDFString(self.creator),
            "Producer": PDFString(self.producer),
        }
        if self.subject:
            entries["Subject"] = PDFString(self.subject)
        if self.keywords:
            entries["Keywords"] = PDFString(self.keywords)
        entries["CreationDate"] = entries["ModDate"] = PDFDate(ts=document_timestamp(document))
        return PDFDictionary(entries).format(document)


class _ArchivalCatalog(PDFCatalog):
    """A catalog that also writes ``/OutputIntents`` (PDF/A)."""

    __NoDefault__ = [*PDFCatalog.__NoDefault__, "OutputIntents"]


def _output_intent(doc: PDFDocument) -> PDFDictionary:
    profile = PDFStream(PDFDictionary({"N": 3}), srgb_profile())
    return PDFDictionary(
        {
            "Type": PDFName("OutputIntent"),
            "S": PDFName("GTS_PDFA1"),
            "OutputConditionIdentifier": PDFString(SRGB),
            "Info": PDFString(SRGB),
            "DestOutputProfile": doc.Reference(profile, "OutputProfile"),
        }
    )


@cache
def srgb_profile() -> bytes:
    """An ICC version 2 display profile for sRGB (IEC 61966-2.1), made here rather than
    downloaded or read from the system, and the same bytes every time.

    Primaries and white are the standard profile's D50-adapted colorants; each channel's
    tone curve is the sRGB transfer function sampled at 1024 points.
    """

    def s15(value: float) -> bytes:
        return struct.pack(">i", round(value * 65536))

    def xyz(x: float, y: float, z: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(x) + s15(y) + s15(z)

    def linear(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else math.pow((v + 0.055) / 1.055, 2.4)

    samples = [round(linear(i / 1023) * 65535) for i in range(1024)]
    curve = b"curv\0\0\0\0" + struct.pack(">I", len(samples)) + struct.pack(">1024H", *samples)
    name = SRGB.encode("ascii") + b"\0"
    desc = (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(name))
        + name
        + struct.pack(">II", 0, 0)  # no Unicode description
        + struct.pack(">HB", 0, 0)
        + bytes(67)  # no Macintosh description
    )
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0No copyright, use freely\0"),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.4360747, 0.2225045, 0.0139322)),
        (b"gXYZ", xyz(0.3850649, 0.7168786, 0.0971045)),
        (b"bXYZ", xyz(0.1430804, 0.0606169, 0.7141733)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table = struct.pack(">I", len(tags))
    data = b""
    placed: dict[bytes, int] = {}
    for signature, body in tags:
        if body not in placed:  # the three tone curves share one copy
            placed[body] = offset + len(data)
            data += body + bytes(-len(body) % 4)
        table += signature + struct.pack(">II", placed[body], len(body))
    size = offset + len(data)
    header = (
        struct.pack(">II", size, 0)
        + bytes([2, 0x10, 0, 0])  # version 2.1
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8)  # platform, flags, manufacturer, model, attributes
        + struct.pack(">I", 0)  # perceptual intent
        + s15(0.9642)
        + s15(1.0)
        + s15(0.8249)
        + bytes(4 + 16 + 28)  # creator, profile ID, reserved
    )
    assert len(header) == 128
    return header + table + data
