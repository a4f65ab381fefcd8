"""The first hour of a new operator: the example runs as shipped, bad settings are one
clear line, logs say what happened, channels can be tried, exit codes mean one thing."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.receivers import WebhookCatcher
from core.db import make_engine
from tasks.models import SchedulerLease

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "config/examples/catalog.yaml"
# The example's secrets and receiver: none of them may be needed to run it as shipped.
EXAMPLE_NAMES = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GOVPATROL_")}
    for name in EXAMPLE_NAMES.findall(EXAMPLE.read_text(encoding="utf-8")):
        clean.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=REPO,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    return {"GOVPATROL_DATA_DIR": str(tmp_path / "var"), "GOVPATROL_CATALOG": str(EXAMPLE)}


@pytest.fixture
def migrated(data_env: dict[str, str]) -> dict[str, str]:
    result = run_cli("db", "upgrade", env=data_env)
    assert result.returncode == 0, result.stderr
    return data_env


# -- 12: the example catalog as shipped ---------------------------------------------------


def test_example_catalog_validates_with_no_variable_set() -> None:
    result = run_cli("check-config", str(EXAMPLE))
    assert result.returncode == 0, result.stderr
    assert "catalog OK" in result.stdout
    assert "json://127.0.0.1:8025/sf-zwb/wangxm" in result.stdout


def test_readme_lists_every_variable_the_example_uses() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    names = set(EXAMPLE_NAMES.findall(EXAMPLE.read_text(encoding="utf-8"))) - {"NAME"}
    assert names >= {"SSO_PASSWORD", "NOTIFY_RECEIVER", "WECOM_BOT_KEY"}
    missing = sorted(name for name in names if f"`${{{name}}}`" not in readme)
    assert not missing, f"README does not list {missing}"


# -- 13: bad settings -----------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("GOVPATROL_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_closed_port()}/x"),
        ("GOVPATROL_DATABASE_URL", "bogus://x"),
        ("GOVPATROL_BROWSER_CONCURRENCY", "abc"),
        ("GOVPATROL_DATA_DIR", "/proc/nope"),
    ],
    ids=["database-closed-port", "database-bogus-scheme", "concurrency", "data-dir"],
)
def test_bad_setting_is_one_chinese_line_naming_it_and_exit_2(
    setting: str, value: str, data_env: dict[str, str]
) -> None:
    result = run_cli("db", "upgrade", env={**data_env, setting: value})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert setting in lines[0] and "设置有误" in lines[0]


def test_second_daemon_is_one_line_and_exit_2(migrated: dict[str, str]) -> None:
    engine = make_engine(f"sqlite:///{migrated['GOVPATROL_DATA_DIR']}/govpatrol.db")
    with engine.begin() as connection:
        connection.execute(
            insert(SchedulerLease).values(
                name="scheduler",
                holder="another-host:4242",
                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
            )
        )
    engine.dispose()
    result = run_cli("run", env={**migrated, "GOVPATROL_LOG_LEVEL": "WARNING"})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "另一个守护进程" in line and "GOVPATROL_DATABASE_URL" in line


# -- 14: logging ----------------------------------------------------------------------------


def test_log_level_after_the_subcommand_and_json_lines(migrated: dict[str, str]) -> None:
    env = {**migrated, "GOVPATROL_LOG_FORMAT": "json"}
    chatty = run_cli("target", "list", env=env)
    assert chatty.returncode == 0, chatty.stderr
    records = [json.loads(line) for line in chatty.stderr.splitlines() if line.strip()]
    assert records, "the default level (INFO) should log the schema check"
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert {record["level"] for record in records} == {"INFO"}
    quiet = run_cli("target", "list", "--log-level", "WARNING", env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""


def test_default_level_logs_one_line_per_run(migrated: dict[str, str]) -> None:
    # A portal nobody serves: the run fails; at the default level the line says so.
    catalog = Path(migrated["GOVPATROL_DATA_DIR"]).parent / "one.yaml"
    catalog.write_text(
        EXAMPLE.read_text(encoding="utf-8").split("targets:")[0]
        + f"""targets:
  - key: gone
    name: 消失的网站
    unit: sf-zwb
    base_url: http://127.0.0.1:{_closed_port()}
    checks:
      - probe: search
        schedule: 1h
        params: {{items: [公司设立登记]}}
""",
        encoding="utf-8",
    )
    result = run_cli("probe", "gone/search", env={**migrated, "GOVPATROL_CATALOG": str(catalog)})
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"INFO bot\.jobs: run \d+ of gone/search: fail", result.stderr), result.stderr


# -- 15: notify test ------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[WebhookCatcher]:
    catcher = WebhookCatcher().start()
    yield catcher
    catcher.stop()


def test_notify_test_sends_to_each_channel_of_a_unit_and_prints_each(
    receiver: WebhookCatcher, data_env: dict[str, str]
) -> None:
    env = {**data_env, "NOTIFY_RECEIVER": f"{receiver.host}:{receiver.port}"}
    result = run_cli("notify", "test", "sf-zwb", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("✓") == 3
    assert "3/3 个通道发送成功" in result.stdout
    assert {post.path for post in receiver.messages} == {
        "/sf-zwb/wangxm", "/sf-zwb/lijg", "/sf-zwb/duban"
    }  # fmt: skip


def test_notify_test_url_reports_a_failing_channel(
    receiver: WebhookCatcher, data_env: dict[str, str]
) -> None:
    receiver.status = 500
    bad = receiver.apprise_url("broken")
    result = run_cli("notify", "test", "--url", bad, env=data_env)
    assert result.returncode == 1
    assert "✗" in result.stdout and "发送失败" in result.stdout
    assert "0/1 个通道发送成功" in result.stdout


# -- 16, 17: progress, the test command, exit codes, the usage list -------------------------


def test_unknown_check_is_a_usage_error(migrated: dict[str, str]) -> None:
    result = run_cli("probe", "sf-portal/nope", env=migrated)
    assert result.returncode == 2
    assert "没有巡检项" in result.stderr


def test_readme_usage_lists_run_upgrade_and_the_suite_time() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    usage = readme.split("## 用法 / Usage", 1)[1].split("\n## ", 1)[0]
    assert "govpatrol run --upgrade" in usage
    assert re.search(r"about \d+ minutes", readme)
    assert "--durations=15" in (REPO / "scripts/test").read_text(encoding="utf-8")
