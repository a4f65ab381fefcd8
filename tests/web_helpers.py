"""The web app served by real uvicorn on a local port, configured as the commands do."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from bot.services import Services
from bot.web import create_web_app
from bot.web_server import server_config


@contextmanager
def serving(services: Services) -> Iterator[str]:
    """The web app under uvicorn, configured as the commands do; yields its base URL."""
    config = server_config(create_web_app(services), services.settings, port=0)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
