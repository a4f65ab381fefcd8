"""The ``params`` of the ``assistant`` probe (智能客服): which items to ask about, how long
an answer may take, and the words that find the widget and tell an error message."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from probes.base import CheckParams, ProbeParams, valid_regex

# The widget's entry, by its whole (short) accessible name: 智能客服, 在线客服, 智能问答…
ENTRY_WORDS = (
    r"^\s*.{0,4}(?:智能客服|在线客服|智能问答|智能咨询|智能助手|智能导办|政务助手|小助手"
    r"|问答机器人|机器人客服|AI\s*助手).{0,4}\s*$"
)
# An answer that is an error message, not an answer (系统繁忙, 服务异常, 网络异常…).
ERROR_PATTERN = (
    r"系统(?:繁忙|异常|错误|故障|维护)|服务(?:异常|繁忙|不可用|暂不可用|暂时不可用|器错误|器内部错误)"
    r"|网络(?:异常|错误|连接失败)|连接失败|请求失败|出错了|发生错误|加载失败"
    r"|Internal Server Error|Bad Gateway|Service Unavailable"
)
DEFAULT_ANSWER_WITHIN_S = 10.0


class Question(ProbeParams):
    """One high-frequency item to ask about; a plain string is the item's name."""

    item: str = Field(min_length=1)  # the item's name, as its guide is titled
    ask: str | None = None  # the question typed; default: ask_template with the item
    names: list[str] = Field(default_factory=list)  # other words naming it (企业开办…)
    links: list[str] = Field(default_factory=list)  # pieces of its guide's address

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value: Any) -> Any:
        return {"item": value} if isinstance(value, str) else value


class AssistantParams(CheckParams):
    FINDING_CODES = (
        "assistant.slow",
        "assistant.irrelevant",
        "assistant.broken",
        "assistant.missing",
    )

    questions: list[Question] = Field(min_length=1)
    ask_template: str = "如何办理{item}"
    # No seed gives a figure for 响应及时性 (seed 004 #40); 10 s is ours, see the README.
    answer_within_s: float = Field(default=DEFAULT_ANSWER_WITHIN_S, gt=0, le=120)
    entry_words: str = ENTRY_WORDS  # regex on the entry's accessible name or text
    error_pattern: str = ERROR_PATTERN  # regex: an answer saying this is an error message
    # Regex on the URL (or POST body) of the chat API; default: a request carrying the
    # question or whose path says chat/robot/kefu/ask…. Other requests are not judged.
    api_pattern: str | None = None
    # The portal must offer a chat widget: not finding it is `assistant.missing` instead
    # of inconclusive.
    required: bool = False

    _patterns = field_validator("entry_words", "error_pattern", "api_pattern")(valid_regex)

    @field_validator("ask_template")
    @classmethod
    def _has_item(cls, value: str) -> str:
        if "{item}" not in value:
            raise ValueError("ask_template must contain {item}, where the item's name goes")
        return value

    def question_of(self, question: Question) -> str:
        """The words typed into the widget for `question`."""
        return question.ask or self.ask_template.replace("{item}", question.item)
