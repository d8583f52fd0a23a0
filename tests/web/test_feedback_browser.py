"""The dossier page while files are processed, in Chromium: the upload list follows each
file to done or failed, each file's own feedback shows under it before the dossier is
done, and the changes are said in the page's polite live region."""

from __future__ import annotations

import pytest

from tests.fixtures import factory
from tests.fixtures.sample import write_sample
from tests.web.test_browser import _close, _login, browser, server  # noqa: F401

pytestmark = pytest.mark.integration


def test_upload_list_and_live_region_follow_the_files(server, browser, tmp_path):  # noqa: F811
    sample = write_sample(tmp_path / "dossier")
    application = sample / "01-西安市中小企业公共服务示范平台申请报告.docx"
    lease = sample / "04-房屋租赁合同.pdf"  # a scan: read by OCR, seconds after the docx
    empty = factory.zero_bytes(tmp_path / "空白.pdf")
    page = _login(browser, server["base"], "渭水服务")
    page.fill("input[name=name]", "渭水反馈测试")
    page.click("form[action='/dossiers'] button[type=submit]")
    page.wait_for_url("**/dossiers/*")
    region = page.locator("#announcer")
    assert region.get_attribute("aria-live") == "polite"

    page.set_input_files("#file-input", [str(application), str(lease), str(empty)])
    # The application's own feedback is announced and shown while the scan is still read.
    page.wait_for_function(
        "() => document.querySelector('#announcer').textContent.includes("
        "'01-西安市中小企业公共服务示范平台申请报告.docx：已完成，识别为示范平台申请报告')"
    )
    row = page.locator("#files tr", has_text="申请报告.docx")
    assert "识别为：示范平台申请报告" in row.inner_text()
    assert "91610131MA6TXK1U2Y" in row.inner_text()

    # When every file is done or failed, no upload says it is still waiting.
    # (The three go up in three requests: the dossier may be done for a moment with the
    # application alone, so the wait is for all three notes to be final.)
    page.wait_for_function(
        """() => document.querySelector('#live').dataset.state === 'done'
             && [...document.querySelectorAll('#uploads li .note')].length === 3
             && [...document.querySelectorAll('#uploads li .note')].every(
                  (n) => n.textContent === '已完成' || n.textContent.startsWith('失败'))""",
        timeout=240_000,
    )
    notes = page.locator("#uploads li .note").all_inner_texts()
    assert len(notes) == 3 and not any("排队" in n for n in notes), notes
    assert sum(n == "已完成" for n in notes) == 2, notes
    (failed,) = [n for n in notes if n.startswith("失败")]
    said = page.locator("#files tr", has_text="空白.pdf").locator(".file-note").inner_text()
    assert said.strip() and failed == "失败：" + said.strip()  # the row's reason, word for word
    assert "全部文件处理完成" in region.inner_text()
    todo = page.locator("#todo").inner_text()
    assert "文件“空白.pdf”无法处理" in todo
    _close(page)
