"""Bad settings as one clear line: which ``GOVPATROL_*`` setting is wrong, and why.

The CLI prints a :class:`SettingProblem` (Chinese first, then the setting's name) and exits
2 (usage error) instead of a traceback. ``open_database`` turns what a database URL or
data directory can do wrong into one.
"""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import Engine, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from config.settings import Settings
from core.db import make_engine

ENV_PREFIX = "GOVPATROL_"


class SettingProblem(Exception):
    """A setting that cannot work; ``str()`` is the one line the operator reads."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"设置有误 {setting}：{message}")
        self.setting = setting


def from_validation(exc: ValidationError) -> SettingProblem:
    """The first invalid field of ``Settings`` as one line, named like its variable."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "?"
    value = error.get("input")
    shown = f"（当前值 {value!r}）" if isinstance(value, str | int | float) else ""
    return SettingProblem(f"{ENV_PREFIX}{field.upper()}", f"{error['msg']}{shown}")


def open_database(settings: Settings) -> Engine:
    """An engine for the configured database that has answered once, or a SettingProblem."""
    setting = f"{ENV_PREFIX}DATABASE_URL" if settings.database_url else f"{ENV_PREFIX}DATA_DIR"
    try:
        engine = make_engine(settings.resolved_database_url)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise SettingProblem(setting, f"无法识别的数据库地址（{_first_line(exc)}）") from None
    except OSError as exc:
        raise SettingProblem(setting, f"无法创建数据目录（{exc.strerror or exc}）") from None
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        engine.dispose()
        raise SettingProblem(setting, f"无法连接数据库（{_first_line(exc.orig)}）") from None
    return engine


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
