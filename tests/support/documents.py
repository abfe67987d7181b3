"""Small files made on the spot for the attachment tests and the extraction benchmark.

`text_pdf` writes a real PDF (one Helvetica text object per line, a cross-reference table) so
the extraction under test reads what a word processor would write; the other helpers make the
hostile files the processor must refuse.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_pdf(pages: list[list[str]], *, compress: bool = True) -> bytes:
    """A PDF with one page per item of `pages`, each a list of text lines."""
    objects: list[bytes] = []
    page_ids = [3 + 2 * i for i in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    for index, lines in enumerate(pages):
        body = ["BT /F1 11 Tf 14 TL 56 790 Td"]
        body += [f"({_escape(line)}) Tj T*" for line in lines]
        body.append("ET")
        stream = "\n".join(body).encode("latin-1")
        extra = ""
        if compress:
            stream = zlib.compress(stream)
            extra = " /Filter /FlateDecode"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources "
            f"<< /Font << /F1 {font_id} 0 R >> >> /Contents {page_ids[index] + 1} 0 R >>".encode()
        )
        objects.append(
            f"<< /Length {len(stream)}{extra} >>\nstream\n".encode() + stream + b"\nendstream"
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body_bytes in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body_bytes + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def long_pdf(page_count: int, lines_per_page: int = 40) -> bytes:
    """A report of `page_count` pages of ordinary prose (the extraction benchmark's input)."""
    pages = [
        [
            f"Page {p + 1}, line {n + 1}: quarterly figures for the northern region rose "
            f"by {(p * 7 + n) % 23} percent."
            for n in range(lines_per_page)
        ]
        for p in range(page_count)
    ]
    return text_pdf(pages)


def encrypted_pdf(text: str = "secret plans") -> bytes:
    """A password-protected PDF (RC4, no password given to the reader)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(text_pdf([[text]]))).pages:
        writer.add_page(page)
    writer.encrypt(user_password="open-sesame", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def malformed_pdf() -> bytes:
    """Starts like a PDF, then is nothing a reader can parse."""
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R\n" + b"\x00garbage" * 50


@cache
def flate_bomb_pdf(expanded_bytes: int = 96 * 1024 * 1024) -> bytes:
    """A one-page PDF whose content stream inflates to `expanded_bytes` of zeros (past the
    processor's 64 MB limit)."""
    block = b"0" * (1024 * 1024)
    packer = zlib.compressobj(9)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = first + again * (expanded_bytes // len(block) - 1) + packer.flush(zlib.Z_FINISH)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
        + stream
        + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


@cache
def zip_bomb(expanded_bytes: int = 128 * 1024 * 1024) -> bytes:
    """A zip archive (what a .docx is) holding one member that inflates to `expanded_bytes`.

    Built in well under a second: the deflate stream of one block of zeros, fully flushed, is
    the same bytes every time, so the member is that stream repeated."""
    block = b"\0" * (1024 * 1024)
    count = expanded_bytes // len(block)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    again = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    stream = first + again * (count - 1) + packer.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    name = b"word/document.xml"
    size = count * len(block)
    zip64 = struct.pack("<HHQQ", 1, 16, size, len(stream))
    local = (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            45,
            0,
            8,
            0,
            0,
            crc,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(name),
            len(zip64),
        )
        + name
        + zip64
    )
    central_extra = struct.pack("<HHQQQ", 1, 24, size, len(stream), 0)
    central = (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            45,
            45,
            0,
            8,
            0,
            0,
            crc,
            0xFFFFFFFF,
            0xFFFFFFFF,
            len(name),
            len(central_extra),
            0,
            0,
            0,
            0,
            0,
        )
        + name
        + central_extra
    )
    body = local + stream
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), len(body), 0)
    return body + central + end


def png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
