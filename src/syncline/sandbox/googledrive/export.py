"""Export of Google-native files: which conversions exist, and deterministic, well-formed bytes.

The bytes are small but real containers (a zip for Office/ODF, a one-page PDF, a PNG), so
a connector that sniffs or parses exports sees what it would from Google.
"""

from __future__ import annotations

import csv
import html
import io
import struct
import zipfile
import zlib
from collections.abc import Callable

__all__ = ["EXPORT_FORMATS", "export_bytes"]

_DOC = "application/vnd.google-apps.document"
_SHEET = "application/vnd.google-apps.spreadsheet"
_SLIDES = "application/vnd.google-apps.presentation"
_DRAWING = "application/vnd.google-apps.drawing"

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/x-vnd.oasis.opendocument.spreadsheet"
_ODP = "application/vnd.oasis.opendocument.presentation"
_PDF = "application/pdf"

EXPORT_FORMATS: dict[str, dict[str, str]] = {
    _DOC: {
        _DOCX: "docx",
        _ODT: "odt",
        "application/rtf": "rtf",
        _PDF: "pdf",
        "text/plain": "txt",
        "text/html": "html",
        "text/markdown": "md",
    },
    _SHEET: {
        _XLSX: "xlsx",
        _ODS: "ods",
        _PDF: "pdf",
        "text/csv": "csv",
        "text/tab-separated-values": "tsv",
    },
    _SLIDES: {_PPTX: "pptx", _ODP: "odp", _PDF: "pdf", "text/plain": "txt"},
    _DRAWING: {_PDF: "pdf", "image/png": "png", "image/svg+xml": "svg"},
}
"""Source Google type -> {target MIME type: the `exportFormat` name used in exportLinks}."""


def export_bytes(source_mime: str, target_mime: str, text: str) -> bytes:
    """Convert a native file whose content is `text` (CSV for Sheets) to `target_mime`.

    Raises:
        KeyError: the conversion is not one `EXPORT_FORMATS` lists.
    """
    ext = EXPORT_FORMATS[source_mime][target_mime]
    data = _BUILDERS[ext](text)
    if source_mime == _DOC and ext == "txt":
        data = b"\xef\xbb\xbf" + data  # Google's plain-text export of a Doc starts with a BOM
    return data


def _zip(parts: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in parts:
            # A fixed timestamp keeps exports byte-identical across runs. ODF wants its
            # `mimetype` member first and uncompressed.
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def _content_types(main: str, part: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{part}" ContentType="{main}"/></Types>'
    ).encode()


def _rels(part: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'relationships/officeDocument" Target="{part}"/></Relationships>'
    ).encode()


def _ooxml(main_type: str, part: str, xml: str) -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", _content_types(main_type, part)),
            ("_rels/.rels", _rels(part)),
            (part, ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + xml).encode()),
        ]
    )


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _docx(text: str) -> bytes:
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{html.escape(line)}</w:t></w:r></w:p>'
        for line in text.splitlines()
    )
    xml = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body}</w:body></w:document>"
    )
    return _ooxml(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "word/document.xml",
        xml,
    )


def _xlsx(text: str) -> bytes:
    rows = "".join(
        "<row>"
        + "".join(f'<c t="inlineStr"><is><t>{html.escape(cell)}</t></is></c>' for cell in row)
        + "</row>"
        for row in _rows(text)
    )
    xml = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    )
    return _ooxml(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
        "xl/worksheets/sheet1.xml",
        xml,
    )


def _pptx(text: str) -> bytes:
    paras = "".join(
        f"<a:p><a:r><a:t>{html.escape(line)}</a:t></a:r></a:p>" for line in text.splitlines()
    )
    xml = (
        '<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        f"<p:cSld><p:spTree><p:sp><p:txBody>{paras}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>"
    )
    return _ooxml(
        "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
        "ppt/slides/slide1.xml",
        xml,
    )


def _odf(mime: str) -> Callable[[str], bytes]:
    def build(text: str) -> bytes:
        paras = "".join(f"<text:p>{html.escape(line)}</text:p>" for line in text.splitlines())
        content = (
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
            'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
            f"<office:body>{paras}</office:body></office:document-content>"
        )
        return _zip([("mimetype", mime.encode()), ("content.xml", content.encode())])

    return build


def _pdf(text: str) -> bytes:
    def escape(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    lines = text.splitlines()[:60]
    shown = " ".join(f"({escape(line)}) '" for line in lines)
    stream = f"BT /F1 11 Tf 72 740 Td 13 TL {shown} ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def _png(_text: str) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1 RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _svg(text: str) -> bytes:
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="40">'
        f'<text x="4" y="24">{html.escape(text.splitlines()[0] if text else "")}</text></svg>'
    ).encode()


def _html(text: str) -> bytes:
    paras = "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines())
    return f'<html><head><meta charset="utf-8"></head><body>{paras}</body></html>'.encode()


def _rtf(text: str) -> bytes:
    body = "\\par ".join(
        line.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}")
        for line in text.splitlines()
    )
    return ("{\\rtf1\\ansi " + body + "}").encode("latin-1", "replace")


def _tsv(text: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\n").writerows(_rows(text))
    return out.getvalue().encode()


_BUILDERS: dict[str, Callable[[str], bytes]] = {
    "docx": _docx,
    "xlsx": _xlsx,
    "pptx": _pptx,
    "odt": _odf(_ODT),
    "ods": _odf("application/vnd.oasis.opendocument.spreadsheet"),
    "odp": _odf(_ODP),
    "pdf": _pdf,
    "png": _png,
    "svg": _svg,
    "html": _html,
    "rtf": _rtf,
    "tsv": _tsv,
    "txt": str.encode,
    "md": str.encode,
    "csv": str.encode,
}
