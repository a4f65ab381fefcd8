"""``govpatrol user …``: accounts from a shell, passwords never on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.cli import main
from bot.commands import services_from
from bot.web import create_web_app
from tests.console_helpers import console_catalog


@pytest.fixture
def shell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An operator's environment: settings from variables, a migrated database."""
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(console_catalog(), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))
    monkeypatch.delenv("GOVPATROL_USER_PASSWORD", raising=False)
    assert main(["db", "upgrade"]) == 0
    return tmp_path


def test_user_add_list_token_and_disable(
    shell: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = shell / "password"
    secret.write_text("a long password 1\n", encoding="utf-8")
    assert (
        main(["user", "add", "zhao", "--role", "supervisor", "--password-file", str(secret)]) == 0
    )
    monkeypatch.setenv("GOVPATROL_USER_PASSWORD", "another long one")
    assert main(["user", "add", "sun", "--role", "operator", "--unit", "county"]) == 0
    assert main(["user", "add", "li", "--role", "operator", "--unit", "nowhere"]) == 1
    assert main(["user", "add", "zhao", "--role", "operator"]) == 1  # taken
    out = capsys.readouterr()
    assert "a long password" not in out.out + out.err and "another long one" not in out.out

    assert main(["user", "list"]) == 0
    listing = capsys.readouterr().out
    assert "zhao" in listing and "督办人员" in listing and "county" in listing

    assert main(["user", "token", "zhao"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("gp_")
    services = services_from(type("Args", (), {"catalog": None})())
    client = TestClient(create_web_app(services))
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/units", headers=bearer).status_code == 200

    assert main(["user", "disable", "zhao"]) == 0
    assert client.get("/api/units", headers=bearer).status_code == 401
    services.engine.dispose()


def test_passwords_are_not_arguments_and_need_a_terminal_to_prompt(
    shell: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["user", "add", "zhao", "--role", "supervisor", "--password", "a long password 1"])
    refused = capsys.readouterr().err
    assert "不能作为参数" in refused and "a long password 1" not in refused
    assert main(["user", "add", "zhao", "--role", "supervisor"]) == 1  # stdin is no terminal
    assert "--password-file" in capsys.readouterr().err
