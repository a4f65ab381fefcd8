"""The web app as ``govpatrol web`` serves it (real uvicorn on a local port): forwarded
headers believed only from configured proxies, link tokens kept out of the access log."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.console.auth import MAX_CLIENT_FAILURES
from bot.web_server import ACCESS_LOGGER
from tests.conftest import ServicesFactory
from tests.console_helpers import console_catalog, form_token
from tests.web_helpers import serving


def failed_logins(base: str, count: int) -> list[int]:
    """``count`` wrong passwords for unknown accounts, each claiming another address."""
    statuses = []
    with httpx.Client(base_url=base) as client:
        for n in range(count):
            csrf = form_token(client.get("/console/login").text)
            answer = client.post(
                "/console/login",
                data={"name": f"nobody{n}", "password": "wrong password", "csrf": csrf},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            )
            statuses.append(answer.status_code)
    return statuses


def test_forwarded_for_from_an_untrusted_peer_does_not_change_the_client_address(
    make_services: ServicesFactory,
) -> None:
    services = make_services(console_catalog())
    with serving(services) as base:
        statuses = failed_logins(base, MAX_CLIENT_FAILURES + 1)
    # Every try came from 127.0.0.1, whatever the header said: the address is locked.
    assert statuses[:MAX_CLIENT_FAILURES] == [401] * MAX_CLIENT_FAILURES
    assert statuses[-1] == 429


def test_forwarded_for_from_a_trusted_proxy_names_the_client(
    make_services: ServicesFactory,
) -> None:
    services = make_services(console_catalog(), trusted_proxies="10.0.0.0/8, 127.0.0.1")
    with serving(services) as base:
        statuses = failed_logins(base, MAX_CLIENT_FAILURES + 1)
    assert statuses == [401] * (MAX_CLIENT_FAILURES + 1)  # 21 different clients


def test_trusted_proxies_setting_refuses_a_non_address(make_services: ServicesFactory) -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        make_services(console_catalog(), trusted_proxies="proxy.example")


def test_access_log_never_shows_a_unit_link_token(
    make_services: ServicesFactory, caplog: pytest.LogCaptureFixture
) -> None:
    services = make_services(console_catalog())
    token = services.links.token(1, "county")
    access = logging.getLogger(ACCESS_LOGGER)
    with serving(services) as base:
        access.addHandler(caplog.handler)  # uvicorn's access logger does not propagate
        try:
            with httpx.Client(base_url=base) as client:
                client.get(f"/u/{token}")
                client.get(f"/u/{token}/evidence/1/shot/0")
                client.post(f"/u/{token}/acknowledge", data={"csrf": "x"})
        finally:
            access.removeHandler(caplog.handler)
    lines = [record.getMessage() for record in caplog.records if record.name == ACCESS_LOGGER]
    assert len(lines) == 3, lines
    assert all("/u/****" in line for line in lines), lines
    assert token not in caplog.text
