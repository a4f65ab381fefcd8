"""How far a request may reach, so an extreme value is refused (400, in Chinese) instead
of overflowing a date or a database integer into a 500.

Row ids fit PostgreSQL's ``integer``; dates stay within the years the monitor can have
records for (:data:`tasks.scorecard.YEARS`); page numbers and offsets stay well below what
a database ``OFFSET`` accepts.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import HTTPException, Path, Query

from tasks.scorecard import YEARS

MAX_ROW_ID = 2**31 - 1  # PostgreSQL ``integer``
MAX_PAGE = 100_000
MAX_OFFSET = 10_000_000

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Index = Annotated[int, Path(ge=0, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]

FIRST_DAY = dt.date(YEARS.start, 1, 1)
LAST_DAY = dt.date(YEARS.stop - 1, 12, 31)


def supported_day(day: dt.date) -> dt.date:
    """``day``, or 400 when it lies outside the years the monitor can have records for."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise HTTPException(400, f"日期超出范围：应在 {FIRST_DAY} 至 {LAST_DAY} 之间")
    return day


def supported_moment(moment: dt.datetime) -> dt.datetime:
    """``moment`` (naive: UTC), or 400 outside the supported years."""
    supported_day(moment.date())
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
