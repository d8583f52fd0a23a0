"""The decompression-bomb checks: a bomb is refused, a real or damaged stream passes
promptly (a stream that makes no progress must not loop)."""

from __future__ import annotations

import zlib

import pytest

from extractors.bombs import check_pdf
from extractors.errors import DecompressionBombError
from tests.fixtures import hostile


def _stream_pdf(data: bytes) -> bytes:
    return hostile._pdf(
        [
            *hostile._catalog_pages("3 0 R", 1),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
            f"<< /Length {len(data)} /Filter /FlateDecode >>\nstream\n".encode()
            + data
            + b"\nendstream",
        ]
    )


@pytest.mark.parametrize(
    "data",
    [
        zlib.compress(b"BT /F1 12 Tf (hello) Tj ET"),  # a real content stream
        zlib.compress(b"0 " * 100_000)[:-40],  # truncated
        b"\x78\x9c" + bytes(range(256)) * 8,  # damaged after a valid header
        zlib.compress(b"q Q") + b"trailing junk after the stream's end",
    ],
)
def test_ordinary_and_damaged_streams_pass(tmp_path, data):
    path = tmp_path / "x.pdf"
    path.write_bytes(_stream_pdf(data))
    check_pdf(path, 1 << 20)


def test_a_bomb_is_refused(tmp_path):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(_stream_pdf(hostile._deflated(8 << 20)))
    with pytest.raises(DecompressionBombError) as refused:
        check_pdf(path, 1 << 20)
    assert refused.value.code == "bomb" and "解压" in refused.value.message


def test_flate_over_flate_is_refused(tmp_path):
    inner = zlib.compress(b"0 " * 1000)
    data = zlib.compress(inner)
    pdf = _stream_pdf(data).replace(b"/Filter /FlateDecode", b"/Filter [/FlateDecode /FlateDecode]")
    path = tmp_path / "twice.pdf"
    path.write_bytes(pdf)
    with pytest.raises(DecompressionBombError):
        check_pdf(path, 1 << 20)


def test_a_padded_stream_dictionary_is_still_seen(tmp_path):
    pdf = _stream_pdf(hostile._deflated(8 << 20)).replace(
        b"/Filter /FlateDecode", b"/Filter /FlateDecode /Padding (" + b"x" * 2000 + b")"
    )
    path = tmp_path / "padded.pdf"
    path.write_bytes(pdf)
    with pytest.raises(DecompressionBombError):
        check_pdf(path, 1 << 20)
