"""DOCX content controls (``w:sdt``, 内容控件): Word application forms put their fill-in
fields in them, at every level Word allows (ECMA-376 §17.5.2: block, row, cell and run
level). The fixture is built here with python-docx, each control wrapped with lxml the way
Word writes it: ``w:sdt`` → ``w:sdtPr`` (alias, tag, id) + ``w:sdtContent``."""

from __future__ import annotations

from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_BREAK
from docx.oxml.ns import qn
from lxml import etree

from extractors.registry import parse_file

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _sdt(alias: str, placeholder: bool = False):
    """An empty content control as Word writes one, with its properties."""
    sdt = etree.Element(qn("w:sdt"), nsmap={"w": W})
    props = etree.SubElement(sdt, qn("w:sdtPr"))
    etree.SubElement(props, qn("w:alias")).set(qn("w:val"), alias)
    etree.SubElement(props, qn("w:tag")).set(qn("w:val"), alias)
    etree.SubElement(props, qn("w:id")).set(qn("w:val"), str(abs(hash(alias)) % 10**8))
    if placeholder:
        etree.SubElement(props, qn("w:showingPlcHdr"))
    etree.SubElement(sdt, qn("w:sdtContent"))
    return sdt


def wrap(elements, alias: str, placeholder: bool = False):
    """Put ``elements`` (siblings, in order) into one content control where the first was."""
    sdt = _sdt(alias, placeholder)
    first = elements[0]
    first.addprevious(sdt)
    content = sdt.find(qn("w:sdtContent"))
    for el in elements:
        content.append(el)
    return sdt


def form(path: Path) -> Path:
    document = docx.Document()
    document.add_paragraph("示范平台申请报告")
    # Block level, around paragraphs (a form's cover fields), with a control inside it.
    a = document.add_paragraph("申报单位名称：西安北辰检测技术研究院有限公司")
    b = document.add_paragraph("所属区县：雁塔区")
    outer = wrap([a._p, b._p], "封面")
    wrap([b._p], "区县")
    assert outer.getparent() is document.element.body
    # Run level, inside a paragraph: 法定代表人：[control] （签字）
    p = document.add_paragraph("法定代表人：")
    run = p.add_run("韩立新")
    p.add_run("（签字）")
    wrap([run._r], "法定代表人")
    # A control still showing its prompt: the applicant typed nothing there.
    q = document.add_paragraph("联系电话：")
    wrap([q.add_run("单击或点击此处输入文字。")._r], "电话", placeholder=True)
    # Block level, around a whole table (a repeating section of a form).
    t1 = document.add_table(rows=2, cols=2)
    for r, row in enumerate([["资产总额", "326.50万元"], ["服务人员", "26人"]]):
        for c, text in enumerate(row):
            t1.cell(r, c).text = text
    wrap([t1._tbl], "财务")
    # A table whose row, cell and cell content are controls.
    t2 = document.add_table(rows=3, cols=2)
    for r, row in enumerate([["服务面积", "260平方米"], ["用户满意度", "92%"], ["备注", "无"]]):
        for c, text in enumerate(row):
            t2.cell(r, c).text = text
    rows = t2._tbl.findall(qn("w:tr"))
    wrap([rows[0]], "面积行")  # row level
    cells = rows[1].findall(qn("w:tc"))
    wrap([cells[1]], "满意度格")  # cell level: w:tr > w:sdt > w:tc
    para = rows[2].findall(qn("w:tc"))[1].find(qn("w:p"))
    wrap([para], "备注内容")  # inside a cell: w:tc > w:sdt > w:p
    # A page break inside a block control still breaks the page.
    brk = document.add_paragraph()
    brk.add_run().add_break(WD_BREAK.PAGE)
    wrap([brk._p], "分页")
    document.add_paragraph("申报日期：2018年6月1日")
    document.save(str(path))
    return path


@pytest.fixture
def parsed(tmp_path, options):
    return parse_file(form(tmp_path / "申请报告.docx"), options)


def test_text_in_every_kind_of_content_control_is_read_in_order(parsed):
    first = parsed.pages[0].text.splitlines()
    assert first == [
        "示范平台申请报告",
        "申报单位名称：西安北辰检测技术研究院有限公司",  # block level
        "所属区县：雁塔区",  # a control inside a control
        "法定代表人：韩立新（签字）",  # run level, in its place in the paragraph
        "联系电话：",  # the placeholder prompt is not the applicant's text
        "资产总额 326.50万元",  # a table inside a control
        "服务人员 26人",
        "服务面积 260平方米",  # a row inside a control
        "用户满意度 92%",  # a cell inside a control
        "备注 无",  # a paragraph inside a cell's control
    ]
    assert parsed.pages[1].text == "申报日期：2018年6月1日"


def test_tables_inside_content_controls_keep_their_cells(parsed):
    tables = [t.rows for t in parsed.pages[0].tables]
    assert tables == [
        [["资产总额", "326.50万元"], ["服务人员", "26人"]],
        [["服务面积", "260平方米"], ["用户满意度", "92%"], ["备注", "无"]],
    ]
