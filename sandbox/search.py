"""站内搜索 over the catalog: normalisation, matching, ranking and highlighting.

Pure functions and one small index class, so the page handler only decides which faults
apply and how to paginate.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

from sandbox.guide import ServiceItem

PAGE_SIZE = 10


def normalize(text: str) -> str:
    """Fold a query or name for matching: NFKC, lower case, no spaces or punctuation.

    Full-width letters and brackets become ASCII under NFKC, so "排污许可证（核发）" and
    "排污许可证 核发" both fold to "排污许可证核发".
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")


def query_terms(query: str) -> tuple[str, ...]:
    """The normalised, non-empty terms of a query split on white space."""
    return tuple(t for t in (normalize(part) for part in query.split()) if t)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the item and how well it matched (lower rank sorts first)."""

    item: ServiceItem
    rank: int


class SearchIndex:
    """The searchable items of a portal, keyed by their normalised names and aliases."""

    def __init__(self, items: Iterable[ServiceItem], hidden_names: Collection[str] = ()) -> None:
        hidden = {normalize(name) for name in hidden_names}
        self._entries: list[tuple[ServiceItem, str, tuple[str, ...]]] = [
            (item, normalize(item.name), tuple(normalize(a) for a in item.aliases))
            for item in items
            if normalize(item.name) not in hidden
        ]

    def search(self, query: str) -> list[SearchHit]:
        """Items whose name or aliases match every term of the query, best first.

        A term matches when it is part of the name or of an alias, or when a whole alias
        appears inside the term ("我要办护照" finds 护照签发).
        """
        terms = query_terms(query)
        if not terms:
            return []
        hits: list[SearchHit] = []
        for item, name, aliases in self._entries:
            ranks = [_term_rank(term, name, aliases) for term in terms]
            if all(rank is not None for rank in ranks):
                hits.append(SearchHit(item, sum(r for r in ranks if r is not None)))
        hits.sort(key=lambda hit: hit.rank)  # stable: catalog order within a rank
        return hits


def _term_rank(term: str, name: str, aliases: tuple[str, ...]) -> int | None:
    if term == name:
        return 0
    if name.startswith(term):
        return 1
    if term in name:
        return 2
    if any(term == alias for alias in aliases):
        return 3
    if any(term in alias for alias in aliases):
        return 4
    if any(alias and alias in term for alias in aliases) or name in term:
        return 5
    return None


def highlight(name: str, query: str) -> Markup:
    """The item name with each literal occurrence of a query term wrapped in <em>."""
    terms = sorted({part for part in query.split() if part}, key=len, reverse=True)
    spans: list[tuple[int, int]] = []
    for term in terms:
        start = name.find(term)
        while start != -1:
            end = start + len(term)
            if not any(s < end and start < e for s, e in spans):
                spans.append((start, end))
            start = name.find(term, end)
    spans.sort()
    out = Markup()
    cursor = 0
    for start, end in spans:
        out += escape(name[cursor:start]) + Markup("<em>") + escape(name[start:end])
        out += Markup("</em>")
        cursor = end
    return out + escape(name[cursor:])


@dataclass(frozen=True, slots=True)
class ResultPage:
    """One page of search results with what the pager needs."""

    hits: tuple[SearchHit, ...]
    total: int
    page: int
    pages: int


def paginate(hits: list[SearchHit], page: int, size: int = PAGE_SIZE) -> ResultPage:
    """The requested page, clamped into range (page 1 when there are no hits)."""
    pages = max(1, -(-len(hits) // size))
    page = min(max(page, 1), pages)
    chunk = hits[(page - 1) * size : page * size]
    return ResultPage(tuple(chunk), len(hits), page, pages)
