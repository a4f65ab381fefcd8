"""The catalog schema: units (责任单位), targets (巡检对象) and their checks (巡检项).

The catalog is the operator's YAML file. These models only describe its shape and the
rules that hold inside one file; ``config.loader`` reads YAML, resolves secrets and turns
every problem into a message that names its YAML path.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    field_validator,
    model_validator,
)

from config.durations import Duration, Probation
from config.indicators import IndicatorMap, default_indicator_map
from config.policies import ChasePolicy, FailureGuard, MaintenanceLimits, ScoringPolicy
from config.secrets import AppriseUrl

_KEY = r"^[a-z0-9][a-z0-9_-]*$"


def _apprise_url(value: object) -> AppriseUrl:
    if isinstance(value, AppriseUrl):
        return value
    if not isinstance(value, str) or "://" not in value:
        raise ValueError("expected an Apprise URL such as mailto://… or wecombot://…")
    return AppriseUrl(value)


NotifyUrl = Annotated[
    AppriseUrl,
    BeforeValidator(_apprise_url),
    PlainSerializer(lambda url: url.masked, return_type=str),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ContactRole(StrEnum):
    CONTACT = "contact"  # 联系人: receives tasks
    LEADER = "leader"  # 分管领导: copied when late
    SUPERVISOR = "supervisor"  # 督办人员: receives escalations


class Contact(_Strict):
    name: str = Field(min_length=1)
    role: ContactRole = ContactRole.CONTACT
    notify: list[NotifyUrl] = Field(default_factory=list)


class UnitLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
    DEPARTMENT = "department"


class Unit(_Strict):
    code: str = Field(pattern=_KEY)
    name: str = Field(min_length=1)
    level: UnitLevel = UnitLevel.DEPARTMENT
    parent: str | None = None
    contacts: list[Contact] = Field(default_factory=list)


class Schedule(_Strict):
    """Either a fixed interval (``every: 10m``) or a cron line (``cron: "0 9 * * 1-5"``)."""

    every: Duration | None = None
    cron: str | None = None
    jitter: Duration = dt.timedelta(0)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `schedule: 10m` is short for `schedule: {every: 10m}`.
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            return {"every": value}
        return value

    @field_validator("every")
    @classmethod
    def _at_least_a_second(cls, value: dt.timedelta | None) -> dt.timedelta | None:
        if value is not None and value < dt.timedelta(seconds=1):
            raise ValueError("interval must be at least 1s")
        return value

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="Asia/Shanghai")
        except ValueError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Schedule:
        if (self.every is None) == (self.cron is None):
            raise ValueError("give exactly one of `every` or `cron`")
        return self

    def describe(self) -> str:
        if self.every is not None:
            return f"every {int(self.every.total_seconds())}s"
        return f"cron {self.cron}"


class Location(_Strict):
    """Where runs come from (互联网-电信, 政务外网 …): each has its own queue and workers."""

    name: str = Field(min_length=1, max_length=30, pattern=r"^[^\s/]+$")

    @field_validator("name")
    @classmethod
    def _fits_a_channel(cls, value: str) -> str:
        # The queue's NOTIFY channel (``procrastinate_queue_v1#govpatrol.<name>``) must
        # stay under PostgreSQL's 63 bytes: 30 bytes, ten Chinese characters.
        if len(value.encode()) > 30:
            raise ValueError("a location name is at most 30 bytes (ten Chinese characters)")
        return value


DEFAULT_LOCATION = "default"  # the one location of a catalog that names none


class CheckSpec(_Strict):
    name: str = Field(default="", pattern=r"^$|" + _KEY)
    probe: str = Field(min_length=1)
    schedule: Schedule
    params: dict[str, Any] = Field(default_factory=dict)
    failure_threshold: int | None = Field(default=None, ge=1, le=100)
    deadline_working_days: int | None = Field(default=None, ge=1, le=250)
    auto_close: bool = False
    enabled: bool = True
    locations: list[str] | None = None  # None: every location of the catalog
    # How many of its locations must see a problem in one round for it to count (None:
    # ``defaults.fail_quorum``, else a majority); see ``tasks.quorum``.
    fail_quorum: int | None = Field(default=None, ge=1, le=100)

    @property
    def check_name(self) -> str:
        return self.name or self.probe


class MaintenanceSpec(_Strict):
    """A maintenance window announced in the catalog: no runs, so no tasks, inside it."""

    start: dt.datetime
    end: dt.datetime
    reason: str = "系统维护"

    @model_validator(mode="after")
    def _ordered(self) -> MaintenanceSpec:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("give start and end with a UTC offset, e.g. 2026-11-28T22:00+08:00")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class TargetSpec(_Strict):
    key: str = Field(pattern=_KEY)
    name: str = Field(min_length=1)
    unit: str
    base_url: str = Field(pattern=r"^https?://")
    pages: dict[str, str] = Field(default_factory=dict)
    selectors: dict[str, str] = Field(default_factory=dict)
    checks: list[CheckSpec] = Field(default_factory=list)
    maintenance: list[MaintenanceSpec] = Field(default_factory=list)
    probation: Probation | None = None  # None: the catalog's defaults.probation
    # A page or navigation that does not answer within this is the portal's failure
    # (site.timeout); 15 s as in the national rule for an unreachable site.
    timeout: Duration = dt.timedelta(seconds=15)

    @field_validator("timeout")
    @classmethod
    def _sane_timeout(cls, value: dt.timedelta) -> dt.timedelta:
        if not dt.timedelta(seconds=1) <= value <= dt.timedelta(minutes=2):
            raise ValueError("timeout must be between 1s and 2m")
        return value

    def page_url(self, page: str, default: str = "/") -> str:
        """Absolute URL of a named page (``pages.search``), relative paths on base_url."""
        from urllib.parse import urljoin

        return urljoin(self.base_url.rstrip("/") + "/", self.pages.get(page, default))


class CalendarYear(_Strict):
    """Holidays and adjusted working days (调休) for a year the calendar package lacks."""

    holidays: list[dt.date] = Field(default_factory=list)
    workdays: list[dt.date] = Field(default_factory=list)


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


class DeadlinePolicy(_Strict):
    """Working days to fix a finding: by code (exact or ``prefix.*``), then severity."""

    default: int = Field(default=5, ge=1, le=250)
    by_severity: dict[Severity, int] = Field(default_factory=dict)
    by_code: dict[str, int] = Field(default_factory=dict)


class Defaults(_Strict):
    failure_threshold: int = Field(default=2, ge=1, le=100)
    # A new target's findings open no task for this long from its first run, unless an
    # operator confirms the target sooner (``govpatrol target confirm``); ``off`` for none.
    probation: Probation = dt.timedelta(days=7)
    # Locations that must see a problem in one round (None: a majority of the check's).
    fail_quorum: int | None = Field(default=None, ge=1, le=100)


class Catalog(_Strict):
    units: list[Unit] = Field(min_length=1)
    targets: list[TargetSpec] = Field(default_factory=list)
    defaults: Defaults = Defaults()
    deadlines: DeadlinePolicy = DeadlinePolicy()
    chase: ChasePolicy = ChasePolicy()
    guard: FailureGuard = FailureGuard()
    maintenance_requests: MaintenanceLimits = MaintenanceLimits()
    scoring: ScoringPolicy = ScoringPolicy()
    calendar: dict[int, CalendarYear] = Field(default_factory=dict)
    locations: list[Location] = Field(default_factory=list)
    # The indicator system runs are scored on (a YAML file, relative to the catalog);
    # None: the shipped map of seed 000 (config/indicators_2021.yaml).
    indicator_map: str | None = None

    # Lookups by code, key and check id, built once (catalogs hold thousands of targets).
    _units: dict[str, Unit] = PrivateAttr(default_factory=dict)
    _targets: dict[str, TargetSpec] = PrivateAttr(default_factory=dict)
    _checks: dict[str, tuple[TargetSpec, CheckSpec]] = PrivateAttr(default_factory=dict)
    _indicators: IndicatorMap | None = PrivateAttr(default=None)  # set by the loader

    def model_post_init(self, context: Any) -> None:
        # First occurrence wins, as the duplicate checks of the loader report the rest.
        for unit in self.units:
            self._units.setdefault(unit.code, unit)
        for target in self.targets:
            self._targets.setdefault(target.key, target)
            for check in target.checks:
                self._checks.setdefault(check_id(target, check), (target, check))

    def unit(self, code: str) -> Unit:
        return self._units[code]

    def target(self, key: str) -> TargetSpec:
        return self._targets[key]

    def checks(self) -> list[tuple[str, TargetSpec, CheckSpec]]:
        """Every check with its id (``target/check``) and its target, in catalog order."""
        return [
            (check_id(target, check), target, check)
            for target in self.targets
            for check in target.checks
        ]

    def check(self, ident: str) -> tuple[TargetSpec, CheckSpec]:
        return self._checks[ident]

    @property
    def indicators(self) -> IndicatorMap:
        """The indicator map named by ``indicator_map`` (loaded with the catalog), or the
        shipped default."""
        return self._indicators or default_indicator_map()

    def use_indicators(self, found: IndicatorMap) -> None:
        self._indicators = found

    def location_names(self) -> list[str]:
        return [location.name for location in self.locations] or [DEFAULT_LOCATION]

    def locations_of(self, check: CheckSpec) -> list[str]:
        """The locations a check runs from: its own list, or all of the catalog's."""
        return list(check.locations) if check.locations else self.location_names()

    def quorum_of(self, check: CheckSpec) -> int:
        """How many of the check's locations must fail in one round (default: a majority),
        never more than it has."""
        places = len(self.locations_of(check))
        wanted = check.fail_quorum or self.defaults.fail_quorum or places // 2 + 1
        return min(wanted, places)


def check_id(target: TargetSpec, check: CheckSpec) -> str:
    return f"{target.key}/{check.check_name}"


# Chinese names of the probe kinds, as they appear in notices and pages.
PROBE_LABELS = {
    "search": "站内搜索",
    "registration": "在线注册",
    "consultation": "咨询互动",
    "sso": "统一身份认证",
    "mobile": "移动端",
    "checklist": "平台检查指标",
    "depth": "网办深度与易用度",
    "availability": "网站可用性",
    "consistency": "同源一致性",
    "assistant": "智能客服",
    "rating": "好差评",
    "accessibility": "适老化与无障碍",
}
