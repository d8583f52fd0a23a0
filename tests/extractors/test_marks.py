"""Red seals (公章): found on photos, scans and text PDFs; emblems and red blocks are not
seals."""

from __future__ import annotations

from PIL import Image, ImageDraw

from extractors.marks import find_seals
from extractors.registry import parse_file
from tests.fixtures import factory

DECLARATION = ["申报材料真实性声明", "本单位承诺所报材料真实、准确、完整。", "申报单位（盖章）"]


def blank(width=1240, height=1754) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (width, height), "white")
    return image, ImageDraw.Draw(image)


def test_a_seal_is_found_where_it_was_stamped():
    image, draw = blank()
    factory.draw_seal(draw, (700, 1000, 1000, 1300))
    draw.text((650, 1120), "渭南丰禾企业管理有限公司", fill="black", font=factory._font(36))
    (seal,) = find_seals(image)
    left, top, right, bottom = (
        round(v * s) for v, s in zip(seal.bbox, (1240, 1754) * 2, strict=True)
    )
    assert abs(left - 700) < 25 and abs(top - 1000) < 25
    assert abs(right - 1000) < 25 and abs(bottom - 1300) < 25
    assert seal.kind == "red_seal" and seal.conf >= 0.6


def test_no_seal_on_a_page_of_black_text():
    image = factory.page_image(DECLARATION).convert("RGB")
    assert find_seals(image) == []


def test_red_things_that_are_not_seals():
    image, draw = blank()
    draw.rectangle((100, 100, 1100, 260), fill=factory.SEAL_RED)  # a red banner
    draw.text((100, 400), "红色标题文字红色标题文字", fill=factory.SEAL_RED, font=factory._font(60))
    draw.ellipse((520, 600, 720, 800), fill=factory.SEAL_RED)  # the emblem: red disc…
    draw.ellipse((570, 650, 670, 750), fill=(240, 190, 40))  # …with gold in it
    assert find_seals(image) == []


def test_seals_through_the_parsers(tmp_path, options):
    photo = factory.sealed_png(tmp_path / "sealed.png", DECLARATION)
    unsealed = factory.sealed_png(tmp_path / "plain.png", DECLARATION, seal=False)
    (page,) = parse_file(photo, options).pages
    assert [m.kind for m in page.marks] == ["red_seal"]
    assert page.marks[0].bbox[0] > page.width / 2  # px, in the page's own unit
    assert parse_file(unsealed, options).pages[0].marks == []

    # A text PDF with the seal as an embedded picture: found from a small rendering.
    stamp = tmp_path / "stamp.png"
    image, draw = blank(400, 400)
    factory.draw_seal(draw, (10, 10, 390, 390))
    image.save(stamp)
    pdf = factory.text_pdf(tmp_path / "d.pdf", [DECLARATION], image=stamp)
    (page,) = parse_file(pdf, options).pages
    assert page.origin == "text" and [m.kind for m in page.marks] == ["red_seal"]
    assert 300 < page.marks[0].bbox[0] < 595  # points
