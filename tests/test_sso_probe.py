"""统一身份认证 with a real Chromium: one identity portal and three department systems,
each on its own loopback address, exchanging real CAS-like tickets."""

from __future__ import annotations

import datetime as dt
import json
import logging
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import httpx
import pytest

from bot.jobs import RunReport, report_fixed, run_check
from bot.receivers import WebhookCatcher, free_port
from core.clock import FakeClock
from core.results import Outcome
from probes.pool import BrowserPool
from sandbox.departments import masked
from sandbox.sso_world import SsoSandbox
from tasks.catalog_sync import sync_catalog
from tasks.lifecycle import Actor, Role
from tests.conftest import ServicesFactory, at

pytestmark = pytest.mark.browser

CHECK = "sf-ids/sso"
SCJG = "省市场监督管理局业务系统"
RST = "省人力资源和社会保障厅网上服务大厅"
GJJ = "省住房公积金管理中心网上业务大厅"


@pytest.fixture(scope="module")
def sso_world() -> Iterator[SsoSandbox]:
    world = SsoSandbox.start()
    yield world
    world.stop()


@pytest.fixture
def sso(sso_world: SsoSandbox) -> Iterator[SsoSandbox]:
    """The identity portal and its systems, healthy at the start of every test."""
    sso_world.reset()
    yield sso_world
    sso_world.reset()


@pytest.fixture(params=["classic", "spa"])
def styled(request: pytest.FixtureRequest, sso: SsoSandbox) -> dict[str, Any]:
    """The identity portal of either province: the first, or the SPA-style one (its own
    words, a slider CAPTCHA passed by the configured bypass); the catalog settings it needs."""
    if request.param == "classic":
        return {}
    sso.identity_faults.update({"slider_captcha": True, "spa_wording": True})
    return {"captcha_bypass": BYPASS_BY_HEADER}


def sso_catalog(
    world: SsoSandbox,
    *,
    base_url: str | None = None,
    user_text: str | None = None,
    notify: list[str] | None = None,
    entry_page: str = "/user",
    selectors: dict[str, str] | None = None,
    user_selector: str | None = None,
    greeting_only: bool = False,
    captcha_bypass: dict[str, str] | None = None,
) -> str:
    """The identity portal as a target of the province office, checked across its systems;
    ``greeting_only``: no user_text anywhere, as an operator who read only the README."""
    systems: list[dict[str, Any]] = []
    for running in world.systems:
        entry: dict[str, Any] = {"name": running.system.name, "url": running.url + entry_page}
        if running.system.masks_name and not greeting_only:
            entry["user_text"] = masked(world.account.name)
        if user_selector:
            entry["user_selector"] = user_selector
        systems.append(entry)
    params: dict[str, Any] = {
        "username": world.account.username,
        "password": "${SSO_PASSWORD}",
        "user_text": user_text or world.account.name,
        "systems": systems,
    }
    if greeting_only:
        del params["user_text"]
    if captcha_bypass is not None:
        params["captcha_bypass"] = captcha_bypass
    return f"""
units:
  - code: sf-zwb
    name: 示范省政务服务管理办公室
    level: province
    contacts:
      - name: 王晓明
        notify: {json.dumps(notify or [])}
targets:
  - key: sf-ids
    name: 示范省统一身份认证平台
    unit: sf-zwb
    base_url: {base_url or world.identity_url}
    pages: {{login: /login}}
    selectors: {json.dumps(selectors or {})}
    checks:
      - probe: sso
        schedule: 1h
        failure_threshold: 2
        params: {json.dumps(params, ensure_ascii=False)}
"""


def secrets_of(world: SsoSandbox) -> dict[str, str]:
    return {"SSO_PASSWORD": world.account.password}


async def _run(make_services: ServicesFactory, world: SsoSandbox, **catalog: Any) -> RunReport:
    services = make_services(sso_catalog(world, **catalog), environ=secrets_of(world))
    return await run_check(services, CHECK, record=False)


async def test_signing_in_once_opens_every_system_on_its_own_origin(
    make_services: ServicesFactory, sso: SsoSandbox, styled: dict[str, Any]
) -> None:
    report = await _run(make_services, sso, **styled)
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["signed_in"] == 3
    assert report.result.evidence.screenshots == ()
    hosts = [urlsplit(url).hostname for url in (sso.identity_url, *(s.url for s in sso.systems))]
    assert len(set(hosts)) == 4, hosts


async def test_system_opened_at_its_home_page_signs_in_with_one_click_on_login(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    report = await _run(make_services, sso, entry_page="/")
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["signed_in"] == 3


async def test_configured_selectors_are_used(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    # An account box without label, placeholder or telltale name, and a scripted 登录 span.
    sso.identity_faults.update({"login_form_unlabelled": True})
    unconfigured = await _run(make_services, sso)
    # The rule of doubt: a login form the defaults cannot fill is not a failed login.
    assert unconfigured.outcome is Outcome.INCONCLUSIVE, unconfigured.result
    assert "selectors." in unconfigured.result.error
    selectors = {
        "username_input": "form.account-form input.ipt-a",
        "password_input": "form.account-form input.ipt-p",
        "login_submit": "form.account-form .btn-login",
    }
    report = await _run(make_services, sso, selectors=selectors, user_selector=".user-name")
    assert report.outcome is Outcome.PASS, report.result


async def test_identity_cookie_is_never_sent_to_a_department_system(
    browser_pool: BrowserPool, sso: SsoSandbox
) -> None:
    scjg, rst = sso.system("scjg"), sso.system("rst")
    async with browser_pool.context() as browser:
        page = await browser.new_page()
        await page.goto(f"{sso.identity_url}/login")
        await page.get_by_label("账号").fill(sso.account.username)
        await page.get_by_label("密码").fill(sso.account.password)
        async with page.expect_navigation():
            await page.get_by_role("button", name="登录").click()
        response = await page.goto(scjg.entry_url)  # → identity → ticket → back, signed in
        assert response is not None
        assert await page.get_by_text(sso.account.name).first.is_visible()
        sent = (await response.request.all_headers()).get("cookie", "")
        assert "SESSIONID=" in sent and "CASTGC" not in sent
        assert {c["name"] for c in await browser.cookies(sso.identity_url)} == {"CASTGC"}
        assert {c["name"] for c in await browser.cookies(scjg.url)} == {"SESSIONID"}
        other = await page.goto(f"{rst.url}/")  # scjg's session stays with scjg
        assert other is not None
        assert "cookie" not in await other.request.all_headers()
        assert await page.get_by_role("link", name="登录").is_visible()


def test_a_ticket_signs_in_once_and_only_at_its_own_system(sso: SsoSandbox) -> None:
    scjg, rst = sso.system("scjg"), sso.system("rst")
    with httpx.Client(trust_env=False) as http:
        signed_in = http.post(
            f"{sso.identity_url}/login",
            data={
                "username": sso.account.username,
                "password": sso.account.password,
                "service": scjg.entry_url,
            },
        )
        ticketed = signed_in.headers["location"]
        assert ticketed.startswith(f"{scjg.entry_url}?ticket=ST-")
        ticket = ticketed.partition("ticket=")[2]
        stolen = http.get(f"{rst.entry_url}?ticket={ticket}")  # presented at another system
        assert stolen.status_code == 401
        first = http.get(ticketed)
        assert first.status_code == 401, "a ticket refused once is spent"
        unknown = http.get(f"{sso.identity_url}/login", params={"service": "http://127.0.0.9/"})
        assert unknown.status_code == 403


def test_faults_are_set_per_site_and_name_a_bad_field(sso: SsoSandbox) -> None:
    scjg = sso.system("scjg")
    with httpx.Client(trust_env=False) as http:
        changed = http.put(f"{scjg.url}/__sandbox/faults", json={"ignore_ticket": True})
        assert changed.json()["ignore_ticket"] is True
        assert sso.system("rst").faults.ignore_ticket is False
        refused = http.put(f"{sso.identity_url}/__sandbox/faults", json={"account_locked": "yes"})
        assert refused.status_code == 400 and refused.json()["field"] == "account_locked"


async def test_system_ignoring_the_ticket_asks_to_sign_in_again(
    make_services: ServicesFactory, sso: SsoSandbox, styled: dict[str, Any]
) -> None:
    sso.system("scjg").faults.update({"ignore_ticket": True})
    report = await _run(make_services, sso, **styled)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "sso.relogin_required"
    assert finding.detail.startswith(f"使用统一身份认证账号登录后，进入“{SCJG}”仍需再次登录")
    assert "要求输入账号密码的登录页面" in finding.detail
    assert finding.subjects == (SCJG,)
    assert report.result.metrics["signed_in"] == 2
    assert report.result.evidence.screenshots, "the system's login page is kept as evidence"


async def test_every_system_asking_again_is_named_in_one_finding(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    sso.system("scjg").faults.update({"ignore_ticket": True})
    sso.system("gjj").faults.update({"ignore_ticket": True})
    report = await _run(make_services, sso)
    (finding,) = report.result.findings
    assert finding.code == "sso.relogin_required"
    assert finding.subjects == (SCJG, GJJ)
    assert f"进入“{SCJG}”、“{GJJ}”仍需再次登录" in finding.detail


async def test_system_asking_to_register_again(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    sso.system("rst").faults.update({"require_registration": True})
    report = await _run(make_services, sso)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "sso.reregistration_required"
    assert f"进入“{RST}”要求重新注册本系统账号" in finding.detail
    assert finding.subjects == (RST,)


async def test_identity_portal_down_is_an_http_error(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    sso.identity_faults.update({"site_down": True})
    report = await _run(make_services, sso)
    (finding,) = report.result.findings
    assert finding.code == "site.http_error"
    assert "示范省统一身份认证平台登录页" in finding.detail and "HTTP 503" in finding.detail


async def test_identity_portal_unreachable(make_services: ServicesFactory, sso: SsoSandbox) -> None:
    nobody = f"http://{sso.identity.host}:{free_port(sso.identity.host)}"
    report = await _run(make_services, sso, base_url=nobody)
    (finding,) = report.result.findings
    assert finding.code == "site.unreachable"
    assert "ERR_CONNECTION_REFUSED" in finding.detail


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("reject_valid_account", "页面提示“用户名或密码错误，请重新输入。”"),
        ("login_error", "时返回 HTTP 500"),
    ],
    ids=["valid-password-rejected", "login-server-error"],
)
async def test_identity_portal_refusing_the_test_account_is_a_login_failure(
    make_services: ServicesFactory, sso: SsoSandbox, fault: str, said: str
) -> None:
    sso.identity_faults.update({fault: True})
    report = await _run(make_services, sso)
    assert report.outcome is Outcome.FAIL
    (finding,) = report.result.findings
    assert finding.code == "sso.login_failed"
    assert f"使用巡检测试账号“{sso.account.username}”登录示范省统一身份认证平台" in finding.detail
    assert said in finding.detail


async def test_spa_style_identity_portal_refusing_the_test_account_quotes_its_tip(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    # Its message is a plain tip line (no role=alert), in words of its own.
    sso.identity_faults.update(
        {"slider_captcha": True, "spa_wording": True, "reject_valid_account": True}
    )
    report = await _run(make_services, sso, captcha_bypass=BYPASS_BY_HEADER)
    (finding,) = report.result.findings
    assert finding.code == "sso.login_failed"
    assert "页面提示“账号或密码不正确”" in finding.detail


async def test_locked_test_account_cannot_be_judged(
    make_services: ServicesFactory, sso: SsoSandbox, styled: dict[str, Any]
) -> None:
    sso.identity_faults.update({"account_locked": True})
    report = await _run(make_services, sso, **styled)
    assert report.outcome is Outcome.INCONCLUSIVE
    assert report.result.findings == ()
    assert "已被锁定" in report.result.error


async def test_system_showing_neither_user_nor_prompt_cannot_be_judged(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    # The operator configured a name no system shows: the bot cannot tell, nobody is blamed.
    report = await _run(make_services, sso, user_text="王五")
    assert report.outcome is Outcome.INCONCLUSIVE
    assert "无法判定" in report.result.error and "user_text" in report.result.error


LEAKY_RUNS = pytest.mark.parametrize(
    ("site", "fault"),
    [("scjg", "ignore_ticket"), ("identity", "account_locked")],
)


@LEAKY_RUNS
async def test_password_never_reaches_snapshots_file_names_or_logs(
    make_services: ServicesFactory,
    sso: SsoSandbox,
    caplog: pytest.LogCaptureFixture,
    site: str,
    fault: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    files, report = await _failing_run_kept(make_services, sso, site, fault)
    forms = _written_forms(sso.account.password)
    assert report.result.evidence.html and report.result.evidence.screenshots
    for path in files:
        assert not any(form in str(path) for form in forms), path
        if not zipfile.is_zipfile(path):
            text = path.read_bytes().decode("utf-8", errors="replace")
            assert not any(form in text for form in forms), f"password in {path.name}"
    assert not any(form in caplog.text for form in forms)
    assert not any(form in repr(report.result) for form in forms)


@LEAKY_RUNS
async def test_password_never_reaches_the_trace(
    make_services: ServicesFactory, sso: SsoSandbox, site: str, fault: str
) -> None:
    files, report = await _failing_run_kept(make_services, sso, site, fault)
    assert report.result.evidence.traces
    forms = _written_forms(sso.account.password)
    for path in files:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    text = archive.read(member).decode("utf-8", errors="replace")
                    assert not any(form in text for form in forms), f"{path.name}:{member}"


async def _failing_run_kept(
    make_services: ServicesFactory, world: SsoSandbox, site: str, fault: str
) -> tuple[list[Path], RunReport]:
    """Run the check with `fault` set; the evidence files it kept and its report."""
    world.fault_sections()[site].update({fault: True})
    services = make_services(sso_catalog(world), environ=secrets_of(world))
    report = await run_check(services, CHECK, record=False)
    assert report.outcome is not Outcome.PASS
    return _files_under(Path(services.settings.resolved_evidence_dir)), report


def _files_under(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def _written_forms(password: str) -> set[str]:
    """The password as typed, and as a form post or a URL would carry it."""
    return {password, quote(password, safe=""), quote_plus(password)}


async def test_two_failures_open_one_task_and_the_fixed_system_closes_it(
    make_services: ServicesFactory, sso: SsoSandbox, webhook: WebhookCatcher
) -> None:
    clock = FakeClock(at("2026-09-28 10:00"))
    catalog = sso_catalog(sso, notify=[webhook.apprise_url("wecom")])
    services = make_services(catalog, environ=secrets_of(sso), clock=clock)
    with services.sessions.begin() as session:
        sync_catalog(session, services.catalog)
    sso.system("scjg").faults.update({"ignore_ticket": True})

    first = await run_check(services, CHECK)
    assert first.outcome is Outcome.FAIL and first.changed_tasks == ()
    clock.advance(dt.timedelta(hours=1))
    second = await run_check(services, CHECK)
    ((task_id, state),) = second.changed_tasks
    assert state == "open"
    assert await services.sender.deliver_due() == 1
    (post,) = webhook.messages
    assert post.title == "【整改通知】示范省统一身份认证平台：部门办事系统未实现单点登录（#1）"
    assert f"使用统一身份认证账号登录后，进入“{SCJG}”仍需再次登录" in post.message

    sso.system("scjg").faults.reset()  # the department connects its ticket validation
    clock.advance(dt.timedelta(hours=2))
    verified = await report_fixed(
        services, task_id, Actor("赵敏", Role.UNIT), "已接入统一身份认证票据校验"
    )
    assert verified.outcome is Outcome.PASS, verified.result
    assert verified.changed_tasks == ((task_id, "closed"),)


async def test_signed_in_state_is_read_from_the_greeting_without_a_configured_name(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    # Systems greet 欢迎您，<real name> (one masks it); the login id is shown nowhere.
    for running in sso.systems:
        running.faults.update({"account_hidden": True})
    report = await _run(make_services, sso, greeting_only=True)
    assert report.outcome is Outcome.PASS, report.result


async def test_greeting_reader_still_sees_a_system_asking_to_log_in_again(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    for running in sso.systems:
        running.faults.update({"account_hidden": True})
    sso.system("rst").faults.update({"ignore_ticket": True})
    report = await _run(make_services, sso, greeting_only=True)
    assert [f.code for f in report.result.findings] == ["sso.relogin_required"]


# -- the SPA-style province's identity portal: a slider CAPTCHA on the login form ----------

BYPASS_BY_HEADER = {"token": "sandbox-captcha-bypass", "header": "X-Captcha-Bypass"}
BYPASS_BY_COOKIE = {"token": "sandbox-captcha-bypass", "cookie": "captcha_bypass"}


async def test_slider_captcha_without_bypass_is_inconclusive_not_login_failed(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    sso.identity_faults.update({"slider_captcha": True})
    report = await _run(make_services, sso)
    assert report.outcome is Outcome.INCONCLUSIVE, report.result
    assert "滑块" in report.result.error and "captcha_bypass" in report.result.error
    assert not report.result.findings


@pytest.mark.parametrize("bypass", [BYPASS_BY_HEADER, BYPASS_BY_COOKIE], ids=["header", "cookie"])
async def test_slider_captcha_with_bypass_signs_in_everywhere(
    make_services: ServicesFactory, sso: SsoSandbox, bypass: dict[str, str]
) -> None:
    sso.identity_faults.update({"slider_captcha": True})
    report = await _run(make_services, sso, captcha_bypass=bypass)
    assert report.outcome is Outcome.PASS, report.result
    assert report.result.metrics["signed_in"] == 3


async def test_slider_captcha_with_bypass_still_finds_relogin(
    make_services: ServicesFactory, sso: SsoSandbox
) -> None:
    sso.identity_faults.update({"slider_captcha": True})
    sso.system("scjg").faults.update({"ignore_ticket": True})
    report = await _run(make_services, sso, captcha_bypass=BYPASS_BY_HEADER)
    (finding,) = report.result.findings
    assert finding.code == "sso.relogin_required"
    assert finding.subjects == (SCJG,)
