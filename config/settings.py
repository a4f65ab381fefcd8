"""Process settings: where things live and how the daemon behaves.

Read once at start-up (``Settings()``), validated, then passed in. Values come from
``GOVPATROL_*`` environment variables, a ``.env`` file, or secret files in
``GOVPATROL_SECRETS_DIR`` (one file per setting, named like the field).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkingHours:
    """A daily window such as 08:30–18:00, parsed from ``"08:30-18:00"``."""

    def __init__(self, start: dt.time, end: dt.time) -> None:
        if end <= start:
            raise ValueError("working hours must end after they start")
        self.start = start
        self.end = end

    @classmethod
    def parse(cls, text: str) -> WorkingHours:
        try:
            first, second = (part.strip() for part in text.split("-"))
            return cls(dt.time.fromisoformat(first), dt.time.fromisoformat(second))
        except ValueError as exc:
            raise ValueError(f"expected HH:MM-HH:MM, got {text!r} ({exc})") from None

    def contains(self, moment: dt.time) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


class Settings(BaseSettings):
    """Everything the daemon needs that is not in the catalog."""

    model_config = SettingsConfigDict(
        env_prefix="GOVPATROL_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    data_dir: Path = Path("var")
    database_url: str = ""  # empty: SQLite file in data_dir
    catalog: Path = Path("config/examples/catalog.yaml")
    evidence_dir: Path | None = None  # default: data_dir/evidence
    evidence_max_mb: int = Field(default=500, ge=1)

    chromium_path: Path = Path("/usr/bin/chromium")
    browser_concurrency: int = Field(default=2, ge=1, le=64)
    # ``govpatrol scheduler`` / ``worker`` (PostgreSQL only): how often the active
    # scheduler proves its advisory lock and a standby tries to take it; how often a
    # worker beats, and after how long without a beat its jobs count as stalled and retry.
    scheduler_lock_check_s: float = Field(default=10.0, gt=0, le=60)
    worker_heartbeat_s: float = Field(default=10.0, gt=0)
    worker_stalled_s: float = Field(default=60.0, gt=0)
    # Touched by a worker every heartbeat while its database answers and its queue worker
    # runs; ``govpatrol worker --health`` reads it (default: govpatrol-worker.alive in the
    # temp directory, one per container).
    worker_alive_file: Path | None = None
    # A round of a check run from several locations is decided when all have reported, or
    # this long after its slot with what has arrived (tasks.quorum); a later run is evidence.
    round_wait_s: float = Field(default=900.0, gt=0)
    # Rows of ``scheduled_runs`` (one per location and slot) are kept this many days.
    scheduled_runs_keep_days: int = Field(default=30, ge=1)
    # Contexts served before browser and driver restart: at the next idle moment, or, for a
    # daemon that is never idle, after new runs wait for the open ones to finish.
    browser_recycle_after: int = Field(default=500, ge=1)
    # …or sooner, once the Playwright driver's resident memory passes this.
    browser_recycle_above_mb: int = Field(default=768, ge=1)
    # …or once the driver has grown by this much over its warm size (its heap grows with
    # every context it serves); 0: off.
    browser_recycle_growth_mb: int = Field(default=24, ge=0)
    # A response over this is stopped and reported (site.oversized_page).
    max_response_mb: int = Field(default=50, ge=1)
    run_timeout_s: float = Field(default=120.0, gt=0)
    # Playwright trace of each run: kept only when the run does not pass.
    trace: Literal["off", "retain-on-failure"] = "retain-on-failure"
    proxy: str | None = None  # the monitor's own outbound proxy, if any
    canary_url: str | None = None  # a known-good page that tells our network from theirs
    canary_interval_s: float = Field(default=60.0, gt=0)
    chase_interval_s: float = Field(default=60.0, gt=0)  # how often the chase sweep runs
    notify_rate_per_minute: int = Field(default=20, ge=1)  # per channel (WeCom bots: 20)

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8600, ge=0, le=65535)
    public_url: str = "http://127.0.0.1:8600"  # base of links in notices
    secret_key: SecretStr | None = None  # signs unit links; generated under data_dir if unset
    # Reverse proxies whose X-Forwarded-For is believed: a comma list of IPs or CIDRs.
    # Empty (the default): the client address is the connection's, whatever the headers say.
    trusted_proxies: str = ""

    timezone: str = "Asia/Shanghai"
    working_hours: str = "08:30-18:00"
    quiet_hours: bool = True  # hold unit notices outside working hours on working days

    notify_max_attempts: int = Field(default=8, ge=1)
    notify_backoff_s: float = Field(default=30.0, gt=0)
    notify_poll_s: float = Field(default=2.0, gt=0)
    operator_notify: list[SecretStr] = Field(default_factory=list)  # Apprise URLs

    log_level: str = "INFO"

    @field_validator("working_hours")
    @classmethod
    def _valid_hours(cls, value: str) -> str:
        WorkingHours.parse(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_proxies(cls, value: str) -> str:
        import ipaddress

        for entry in _comma_list(value):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or CIDR: {entry!r}") from None
        return value

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _comma_list(self.trusted_proxies)

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)
        return value

    @property
    def hours(self) -> WorkingHours:
        return WorkingHours.parse(self.working_hours)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'govpatrol.db').resolve()}"

    @property
    def resolved_evidence_dir(self) -> Path:
        return self.evidence_dir or self.data_dir / "evidence"

    def signing_key(self) -> str:
        """The key for signed links: configured, or generated once and kept in data_dir."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            import secrets

            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
            path.chmod(0o600)
        return path.read_text(encoding="utf-8").strip()


def _comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with explicit overrides (CLI flags, tests)."""
    import os

    secrets_dir = os.environ.get("GOVPATROL_SECRETS_DIR")
    if secrets_dir:
        return Settings(_secrets_dir=secrets_dir, **overrides)  # type: ignore[call-arg]
    return Settings(**overrides)
