"""Organisation names as they are printed, read whole (issue 17: names were cut at their
first suffix, so 西安光电产业技术研究院有限公司 became 西安光电产业技术研究院 and a branch's
licence passed as its company's).

Each row stands for one naming convention of the registers: 企业名称登记管理规定 (行政区划 +
字号 + 行业 + 组织形式; a branch is its company's name followed by its own part), 公司法 第七、
八条 (有限责任公司/有限公司, 股份有限公司/股份公司), 合伙企业法 第十五、五十六、六十二条 (（普通
合伙）, （特殊普通合伙）, （有限合伙） after the name), the insurers' branch series (分公司,
中心支公司, 支公司, 营业部), and 个体工商户名称登记管理办法 第十条 (厂、店、馆、部、行 …). The
names are made up; none comes from the acceptance corpus."""

from __future__ import annotations

import pytest

from extractors.classify import Material
from extractors.fields import FieldValue, extract_fields
from extractors.model import Block, Document, Line, Page, Word
from validators.checks import consistent
from validators.engine import Facts, evaluate
from validators.packs import load_pack

NAME_FIELDS = ("applicant.name", "premises.holder")


def page(lines: list[str], origin: str = "docx", conf: float | None = None) -> Page:
    def line(text: str) -> Line:
        if origin != "ocr":
            return Line(text=text)
        words = [Word(text=text, bbox=(0, 0, 10 * len(text), 10), conf=conf)]
        return Line(text=text, bbox=(0, 0, 10 * len(text), 10), words=words, conf=conf)

    return Page(number=1, origin=origin, blocks=[Block(lines=[line(t) for t in lines])])


def read(*files: tuple[str, str, list[str]] | tuple[str, str, list[str], str]):
    """Fields of in-memory files: (file name, material type, lines[, origin])."""
    documents, materials = [], []
    for name, material, lines, *origin in files:
        media = "image/jpeg" if origin == ["ocr"] else "application/pdf"
        pages = [page(lines, *origin, conf=0.95)]
        documents.append((name, Document(media_type=media, parser="test", pages=pages)))
        materials.append(Material(material, name, (1, 1)))
    return extract_fields(documents, materials)


def names(fields, file: str | None = None) -> set[str]:
    return {
        v.value for f in NAME_FIELDS for v in fields.get(f, []) if file is None or v.file == file
    }


@pytest.mark.parametrize(
    ("convention", "material", "line", "name"),
    [
        # 公司法 第八条: a limited liability company is named 有限责任公司 or 有限公司.
        ("有限公司", "application_report", "单位名称：西安禾川软件有限公司", "西安禾川软件有限公司"),
        ("有限责任公司", "application_report", "申报单位：陕西启明检测技术有限责任公司",
         "陕西启明检测技术有限责任公司"),
        ("股份有限公司", "application_report", "申报单位：西安远策信息技术股份有限公司",
         "西安远策信息技术股份有限公司"),
        ("集团有限公司", "application_report", "单位名称：陕西华岳科创集团有限公司",
         "陕西华岳科创集团有限公司"),
        # An institute incorporated as a company: the institution's word, then the form.
        ("研究院有限公司", "application_report", "申报单位：西安光电产业技术研究院有限公司",
         "西安光电产业技术研究院有限公司"),
        ("研究所", "application_report", "单位名称：西安精测仪器研究所", "西安精测仪器研究所"),
        # 合伙企业法 第六十二条: a limited partnership's name ends with （有限合伙）.
        ("中心（有限合伙）", "application_report", "申报单位：西安高新创投服务中心（有限合伙）",
         "西安高新创投服务中心（有限合伙）"),
        ("中心(有限合伙), half-width brackets", "application_report",
         "申报单位：西安秦岭股权投资中心(有限合伙)", "西安秦岭股权投资中心（有限合伙）"),
        ("合伙企业", "application_report", "申报单位：西安启源管理咨询合伙企业（有限合伙）",
         "西安启源管理咨询合伙企业（有限合伙）"),
        # 合伙企业法 第五十六条: professional firms as special general partnerships.
        ("事务所（特殊普通合伙）", "application_report",
         "申报单位：陕西信达税务师事务所（特殊普通合伙）", "陕西信达税务师事务所（特殊普通合伙）"),
        # A branch is its company's name followed by its own part (企业名称登记管理规定).
        ("分公司", "premises_proof", "承租方：陕西华衡科技服务有限公司西安分公司",
         "陕西华衡科技服务有限公司西安分公司"),
        ("分院", "application_report", "申报单位：陕西工业设计研究院西安分院",
         "陕西工业设计研究院西安分院"),
        ("办事处", "premises_proof", "承租方：北京致远管理咨询有限公司西安办事处",
         "北京致远管理咨询有限公司西安办事处"),
        ("分中心", "application_report", "申报单位：陕西省中小企业服务中心高新分中心",
         "陕西省中小企业服务中心高新分中心"),
        # Insurers' branches: 公司名称 + 城市名 + 区名 + 支公司; 城市名 + 中心支公司.
        ("支公司", "premises_proof", "承租方：华远财产保险股份有限公司西安市雁塔支公司",
         "华远财产保险股份有限公司西安市雁塔支公司"),
        ("中心支公司", "premises_proof", "承租方：华远财产保险股份有限公司咸阳中心支公司",
         "华远财产保险股份有限公司咸阳中心支公司"),
        # 个体工商户: 行政区划 + 字号 + 行业 + 店/厂/部/行 …
        ("个体 店", "premises_proof", "承租人：西安市雁塔区老马便利店", "西安市雁塔区老马便利店"),
        ("个体 厂", "premises_proof", "承租人：西安市灞桥区兴旺印刷厂", "西安市灞桥区兴旺印刷厂"),
        ("个体 部", "premises_proof", "承租人：西安市莲湖区小李家电维修部",
         "西安市莲湖区小李家电维修部"),
        ("个体 商行", "premises_proof", "承租人：西安市碑林区恒通电子商行",
         "西安市碑林区恒通电子商行"),
        ("个体 工作室", "premises_proof", "承租人：西安市雁塔区墨白设计工作室",
         "西安市雁塔区墨白设计工作室"),
        # A place in brackets inside a foreign-invested company's name.
        ("（上海）", "application_report", "单位名称：科威勒自动化（上海）有限公司",
         "科威勒自动化（上海）有限公司"),
        ("(上海), half-width brackets", "application_report",
         "单位名称：科威勒自动化(上海)有限公司", "科威勒自动化（上海）有限公司"),
        # What follows a name on its line in a form's header.
        ("then 统一社会信用代码", "application_report",
         "单位名称：西安光电产业技术研究院有限公司统一社会信用代码：91610131MA6TXK1U2Y",
         "西安光电产业技术研究院有限公司"),
        ("then a date", "application_report",
         "申报单位：西安光电产业技术研究院有限公司2019年3月2日", "西安光电产业技术研究院有限公司"),
        ("then a spaced date", "application_report",
         "申报单位：西安光电产业技术研究院有限公司 2019年3月2日", "西安光电产业技术研究院有限公司"),
        ("then （盖章）", "application_report", "申报单位：西安光电产业技术研究院有限公司（盖章）",
         "西安光电产业技术研究院有限公司"),
        ("then 是一家… (prose)", "application_report",
         "申报单位西安光电产业技术研究院有限公司是一家服务中小企业的研究院",
         "西安光电产业技术研究院有限公司"),
    ],
)  # fmt: skip
def test_a_name_is_read_whole(convention, material, line, name):
    assert names(read(("a.docx", material, [line]))) == {name}, convention


def test_a_branch_is_not_found_as_its_company_elsewhere():
    """The applicant's name found again on other pages must not be the start of its
    branch's name (a typed audit note, a scanned certificate read one character wrong)."""
    company = "陕西华衡科技服务有限公司"
    branch = company + "西安分公司"
    misread = branch.replace("有限", "有眼")
    fields = read(
        ("申请报告.docx", "application_report", [f"申报单位：{company}"]),
        ("审计报告.pdf", "audit_report", [f"{branch}财务报表附注"], "text"),
        ("资质.jpg", "qualification", [f"{misread}"], "ocr"),
    )
    assert names(fields, "审计报告.pdf") == set()
    assert names(fields, "资质.jpg") == set()


def test_a_branch_lease_against_its_company_is_an_inconsistency():
    company = "陕西华衡科技服务有限公司"
    fields = read(
        ("申请报告.docx", "application_report", [f"申报单位：{company}"]),
        ("租赁合同.pdf", "premises_proof", [f"承租方：{company}西安分公司"], "text"),
    )
    facts = Facts(materials=[], fields=fields)
    (finding,) = [f for f in evaluate(load_pack("xian-2018"), facts) if f.criterion == "x.name_consistent"]  # fmt: skip
    assert finding.status == "fail"
    assert f"“{company}西安分公司”是“{company}”的分支机构名称" in finding.message


def value(v: str, material: str, origin: str = "text", conf: float = 0.99, note=None):
    return FieldValue(
        field="applicant.name",
        value=v,
        file=f"{material}.pdf",
        page=1,
        text=v,
        confidence=conf,
        material=material,
        origin=origin,
        note=note,
    )


@pytest.mark.parametrize(
    ("licence", "status", "says"),
    [
        # Both typed and read plainly: certain.
        (value("陕西华衡科技服务有限公司西安分公司", "business_licence"), "fail", "分支机构"),
        # A photographed licence: the reader may have joined the next line to the name.
        (value("陕西华衡科技服务有限公司西安分公司", "business_licence", "ocr", 0.92), "review",
         "识别自扫描件或照片"),
        (value("陕西华衡科技服务有限公司西安分公司", "business_licence", conf=0.5), "review",
         "读取置信度低（0.5）"),
        (value("陕西华衡科技服务有限公司西安分公司", "business_licence", note="取自文字匹配"),
         "review", "系推断所得"),
        # 有限责任公司 / 有限公司 print one company; its branch is still not it.
        (value("陕西华衡科技服务有限责任公司西安分公司", "business_licence"), "fail", "分支机构"),
    ],
)  # fmt: skip
def test_a_branch_fails_only_when_both_names_were_read_plainly(licence, status, says):
    application = value("陕西华衡科技服务有限公司", "application_report")
    facts = Facts(materials=[], fields={"applicant.name": [application, licence]})
    out = consistent(facts, ["applicant.name"])
    assert out.status == status and says in out.context["reason"]
    assert "分支机构名称" in out.context["reason"]
