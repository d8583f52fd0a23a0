"""The register of recognised platforms in a real browser (Playwright driving Debian's
Chromium) against a real ``intake serve`` process: bureau staff see the platforms whose
recognition ends this year apart from the others, a revocation with its reason, and an
annual summary's differences; the page passes axe-core and the Content-Security-Policy
and fits a phone; applicants and reviewers are refused.

The platforms are recognised, revoked and sent a summary with ``intake.register``'s own
functions on dossiers whose reports are written out (tests/intake/test_register.py)."""

from __future__ import annotations

import os
from datetime import date

import pytest
from dateutil.relativedelta import relativedelta

from intake.db import migrate, session_scope
from intake.models import Dossier, Platform
from intake.register import (
    PlatformStatus,
    RevokeReason,
    add_summary,
    beijing_today,
    expiry,
    platform_status,
    recognise,
    revoke,
)
from intake.settings import Settings
from tests.accounts import PASSWORD, account
from tests.fixtures import factory
from tests.intake.test_register import APP, CODE, LICENCE, _report, _value
from tests.integration.processes import running
from tests.web.test_browser import DESKTOP, PHONE, _close, _shot, axe_check, fits
from tests.web.test_browser import _login as sign_in
from tests.web.test_browser import browser as browser

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    data = tmp_path_factory.mktemp("register-data")
    settings = Settings(data_dir=data, ocr_workers=1, rate_limit_storage="memory://")
    migrate(settings.db_url)
    today = beijing_today()
    # Ends this year (unless today is 31 December, when it ends on 1 January next year).
    ending = date(today.year, 12, 31) - relativedelta(years=3)
    dates = {
        "甲": ending,
        "乙": date(today.year - 1, 1, 1),
        "丙": date(today.year - 1, 3, 1),
    }
    ids = {}
    with session_scope(settings.db_url) as session:
        for name, on in dates.items():
            dossier = Dossier(name=f"西安{name}服务平台", round=str(on.year), rule_pack="xian-2018")
            session.add(dossier)
            session.flush()
            session.add(_report(dossier.id, {
                "applicant.credit_code": [_value(CODE, LICENCE)],
                "applicant.name": [_value(f"西安{name}服务平台有限公司", LICENCE)],
                "service.smes_served": [_value(150, APP)],
            }))  # fmt: skip
            session.flush()
            ids[name] = recognise(session, dossier, on, "登记员").id
        revoke(session, session.get(Platform, ids["丙"]), RevokeReason.JUDICIAL_PENALTY,
               today, "登记员", "判决书编号略")  # fmt: skip
        summary = factory.docx_file(
            data / "summary.docx",
            [[f"西安乙服务平台{today.year - 1}年度工作总结报告", "服务中小企业数量：180家"]],
        )
        with summary.open("rb") as fh:
            add_summary(session, settings, session.get(Platform, ids["乙"]), today.year - 1,
                        fh, "年度总结.docx", "登记员")  # fmt: skip
    for role in ("applicant", "reviewer", "bureau"):
        account(settings, role, f"名册-{role}")
    env = {**os.environ, "INTAKE_DATA_DIR": str(data), "INTAKE_RATE_LIMIT_STORAGE": "memory://"}
    with running(env, data, worker=False) as base:
        yield {"base": base, "ids": ids, "ending": ending, "today": today}


def _login(browser, base: str, role: str, viewport: dict = DESKTOP):
    return sign_in(browser, base, f"名册-{role}", viewport, PASSWORD)


def test_bureau_staff_see_the_register(browser, site):
    page = _login(browser, site["base"], "bureau")
    page.goto("/bureau/register")
    assert page.locator("h1").inner_text() == "示范平台名册"
    ids = site["ids"]
    ending = platform_status(site["ending"], expiry(site["ending"]), None, site["today"])
    expiring = page.locator("#expiring tr[data-platform]")
    if ending == PlatformStatus.EXPIRING:
        assert expiring.count() == 1
        assert expiring.first.get_attribute("data-platform") == ids["甲"]
        assert "即将到期" in expiring.first.inner_text()
    else:  # 31 December: it ends tomorrow, next year
        assert expiring.count() == 0
    others = page.locator("#register-table tr[data-platform]")
    assert ids["乙"] in [
        others.nth(i).get_attribute("data-platform") for i in range(others.count())
    ]
    revoked = page.locator(f"tr[data-platform='{ids['丙']}']")
    assert revoked.get_attribute("data-status") == "revoked"
    assert "已撤销" in revoked.inner_text() and "被司法机关处罚" in revoked.inner_text()
    uploaded = page.locator(f"tr[data-platform='{ids['乙']}'] li[data-state=uploaded]")
    assert uploaded.count() == 1
    uploaded.locator("summary", has_text="核对发现 1 处不一致").click()
    assert "年度总结报告为180家，认定时申报材料为150家" in uploaded.inner_text()
    axe_check(page, "register")
    fits(page, "register")
    _shot(page, "bureau-register")
    _close(page)


def test_the_register_on_a_phone(browser, site):
    page = _login(browser, site["base"], "bureau", PHONE)
    page.goto("/bureau/register")
    fits(page, "register at 390 px")
    axe_check(page, "register at 390 px")
    _close(page)


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_others_are_refused(browser, site, role):
    page = _login(browser, site["base"], role)
    answer = page.goto("/bureau/register")
    assert answer.status == 403
    assert "账号不能查看示范平台名册" in page.locator("main").inner_text()
    assert page.locator("tr[data-platform]").count() == 0
    _close(page)
