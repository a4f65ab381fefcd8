"""Shared fixtures: real databases (SQLite and the local PostgreSQL), one real Chromium,
the sandbox portal, and real local mail and webhook receivers.

PostgreSQL tests skip when no server answers, unless GOVPATROL_TEST_REQUIRE_POSTGRES=1
(set by .ci/run), which turns its absence into a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import Engine, text

from bot.migrate import upgrade
from bot.receivers import MailCatcher, WebhookCatcher
from bot.services import Services, build_services
from config.loader import parse_catalog
from config.settings import Settings
from core.clock import Clock
from core.db import Base, make_engine
from probes.base import Probe
from probes.pool import BrowserOptions, BrowserPool
from probes.registry import params_models, probe_kinds
from sandbox.server import PortalSandbox
from sandbox.spa.server import SpaPortalSandbox
from tasks.catalog_sync import sync_catalog

REQUIRE_POSTGRES = os.environ.get("GOVPATROL_TEST_REQUIRE_POSTGRES") == "1"
POSTGRES_ADMIN_URL = os.environ.get(
    "GOVPATROL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CHROMIUM = Path(os.environ.get("GOVPATROL_CHROMIUM_PATH", "/usr/bin/chromium"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not installed at {CHROMIUM}")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# -- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated, dropped at the end."""
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"govpatrol_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {admin}: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (GOVPATROL_TEST_REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sqlite_engine(template: Path, tmp_path: Path) -> Engine:
    path = tmp_path / "govpatrol.db"
    shutil.copy(template, path)
    return make_engine(f"sqlite:///{path}")


def _postgres_engine(url: str) -> Engine:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return engine


@pytest.fixture
def sqlite_engine(sqlite_template: Path, tmp_path: Path) -> Iterator[Engine]:
    engine = _sqlite_engine(sqlite_template, tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path
) -> Iterator[Engine]:
    """The data layer under test, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        made = _sqlite_engine(sqlite_template, tmp_path)
    else:
        made = _postgres_engine(request.getfixturevalue("postgres_url"))
    yield made
    made.dispose()


# -- browser, portal, receivers ----------------------------------------------------------


@pytest.fixture(scope="session")
async def browser_pool() -> AsyncIterator[BrowserPool]:
    pool = BrowserPool(BrowserOptions(executable_path=CHROMIUM), concurrency=2)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
def portal_server() -> Iterator[PortalSandbox]:
    portal = PortalSandbox.start("127.0.0.1", 0)
    yield portal
    portal.stop()


@pytest.fixture
def portal(portal_server: PortalSandbox) -> Iterator[PortalSandbox]:
    """The sandbox portal with all its areas, healthy at the start of every test."""
    portal_server.reset()
    yield portal_server
    portal_server.reset()


@pytest.fixture(scope="session")
def spa_server() -> Iterator[SpaPortalSandbox]:
    spa = SpaPortalSandbox.start("127.0.0.1", 0)
    yield spa
    spa.stop()


@pytest.fixture
def spa_portal(spa_server: SpaPortalSandbox) -> Iterator[SpaPortalSandbox]:
    """The single-page portal (hash router, JSON APIs, spinner), healthy for every test."""
    spa_server.reset()
    yield spa_server
    spa_server.reset()


AnyPortal = PortalSandbox | SpaPortalSandbox


@pytest.fixture(params=["classic", "spa"])
def any_portal(request: pytest.FixtureRequest) -> AnyPortal:
    """The test runs on both sandbox styles: server-rendered pages and the single-page app."""
    fixture = "portal" if request.param == "classic" else "spa_portal"
    found: AnyPortal = request.getfixturevalue(fixture)
    return found


@pytest.fixture
def mail() -> Iterator[MailCatcher]:
    catcher = MailCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookCatcher]:
    catcher = WebhookCatcher().start()
    yield catcher
    catcher.stop()


# -- the product, wired ------------------------------------------------------------------


class ServicesFactory(Protocol):
    """What the ``make_services`` fixture returns."""

    def __call__(
        self,
        catalog_text: str,
        *,
        environ: dict[str, str] | None = None,
        clock: Clock | None = None,
        engine: Engine | None = None,
        extra_probes: tuple[type[Probe], ...] = (),
        pool: BrowserPool | None = None,
        **overrides: Any,
    ) -> Services: ...


@pytest.fixture
def make_services(
    tmp_path: Path, sqlite_template: Path, browser_pool: BrowserPool
) -> Iterator[ServicesFactory]:
    """Build the product from a catalog text, on a fresh SQLite copy unless told otherwise.

    ``environ`` fills ``${NAME}`` references; settings may be overridden by keyword.
    """
    built: list[Services] = []

    def factory(
        catalog_text: str,
        *,
        environ: dict[str, str] | None = None,
        clock: Clock | None = None,
        engine: Engine | None = None,
        extra_probes: tuple[type[Probe], ...] = (),
        pool: BrowserPool | None = None,
        **overrides: Any,
    ) -> Services:
        catalog = parse_catalog(
            catalog_text,
            "test-catalog.yaml",
            probe_params=params_models(probe_kinds(extra_probes)),
            environ=environ or {},
        )
        if "probation" not in catalog_text:
            # Tests of everything else run on confirmed targets; probation has its own.
            no_probation = catalog.defaults.model_copy(update={"probation": dt.timedelta(0)})
            catalog = catalog.model_copy(update={"defaults": no_probation})
        options: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "quiet_hours": False,
            "notify_backoff_s": 0.01,
            "run_timeout_s": 60,
            "secret_key": "test-secret-key",
            **overrides,
        }
        settings = Settings(**options)
        services = build_services(
            settings,
            catalog,
            clock=clock,
            engine=engine or _sqlite_engine(sqlite_template, tmp_path),
            extra_probes=extra_probes,
            pool=pool or browser_pool,
        )
        with services.sessions.begin() as session:
            sync_catalog(session, catalog)  # as the daemon does at start-up
            services.maintenance.mirror_catalog(session, catalog)
        built.append(services)
        return services

    yield factory
    for services in built:
        services.engine.dispose()


def at(text_time: str) -> dt.datetime:
    """An aware datetime from 'YYYY-MM-DD HH:MM' in Asia/Shanghai."""
    from zoneinfo import ZoneInfo

    return dt.datetime.strptime(text_time, "%Y-%m-%d %H:%M").replace(
        tzinfo=ZoneInfo("Asia/Shanghai")
    )
