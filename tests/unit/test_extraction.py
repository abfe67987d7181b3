"""What an upload really is and what text it gives (`parley.extraction`), on bytes made here:
no AWS, fast enough for `invoke mutate`."""

from __future__ import annotations

import gzip

import pytest

from parley.extraction import EXTRACT_MAX_CHARS, Unacceptable, examine, image_size, kind_of, sniff
from tests.support import documents


def refused(data: bytes, declared: str) -> str:
    with pytest.raises(Unacceptable) as caught:
        examine(data, declared)
    return caught.value.reason


def test_types_are_read_from_the_bytes() -> None:
    assert sniff(documents.png()) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 20) == "image/jpeg"
    assert sniff(b"GIF89a" + b"\0" * 10) == "image/gif"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff(documents.text_pdf([["x"]])) == "application/pdf"
    assert sniff(b"PK\x03\x04rest") == "archive/zip"
    assert sniff(gzip.compress(b"x")) == "archive/gzip"
    assert sniff("naïve café\n".encode()) == "text"
    assert sniff("\ufeffbom".encode("utf-16")) == "text"
    assert sniff(b"MZ\x90\x00\x03\x00\x00\x00") == "binary"
    assert sniff(b"\xc3\x28 not utf-8") == "binary"


def test_kinds() -> None:
    assert kind_of("image/png") == "image"
    assert kind_of("application/pdf") == "document"
    assert kind_of("text/html") is None
    assert kind_of("image/svg+xml") is None


def test_a_pdf_gives_its_text_and_pages() -> None:
    found = examine(documents.text_pdf([["Alpha beta"], ["Gamma (delta)"]]), "application/pdf")
    assert found.content_type == "application/pdf"
    assert found.pages == 2
    assert found.text is not None
    assert "Alpha beta" in found.text
    assert "Gamma (delta)" in found.text
    assert not found.truncated


def test_text_is_normalised_and_cut_to_the_budget() -> None:
    found = examine(b"a\r\nb\rc", "text/markdown")
    assert (found.text, found.content_type) == ("a\nb\nc", "text/markdown")
    long = examine(b"x" * (EXTRACT_MAX_CHARS + 10), "text/plain")
    assert long.truncated
    assert long.text is not None
    assert len(long.text) == EXTRACT_MAX_CHARS
    exact = examine(b"y" * EXTRACT_MAX_CHARS, "text/plain")
    assert not exact.truncated


def test_json_must_parse() -> None:
    assert examine(b'{"a": 1}', "application/json").text == '{"a": 1}'
    assert refused(b'{"a": ', "application/json") == "wrong_type"


def test_images_are_kept_as_images_when_they_are_what_they_claim() -> None:
    found = examine(documents.png(), "image/png")
    assert (found.content_type, found.text) == ("image/png", None)
    assert refused(documents.png(), "image/jpeg") == "wrong_type"
    assert refused(b"just text", "image/png") == "wrong_type"


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (documents.png(), "text/plain"),
        (documents.text_pdf([["x"]]), "text/plain"),
        (b"MZ\x90\x00\x03\x00", "application/pdf"),
        (b"plain words", "application/pdf"),
        (b"hello", "text/html"),
        (b"PK\x03\x04" + b"\0" * 40, "text/plain"),
    ],
)
def test_content_that_is_not_its_declared_type_is_refused(data: bytes, declared: str) -> None:
    assert refused(data, declared) == "wrong_type"


def test_empty_files_are_refused() -> None:
    assert refused(b"", "text/plain") == "empty"
    assert refused(b" \n\t ", "text/plain") == "empty"
    assert refused(documents.text_pdf([[]]), "application/pdf") == "empty"


def test_broken_and_locked_pdfs_are_refused() -> None:
    assert refused(documents.malformed_pdf(), "application/pdf") == "malformed"
    assert refused(documents.encrypted_pdf(), "application/pdf") == "encrypted"


def test_decompression_bombs_are_named() -> None:
    assert refused(documents.zip_bomb(), "application/pdf") == "decompression_bomb"
    assert refused(documents.zip_bomb(), "text/plain") == "decompression_bomb"
    bomb = gzip.compress(b"\0" * (8 * 1024 * 1024), compresslevel=9)
    assert refused(bomb, "text/plain") == "decompression_bomb"
    assert refused(gzip.compress(b"short text"), "text/plain") == "wrong_type"
    assert refused(documents.flate_bomb_pdf(), "application/pdf") == "decompression_bomb"


def test_an_image_claiming_absurd_dimensions_is_a_bomb() -> None:
    huge = documents.png(width=1, height=1)
    header = huge[:16] + (100_000).to_bytes(4, "big") + (100_000).to_bytes(4, "big") + huge[24:]
    assert image_size(huge, "image/png") == (1, 1)
    assert refused(header, "image/png") == "decompression_bomb"
    gif = b"GIF89a" + (20_000).to_bytes(2, "little") + (20_000).to_bytes(2, "little") + b"\0" * 8
    assert image_size(gif, "image/gif") == (20_000, 20_000)
    assert refused(gif, "image/gif") == "decompression_bomb"
    jpeg = b"\xff\xd8\xff\xe0\x00\x04\x00\x00\xff\xc0\x00\x0b\x08\x00\x20\x00\x40\x03\x00"
    assert image_size(jpeg, "image/jpeg") == (64, 32)


def test_the_edges_mutation_testing_found() -> None:
    assert sniff(b"GIF87a" + b"\0" * 10) == "image/gif"
    assert sniff(b"RIFF\0\0\0\0AVI LIST") != "image/webp"
    assert sniff(b"\xfe\xff" + "x".encode("utf-16-be")) == "text"
    assert refused(b"abc\x01\x02def", "text/plain") == "wrong_type"  # control bytes: not text
    assert examine(b"tab\tand\fform feed", "text/plain").text == "tab\tand\fform feed"
    # Far smaller than the 64 MB limit, yet 1,000 times its size: still a bomb.
    import io
    import zipfile

    small = io.BytesIO()
    with zipfile.ZipFile(small, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", b"\0" * (4 * 1024 * 1024))
    assert refused(small.getvalue(), "text/plain") == "decompression_bomb"
    modest = io.BytesIO()
    with zipfile.ZipFile(modest, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("a.txt", b"plain words " * 100)
    assert refused(modest.getvalue(), "text/plain") == "wrong_type"  # an archive, not a bomb
