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
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, false, func, or_, select
from sqlalchemy.orm import Session

from config.catalog import Catalog
from config.indicators import Indicator, IndicatorMap
from core.results import Outcome
from tasks.availability import JUDGED
from tasks.models import CheckRow, FindingRow, MaintenanceWindow, Run, WindowState
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
class _Shape:
    """An indicator map flattened once: nodes parents first, with their children."""

    nodes: tuple[Indicator, ...]
    depth: tuple[int, ...]
    children: tuple[tuple[int, ...], ...]
    parent: tuple[int | None, ...]
    roots: tuple[int, ...]

    @classmethod
    def of(cls, imap: IndicatorMap) -> _Shape:
        nodes: list[Indicator] = []
        depth: list[int] = []
        children: list[list[int]] = []

        def add(node: Indicator, level: int) -> int:
            index = len(nodes)
            nodes.append(node)
            depth.append(level)
            children.append([])
            for child in node.children:
                children[index].append(add(child, level + 1))
            return index

        roots = tuple(add(node, 0) for node in imap.indicators)
        parent: list[int | None] = [None] * len(nodes)
        for index, kids in enumerate(children):
            for kid in kids:
                parent[kid] = index
        return cls(
            tuple(nodes), tuple(depth), tuple(tuple(c) for c in children), tuple(parent), roots
        )

    @property
    def leaves(self) -> list[int]:
        return [i for i, kids in enumerate(self.children) if not kids]


@dataclass(frozen=True)
class IndicatorReport:
    """The indicator tree of one unit or target; ``rows`` lists every indicator, parents
    first (built when asked: a province has thousands of scopes, a page shows one)."""

    scope: str  # "unit" or "target"
    key: str
    name: str
    unit_code: str
    total: float | None  # 综合得分 0–100, two decimals; None when nothing applies
    shape: _Shape
    scores: tuple[float | None, ...]  # per node of ``shape``, unrounded
    shares: tuple[float | None, ...]
    runs: tuple[int, ...]
    against: tuple[int, ...]
    evidence: dict[int, set[int]]  # leaf node → run ids against it

    def _row(self, i: int) -> IndicatorScore:
        node, score, share = self.shape.nodes[i], self.scores[i], self.shares[i]
        return IndicatorScore(
            code=node.code,
            name=node.name,
            depth=self.shape.depth[i],
            weight=node.weight,
            share=None if share is None else round(share, 2),
            runs=self.runs[i],
            against=self.against[i],
            score=None if score is None else round(score, 2),
            evidence=tuple(sorted(self.evidence.get(i, ()), reverse=True)[:EVIDENCE_SHOWN]),
            leaf=node.leaf,
        )

    @property
    def rows(self) -> list[IndicatorScore]:
        return [self._row(i) for i in range(len(self.shape.nodes))]

    @property
    def top(self) -> list[IndicatorScore]:
        return [self._row(i) for i in self.shape.roots]

    def row(self, code: str) -> IndicatorScore:
        return next(self._row(i) for i, n in enumerate(self.shape.nodes) if n.code == code)


@dataclass(frozen=True)
class IndicatorMonth:
    month: Month
    system: str  # the map's name
    units: dict[str, IndicatorReport]  # catalog order
    targets: dict[str, IndicatorReport]


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
    shape = _Shape.of(imap)
    end = min(month.last, today)
    start_at = dt.datetime.combine(month.first, dt.time(), tzinfo=zone)
    end_at = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    # As ``counted_runs`` counts them; maintenance is taken out afterwards, window by
    # window, rather than by a subquery for each of a month's half million runs.
    judged = [
        Run.started_at >= start_at,
        Run.started_at < end_at,
        Run.outcome.in_(JUDGED),
        Run.held == false(),
    ]
    runs_of: dict[str, int] = defaultdict(int)
    for check_id, count in session.execute(
        select(Run.check_id, func.count()).where(*judged).group_by(Run.check_id)
    ):
        runs_of[check_id] = int(count)
    probe_of: dict[str, str] = {}
    checks_of: dict[str, list[str]] = defaultdict(list)  # target key → check ids
    for check_id, target_key, probe in session.execute(
        select(CheckRow.id, CheckRow.target_key, CheckRow.probe)
    ):
        probe_of[check_id] = probe
        checks_of[target_key].append(check_id)
    excluded = _in_maintenance(session, judged, start_at, end_at)
    for check_id in excluded.values():
        runs_of[check_id] -= 1
    leaves = {i: shape.nodes[i] for i in shape.leaves}
    against: dict[tuple[str, int], set[int]] = defaultdict(set)  # (check, leaf) → run ids
    _findings_against(session, judged, leaves, probe_of, against)
    _metrics_against(session, judged, leaves, against)
    if excluded:
        for key, ids in against.items():
            against[key] = ids.difference(excluded)
    leaves_of: dict[str, list[int]] = defaultdict(list)  # probe kind → leaves it judges
    for i, leaf in leaves.items():
        for kind in dict.fromkeys(leaf.probes):  # a kind named twice counts once
            leaves_of[kind].append(i)

    def report(scope: str, key: str, name: str, unit: str, checks: list[str]) -> IndicatorReport:
        leaf_runs: dict[int, int] = defaultdict(int)
        leaf_against: dict[int, set[int]] = defaultdict(set)
        for check in checks:
            count = runs_of.get(check, 0)
            if not count:
                continue
            for i in leaves_of.get(probe_of.get(check, ""), ()):
                leaf_runs[i] += count
                ids = against.get((check, i))
                if ids:
                    leaf_against[i] |= ids
        total, scores, shares, runs, hits = _evaluate(shape, leaf_runs, leaf_against)
        return IndicatorReport(
            scope,
            key,
            name,
            unit,
            None if total is None else round(total, 2),
            shape,
            scores,
            shares,
            runs,
            hits,
            dict(leaf_against),
        )

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


def _evaluate(
    shape: _Shape, leaf_runs: dict[int, int], leaf_against: dict[int, set[int]]
) -> tuple[
    float | None,
    tuple[float | None, ...],
    tuple[float | None, ...],
    tuple[int, ...],
    tuple[int, ...],
]:
    """The total and, per node: score, share of its siblings' weight, runs, runs against.
    A leaf without runs does not apply; a parent is the weighted mean of its children that
    apply, their weights rescaled to 100 % (seed 002's rule)."""
    size = len(shape.nodes)
    scores: list[float | None] = [None] * size
    shares: list[float | None] = [None] * size
    runs = [0] * size
    hits = [0] * size

    def mean(indices: tuple[int, ...]) -> float | None:
        applicable = sum(shape.nodes[i].weight for i in indices if scores[i] is not None)
        if not applicable:
            return None
        weighted = 0.0
        for i in indices:
            score = scores[i]
            if score is not None:
                weighted += shape.nodes[i].weight * score
                shares[i] = shape.nodes[i].weight * 100.0 / applicable
        return weighted / applicable

    # Only the applicable leaves and their ancestors have anything to compute; a scope
    # has a handful of them, a province thousands of scopes.
    touched: set[int] = set()
    for leaf in leaf_runs:
        node: int | None = leaf
        while node is not None and node not in touched:
            touched.add(node)
            node = shape.parent[node]
    for i in sorted(touched, reverse=True):  # children come after their parent
        kids = shape.children[i]
        if not kids:
            runs[i] = leaf_runs[i]
            hits[i] = len(leaf_against.get(i, ()))
            scores[i] = 100.0 * (runs[i] - hits[i]) / runs[i]
            continue
        runs[i] = sum(runs[k] for k in kids)
        hits[i] = sum(hits[k] for k in kids)
        scores[i] = mean(kids)
    total = mean(shape.roots) if touched else None
    return total, tuple(scores), tuple(shares), tuple(runs), tuple(hits)


def _in_maintenance(
    session: Session, judged: list[ColumnElement[bool]], start: dt.datetime, end: dt.datetime
) -> dict[int, str]:
    """The judged runs started inside an approved maintenance window: run id → check id."""
    windows = session.execute(
        select(
            MaintenanceWindow.target_key, MaintenanceWindow.starts_at, MaintenanceWindow.ends_at
        ).where(
            MaintenanceWindow.state == WindowState.APPROVED.value,
            MaintenanceWindow.starts_at < end,
            MaintenanceWindow.ends_at > start,
        )
    ).all()
    inside: dict[int, str] = {}
    for target_key, starts_at, ends_at in windows:
        rows = session.execute(
            select(Run.id, Run.check_id)
            .join(CheckRow, CheckRow.id == Run.check_id)
            .where(
                *judged,
                CheckRow.target_key == target_key,
                Run.started_at >= starts_at,
                Run.started_at < ends_at,
            )
        )
        inside.update({run_id: check_id for run_id, check_id in rows})
    return inside


def _findings_against(
    session: Session,
    judged: list[ColumnElement[bool]],
    leaves: dict[int, Indicator],
    probe_of: dict[str, str],
    against: dict[tuple[str, int], set[int]],
) -> None:
    """Add the runs carrying a leaf's findings to ``against``."""
    codes = sorted({code for leaf in leaves.values() for code in leaf.findings})
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
        # Only failing runs carry findings: the index skips the passes before any lookup.
        .where(*judged, Run.outcome == Outcome.FAIL.value, wanted)
    )
    # A month has few distinct (probe, code) pairs: judge each once.
    judged_codes: dict[tuple[str, str], list[int]] = {}
    for run_id, check_id, code in rows:
        probe = probe_of.get(check_id, "")
        hits = judged_codes.get((probe, code))
        if hits is None:
            hits = [i for i, leaf in leaves.items() if probe in leaf.probes and leaf.matches(code)]
            judged_codes[(probe, code)] = hits
        for leaf_index in hits:
            against[(check_id, leaf_index)].add(run_id)


def _metrics_against(
    session: Session,
    judged: list[ColumnElement[bool]],
    leaves: dict[int, Indicator],
    against: dict[tuple[str, int], set[int]],
) -> None:
    """Add the runs with a metric above a leaf's limit to ``against``."""
    for index, leaf in leaves.items():
        for limit in leaf.metrics:
            keys = limit.keys
            value = Run.metrics[keys if len(keys) > 1 else keys[0]].as_float()
            checks = select(CheckRow.id).where(CheckRow.probe.in_(leaf.probes))
            rows = session.execute(
                select(Run.id, Run.check_id).where(
                    *judged, Run.check_id.in_(checks), value > limit.above
                )
            )
            for run_id, check_id in rows:
                against[(check_id, index)].add(run_id)


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
        if row.leaf and row.against > min(evidence, len(row.evidence)):
            runs += f" 等 {row.against} 次"
        rows.append(
            [
                "  " * row.depth + f"{row.code} {row.name}",
                f"{row.weight:g}",
                "—" if row.share is None else f"{row.share:g}%",
                # A parent's sums count a run once per leaf: shown on the leaves only.
                str(row.runs) if row.leaf else "",
                str(row.against) if row.leaf else "",
                row.shown,
                runs,
            ]
        )
    return rows
