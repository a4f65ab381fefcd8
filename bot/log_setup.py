"""How the CLI logs: the level (``--log-level`` anywhere on the line, else
``GOVPATROL_LOG_LEVEL``, else INFO) and the format (``GOVPATROL_LOG_FORMAT``: ``text`` or
``json``, one object per line for log shippers)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("apprise", "apscheduler.executors", "httpx", "asyncio")


def pop_log_level(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """``argv`` without its ``--log-level X`` / ``--log-level=X``, and X (the last given),
    so the option works after the subcommand as well as before it."""
    rest: list[str] = []
    level: str | None = None
    words = iter(argv)
    for word in words:
        if word == "--":
            rest.append(word)
            rest.extend(words)
            break
        if word == "--log-level":
            level = next(words, None)
            if level is None:
                rest.append(word)  # let argparse complain about the missing value
        elif word.startswith("--log-level="):
            level = word.split("=", 1)[1]
        else:
            rest.append(word)
    return rest, level


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str | None, environ: Mapping[str, str]) -> None:
    name = (level or environ.get("GOVPATROL_LOG_LEVEL") or "INFO").upper()
    handler = logging.StreamHandler()
    if environ.get("GOVPATROL_LOG_FORMAT", "text").lower() == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=getattr(logging, name, logging.INFO), handlers=[handler])
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
