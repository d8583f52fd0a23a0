"""Names of organisations and persons as Chinese documents print them: where an
organisation's whole name ends (to its last suffix, a branch being its own name), whether
one is a branch of another, and whether a short run of Han characters is a person's name."""

from __future__ import annotations

import re

# How an organisation's name ends (企业名称登记管理规定: 行政区划 + 字号 + 行业 + 组织形式).
# A company's legal form (有限公司 …) ends a company's name; a branch's name is its
# company's name followed by its own part (…有限公司西安分公司, …支公司, …研究院西安分院,
# …事务所（特殊普通合伙）陕西分所); an institution's word (研究院, 中心, 大学 …) may be followed
# by more of the name (…研究院有限公司, …大学科技园有限公司); a partnership's form is
# printed in brackets after the name (合伙企业法: （普通合伙）, （特殊普通合伙）, （有限合伙）).
_NAME_CHARS = r"[\u4e00-\u9fff()（）A-Za-z0-9·]"
_COMPANY_FORM = (
    r"(?:股份有限公司|有限责任公司|有限公司|集团公司|股份公司|公司|合伙企业|个人独资企业)"
)
BRANCH_SUFFIX = (
    r"(?:中心支公司|分公司|支公司|分院|分所|分中心|办事处|分行|支行|营业部|分会|分社|分校|分店)"
)
_INSTITUTION = (
    r"(?:服务中心|中心|研究院|研究所|协会|学会|商会|促进会|联合会|事务所|合作社|孵化器|大学|学院|"
    r"研究会|基金会|园区|基金)"
)
_PARTNERSHIP = r"[(（](?:有限合伙|特殊普通合伙|普通合伙)[)）]"
_ORG_SUFFIX = rf"(?:{_COMPANY_FORM}|{BRANCH_SUFFIX}|{_INSTITUTION})"
_ORG = re.compile(rf"{_NAME_CHARS}{{2,40}}?{_ORG_SUFFIX}")
# 个体工商户 (个体工商户名称登记管理办法 第十条: 厂、店、馆、部、行、中心 …): read only where
# no other form is and where the name ends, before a delimiter (…行者户外用品店, not …区行;
# not …旅行网).
_SOLE_TRADER = re.compile(r"(?:工作室|经营部|门市部|商行|商店|店|厂|部|行|馆)$")
# What never stands inside a name but follows one in a form or a sentence without a space:
# the next label (法定代表人, 统一社会信用代码 …), a verb (是, 成立于, 位于), a seal's place.
NAME_STOP = re.compile(
    r"是|的|位于|成立|注册资本|注册地|与|及|在|法定代表人|法人代表|负责人|统一社会信用代码|"
    r"社会信用代码|信用代码|类型|住所|地址|经营范围|营业期限|经营场所|营业场所|联系人|电话|"
    r"日期|[(（](?:盖章|公章|签章|签字|印章|章)[)）]|以下简称"
)
# What may continue a name after each kind of ending: after a company's form, a branch's
# part or a subordinate research institute (…集团公司第二十研究所); after a branch's part or
# a partnership's form, only a further branch's part (…分行营业部); after an institution's
# word, a partnership's form or more of the name up to any ending.
_AFTER = {
    "company": re.compile(
        rf"{_PARTNERSHIP}|{_NAME_CHARS}{{0,15}}?(?:{BRANCH_SUFFIX}|研究院|研究所)"
    ),
    "branch": re.compile(rf"{_NAME_CHARS}{{0,15}}?{BRANCH_SUFFIX}"),
    "institution": re.compile(rf"{_PARTNERSHIP}|{_NAME_CHARS}{{0,20}}?{_ORG_SUFFIX}"),
}
_ENDING = re.compile(
    rf"(?P<branch>{BRANCH_SUFFIX}|{_PARTNERSHIP})$|(?P<institution>{_INSTITUTION})$"
    rf"|(?P<company>{_COMPANY_FORM})$"
)


def org_name(text: str) -> int | None:
    """Where the organisation's name that ``text`` starts with ends: the whole name, to
    the last ending that continues it (a branch's part, a partnership's form, a company
    after an institution's word), before a delimiter, the next label or a verb."""
    stop = NAME_STOP.search(text, 2)
    line = text[: stop.start()] if stop else text
    m = _ORG.match(line)
    if m is not None:
        return name_end(line, m.end())
    run = re.match(rf"{_NAME_CHARS}{{3,40}}", line)
    return run.end() if run and _SOLE_TRADER.search(run.group(0)) else None


def is_branch(name: str) -> bool:
    """Is ``name`` a branch's (…分公司, …支公司, …分院, …办事处, …分中心 …)?"""
    return re.search(rf"{BRANCH_SUFFIX}$", name) is not None


def branch_of(name: str, parent: str) -> bool:
    """Is ``name`` the name of a branch of ``parent`` (its name followed by a branch's
    part: 陕西XX有限公司 → 陕西XX有限公司西安分公司, or a branch's branch)?"""
    rest = name[len(parent) :] if name.startswith(parent) else ""
    return (
        bool(rest)
        and re.fullmatch(rf"(?:{_NAME_CHARS}{{0,15}}?{BRANCH_SUFFIX})+", rest) is not None
    )


def name_end(text: str, end: int) -> int:
    """``end`` moved past whatever continues the name that ends there."""
    while True:
        ending = _ENDING.search(text[max(0, end - 8) : end])
        if ending is None:
            return end
        more = _AFTER[ending.lastgroup].match(text, end)
        if more is None or more.end() == end:
            return end
        end = more.end()


_PERSON = re.compile(r"[\u4e00-\u9fff]{2,4}(?:·[\u4e00-\u9fff]{2,8})?")
_NOT_PERSON = (
    "签字",
    "签章",
    "盖章",
    "姓名",
    "职务",
    "电话",
    "手机",
    "身份证",
    "联系人",
    "主管",
    "会计",
    "负责",
    "机构",
    "单位",
    "代表",
)
# Common Chinese surnames (single and double): a person's name starts with one.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
    "武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒"
    "阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓"
    "古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣"
    "巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满"
    "闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙"
    "浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干"
    "但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
) | {"欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "令狐", "慕容", "尉迟", "夏侯", "端木", "公孙"}


def person_end(text: str) -> int | None:
    """Where the person's name that ``text`` starts with ends: two to four Han characters
    (a minority name with its ·), beginning with a common surname, never a form's word
    (签字, 联系人 …); None if ``text`` does not start with one."""
    m = _PERSON.match(text)
    if not m or any(w in m.group(0) for w in _NOT_PERSON):
        return None
    person = m.group(0)
    if person[0] not in SURNAMES and person[:2] not in SURNAMES:
        return None
    return m.end()


def full_width_brackets(name: str) -> str:
    """Chinese names are written with full-width brackets and no spaces inside them:
    科威勒自动化（上海）有限公司, （特殊普通合伙）."""
    name = re.sub(r"\s*[(（〈《]+\s*", "（", name)
    return re.sub(r"\s*[)）〉》]+", "）", name)
