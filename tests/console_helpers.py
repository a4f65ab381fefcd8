"""A unit tree with two counties, console accounts, and tasks with evidence, for the
console tests. Tasks are opened through the tracker, the way a failing run opens them."""

from __future__ import annotations

import datetime as dt
import re
import struct
import zlib
from pathlib import Path

from fastapi.testclient import TestClient

from bot.console.accounts import Role, add_user
from bot.services import Services
from core.clock import FakeClock
from core.results import Evidence, Finding, Outcome, ProbeResult
from tasks.models import Task

PASSWORD = "correct horse battery"
COUNTY_SEARCH = "county-portal/search"
COUNTY_GUIDES = "county-portal/checklist"
RIVER_SEARCH = "river-portal/search"


def console_catalog(hook: str = "json://127.0.0.1:9") -> str:
    """Province → city → two counties; each county has a portal with checks (long
    watched: no probation)."""
    return f"""
defaults: {{probation: "off"}}
units:
  - code: province
    name: 示范省政务服务管理办公室
    level: province
  - code: city
    name: 示范市政务服务管理局
    level: city
    parent: province
    contacts:
      - {{name: 督办员赵, role: supervisor, notify: ["{hook}/supervisor"]}}
  - code: county
    name: 示范县政务服务中心
    level: county
    parent: city
    contacts:
      - {{name: 联系人孙, role: contact, notify: ["{hook}/contact"]}}
  - code: river
    name: 河西县政务服务中心
    level: county
    parent: city
    contacts:
      - {{name: 联系人周, role: contact, notify: ["{hook}/river"]}}
targets:
  - key: county-portal
    name: 示范县政务服务网
    unit: county
    base_url: http://127.0.0.1:9
    checks:
      - {{probe: search, schedule: 1h, failure_threshold: 1, params: {{items: [公司设立登记]}}}}
      - probe: checklist
        schedule: 1d
        failure_threshold: 1
        params: {{guides: {{items: [/guide/1]}}}}
  - key: river-portal
    name: 河西县政务服务网
    unit: river
    base_url: http://127.0.0.1:9
    checks:
      - {{probe: search, schedule: 1h, failure_threshold: 1, params: {{items: [排污许可证核发]}}}}
"""


def search_finding(item: str = "公司设立登记", code: str = "search.item_not_found") -> Finding:
    return Finding(
        code=code, title="站内搜索不可用", detail=f"搜索网站上已有的“{item}”服务事项，搜索不到"
    )


def record_failure(
    services: Services,
    clock: FakeClock,
    check: str,
    *findings: Finding,
    evidence: Evidence | None = None,
) -> list[Task]:
    """One failing run of ``check`` (threshold 1): opens or updates its tasks."""
    clock.advance(dt.timedelta(minutes=1))
    result = ProbeResult(Outcome.FAIL, findings, evidence=evidence or Evidence())
    with services.sessions.begin() as session:
        run = services.tracker.record_run(
            session, check, result, started_at=clock.now(), finished_at=clock.now()
        )
        return services.tracker.apply_run(session, run, services.policy(check))


def record_pass(services: Services, clock: FakeClock, check: str) -> None:
    clock.advance(dt.timedelta(minutes=1))
    with services.sessions.begin() as session:
        services.tracker.record_run(
            session,
            check,
            ProbeResult(Outcome.PASS),
            started_at=clock.now(),
            finished_at=clock.now(),
        )


def screenshot_evidence(services: Services, name: str = "shot.png") -> Evidence:
    """A real PNG in the evidence store, and an HTML snapshot beside it."""
    folder = services.evidence.root / "2026-11-23" / "run"
    folder.mkdir(parents=True, exist_ok=True)
    write_png(folder / name)
    (folder / "page.html").write_text("<html><script>alert(1)</script></html>", "utf-8")
    return Evidence(screenshots=(f"2026-11-23/run/{name}",), html=("2026-11-23/run/page.html",))


def write_png(path: Path, width: int = 40, height: int = 20) -> None:
    """A solid blue PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + b"\x1b\x4f\x9c" * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def add_account(
    services: Services,
    name: str,
    role: Role = Role.SUPERVISOR,
    unit: str | None = None,
    password: str = PASSWORD,
) -> None:
    with services.sessions.begin() as session:
        add_user(session, name, role, password, services.clock.now(), unit)


def login(client: TestClient, name: str, password: str = PASSWORD) -> int:
    """Sign ``client`` in through the login form; returns the final status code."""
    page = client.get("/console/login")
    csrf = form_token(page.text)
    answer = client.post(
        "/console/login",
        data={"name": name, "password": password, "csrf": csrf, "next": "/console"},
        follow_redirects=False,
    )
    return int(answer.status_code)


def form_token(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no form token on the page"
    return found.group(1)
