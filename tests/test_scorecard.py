"""Monthly scorecards in the style of seed 002 — on SQLite and PostgreSQL — and the CLI."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.services import Services
from config.loader import CatalogError, parse_catalog
from config.policies import ScoringPolicy
from core.clock import FakeClock
from core.progress import Progress
from tasks.lifecycle import Actor, Role
from tasks.scorecard import Month, Scorecard, monthly_scorecards, score
from tests.conftest import ServicesFactory, at
from tests.workflow_helpers import SECOND_CHECK, open_task, tree_catalog


def card(**counts: int) -> Scorecard:
    # counts name only int fields; mypy cannot tell them from the str ones
    made = Scorecard("u", "单位", **counts)  # type: ignore[arg-type]
    score(made, ScoringPolicy())
    return made


def test_a_clean_month_scores_the_full_bonus() -> None:
    clean = card()
    assert (clean.x, clean.y, clean.total) == (100.0, 50.0, 150.0)
    assert clean.level == "非常高" and clean.red_list and not clean.black_list


def test_deductions_are_capped_per_item() -> None:
    late = card(opened=50, overdue=30, overdue_days=100, reopened=9, critical=3)
    assert late.deductions == {
        "新立整改任务": 30.0,  # 50 × 1, capped at 30
        "超期任务": 30.0,  # 30 × 2, capped at 30
        "超期工作日": 20.0,  # 100 × 0.5, capped at 20
        "复核退回及复发": 10.0,  # 9 × 2, capped at 10
        "严重问题": 3.0,
    }
    assert late.x == 7.0 and late.y == 0.0  # no bonus at or below 70
    assert late.level == "低" and late.black_list


def test_bonus_only_above_the_threshold() -> None:
    assert card(opened=30).x == 70.0 and card(opened=30).y == 0.0  # not above 70
    above = card(opened=29, closed=29, closed_on_time=29, acknowledged_quickly=29)
    assert above.x == 71.0 and above.y == 50.0 and above.total == 121.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(at("2026-11-02 10:00"))


@pytest.fixture
def services(make_services: ServicesFactory, engine: Engine, clock: FakeClock) -> Services:
    return make_services(tree_catalog("json://127.0.0.1:9"), engine=engine, clock=clock)


def test_a_month_of_real_tasks(services: Services, clock: FakeClock) -> None:
    on_time = open_task(services, clock)  # 11-02, deadline 11-09
    late = open_task(services, clock, SECOND_CHECK)
    with services.sessions.begin() as session:
        services.desk.acknowledge(session, on_time.id, Actor("联系人孙", Role.UNIT))
    clock.set(at("2026-11-05 15:00"))
    with services.sessions.begin() as session:
        services.desk.close(session, on_time.id, Actor("督办员赵", Role.SUPERVISOR), "核实已整改")
    clock.set(at("2026-11-13 15:00"))  # four working days late
    with services.sessions.begin() as session:
        services.desk.close(session, late.id, Actor("督办员赵", Role.SUPERVISOR), "核实已整改")
    with services.sessions() as session:
        cards = monthly_scorecards(
            session,
            services.catalog,
            services.calendar,
            services.zone,
            Month.parse("2026-11"),
            dt.date(2026, 11, 30),
        )
    county = next(c for c in cards if c.unit_code == "county")
    assert (county.opened, county.closed, county.closed_on_time) == (2, 2, 1)
    assert (county.overdue, county.overdue_days) == (1, 4)
    assert county.acknowledged_quickly == 1
    assert county.mean_fix_days == 6.0  # 3 and 9 working days
    assert county.x == 100 - 2 - 2 - 2  # opened, overdue task, overdue days
    assert county.y == pytest.approx(20 * 0.5 + 10 * 0.5 + 10)  # no fast-fix bonus
    city = next(c for c in cards if c.unit_code == "city")
    assert city.total == 150.0 and cards[0] is city


def test_month_parsing_names_the_format() -> None:
    with pytest.raises(ValueError, match="2026-11"):
        Month.parse("Nov 2026")
    assert Month.parse("2026-12").last == dt.date(2026, 12, 31)


def test_report_command_ranks_units_and_names_the_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(tree_catalog("json://127.0.0.1:9"), encoding="utf-8")
    monkeypatch.setenv("GOVPATROL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GOVPATROL_CATALOG", str(catalog))
    assert main(["db", "upgrade"]) == 0
    assert main(["report", "--month", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert "2026年11月 整改工作通报" in out
    assert "红榜（≥80 分）：示范市政务服务管理局、示范县政务服务中心" in out
    assert main(["report", "--month", "2026-11", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("排名,责任单位,新立")
    assert main(["report", "--month", "11/2026"]) == 1


# Seed 002's items in miniature: three indicator items and the task items, 100 points in
# all (20 + 20 + 20 + 6 + 6 task caps, A1 10, A3 10, C2 8).
SEED_002_SCORING = """
scoring:
  deductions:
    {opened_cap: 20, overdue_cap: 20, overdue_days_cap: 20, reopen_cap: 6, critical_cap: 6}
  indicators:
    - {code: A1, name: 统一身份认证, points: 10, per_task: 5, finding_codes: [sso.]}
    - {code: A3, name: 在线注册, points: 10, per_task: 5, finding_codes: [registration.]}
    - {code: C2, name: 站内搜索, points: 8, per_task: 2, finding_codes: [search.]}
  not_applicable: {county: [A1, A3]}
"""


def seed_002_policy() -> ScoringPolicy:
    return parse_catalog(tree_catalog("json://127.0.0.1:9", chase=SEED_002_SCORING)).scoring


def seed_card(unit: str, **counts: Any) -> Scorecard:
    made = Scorecard(unit, "单位", **counts)
    score(made, seed_002_policy())
    return made


def test_items_that_do_not_apply_rescale_x_as_seed_002_says() -> None:
    counts: dict[str, Any] = {
        "opened": 3,
        "overdue": 1,
        "overdue_days": 4,
        "closed": 3,
        "closed_on_time": 2,
        "acknowledged_quickly": 3,
        "indicator_tasks": {"C2": 3, "A1": 2},
    }
    # Without A1 and A3: M = 100 − 10 − 10 = 80, N = 100 / 80 = 1.25; A1's tasks count for
    # nothing. 扣分 = opened 3 + overdue 2 + overdue days 2 + C2 3 × 2 = 13.
    without = seed_card("county", **counts)
    assert without.full_marks == 80.0
    assert "A1 统一身份认证" not in without.deductions
    assert without.deductions["C2 站内搜索"] == 6.0
    assert without.x == (80 - 13) * 1.25 == 83.75
    # Y = 20 × 2/3 on time + 10 quick + 10 none overdue + 10 fast = 43.33
    assert without.y == 43.33 and without.total == 127.08
    assert without.level == "非常高" and without.red_list
    # The same month where every item applies: A1 2 × 5 = 10 more, X = 100 − 23.
    every = seed_card("city", **counts)
    assert (every.full_marks, every.x, every.deductions["A1 统一身份认证"]) == (100.0, 77.0, 10.0)


def test_rescaled_x_caps_each_item_and_gives_no_bonus_at_70_or_below() -> None:
    # opened 25 × 1 → cap 20; overdue 10 × 2 → cap 20; C2 5 × 2 → cap 8: (80 − 48) × 1.25
    low = seed_card("county", opened=25, overdue=10, indicator_tasks={"C2": 5})
    assert low.x == 40.0 and low.y == 0.0 and low.level == "低" and low.black_list
    # opened 20 + overdue 2 × 2 = 24: (80 − 24) × 1.25 = 70, not above 70
    edge = seed_card("county", opened=20, overdue=2, acknowledged_quickly=20)
    assert (edge.x, edge.y, edge.total, edge.level) == (70.0, 0.0, 70.0, "中")
    assert not edge.red_list and not edge.black_list


def test_scoring_items_must_fit_in_100_points_and_be_known() -> None:
    with pytest.raises(CatalogError, match="108 points"):
        parse_catalog(
            tree_catalog(
                "json://127.0.0.1:9",
                chase=SEED_002_SCORING.replace("opened_cap: 20", "opened_cap: 28"),
            )
        )
    with pytest.raises(CatalogError, match="unknown unit 'countee'"):
        parse_catalog(
            tree_catalog(
                "json://127.0.0.1:9", chase=SEED_002_SCORING.replace("{county:", "{countee:")
            )
        )
    with pytest.raises(CatalogError, match="unknown items"):
        parse_catalog(
            tree_catalog(
                "json://127.0.0.1:9", chase=SEED_002_SCORING.replace("[A1, A3]", "[A1, B9]")
            )
        )


def test_a_month_of_tasks_scored_with_indicator_items(
    make_services: ServicesFactory, engine: Engine, clock: FakeClock
) -> None:
    services = make_services(
        tree_catalog("json://127.0.0.1:9", chase=SEED_002_SCORING), engine=engine, clock=clock
    )
    open_task(services, clock)  # two search tasks on 11-02, deadlines 11-09
    open_task(services, clock, SECOND_CHECK)
    with services.sessions() as session:
        cards = monthly_scorecards(
            session,
            services.catalog,
            services.calendar,
            services.zone,
            Month.parse("2026-11"),
            dt.date(2026, 11, 5),
        )
    county = next(c for c in cards if c.unit_code == "county")
    assert county.indicator_tasks == {"C2": 2}
    # 扣分 = opened 2 + C2 2 × 2 = 6 out of M = 80: X = 74 × 1.25
    assert (county.full_marks, county.x) == (80.0, 92.5)
    # Y: none closed, none acknowledged; none overdue at the end (10), no fixes yet (10)
    assert (county.y, county.total, county.level) == (20.0, 112.5, "非常高")
    city = next(c for c in cards if c.unit_code == "city")
    assert (city.full_marks, city.x, city.total) == (100.0, 100.0, 150.0)


def test_counting_a_month_reports_its_progress(services: Services, clock: FakeClock) -> None:
    open_task(services, clock)
    open_task(services, clock, SECOND_CHECK)
    out = io.StringIO()
    with services.sessions() as session:
        monthly_scorecards(
            session,
            services.catalog,
            services.calendar,
            services.zone,
            Month.parse("2026-11"),
            dt.date(2026, 11, 30),
            progress=Progress("统计整改任务", stream=out, min_total=1),
        )
    assert out.getvalue().splitlines()[-1].startswith("统计整改任务 2/2（100%），用时")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["report"], "请给出月份，例如 --month 2026-11"),
        (["report", "--month", "2026-13"], "月份格式应为 2026-11，收到 '2026-13'"),
        (["report", "indicators", "--month", "11月"], "月份格式应为 2026-11"),
        (["report", "availability", "--month", "1999-01"], "月份超出范围"),
        (["bulletin", "publish", "--month", "2026/11"], "月份格式应为 2026-11"),
    ],
)
def test_every_monthly_command_refuses_a_bad_month_before_opening_anything(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    assert said in capsys.readouterr().err
