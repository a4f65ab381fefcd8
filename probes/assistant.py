"""智能客服: does the portal's chat assistant answer a citizen's question about a
high-frequency item, in time and about that item?

Seed 000 A3-1 (查询精准度) judges "检索、智能客服等查询服务的关联性、精准性"; seed 004 #40
(实时在线客服) the 解答准确率 and 响应及时性 of the portal's assistant. Journey: open the
configured page (``pages.chat``, the home page by default), open the widget (智能客服,
在线客服, 智能问答, 小助手…; ``selectors.chat_entry``), ask about each configured item and
wait — for a new answer, never a fixed time — at most ``answer_within_s`` seconds.

Findings: ``assistant.slow`` (no answer in time), ``assistant.irrelevant`` (the answer
neither names the item nor links its guide; a list of candidates or a clarifying question
naming it counts as relevant), ``assistant.broken`` (the chat API answers HTTP 5xx or the
widget answers with an error message), ``assistant.missing`` (no widget on a portal the
catalog says has one, ``required: true``). A widget not found otherwise is inconclusive.
"""

from __future__ import annotations

import contextlib
import re

from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page

from config.catalog import Severity
from core.results import Finding, Outcome, ProbeResult
from probes.assistant_params import AssistantParams, Question
from probes.base import Probe, ProbeContext, fail_or_doubt, http_error_finding
from probes.chat_widget import Answer, Widget, ask, find_entry, open_widget, shown_widget
from probes.errors import Inconclusive
from probes.locate import normalise

# Trailing action words of an item's name: the rest of the name (公司设立, 居民身份证) of
# four characters or more also counts as naming it, so 办理公司设立需要… is relevant.
_ACTION = re.compile(
    r"(?:登记|办理|申请|申领|换领|补领|认定|核发|签发|审批|审核|确认|许可|备案|注册|变更|注销"
    r"|提取|换证|补证|核准)$"
)
_SENTENCE = re.compile(r"^.*?[。！？!?；;](?=.)")
QUOTE_CHARS = 60


def naming_words(question: Question) -> list[str]:
    """The words that name the item in an answer: its name, its core, the configured ones."""
    core = _ACTION.sub("", question.item)
    words = [question.item, *question.names]
    if core != question.item and len(normalise(core)) >= 4:
        words.append(core)
    return [w for w in words if normalise(w)]


def is_relevant(question: Question, answer: Answer) -> bool:
    """The answer names the item (in its text or a link's) or links its guide."""
    texts = [answer.text, *(text for text, _ in answer.links)]
    folded = [normalise(t) for t in texts]
    if any(normalise(word) in text for word in naming_words(question) for text in folded):
        return True
    return any(piece in href for piece in question.links for _, href in answer.links)


def first_sentence(text: str) -> str:
    """The answer's first sentence, quoted short."""
    text = " ".join(text.split())
    found = _SENTENCE.match(text)
    sentence = found.group(0) if found else text
    return sentence if len(sentence) <= QUOTE_CHARS else sentence[: QUOTE_CHARS - 1] + "…"


def seconds_label(seconds: float) -> str:
    return f"{seconds:g}"


class AssistantProbe(Probe):
    kind = "assistant"
    Params = AssistantParams

    async def run(self, ctx: ProbeContext) -> ProbeResult:
        params = ctx.params(AssistantParams)
        page = await ctx.new_page()
        start = ctx.url("chat", "/")
        response = await ctx.goto(page, start)
        if response is not None and response.status >= 400:
            finding = http_error_finding("智能客服所在页面", start, response.status)
            return ProbeResult(Outcome.FAIL, (finding,), summary=finding.title)
        session = _Session(ctx, params, page, start)
        widget = await session.open()
        if isinstance(widget, ProbeResult):
            return widget
        for question in params.questions:
            if widget is None:
                widget = await session.reopen()
            answer = await ask(
                widget,
                params.question_of(question),
                within_s=params.answer_within_s,
                api=re.compile(params.api_pattern) if params.api_pattern else None,
                settle_ms=ctx.nav_timeout_ms,
            )
            found = session.found
            session.judge(question, answer)
            if session.found > found and not ctx.evidence.screenshots:
                await ctx.evidence.capture(widget.page, "chat-answer")
            if answer.pending or answer.navigated or answer.seconds is None:
                # A late answer must not be read as the next question's: start afresh.
                await session.close_tab(widget)
                widget = None
        return session.result()


class _Session:
    def __init__(self, ctx: ProbeContext, params: AssistantParams, page: Page, start: str):
        self.ctx = ctx
        self.params = params
        self.page = page
        self.start = start
        self.slow: list[str] = []
        self.irrelevant: list[str] = []
        self.broken: list[str] = []
        self.subjects: dict[str, list[str]] = {"slow": [], "irrelevant": [], "broken": []}
        self.unjudged: list[str] = []
        self.answers: list[dict[str, object]] = []

    async def open(self) -> Widget | ProbeResult | None:
        selectors = {name: self.ctx.selector(name) for name in ("chat_input", "chat_answer")}
        shown = await shown_widget(self.page, selectors)
        if shown is not None:
            return shown  # a chat page: the configured box is there without an entry
        configured = self.ctx.selector("chat_entry")
        entry = await find_entry(self.page, configured, self.params.entry_words)
        if entry is None:
            if self.params.required:
                await self.ctx.evidence.capture(self.page, "no-chat-entry")
                finding = Finding(
                    code="assistant.missing",
                    title="未提供智能客服",
                    detail=f"网站页面（{self.start}）未找到智能客服入口",
                    severity=Severity.MAJOR,
                    subjects=(self.start,),
                )
                return ProbeResult(Outcome.FAIL, (finding,), summary=finding.title)
            where = (
                "按配置的 selectors.chat_entry"
                if configured
                else "按常见文字（智能客服、在线客服、智能问答…）"
            )
            raise Inconclusive(
                f"{where}未能在页面（{self.start}）找到智能客服入口，无法检验智能客服；"
                "请配置巡检对象 selectors.chat_entry（或巡检项 params.entry_words）；"
                "确认该网站应提供智能客服的，可设巡检项 params.required: true"
            )
        widget = await open_widget(self.page, entry, selectors, self.ctx.nav_timeout_ms)
        if widget is None:
            await self.ctx.evidence.capture(self.page, "chat-no-input")
            raise Inconclusive(
                f"点击页面（{self.start}）的智能客服入口后未找到提问输入框，无法检验智能客服；"
                "请配置巡检对象 selectors.chat_input（或 selectors.chat_entry）"
            )
        return widget

    async def reopen(self) -> Widget:
        await self.ctx.goto(self.page, self.start)
        widget = await self.open()
        if not isinstance(widget, Widget):
            raise Inconclusive(f"重新打开页面（{self.start}）后未能再次打开智能客服，无法继续提问")
        return widget

    async def close_tab(self, widget: Widget) -> None:
        if widget.opened_tab:
            with contextlib.suppress(PlaywrightError):
                await widget.page.close()

    def judge(self, question: Question, answer: Answer) -> None:
        asked = answer.question
        within = seconds_label(self.params.answer_within_s)
        failed = answer.failed_call()
        relevant = bool(answer.text) and is_relevant(question, answer)
        self.answers.append(
            {
                "item": question.item,
                "question": asked,
                "seconds": answer.seconds,
                "relevant": relevant if answer.text else None,
            }
        )
        error = re.search(self.params.error_pattern, answer.text) if answer.text else None
        # A failing chat request or an error message, unless an answer naming the item
        # came all the same (a failed side request is no citizen-visible defect).
        if (failed is not None or error is not None) and not relevant:
            said = f"回复“{first_sentence(answer.text)}”" if answer.text else "未能作答"
            if failed is None:
                why = ""
            elif failed.failure:
                why = f"（问答请求失败：{failed.failure}）"
            else:
                why = f"（问答接口返回 HTTP {failed.status}）"
            self._add("broken", question, f"智能客服对“{asked}”的提问{said}{why}")
            return
        if answer.navigated and not self.ctx.selector("chat_answer"):
            self.unjudged.append(
                f"向智能客服提问“{asked}”后页面整页刷新，无法区分新的回答；"
                "请配置巡检对象 selectors.chat_answer（回答气泡）"
            )
            return
        if answer.seconds is None or answer.seconds > self.params.answer_within_s:
            if not answer.reacted:
                self.unjudged.append(
                    f"在智能客服输入“{asked}”并发送后页面无任何反应（未显示提问，也未发出请求），"
                    "无法判定；请配置巡检对象 selectors.chat_input、selectors.chat_send"
                )
                return
            self._add("slow", question, f"智能客服对“{asked}”的提问{within}秒内未作答")
            return
        if not relevant:
            quoted = first_sentence(answer.text)
            self._add(
                "irrelevant",
                question,
                f"智能客服对“{question.item}”的回答未涉及该事项（回答：“{quoted}”）",
            )

    @property
    def found(self) -> int:
        return len(self.slow) + len(self.irrelevant) + len(self.broken)

    def _add(self, kind: str, question: Question, detail: str) -> None:
        getattr(self, kind).append(detail)
        self.subjects[kind].append(question.item)

    def result(self) -> ProbeResult:
        kinds = (
            ("slow", "assistant.slow", "智能客服未及时作答"),
            ("irrelevant", "assistant.irrelevant", "智能客服回答与所问事项无关"),
            ("broken", "assistant.broken", "智能客服无法正常作答"),
        )
        findings = tuple(
            Finding(
                code=code,
                title=title,
                detail="；".join(getattr(self, key)),
                severity=Severity.MAJOR,
                subjects=tuple(dict.fromkeys(self.subjects[key])),
            )
            for key, code, title in kinds
            if getattr(self, key)
        )
        seconds = [a["seconds"] for a in self.answers if isinstance(a["seconds"], float | int)]
        metrics: dict[str, object] = {
            "answers": self.answers,
            "answer_seconds_max": max(seconds) if seconds else None,
        }
        failed = fail_or_doubt(findings, self.unjudged, metrics, part="提问")
        if failed is not None:
            return failed
        return ProbeResult(
            Outcome.PASS, summary="智能客服对所问事项均及时、准确作答", metrics=metrics
        )
