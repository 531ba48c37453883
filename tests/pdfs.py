"""Small PDFs built in code for tests, so no binary fixture hides what a test relies on
(except the one real document, `HANDWRITTEN_FIXTURE`, in tests/fixtures/).

`pdf_with_text` writes the PDF by hand (one Helvetica text block per page, WinAnsi encoding
for French accents): pypdf reads its text layer back exactly, which is all the tests need,
and no PDF-writing library is added for it.
"""

from __future__ import annotations

import functools
import io
import os
import zlib
from pathlib import Path

from pypdf import PdfWriter

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The real scanned exercise sheet (French, handwritten, no text layer), kept in the
# repository so a clone anywhere passes its own tests.
HANDWRITTEN_FIXTURE = FIXTURES / "handwritten-maths-fr.pdf"


def blank_pdf(pages: int) -> bytes:
    """A valid PDF of `pages` A4 pages without any text layer."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _pdf_string(text: str) -> bytes:
    encoded = text.encode("cp1252")
    return b"(" + encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_with_text(pages: list[str]) -> bytes:
    """A PDF whose page i shows `pages[i]`, one line per newline of the text."""
    return _pdf_file(_text_objects(pages))


def pdf_of_size(pages: list[str], size_bytes: int) -> bytes:
    """`pdf_with_text(pages)` padded to exactly `size_bytes` with an unreferenced stream of
    random bytes (incompressible, drawn by no page): an upload at the size limit that the
    gate still opens in a moment."""
    objects = _text_objects(pages)
    padding = 0
    for _ in range(3):  # the stream's /Length digits shift the size: converge
        candidate = _pdf_file([*objects, _padding_stream(padding)])
        padding += size_bytes - len(candidate)
    candidate = _pdf_file([*objects, _padding_stream(padding)])
    if padding < 0 or len(candidate) != size_bytes:
        raise ValueError(f"cannot build a PDF of {size_bytes} bytes from these pages")
    return candidate


def _padding_stream(size: int) -> bytes:
    length = max(size, 0)
    return f"<< /Length {length} >>\nstream\n".encode() + os.urandom(length) + b"\nendstream"


def _text_objects(pages: list[str]) -> list[bytes]:
    objects: list[bytes] = []
    page_count = len(pages)
    # 1: catalog, 2: pages tree, 3: font, then (page, content) pairs.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(page_count))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode())
    objects.append(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    )
    for index, text in enumerate(pages):
        lines = [b"BT /F1 12 Tf 14 TL 72 770 Td"]
        for line in text.split("\n"):
            lines.append(_pdf_string(line) + b" Tj T*")
        lines.append(b"ET")
        stream = b"\n".join(lines)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * index} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    return objects


def _pdf_file(objects: list[bytes]) -> bytes:
    """Objects numbered from 1 (the catalog first), with their cross-reference table."""
    output = io.BytesIO()
    output.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(output.tell())
        output.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref_at = output.tell()
    output.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        output.write(f"{offset:010d} 00000 n \n".encode())
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
    output.write(trailer.encode())
    return output.getvalue()


@functools.cache
def flate_bomb_pdf(inflated_bytes: int = 300_000_000, pages: int = 1) -> bytes:
    """A PDF of about 1 KB whose content stream inflates to `inflated_bytes` bytes; its
    `pages` pages all draw that same stream.

    The stream is b"0" * inflated_bytes compressed twice (/Filter [/FlateDecode /FlateDecode]):
    once streamed through a compressobj in 1 MiB chunks, so building it never holds the
    inflated bytes (about 1 s for 300 MB), then again, which shrinks the first ~290 KB to
    under 1 KB.
    """
    compressor = zlib.compressobj(9)
    zeros = b"0" * (1 << 20)
    once = bytearray()
    for start in range(0, inflated_bytes, len(zeros)):
        once += compressor.compress(zeros[: min(len(zeros), inflated_bytes - start)])
    once += compressor.flush()
    stream = zlib.compress(bytes(once), 9)
    # 1: catalog, 2: pages tree, 3: font, 4: the bomb, then one page object per page.
    kids = " ".join(f"{5 + index} 0 R" for index in range(pages))
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    )
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            f"<< /Length {len(stream)} /Filter [/FlateDecode /FlateDecode] >>\nstream\n".encode()
            + stream
            + b"\nendstream",
            *[page] * pages,
        ]
    )


def encrypted_pdf() -> bytes:
    """A one-page PDF protected by a user password."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_only_pdf(pdf: bytes, *, dpi: int = 300) -> bytes:
    """`pdf` as a scan would give it: each page rendered to a grey picture, no text layer."""
    # Imported here: most tests need no renderer.
    from latexocr.engines.page_images import PdfPageImages

    with PdfPageImages(pdf) as document:
        images = list(document.pages(dpi=dpi, grey=True))
    buffer = io.BytesIO()
    images[0].save(buffer, format="PDF", resolution=dpi, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def pdf_with_lines(lines: list[tuple[str, float, float, float]]) -> bytes:
    """A one-page PDF drawing each (text, font size, x, y) line where it says (Helvetica)."""
    commands = [
        b"BT /F1 %.1f Tf 1 0 0 1 %.1f %.1f Tm " % (size, x, y) + _pdf_string(text) + b" Tj ET"
        for text, size, x, y in lines
    ]
    stream = b"\n".join(commands)
    return _pdf_file(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
            f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream",
        ]
    )
