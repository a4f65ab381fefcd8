"""Downloads: the problem list (问题清单) and the rectification ledger (整改台账), XLSX and
CSV, and the monthly scorecards (XLSX)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from openpyxl import Workbook

from bot.console.auth import Viewer, page_viewer
from bot.console.figures import local_today
from bot.console.listing import TaskFilter, units_for
from bot.console.sheets import Sheet, csv_response, workbook, xlsx_response
from bot.query_bounds import supported_day
from bot.services import Services
from bot.web_state import get_services, get_templates
from probes.guide_check import GUIDE_FINDING_CODES
from tasks.ledger import COLUMNS as LEDGER_COLUMNS
from tasks.ledger import LedgerRow, ledger_rows
from tasks.problem_list import COLUMNS, Period, problem_rows
from tasks.scorecard import (
    TABLE_COLUMNS,
    Month,
    Scorecard,
    board_names,
    monthly_scorecards,
    table_rows,
)

PROBLEM_WIDTHS = (22, 14, 30, 80)
LEDGER_WIDTHS = (6, 9, 22, 20, 12, 22, 50, 11, 11, 8, 30, 14, 11, 10)
SCORECARD_WIDTHS = (6, 28, *([9] * (len(TABLE_COLUMNS) - 2)))
router = APIRouter(prefix="/console/exports")


@router.get("", response_class=HTMLResponse)
def exports_page(
    request: Request,
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
    templates: Jinja2Templates = Depends(get_templates),
) -> Response:
    today = local_today(services)
    units = [u for u in services.catalog.units if viewer.sees(u.code)]
    return templates.TemplateResponse(
        request,
        "console/exports.html",
        {
            "viewer": viewer,
            "nav": "exports",
            "units": units,
            "first": today.replace(day=1).isoformat(),
            "today": today.isoformat(),
            "month": f"{today:%Y-%m}",
        },
    )


@router.get("/problems.xlsx")
def problems_xlsx(
    start: str = "",
    end: str = "",
    unit: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
) -> Response:
    period, rows = problems(services, viewer, start, end, unit)
    book = workbook()
    sheet = Sheet(book, "问题清单", first=True)
    sheet.title(f"政务服务平台问题清单（{period}）", len(COLUMNS))
    sheet.header(COLUMNS, PROBLEM_WIDTHS)
    sheet.rows(rows)
    return xlsx_response(book, f"问题清单-{period.first}-{period.last}.xlsx")


@router.get("/problems.csv")
def problems_csv(
    start: str = "",
    end: str = "",
    unit: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
) -> Response:
    period, rows = problems(services, viewer, start, end, unit)
    return csv_response(COLUMNS, rows, f"问题清单-{period.first}-{period.last}.csv")


@router.get("/ledger.xlsx")
def ledger_xlsx(
    start: str = "",
    end: str = "",
    unit: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
) -> Response:
    period, rows = ledger(services, viewer, start, end, unit)
    book = ledger_book(period, rows, local_today(services))
    return xlsx_response(book, f"整改台账-{period.first}-{period.last}.xlsx")


@router.get("/ledger.csv")
def ledger_csv(
    start: str = "",
    end: str = "",
    unit: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
) -> Response:
    period, rows = ledger(services, viewer, start, end, unit)
    cells = [row.cells(n) for n, row in enumerate(rows, 1)]
    return csv_response(LEDGER_COLUMNS, cells, f"整改台账-{period.first}-{period.last}.csv")


@router.get("/scorecards.xlsx")
def scorecards_xlsx(
    month: str = "",
    viewer: Viewer = Depends(page_viewer),
    services: Services = Depends(get_services),
) -> Response:
    chosen = parse_month(services, month)
    cards = scorecards(services, chosen, viewer)
    book = workbook()
    sheet = Sheet(book, "通报", first=True)
    sheet.title(f"{chosen.year}年{chosen.month}月 整改工作通报（责任单位记分）", 6)
    sheet.header(TABLE_COLUMNS, SCORECARD_WIDTHS)
    sheet.rows(table_rows(cards))
    policy = services.catalog.scoring
    sheet.line("")
    sheet.line(f"红榜（≥{policy.red_list_at:g} 分）：{board_names(cards, red=True)}")
    sheet.line(f"黑榜（<{policy.black_list_below:g} 分）：{board_names(cards, red=False)}")
    return xlsx_response(book, f"整改通报-{chosen}.xlsx")


def problems(
    services: Services, viewer: Viewer, start: str, end: str, unit: str
) -> tuple[Period, list[tuple[str, str, str, str]]]:
    """The problem list of the viewer's units (or of ``unit``) in the asked period."""
    if unit and not viewer.sees(unit):
        raise HTTPException(404, "没有该责任单位")
    period = parse_period(services, start, end)
    units = units_for(services, TaskFilter(unit=unit), viewer.units)
    with services.sessions() as session:
        rows = problem_rows(
            session, services.catalog, services.zone, period, units, GUIDE_FINDING_CODES
        )
    return period, [row.cells() for row in rows]


def ledger(
    services: Services, viewer: Viewer, start: str, end: str, unit: str
) -> tuple[Period, list[LedgerRow]]:
    """The ledger of the viewer's units (or of ``unit`` and those below it) in the period."""
    if unit and not viewer.sees(unit):
        raise HTTPException(404, "没有该责任单位")
    period = parse_period(services, start, end)
    units = units_for(services, TaskFilter(unit=unit), viewer.units)
    with services.sessions() as session:
        rows = ledger_rows(
            session,
            services.catalog,
            services.calendar,
            services.zone,
            period,
            units,
            local_today(services),
        )
    return period, rows


def ledger_book(period: Period, rows: list[LedgerRow], today: dt.date) -> Workbook:
    """The ledger as a workbook: a title naming the period and the day it was drawn up."""
    book = workbook()
    sheet = Sheet(book, "整改台账", first=True)
    sheet.title(f"整改台账（{period}，截至{today:%Y年%m月%d日}）", len(LEDGER_COLUMNS))
    sheet.header(LEDGER_COLUMNS, LEDGER_WIDTHS)
    sheet.rows(row.cells(n) for n, row in enumerate(rows, 1))
    return book


def scorecards(services: Services, month: Month, viewer: Viewer) -> list[Scorecard]:
    """The month's scorecards of the units the viewer sees, best first."""
    today = local_today(services)
    with services.sessions() as session:
        cards = monthly_scorecards(
            session, services.catalog, services.calendar, services.zone, month, today
        )
    return [card for card in cards if viewer.sees(card.unit_code)]


def parse_month(services: Services, text: str) -> Month:
    """``2026-11``; this month when empty."""
    if not text:
        today = local_today(services)
        return Month(today.year, today.month)
    try:
        return Month.parse(text)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def parse_period(services: Services, start: str, end: str) -> Period:
    """From ISO dates; by default the first of this month up to today."""
    today = local_today(services)
    try:
        first = dt.date.fromisoformat(start) if start else today.replace(day=1)
        last = dt.date.fromisoformat(end) if end else today
    except ValueError:
        raise HTTPException(400, "日期格式应为 2026-11-01") from None
    supported_day(first)
    supported_day(last)
    if last < first:
        raise HTTPException(400, "结束日期不能早于开始日期")
    return Period(first, last)
