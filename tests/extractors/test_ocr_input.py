"""What PP-OCR is given and what its boxes say of the type: the colour page with only the
seals' red ink lifted (no greyscale, no ruling-line removal), and a line's type size taken
from its box's short side, so a note printed down the page's margin (重要提示 on end) is not
a large title. Pictures are drawn here; no OCR runs."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from extractors.classify import classify_documents
from extractors.model import Document, Mark, Origin, Page
from extractors.ocr import result_from_quads
from extractors.parsers.ocrpage import prepare_for_ocr


def quad(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def test_a_line_read_down_the_page_is_as_large_as_its_characters_are_wide() -> None:
    found = [
        (quad(100, 100, 500, 140), "统一社会信用代码", 0.99),  # level: 40 px high
        (quad(100, 300, 145, 480), "重要提示", 0.99),  # on end: 45 px wide, 180 high
        (quad(600, 300, 640, 340), "名", 0.99),
    ]
    result = result_from_quads(found, 1700, 1200)
    sizes = {line.text: line.size for line in result.blocks[0].lines}
    assert sizes == {"统一社会信用代码": 40, "重要提示": 45, "名": 40}


def test_a_vertical_margin_note_is_not_the_page_title() -> None:
    """A licence whose title OCR read short (营业执, 照 lost) and whose 重要提示 (a heading
    of other documents) is printed on end in the margin: still a business licence."""
    boxes = [
        ("营业执", 600, 250, 970, 379),
        ("统一社会信用代码", 158, 266, 441, 301),
        ("91350100M000100Y43", 159, 312, 432, 342),
        ("名称福州市鼓楼区示例电子商行", 152, 474, 654, 516),
        ("类型个体工商户", 152, 547, 450, 584),
        ("成立日期", 979, 551, 1135, 588),
        ("2016年08月01日", 1139, 554, 1302, 584),
        ("经营者林某", 153, 611, 405, 657),
        ("经营场所", 978, 618, 1133, 655),
        ("福州市鼓楼区五四路1号", 1147, 623, 1502, 646),
        ("重要提示", 139, 785, 184, 950),
        ("1. 商事主体的经营范围由章程确定", 185, 793, 700, 819),
        ("2. 商事主体经营范围和许可审批项目等有关企业信用事项", 185, 846, 900, 870),
        ("登记机关", 1081, 909, 1261, 943),
        ("国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", 20, 1147, 564, 1181),
    ]
    result = result_from_quads([(quad(*b[1:]), b[0], 0.99) for b in boxes], 1628, 1221)
    page = Page(number=1, width=1628, height=1221, unit="px", origin=Origin.OCR,
                blocks=result.blocks)  # fmt: skip
    (material,) = classify_documents([("执照.jpg", Document(media_type="image", parser="image",
                                                            pages=[page]))])  # fmt: skip
    assert material.type == "business_licence", material


def _sheet() -> Image.Image:
    """White paper, a black ruling line, black text strokes, and a red seal ring crossing
    a black stroke."""
    image = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.line((10, 20, 390, 20), fill="black", width=2)  # a table's rule
    draw.rectangle((150, 140, 250, 150), fill="black")  # text under the seal
    draw.ellipse((120, 90, 280, 210), outline=(220, 30, 30), width=8)  # the seal's ring
    draw.rectangle((150, 92, 170, 102), fill=(60, 20, 30))  # a dark stroke over the ring
    draw.rectangle((190, 92, 210, 102), fill=(150, 20, 30))  # a paler one (scan, thin pen)
    draw.rectangle((20, 250, 60, 260), fill=(220, 30, 30))  # red ink away from any seal
    return image


SEAL = Mark(kind="seal", bbox=(0.3, 0.3, 0.7, 0.7), conf=0.9)


def test_colour_copy_lifts_seal_ink_and_keeps_the_rest(tmp_path: Path) -> None:
    target = tmp_path / "page.pnm"
    factor = prepare_for_ocr(_sheet(), target, [SEAL], colour=True)
    assert factor == 1.0
    with Image.open(target) as written:
        assert written.mode == "RGB"
        assert written.getpixel((200, 22 - 2)) == (0, 0, 0)  # the rule is kept
        assert written.getpixel((200, 145)) == (0, 0, 0)  # black text under the seal kept
        assert written.getpixel((124, 150)) == (255, 255, 255)  # the ring's red ink lifted
        assert written.getpixel((160, 95 + 2))[0] <= 60  # a stroke over the ink stays dark
        # A paler stroke over the ink keeps its shade, between text and paper: a hard cut
        # at the ink's level erased such strokes (汇 read as 江 under a seal).
        assert 100 <= written.getpixel((200, 95 + 2))[0] <= 200
        assert written.getpixel((40, 255)) == (220, 30, 30)  # red outside a seal untouched


def test_grey_copy_for_tesseract_is_enlarged_and_loses_its_rules(tmp_path: Path) -> None:
    target = tmp_path / "page.pnm"
    factor = prepare_for_ocr(_sheet(), target, [SEAL], min_side=800)
    assert factor == 0.5
    with Image.open(target) as written:
        assert written.mode == "L"
        assert written.size == (800, 600)
        assert written.getpixel((400, 40)) > 200  # the rule is gone
        # The seal is seen through the same red filter as the colour copy (twice the size).
        assert written.getpixel((2 * 124, 2 * 150)) > 240  # the ring's red ink lifted
        assert written.getpixel((2 * 200, 2 * 145)) < 40  # black text under the seal kept
        assert written.getpixel((2 * 160, 2 * 97)) <= 60  # a stroke over the ink stays dark
        assert 100 <= written.getpixel((2 * 200, 2 * 97)) <= 200  # a paler one keeps its shade
