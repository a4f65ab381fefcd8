"""Serve sandbox sites under uvicorn on a background thread, one event loop per server.

`SandboxServer` binds its socket itself, so `port=0` picks a free port and `.url` is known
as soon as `start()` returns; `start()` returns only once uvicorn is accepting. Several
servers can run at once, e.g. the portal on 127.0.0.1 and the identity portal on 127.0.0.2
(cookies ignore ports, so separate sites need separate addresses).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

from sandbox.assistant import AssistantFaults, assistant_area
from sandbox.care import AccessibilityFaults
from sandbox.consistency import ConsistencyFaults
from sandbox.consultation import consultation_area
from sandbox.consultation_desk import ConsultationDesk
from sandbox.faults import FaultSection, PortalFaults
from sandbox.guide_faults import GuideFaults, guide_fault_area
from sandbox.online import OnlineFaults
from sandbox.portal import create_portal_app
from sandbox.rating import RatingFaults
from sandbox.registration import registration_area
from sandbox.registration_state import RegistrationDesk

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


class _ReadyServer(uvicorn.Server):
    """uvicorn.Server that reports when its listeners are up."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets=sockets)
        finally:
            self.ready.set()


class SandboxServer:
    """One ASGI app served on `host:port` from a daemon thread."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._port: int | None = None
        self._server: _ReadyServer | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for)."""
        if self._port is None:
            raise RuntimeError("server is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. http://127.0.0.1:54321."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        """Bind, start serving and return once connections are accepted.

        Raises OSError when the address cannot be bound and RuntimeError when uvicorn
        fails to start.
        """
        if self._thread is not None:
            raise RuntimeError("server already started")
        # proto must be IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets whose
        # proto says TCP, and without it every keep-alive response waits ~40 ms (Nagle).
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        config = uvicorn.Config(
            self.app,
            log_config=None,  # leave the host process's logging alone
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = _ReadyServer(config)
        self._thread = threading.Thread(
            target=self._run, name=f"sandbox-{self.host}:{self.port}", daemon=True
        )
        self._thread.start()
        if not self._server.ready.wait(START_TIMEOUT_S) or not self._server.started:
            self.stop()
            raise RuntimeError(f"sandbox server on {self.url} did not start: {self._failure!r}")
        return self

    def _run(self) -> None:
        assert self._server is not None and self._socket is not None
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        except BaseException as exc:  # SystemExit from uvicorn's startup included
            self._failure = exc
        finally:
            self._server.ready.set()

    def stop(self) -> None:
        """Stop accepting, finish in-flight requests briefly, and join the thread."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        if thread.is_alive():
            server.force_exit = True
            thread.join(STOP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._thread = None

    @property
    def running(self) -> bool:
        """Whether the serving thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class RunningSite:
    """A sandbox site served by one SandboxServer: its URL, its fault admin, stop."""

    server: SandboxServer

    @property
    def url(self) -> str:
        """Base URL of the site, e.g. http://127.0.0.1:54321."""
        return self.server.url

    @property
    def admin_url(self) -> str:
        """The fault admin endpoint of this site."""
        return f"{self.server.url}/__sandbox/faults"

    def stop(self) -> None:
        """Stop serving."""
        self.server.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class PortalSandbox(RunningSite):
    """The 示范省政务服务网 portal with its faults, served on one address, with its areas:
    registration (在线注册 and the test SIM's inbox), the consultation desk (我要咨询),
    the guide defects (办事指南), the online entries and the care mode (长者模式)."""

    def __init__(
        self,
        server: SandboxServer,
        faults: PortalFaults,
        registration: RegistrationDesk | None = None,
        consultation: ConsultationDesk | None = None,
        guides: GuideFaults | None = None,
        online: OnlineFaults | None = None,
        consistency: ConsistencyFaults | None = None,
        assistant: AssistantFaults | None = None,
        rating: RatingFaults | None = None,
        accessibility: AccessibilityFaults | None = None,
    ) -> None:
        self.server = server
        self.faults = faults
        self.registration = registration or RegistrationDesk()
        self.consultation = consultation or ConsultationDesk()
        self.guides = guides or GuideFaults()
        self.online = online or OnlineFaults()
        self.consistency = consistency or ConsistencyFaults()
        self.assistant = assistant or AssistantFaults()
        self.rating = rating or RatingFaults()
        self.accessibility = accessibility or AccessibilityFaults()

    @classmethod
    def start(
        cls, host: str = "127.0.0.1", port: int = 0, faults: PortalFaults | None = None
    ) -> PortalSandbox:
        """Serve a portal (healthy unless `faults` says otherwise) and return when ready."""
        faults = faults if faults is not None else PortalFaults()
        registration, consultation, guides = RegistrationDesk(), ConsultationDesk(), GuideFaults()
        assistant = AssistantFaults()
        areas = [
            registration_area(registration),
            consultation_area(consultation),
            guide_fault_area(guides),
            assistant_area(assistant),
        ]
        online, consistency, rating = OnlineFaults(), ConsistencyFaults(), RatingFaults()
        accessibility = AccessibilityFaults()
        app = create_portal_app(faults, areas, online, consistency, rating, accessibility)
        app.state.assistant_faults = assistant  # every page's 智能客服 widget reads it
        server = SandboxServer(app, host=host, port=port).start()
        return cls(
            server,
            faults,
            registration,
            consultation,
            guides,
            online,
            consistency,
            assistant,
            rating,
            accessibility,
        )

    def sections(self) -> dict[str, FaultSection]:
        """The portal's fault sections by area name."""
        return {
            "portal": self.faults,
            "registration": self.registration.faults,
            "consultation": self.consultation.faults,
            "guides": self.guides,
            "online": self.online,
            "consistency": self.consistency,
            "assistant": self.assistant,
            "rating": self.rating,
            "accessibility": self.accessibility,
        }

    def reset(self) -> None:
        """The portal and all its areas healthy again."""
        for section in self.sections().values():
            section.reset()
