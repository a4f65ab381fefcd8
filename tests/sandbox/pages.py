"""Reading sandbox pages in tests the way a visitor reads them: links, forms, text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx


class Page(HTMLParser):
    """Links, forms, inputs and visible text of an HTML page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.forms: list[dict[str, str]] = []
        self.inputs: list[dict[str, str]] = []
        self.buttons: list[str] = []
        self.metas: list[dict[str, str]] = []
        self._text: list[str] = []
        self._open: list[tuple[str, list[str]]] = []
        self.feed(html)
        self.text = "".join(self._text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(values)
        elif tag == "input":
            self.inputs.append(values)
        elif tag == "meta":
            self.metas.append(values)
        elif tag in ("a", "button"):
            self._open.append((values.get("href", ""), []))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("a", "button") and self._open:
            href, parts = self._open.pop()
            text = "".join(parts).strip()
            if tag == "a":
                self.links.append((href, text))
            else:
                self.buttons.append(text)

    def handle_data(self, data: str) -> None:
        self._text.append(data)
        for _, parts in self._open:
            parts.append(data)

    def hrefs_to(self, prefix: str) -> list[str]:
        return [href for href, _ in self.links if href.startswith(prefix)]


def result_names(response: httpx.Response) -> list[str]:
    """Item names of the result links on a search page, in order."""
    return [text for href, text in Page(response.text).links if href.startswith("/item/")]


def result_total(response: httpx.Response) -> int:
    match = re.search(r"共找到\s*(?:<[^>]+>)?\s*(\d+)\s*(?:</[^>]+>)?\s*条结果", response.text)
    assert match, "the results page says how many results it found"
    return int(match.group(1))
