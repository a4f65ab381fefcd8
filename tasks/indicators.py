"""Monthly indicator scores from the month's runs, per target and per unit.

    a leaf indicator     judged on the month's runs of the checks whose probe it names,
                         counted as availability counts them (pass or fail; not held, not
                         inside approved maintenance); a run counts against it when it carries
                         one of the leaf's findings or a metric above the leaf's limit
                         score = 100 × (runs − runs against it) / runs
                         no such run in the scope: 不适用 (the scope has no check for it)
    a parent             the weighted mean of its children that apply; the weights of those
                         that do not are left out, as seed 002 rescales missing items:
                         M = the applicable weights, score = Σ wᵢ·sᵢ / M
                         (the same as X = (M − 扣分) × 100 / M with 扣分 = Σ wᵢ·(100 − sᵢ)/100)
    the total (综合得分)  the same over the 一级 indicators (seed 000: A–E, 25/25/20/15/15)

A unit's scores are over the runs of its own targets (as its availability is). The runs
counted against each leaf are its evidence (佐证记录), newest first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from config.catalog import Catalog
from config.indicators import Indicator, IndicatorMap
from tasks.availability import counted_runs
from tasks.models import CheckRow, FindingRow, Run
from tasks.scorecard import Month

EVIDENCE_SHOWN = 20  # run ids kept per indicator and scope


@dataclass(frozen=True)
class IndicatorScore:
    """One indicator of one scope (a unit or a target) in one month."""

    code: str
    name: str
    depth: int  # 0 for a 一级 indicator
    weight: float  # as configured, among its siblings
    share: float | None  # the weight rescaled over the siblings that apply, percent
    runs: int  # runs judging it (a parent: those of its leaves, a run counted once per leaf)
    against: int  # of those, runs counted against it
    score: float | None  # 0–100, two decimals; None: 不适用
    evidence: tuple[int, ...]  # run ids counted against it, newest first (a leaf only)
    leaf: bool

    @property
    def applicable(self) -> bool:
        return self.score is not None

    @property
    def shown(self) -> str:
        return "不适用" if self.score is None else f"{self.score:.2f}"


@dataclass(frozen=True)
class IndicatorReport:
    """The indicator tree of one unit or target: every indicator, parents first."""

    scope: str  # "unit" or "target"
    key: str
    name: str
    unit_code: str
    total: float | None  # 综合得分 0–100; None when nothing applies
    rows: tuple[IndicatorScore, ...]

    def row(self, code: str) -> IndicatorScore:
        return next(row for row in self.rows if row.code == code)

    @property
    def top(self) -> list[IndicatorScore]:
        return [row for row in self.rows if row.depth == 0]


@dataclass(frozen=True)
class IndicatorMonth:
    month: Month
    system: str  # the map's name
    units: dict[str, IndicatorReport]  # catalog order
    targets: dict[str, IndicatorReport]


@dataclass
class _Tally:
    runs: int = 0
    against: set[int] | None = None


def monthly_indicators(
    session: Session,
    catalog: Catalog,
    zone: ZoneInfo,
    month: Month,
    today: dt.date,
    indicators: IndicatorMap | None = None,
) -> IndicatorMonth:
    """Every unit's and target's indicator scores for ``month`` (up to ``today``), on
    ``indicators`` (default: the catalog's map)."""
    imap = indicators or catalog.indicators
    end = min(month.last, today)
    start_at = dt.datetime.combine(month.first, dt.time(), tzinfo=zone)
    end_at = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    leaves = imap.leaves()
    counted = counted_runs(start_at, end_at)
    runs_of: dict[str, int] = {}
    probe_of: dict[str, str] = {}
    checks_of: dict[str, list[str]] = defaultdict(list)  # target key → check ids
    for check_id, target_key, probe, count in session.execute(
        select(CheckRow.id, CheckRow.target_key, CheckRow.probe, func.count(Run.id))
        .select_from(Run)
        .join(CheckRow, CheckRow.id == Run.check_id)
        .where(*counted)
        .group_by(CheckRow.id, CheckRow.target_key, CheckRow.probe)
    ):
        runs_of[check_id], probe_of[check_id] = int(count), probe
        checks_of[target_key].append(check_id)
    against: dict[tuple[str, str], set[int]] = defaultdict(set)  # (check, leaf) → run ids
    _findings_against(session, counted, leaves, probe_of, against)
    _metrics_against(session, counted, leaves, against)

    def report(scope: str, key: str, name: str, unit: str, checks: list[str]) -> IndicatorReport:
        def tally(leaf: Indicator) -> _Tally:
            mine = [c for c in checks if probe_of[c] in leaf.probes]
            ids: set[int] = set()
            for check in mine:
                ids |= against.get((check, leaf.code), set())
            return _Tally(sum(runs_of[c] for c in mine), ids)

        total, rows = score_tree(imap.indicators, tally)
        return IndicatorReport(scope, key, name, unit, total, tuple(rows))

    targets = {}
    unit_checks: dict[str, list[str]] = defaultdict(list)
    for target in catalog.targets:
        checks = checks_of.get(target.key, [])
        unit_checks[target.unit].extend(checks)
        targets[target.key] = report("target", target.key, target.name, target.unit, checks)
    units = {
        unit.code: report("unit", unit.code, unit.name, unit.code, unit_checks.get(unit.code, []))
        for unit in catalog.units
    }
    return IndicatorMonth(month, imap.name, units, targets)


def score_tree(
    nodes: Iterable[Indicator], tally: Callable[[Indicator], _Tally]
) -> tuple[float | None, list[IndicatorScore]]:
    """The weighted score over ``nodes`` (None when none applies) and every node's row,
    parents before their children; ``tally`` gives a leaf's runs and the ids against it."""
    rows: list[IndicatorScore] = []

    def visit(node: Indicator, depth: int) -> tuple[float | None, int, int, list[IndicatorScore]]:
        if node.leaf:
            found = tally(node)
            ids = found.against or set()
            exact = 100.0 * (found.runs - len(ids)) / found.runs if found.runs else None
            evidence = tuple(sorted(ids, reverse=True)[:EVIDENCE_SHOWN])
            return (
                exact,
                found.runs,
                len(ids),
                [_row(node, depth, exact, found.runs, len(ids), evidence)],
            )
        exact, runs, hits, below = level(node.children, depth + 1)
        return exact, runs, hits, [_row(node, depth, exact, runs, hits, ()), *below]

    def level(
        siblings: Iterable[Indicator], depth: int
    ) -> tuple[float | None, int, int, list[IndicatorScore]]:
        parts = [(node, *visit(node, depth)) for node in siblings]
        applicable = sum(node.weight for node, exact, *_ in parts if exact is not None)
        out: list[IndicatorScore] = []
        weighted = 0.0
        for node, exact, _, _, node_rows in parts:
            head, *rest = node_rows
            share = None
            if exact is not None:
                weighted += node.weight * exact
                share = round(node.weight * 100.0 / applicable, 2)
            out.extend([replace(head, share=share), *rest])
        score = weighted / applicable if applicable else None
        return score, sum(p[2] for p in parts), sum(p[3] for p in parts), out

    total, _, _, rows = level(nodes, 0)
    return (None if total is None else round(total, 2)), rows


def _row(
    node: Indicator,
    depth: int,
    exact: float | None,
    runs: int,
    against: int,
    evidence: tuple[int, ...],
) -> IndicatorScore:
    return IndicatorScore(
        code=node.code,
        name=node.name,
        depth=depth,
        weight=node.weight,
        share=None,
        runs=runs,
        against=against,
        score=None if exact is None else round(exact, 2),
        evidence=evidence,
        leaf=node.leaf,
    )


def _findings_against(
    session: Session,
    counted: list[ColumnElement[bool]],
    leaves: list[Indicator],
    probe_of: dict[str, str],
    against: dict[tuple[str, str], set[int]],
) -> None:
    """Add the counted runs carrying a leaf's findings to ``against``."""
    codes = sorted({code for leaf in leaves for code in leaf.findings})
    if not codes:
        return
    wanted = or_(
        *(
            FindingRow.code.startswith(code) if code.endswith(".") else FindingRow.code == code
            for code in codes
        )
    )
    rows = session.execute(
        select(Run.id, Run.check_id, FindingRow.code)
        .join(FindingRow, FindingRow.run_id == Run.id)
        .join(CheckRow, CheckRow.id == Run.check_id)
        .where(*counted, wanted)
    )
    # A month has few distinct (probe, code) pairs: judge each once.
    judged: dict[tuple[str, str], list[str]] = {}
    for run_id, check_id, code in rows:
        probe = probe_of.get(check_id, "")
        hits = judged.get((probe, code))
        if hits is None:
            hits = [leaf.code for leaf in leaves if probe in leaf.probes and leaf.matches(code)]
            judged[(probe, code)] = hits
        for leaf_code in hits:
            against[(check_id, leaf_code)].add(run_id)


def _metrics_against(
    session: Session,
    counted: list[ColumnElement[bool]],
    leaves: list[Indicator],
    against: dict[tuple[str, str], set[int]],
) -> None:
    """Add the counted runs with a metric above a leaf's limit to ``against``."""
    for leaf in leaves:
        for limit in leaf.metrics:
            keys = limit.keys
            value = Run.metrics[keys if len(keys) > 1 else keys[0]].as_float()
            rows = session.execute(
                select(Run.id, Run.check_id)
                .join(CheckRow, CheckRow.id == Run.check_id)
                .where(*counted, CheckRow.probe.in_(leaf.probes), value > limit.above)
            )
            for run_id, check_id in rows:
                against[(check_id, leaf.code)].add(run_id)


# The report as the CLI prints it: one row per scope, or one per indicator of a scope.
TREE_COLUMNS = ("指标", "权重", "折算权重", "巡检次数", "问题次数", "得分", "佐证记录")


def summary_columns(month: IndicatorMonth, scope: str = "责任单位") -> list[str]:
    first = next(iter(month.units.values()), None)
    top = [f"{row.code} {row.name}" for row in first.top] if first else []
    return [scope, "综合得分", *top]


def summary_row(report: IndicatorReport) -> list[str]:
    total = "不适用" if report.total is None else f"{report.total:.2f}"
    return [report.name, total, *(row.shown for row in report.top)]


def tree_rows(report: IndicatorReport, evidence: int = 5) -> list[list[str]]:
    """Every indicator of ``report``, indented by depth, with up to ``evidence`` run ids."""
    rows = []
    for row in report.rows:
        runs = ", ".join(f"#{run_id}" for run_id in row.evidence[:evidence])
        if len(row.evidence) > evidence or row.against > len(row.evidence):
            runs += f" 等 {row.against} 次"
        rows.append(
            [
                "  " * row.depth + f"{row.code} {row.name}",
                f"{row.weight:g}",
                "—" if row.share is None else f"{row.share:g}%",
                str(row.runs),
                str(row.against),
                row.shown,
                runs,
            ]
        )
    return rows
