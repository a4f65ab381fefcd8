"""Forty wrong passwords at once for one account: at most the limit is checked, and the
right password sent afterwards is refused while the account is locked."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import Engine, func, select

from bot.console.accounts import LoginAttempt
from bot.console.auth import MAX_ACCOUNT_FAILURES
from tests.conftest import ServicesFactory
from tests.console_helpers import PASSWORD, add_account, console_catalog, form_token
from tests.web_helpers import serving

TRIES = 40


def sign_in(base: str, password: str, ready: threading.Barrier | None = None) -> int:
    with httpx.Client(base_url=base, timeout=60) as client:
        csrf = form_token(client.get("/console/login").text)
        if ready is not None:
            ready.wait()  # every try leaves at the same moment
        answer = client.post(
            "/console/login", data={"name": "zhao", "password": password, "csrf": csrf}
        )
        return answer.status_code


def test_simultaneous_wrong_passwords_check_at_most_the_limit(
    make_services: ServicesFactory, engine: Engine
) -> None:
    services = make_services(console_catalog(), engine=engine)
    add_account(services, "zhao")
    statuses: list[int] = []
    ready = threading.Barrier(TRIES)

    def wrong() -> None:
        statuses.append(sign_in(base, "not the password", ready))

    with serving(services) as base:
        threads = [threading.Thread(target=wrong) for _ in range(TRIES)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(statuses) == TRIES and set(statuses) <= {401, 429}, statuses
        assert statuses.count(401) <= MAX_ACCOUNT_FAILURES, statuses  # passwords checked
        assert sign_in(base, PASSWORD) == 429  # locked: the right password does not get in
    with services.sessions() as session:  # every try is in the audit trail
        recorded = session.scalar(
            select(func.count(LoginAttempt.id)).where(LoginAttempt.succeeded.is_(False))
        )
    assert recorded == TRIES + 1
