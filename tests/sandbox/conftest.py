"""An HTTP client on the shared sandbox portal (`portal` from tests/conftest.py), which is
healthy at the start and the end of every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox.server import PortalSandbox


@pytest.fixture
def client(portal: PortalSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=portal.url, timeout=10) as http:
        yield http
