"""Sniffing looks at the container first: a ZIP is a ZIP whatever its first member is, a
PDF is a PDF (junk before its header too), and a file that is two things at once is
refused as suspect."""

from __future__ import annotations

import io
import zipfile

import pytest

from extractors.archive import expand_zip
from extractors.errors import InputFileError
from extractors.sniff import DOCX, PDF, PNG, ZIP, sniff
from tests.fixtures import factory

# Issue 12, finding 2: the seven materials of a dossier, the first of them a PDF.
DOSSIER = {
    "01-申请报告.pdf": b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
    "02-营业执照.jpg": b"\xff\xd8\xff\xe0 photo",
    "03-审计报告.pdf": b"%PDF-1.4 audit",
    "04-租赁合同.pdf": b"%PDF-1.4 lease",
    "05-服务证明.docx": b"PK docx",
    "06-人员名单.pdf": b"%PDF-1.4 staff",
    "07-承诺书.pdf": b"%PDF-1.4 pledge",
}


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def test_a_stored_zip_whose_first_member_is_a_pdf_is_a_zip(tmp_path):
    archive = factory.stored_zip(tmp_path / "dossier.zip", DOSSIER)
    assert b"%PDF-" in archive.read_bytes()[:1024]  # what fooled the sniffer
    assert sniff(archive) == ZIP
    members = expand_zip(archive, tmp_path / "out")
    assert [m.name for m in members] == list(DOSSIER)


def test_an_ordinary_pdf_and_a_docx_are_what_they_are(tmp_path):
    pdf = factory.text_pdf(tmp_path / "a.pdf", [["审计报告"]])
    assert sniff(pdf) == PDF
    assert sniff(factory.docx_file(tmp_path / "a.docx", [["申请报告"]])) == DOCX
    assert sniff(factory.zip_of(tmp_path / "a.zip", DOSSIER)) == ZIP


def test_a_pdf_after_junk_bytes_is_still_a_pdf(tmp_path):
    pdf = factory.text_pdf(tmp_path / "a.pdf", [["审计报告"]])
    junky = tmp_path / "junky.pdf"
    junky.write_bytes(b"\r\n\x00junk from a mail gateway\r\n" + pdf.read_bytes())
    assert sniff(junky) == PDF


def test_a_pdf_with_zip_like_bytes_that_are_no_zip_is_a_pdf(tmp_path):
    pdf = factory.text_pdf(tmp_path / "a.pdf", [["审计报告"]])
    odd = tmp_path / "odd.pdf"
    # An end-of-central-directory signature whose directory is not there.
    odd.write_bytes(pdf.read_bytes() + b"PK\x05\x06" + bytes(18))
    assert sniff(odd) == PDF


def test_a_truncated_zip_is_still_a_zip(tmp_path):
    data = factory.zip_of(tmp_path / "a.zip", DOSSIER).read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    assert sniff(cut) == ZIP  # expanding it says it is corrupt


@pytest.mark.parametrize("kind", ["pdf", "png"])
def test_a_file_that_is_also_a_zip_is_suspect(tmp_path, kind):
    if kind == "pdf":
        first = factory.text_pdf(tmp_path / "a.pdf", [["审计报告"]]).read_bytes()
    else:
        first = factory.png(tmp_path / "a.png", ["营业执照"]).read_bytes()
    polyglot = tmp_path / f"polyglot.{kind}"
    polyglot.write_bytes(first + _zip_bytes({"x.pdf": b"%PDF-1.4 other"}))
    assert zipfile.ZipFile(polyglot).namelist() == ["x.pdf"]  # a ZIP reader sees a ZIP
    with pytest.raises(InputFileError) as caught:
        sniff(polyglot)
    assert caught.value.code == "polyglot"
    assert "ZIP" in caught.value.message and "疑似" in caught.value.message


def test_a_png_is_a_png(tmp_path):
    assert sniff(factory.png(tmp_path / "scan.pdf", ["营业执照"])) == PNG
