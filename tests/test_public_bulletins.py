"""The public 通报: a supervisor publishes a finished month; anyone reads it, as a page, an
XLSX and an Atom feed; it stays as published; and it shows nothing private."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from urllib.parse import parse_qsl, unquote, urlsplit
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select

from bot.services import Services
from bot.web import create_web_app
from config.catalog import Catalog
from core.clock import FakeClock
from core.results import Finding
from probes.pool import BrowserPool
from sandbox.server import SandboxServer
from tasks.bulletins import publish_bulletin
from tasks.lifecycle import Actor, Role
from tasks.models import Task
from tasks.scorecard import Month, monthly_scorecards
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_SEARCH,
    RIVER_SEARCH,
    add_account,
    form_token,
    login,
    record_failure,
)

CITY, COUNTY, RIVER = "示范市政务服务管理局", "示范县政务服务中心", "河西县政务服务中心"
TARGET_URL = "http://portal-secret.example.gov.cn:9/zwfw"
SECRET_KEYS = ("username", "password", "token")  # check parameters that are credentials
PRIVATE_CATALOG = f"""
defaults: {{probation: "off"}}
units:
  - code: city
    name: 示范市政务服务管理局
    level: city
    contacts:
      - name: 督办员赵铁柱
        role: supervisor
        notify: ["mailto://zhaotz:Pa55wOrd77@mail.example.com?to=zhao.tiezhu@example.com"]
  - code: county
    name: 示范县政务服务中心
    level: county
    parent: city
    contacts:
      - name: 联系人孙晓梅
        role: contact
        notify: ["json://hooks.example.net:8443/wecom/send?key=tOkEn7Qx93Lm&phone=13912345678"]
      - name: 分管领导钱卫国
        role: leader
        notify: ["dingtalk://DTsecretAbc123xyz/13800138000"]
  - code: river
    name: 河西县政务服务中心
    level: county
    parent: city
    contacts:
      - name: 联系人周小川
        role: contact
        notify: ["json://river-hook.example.org/push/rvTOKEN5566"]
targets:
  - key: county-portal
    name: 示范县政务服务网
    unit: county
    base_url: {TARGET_URL}
    checks:
      - {{probe: search, schedule: 1h, failure_threshold: 1, params: {{items: [公司设立登记]}}}}
  - key: river-portal
    name: 河西县政务服务网
    unit: river
    base_url: http://river-private.example.gov.cn:9
    checks:
      - {{probe: search, schedule: 1h, failure_threshold: 1, params: {{items: [排污许可证核发]}}}}
      - probe: sso
        schedule: 1d
        params:
          username: river-tester-0931
          password: Sso-Pa55-9931
          captcha_bypass: {{token: BypassT0ken-77, header: X-Test-Bypass}}
          systems: [{{name: 河西县市场监管业务系统, url: "http://amr-private.example.gov.cn:9/biz"}}]
"""


def private_strings(catalog: Catalog) -> set[str]:
    """Every contact name (however short), e-mail, phone, channel URL and its parts, every
    target URL, and every account, password, token and URL in a check's parameters."""
    names = {contact.name for unit in catalog.units for contact in unit.contacts}
    found: set[str] = set()

    def url_parts(value: str) -> None:
        parts = urlsplit(value)
        host = parts.netloc.rsplit("@", 1)[-1]  # as written: hostname lowercases
        found.update({value, f"{parts.netloc}{parts.path}", host, host.split(":")[0]})
        found.update({parts.username or "", parts.password or ""})
        found.update(unquote(v) for _, v in parse_qsl(parts.query))
        found.update(segment for segment in parts.path.split("/") if len(segment) > 4)

    def params(value: object, key: str = "") -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                params(inner, str(name))
        elif isinstance(value, list):
            for inner in value:
                params(inner, key)
        elif isinstance(value, str):
            if value.startswith(("http://", "https://")):
                url_parts(value)
            elif key in SECRET_KEYS:
                found.add(value)

    for unit in catalog.units:
        for contact in unit.contacts:
            for url in contact.notify:
                url_parts(url.reveal())
    for target in catalog.targets:
        found |= {target.base_url, urlsplit(target.base_url).hostname or ""}
        for check in target.checks:
            params(check.params)
    return names | {text for text in found if len(text) > 4}


def xlsx_text(data: bytes) -> str:
    """Every XML part of a workbook, as text (shared strings, sheets, properties)."""
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return "\n".join(book.read(name).decode("utf-8") for name in book.namelist())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-03 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock) -> Services:
    services = make_services(PRIVATE_CATALOG, clock=clock)
    # November: tasks whose details name the portal, a contact and a phone.
    detail = f"{TARGET_URL} 搜索不到；联系人孙晓梅 13912345678"
    for code in ("search.item_not_found", "search.results_wrong", "search.error_page"):
        record_failure(
            services, clock, COUNTY_SEARCH, Finding(code=code, title="搜索", detail=detail)
        )
    record_failure(
        services, clock, RIVER_SEARCH, Finding(code="search.unavailable", title="t", detail=detail)
    )
    clock.set(at("2026-12-02 09:00"))
    return services


def test_published_month_is_public_frozen_and_leaks_nothing_private(
    services: Services, clock: FakeClock
) -> None:
    add_account(services, "zhao")
    console = TestClient(create_web_app(services))
    assert login(console, "zhao") == 303
    page = console.get("/console/bulletins")
    csrf = form_token(page.text)
    early = console.post("/console/bulletins/publish", data={"csrf": csrf, "month": "2026-12"})
    assert "2026-12 尚未结束" in early.text
    done = console.post("/console/bulletins/publish", data={"csrf": csrf, "month": "2026-11"})
    assert "已公开发布 2026-11 通报" in done.text
    again = console.post("/console/bulletins/publish", data={"csrf": csrf, "month": "2026-11"})
    assert "已经发布" in again.text
    forged = console.post("/console/bulletins/publish", data={"csrf": "x", "month": "2026-10"})
    assert forged.status_code == 403

    public = TestClient(create_web_app(services))  # nobody signed in
    listing = public.get("/public/bulletins")
    assert listing.status_code == 200 and "2026年11月 政务服务平台整改工作通报" in listing.text
    shown = public.get("/public/bulletins/2026-11")
    assert shown.status_code == 200
    assert "script-src 'none'" in shown.headers["content-security-policy"]
    rows = [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td.*?</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", shown.text, re.S)
    ]
    # Ranked by total: the city without tasks, the river county with one, the county three.
    ranked = [(row[0], row[1], row[2]) for row in rows[1:4]]
    assert ranked == [("1", CITY, "0"), ("2", RIVER, "1"), ("3", COUNTY, "3")]
    assert "红榜" in shown.text and "/console" not in shown.text and "/u/" not in shown.text
    # The 一级 indicators of seed 000's map, a unit a row, scores only.
    assert "指标得分（" in shown.text and "A 服务成效度" in shown.text and "综合得分" in shown.text
    scored = [row for row in rows if len(row) == 7 and row[0] in (CITY, RIVER, COUNTY)]
    assert sorted(row[0] for row in scored) == sorted([CITY, RIVER, COUNTY])
    book = public.get("/public/bulletins/2026-11.xlsx")
    assert book.status_code == 200
    sheet = load_workbook(io.BytesIO(book.content)).worksheets[0]
    cells = [tuple(c.value for c in sheet[n][:3]) for n in (3, 4, 5)]
    assert cells == ranked
    feed = public.get("/public/bulletins.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    atom = ElementTree.fromstring(feed.content)  # noqa: S314  (our own answer)
    links = [e.get("href") for e in atom.iter("{http://www.w3.org/2005/Atom}link")]
    assert "http://127.0.0.1:8600/public/bulletins/2026-11" in links

    # Nothing private anywhere: the search really reads each answer (unit names are there).
    secrets = private_strings(services.catalog)
    assert {"联系人孙晓梅", "13912345678", "zhao.tiezhu@example.com", "tOkEn7Qx93Lm"} <= secrets
    assert {TARGET_URL, "DTsecretAbc123xyz", "rvTOKEN5566", "Pa55wOrd77"} <= secrets
    assert {"Sso-Pa55-9931", "BypassT0ken-77", "amr-private.example.gov.cn"} <= secrets
    answers = {
        "page": shown.text + listing.text,
        "xlsx": xlsx_text(book.content),
        "atom": feed.content.decode("utf-8"),
    }
    for name, text in answers.items():
        assert "示范县" in text or name == "atom", name
        assert [s for s in secrets if s in text] == [], name

    # Not published, or no month at all: the same 404.
    for path in ("2026-10", "2026-10.xlsx", "2026-13", "..%2F2026-11", "latest"):
        assert public.get(f"/public/bulletins/{path}").status_code == 404, path

    # Frozen: the river's task turns out a false alarm; the live scorecard drops it, the
    # published 通报 stays as it was published.
    with services.sessions() as session:
        task_id = session.scalars(select(Task.id).where(Task.unit_code == "river")).one()
    with services.sessions.begin() as session:
        request = services.desk.dispute(session, task_id, Actor("周", Role.UNIT), "误报")
        services.desk.decide_dispute(session, request.id, Actor("赵", Role.SUPERVISOR), True)
    with services.sessions() as session:
        cards = monthly_scorecards(
            session, services.catalog, services.calendar, services.zone, Month(2026, 11),
            clock.now().date(),
        )  # fmt: skip
    assert {card.unit_name: card.opened for card in cards}[RIVER] == 0
    assert public.get("/public/bulletins/2026-11").text == shown.text


@pytest.fixture
def public_site(services: Services) -> Iterator[str]:
    with services.sessions.begin() as session:
        publish_bulletin(
            session,
            services.catalog,
            services.calendar,
            services.zone,
            Month(2026, 11),
            "赵",
            services.clock.now(),
        )
    with SandboxServer(create_web_app(services), port=0) as server:
        yield server.url


@pytest.mark.browser
async def test_public_bulletin_opens_in_a_browser(
    public_site: str, browser_pool: BrowserPool
) -> None:
    async with browser_pool.context() as context:
        page = await context.new_page()
        await page.goto(f"{public_site}/public/bulletins")
        await page.get_by_role("link", name="2026年11月 政务服务平台整改工作通报").click()
        await page.wait_for_url(f"{public_site}/public/bulletins/2026-11")
        second = page.locator("tr").nth(2)
        assert RIVER in await second.inner_text()
        assert "红榜" in await page.locator("body").inner_text()
        assert dt.date(2026, 12, 2).strftime("%Y年%m月%d日") in await page.content()
