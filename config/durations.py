"""Durations as operators write them: ``30s``, ``10m``, ``2h``, ``1d``."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from pydantic import BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> dt.timedelta:
    """``"90s"``, ``"10m"``, ``"2h"``, ``"1d"`` or a number of seconds."""
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return dt.timedelta(seconds=float(value))
    if isinstance(value, str) and (match := _DURATION.match(value)):
        return dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f"expected a duration such as 30s, 10m, 2h or 1d, got {value!r}")


Duration = Annotated[dt.timedelta, BeforeValidator(parse_duration)]


def parse_probation(value: object) -> dt.timedelta:
    """A probation period: a duration, or ``off`` / ``0`` for none (YAML reads ``off`` as
    false)."""
    if value is False or value == 0 or (isinstance(value, str) and value.strip() == "off"):
        return dt.timedelta(0)
    return parse_duration(value)


Probation = Annotated[dt.timedelta, BeforeValidator(parse_probation)]
