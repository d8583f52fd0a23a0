"""Picture hashes (Page.pictures): the same page picture found again in another file, as a
PNG or JPEG upload or drawn full-page into a PDF, through the real parsers. Pictures are
small (600×800) so their OCR stays quick."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, ImageDraw

from extractors import pictures
from extractors.model import Origin
from extractors.parsers import image as image_parser
from extractors.parsers import pdf as pdf_parser
from extractors.registry import ParseOptions, parse_file
from tests.fixtures import factory

SIZE = (600, 800)
PAGE = (300, 400)  # PDF points: the picture fills the page, as a scanner's PDF does


def _picture(path: Path, text: str, *, colour: bool = False) -> Path:
    """A small scanned page: a title and a line, optionally in colour (a blue line)."""
    image = factory.page_image(
        [text, "申请人：西安测试有限公司"], width=SIZE[0], height=SIZE[1], size=24
    )
    if colour:
        image = image.convert("RGB")
        image.paste((30, 60, 200), (60, 700, 540, 706))
    suffix = path.suffix.lower()
    if suffix == ".png":
        image.save(path, "PNG")
    else:
        image.convert("RGB").save(path, "JPEG", quality=85)
    return path


def _picture_pdf(path: Path, pages: list[Path | list[str]]) -> Path:
    """A reportlab PDF, one page per entry: a picture file drawn full-page, or lines of text
    (with the CJK font the factory registers)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    if "WQY" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("WQY", factory.FONT_PATH, subfontIndex=0))
    c = canvas.Canvas(str(path), pagesize=PAGE)
    for page in pages:
        if isinstance(page, Path):
            c.drawImage(str(page), 0, 0, *PAGE)
        else:
            c.setFont("WQY", 11)
            for i, line in enumerate(page):
                c.drawString(20, PAGE[1] - 40 - 20 * i, line)
        c.showPage()
    c.save()
    return path


def _parse(path: Path, **kw):
    return parse_file(path, ParseOptions(ocr_workers=1, **kw))


def _pixels(path: Path) -> str:
    with Image.open(path) as image:
        return pictures.pixel_hash(image)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_hash_definitions():
    grey = Image.new("L", (3, 2), 200)
    grey.putpixel((1, 1), 7)
    rgb = grey.convert("RGB")
    expected = hashlib.sha256(b"px:3x2:" + rgb.tobytes()).hexdigest()
    assert pictures.pixel_hash(grey) == pictures.pixel_hash(rgb) == expected
    tall = Image.new("RGB", (5, pictures.BAND_ROWS * 2 + 3), (1, 2, 3))  # several bands
    assert (
        pictures.pixel_hash(tall)
        == hashlib.sha256(b"px:5x%d:" % tall.height + tall.tobytes()).hexdigest()
    )
    assert pictures.unique(["b", "a", "b"]) == ["b", "a"]


def test_png_and_a_pdf_drawing_it_full_page_share_the_pixel_hash(tmp_path):
    png = _picture(tmp_path / "scan.png", "营业执照", colour=True)
    pdf = _picture_pdf(tmp_path / "scan.pdf", [png])

    (image_page,) = _parse(png).pages
    (pdf_page,) = _parse(pdf).pages

    assert image_page.pictures == [_sha(png), _pixels(png)]  # raw, then pixel
    assert pdf_page.origin == Origin.OCR
    assert len(pdf_page.pictures) == 2  # the stream's raw hash and the pixel hash
    assert set(image_page.pictures) & set(pdf_page.pictures) == {_pixels(png)}


def test_jpeg_and_a_pdf_embedding_it_share_the_raw_hash(tmp_path):
    jpeg = _picture(tmp_path / "photo.jpg", "身份证")
    pdf = _picture_pdf(tmp_path / "photo.pdf", [jpeg])

    (image_page,) = _parse(jpeg).pages
    (pdf_page,) = _parse(pdf).pages

    # reportlab wraps the JPEG in ASCII85; undone, the stream is the file's bytes
    assert _sha(jpeg) in image_page.pictures
    assert _sha(jpeg) in pdf_page.pictures


def test_different_pictures_share_no_hash(tmp_path):
    one = _picture(tmp_path / "one.png", "营业执照")
    other = _picture(tmp_path / "other.png", "审计报告")
    pdf = _picture_pdf(tmp_path / "other.pdf", [other])

    first = _parse(one).pages[0].pictures
    second = _parse(pdf).pages[0].pictures

    assert first and second
    assert not set(first) & set(second)


def test_text_pages_and_small_pictures_are_not_hashed(tmp_path):
    seal = tmp_path / "seal.png"
    stamp = Image.new("RGB", (200, 200), "white")
    factory.draw_seal(ImageDraw.Draw(stamp), (10, 10, 190, 190))
    stamp.save(seal)
    pdf = factory.text_pdf(
        tmp_path / "letter.pdf",
        [["推荐函", "兹推荐西安测试有限公司申报。"], ["附件清单", "一、营业执照副本复印件"]],
        image=seal,
    )

    doc = _parse(pdf)

    assert [p.origin for p in doc.pages] == [Origin.TEXT, Origin.TEXT]
    assert doc.pages[0].images == 1  # the seal is seen, but it is no page picture
    assert [p.pictures for p in doc.pages] == [[], []]


def test_a_searchable_scan_is_hashed_on_its_text_layer_page(tmp_path):
    """A scan with an OCR text layer is read from the layer; its picture is still hashed."""
    png = _picture(tmp_path / "scan.png", "承诺书")
    pdf = tmp_path / "searchable.pdf"
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(pdf), pagesize=PAGE)
    c.drawImage(str(png), 0, 0, *PAGE)
    for i in range(4):
        c.drawString(20, 300 - 14 * i, f"Searchable scan text layer line {i} of four.")
    c.showPage()
    c.save()

    (page,) = _parse(pdf).pages

    assert page.origin == Origin.TEXT
    assert _pixels(png) in page.pictures


def test_exif_orientation_does_not_change_the_pixel_hash(tmp_path):
    """The same stored pixels under two EXIF orientation tags: turned differently for OCR,
    hashed the same (the frame is hashed as stored); the files differ, so their raw hashes
    do too."""
    upright = factory.page_image(
        ["授权委托书", "委托人：张三"], width=SIZE[0], height=SIZE[1], size=24
    )
    stored = upright.convert("RGB").rotate(90, expand=True)  # sideways, as a phone stores it
    paths = []
    for orientation in (6, 1):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = tmp_path / f"photo-{orientation}.jpg"
        stored.save(path, "JPEG", quality=85, exif=exif.tobytes())  # same encoder, same pixels
        paths.append(path)

    tagged, plain = (_parse(p).pages[0] for p in paths)

    assert tagged.rotation == 270 and plain.rotation == 0
    assert tagged.width == SIZE[0]  # turned upright for OCR
    assert tagged.pictures == [_sha(paths[0]), _pixels(paths[0])]
    assert set(tagged.pictures) & set(plain.pictures) == {_pixels(paths[0])}


def test_the_same_scan_inside_two_merged_pdfs_shares_a_hash(tmp_path):
    """Applicant A's dossier has the scan as page 2, applicant B's as page 1; each PDF was
    assembled separately (its own reportlab run for the scan, then a merge)."""
    scan = _picture(tmp_path / "licence.png", "营业执照")
    other = _picture(tmp_path / "other.png", "审计报告")
    cover = _picture_pdf(tmp_path / "cover.pdf", [["申报材料封面", "申报单位：西安测试有限公司"]])
    scan_a = _picture_pdf(tmp_path / "scan-a.pdf", [scan])
    scan_b = _picture_pdf(tmp_path / "scan-b.pdf", [scan])
    other_pdf = _picture_pdf(tmp_path / "other.pdf", [other])
    a = factory.merged_pdf(tmp_path / "a.pdf", [cover, scan_a])
    b = factory.merged_pdf(tmp_path / "b.pdf", [scan_b, other_pdf])

    doc_a, doc_b = _parse(a), _parse(b)

    assert [p.origin for p in doc_a.pages] == [Origin.TEXT, Origin.OCR]
    assert doc_a.pages[0].pictures == []
    shared = set(doc_a.pages[1].pictures) & set(doc_b.pages[0].pictures)
    assert _pixels(scan) in shared
    assert not set(doc_a.pages[1].pictures) & set(doc_b.pages[1].pictures)


def test_a_hash_that_fails_never_fails_the_parse(tmp_path, monkeypatch):
    png = _picture(tmp_path / "scan.png", "营业执照")
    pdf = _picture_pdf(tmp_path / "scan.pdf", [png])

    def broken(image):
        raise ValueError("odd colour space")

    monkeypatch.setattr(pdf_parser, "pixel_hash", broken)
    monkeypatch.setattr(image_parser, "pixel_hash", broken)

    (pdf_page,) = _parse(pdf).pages
    (image_page,) = _parse(png).pages

    assert len(pdf_page.pictures) == 1 and pdf_page.text  # the raw hash; OCR as ever
    assert image_page.pictures == [_sha(png)]


def test_pdf_pictures_over_the_pixel_limit_get_no_pixel_hash(tmp_path):
    png = _picture(tmp_path / "scan.png", "营业执照")
    pdf = _picture_pdf(tmp_path / "scan.pdf", [png])

    (page,) = _parse(pdf, max_image_pixels=SIZE[0] * SIZE[1] - 1).pages

    assert len(page.pictures) == 1  # the raw hash only
    assert _pixels(png) not in page.pictures
