"""What an operator configures for the 在线注册 check (``params`` of ``probe: registration``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from probes import locate
from probes.base import CheckParams, ProbeParams, valid_regex
from probes.registration_account import AccountDetails
from probes.segments import is_mainland_mobile, sample_number
from probes.sms import DEFAULT_CODE_PATTERN, GatewayShape

FormKind = Literal["personal", "legal"]


class RegistrationForm(ProbeParams):
    kind: FormKind
    page: str | None = None  # the form's URL or path; default: from the home page's 注册 link


class SmsGatewayFields(ProbeParams):
    """How the gateway names things, when it is not govpatrol's own contract (see
    :mod:`probes.sms`): query parameters and dotted paths into its JSON answer."""

    phone_param: str = "phone"
    since_param: str = "since"
    wait_param: str = "wait"  # "" when it cannot long-poll
    since_unit: Literal["s", "ms", "iso"] = "s"
    messages: str = "messages"  # e.g. data.records; "" when the answer is the list
    id: str = "id"  # "" when messages carry none
    phone: str = "phone"
    text: str = "text"
    received_at: str = "received_at"
    zone: str = "Asia/Shanghai"  # for times without a zone

    def shape(self) -> GatewayShape:
        return GatewayShape(**self.model_dump())


class SmsInboxParams(ProbeParams):
    """An HTTP gateway that returns the messages the test number received."""

    url: str = Field(pattern=r"^https?://")
    token: SecretStr | None = None
    limit_s: float = Field(default=60.0, gt=0, le=600)
    poll_s: float = Field(default=2.0, gt=0, le=60)
    code_pattern: str = DEFAULT_CODE_PATTERN
    fields: SmsGatewayFields = SmsGatewayFields()


class CaptchaBypass(ProbeParams):
    """A token a test environment accepts instead of a solved CAPTCHA, sent as a header,
    a cookie or a query parameter of the form's URL (give the name of one or more)."""

    token: SecretStr
    header: str | None = None
    cookie: str | None = None
    query: str | None = None

    @model_validator(mode="after")
    def _sent_somehow(self) -> CaptchaBypass:
        if not (self.header or self.cookie or self.query):
            raise ValueError("say how the token is sent: header, cookie or query")
        return self


class RegistrationParams(CheckParams):
    FINDING_CODES = (
        "registration.unavailable",
        "registration.phone_segment_rejected",
        "registration.code_request_failed",
        "registration.sms_not_received",
        "registration.register_failed",
    )

    forms: list[RegistrationForm] = Field(
        default_factory=lambda: [RegistrationForm(kind="personal"), RegistrationForm(kind="legal")],
        min_length=1,
    )
    segments: list[str] | None = None  # default: every segment phonenumbers knows
    test_phone: str | None = None  # the bot's own SIM; without it 获取验证码 is not tried
    # The operator's SIMs of several segments: each run requests a code for the next one, so
    # over successive runs every segment listed here meets the server's own check.
    test_phones: list[str] | None = Field(default=None, min_length=1)
    # Words of the portal refusing a number (regex, first group quoted) at 获取验证码 or in a
    # blur-time check's answer, replacing the built-in reader (手机号码格式不正确, 不支持该号段,
    # 号码无效…); the form's own messages are still read by their usual words.
    phone_rejection_pattern: str | None = None
    sms_inbox: SmsInboxParams | None = None
    captcha_bypass: CaptchaBypass | None = None
    complete: AccountDetails | None = None  # register for real, log in, cancel the account
    settle_ms: int = Field(default=0, ge=0, le=10_000)
    code_answer_s: float = Field(default=10.0, gt=0, le=60)
    error_markers: list[str] = Field(default_factory=lambda: list(locate.ERROR_MARKERS))

    @field_validator("forms", mode="before")
    @classmethod
    def _kinds_as_words(cls, value: object) -> object:
        # `forms: [personal, legal]` is short for `[{kind: personal}, {kind: legal}]`.
        if isinstance(value, list):
            return [{"kind": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("segments", "test_phone", "test_phones", mode="before")
    @classmethod
    def _digits_as_text(cls, value: object) -> object:
        # YAML reads `segments: [176, 170]` and an unquoted phone number as integers.
        if isinstance(value, list):
            return [str(item) if isinstance(item, int) else item for item in value]
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("segments")
    @classmethod
    def _real_segments(cls, value: list[str] | None) -> list[str] | None:
        for segment in value or []:
            try:
                sample_number(segment)
            except ValueError:
                raise ValueError(f"{segment!r} is not a mainland mobile segment") from None
        return value

    @field_validator("test_phone")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        if value is not None and not is_mainland_mobile(value):
            raise ValueError("test_phone must be an 11-digit mainland mobile number")
        return value

    @field_validator("test_phones")
    @classmethod
    def _mobiles(cls, value: list[str] | None) -> list[str] | None:
        bad = [phone for phone in value or [] if not is_mainland_mobile(phone)]
        if bad:
            shown = ", ".join(f"{p[:3]}…" for p in bad)
            raise ValueError(f"test_phones must be 11-digit mainland mobile numbers: {shown}")
        return value

    @field_validator("phone_rejection_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return valid_regex(value)

    @property
    def phones(self) -> tuple[str, ...]:
        """The test SIMs 获取验证码 rotates over (empty: it is not tried)."""
        if self.test_phones:
            return tuple(self.test_phones)
        return (self.test_phone,) if self.test_phone else ()

    @model_validator(mode="after")
    def _consistent(self) -> RegistrationParams:
        if self.test_phone is not None and self.test_phones:
            raise ValueError("give test_phone or test_phones, not both")
        if self.sms_inbox is not None and not self.phones:
            raise ValueError(
                "sms_inbox needs the test_phone (or test_phones) whose messages it holds"
            )
        if self.complete is not None and self.sms_inbox is None:
            raise ValueError("complete needs sms_inbox: the code must be read to register")
        return self
