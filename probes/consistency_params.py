"""The ``params`` of the ``consistency`` probe: the sites compared, the items, the fields."""

from __future__ import annotations

import re
import string
from urllib.parse import quote

from pydantic import Field as PydanticField
from pydantic import field_validator, model_validator

from probes.base import CheckParams, ProbeParams, valid_regex
from probes.consistency_rules import Field

DEFAULT_ITEM_PATTERN = r"(?i)/item/|bszn|guide|matter|sxxq|itemdetail|item_?id="
PLACEHOLDERS = ("code", "name")


class SourceParams(ProbeParams):
    """One site publishing the items' guides (国家政务服务平台, 省政务服务网, a department)."""

    name: str = PydanticField(min_length=1)  # as findings name it: 国家政务服务平台
    base_url: str | None = None  # default: the target's base_url
    # Where an item's guide is, from its 事项编码 or name: "/item/{code}", "/#/item/{code}",
    # "/bszn?itemName={name}". Without it, each item names its page here in `urls`.
    item_url: str | None = None
    selectors: dict[Field, str] = PydanticField(default_factory=dict)  # field → CSS selector
    title_selector: str | None = None  # the item's name on its guide, when not its <h1>

    @field_validator("item_url")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            used = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError as exc:
            raise ValueError(f"not a valid address template: {exc}") from None
        unknown = [name for name in used if name not in PLACEHOLDERS]
        if unknown or not used:
            raise ValueError(
                "the address template takes {code} (事项编码) and/or {name} (事项名称), "
                f"got {value!r}"
            )
        return value


class ItemParams(ProbeParams):
    """One item, by its 事项编码 or its name (or both), and optionally its page per source."""

    code: str | None = PydanticField(default=None, min_length=1)
    name: str | None = PydanticField(default=None, min_length=1)
    urls: dict[str, str] = PydanticField(default_factory=dict)  # source name → address

    @model_validator(mode="after")
    def _named(self) -> ItemParams:
        if self.code is None and self.name is None:
            raise ValueError("give the item's `code` (事项编码) or `name` (事项名称)")
        return self


class SampleParams(ProbeParams):
    """Items drawn from one source's listing pages (a column, a department's items)."""

    source: str = PydanticField(min_length=1)  # the source whose listings are read
    pages: list[str] = PydanticField(min_length=1)
    count: int = PydanticField(default=3, ge=1, le=50)
    link_pattern: str = DEFAULT_ITEM_PATTERN  # regex on guide links' addresses

    _pattern = field_validator("link_pattern")(valid_regex)


class ConsistencyParams(CheckParams):
    FINDING_CODES = (
        "consistency.time_limit_mismatch",
        "consistency.visits_mismatch",
        "consistency.fee_mismatch",
        "consistency.materials_mismatch",
    )

    # The first source is the reference: every other one is compared with it.
    sources: list[SourceParams] = PydanticField(min_length=2)
    items: list[ItemParams] = PydanticField(default_factory=list)
    sample: SampleParams | None = None
    fields: list[Field] = PydanticField(default_factory=lambda: list(Field), min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ConsistencyParams:
        names = [source.name for source in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"two sources have the same name: {names}")
        if not self.items and self.sample is None:
            raise ValueError("give `items` (by code or name) or a `sample` of listing pages")
        for index, item in enumerate(self.items):
            unknown = [name for name in item.urls if name not in names]
            if unknown:
                raise ValueError(
                    f"items[{index}].urls names no source: {unknown}; sources: {names}"
                )
        if self.sample is not None and self.sample.source not in names:
            raise ValueError(f"sample.source {self.sample.source!r} is not one of {names}")
        return self


def item_address(template: str, code: str | None, name: str | None) -> str | None:
    """The template filled in, or None when it needs what the item does not have."""
    values = {"code": code, "name": quote(name) if name else None}
    used = [n for _, n, _, _ in string.Formatter().parse(template) if n is not None]
    if any(values[n] is None for n in used):
        return None
    return template.format(**{n: values[n] for n in used})


CODE_TOKEN = re.compile(r"[0-9A-Za-z][0-9A-Za-z_-]*")
