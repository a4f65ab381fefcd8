"""The fewest clicks from a portal's home page to given pages (易用度, seed 002 点击次数).

A bounded breadth-first walk of the site's own links: level by level, so the first time a
target's link is seen is the fewest clicks to it. Links are read after the page settled
(a script-rendered portal draws them from its API behind a spinner), hash routes
(``#/item/…``) count as pages, in-page anchors, files and other sites do not.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from probes.portal_links import page_address

_FILE = re.compile(r"\.(docx?|xlsx?|pdf|wps|et|ofd|rtf|zip|rar|7z|jpe?g|png|gif|mp4)$", re.I)
DEFAULT_EXCLUDE = r"(?i)logout|signout|退出|注销|javascript:|mailto:|tel:"


@dataclass(frozen=True)
class Step:
    """How a page was reached: from which page, by clicking which words."""

    parent: str
    text: str


@dataclass
class Walk:
    """What a walk found: clicks to each target seen, and how far it looked."""

    clicks: dict[str, int] = field(default_factory=dict)  # target → fewest clicks
    paths: dict[str, list[str]] = field(default_factory=dict)  # target → link words
    pages_visited: int = 0
    depth_done: int = 0  # every page up to this many clicks was read
    bounded: bool = False  # stopped by the page bound with pages left to read


def same_site(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return a.scheme in ("http", "https") and a.netloc == b.netloc


def normalised(url: str) -> str:
    """One address per page: anchors dropped, hash routes kept, no trailing slash."""
    address = page_address(url)
    parts = urlsplit(address)
    path = parts.path.rstrip("/") or "/"
    fragment = f"#{parts.fragment}" if parts.fragment and parts.fragment not in ("/", "!/") else ""
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{path}{query}{fragment}"


Links = list[tuple[str, str]]  # (words, absolute href) of one page


async def walk(
    pages: list[Any],
    read: Callable[[Any, str], Awaitable[Links]],
    start: str,
    targets: Iterable[str],
    *,
    also: Iterable[str] = (),
    max_depth: int,
    max_pages: int,
    exclude: str = DEFAULT_EXCLUDE,
) -> Walk:
    """Walk from ``start`` until every target's link is seen, ``max_depth`` clicks are
    explored or ``max_pages`` pages are read. ``read(page, url)`` opens ``url`` in one of
    ``pages`` (read side by side) and returns its links. Pages of ``also`` are counted
    when their link is seen on the way, without walking on for them.

    Every page of a level is read before any of the next, so the first sighting of a
    link is the fewest clicks to it; the walk stops inside a level once all are seen.
    """
    wanted = {normalised(t) for t in targets}
    counted = wanted | {normalised(t) for t in also}
    skip = re.compile(exclude)
    result = Walk()
    home = normalised(start)
    steps: dict[str, Step | None] = {home: None}
    if home in counted:
        result.clicks[home], result.paths[home] = 0, []

    def done() -> bool:
        return wanted.issubset(result.clicks)

    def take(url: str, links: Links, depth: int, onward: list[str]) -> None:
        for text, href in links:
            if skip.search(href) or not same_site(href, start):
                continue
            target = normalised(href)
            if target in steps or _FILE.search(urlsplit(target).path):
                continue
            steps[target] = Step(url, text or href)
            onward.append(target)
            if target in counted:
                result.clicks[target] = depth + 1
                result.paths[target] = _path(steps, target)

    async def worker(page: Any, queue: list[str], depth: int, onward: list[str]) -> None:
        while queue and not done():
            if result.pages_visited >= max_pages:
                result.bounded = True
                return
            url = queue.pop(0)
            result.pages_visited += 1
            take(url, await read(page, url), depth, onward)

    frontier = [home]
    depth = 0
    while frontier and depth < max_depth and not done():
        onward: list[str] = []
        queue = list(frontier)
        await asyncio.gather(*(worker(page, queue, depth, onward) for page in pages))
        if result.bounded or done():
            break
        depth += 1
        result.depth_done = depth
        frontier = onward
    return result


def _path(steps: dict[str, Step | None], target: str) -> list[str]:
    words: list[str] = []
    current: str | None = target
    while current is not None and (step := steps.get(current)) is not None:
        words.append(step.text)
        current = step.parent
    return list(reversed(words))
