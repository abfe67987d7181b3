"""What an uploaded file really is, and the text a model may read from it.

Nothing here trusts the file's name or the type the browser declared: the type is read from the
bytes (`sniff`), must be the one declared, and a document's text is extracted within a budget.
Every refusal is an `Unacceptable` with a reason code the app shows as a sentence. Nothing a
user uploads is executed or rendered: text is decoded, PDFs are parsed by pypdf (pure Python,
its decompression limits set below), images are only recognised by their headers.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from dataclasses import dataclass
from typing import Literal

Reason = Literal["wrong_type", "too_large", "encrypted", "malformed", "decompression_bomb", "empty"]

REASONS: dict[Reason, str] = {
    "wrong_type": "The file's content is not the type it claims to be, or not a supported type",
    "too_large": "The file is larger than the limit for its type",
    "encrypted": "The PDF is password-protected; remove the password and attach it again",
    "malformed": "The PDF is damaged and could not be read",
    "decompression_bomb": "The file expands to far more data than it holds (a decompression bomb)",
    "empty": "The file has no content the assistant could read",
}
"""What the app shows for each reason a file is rejected."""

DOCUMENT_TYPES = frozenset(
    {
        "text/plain",
        "text/markdown",
        "text/csv",
        "application/json",
        "application/pdf",
        "text/x-python",
        "text/javascript",
        "text/x-typescript",
        "text/x-java-source",
        "text/x-c",
        "text/x-c++",
        "text/x-go",
        "text/x-rust",
        "text/x-shellscript",
        "text/x-sql",
        "text/yaml",
    }
)
"""Documents the assistant reads as text. No HTML, SVG or XML: nothing that a browser renders."""
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
"""Images kept as images, for models that see them (no SVG: it is a script-capable document)."""

EXTRACT_MAX_CHARS = 100_000
"""Text kept from one document (about 25,000 tokens): far more than one reply's budget, so
the model's own budget decides what it reads, and the stored item stays small."""
MAX_EXPANSION_BYTES = 64 * 1024 * 1024
"""What an archive or a PDF may inflate to before it is called a decompression bomb."""
MAX_EXPANSION_RATIO = 200
MAX_IMAGE_PIXELS = 50_000_000
"""An image header claiming more pixels than this is a decompression bomb for whoever draws
it (the browser, the model's image decoder)."""
MAX_PDF_PAGES = 2_000


class Unacceptable(Exception):
    """The file is refused; `reason` is one of `REASONS`."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(detail or REASONS[reason])
        self.reason: Reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Extracted:
    """A ready attachment's content: text for a document, the real type for an image."""

    content_type: str
    text: str | None
    truncated: bool = False
    pages: int | None = None


def kind_of(content_type: str) -> Literal["document", "image"] | None:
    if content_type in IMAGE_TYPES:
        return "image"
    if content_type in DOCUMENT_TYPES:
        return "document"
    return None


# -- what the bytes are ------------------------------------------------------------------------
_ARCHIVES = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07", "rar"),
)


def sniff(data: bytes) -> str:
    """The type the bytes say: an image or PDF type, `archive/<name>`, `text`, or `binary`."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    for magic, name in _ARCHIVES:
        if data.startswith(magic):
            return f"archive/{name}"
    return "text" if _decode(data) is not None else "binary"


def _decode(data: bytes) -> str | None:
    """The text of `data` if it is UTF-8 (or UTF-16 with a byte-order mark) with no binary
    control characters; else None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f\v")
    if controls:
        return None
    return text


# -- checks and extraction ---------------------------------------------------------------------
def examine(data: bytes, declared: str) -> Extracted:
    """The content of an upload declared as `declared`, or `Unacceptable`."""
    if not data.strip():
        raise Unacceptable("empty")
    found = sniff(data)
    if found.startswith("archive/"):
        _refuse_archive(data, found)
    kind = kind_of(declared)
    if kind == "image":
        if found != declared:
            raise Unacceptable("wrong_type", f"declared {declared}, the content is {found}")
        _check_image(data, found)
        return Extracted(content_type=found, text=None)
    if declared == "application/pdf":
        if found != "application/pdf":
            raise Unacceptable("wrong_type", f"declared a PDF, the content is {found}")
        return _pdf(data)
    if kind == "document":
        if found != "text":
            raise Unacceptable("wrong_type", f"declared {declared}, the content is {found}")
        text = _decode(data) or ""
        if declared == "application/json":
            try:
                json.loads(text)
            except ValueError:
                raise Unacceptable("wrong_type", "declared JSON, the content is not") from None
        return _text(declared, text)
    raise Unacceptable("wrong_type", f"{declared} is not a supported type")


def _text(content_type: str, text: str, pages: int | None = None) -> Extracted:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if not text.strip():
        raise Unacceptable("empty")
    truncated = len(text) > EXTRACT_MAX_CHARS
    return Extracted(
        content_type=content_type,
        text=text[:EXTRACT_MAX_CHARS],
        truncated=truncated,
        pages=pages,
    )


def _refuse_archive(data: bytes, found: str) -> None:
    """Any archive is the wrong type; one that inflates absurdly is named for what it is."""
    if found == "archive/zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                expanded = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, OSError):
            expanded = 0
        if expanded > MAX_EXPANSION_BYTES or expanded > MAX_EXPANSION_RATIO * max(len(data), 1):
            raise Unacceptable(
                "decompression_bomb", f"{len(data)} bytes that expand to {expanded} bytes"
            )
    if found == "archive/gzip" and len(data) >= 4:
        (expanded,) = struct.unpack("<I", data[-4:])  # ISIZE: the size mod 2**32
        if expanded > MAX_EXPANSION_RATIO * len(data):
            raise Unacceptable(
                "decompression_bomb", f"{len(data)} bytes that expand to {expanded} bytes"
            )
    raise Unacceptable("wrong_type", f"the content is an archive ({found.split('/')[1]})")


def image_size(data: bytes, content_type: str) -> tuple[int, int] | None:
    """Width and height from the image's header, when it states them where we look."""
    if content_type == "image/png" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if content_type == "image/gif" and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if content_type == "image/jpeg":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            (length,) = struct.unpack(">H", data[index + 2 : index + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + length
    return None


def _check_image(data: bytes, content_type: str) -> None:
    size = image_size(data, content_type)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise Unacceptable(
            "decompression_bomb", f"a {size[0]}×{size[1]} image in {len(data)} bytes"
        )


def _pdf(data: bytes) -> Extracted:
    """The text of a PDF, page by page, within the extraction budget."""
    import pypdf

    limits = pypdf.get_configuration().with_overwrites(
        # What a stream may inflate to, per filter and in decoding work per stream.
        zlib_maximum_output_length=MAX_EXPANSION_BYTES,
        lzw_maximum_output_length=MAX_EXPANSION_BYTES,
        run_length_maximum_output_length=MAX_EXPANSION_BYTES,
        brotli_maximum_output_length=MAX_EXPANSION_BYTES,
        maximum_declared_stream_length=MAX_EXPANSION_BYTES,
        stream_decoding_work_maximum_length=4 * MAX_EXPANSION_BYTES,
        # Never call an external decoder on a user's file.
        jbig2dec_binary=None,
        disable_legacy_handling=True,
    )
    with pypdf.apply_configuration(limits):
        return _pdf_text(data)


def _pdf_text(data: bytes) -> Extracted:
    import pypdf
    from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise Unacceptable("encrypted")
        count = len(reader.pages)
        if count == 0:
            raise Unacceptable("empty")
        if count > MAX_PDF_PAGES:
            raise Unacceptable("too_large", f"{count} pages; at most {MAX_PDF_PAGES}")
        parts: list[str] = []
        size = 0
        for page in reader.pages:
            contents = page.get_contents()
            if contents is not None:
                contents.get_data()  # inflated here, so a bomb raises instead of reading as ""
            text = page.extract_text() or ""
            parts.append(text)
            size += len(text)
            if size > EXTRACT_MAX_CHARS:
                break
    except Unacceptable:
        raise
    except FileNotDecryptedError:
        raise Unacceptable("encrypted") from None
    except LimitReachedError:
        raise Unacceptable("decompression_bomb", "a stream inflates past the limit") from None
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        raise Unacceptable("malformed") from None
    except RecursionError:
        raise Unacceptable("malformed", "nested too deeply") from None
    return _text("application/pdf", "\n\n".join(parts), pages=count)
