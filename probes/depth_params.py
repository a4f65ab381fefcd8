"""The ``params`` of the ``depth`` probe: which guides, the online part, the click walk."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from probes.base import CheckParams, ProbeParams, valid_regex
from probes.click_walk import DEFAULT_EXCLUDE
from probes.online_entry import APPLY_WORDS
from probes.search import CatalogSample

DEFAULT_ITEM_PATTERN = r"(?i)/item/|bszn|guide|matter|sxxq|itemdetail|item_?id="


class OnlineParams(ProbeParams):
    """网上办理深度: which guides, and how their entry and its destination are told."""

    entry_selector: str | None = None  # CSS of the 在线办理 button, when its words differ
    entry_words: str = APPLY_WORDS  # regex on the button's whole text
    offline_pattern: str | None = None  # regex of a portal's own 暂不支持网上办理 wording
    login_pattern: str | None = None  # regex of a login page's title or headings
    min_form_fields: int = Field(default=2, ge=1, le=20)

    _patterns = field_validator("entry_words", "offline_pattern", "login_pattern")(valid_regex)


class ClickParams(ProbeParams):
    """易用度: the walk from the home page and the thresholds."""

    start: str = "/"  # the home page
    max_clicks: int = Field(default=3, ge=1, le=20)  # to a guide
    max_clicks_apply: int = Field(default=4, ge=1, le=20)  # to its application page
    max_depth: int = Field(default=6, ge=1, le=20)  # how many clicks deep the walk looks
    max_pages: int = Field(default=200, ge=1, le=2000)
    concurrency: int = Field(default=3, ge=1, le=6)  # pages read side by side
    exclude_pattern: str = DEFAULT_EXCLUDE  # links never followed (logout, mailto…)

    _patterns = field_validator("exclude_pattern")(valid_regex)

    @model_validator(mode="after")
    def _deep_enough(self) -> ClickParams:
        if self.max_depth <= max(self.max_clicks, self.max_clicks_apply):
            raise ValueError("max_depth must be above max_clicks and max_clicks_apply")
        return self


class DepthParams(CheckParams):
    FINDING_CODES = ("depth.entry_dead", "depth.claim_mismatch", "usability.deep_entry")

    items: list[str] = Field(default_factory=list)  # guide page paths or URLs
    sample: CatalogSample | None = None  # without link_pattern, links matching item_pattern
    item_pattern: str = DEFAULT_ITEM_PATTERN
    online: OnlineParams | None = None
    clicks: ClickParams | None = None

    _pattern = field_validator("item_pattern")(valid_regex)

    @model_validator(mode="after")
    def _complete(self) -> DepthParams:
        if not self.items and self.sample is None:
            raise ValueError("give guide `items` (page paths) or a `sample` of catalog pages")
        if self.online is None and self.clicks is None:
            raise ValueError("give at least one of `online` or `clicks`")
        return self
