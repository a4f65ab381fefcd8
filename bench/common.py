"""What every benchmark shares: figures, the report (table + ``BENCH`` JSON line + results
file), the machine's description, and the product wired as the daemon wires it."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import re
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import Engine

from bot.migrate import upgrade
from bot.services import Services, build_services
from config.loader import parse_catalog
from config.settings import Settings
from core.clock import Clock
from core.db import make_engine
from probes.base import Probe
from probes.pool import BrowserPool
from probes.registry import params_models, probe_kinds
from tasks.catalog_sync import sync_catalog

RESULTS = Path(__file__).resolve().parent / "results"
CHROMIUM = Path(os.environ.get("GOVPATROL_CHROMIUM_PATH", "/usr/bin/chromium"))
SEARCH_ITEM = "排污许可证核发"
CHECK_ID = "bench-portal/search"
MIB = 2**20


# -- figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    """The ``share`` percentile (0–100) by the nearest-rank method; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(share / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def rounded(value: float, digits: int = 1) -> float:
    return round(value, digits) if math.isfinite(value) else value


# -- the report --------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain-text table, numbers right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [
            cell.ljust(width) if n == 0 or i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.3g}"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    return str(value)


def report(name: str, figures: dict[str, Any], text: str) -> dict[str, Any]:
    """Print the table and one ``BENCH`` JSON line; keep the JSON under bench/results/."""
    record = {
        "bench": name,
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **figures,
    }
    print(text)
    line = json.dumps(record, ensure_ascii=False, sort_keys=False)
    print(f"BENCH {line}", flush=True)
    # The smoke test keeps its results elsewhere.
    results = Path(os.environ.get("GOVPATROL_BENCH_RESULTS", RESULTS))
    results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (results / f"{name}-{stamp}.json").write_text(line + "\n", encoding="utf-8")
    return record


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        match = re.search(
            r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE
        )
        cpu = match.group(1).strip() if match else ""
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "chromium": chromium_version(),
        "python": platform.python_version(),
    }


def chromium_version() -> str:
    try:
        out = subprocess.run(
            [str(CHROMIUM), "--version"], capture_output=True, text=True, timeout=20, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"Chromium\s+([\d.]+)", out)
    return match.group(1) if match else out.strip()


# -- the product, wired ------------------------------------------------------------------


def search_catalog(portal_url: str, item: str = SEARCH_ITEM) -> str:
    """One unit, one portal target, one 站内搜索 check for ``item`` (default selectors),
    long watched (no probation)."""
    return f"""
defaults: {{probation: "off"}}
units:
  - code: bench-unit
    name: 基准测试单位
    level: province
targets:
  - key: bench-portal
    name: 示范省政务服务网
    unit: bench-unit
    base_url: {portal_url}
    checks:
      - probe: search
        schedule: 1h
        params: {{items: [{item}]}}
"""


def wire(
    workdir: Path,
    catalog_text: str,
    *,
    pool: BrowserPool | None = None,
    clock: Clock | None = None,
    extra_probes: tuple[type[Probe], ...] = (),
    engine: Engine | None = None,
    **settings: Any,
) -> Services:
    """The product built as the daemon builds it, on a migrated SQLite file in ``workdir``."""
    catalog = parse_catalog(
        catalog_text, "bench-catalog.yaml", probe_params=params_models(probe_kinds(extra_probes))
    )
    options: dict[str, Any] = {
        "data_dir": workdir,
        "quiet_hours": False,
        "secret_key": "bench-secret-key",
        "chromium_path": CHROMIUM,
        **settings,
    }
    engine = engine or migrated_sqlite(workdir / "govpatrol.db")
    services = build_services(
        Settings(**options),
        catalog,
        clock=clock,
        engine=engine,
        extra_probes=extra_probes,
        pool=pool,
    )
    with services.sessions.begin() as session:
        sync_catalog(session, catalog)
    return services


def migrated_sqlite(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


# -- CPU time ----------------------------------------------------------------------------


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and its descendants, reaped ones included (a
    closed context's renderer is counted through the process that waited for it)."""
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def new_children(before: set[int]) -> set[int]:
    """Child processes of this process started since ``before`` was taken."""
    return {child.pid for child in psutil.Process().children()} - before


def child_pids() -> set[int]:
    return {child.pid for child in psutil.Process().children()}


def load_average() -> float:
    return round(os.getloadavg()[0], 2)
