"""files.export and exportLinks on the fake Drive."""

import io
import zipfile

import pytest

DOC = "application/vnd.google-apps.document"
SHEET = "application/vnd.google-apps.spreadsheet"
SLIDES = "application/vnd.google-apps.presentation"
DRAWING = "application/vnd.google-apps.drawing"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


@pytest.mark.parametrize(
    ("source", "target", "magic"),
    [
        (DOC, DOCX, b"PK\x03\x04"),
        (DOC, "application/pdf", b"%PDF"),
        (DOC, "text/html", b"<html>"),
        (SHEET, XLSX, b"PK\x03\x04"),
        (SHEET, "text/csv", b"a,b"),
        (SHEET, "application/pdf", b"%PDF"),
        (SLIDES, PPTX, b"PK\x03\x04"),
        (SLIDES, "application/pdf", b"%PDF"),
        (SLIDES, "text/plain", b"a,b"),
        (DRAWING, "application/pdf", b"%PDF"),
        (DRAWING, "image/png", b"\x89PNG\r\n\x1a\n"),
    ],
)
async def test_export_formats_have_the_right_magic_and_type(state, alice, source, target, magic):
    """Each supported conversion returns bytes that start like the real format, with its
    Content-Type."""
    fid = state.add_file("native", mime_type=source, content=b"a,b\n1,2\n")

    response = await alice.get(f"/drive/v3/files/{fid}/export", params={"mimeType": target})

    assert 200 == response.status_code
    assert response.content.startswith(magic)
    assert response.headers["content-type"].startswith(target)


async def test_export_is_deterministic_and_a_real_zip(state, alice):
    """Office exports are valid zips and identical on every call."""
    fid = state.add_file("Plan", mime_type=DOC, content=b"Hello <world>\nline two")

    first = (await alice.get(f"/drive/v3/files/{fid}/export", params={"mimeType": DOCX})).content
    second = (await alice.get(f"/drive/v3/files/{fid}/export", params={"mimeType": DOCX})).content

    document = zipfile.ZipFile(io.BytesIO(first)).read("word/document.xml").decode()
    assert first == second
    assert "Hello &lt;world&gt;" in document


async def test_doc_plain_text_export_starts_with_a_bom(state, alice):
    """Google prefixes a Doc's text/plain export with a UTF-8 BOM."""
    fid = state.add_file("Plan", mime_type=DOC, content=b"hello")

    response = await alice.get(f"/drive/v3/files/{fid}/export", params={"mimeType": "text/plain"})

    assert b"\xef\xbb\xbfhello" == response.content


async def test_unsupported_conversion_is_400_bad_request(state, alice):
    """Exporting a Sheet to docx is 400 badRequest."""
    fid = state.add_file("Budget", mime_type=SHEET)

    response = await alice.get(f"/drive/v3/files/{fid}/export", params={"mimeType": DOCX})

    assert (400, "badRequest") == (
        response.status_code,
        response.json()["error"]["errors"][0]["reason"],
    )


@pytest.mark.parametrize("mime", ["text/plain", "application/vnd.google-apps.folder"])
async def test_exporting_a_non_docs_file_is_403_not_exportable(state, alice, mime):
    """Binary files and folders are not exportable: 403 fileNotExportable."""
    fid = state.add_file("x", mime_type=mime)

    response = await alice.get(
        f"/drive/v3/files/{fid}/export", params={"mimeType": "application/pdf"}
    )

    assert (403, "fileNotExportable") == (
        response.status_code,
        response.json()["error"]["errors"][0]["reason"],
    )


async def test_export_needs_mime_type(state, alice):
    """mimeType is a required parameter."""
    fid = state.add_file("Plan", mime_type=DOC)

    response = await alice.get(f"/drive/v3/files/{fid}/export")

    assert (400, "required") == (
        response.status_code,
        response.json()["error"]["errors"][0]["reason"],
    )


async def test_export_over_the_limit_is_403_but_export_links_are_not_capped(state, alice):
    """Over export_limit_bytes files.export fails with exportSizeLimitExceeded; the exportLinks
    URL still serves the file, like Google's workaround."""
    fid = state.add_file("Big", mime_type=DOC, content=b"x" * 200)
    state.export_limit_bytes = 100

    capped = await alice.get(f"/drive/v3/files/{fid}/export", params={"mimeType": "text/plain"})
    link = (await alice.get(f"/drive/v3/files/{fid}", params={"fields": "exportLinks"})).json()[
        "exportLinks"
    ]["text/plain"]
    uncapped = await alice.get(link)

    assert (403, "exportSizeLimitExceeded") == (
        capped.status_code,
        capped.json()["error"]["errors"][0]["reason"],
    )
    assert (200, 203) == (uncapped.status_code, len(uncapped.content))
