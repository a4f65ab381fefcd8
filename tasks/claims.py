"""Claims of running checks: at most one run of a claimed check at a time, across processes.

A claim is a row (check id, holder, expires_at) taken with one atomic statement — insert,
or take over a row whose holder's time ran out — and deleted by its holder when the run is
recorded. A holder that crashed holds the check only until its claim expires.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tasks.models import CheckClaim


def take_claim(
    session: Session,
    check_id: str,
    holder: str,
    purpose: str,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> bool:
    """Claim ``check_id`` for ``holder`` until ``now + ttl``; False while another holds it."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    fresh = insert(CheckClaim).values(
        check_id=check_id, holder=holder, purpose=purpose, taken_at=now, expires_at=now + ttl
    )
    upsert = fresh.on_conflict_do_update(
        index_elements=[CheckClaim.check_id],
        set_={
            "holder": fresh.excluded.holder,
            "purpose": fresh.excluded.purpose,
            "taken_at": fresh.excluded.taken_at,
            "expires_at": fresh.excluded.expires_at,
        },
        where=CheckClaim.expires_at <= now,
    ).returning(CheckClaim.holder)
    return session.execute(upsert).scalar() == holder


def current_claim(session: Session, check_id: str) -> CheckClaim | None:
    return session.get(CheckClaim, check_id)


def release_claim(session: Session, check_id: str, holder: str) -> None:
    """Give the claim back; a claim taken over meanwhile by another holder stays theirs."""
    session.execute(
        delete(CheckClaim).where(CheckClaim.check_id == check_id, CheckClaim.holder == holder)
    )
