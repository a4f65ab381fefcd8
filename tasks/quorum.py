"""The verdict by location: a check run from several locations is judged by rounds.

A **round** is the runs of one check for one scheduled slot: the ``scheduled_runs`` rows
the scheduler deferred with the same (check, slot), one per location. Each location's run
is recorded as evidence (``Run.round_evidence``) when it finishes. The round is decided
once, whichever comes first:

- when every location of the round has reported, in the transaction that records the
  last run (the round's rows are locked in id order, so two locations finishing together
  cannot both miss, nor both take, the decision);
- when the round's deadline passes (slot + ``round_wait_s``) with a location still
  silent (a worker down, a queue too long): the scheduler's sweep decides it with the
  runs that arrived; a silent location counts as not judged.

A location's run that arrives after its round was decided stays evidence only. The
scheduler never deferred a location whose previous run had not even started (queueing
lock): that location is simply not part of the round.

With ``q`` the check's ``fail_quorum`` (default: a majority of its locations), for each
finding code ``c``:

- **failing**: at least ``q`` locations failed with ``c``: the round counts as one failing
  run for ``c`` (``failure_threshold`` counts rounds);
- **cleared**: at least ``q`` locations judged the journey (pass, or fail without ``c``):
  a task for ``c`` may close — a rectified task is verified, an ``auto_close`` one closes.
  Closing needs the quorum too: one location that no longer sees a problem proves little
  when the others cannot be heard;
- otherwise **undecided**: a task for ``c`` is left as it is.

A failure seen from fewer than ``q`` locations is a **minority** failure: evidence and an
operator alert naming the location, never a task. ``inconclusive``, ``error`` and held
(mass failure) runs are not judged. A round with fewer than ``q`` judged locations decides
nothing.

A decided round puts its verdict on one of its runs (``Run.round_verdict``), the one the
tracker applies: a run that failed with the most failing codes, else a passing run, else
any judged run. A check with one location has no rounds: each run is judged alone, as
``govpatrol run`` always does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from core.results import Outcome
from tasks.models import Run, ScheduledRun

JUDGED = (Outcome.PASS.value, Outcome.FAIL.value)


@dataclass(frozen=True)
class LocationRun:
    """What one location saw in a round (``run_id`` None: it has not reported)."""

    location: str
    run_id: int | None = None
    outcome: str | None = None
    codes: frozenset[str] = frozenset()
    held: bool = False

    @property
    def judged(self) -> bool:
        return self.run_id is not None and not self.held and self.outcome in JUDGED


@dataclass(frozen=True)
class RoundVerdict:
    quorum: int
    judged: tuple[str, ...]  # locations that judged the journey
    seen: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # code → locations
    runs: Mapping[str, int] = field(default_factory=dict)  # location → its run
    verdict_run: int | None = None  # the run that carries the verdict; None: decides nothing

    @property
    def failing(self) -> frozenset[str]:
        return frozenset(code for code, where in self.seen.items() if len(where) >= self.quorum)

    def cleared(self, code: str) -> bool:
        return len(self.judged) - len(self.seen.get(code, ())) >= self.quorum

    @property
    def minority(self) -> dict[str, tuple[str, ...]]:
        """Per location, the codes it saw that fewer than the quorum saw."""
        by_place: dict[str, list[str]] = {}
        for code, where in sorted(self.seen.items()):
            if len(where) < self.quorum:
                for place in where:
                    by_place.setdefault(place, []).append(code)
        return {place: tuple(codes) for place, codes in by_place.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "quorum": self.quorum,
            "judged": list(self.judged),
            "seen": {code: list(where) for code, where in self.seen.items()},
            "runs": dict(self.runs),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], verdict_run: int | None = None) -> RoundVerdict:
        return cls(
            quorum=int(data["quorum"]),
            judged=tuple(data.get("judged", ())),
            seen={code: tuple(where) for code, where in data.get("seen", {}).items()},
            runs={place: int(run_id) for place, run_id in data.get("runs", {}).items()},
            verdict_run=verdict_run,
        )


def judge_round(results: Sequence[LocationRun], quorum: int) -> RoundVerdict:
    """The verdict of one round (see the module docstring); a pure function."""
    judged = [r for r in results if r.judged]
    seen: dict[str, list[str]] = {}
    for r in judged:
        if r.outcome == Outcome.FAIL.value:
            for code in sorted(r.codes):
                seen.setdefault(code, []).append(r.location)
    verdict = RoundVerdict(
        quorum=quorum,
        judged=tuple(r.location for r in judged),
        seen={code: tuple(where) for code, where in seen.items()},
        runs={r.location: r.run_id for r in results if r.run_id is not None},
    )
    if len(judged) < quorum:
        return verdict
    failing = verdict.failing
    if failing:
        carrier = max(
            (r for r in judged if r.outcome == Outcome.FAIL.value),
            key=lambda r: (len(r.codes & failing), -(r.run_id or 0)),
        )
    else:
        passing = [r for r in judged if r.outcome == Outcome.PASS.value]
        carrier = (passing or judged)[0]
    return RoundVerdict(
        verdict.quorum, verdict.judged, verdict.seen, verdict.runs, verdict_run=carrier.run_id
    )


def lock_round(session: Session, check_id: str, slot: dt.datetime) -> list[ScheduledRun]:
    """The round's rows, locked in id order (PostgreSQL; SQLite serialises writers)."""
    return list(
        session.scalars(
            select(ScheduledRun)
            .where(ScheduledRun.check_id == check_id, ScheduledRun.slot == slot)
            .order_by(ScheduledRun.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def decide_round(
    session: Session, rows: Sequence[ScheduledRun], quorum: int, now: dt.datetime
) -> tuple[RoundVerdict, Run | None] | None:
    """Decide a locked round once: its verdict and the run carrying it (None if it decides
    nothing); None when it was decided already."""
    if not rows or any(row.decided_at is not None for row in rows):
        return None
    ids = [row.run_id for row in rows if row.run_id is not None]
    runs = {
        run.id: run
        for run in session.scalars(
            select(Run).where(Run.id.in_(ids)).options(selectinload(Run.findings))
        )
    }
    results = []
    for row in rows:
        run = runs.get(row.run_id) if row.run_id is not None else None
        if run is None:
            results.append(LocationRun(row.location))
            continue
        results.append(
            LocationRun(
                row.location,
                run.id,
                run.outcome,
                frozenset(f.code for f in run.findings),
                held=run.held,
            )
        )
    verdict = judge_round(results, quorum)
    session.execute(
        update(ScheduledRun)
        .where(ScheduledRun.id.in_([row.id for row in rows]))
        .values(decided_at=now)
        .execution_options(synchronize_session=False)
    )
    carrier = runs.get(verdict.verdict_run) if verdict.verdict_run is not None else None
    if carrier is not None:
        carrier.round_evidence = False
        carrier.round_verdict = verdict.as_dict()
        session.flush()
    return verdict, carrier


def overdue_rounds(session: Session, before: dt.datetime) -> list[tuple[str, dt.datetime]]:
    """Rounds not decided whose slot is older than ``before``."""
    return [
        (check_id, slot)
        for check_id, slot in session.execute(
            select(ScheduledRun.check_id, ScheduledRun.slot)
            .where(ScheduledRun.decided_at.is_(None), ScheduledRun.slot < before)
            .group_by(ScheduledRun.check_id, ScheduledRun.slot)
            .order_by(ScheduledRun.slot)
        )
    ]


def round_of(session: Session, run_id: int) -> list[tuple[ScheduledRun, Run | None]]:
    """All locations' rows of the round ``run_id`` belongs to, with their runs."""
    mine = session.scalars(select(ScheduledRun).where(ScheduledRun.run_id == run_id)).first()
    if mine is None:
        return []
    rows = session.scalars(
        select(ScheduledRun)
        .where(ScheduledRun.check_id == mine.check_id, ScheduledRun.slot == mine.slot)
        .order_by(ScheduledRun.location)
    ).all()
    return [(row, session.get(Run, row.run_id) if row.run_id else None) for row in rows]
