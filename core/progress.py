"""Progress of long work as a count with an estimate, for people at a terminal.

Big jobs only (``min_total`` items or more): a line at each tenth of the way with the
time still expected, then one with the time it took. Small jobs print nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

# What long work is told as it goes: (items done, items in all).
ProgressCallback = Callable[[int, int], None]


class Progress:
    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        min_total: int = 500,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.min_total = min_total
        self.monotonic = monotonic
        self._started: float | None = None
        self._next_tenth = 1

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_total:
            return
        now = self.monotonic()
        if self._started is None:
            self._started = now
        if done * 10 < self._next_tenth * total:
            return
        while self._next_tenth * total <= done * 10:
            self._next_tenth += 1
        elapsed = now - self._started
        share = f"{self.label} {done}/{total}（{done * 100 // total}%）"
        if done >= total:
            print(f"{share}，用时 {elapsed:.0f} 秒", file=self.stream, flush=True)
        else:
            left = elapsed / done * (total - done) if done else 0.0
            print(f"{share}，预计还需 {left:.0f} 秒", file=self.stream, flush=True)
