"""Indicator scores from the month's runs (seed 000's system by default): a small month
computed by hand, a catalog's own map with a metric limit, and map errors that name
their YAML path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bot.services import Services
from bot.web import create_web_app
from config.indicators import IndicatorMap, default_indicator_map, load_indicator_map
from config.loader import CatalogError, parse_catalog
from core.clock import FakeClock
from core.results import Finding, Outcome, ProbeResult
from probes.registry import params_models, probe_kinds
from tasks.indicators import monthly_indicators
from tasks.scorecard import Month
from tests.conftest import ServicesFactory, at
from tests.console_helpers import (
    COUNTY_GUIDES,
    COUNTY_SEARCH,
    RIVER_SEARCH,
    add_account,
    console_catalog,
    login,
)

NOVEMBER = Month(2026, 11)
TODAY = dt.date(2026, 11, 30)


def finding(code: str) -> Finding:
    return Finding(code=code, title="问题", detail="具体内容")


def run(
    services: Services,
    check: str,
    started: str,
    outcome: Outcome = Outcome.PASS,
    *codes: str,
    metrics: dict[str, object] | None = None,
) -> int:
    start = at(started)
    with services.sessions.begin() as session:
        recorded = services.tracker.record_run(
            session,
            check,
            ProbeResult(outcome, tuple(finding(c) for c in codes), metrics=dict(metrics or {})),
            started_at=start,
            finished_at=start + dt.timedelta(seconds=2),
        )
        return recorded.id


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine) -> Services:
    return make_services(console_catalog(), engine=engine, clock=FakeClock(at("2026-11-30 18:00")))


def small_month(services: Services) -> tuple[int, int, int]:
    """A few November runs of the console catalog: (not found, site down, guides) run ids."""
    run(services, COUNTY_SEARCH, "2026-10-31 10:00", Outcome.FAIL, "search.item_not_found")
    run(services, COUNTY_SEARCH, "2026-11-02 10:00")
    run(services, COUNTY_SEARCH, "2026-11-02 11:00")
    not_found = run(
        services, COUNTY_SEARCH, "2026-11-03 10:00", Outcome.FAIL, "search.item_not_found"
    )
    down = run(services, COUNTY_SEARCH, "2026-11-04 10:00", Outcome.FAIL, "site.unreachable")
    run(
        services, COUNTY_SEARCH, "2026-11-05 10:00", Outcome.ERROR
    )  # the monitor's own: not counted
    guides = run(
        services,
        COUNTY_GUIDES,
        "2026-11-06 10:00",
        Outcome.FAIL,
        "checklist.time_limit_unclear",
        "checklist.form_download_dead",
    )
    run(services, COUNTY_GUIDES, "2026-11-07 10:00")
    run(services, RIVER_SEARCH, "2026-10-20 10:00")  # October only: nothing applies in November
    with services.sessions.begin() as session:
        services.maintenance.add(
            session, "county-portal", at("2026-11-09 01:00"), at("2026-11-09 03:00"), "升级", "ops"
        )
    run(services, COUNTY_SEARCH, "2026-11-09 02:00", Outcome.FAIL, "site.http_error")  # not counted

    return not_found, down, guides


def test_small_month_scores_as_computed_by_hand(services: Services) -> None:
    not_found, down, guides = small_month(services)
    with services.sessions() as session:
        month = monthly_indicators(session, services.catalog, services.zone, NOVEMBER, TODAY)
    county = month.units["county"]
    # A3-1 查询精准度: 4 counted search runs, 2 with its findings (search.*, site.*) → 50.
    a31 = county.row("A3-1")
    assert (a31.runs, a31.against, a31.score, a31.evidence) == (4, 2, 50.0, (down, not_found))
    # E: E1 = (50 + 50) / 2, E2 = E3 = 100, E4 = (50 + 100) / 2 = 75 → (50+100+100+75)/4.
    assert county.row("E1-1").evidence == (guides,)
    assert [county.row(c).score for c in ("E1", "E2", "E3", "E4", "E")] == [
        50.0,
        100.0,
        100.0,
        75.0,
        81.25,
    ]
    # No consultation, mobile, registration or SSO check: A1, A6, B and C2 do not apply.
    assert [county.row(c).shown for c in ("A1", "A6", "B", "C2")] == ["不适用"] * 4
    assert [county.row(c).score for c in ("A", "C", "D")] == [50.0, 100.0, 100.0]
    # B's 25 points left out: M = 75, total = (25·50 + 20·100 + 15·100 + 15·81.25) / 75.
    assert county.total == 79.58
    assert county.row("A").share == 33.33
    assert county.row("B").share is None
    assert month.targets["county-portal"].total == county.total
    assert month.units["river"].total is None
    assert month.units["province"].total is None


def test_catalog_map_with_a_metric_limit(services: Services, tmp_path: Path) -> None:
    """A province's own map: a nested metric above its limit counts against a leaf."""
    own = IndicatorMap.model_validate(
        {
            "name": "测试指标体系",
            "indicators": [
                {
                    "code": "S",
                    "name": "搜索耗时",
                    "probes": ["search"],
                    "metrics": [{"path": "timing.total", "above": 3}],
                },
                {
                    "code": "F",
                    "name": "搜索结果",
                    "weight": 3,
                    "probes": ["search"],
                    "findings": ["search.item_not_found"],
                },
            ],
        }
    )
    run(services, COUNTY_SEARCH, "2026-11-02 10:00", metrics={"timing": {"total": 2}})
    slow = run(services, COUNTY_SEARCH, "2026-11-02 11:00", metrics={"timing": {"total": 5}})
    both = run(
        services,
        COUNTY_SEARCH,
        "2026-11-02 12:00",
        Outcome.FAIL,
        "search.item_not_found",
        metrics={"timing": {"total": 4}},
    )
    run(services, COUNTY_SEARCH, "2026-11-02 13:00")
    with services.sessions() as session:
        month = monthly_indicators(session, services.catalog, services.zone, NOVEMBER, TODAY, own)
    county = month.units["county"]
    assert (county.row("S").score, county.row("S").evidence) == (50.0, (both, slow))
    assert (county.row("F").score, county.row("F").evidence) == (75.0, (both,))
    assert county.total == 68.75  # (1·50 + 3·75) / 4
    assert month.system == "测试指标体系"


def test_default_map_is_seed_000s_system() -> None:
    default = default_indicator_map()
    assert [(i.code, i.weight) for i in default.indicators] == [
        ("A", 25),
        ("B", 25),
        ("C", 20),
        ("D", 15),
        ("E", 15),
    ]
    known = set(probe_kinds())
    assert {kind for leaf in default.leaves() for kind in leaf.probes} <= known


BAD_MAP = """\
name: 某省指标体系
indicators:
  - code: X1
    name: 一级
    children:
      - code: X1-1
        name: 查询
        probes: [search, fax]
        findings: [search.]
      - code: X1-2
        name: 无检查
        findings: [site.]
"""


def test_map_errors_name_the_map_file_and_yaml_path(tmp_path: Path) -> None:
    (tmp_path / "province.yaml").write_text(BAD_MAP, encoding="utf-8")
    catalog = "indicator_map: province.yaml\nunits: [{code: p, name: 省}]\n"
    with pytest.raises(CatalogError) as caught:
        parse_catalog(catalog, str(tmp_path / "catalog.yaml"))
    (problem,) = caught.value.problems
    assert problem.file == str(tmp_path / "province.yaml")
    assert problem.yaml_path == "indicators[0].children[1]"
    assert "needs `probes`" in problem.message
    assert problem.line == 10

    (tmp_path / "province.yaml").write_text(
        BAD_MAP.replace(
            "        findings: [site.]\n", "        probes: [search]\n        findings: [site.]\n"
        ),
        encoding="utf-8",
    )
    found, problems = load_indicator_map(tmp_path / "province.yaml", set(probe_kinds()))
    assert found is None
    assert [(str_path(p), line) for p, _, line in problems] == [
        ("indicators[0].children[0].probes[1]", 8)
    ]
    assert "unknown probe 'fax'" in problems[0][1]
    with pytest.raises(CatalogError) as caught:
        parse_catalog(
            catalog, str(tmp_path / "catalog.yaml"), probe_params=params_models(probe_kinds())
        )
    assert "indicators[0].children[0].probes[1]: unknown probe 'fax'" in str(caught.value)

    missing = "indicator_map: nowhere.yaml\nunits: [{code: p, name: 省}]\n"
    with pytest.raises(CatalogError, match=r"indicator_map: .*nowhere.yaml: indicator map file"):
        parse_catalog(missing, str(tmp_path / "catalog.yaml"))


def str_path(path: tuple[str | int, ...]) -> str:
    from config.loader import Problem

    return Problem("", path, "").yaml_path


def test_console_pages_and_api_show_the_scores_with_their_evidence(
    make_services: ServicesFactory,
) -> None:
    services = make_services(console_catalog(), clock=FakeClock(at("2026-11-30 18:00")))
    add_account(services, "zhao")
    add_account(services, "sun", unit="river")  # a supervisor of one county
    not_found, down, _ = small_month(services)
    client = TestClient(create_web_app(services))
    assert login(client, "zhao") == 303

    ranking = client.get("/console/indicators?month=2026-11")
    assert ranking.status_code == 200
    assert "script-src 'none'" in ranking.headers["content-security-policy"]
    assert "<script" not in ranking.text
    assert '/console/indicators/units/county?month=2026-11">示范县政务服务中心</a>' in ranking.text
    assert "<b>79.58</b>" in ranking.text

    page = client.get("/console/indicators/units/county?month=2026-11").text
    assert '<b class="indicator-total">79.58</b>' in page
    a31 = page[page.index('id="A3-1"') : page.index("</tr>", page.index('id="A3-1"'))]
    assert ">50.00<" in a31
    assert f'<a href="/console/runs/{down}">#{down}</a> <a href="/console/runs/{not_found}">' in a31
    assert "不适用" in page[page.index('id="B"') :]
    assert "/console/indicators/targets/county-portal?month=2026-11" in page
    target = client.get("/console/indicators/targets/county-portal?month=2026-11").text
    assert '<b class="indicator-total">79.58</b>' in target

    evidence = client.get(f"/console/runs/{down}")
    assert evidence.status_code == 200 and "site.unreachable" in evidence.text

    scorecards = client.get("/api/scorecards?month=2026-11").json()
    county = next(card for card in scorecards if card["unit_code"] == "county")
    assert county["indicators"]["total"] == 79.58
    items = {item["code"]: item for item in county["indicators"]["items"]}
    assert items["A3-1"]["evidence_runs"] == [down, not_found]
    assert items["B"]["score"] is None

    # A unit's contact sees its own unit only, and no other unit's runs.
    other = TestClient(create_web_app(services))
    assert login(other, "sun") == 303
    assert other.get("/console/indicators/units/county?month=2026-11").status_code == 404
    assert other.get(f"/console/runs/{down}").status_code == 404
    assert other.get("/console/indicators/units/river?month=2026-11").status_code == 200
