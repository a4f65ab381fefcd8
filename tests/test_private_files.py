"""The data directory is 0700; the SQLite database (with its WAL) and evidence are 0600,
whatever the umask of the shell that started the command."""

from __future__ import annotations

import datetime as dt
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.migrate import upgrade
from core.db import make_engine
from tests.conftest import ServicesFactory
from tests.console_helpers import console_catalog


@pytest.fixture
def careless_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what most shells have: files 0644, folders 0755
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("careless_umask")
def test_sqlite_database_and_its_wal_are_readable_by_the_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "data" / "govpatrol.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect():  # WAL and shared memory exist while a connection is open
        files = [path, path.with_name("govpatrol.db-wal"), path.with_name("govpatrol.db-shm")]
        assert {p.name: mode(p) for p in files if p.exists()} == {
            p.name: 0o600 for p in files if p.exists()
        }
    engine.dispose()
    assert mode(path) == 0o600


@pytest.mark.usefixtures("careless_umask")
def test_an_existing_world_readable_database_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "govpatrol.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


@pytest.mark.usefixtures("careless_umask")
def test_data_dir_is_0700_and_evidence_files_0600(
    make_services: ServicesFactory, tmp_path: Path
) -> None:
    services = make_services(console_catalog())
    assert mode(tmp_path / "data") == 0o700
    run = services.evidence.new_run_dir("county-portal/search", dt.datetime(2026, 11, 23, 9))
    shot, _ = run.path_for("01-home.png")
    shot.write_bytes(b"png")
    trace = tmp_path / "trace.zip"
    trace.write_bytes(b"zip")
    run.keep_file(trace, "trace.zip")
    assert mode(shot) == 0o600
    assert mode(run.folder / "trace.zip") == 0o600
    assert mode(run.folder) == 0o700
    assert mode(run.folder.parent) == 0o700
    assert mode(services.evidence.root) == 0o700
