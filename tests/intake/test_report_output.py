"""The report for people: HTML with the verdict, the checklist and pictures of the
evidence; the same as a PDF with the CJK font embedded."""

from __future__ import annotations

from tests.accounts import client_as
from tests.intake.test_recheck import _checked_dossier


def test_html_and_pdf_reports(settings, samples, monkeypatch):
    dossier_id = _checked_dossier(settings, samples, monkeypatch, ["text_pdf", "docx", "photo"])
    client = client_as(settings, "bureau")

    html = client.get(f"/api/dossiers/{dossier_id}/report.html")
    assert html.status_code == 200
    page = html.text
    assert "初审结论" in page and "材料清单（第十七条）" in page and "逐条审查" in page
    assert "第十二条（一）" in page  # findings grouped by article
    assert "data:image/png;base64," in page  # a picture of the evidence, box drawn

    pdf = client.get(f"/api/dossiers/{dossier_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf.content)
    first = document[0].get_textpage().get_text_range()
    assert "申报材料预审报告" in first and "初审结论" in first  # the CJK font is in the file


def test_page_pictures_of_every_kind_of_file(settings, samples, tmp_path):
    """What "查看原页" shows: a scanned PDF's second page, a TIFF's second frame, a photo
    turned upright; nothing for a DOCX (no geometry) or a file that failed to parse."""
    from PIL import Image

    from intake.db import session_scope
    from intake.models import DossierFile
    from intake.pipeline import process_file
    from intake.reports.crops import page_picture
    from intake.storage import FileStore
    from tests.fixtures import factory
    from tests.intake.test_pipeline import _dossier_with

    frames = [Image.open(factory.png(tmp_path / f"f{i}.png", [f"第{i}页", "营业执照"]))
              for i in (1, 2)]  # fmt: skip
    tiff = tmp_path / "two.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    files = [
        samples["scanned_pdf"],
        tiff,
        samples["photo"],
        samples["docx"],
        samples["encrypted_pdf"],
    ]
    _, ids = _dossier_with(settings, files)
    for file_id in ids:
        process_file(settings, file_id)
    with session_scope(settings.db_url) as session:
        shas = [session.get(DossierFile, i).sha256 for i in ids]
    store = FileStore(settings.data_dir)

    def size(sha, page, box=None):
        png = page_picture(store, sha, page, box)
        return None if png is None else Image.open(__import__("io").BytesIO(png)).size

    scan, tif, photo, docx, locked = shas
    assert size(scan, 2, [50, 50, 200, 80]) is not None
    w, h = frames[1].size  # shown at most 1400 px wide
    assert size(tif, 2) == size(tif, 1) == (1400, round(h * 1400 / w))
    assert page_picture(store, tif, 2) != page_picture(store, tif, 1)  # the second frame
    width, height = size(photo, 1)
    assert height > width  # stored sideways with an EXIF tag, shown upright
    assert size(docx, 1) is None
    assert size(locked, 1) is None  # never opened: it did not parse
