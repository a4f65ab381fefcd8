"""The ``params`` of the ``rating`` probe (政务服务“好差评”), and of the consultation's
optional ``rating`` part: which guides, how an entry and its form are told, how the 差评
list is judged."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from probes.base import CheckParams, ProbeParams, valid_regex
from probes.depth_params import DEFAULT_ITEM_PATTERN
from probes.search import CatalogSample

# The entry's whole text: 好差评, 我要评价, 服务评价, 评价本次答复 …
ENTRY_WORDS = (
    r"^\s*(?:好差评|我要评价|服务评价|评价|去评价|立即评价|办事评价|满意度评价|评一评|我要评议"
    r"|评价本次(?:服务|答复|办理)|对本次(?:服务|答复|办理)(?:进行)?评价)\s*$"
)
# The choices of a rating form: the national five levels and common variants.
LEVEL_WORDS = r"非常满意|非常不满意|很满意|很不满意|基本满意|比较满意|不满意|满意|一般"
# The link to the published 差评 and their replies.
LIST_WORDS = r"差评公示|评价公示|评价公开|差评公开|好差评公示|差评回复|评价结果公开|差评整改公示"
# Seed 004 #2 counts 差评 "超期回复或未回复"; the seeds give no number of days. 15 working
# days is the 整改时限 portals commonly apply under the national 好差评 rules; a province
# sets its own in the catalog.
DEFAULT_REPLY_WORKING_DAYS = 15


class EntryPart(ProbeParams):
    """The rating entry of each guide (``selectors.rating_entry`` for a layout of its own)."""

    words: str = ENTRY_WORDS  # regex on the entry link's or button's whole text
    form_pattern: str = LEVEL_WORDS  # regex of one choice of the rating form
    min_choices: int = Field(default=3, ge=1, le=10)  # distinct choices that make a form

    _patterns = field_validator("words", "form_pattern")(valid_regex)


class PublishedPart(ProbeParams):
    """The published 差评 (差评公示, at ``pages.rating_list`` or linked from the home page)."""

    reply_within_working_days: int = Field(default=DEFAULT_REPLY_WORKING_DAYS, ge=1, le=60)
    # A 差评 answered late is a finding while its reply is this recent (days); 0: never.
    late_reply_lookback_days: int = Field(default=30, ge=0, le=366)
    link_words: str = LIST_WORDS  # regex of the home page's link to the list

    _patterns = field_validator("link_words")(valid_regex)


class RatingParams(CheckParams):
    FINDING_CODES = (
        "rating.entry_missing",
        "rating.entry_dead",
        "rating.unanswered",
        "rating.reply_late",
    )

    items: list[str] = Field(default_factory=list)  # guide page paths or URLs
    sample: CatalogSample | None = None  # without link_pattern, links matching item_pattern
    item_pattern: str = DEFAULT_ITEM_PATTERN
    entry: EntryPart | None = None
    published: PublishedPart | None = None

    _pattern = field_validator("item_pattern")(valid_regex)

    @model_validator(mode="after")
    def _complete(self) -> RatingParams:
        if self.entry is None and self.published is None:
            raise ValueError("give at least one of `entry` (guides) or `published` (差评公示)")
        if self.entry is not None and not self.items and self.sample is None:
            raise ValueError(
                "`entry` needs guide `items` (page paths) or a `sample` of catalog pages"
            )
        return self


class ReplyRating(ProbeParams):
    """The consultation's ``rating`` part: a replied letter offers 评价 (seed 004 #1)
    (``selectors.consult_rating_entry`` for a layout of its own)."""

    words: str = ENTRY_WORDS

    _patterns = field_validator("words")(valid_regex)
