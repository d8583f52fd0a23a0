"""Pages turned 90°, 180° or 270° with nothing to say so are read upright, pictures and
scanned PDF pages alike; a /Rotate entry is obeyed, never applied twice; a page is turned
only on evidence (a blank scan, a word or two, a table of figures stay as they are); page
pictures show a turned page as it was read."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from extractors.model import Origin
from extractors.parsers.ocrpage import turn_box
from extractors.registry import parse_file
from tests.fixtures import factory

LINES = [
    "营业执照",
    "统一社会信用代码 91610131MA6U5XYB24",
    "名称 西安秦岭数据服务有限公司",
    "类型 有限责任公司（自然人投资或控股）",
    "住所 西安市高新区锦业路69号",
    "法定代表人 王建国",
    "成立日期 2018年05月03日",
]
# An A4 page at 120 dpi: small enough to read quickly, large enough to read well.
WIDTH, HEIGHT, DPI = 992, 1403, 120
A4_PT = (595.2, 841.8)


def upright_scan() -> Image.Image:
    page = factory.page_image(LINES, width=WIDTH, height=HEIGHT, size=30)
    return factory.scan_like(page, angle=0.8)


def stored_turned(image: Image.Image, turn: int) -> Image.Image:
    """As a scanner stores a page fed the wrong way: turned anticlockwise by ``turn``, so
    ``turn`` degrees clockwise make it upright again (``Page.turned``)."""
    return image.rotate(turn, expand=True) if turn else image


def scanned_pdf(path: Path, images: list[Image.Image]) -> Path:
    """Image-only pages, as a scanner writes them: no text layer, no /Rotate."""
    images[0].save(path, "PDF", resolution=DPI, save_all=True, append_images=images[1:])
    return path


def with_rotate(path: Path, rotate: int) -> Path:
    """The same PDF with a /Rotate entry on its first page (a viewer turns it clockwise)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    pdf[0].set_rotation(rotate)
    out = path.with_name(f"{path.stem}-rotate{rotate}.pdf")
    pdf.save(str(out))
    pdf.close()
    return out


def texts(page) -> list[str]:
    return [line.text.replace(" ", "") for line in page.lines]


def assert_read_upright(page) -> None:
    """The title, the code, the name and the legal representative read whole and in that
    order, the title at the top of a portrait page: the boxes are the upright page's."""
    got = texts(page)
    order = [next(i for i, t in enumerate(got) if want in t) for want in
             ("营业执照", "91610131MA6U5XYB24", "西安秦岭数据服务有限公司", "王建国")]  # fmt: skip
    assert order == sorted(order), got
    title = next(ln for ln in page.lines if "营业执照" in ln.text)
    assert title.bbox[1] < 0.2 * page.height
    assert page.width < page.height  # a portrait page, as printed


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_picture_turned_without_a_tag_is_read_upright(tmp_path, settings, turn):
    """No EXIF tag: the lines' shapes and their direction say how it lies; it is turned
    before it is read, once."""
    path = tmp_path / f"scan-{turn}.jpg"
    stored_turned(upright_scan(), turn).convert("RGB").save(path, quality=90)
    (page,) = parse_file(path, settings.parse_options()).pages
    assert page.turned == turn and page.rotation == 0
    assert (page.width, page.height) == (WIDTH, HEIGHT)
    assert_read_upright(page)


@pytest.mark.parametrize("turn", [90, 180, 270])
def test_a_scanned_pdf_page_turned_without_rotate_is_read_upright(tmp_path, settings, turn):
    pdf = scanned_pdf(tmp_path / f"scan-{turn}.pdf", [stored_turned(upright_scan(), turn)])
    (page,) = parse_file(pdf, settings.parse_options()).pages
    assert page.origin == Origin.OCR and page.unit == "pt"
    assert page.turned == turn
    assert (page.width, page.height) == pytest.approx(A4_PT, abs=1)  # points, turned too
    assert_read_upright(page)


def test_a_rotate_entry_that_makes_the_page_upright_is_obeyed_not_applied_twice(tmp_path, settings):
    """A scanner that stores the page on its side and writes /Rotate 90 to show it upright:
    pdfium renders it upright, nothing more is turned."""
    pdf = scanned_pdf(tmp_path / "side.pdf", [stored_turned(upright_scan(), 90)])
    (page,) = parse_file(with_rotate(pdf, 90), settings.parse_options()).pages
    assert page.turned == 0
    assert (page.width, page.height) == pytest.approx(A4_PT, abs=1)
    assert_read_upright(page)


def test_a_wrong_rotate_entry_is_corrected_from_the_rendering(tmp_path, settings):
    """An upright scan given /Rotate 90: it renders lying, and is turned back (270° from
    the rendering); its size is the upright page's."""
    pdf = scanned_pdf(tmp_path / "upright.pdf", [upright_scan()])
    (page,) = parse_file(with_rotate(pdf, 90), settings.parse_options()).pages
    assert page.turned == 270
    assert (page.width, page.height) == pytest.approx(A4_PT, abs=1)
    assert_read_upright(page)


def test_a_mixed_pdf_turns_its_scanned_page_and_leaves_its_text_page(tmp_path, settings):
    text = factory.text_pdf(
        tmp_path / "text.pdf", [["审计报告", "我们审计了西安测试有限公司财务报表。"]]
    )
    scan = scanned_pdf(tmp_path / "scan.pdf", [stored_turned(upright_scan(), 270)])
    mixed = factory.merged_pdf(tmp_path / "mixed.pdf", [text, scan])
    first, second = parse_file(mixed, settings.parse_options()).pages
    assert first.origin == Origin.TEXT and first.turned == 0
    assert "审计报告" in first.text
    assert second.origin == Origin.OCR and second.turned == 270
    assert_read_upright(second)


def _page(path: Path, lines: list[tuple[str, int, int, int]]) -> Path:
    """A white page at 120 dpi with (text, x, y, size) drawn in black."""
    from PIL import ImageDraw

    image = Image.new("L", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    for text, x, y, size in lines:
        draw.text((x, y), text, fill="black", font=factory._font(size))
    image.save(path)
    return path


def _table(path: Path) -> Path:
    """A ruled table of figures: short cells, mostly digits."""
    from PIL import ImageDraw

    image = Image.new("L", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    font = factory._font(22)
    for row in range(14):
        y = 150 + row * 48
        draw.line((90, y, 900, y), fill="black", width=2)
        cells = ("项目", "期末余额", "期初余额") if row == 0 else (
            str(row), f"{row * 12345.67:,.2f}", f"{row * 9876.5:,.2f}")  # fmt: skip
        for x, cell in zip((100, 360, 640), cells, strict=True):
            draw.text((x, y + 10), cell, fill="black", font=font)
    for x in (90, 350, 630, 900):
        draw.line((x, 150, x, 150 + 13 * 48), fill="black", width=2)
    image.save(path)
    return path


@pytest.mark.parametrize("kind", ["blank pdf", "a word", "signature line", "table"])
def test_a_page_is_not_turned_without_evidence(tmp_path, settings, kind):
    """Nothing to read, or too few lines to say which way they run, or a table of short
    cells: the page stays as it is."""
    if kind == "blank pdf":
        path = scanned_pdf(tmp_path / "blank.pdf", [Image.new("L", (WIDTH, HEIGHT), "white")])
    elif kind == "a word":
        path = _page(tmp_path / "word.png", [("附件", 100, 120, 40)])
    elif kind == "signature line":
        path = _page(
            tmp_path / "sign.png",
            [("法定代表人（签字）：", 100, 1100, 26), ("2024年3月1日", 600, 1180, 26)],
        )
    else:
        path = _table(tmp_path / "table.png")
    (page,) = parse_file(path, settings.parse_options()).pages
    assert page.turned == 0 and page.width < page.height
    if kind == "table":
        assert any("12,345.67" in t for t in texts(page))


@pytest.mark.parametrize("turn", [90, 180])
def test_with_tesseract_a_turned_page_is_found_by_its_reading(tmp_path, settings, turn):
    """Tesseract has no line models: the page is read, and a reading of columns, of nothing,
    or of nearly nothing read surely (upside down) asks its orientation detection."""
    pdf = scanned_pdf(tmp_path / f"scan-{turn}.pdf", [stored_turned(upright_scan(), turn)])
    options = settings.model_copy(update={"ocr_engine": "tesseract"}).parse_options()
    (page,) = parse_file(pdf, options).pages
    assert page.turned == turn
    assert (page.width, page.height) == pytest.approx(A4_PT, abs=1)
    assert "西安秦岭数据服务有限公司" in "".join(texts(page))


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        (0, (10, 20, 30, 60)),
        (90, (60, 10, 100, 30)),  # the page is 100 × 120: its left edge becomes the top
        (180, (70, 60, 90, 100)),
        (270, (20, 70, 60, 90)),
    ],
)
def test_a_box_is_turned_with_its_page(turn, expected):
    """Checked against PIL turning a page with the box painted on it."""
    assert turn_box((10, 20, 30, 60), turn, 100, 120) == expected
    page = np.zeros((120, 100), dtype=np.uint8)
    page[20:60, 10:30] = 255
    turned = np.asarray(Image.fromarray(page).rotate(-turn, expand=True))
    ys, xs = np.nonzero(turned)
    assert (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1) == expected


def _stored(store, path: Path, document) -> str:
    with path.open("rb") as stream:
        sha, _ = store.put_stream(stream, 1 << 30)
    store.save_document(sha, document)
    return sha


def _picture(store, sha: str, bbox=None) -> Image.Image:
    from intake.reports.crops import page_picture

    return Image.open(io.BytesIO(page_picture(store, sha, 1, bbox))).convert("L")


@pytest.mark.parametrize("kind", ["pdf", "picture"])
def test_the_page_picture_of_a_turned_page_shows_it_as_it_was_read(tmp_path, settings, kind):
    """ "查看原页" and the evidence crops draw the boxes on the page turned as it was read:
    the picture of a page stored upside down is the upright page's picture, and the box of
    the name is drawn around the name."""
    from intake.storage import FileStore

    store = FileStore(tmp_path / "store")
    shas = []
    for turn in (0, 180):
        image = stored_turned(upright_scan(), turn)
        if kind == "pdf":
            path = scanned_pdf(tmp_path / f"p{turn}.pdf", [image])
        else:
            path = tmp_path / f"p{turn}.png"
            image.save(path)
        document = parse_file(path, settings.parse_options())
        assert document.pages[0].turned == turn
        shas.append((_stored(store, path, document), document.pages[0]))
    (upright_sha, _), (turned_sha, turned_page) = shas
    upright, turned = _picture(store, upright_sha), _picture(store, turned_sha)
    assert upright.size == turned.size and upright.height > upright.width
    difference = np.abs(np.asarray(upright, float) - np.asarray(turned, float)).mean()
    upside_down = np.abs(np.asarray(upright, float) - np.asarray(turned.rotate(180), float)).mean()
    assert difference < 0.25 * upside_down
    name = next(ln for ln in turned_page.lines if "西安秦岭数据服务有限公司" in ln.text)
    boxed = np.asarray(_picture(store, turned_sha, list(name.bbox)).convert("L"), float)
    assert np.abs(boxed - np.asarray(turned, float)).mean() > 0  # a box was drawn
    # The name's box in the picture holds ink: the text is where the box says.
    scale = turned.width / turned_page.width
    x0, y0, x1, y1 = (round(v * scale) for v in name.bbox)
    assert np.asarray(turned, float)[y0:y1, x0:x1].min() < 100


def _text_page_shown_turned(path: Path, rotate: int, lines: list[str]) -> Path:
    """A born-digital page stored turned with /Rotate to show it upright, as landscape
    statements in annual reports are: the content drawn turned ``rotate`` degrees
    anticlockwise on a portrait page, the viewer turning it back clockwise."""
    import pypdfium2 as pdfium
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("WQY", factory.FONT_PATH, subfontIndex=0))
    width, height = A4
    shown_height = width if rotate in (90, 270) else height
    stored = path.with_name("stored-" + path.name)
    c = canvas.Canvas(str(stored), pagesize=A4)
    c.translate(*{90: (width, 0), 180: (width, height), 270: (0, height)}[rotate])
    c.rotate(rotate)
    c.setFont("WQY", 14)
    for i, line in enumerate(lines):
        c.drawString(60, shown_height - 80 - 30 * i, line)
    c.showPage()
    c.save()
    pdf = pdfium.PdfDocument(str(stored))
    pdf[0].set_rotation(rotate)
    pdf.save(str(path))
    pdf.close()
    return path


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_a_text_page_with_rotate_has_its_boxes_where_it_shows_its_text(tmp_path, rotate):
    """Text pages are never turned, but their boxes must be those of the page as shown (as
    its size and every picture of it are): pdfium gives characters' boxes unturned."""
    import pypdfium2 as pdfium

    from extractors.registry import ParseOptions

    lines = ["合并资产负债表", "项目 期末余额 期初余额", "资产总计 1,234,567.89 1,000,000.00"]
    path = _text_page_shown_turned(tmp_path / f"rotate{rotate}.pdf", rotate, lines)
    (page,) = parse_file(path, ParseOptions(ocr_workers=1)).pages
    assert page.origin == Origin.TEXT and page.turned == 0
    assert [ln.text for ln in page.lines] == lines
    pdf = pdfium.PdfDocument(str(path))
    shown = np.asarray(pdf[0].render(scale=1).to_pil().convert("L"), float)
    pdf.close()
    assert shown.shape[::-1] == pytest.approx((page.width, page.height), abs=1)
    for line in page.lines:
        x0, y0, x1, y1 = line.bbox
        assert 0 <= x0 < x1 <= page.width and 0 <= y0 < y1 <= page.height
        assert x1 - x0 > 3 * (y1 - y0)  # level, as shown
        assert shown[int(y0) : int(y1) + 1, int(x0) : int(x1) + 1].min() < 100  # ink there


@pytest.mark.parametrize("engine", ["rapidocr3", "rapidocr"])
def test_each_rapidocr_looks_with_its_own_models(tmp_path, settings, engine):
    """PP-OCRv6 (rapidocr 3.x) and PP-OCRv4 (rapidocr-onnxruntime) each look with their own
    detector and classifier, shared with their reading."""
    from extractors.ocr import rapidocr_available
    from extractors.ocr_rapid3 import available

    if not (available() if engine == "rapidocr3" else rapidocr_available()):
        pytest.skip(f"{engine} is not installed")
    path = tmp_path / "scan.png"
    stored_turned(upright_scan(), 270).save(path)
    options = settings.model_copy(update={"ocr_engine": engine}).parse_options()
    assert options.ocr.name == engine
    (page,) = parse_file(path, options).pages
    assert page.turned == 270
    assert_read_upright(page)


def _quads(count: int, on_end: bool = False) -> list[np.ndarray]:
    """``count`` line boxes on a 1000 px page, level (or standing on end), longest first."""
    quads = []
    for i in range(count):
        length = 400 - 10 * i
        box = [(0, 0), (length, 0), (length, 30), (0, 30)]
        if on_end:
            box = [(0, 0), (30, 0), (30, length), (0, length)]
        quads.append(np.array(box, dtype=np.float32) + 40 * i)
    return quads


class _Models:
    """A line detector that finds ``quads`` and a classifier that answers from a script."""

    looks = ((416, 320),)

    def __init__(self, quads, answers):
        self.quads, self.answers, self.asked = quads, answers, []

    def detect_lines(self, image, floor):
        return self.quads

    def line_directions(self, crops):
        self.asked.append([c.shape[1] for c in crops])
        return self.answers(len(self.asked), len(crops))


@pytest.mark.parametrize(
    ("first_six", "asked", "decided"),
    [
        ([("180", 0.99)] * 6, [6], 180),  # the longest six agree, surely: nobody else asked
        ([("0", 0.99)] * 5 + [("180", 0.6)], [6], 0),  # five sure, one unsure: settled
        ([("0", 0.99)] * 4 + [("0", 0.6)] * 2, [6, 10], 0),  # two unsure: all are asked
        ([("0", 0.99)] * 5 + [("180", 0.95)], [6, 10], 0),  # one dissents surely: all asked
    ],
)
def test_the_longest_lines_settle_the_vote_when_they_agree(first_six, asked, decided):
    from extractors.parsers.orientation import look

    models = _Models(_quads(16), lambda call, n: first_six if call == 1 else [("0", 0.99)] * n)
    lie = look(models, Image.new("RGB", (1000, 1000), "white"))
    assert [len(widths) for widths in models.asked] == asked
    # The first asked are the six longest lines, longest first (laid flat: their width).
    assert models.asked[0] == sorted(models.asked[0], reverse=True)
    if len(asked) > 1:  # then the rest, all of them shorter
        assert max(models.asked[1]) < min(models.asked[0])
    assert lie.decided and lie.turn == decided


def test_lines_on_end_that_read_upright_once_laid_flat_turn_the_page_270():
    from extractors.parsers.orientation import look

    models = _Models(_quads(8, on_end=True), lambda call, n: [("0", 0.99)] * n)
    lie = look(models, Image.new("RGB", (1000, 1000), "white"))
    assert lie.decided and lie.turn == 270 and lie.on_end == 8 and lie.level == 0
