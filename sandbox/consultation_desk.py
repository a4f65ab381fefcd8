"""The staff behind 我要咨询: letters (信件), their numbers and 查询码, and when they are answered.

Staff answer a letter on the N-th working day after it arrived, plus some office hours
(09:00–17:00 on Chinese working days, 调休 included), all on the desk's own clock. The
clock is injectable so a test moves the portal's time with the FakeClock it hands the bot.

Replies are settled lazily, when a letter is looked at: a letter whose reply fell due while
the desk was told never to reply is "held"; once the desk answers again, it is answered at
that moment, so the portal never shows a reply dated before someone saw it missing.
"""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import chinese_calendar

from sandbox.faults import FaultError, FaultFields

SHANGHAI = ZoneInfo("Asia/Shanghai")
OFFICE_OPENS = dt.time(9, 0)
OFFICE_CLOSES = dt.time(17, 0)
MAX_DAYS = 60
MAX_HOURS = 8 * MAX_DAYS
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: codes are read aloud

Now = Callable[[], dt.datetime]
RECEIPT_WORDINGS = ("", "sentence", "voucher")


def system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class ConsultationFaults(FaultFields):
    """How the desk behaves; the default instance answers on the next working day."""

    reply_after_working_days: int = 1  # staff answer on this working day after arrival…
    reply_after_hours: int = 0  # …plus this many office hours
    never_reply: bool = False  # letters pile up unanswered
    submit_fails: bool = False  # 提交 answers "系统繁忙，提交失败"
    query_fails: bool = False  # 咨询回复查询 answers HTTP 500
    # 信件内容 is a rich-text box (no textarea) and 查询码 an unlabelled input, neither with a
    # label or placeholder: only configured selectors find them (the selector tests).
    form_unlabelled: bool = False
    # How the receipt is worded: "" a table of 信件编号 and 查询码; "sentence" only
    # “提交成功！您的信件查询码为：…，请妥善保存。”, the code alone finding the letter;
    # "voucher" the same in words no reader knows (凭证号), for the configured pattern.
    receipt_wording: str = ""
    # A healthy variant: 受理部门 starts on “请选择”, so a citizen must pick one.
    department_required: bool = False
    query_label: str = ""  # the query entry's name ("" 咨询回复查询), e.g. 办理结果查询, 我的咨询

    _limits: ClassVar[Mapping[str, int]] = {
        "reply_after_working_days": MAX_DAYS,
        "reply_after_hours": MAX_HOURS,
    }
    _unknown_message = "unknown consultation fault; known faults: {known}"

    def _check_rules(self, name: str, value: Any) -> None:
        if name == "receipt_wording" and value not in RECEIPT_WORDINGS:
            raise FaultError(name, f"expected one of {RECEIPT_WORDINGS}, got {value!r}")

    _number_message = "expected a whole number, got {value!r}"


def is_working_day(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package does not know: Monday–Friday
        return day.weekday() < 5


def reply_due(submitted_at: dt.datetime, working_days: int, office_hours: int) -> dt.datetime:
    """When staff answer a letter that arrived at ``submitted_at`` (Beijing time)."""
    moment = submitted_at.astimezone(SHANGHAI)
    for _ in range(working_days):
        moment += dt.timedelta(days=1)
        while not is_working_day(moment.date()):
            moment += dt.timedelta(days=1)
    remaining = dt.timedelta(hours=office_hours)
    while remaining > dt.timedelta(0):
        opens = moment.replace(hour=OFFICE_OPENS.hour, minute=OFFICE_OPENS.minute, second=0)
        closes = moment.replace(hour=OFFICE_CLOSES.hour, minute=OFFICE_CLOSES.minute, second=0)
        if not is_working_day(moment.date()) or moment >= closes:
            moment = opens + dt.timedelta(days=1)
            continue
        moment = max(moment, opens)
        step = min(remaining, closes - moment)
        moment += step
        remaining -= step
    return moment


@dataclass(frozen=True)
class Letter:
    """One consultation (信件) as the desk keeps it."""

    number: str  # 信件编号
    code: str  # 查询码
    kind: str  # 咨询 / 投诉 / 建议
    department: str
    title: str
    content: str
    name: str
    phone: str
    submitted_at: dt.datetime
    held: bool = False  # a reply fell due while the desk was not replying
    replied_at: dt.datetime | None = None
    reply: str = ""

    @property
    def status(self) -> str:
        return "已答复" if self.replied_at is not None else "待处理"


@dataclass
class ConsultationDesk:
    """Letters received by the portal, answered according to ``faults`` on ``now``."""

    faults: ConsultationFaults = field(default_factory=ConsultationFaults)
    now: Now = system_now
    replier: str = "示范省政务服务管理局"
    _letters: dict[str, Letter] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1), init=False)

    def submit(
        self, *, kind: str, department: str, title: str, content: str, name: str, phone: str
    ) -> Letter:
        """Register a letter and hand back its number and 查询码."""
        arrived = self.now().astimezone(SHANGHAI)
        with self._lock:
            number = f"ZX{arrived:%Y%m%d}{next(self._serial):05d}"
            code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(6))
            letter = Letter(number, code, kind, department, title, content, name, phone, arrived)
            self._letters[number] = letter
        return letter

    def look_up(self, number: str, code: str) -> Letter | None:
        """The letter with this number and 查询码 (case-insensitive), its reply settled;
        without a number, the letter with this 查询码."""
        with self._lock:
            if number.strip():
                letter = self._letters.get(number.strip().upper())
            else:
                wanted = code.strip().upper()
                letter = next((x for x in self._letters.values() if x.code == wanted), None)
            if letter is None or not secrets.compare_digest(
                letter.code.encode(), code.strip().upper().encode()
            ):
                return None
            letter = self._settle(letter)
            self._letters[letter.number] = letter
            return letter

    def letters(self) -> list[Letter]:
        """Every letter received, oldest first, replies settled."""
        with self._lock:
            for number, letter in list(self._letters.items()):
                self._letters[number] = self._settle(letter)
            return list(self._letters.values())

    def _settle(self, letter: Letter) -> Letter:
        if letter.replied_at is not None:
            return letter
        faults = self.faults.snapshot()
        now = self.now().astimezone(SHANGHAI)
        due = reply_due(
            letter.submitted_at, faults.reply_after_working_days, faults.reply_after_hours
        )
        if now < due:
            return letter
        if faults.never_reply:
            return replace(letter, held=True)
        return replace(
            letter,
            replied_at=now if letter.held else due,
            reply=_reply_text(letter),
        )


def _reply_text(letter: Letter) -> str:
    return (
        f"{letter.name}：您好！您反映的“{letter.title}”已收悉。经核实，"
        "相关事项可在本网“个人办事”“法人办事”栏目查看对应办事指南，按指南所列材料网上申报，"
        "全程网办事项无需到现场。如仍有疑问，请在工作日拨打咨询电话 0871-63612345。感谢您的关注！"
    )
