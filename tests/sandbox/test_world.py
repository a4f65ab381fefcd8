"""All sandbox sites together, and faults switched by ``area.field`` from the command line."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.world import SandboxWorld


@pytest.fixture(scope="module")
def world() -> Iterator[SandboxWorld]:
    started = SandboxWorld.start()
    yield started
    started.stop()


def test_every_site_answers_on_its_own_host(world: SandboxWorld) -> None:
    urls = world.urls()
    hosts = {urlsplit(url).hostname for url in urls.values()}
    assert len(hosts) == len(urls) == 7  # separate sites never share cookies
    assert httpx.get(f"{urls['portal']}/register", follow_redirects=True).status_code == 200
    assert httpx.get(f"{urls['portal']}/consult", follow_redirects=True).status_code == 200
    assert httpx.get(f"{urls['gov']}/").status_code == 200
    assert httpx.get(f"{urls['mobile']}/h5/").status_code == 200
    assert httpx.get(f"{urls['identity']}/login").status_code == 200


def test_faults_reach_their_area(world: SandboxWorld) -> None:
    try:
        world.apply(
            [
                "items_missing=排污许可证核发",
                "consultation.never_reply",
                "scjg.ignore_ticket=true",
                "guides.missing_elements=gsslj:设定依据",
                "mobile.slow_ms=10",
            ]
        )
        sections = world.sections()
        assert sections["portal"].to_dict()["items_missing"] == ["排污许可证核发"]
        assert sections["consultation"].to_dict()["never_reply"] is True
        assert sections["scjg"].to_dict()["ignore_ticket"] is True
        assert sections["guides"].to_dict()["missing_elements"] == ["gsslj:设定依据"]
        assert sections["mobile"].to_dict()["slow_ms"] == 10
    finally:
        world.reset()
    assert world.sections()["scjg"].to_dict()["ignore_ticket"] is False


@pytest.mark.parametrize(
    ("arg", "named"),
    [
        ("nowhere.x=1", "unknown area 'nowhere'"),
        ("scjg.teleport=1", "no fault 'teleport'"),
        ("mobile.slow_ms=soon", "mobile.slow_ms=soon"),
        ("scjg.ignore_ticket=maybe", "expected true or false"),
    ],
)
def test_bad_fault_arguments_are_named(world: SandboxWorld, arg: str, named: str) -> None:
    with pytest.raises(ValueError, match=named):
        world.apply([arg])
