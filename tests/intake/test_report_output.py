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
