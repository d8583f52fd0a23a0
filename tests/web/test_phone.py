"""The three roles on a phone (390 px wide) in Chromium, against a real API process and rq
worker: no page is wider than the screen, the navigation reads as words, the applicant's
to-do list puts what to fix first and what reviewers check apart, the upload list follows
its files (a duplicate says so), and the page viewer's close button is on screen. Every
page is checked with axe-core at 390 px and at 1280 px.

One small dossier (a DOCX and a text PDF: seconds to process), its own server and Redis
database, so the walk does not wait on the slow scanned dossier of ``test_browser``.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import httpx
import pytest
from redis import Redis

from intake.reports.todo import KINDS
from tests.fixtures import factory
from tests.fixtures.sample import APPLICATION, NAME
from tests.integration.processes import cli, running
from tests.web.test_browser import (  # noqa: F401  (browser is a fixture)
    DESKTOP,
    PASSWORD,
    PHONE,
    SHOTS,
    _close,
    _login,
    axe_check,
    browser,
    fits,
)

pytestmark = pytest.mark.integration

REDIS_DB = 12  # this module's own Redis database, emptied afterwards
APPLICANT, REVIEWER, BUREAU = "终南服务", "王专家", "市局赵"
AUDIT = "03-2017年度审计报告.pdf"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("phone-data")
    env = {
        **os.environ,
        "INTAKE_DATA_DIR": str(data),
        "INTAKE_DATABASE_URL": f"sqlite:///{data / 'intake.db'}",
        "INTAKE_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "INTAKE_QUEUE_NAME": f"test-phone-{uuid.uuid4().hex[:8]}",
        "INTAKE_OCR_WORKERS": "1",
        "INTAKE_CURRENT_ROUND": "2018",
    }
    for name, role in ((APPLICANT, "applicant"), (REVIEWER, "reviewer"), (BUREAU, "bureau")):
        cli(env, "user", "add", name, "--role", role, "--password", PASSWORD)
    logs = tmp_path_factory.mktemp("phone-logs")
    try:
        with running(env, logs) as base:
            yield {"base": base, "env": env}
    finally:
        Redis.from_url(env["INTAKE_REDIS_URL"]).flushdb()


def _files(folder: Path) -> dict[str, Path]:
    """The application (DOCX), an audit report whose total assets (20万元) are under the
    programme's floor (a 不符合 to fix), a zero-byte PDF (a file that cannot be read) and
    a copy of the audit report under another name (a duplicate)."""
    folder.mkdir(parents=True, exist_ok=True)
    application = factory.docx_file(folder / "01-申请报告.docx", APPLICATION)
    audit = factory.text_pdf(
        folder / AUDIT,
        [
            [NAME, "审计报告", "陕信达审字（2018）第0156号"],
            ["审计报告", f"{NAME}全体股东：", "一、审计意见",
             f"我们审计了{NAME}财务报表，包括2017年12月31日的资产负债表。",
             "我们认为，后附的财务报表在所有重大方面按照企业会计准则的规定编制。",
             "陕西信达会计师事务所有限公司　　中国注册会计师：李明"],
            ["资产负债表", "2017年12月31日　单位：元"],
        ],
        table=[
            ["项目", "期末余额", "期初余额"],
            ["资产总计", "200,000.00", "180,000.00"],
            ["负债和所有者权益总计", "200,000.00", "180,000.00"],
        ],
        table_page=3,
    )  # fmt: skip
    copy = folder / "审计报告（再次上传）.pdf"
    shutil.copyfile(audit, copy)
    empty = factory.zero_bytes(folder / "空白.pdf")
    return {"application": application, "audit": audit, "copy": copy, "empty": empty}


def check(page, name: str) -> None:
    """The page as it is now fits a phone and a desktop screen and passes axe-core at
    both; a screenshot of the phone view goes to ``$INTAKE_SCREENSHOTS``."""
    page.set_viewport_size(PHONE)
    fits(page, f"{name} at 390 px")
    axe_check(page, f"{name} at 390 px")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"phone-{name}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    fits(page, f"{name} at 1280 px")
    axe_check(page, f"{name} at 1280 px")
    page.set_viewport_size(PHONE)


def nav_reads_as_words(page) -> None:
    """Each link and the account line in the header is on one line (the nav used to wrap
    one character per line on a phone)."""
    lines = page.evaluate(
        """() => [...document.querySelectorAll('header.top a, header.top .who span')]
            .map((e) => [e.textContent.trim(), e.getClientRects().length])"""
    )
    assert lines and all(n == 1 for _, n in lines), lines


def _wait_final(page, uploads: int, seconds: float = 120) -> None:
    """Wait until the dossier is done and every upload's note is final (not 上传中 or
    已上传，排队处理: the upload list used to stop there)."""
    page.wait_for_function(
        """(n) => document.querySelector('#live').dataset.state === 'done'
             && document.querySelector('#verdict')
             && [...document.querySelectorAll('#uploads li .note')].length === n
             && [...document.querySelectorAll('#uploads li .note')].every((e) =>
                  e.textContent === '已完成' || e.textContent.startsWith('失败')
                  || e.textContent.startsWith('重复上传'))""",
        arg=uploads,
        timeout=seconds * 1000,
    )


@pytest.fixture(scope="module")
def phone_dossier(server, browser, tmp_path_factory) -> str:  # noqa: F811
    """The applicant's walk on a phone: create a dossier, upload four files (one empty,
    one a copy of another), read the to-do list."""
    files = _files(tmp_path_factory.mktemp("phone-files"))
    page = _login(browser, server["base"], APPLICANT, PHONE)
    nav_reads_as_words(page)
    check(page, "applicant-home")
    page.fill("input[name=name]", "西安终南企业服务有限公司")
    page.click("form[action='/dossiers'] button[type=submit]")
    page.wait_for_url("**/dossiers/*")
    dossier_id = page.url.rsplit("/", 1)[1]
    check(page, "dossier-empty")

    page.set_input_files(
        "#file-input", [str(files["application"]), str(files["audit"]), str(files["empty"])]
    )
    page.wait_for_function("() => document.querySelectorAll('#uploads li[data-ids]').length === 3")
    page.wait_for_selector("#files tr.file-row[data-file='03-2017年度审计报告.pdf']")
    page.set_input_files("#file-input", str(files["copy"]))
    _wait_final(page, 4)

    # The upload list says how each file ended, the copy as a duplicate, not an error.
    notes = dict(
        zip(
            page.locator("#uploads li > span:first-child").all_inner_texts(),
            page.locator("#uploads li .note").all_inner_texts(),
            strict=True,
        )
    )
    assert notes["01-申请报告.docx"] == "已完成" and notes[AUDIT] == "已完成", notes
    assert notes["空白.pdf"].startswith("失败："), notes
    copy_note = notes["审计报告（再次上传）.pdf"]
    assert copy_note.startswith("重复上传：") and f"“{AUDIT}”" in copy_note, copy_note
    copy_row = page.locator("#files tr.file-row.duplicate")
    assert "重复上传" in copy_row.locator(".file-state").inner_text()

    # The to-do list: the applicant's items first, in order (不符合, 缺失, unreadable
    # files, duplicates), each fix with its action; then, apart, what reviewers check.
    todo = page.locator("#todo")
    kinds = todo.locator("#todo-applicant > li").evaluate_all(
        "(items) => items.map((i) => i.dataset.kind)"
    )
    assert kinds == sorted(kinds, key=KINDS.index), kinds
    assert {"fail", "missing", "file", "duplicate"} <= set(kinds), kinds
    applicant_items = todo.locator("#todo-applicant").inner_text()
    assert "资产总额" in applicant_items and "文件“空白.pdf”无法处理" in applicant_items
    assert "文件“审计报告（再次上传）.pdf”重复上传" in applicant_items
    for item in todo.locator("#todo-applicant > li[data-kind='fail']").all():
        assert "处理办法：" in item.inner_text()
    reviewers = todo.locator("#todo-reviewers > li")
    assert reviewers.count() >= 1
    assert set(reviewers.evaluate_all("(items) => items.map((i) => i.dataset.kind)")) == {"review"}
    assert "申报单位无需操作" in todo.locator("#todo-reviewers-title").inner_text()
    # The fixes come before the reviewers' part on the page.
    assert page.evaluate(
        "() => !!(document.querySelector('#todo-applicant').compareDocumentPosition("
        "document.querySelector('#todo-reviewers')) & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    # People read criteria by title; their ids are only in data attributes.
    ids = page.locator("[data-criterion]").evaluate_all(
        "(items) => [...new Set(items.map((i) => i.dataset.criterion))]"
    )
    shown = page.locator("main").inner_text()
    assert ids and not [i for i in ids if i in shown], [i for i in ids if i in shown]
    nav_reads_as_words(page)
    check(page, "applicant-dossier")
    page.goto("/applicant")
    assert page.locator(f"#dossiers a[href='/dossiers/{dossier_id}']").count() == 1
    check(page, "applicant-list")
    _close(page)
    return dossier_id


def test_the_applicant_uploads_and_reads_the_todo_list_on_a_phone(phone_dossier):
    assert phone_dossier


def test_a_reviewer_views_a_page_and_accepts_an_item_on_a_phone(server, browser, phone_dossier):  # noqa: F811
    token = cli(server["env"], "token", BUREAU).strip()
    assigned = httpx.post(
        f"{server['base']}/api/dossiers/{phone_dossier}/assignments",
        json={"reviewer": REVIEWER},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert assigned.status_code == 201, assigned.text

    page = _login(browser, server["base"], REVIEWER, PHONE)
    nav_reads_as_words(page)
    check(page, "reviewer-home")
    page.click(f"a[href='/dossiers/{phone_dossier}']")
    page.wait_for_selector("#findings")
    check(page, "reviewer-dossier")

    # Each 查看原页 button names its file, page and value; no two are named alike.
    buttons = page.locator("button.view-page")
    names = buttons.evaluate_all("(bs) => bs.map((b) => b.getAttribute('aria-label'))")
    assert names and len(set(names)) == len(names), names
    assert all(re.fullmatch(r"查看原页：.+ 第\d+页（.+）", n) for n in names), names
    audit = page.locator(f"button.view-page[aria-label^='查看原页：{AUDIT} 第3页']").first
    audit.scroll_into_view_if_needed()
    audit.click()
    dialog = page.locator("#page-viewer")
    dialog.wait_for(state="visible")
    page.wait_for_function(
        "() => { const i = document.querySelector('#page-viewer-img'); "
        "return i.complete && i.naturalWidth > 400; }"
    )
    close = dialog.locator("button.viewer-close")
    box = close.bounding_box()
    assert box and box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] + box["height"] <= PHONE["height"], box
    fits(page, "page viewer at 390 px")
    axe_check(page, "page viewer at 390 px")
    page.screenshot(path=str(SHOTS / "phone-page-viewer.png"))
    close.click()
    assert page.evaluate("() => !document.querySelector('#page-viewer').open")

    # Accepting a review item: the message and the history name it by its title.
    form = page.locator(".accept-form").first
    criterion = form.locator("input[name=criterion]").get_attribute("value")
    title = page.locator(f"[id='f-{criterion}'] .finding-title").inner_text()
    form.locator("input[name=comment]").fill("已核对原件")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert f"已确认「{title}」" in page.locator(".flash").inner_text()
    history = page.locator("#history").inner_text()
    assert f"确认「{title}」" in history and criterion not in history
    check(page, "reviewer-history")
    _close(page)


def test_bureau_pages_fit_a_phone(server, browser, phone_dossier):  # noqa: F811
    page = _login(browser, server["base"], BUREAU, PHONE)
    nav_reads_as_words(page)
    assert page.url.endswith("/bureau")
    assert page.locator(f"tr[data-dossier='{phone_dossier}']").count() == 1
    check(page, "bureau-list")
    page.goto("/bureau/reuse")
    page.wait_for_selector("#reuse-files")
    # The copy of the audit report is the same file twice in one dossier, not across two.
    check(page, "bureau-reuse")
    page.goto(f"/dossiers/{phone_dossier}")
    check(page, "bureau-dossier")
    answer = page.goto("/dossiers/no-such-dossier")
    assert answer.status == 404
    check(page, "error")
    _close(page)


def test_the_login_page_fits_a_phone(server, browser):  # noqa: F811
    context = browser.new_context(base_url=server["base"], locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    page.goto("/login")
    check(page, "login")
    page.fill("input[name=name]", APPLICANT)
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "用户名或密码不正确" in page.locator("[role=alert]").inner_text()
    check(page, "login-error")
    context.close()
