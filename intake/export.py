"""A round as an XLSX workbook for the committee (XlsxWriter): one row per dossier with its
verdict, counts, key figures read and declared and one column per criterion with its
status, under a frozen header with filters; then a sheet per failed criterion listing the
dossiers that fail it. Built from ``intake.overview.round_summary``, so the workbook holds
exactly what ``GET /api/rounds/{round}/summary`` gives. (XlsxWriter writes a round of
1,000 dossiers in a fraction of the time openpyxl takes; the tests read it back with
openpyxl.)"""

from __future__ import annotations

import io
import re
from typing import Any

import xlsxwriter

from extractors.vocabulary import field_kinds
from intake.overview import KEY_FIGURES, STATE_NAMES, VERDICT_NAMES, figure_names
from intake.reports.html import STATUS_NAMES

MAIN_SHEET = "申报汇总"
ID_HEADER = "编号"
# The leading columns: header → the summary row's key.
LEADING = (
    ("申报单位", "name"),
    ("区县", "district"),
    ("统一社会信用代码", "credit_code"),
    ("状态", "state"),
    ("初审结论", "verdict"),
    ("不符合项", "fail"),
    ("待审核项", "review"),
    ("缺失项", "missing"),
    ("符合项", "pass"),
)
HOW = {"read": "材料读取", "declared": "申请报告填报"}
NUMBER_FORMATS = {"money": "#,##0.00", "area": "#,##0.00", "share": "0.0%", "count": "0"}
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


def figure_headers() -> list[tuple[str, str, str]]:
    """(header, field, read|declared) of each key figure column, e.g. 资产总额（材料读取）."""
    names = figure_names()
    return [(f"{names[name]}（{HOW[how]}）", name, how) for name in KEY_FIGURES for how in HOW]


def criterion_headers(titles: dict[str, str]) -> dict[str, str]:
    """Each criterion → its column header: the pack's title (its id added where two
    criteria share a title)."""
    seen: dict[str, int] = {}
    for title in titles.values():
        seen[title] = seen.get(title, 0) + 1
    return {c: (t if seen[t] == 1 else f"{t}（{c}）") for c, t in titles.items()}


def _cell(key: str, row: dict[str, Any]) -> Any:
    value = row[key]
    if key == "state":
        return STATE_NAMES.get(value, value)
    if key == "verdict":
        return VERDICT_NAMES.get(value, value)
    return value


def _sheet_title(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = _SHEET_TITLE_BAD.sub("_", title).strip("'")[:28] or "条款"
    name, n = base, 2
    while name in taken or name == MAIN_SHEET:
        name, n = f"{base[:26]}_{n}", n + 1
    taken.add(name)
    return name


def _table(sheet, header_format, headers: list[str], widths: list[int], rows: int) -> None:
    """The header row, column widths, the frozen header and name column, and filters."""
    sheet.write_row(0, 0, headers, header_format)
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    sheet.freeze_panes(1, 1)  # the header row and the applicant's name stay in view
    sheet.autofilter(0, 0, max(rows, 1), len(headers) - 1)


def round_workbook(summary: dict[str, Any]) -> bytes:
    """The workbook of a round summary (``round_summary``) as XLSX bytes."""
    out = io.BytesIO()
    # Text stays text: a name such as "=HYPERLINK(…)" must never become a formula.
    options = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    book = xlsxwriter.Workbook(out, options)
    header_format = book.add_format(
        {"bold": True, "bg_color": "#DDE5F0", "text_wrap": True, "valign": "vcenter"}
    )
    kinds = field_kinds()
    number_formats = {
        kind: book.add_format({"num_format": code}) for kind, code in NUMBER_FORMATS.items()
    }
    figures = figure_headers()
    figure_formats = [number_formats.get(kinds.get(name, "")) for _, name, _ in figures]
    criteria = criterion_headers(summary["titles"])
    headers = [h for h, _ in LEADING] + [h for h, _, _ in figures] + list(criteria.values())
    headers.append(ID_HEADER)
    sheet = book.add_worksheet(MAIN_SHEET)
    rows = summary["rows"]
    first = len(LEADING)
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, [_cell(key, row) for _, key in LEADING])
        for offset, (_, name, how) in enumerate(figures):
            value = row["figures"][name][how]
            if value is not None:
                sheet.write_number(r, first + offset, value, figure_formats[offset])
        statuses = [STATUS_NAMES.get(row["statuses"].get(c), "") for c in criteria]
        sheet.write_row(r, first + len(figures), [*statuses, row["id"]])
    widths = [36, 10, 22, 8, 14, 8, 8, 8, 8] + [14] * len(figures) + [12] * len(criteria) + [34]
    _table(sheet, header_format, headers, widths, len(rows))

    taken: set[str] = set()
    by_id = {row["id"]: row for row in rows}
    for criterion in summary["criteria"]:
        if not criterion["fail"]:
            continue
        failing = book.add_worksheet(_sheet_title(criterion["title"], taken))
        failing.set_tab_color("#C0392B")
        ids = criterion["dossiers"]["fail"]
        for r, dossier_id in enumerate(ids, start=1):
            row = by_id[dossier_id]
            failing.write_row(
                r, 0,
                [row["name"], row["district"], row["credit_code"],
                 VERDICT_NAMES.get(row["verdict"], row["verdict"]), row["id"]],
            )  # fmt: skip
        _table(
            failing, header_format, ["申报单位", "区县", "统一社会信用代码", "初审结论", ID_HEADER],
            [36, 10, 22, 14, 34], len(ids),
        )  # fmt: skip
    book.close()
    return out.getvalue()
