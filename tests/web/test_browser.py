"""The three front doors in a real browser: Playwright driving Debian's Chromium against a
real API process and a real rq worker (Redis, the whole pipeline, OCR included).

- an applicant drops a zipped dossier on the page, watches the files move through the
  queue and sees the checklist and the findings; deleting a file updates the report;
- a reviewer opens a finding's page picture, corrects a value and sees the verdict change,
  and downloads the PDF;
- bureau staff assign the reviewer, filter the round, and see a scanned page reused in two
  applicants' dossiers.

Every page these walks show is checked with axe-core at 1280 px (``test_phone`` does
390 px). Screenshots of the main pages go to ``$INTAKE_SCREENSHOTS`` (default
``.screenshots/``).
"""

from __future__ import annotations

import base64
import io
import os
import time
import uuid
import zipfile
from pathlib import Path

import httpx
import pytest
from redis import Redis

from tests.fixtures import factory
from tests.fixtures.sample import write_sample
from tests.integration.processes import cli, running

pytestmark = pytest.mark.integration

CHROMIUM = os.environ.get("INTAKE_TEST_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
REDIS_DB = 10  # this module's own Redis database, emptied afterwards
PASSWORD = "browser-test-pass"
SHOTS = Path(os.environ.get("INTAKE_SCREENSHOTS", Path(__file__).parents[2] / ".screenshots"))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("web-data")
    env = {
        **os.environ,
        "INTAKE_DATA_DIR": str(data),
        "INTAKE_DATABASE_URL": f"sqlite:///{data / 'intake.db'}",
        "INTAKE_REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
        "INTAKE_QUEUE_NAME": f"test-web-{uuid.uuid4().hex[:8]}",
        "INTAKE_OCR_WORKERS": "2",
        "INTAKE_CURRENT_ROUND": "2018",
    }
    for name, role in (
        ("秦岭科技", "applicant"), ("渭水服务", "applicant"), ("张专家", "reviewer"),
        ("市局李", "bureau"),
    ):  # fmt: skip
        cli(env, "user", "add", name, "--role", role, "--password", PASSWORD)
    logs = tmp_path_factory.mktemp("web-logs")
    try:
        with running(env, logs) as base:
            yield {"base": base, "env": env, "logs": logs}
    finally:
        Redis.from_url(env["INTAKE_REDIS_URL"]).flushdb()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing (make setup installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


# Every page runs under the service's Content-Security-Policy (no inline script or style):
# a violation is reported by the browser on the console, and by this listener.
REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (e) =>
    console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`));"""
VIOLATIONS: dict[object, list[str]] = {}


def _watch_csp(context) -> None:
    """Collect the context's Content-Security-Policy violations (``_close`` checks them)."""
    seen = VIOLATIONS.setdefault(context, [])
    context.add_init_script(REPORT_VIOLATIONS)

    def on_console(message) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation"):
            seen.append(f"{message.page.url if message.page else '?'}: {text}")

    context.on("console", on_console)


def _close(page) -> None:
    """Close the page's context; the pages it showed broke no Content-Security-Policy."""
    context = page.context
    seen = VIOLATIONS.pop(context, [])
    context.close()
    assert not seen, "\n".join(seen)


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # a common phone's CSS pixels
# axe-core's impacts that fail a test (minor and moderate ones are reported, not failed).
BLOCKING = ("serious", "critical")


def axe_check(page, where: str = "") -> None:
    """Run axe-core (``axe-playwright-python``) on the page as it is now: no serious or
    critical violation of the WCAG rules axe checks."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not bad, f"axe on {where or page.url}:\n" + "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in bad
    )


def fits(page, where: str = "") -> None:
    """Nothing on the page is wider than the window (no sideways scrolling); the widest
    offenders are named when it fails."""
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width <= inner:
        return
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .slice(0, 8)
            .map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                 + (e.className && typeof e.className === 'string' ? '.' + e.className : '')
                 + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )
    raise AssertionError(f"{where or page.url} is {width}px wide in {inner}px: {wide}")


def _login(browser, base: str, name: str, viewport: dict | None = None, password: str = PASSWORD):
    context = browser.new_context(base_url=base, locale="zh-CN", viewport=viewport or DESKTOP)
    context.set_default_timeout(30_000)
    _watch_csp(context)
    page = context.new_page()
    page.goto("/")
    assert "/login" in page.url  # nothing without an account
    axe_check(page, "login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _wait_done(page, seconds: float = 240) -> list[str]:
    """Wait for the dossier to be done; the file states seen on the way."""
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for label in page.locator("#files td.file-state").all_inner_texts():
            if label.strip() and label.strip() not in seen:
                seen.append(label.strip())
        if (
            page.locator("#live").get_attribute("data-state") == "done"
            and page.locator("#verdict").count()
        ):
            return seen
        time.sleep(0.25)
    raise AssertionError(f"dossier not done in {seconds}s; states seen: {seen}")


def _zip(folder: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"申报材料/{path.name}")
    return out.getvalue()


def _drop(page, name: str, data: bytes) -> None:
    """Drag a file onto the drop zone, as a person does from the desktop."""
    transfer = page.evaluate_handle(
        """([name, b64]) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, { type: "application/zip" }));
            return dt;
        }""",
        [name, base64.b64encode(data).decode()],
    )
    page.dispatch_event("#dropzone", "dragover", {"dataTransfer": transfer})
    page.dispatch_event("#dropzone", "drop", {"dataTransfer": transfer})


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("sample") / "dossier")


@pytest.fixture(scope="module")
def applicant_dossier(server, browser, sample) -> str:
    """The applicant's walk: create a dossier, drop the zip, watch it, read the findings,
    delete a file and see the report follow."""
    page = _login(browser, server["base"], "秦岭科技")
    assert page.url.endswith("/applicant")
    axe_check(page, "applicant home")
    page.fill("input[name=name]", "西安秦岭科技服务有限公司")
    page.select_option("select[name=district]", "高新区")
    page.click("form[action='/dossiers'] button[type=submit]")
    page.wait_for_url("**/dossiers/*")
    dossier_id = page.url.rsplit("/", 1)[1]
    assert "已创建" in page.locator(".flash").inner_text()

    _drop(page, "申报材料.zip", _zip(sample))
    page.wait_for_selector("#uploads li[data-ids]")  # the upload was taken
    seen = _wait_done(page)
    # The files went through the queue, visibly: some state short of done was shown.
    assert any(s.startswith(("排队中", "解析", "文字识别", "等待")) for s in seen), seen
    rows = page.locator("#files tbody tr")
    assert rows.count() == 7
    assert page.locator("#files td.file-state").all_inner_texts().count("已完成") == 7
    # The upload list follows the files to the end (it used to say 已上传，排队处理 forever).
    page.wait_for_function(
        "document.querySelector('#uploads li .note').textContent.includes('已完成 7')"
    )

    checklist = page.locator("#checklist").inner_text()
    assert "营业执照" in checklist and "✓ 已提交" in checklist
    findings = page.locator("#findings")
    assert findings.locator(".finding").count() >= 20
    # People read the criteria's titles; the ids stay in the data attributes.
    assert findings.locator("[id='f-12.1.total_assets'] .finding-title").inner_text() == "资产总额"
    assert "12.1.total_assets" not in page.locator("main").inner_text()
    verdict = page.locator(".verdict").inner_text()
    assert "初审结论" in verdict
    _shot(page, "1-applicant-dossier")
    axe_check(page, "applicant dossier")
    fits(page, "applicant dossier")

    # Delete the declaration: the report is rebuilt and the checklist says it is missing.
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator("#files tr", has_text="真实性声明")
    row.locator("button[data-delete]").click()
    page.wait_for_function(
        "() => !document.querySelector('#files').innerText.includes('真实性声明')"
    )
    page.wait_for_function(
        "() => /真实性声明（加盖公章）\\s*✗ 缺少/.test(document.querySelector('#checklist').innerText)"
    )
    # The declaration comes back (chosen with the file picker this time) ...
    page.set_input_files("#file-input", str(sample / "07-申报材料真实性声明.jpg"))
    page.wait_for_function(
        "() => /真实性声明（加盖公章）\\s*✓ 已提交/.test(document.querySelector('#checklist').innerText)"
    )
    # ... and replacing a file puts the new version through the queue and into the report.
    newer = factory.png(
        sample.parent / "06-人力资源服务许可证（新版）.png",
        ["人力资源服务许可证", "许可证编号：610131201500123", "单位名称：西安秦岭科技服务有限公司",
         "有效期限：2020年9月至2025年9月", "发证机关：西安市人力资源和社会保障局"],
    )  # fmt: skip
    with page.expect_file_chooser() as chooser:
        page.locator("#files tr", has_text="06-人力资源服务许可证.png").locator(
            "button[data-replace]"
        ).click()
    chooser.value.set_files(str(newer))
    page.wait_for_function("() => document.querySelector('#files').innerText.includes('（新版）')")
    _wait_done(page)
    files = page.locator("#files").inner_text()
    assert "06-人力资源服务许可证.png" not in files and "（新版）" in files
    assert page.locator("#files td.file-state").all_inner_texts().count("已完成") == 7
    _close(page)
    return dossier_id


def test_applicant_uploads_and_sees_findings(applicant_dossier):
    assert applicant_dossier


FOLDER = """async () => {
    const file = (path) => ({
        isFile: true, isDirectory: false, fullPath: path, name: path.split("/").pop(),
        file: (ok) => ok(new File(["x"], path.split("/").pop())),
    });
    const dir = (path, children) => {
        let given = false;
        return {
            isFile: false, isDirectory: true, fullPath: path, name: path.split("/").pop(),
            createReader: () => ({ readEntries: (ok) => {
                const batch = given ? [] : children;
                given = true;
                setTimeout(() => ok(batch));  // as the real one, later
            } }),
        };
    };
    const root = dir("/申报材料", [
        file("/申报材料/01-申请报告.docx"), file("/申报材料/.DS_Store"),
        dir("/申报材料/附件", [file("/申报材料/附件/照片1.jpg")]),
    ]);
    const one = (await window.intakeUpload.collect([root])).map((f) => f.path);
    const two = (await window.intakeUpload.collect([file("/a.pdf"), dir("/b", [file("/b/c.png")])]))
        .map((f) => f.path);
    return [one, two];
}"""


def test_a_dropped_folder_uploads_every_file_in_it(server, browser, applicant_dossier):
    """Chromium gives a dropped folder as directory entries (a script cannot make real ones,
    so the walk is given look-alikes): its files are named as inside the folder, hidden
    files left out; dropped next to other files, a folder keeps its name."""
    page = _login(browser, server["base"], "秦岭科技")
    page.goto(f"/dossiers/{applicant_dossier}")
    one, two = page.evaluate(FOLDER)
    assert one == ["01-申请报告.docx", "附件/照片1.jpg"]
    assert two == ["a.pdf", "b/c.png"]
    _close(page)


def test_reviewer_corrects_a_value_and_the_verdict_changes(server, browser, applicant_dossier):
    # Bureau staff assign the reviewer on their list.
    bureau = _login(browser, server["base"], "市局李")
    row = bureau.locator(f"tr[data-dossier='{applicant_dossier}']")
    row.locator("select[name=reviewer]").select_option("张专家")
    row.locator("form[action$='/assignments'] button").click()
    bureau.wait_for_load_state()
    assert "已将" in bureau.locator(".flash").inner_text()
    assert "张专家" in bureau.locator(f"tr[data-dossier='{applicant_dossier}']").inner_text()
    _close(bureau)

    page = _login(browser, server["base"], "张专家")
    assert page.url.endswith("/reviewer")
    axe_check(page, "reviewer home")
    page.click(f"a[href='/dossiers/{applicant_dossier}']")
    page.wait_for_selector("#findings")
    axe_check(page, "reviewer dossier")
    before = page.locator(".verdict").inner_text()
    assert page.locator("[id='f-12.1.total_assets'] .badge").first.inner_text() == "符合"

    finding = page.locator("[id='f-12.1.total_assets']")
    evidence = finding.locator("li", has_text="03-2017年度审计报告.pdf")
    assert "3,265,000.00" in evidence.inner_text()
    # The page picture opens with the evidence box drawn.
    evidence.locator("button.view-page").click()
    viewer = page.locator("#page-viewer")
    viewer.wait_for(state="visible")
    page.wait_for_function(
        "() => { const i = document.querySelector('#page-viewer-img'); "
        "return i.complete && i.naturalWidth > 400; }"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "2-reviewer-page-picture.png"))  # the dialog, as seen
    axe_check(page, "page viewer")
    viewer.locator("button").click()

    evidence.locator("summary").click()
    evidence.locator("input[name=value]").fill("480000")
    evidence.locator("input[name=comment]").fill("原件资产总计为48万元")
    evidence.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已更正资产总额" in page.locator(".flash").inner_text()
    after = page.locator(".verdict").inner_text()
    assert "不符合" in after and after != before
    assert "不符合" in page.locator("[id='f-12.1.total_assets'] .badge").first.inner_text()
    assert "评审更正" in page.locator("[id='f-12.1.total_assets']").inner_text()
    assert "张专家" in page.locator("#history").inner_text()

    with page.expect_download() as download:
        page.click("a[href$='/report.pdf']")
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    page.goto(f"/dossiers/{applicant_dossier}")
    _shot(page, "3-reviewer-report")
    axe_check(page, "reviewer dossier with history")
    _close(page)


def _merged_with_lease(sample: Path, target: Path) -> Path:
    """Another applicant's merged PDF: its own cover page, then the first applicant's
    scanned lease page copied in (the reuse to catch)."""
    cover = factory.text_pdf(target.with_name("cover.pdf"), [["房屋租赁合同", "渭水服务租赁材料"]])
    return factory.merged_pdf(target, [cover, sample / "04-房屋租赁合同.pdf"])


def test_bureau_sees_a_page_reused_across_two_dossiers(
    server, browser, sample, applicant_dossier, tmp_path
):
    # The second applicant scripts the JSON API with a token (as an integrator would).
    token = cli(server["env"], "token", "渭水服务").strip()
    merged = _merged_with_lease(sample, tmp_path / "渭水-合并材料.pdf")
    with httpx.Client(
        base_url=server["base"], headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as api:
        created = api.post(
            "/api/dossiers", json={"name": "西安渭水企业服务中心", "district": "未央区"}
        )
        assert created.status_code == 201, created.text
        second = created.json()["id"]
        with merged.open("rb") as fh:
            sent = api.post(f"/api/dossiers/{second}/files", files=[("files", (merged.name, fh))])
        assert sent.status_code == 202, sent.text
        deadline = time.monotonic() + 180
        while api.get(f"/api/dossiers/{second}").json()["state"] != "done":
            assert time.monotonic() < deadline, "second dossier not done"
            time.sleep(0.5)
        assert api.get(f"/api/dossiers/{applicant_dossier}").status_code == 404  # not theirs

    page = _login(browser, server["base"], "市局李")
    assert page.url.endswith("/bureau")
    assert page.locator("#dossiers tbody tr").count() == 2
    page.select_option("select[name=district]", "未央区")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#dossiers tbody tr").count() == 1
    page.goto("/bureau?sort=name&order=asc")
    names = page.locator("#dossiers tbody tr td:first-child a").all_inner_texts()
    assert names == ["西安秦岭科技服务有限公司", "西安渭水企业服务中心"]  # by pinyin: qin < wei
    _shot(page, "4-bureau-list")
    axe_check(page, "bureau list")

    page.click("a[href='/bureau/reuse']")
    section = page.locator("#reuse-pages")
    assert "（1）" in section.locator("h2").inner_text()
    text = section.inner_text()
    assert "西安秦岭科技服务有限公司" in text and "西安渭水企业服务中心" in text
    assert "04-房屋租赁合同.pdf 第1页" in text and "渭水-合并材料.pdf 第2页" in text
    page.wait_for_function(
        "() => [...document.querySelectorAll('#reuse-pages img')]"
        ".every((i) => i.complete && i.naturalWidth > 0)"
    )
    # The same premises address in both: the lease is the same.
    assert "创业广场" in page.locator("#reuse-addresses").inner_text()
    _shot(page, "5-bureau-reuse")
    axe_check(page, "reuse")
    page.goto(f"/dossiers/{applicant_dossier}")
    axe_check(page, "bureau dossier")
    _close(page)


def test_pages_work_under_the_content_security_policy(server, browser, applicant_dossier):
    """The pages carry the policy (the flows above ran under it with no violation); the
    full report's one inline stylesheet is allowed by its hash and applies; no page of the
    service can be framed by another site."""
    page = _login(browser, server["base"], "秦岭科技")
    answer = page.goto(f"/dossiers/{applicant_dossier}")
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert answer.headers["x-frame-options"] == "DENY"
    with page.context.expect_page() as opened:
        page.click(f"a[href='/api/dossiers/{applicant_dossier}/report.html']")
    report = opened.value
    report.wait_for_load_state()
    assert "初审结论" in report.locator(".verdict").inner_text()
    axe_check(report, "full report")
    # The hashed stylesheet applied: the verdict box has its coloured background.
    background = report.evaluate(
        "() => getComputedStyle(document.querySelector('.verdict')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), background
    _close(page)

    # Another site framing the correction form's page: the browser refuses to show it.
    other = browser.new_context()
    framer = other.new_page()
    framer.set_content(f'<iframe src="{server["base"]}/login" width="600" height="400"></iframe>')
    framer.wait_for_timeout(1500)
    (child,) = [f for f in framer.frames if f != framer.main_frame]
    assert child.url.startswith("chrome-error:") or child.query_selector("form") is None
    other.close()


def test_the_api_documentation_loads_offline_under_the_policy(server, browser):
    """/docs is Swagger UI from the installed package: no CDN (this machine has no
    internet, so a CDN script would not load), no inline script, every operation listed."""
    context = browser.new_context(base_url=server["base"])
    _watch_csp(context)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto("/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() >= 15
    assert all(url.startswith(server["base"]) or url.startswith("data:") for url in requested)
    _close(page)
