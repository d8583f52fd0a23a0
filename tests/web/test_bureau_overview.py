"""The round overview in a real browser (Playwright driving Debian's Chromium) against a
real ``intake serve`` process: bureau staff see the tallies, the three charts and the
criteria failed most often, follow a criterion to the dossiers that fail it, and the page
passes axe-core and the Content-Security-Policy; applicants and reviewers are refused.

The round is made as ``tests/intake/test_round_overview.py`` makes it (one dossier checked
for real, copies with known statuses), so no worker or OCR is needed here."""

from __future__ import annotations

import os

import pytest

from intake.settings import Settings
from tests.accounts import PASSWORD, account
from tests.intake.test_round_overview import ROUND, make_round
from tests.integration.processes import running
from tests.web.test_browser import DESKTOP, PHONE, _close, _shot, axe_check, fits
from tests.web.test_browser import _login as sign_in
from tests.web.test_browser import browser as browser

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory, samples):
    data = tmp_path_factory.mktemp("overview-data")
    settings = Settings(data_dir=data, ocr_workers=1, rate_limit_storage="memory://")
    ids, _ = make_round(settings, samples)
    for role in ("applicant", "reviewer", "bureau"):
        account(settings, role, f"概览-{role}")
    env = {
        **os.environ,
        "INTAKE_DATA_DIR": str(data),
        "INTAKE_CURRENT_ROUND": ROUND,
        "INTAKE_RATE_LIMIT_STORAGE": "memory://",
    }
    with running(env, data, worker=False) as base:
        yield {"base": base, "ids": ids}


def _login(browser, base: str, role: str, viewport: dict = DESKTOP):
    return sign_in(browser, base, f"概览-{role}", viewport, PASSWORD)


def test_bureau_staff_see_the_round(browser, site):
    page = _login(browser, site["base"], "bureau")
    page.goto("/bureau/overview")
    assert page.locator("h1").inner_text() == "申报批次概览（2026 批次）"
    assert page.locator("#totals dd[data-state=done]").inner_text() == "3"
    assert page.locator("#by-verdict td[data-verdict=fail]").inner_text() == "2"
    charts = page.locator("svg.chart")
    assert charts.count() == 3
    for i in range(3):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 300 and box["height"] > 20
    # the district chart stacks one bar per verdict present: 高新区 has a fail and a pass
    assert page.locator("#districts svg rect.bar").count() == 4
    assert page.locator("#by-district tbody tr").first.get_attribute("data-district") == "高新区"
    # the most failed criterion first; its bar label leads to it, and on to the dossiers
    first = page.locator("#criteria .criterion").first
    assert first.get_attribute("data-criterion") == "12.1.total_assets"
    page.locator("#criteria svg a").first.click()
    assert page.url.endswith("#c-12.1.total_assets")
    first.locator("summary", has_text="不符合的申报（2）").click()
    links = first.locator("details[open] a")
    assert sorted(links.all_inner_texts()) == ["西安乙企业服务中心", "西安甲科技服务有限公司"]
    axe_check(page, "round overview")
    fits(page, "round overview")
    _shot(page, "bureau-overview")
    links.first.click()
    page.wait_for_load_state()
    assert "/dossiers/" in page.url and page.url.endswith("#f-12.1.total_assets")
    _close(page)


def test_the_overview_on_a_phone(browser, site):
    page = _login(browser, site["base"], "bureau", PHONE)
    page.goto("/bureau/overview")
    assert page.locator("svg.chart").count() == 3
    fits(page, "round overview at 390 px")
    axe_check(page, "round overview at 390 px")
    _close(page)


@pytest.mark.parametrize("role", ["applicant", "reviewer"])
def test_others_are_refused(browser, site, role):
    page = _login(browser, site["base"], role)
    answer = page.goto("/bureau/overview")
    assert answer.status == 403
    assert "账号不能查看申报批次概览" in page.locator("main").inner_text()
    assert page.locator("svg.chart").count() == 0
    _close(page)
