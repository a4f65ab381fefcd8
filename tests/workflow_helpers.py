"""A catalog with the whole unit tree (county → city office with supervisors) and helpers
to open tasks without a browser, for the chase and workflow tests."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.services import Services
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from notifications.models import Notification
from tasks.models import Task

CHECK = "county-portal/search"
SECOND_CHECK = "county-portal/search-business"


def tree_catalog(hook: str, *, chase: str = "") -> str:
    """County unit (contact + leader) under a city office (supervisor + leader).

    Every person gets their own webhook path, so tests can tell who heard what.
    """
    return f"""
{chase}
units:
  - code: city
    name: 示范市政务服务管理局
    level: city
    contacts:
      - {{name: 督办员赵, role: supervisor, notify: ["{hook}/supervisor"]}}
      - {{name: 局长钱, role: leader, notify: ["{hook}/city-leader"]}}
  - code: county
    name: 示范县政务服务中心
    level: county
    parent: city
    contacts:
      - {{name: 联系人孙, role: contact, notify: ["{hook}/contact"]}}
      - {{name: 副县长李, role: leader, notify: ["{hook}/county-leader"]}}
targets:
  - key: county-portal
    name: 示范县政务服务网
    unit: county
    base_url: http://127.0.0.1:9
    checks:
      - {{probe: search, schedule: 1h, failure_threshold: 1, params: {{items: [公司设立登记]}}}}
      - name: search-business
        probe: search
        schedule: 1h
        failure_threshold: 1
        params: {{items: [食品经营许可]}}
"""


def failing(code: str = "search.item_not_found") -> ProbeResult:
    finding = Finding(code=code, title="站内搜索不可用", detail="搜索“公司设立登记”，搜索不到")
    return ProbeResult(Outcome.FAIL, (finding,))


def open_task(services: Services, clock: FakeClock, check: str = CHECK) -> Task:
    """One failing run (threshold 1) opens a task."""
    clock.advance(dt.timedelta(minutes=1))
    with services.sessions.begin() as session:
        run = services.tracker.record_run(
            session, check, failing(), started_at=clock.now(), finished_at=clock.now()
        )
        (task,) = services.tracker.apply_run(session, run, services.policy(check))
        return task


def notices(services: Services, since_id: int = 0) -> list[Notification]:
    with services.sessions() as session:
        return list(
            session.scalars(
                select(Notification).where(Notification.id > since_id).order_by(Notification.id)
            )
        )


def heard_by(services: Services, kind: str) -> set[str]:
    """The people who were sent notices of ``kind``."""
    return {n.recipient for n in notices(services) if n.kind == kind}


REPO = Path(__file__).resolve().parent.parent


def cli_here(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``govpatrol ARGS`` in this process, its environment set by the test: the exit code,
    stdout and stderr, as a shell would see them (``SystemExit("…")`` prints and exits 1)."""
    try:
        code = main(list(args))
    except SystemExit as exc:
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    said = capsys.readouterr()
    return code, said.out, said.err


def run_cli(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``govpatrol ARGS`` in a child process with ``env`` added, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
