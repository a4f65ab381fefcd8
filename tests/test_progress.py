"""Long CLI work shows a count with an estimate: check-config on a big catalog, report."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from core.progress import Progress

REPO = Path(__file__).resolve().parent.parent


def big_catalog(targets: int) -> str:
    head = (REPO / "config/examples/catalog.yaml").read_text(encoding="utf-8")
    lines = [head.split("targets:")[0], "targets:"]
    for i in range(targets):
        lines.append(
            f"""  - key: t{i}
    name: 网站{i}
    unit: sf-zwb
    base_url: http://127.0.0.1:8001
    checks:
      - probe: search
        schedule: 1h
        params: {{items: [公司设立登记]}}"""
        )
    return "\n".join(lines) + "\n"


def test_check_config_on_a_big_catalog_counts_with_an_estimate(tmp_path: Path) -> None:
    catalog = tmp_path / "big.yaml"
    catalog.write_text(big_catalog(1200), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "check-config", str(catalog)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if "校验目录" in line]
    assert len(progress) == 10, result.stderr  # each tenth of the way
    assert "预计还需" in progress[0] and "/1204（10%）" in progress[0]
    assert progress[-1].startswith("校验目录 / validating 1204/1204（100%），用时")


def test_small_work_prints_no_progress() -> None:
    out = io.StringIO()
    report = Progress("统计", stream=out, min_total=500)
    for done in range(1, 100):
        report(done, 99)
    assert out.getvalue() == ""


def test_estimate_is_the_pace_so_far() -> None:
    now = [0.0]
    out = io.StringIO()
    report = Progress("统计整改任务", stream=out, min_total=10, monotonic=lambda: now[0])
    for done in range(1, 1001):
        now[0] = done * 0.01  # ten seconds in all
        report(done, 1000)
    lines = out.getvalue().splitlines()
    assert len(lines) == 10
    assert lines[0] == "统计整改任务 100/1000（10%），预计还需 9 秒"
    assert lines[-1] == "统计整改任务 1000/1000（100%），用时 10 秒"
