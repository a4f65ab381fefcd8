"""API tokens: named per account, listed, revoked one by one, expiring; a password change
ends the account's sessions and tokens; a disabled account can be enabled again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from bot.cli import main
from bot.commands import services_from
from bot.console.accounts import (
    AccountError,
    Role,
    account_tokens,
    issue_token,
    revoke_token,
    set_password,
)
from bot.migrate import upgrade
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from core.db import make_engine
from tests.conftest import ServicesFactory, at
from tests.console_helpers import add_account, console_catalog, login


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-23 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, clock: FakeClock, engine: Engine) -> Services:
    services = make_services(console_catalog(), clock=clock, engine=engine)
    add_account(services, "ops", role=Role.OPERATOR)
    return services


def works(client: TestClient, token: str) -> bool:
    answer: httpx.Response = client.get("/api/units", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code in (200, 401)
    return answer.status_code == 200


def test_tokens_are_named_revoked_one_by_one_and_expire(
    services: Services, clock: FakeClock
) -> None:
    client = TestClient(create_web_app(services))
    with services.sessions.begin() as session:
        backup = issue_token(session, "ops", clock.now(), "backup")
        grafana = issue_token(session, "ops", clock.now(), "grafana", dt.timedelta(days=7))
        forever = issue_token(session, "ops", clock.now(), "", None)  # token-1, no expiry
        with pytest.raises(AccountError, match="backup"):
            issue_token(session, "ops", clock.now(), "backup")
    with services.sessions() as session:
        listed = {t.name: t.expires_at for t in account_tokens(session, "ops")}
    assert listed == {
        "backup": clock.now() + dt.timedelta(days=90),
        "grafana": clock.now() + dt.timedelta(days=7),
        "token-1": None,
    }
    assert works(client, backup) and works(client, grafana) and works(client, forever)

    with services.sessions.begin() as session:
        revoke_token(session, "ops", "backup")
        with pytest.raises(AccountError, match="没有名为"):
            revoke_token(session, "ops", "backup")
    assert not works(client, backup)
    assert works(client, grafana)  # the others go on

    clock.advance(dt.timedelta(days=7))
    assert not works(client, grafana)  # expired
    assert works(client, forever)


def test_password_change_ends_sessions_and_tokens(services: Services, clock: FakeClock) -> None:
    add_account(services, "zhao")
    browser = TestClient(create_web_app(services))
    assert login(browser, "zhao") == 303
    assert browser.get("/console", follow_redirects=False).status_code == 200
    with services.sessions.begin() as session:
        token = issue_token(session, "zhao", clock.now(), "script")
    assert works(browser, token)
    with services.sessions.begin() as session:
        assert set_password(session, "zhao", "a brand new password") == 1
    assert browser.get("/console", follow_redirects=False).status_code == 303  # to the login
    assert not works(TestClient(create_web_app(services)), token)


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(console_catalog(), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))
    monkeypatch.setenv("GOVPATROL_USER_PASSWORD", "a long password 1")
    assert main(["db", "upgrade"]) == 0
    assert main(["user", "add", "ops", "--role", "operator"]) == 0
    return tmp_path


def test_user_token_cli_lists_revokes_and_enable_restores_an_account(
    shell: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["user", "token", "ops", "--name", "grafana", "--days", "30"]) == 0
    grafana = capsys.readouterr().out.strip()
    assert main(["user", "token", "ops", "--name", "backup"]) == 0
    backup = capsys.readouterr().out.strip()
    assert main(["user", "token", "ops", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "grafana" in listing and "backup" in listing and "有效" in listing
    assert grafana not in listing and backup not in listing  # only digests are kept

    services = services_from(type("Args", (), {"catalog": None})())
    client = TestClient(create_web_app(services))
    assert main(["user", "token", "ops", "--revoke", "grafana"]) == 0
    assert not works(client, grafana) and works(client, backup)
    assert main(["user", "token", "ops", "--revoke", "grafana"]) == 1
    assert main(["user", "token", "ops", "--days", "-1"]) == 2

    assert main(["user", "disable", "ops"]) == 0
    assert login(client, "ops", "a long password 1") == 401
    assert main(["user", "enable", "ops"]) == 0
    assert login(client, "ops", "a long password 1") == 303
    assert not works(client, backup)  # disabling revoked it for good
    services.engine.dispose()


def test_migration_names_existing_tokens_and_keeps_them_working(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO console_users (id, name, role, password_hash, disabled, created_at)"
                " VALUES (1, 'ops', 'operator', 'x', 0, '2026-11-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO api_tokens (id, user_id, digest, created_at)"
                " VALUES (:id, 1, :digest, '2026-11-01 00:00:00')"
            ),
            [{"id": 1, "digest": "digest1"}, {"id": 2, "digest": "digest2"}],
        )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name, expires_at FROM api_tokens ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [("token-1", None), ("token-2", None)]
    engine.dispose()
