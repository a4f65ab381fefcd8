"""Extreme values in a URL are refused with a Chinese 400, never a 500; the JSON API is
fuzzed from its own OpenAPI document, the console's query parameters with hypothesis."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from bot.console.accounts import Role, issue_token
from bot.services import Services
from bot.web import create_web_app
from core.clock import FakeClock
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_SEARCH,
    add_account,
    console_catalog,
    login,
    record_failure,
    search_finding,
)

HUGE = "99999999999999999999999"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def services(make_services: ServicesFactory) -> Services:
    clock = FakeClock(at("2026-11-23 10:00"))
    services = make_services(console_catalog(), clock=clock)
    add_account(services, "zhao")
    record_failure(services, clock, COUNTY_SEARCH, search_finding())
    return services


@pytest.fixture
def client(services: Services) -> TestClient:
    client = TestClient(create_web_app(services), raise_server_exceptions=False)
    assert login(client, "zhao") == 303
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/console/exports/problems.csv?end=9999-12-31",
        "/console/exports/problems.csv?start=0001-01-01",
        "/console/exports/problems.xlsx?end=9999-12-31",
        "/console/exports/scorecards.xlsx?month=9999-12",
        "/console/ranking?month=0001-01",
        "/console/ranking/print?month=9999-12",
        "/api/scorecards?month=9999-12",
        "/api/scorecards?month=0001-01",
        "/console/indicators?month=9999-12",
        "/console/indicators/units/county?month=0001-01",
        f"/console/runs/{HUGE}",
        f"/console/runs/1/evidence/screenshots/{HUGE}",
        f"/console/tasks/{HUGE}",
        f"/console/tasks/1/evidence/{HUGE}/shot/0",
        f"/api/tasks/{HUGE}",
        f"/console/tasks?page={HUGE}",
        "/console/tasks?page=10000000000",
        f"/api/tasks?offset={HUGE}",
        "/api/runs?since=0001-01-01T00:00:00%2B14:00",
        "/api/runs?since=9999-12-31T23:59:59-12:00",
    ],
)
def test_extreme_values_answer_400_in_chinese(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 400, answer.text[:300]
    assert CHINESE.search(answer.text)


def test_unit_link_with_huge_evidence_ids_is_refused_not_crashed(client: TestClient) -> None:
    answer = client.get(f"/u/anything/evidence/{HUGE}/shot/{HUGE}")
    assert answer.status_code == 400


@pytest.fixture
def api_token(services: Services) -> str:
    add_account(services, "robot", role=Role.OPERATOR)
    with services.sessions.begin() as session:
        return issue_token(session, "robot", services.clock.now())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_json_api_never_answers_5xx(
    services: Services, api_token: str, mode: GenerationMode
) -> None:
    """Every operation of /api/openapi.json, with values valid (positive) and invalid
    (negative) for its schema: a bounded number of examples each, derandomized."""
    headers = {"Authorization": f"Bearer {api_token}"}
    schema = schemathesis.openapi.from_asgi(
        "/api/openapi.json", create_web_app(services), headers=headers
    )
    operations = [r.ok() for r in schema.get_all_operations() if isinstance(r, Ok)]
    assert len(operations) >= 5

    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not list(operation.iter_parameters()):
            continue  # nothing to get wrong

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case: schemathesis.Case[Any]) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        no_server_error()


CONSOLE_PAGES = ["/console/tasks", "/console/units", "/console/targets", "/console/ranking"]
PARAMETERS = ["page", "status", "unit", "level", "probe", "severity", "sort", "month"]
VALUES = st.one_of(
    st.text(max_size=30),
    st.integers().map(str),
    st.dates().map(str),
    st.sampled_from(["9999-12", "0001-01", "-1", "1e309", "NaN", HUGE, "2026-13"]),
)


@given(
    page=st.sampled_from(CONSOLE_PAGES),
    query=st.dictionaries(st.sampled_from(PARAMETERS), VALUES, max_size=4),
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
    derandomize=True,
)
def test_console_query_parameters_never_answer_5xx(
    client: TestClient, page: str, query: dict[str, str]
) -> None:
    answer = client.get(page, params=query)
    assert answer.status_code < 500, (page, query, answer.text[:300])
