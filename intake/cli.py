"""The ``intake`` command: ``check`` a dossier in-process, or run the ``serve`` and
``worker`` processes of a deployment."""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from intake.settings import get_settings

console = Console(stderr=True)
STAGES = {"parsing": "解析", "ocr": "文字识别"}


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log details to stderr.")
def main(verbose: bool) -> None:
    """申报材料智能预审：检查、服务与后台处理。"""
    from intake.logs import setup_logging

    # INTAKE_LOG_FORMAT: "text" lines for a terminal, "json" lines for a log collector
    setup_logging(get_settings().log_format, logging.INFO if verbose else logging.WARNING)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the JSON report here."
)
@click.option(
    "--html", "html_out", type=click.Path(path_type=Path), help="Write the HTML report here."
)
@click.option("--pdf", "pdf_out", type=click.Path(path_type=Path), help="Also write a PDF here.")
@click.option("--rule-pack", default=None, help="Rule pack to check against (default xian-2018).")
@click.option("--name", default=None, help="A label for the dossier (default: the folder's name).")
def check(
    paths: tuple[Path, ...],
    json_out: Path | None,
    html_out: Path | None,
    pdf_out: Path | None,
    rule_pack: str | None,
    name: str | None,
) -> None:
    """Check a dossier folder, files or a .zip in-process (no Redis needed)."""
    from extractors.errors import UploadRefusedError
    from intake.db import migrate, session_scope
    from intake.dossiers import add_path, create_dossier, files_in
    from intake.pipeline import process_file
    from intake.reports.crops import evidence_crops
    from intake.reports.html import render_html, render_pdf
    from intake.storage import FileStore
    from validators.packs import UnknownRulePackError

    settings = get_settings()
    inputs: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir():
            inputs.extend(files_in(path))
        elif path.is_file():
            inputs.append((path.name, path))
        else:
            _fail(f"找不到文件或文件夹：{path}")
    if not inputs:
        _fail("没有找到可检查的文件。")
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        migrate(settings.db_url)
        store = FileStore(settings.data_dir)
        label = name or (paths[0].name if len(paths) == 1 else "")
        with session_scope(settings.db_url) as session:
            dossier = create_dossier(session, rule_pack or settings.default_rule_pack, label)
            rows = []
            # One archive given alone is the dossier folder zipped: its files keep the
            # names they have inside it.
            alone = len(inputs) == 1 and len(paths) == 1 and paths[0].is_file()
            for file_name, path in inputs:
                rows.extend(
                    add_path(session, store, settings, dossier, file_name, path, is_dossier=alone)
                )
            dossier_id = dossier.id
            jobs = [(r.id, r.name) for r in rows]
    except UnknownRulePackError as exc:
        _fail(str(exc))
    except UploadRefusedError as exc:
        _fail(exc.message)
    except OSError as exc:
        _fail(f"无法读取或写入数据：{exc}（数据目录：{settings.data_dir}）")

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[stage]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bars:
        for file_id, file_name in jobs:
            task = bars.add_task(file_name, total=None, stage="排队")

            def progress(stage: str, done: int, total: int, task=task) -> None:
                bars.update(
                    task,
                    total=total,
                    completed=done,
                    stage=f"{STAGES.get(stage, stage)} {done}/{total}",
                )

            state = process_file(settings, file_id, progress=progress)
            bars.update(
                task, total=1, completed=1, stage="完成" if state == "done" else "[red]失败[/red]"
            )

    report = _built_report(settings, dossier_id)
    out_dir = settings.data_dir / "reports" / dossier_id
    json_out = json_out or out_dir / "report.json"
    html_out = html_out or out_dir / "report.html"
    crops = evidence_crops(report, FileStore(settings.data_dir))
    for target, text in (
        (json_out, json.dumps(report, ensure_ascii=False, indent=1)),
        (html_out, render_html(report, crops)),
    ):
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(target, text)
    if pdf_out:
        pdf_out.parent.mkdir(parents=True, exist_ok=True)
        pdf_out.write_bytes(render_pdf(report, crops))
    _print_summary(report)
    console.print(f"申报材料编号：{dossier_id}（intake recheck 编号 --rule-pack … 可换规则重审）")
    console.print(f"JSON 报告：{json_out.resolve()}")
    console.print(f"HTML 报告：{html_out.resolve()}")
    if pdf_out:
        console.print(f"PDF 报告：{pdf_out.resolve()}")
    _print_verdict(report)


def _built_report(settings, dossier_id: str) -> dict:
    """The report the last file's processing built (or one built now, when no file needed
    processing)."""
    from intake.db import session_scope
    from intake.models import Report
    from intake.pipeline import build_report

    with session_scope(settings.db_url) as session:
        report = session.get(Report, dossier_id)
        if report is not None:
            return report.content
    return build_report(settings, dossier_id)


def _write_atomic(target: Path, text: str) -> None:
    with tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target.parent, delete=False, suffix=".tmp"
    ) as fh:
        fh.write(text)
    Path(fh.name).replace(target)


def _print_summary(report: dict) -> None:
    names = {
        "pass": "[green]符合[/green]",
        "fail": "[red]不符合[/red]",
        "missing": "[yellow]缺失[/yellow]",
        "review": "[blue]待审核[/blue]",
    }
    table = Table(title="审查结果", show_lines=False)
    table.add_column("检查项")
    table.add_column("结果")
    table.add_column("说明", overflow="fold")
    for f in report["findings"]:
        title = f.get("title") or f["criterion"]
        table.add_row(title, names.get(f["status"], f["status"]), escape(f["message"]))
    console.print(table)
    for f in report["files"]:
        if f["state"] == "failed":
            said = "重复上传" if f["error"]["code"] == "duplicate" else "无法处理"
            console.print(f"[red]{said}[/red] {escape(f['file'])}：{escape(f['error']['message'])}")


def _print_verdict(report: dict) -> None:
    """The last line: the verdict (failed files counted), as the reports give it."""
    from intake.reports.html import verdict, verdict_line

    colour = {"fail": "red", "missing": "yellow", "review": "blue", "pass": "green"}
    status = verdict(report)["status"]
    console.print(f"[bold {colour.get(status, 'white')}]{escape(verdict_line(report))}[/]")


def _fail(message: str) -> None:
    console.print(f"[red]错误：[/red]{message}")
    sys.exit(1)


@main.command()
@click.argument("dossier_id")
@click.option("--rule-pack", required=True, help="The rule pack to judge against now.")
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path), help="Write the JSON report here."
)
def recheck(dossier_id: str, rule_pack: str, json_out: Path | None) -> None:
    """Judge a checked dossier again against another rule pack, without parsing again."""
    from intake.db import migrate
    from intake.dossiers import DossierPurgedError
    from intake.pipeline import build_report
    from validators.packs import UnknownRulePackError, load_pack

    settings = get_settings()
    migrate(settings.db_url)
    try:
        load_pack(rule_pack)
        report = build_report(settings, dossier_id, rule_pack=rule_pack)
    except UnknownRulePackError as exc:
        _fail(str(exc))
    except DossierPurgedError as exc:
        _fail(exc.message)
    except LookupError:
        _fail(f"找不到申报材料：{dossier_id}（数据目录：{settings.data_dir}）")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(json_out, json.dumps(report, ensure_ascii=False, indent=1))
    _print_summary(report)
    _print_verdict(report)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="uvicorn worker processes (a deployment: about one per core).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP API and the web pages (FastAPI under uvicorn)."""
    import uvicorn

    from intake.metrics import prepare_multiprocess

    # No "server: uvicorn" header on every answer: it tells an attacker what to try. In
    # JSON, uvicorn's lines go through ours (log_config=None) and its access line (the
    # query string, in text) gives way to intake.access, one JSON line a request. Several
    # processes need the app as an import string (each builds its own).
    json_logs = get_settings().log_format == "json"
    # Before uvicorn starts its processes: one HTTP histogram summed over all of them.
    prepare_multiprocess(workers)
    uvicorn.run(
        "intake.api:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        server_header=False,
        log_config=None if json_logs else uvicorn.config.LOGGING_CONFIG,
        access_log=not json_logs,
    )


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option(
    "--queues",
    default=None,
    help="要处理的队列，按优先顺序，逗号分隔：quick（DOCX、文字版 PDF）、ocr（图片、扫描件）；"
    "默认 INTAKE_WORKER_QUEUES（quick,ocr）。",
)
def worker(burst: bool, queues: str | None) -> None:
    """Run an rq worker on the parse queues, quick files first (it reconciles at start and
    every minute between jobs: see worker.runner)."""
    from intake.queue import parse_lanes
    from worker.runner import run

    settings = get_settings()
    try:
        parse_lanes(queues or settings.worker_queues)
    except ValueError as exc:  # an unknown queue name
        _fail(str(exc))
    run(settings, burst=burst, queues=queues)


@main.command(name="backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
def backup_command(dest: Path) -> None:
    """Copy the database and the file store into a new folder under DEST (README: Backups)."""
    from intake.backup import BackupError, backup

    try:
        done = backup(get_settings(), dest)
    except BackupError as exc:
        _fail(str(exc))
        return
    size = done.bytes / (1 << 20)
    console.print(
        f"已备份到 {done.folder}：数据库（{done.database}，版本 {done.revision or '无'}）、"
        f"{done.files} 个文件（{size:.1f} MB），用时 {done.seconds} 秒"
    )


@main.command()
@click.option(
    "--before",
    "before",
    required=True,
    metavar="ROUND",
    help="批次，如 2026：清理它以前各批次的申报。",
)
@click.option("--dry-run", is_flag=True, help="只列出将清理的内容，不做任何改动。")
@click.option("--yes", is_flag=True, help="不再询问确认（用于脚本）。")
@click.option(
    "--actor",
    default=None,
    help="审计记录中的操作人（默认：运行命令的系统用户）。",
)
def purge(before: str, dry_run: bool, yes: bool, actor: str | None) -> None:
    """Remove the uploads and parses of the rounds before ROUND, keeping their reports,
    report versions, reviews, file list and audit trail (README: Backups, Retention).
    Run `intake backup DEST` first: what is purged cannot be brought back otherwise.
    Refused while a file of those rounds is queued or being parsed; the current round is
    never purged. Running it again finishes a purge that stopped halfway."""
    from intake.db import migrate
    from intake.purge import PurgeError, purge_before

    settings = get_settings()
    migrate(settings.db_url)
    who = actor or _system_user()
    try:
        if dry_run or not yes:  # what would go, first
            plan = purge_before(settings, before, who, dry_run=True)
            if not plan.changed:
                console.print(f"{before} 批次以前没有需要清理的申报材料。")
                return
            _print_purge(plan)
            if dry_run:
                console.print("（试运行：未做任何改动。）")
                return
            click.confirm(
                "清理后原件和解析结果无法恢复（报告和审计记录保留）。建议先运行 intake backup。"
                "确定清理吗？",
                abort=True,
                err=True,
            )
        done = purge_before(settings, before, who, dry_run=False)
    except PurgeError as exc:
        _fail(str(exc))
        return
    if not done.changed:
        console.print(f"{before} 批次以前没有需要清理的申报材料。")
        return
    _print_purge(done, listed=not yes)


def _system_user() -> str:
    """The account running a command, for the audit trail (the command line has no login)."""
    import getpass

    try:
        return f"{getpass.getuser()}（命令行）"[:64]
    except (KeyError, OSError):
        return "命令行"


def _print_purge(result, listed: bool = False) -> None:
    """What a purge took (or, dry, would take): dossiers, files and bytes, in Chinese (the
    dossiers unless ``listed`` already)."""
    table = Table(title=f"{result.before} 批次以前的申报材料", show_lines=False)
    table.add_column("批次", no_wrap=True)
    table.add_column("申报材料", overflow="fold")
    table.add_column("编号", no_wrap=True, min_width=32)
    for column in ("文件", "大小", "共用"):
        table.add_column(column, justify="right", no_wrap=True)
    for d in result.dossiers:
        name = escape(d.name or "（未命名）")
        table.add_row(d.round, name, d.id, str(d.files), _size(d.bytes), str(d.shared))
    if result.dossiers and not listed:
        console.print(table)
    done = "将" if result.dry_run else "已"
    console.print(
        f"{done}清理 {len(result.dossiers)} 份申报（共 {result.files} 个文件记录，保留）的原件："
        f"删除上传文件 {result.blobs} 个、解析结果 {result.documents} 份（解析记录 "
        f"{result.parses} 条），共 {_size(result.bytes)}。"
        "报告、报告版本、评审记录和审计记录均保留。"
    )
    if result.shared:
        console.print(
            f"{result.shared} 个文件的内容仍被未清理的申报或年度总结报告使用（“共用”），予以保留。"
        )
    if result.recent:
        console.print(f"{result.recent} 个文件刚被重新上传过，本次暂不删除；之后再次运行即可清理。")


def _size(size: int) -> str:
    """Bytes as people read them: 812 B, 35.2 KB, 1.4 MB, 2.1 GB."""
    for unit, shift in (("GB", 30), ("MB", 20), ("KB", 10)):
        if size >= 1 << shift:
            return f"{size / (1 << shift):.1f} {unit}"
    return f"{size} B"


@main.command()
def reconcile() -> None:
    """Queue again the files the database says are owed work and Redis has no job for."""
    from intake.db import migrate
    from intake.reconcile import reconcile as run

    settings = get_settings()
    migrate(settings.db_url)
    again = run(settings)
    console.print(f"重新排队的文件：{len(again)} 个")


@main.command()
@click.option(
    "--in-process",
    is_flag=True,
    help="Parse here, one file after another, instead of queueing for the workers.",
)
def reparse(in_process: bool) -> None:
    """Parse again the files parsed by an older version (e.g. before page picture hashes,
    which the bureau's cross-dossier view needs); their reports are rebuilt."""
    from intake.db import migrate
    from intake.pipeline import process_file
    from intake.reconcile import outdated_files, queue_again

    settings = get_settings()
    migrate(settings.db_url)
    files = outdated_files(settings)
    if not files:
        console.print("没有需要重新解析的文件。")
        return
    if not in_process:
        queued = queue_again(settings, files)
        console.print(f"已重新排队 {queued} 个文件，由后台处理进程解析。")
        return
    for n, file_id in enumerate(files, 1):
        process_file(settings, file_id)
        console.print(f"已重新解析 {n}/{len(files)}")


@main.command()
@click.option("--round", "round_", default=None, help="申报批次，如 2026（默认：当前批次）。")
@click.argument("out", type=click.Path(path_type=Path))
def export(round_: str | None, out: Path) -> None:
    """Write a round as an XLSX workbook for the committee (as GET
    /api/rounds/{round}/export.xlsx gives it)."""
    from intake.db import migrate, session_scope
    from intake.export import round_workbook
    from intake.overview import round_summary

    if out.suffix.lower() != ".xlsx":
        _fail(f"输出文件应以 .xlsx 结尾：{out}")
    if out.is_dir():
        _fail(f"输出路径是一个文件夹：{out}")
    settings = get_settings()
    chosen = (settings.round if round_ is None else round_).strip()
    if not chosen or len(chosen) > 16 or any(ord(c) < 32 or ord(c) == 127 for c in chosen):
        _fail("批次应为不超过 16 个字符的一行文字，如 2026")
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        summary = round_summary(session, chosen)
    if not summary["dossiers"]:
        console.print(f"[yellow]注意：[/yellow]{chosen} 批次没有申报，导出的是空表。")
    book = round_workbook(summary)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, delete=False, suffix=".tmp") as fh:
            fh.write(book)
        Path(fh.name).replace(out)
    except OSError as exc:
        _fail(f"无法写入 {out}：{exc.strerror or exc}")
    console.print(f"已导出 {chosen} 批次 {summary['dossiers']} 份申报：{out.resolve()}")


@main.command()
def migrate_db() -> None:
    """Bring the database schema up to date."""
    from intake.db import migrate

    migrate(get_settings().db_url)
    console.print("数据库已是最新版本。")


@main.group()
def user() -> None:
    """Accounts: applicants, reviewers and bureau staff."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["applicant", "reviewer", "bureau"]),
    help="applicant (申报单位), reviewer (评审专家) or bureau (主管部门).",
)
@click.option(
    "--password",
    prompt="密码",
    hide_input=True,
    confirmation_prompt="再次输入密码",
    help="Asked for when not given (avoid putting it in shell history).",
)
def user_add(name: str, role: str, password: str) -> None:
    """Create an account."""
    from intake.auth import AccountError, add_user
    from intake.db import migrate, session_scope

    settings = get_settings()
    migrate(settings.db_url)
    try:
        with session_scope(settings.db_url) as session:
            add_user(session, name, role, password)
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"已创建账号 {name}（{role}）。")


@user.command("list")
def user_list() -> None:
    """List the accounts."""
    from sqlalchemy import select

    from intake.db import migrate, session_scope
    from intake.models import User

    settings = get_settings()
    migrate(settings.db_url)
    table = Table("用户名", "角色", "状态", "创建时间")
    with session_scope(settings.db_url) as session:
        for u in session.scalars(select(User).order_by(User.created_at)):
            state = "启用" if u.active else "停用"
            table.add_row(u.name, u.role, state, f"{u.created_at:%Y-%m-%d}")
    Console().print(table)


@user.command("password")
@click.argument("name")
@click.option("--password", prompt="新密码", hide_input=True, confirmation_prompt="再次输入新密码")
def user_password(name: str, password: str) -> None:
    """Set a new password (the account's browser sessions end)."""
    from intake.auth import AccountError, set_password
    from intake.db import migrate, session_scope

    settings = get_settings()
    migrate(settings.db_url)
    try:
        with session_scope(settings.db_url) as session:
            found = _account(session, name)
            set_password(session, found, password)
    except AccountError as exc:
        _fail(str(exc))
    console.print(f"已更新 {name} 的密码。")


@user.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable an account: its sessions end and its API tokens stop working."""
    _set_active(name, False)
    console.print(f"已停用 {name}，其登录和令牌均已失效。")


@user.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Enable an account again; also clears its failed-login count and the count of login
    attempts on its name from any address (an account under a guessing attack)."""
    from intake.auth import forget_login_attempts

    _set_active(name, True)
    forget_login_attempts(get_settings(), name)
    console.print(f"已启用 {name}。")


def _set_active(name: str, active: bool) -> None:
    from intake.auth import set_active
    from intake.db import migrate, session_scope

    settings = get_settings()
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        set_active(session, _account(session, name), active)


@main.command()
@click.argument("name")
def token(name: str) -> None:
    """Print a new API token for an account (send it as ``Authorization: Bearer …``)."""
    from intake.auth import issue_token
    from intake.db import migrate, session_scope

    settings = get_settings()
    migrate(settings.db_url)
    with session_scope(settings.db_url) as session:
        printed = issue_token(session, _account(session, name))
    click.echo(printed)


def _account(session, name: str):
    from sqlalchemy import select

    from intake.models import User

    found = session.scalar(select(User).where(User.name == name))
    if found is None:
        _fail(f"没有名为“{name}”的账号；请先运行 intake user add {name} --role …")
    return found


if __name__ == "__main__":
    main()
