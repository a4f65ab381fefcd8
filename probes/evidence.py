"""Evidence of a run: screenshots (secrets masked), HTML snapshots and Playwright traces.

Files live under the evidence directory, one folder per run, and the folder set is kept
under a size cap by deleting the oldest runs first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from playwright.async_api import Page

from core.private_files import PRIVATE_FILE, private_dir, private_file

log = logging.getLogger(__name__)

# Anything that may hold a secret is painted over in screenshots.
MASKED = "input[type=password], input[autocomplete=one-time-code], [data-govpatrol-mask]"
# Evidence has its own short limits: a page that hangs is noted, not waited for.
SCREENSHOT_TIMEOUT_MS = 5_000
HTML_TIMEOUT_S = 5.0


class EvidenceStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._total: int | None = None

    def new_run_dir(self, check_id: str, started_at: dt.datetime) -> RunEvidence:
        slug = re.sub(r"[^A-Za-z0-9_-]+", "-", check_id).strip("-")
        name = f"{started_at:%H%M%S}-{slug}-{secrets.token_hex(3)}"
        relative = Path(f"{started_at:%Y-%m-%d}") / name
        return RunEvidence(self, relative)

    def absolute(self, relative: str) -> Path:
        """The file behind a stored relative path; refuses paths that leave the store."""
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("path outside the evidence directory")
        return path

    def added(self, size: int) -> None:
        if self._total is None:
            self._total = _tree_size(self.root)
        else:
            self._total += size
        if self._total > self.max_bytes:
            self._prune()

    def _prune(self) -> None:
        run_dirs = sorted(
            (run for day in self.root.iterdir() if day.is_dir() for run in day.iterdir()),
            key=lambda path: path.stat().st_mtime,
        )
        total = _tree_size(self.root)
        for run in run_dirs:
            if total <= self.max_bytes * 0.9:
                break
            size = _tree_size(run)
            shutil.rmtree(run, ignore_errors=True)
            total -= size
            log.info("evidence cap: removed %s (%d bytes)", run, size)
        for day in self.root.iterdir():
            if day.is_dir() and not any(day.iterdir()):
                day.rmdir()
        self._total = total


@dataclass
class RunEvidence:
    """The evidence folder of one run; files are only written when something is kept."""

    store: EvidenceStore
    relative: Path
    screenshots: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    traces: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what could not be taken, and why
    _count: int = 0

    def note_missing(self, label: str, reason: str) -> None:
        log.warning("evidence %s not taken: %s", label, reason)
        self.missing.append(f"{label}: {reason.splitlines()[0] if reason else '?'}")

    @property
    def folder(self) -> Path:
        return self.store.root / self.relative

    def path_for(self, name: str) -> tuple[Path, str]:
        """A new evidence file, created 0600 in a 0700 folder, and its stored path."""
        private_dir(self.store.root)
        private_dir(self.store.root / self.relative.parent)
        private_dir(self.folder)
        return private_file(self.folder / name), str(self.relative / name)

    async def capture(self, page: Page, label: str) -> None:
        """Full-page screenshot with secrets masked, and the page's HTML."""
        if page.is_closed():
            return
        if page.url == "about:blank":
            # A navigation that never committed: there is nothing to see, and a screenshot
            # would wait for the hung page.
            self.note_missing(label, "页面未加载 / the page never loaded")
            return
        self._count += 1
        stem = f"{self._count:02d}-{re.sub(r'[^A-Za-z0-9_-]+', '-', label)[:40]}"
        shot, shot_rel = self.path_for(f"{stem}.png")
        try:
            await page.screenshot(
                path=shot,
                full_page=True,
                mask=[page.locator(MASKED)],
                timeout=SCREENSHOT_TIMEOUT_MS,
                animations="disabled",
                scale="css",  # phone profiles render at 3x: keep files small
            )
            self.screenshots.append(shot_rel)
            self.store.added(shot.stat().st_size)
        except Exception as exc:
            self.note_missing(f"{label}.png", f"{type(exc).__name__}: {exc}")
        html, html_rel = self.path_for(f"{stem}.html")
        try:
            content = await asyncio.wait_for(page.content(), HTML_TIMEOUT_S)
            html.write_text(content, encoding="utf-8")
            self.html.append(html_rel)
            self.store.added(html.stat().st_size)
        except Exception as exc:
            self.note_missing(f"{label}.html", f"{type(exc).__name__}: {exc}")

    def keep_html(self, name: str, content: str) -> None:
        """An HTML page the probe writes itself (a side-by-side table of what sites say)."""
        target, relative = self.path_for(name)
        target.write_text(content, encoding="utf-8")
        self.html.append(relative)
        self.store.added(target.stat().st_size)

    def keep_file(self, source: Path, name: str) -> None:
        target, relative = self.path_for(name)
        shutil.move(str(source), target)
        target.chmod(PRIVATE_FILE)  # the move kept the source's mode
        self.traces.append(relative)
        self.store.added(target.stat().st_size)


def _tree_size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())
