"""The single sign-on world: one identity portal and several department systems, each on
its own loopback address so that none sees another's cookies (cookies ignore ports).

    SsoSandbox.start()
      identity portal   http://127.0.0.2:<port>   示范省统一身份认证平台
      scjg              http://127.0.0.3:<port>   省市场监督管理局业务系统
      rst               http://127.0.0.4:<port>   省人力资源和社会保障厅网上服务大厅
      gjj               http://127.0.0.5:<port>   省住房公积金管理中心网上业务大厅

Tickets are validated over a real back channel: each system's server calls the identity
portal's /serviceValidate over HTTP, as a CAS client does.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from sandbox.departments import DEPARTMENT_SYSTEMS, DepartmentSystem, create_department_app
from sandbox.faults import FaultSection
from sandbox.identity import (
    DEFAULT_ACCOUNT,
    IdentityAccount,
    IdentityDirectory,
    create_identity_app,
)
from sandbox.server import SandboxServer
from sandbox.sso_faults import IdentityFaults, SystemFaults

IDENTITY_HOST = "127.0.0.2"
SYSTEM_HOSTS = ("127.0.0.3", "127.0.0.4", "127.0.0.5")
IDENTITY_AREA = "identity"


@dataclass
class RunningSystem:
    """A department system being served, with its faults."""

    system: DepartmentSystem
    server: SandboxServer
    faults: SystemFaults

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.3:54321."""
        return self.server.url

    @property
    def entry_url(self) -> str:
        """The page a signed-in citizen opens: the system's 个人中心."""
        return f"{self.server.url}/user"


class SsoSandbox:
    """The identity portal and its department systems, served together."""

    def __init__(
        self,
        identity: SandboxServer,
        identity_faults: IdentityFaults,
        directory: IdentityDirectory,
        systems: list[RunningSystem],
        account: IdentityAccount,
    ) -> None:
        self.identity = identity
        self.identity_faults = identity_faults
        self.directory = directory
        self.systems = systems
        self.account = account

    @classmethod
    def start(
        cls,
        identity_host: str = IDENTITY_HOST,
        system_hosts: tuple[str, ...] = SYSTEM_HOSTS,
        port: int = 0,
        account: IdentityAccount = DEFAULT_ACCOUNT,
        systems: tuple[DepartmentSystem, ...] = DEPARTMENT_SYSTEMS,
    ) -> SsoSandbox:
        """Serve the identity portal, then each system on the next address; all healthy.

        `port` is used on every address (0 picks a free one each). Raises ValueError when
        there are fewer addresses than systems, OSError or RuntimeError when a site
        cannot be started (those already started are stopped again).
        """
        if len(system_hosts) < len(systems):
            raise ValueError(f"{len(systems)} systems need as many addresses, got {system_hosts}")
        if identity_host in system_hosts or len(set(system_hosts)) != len(system_hosts):
            raise ValueError("every site needs an address of its own, or cookies are shared")
        identity_faults = IdentityFaults()
        directory = IdentityDirectory((account,))
        app = create_identity_app(identity_faults, directory)
        identity = SandboxServer(app, host=identity_host, port=port).start()
        running: list[RunningSystem] = []
        try:
            for system, host in zip(systems, system_hosts, strict=False):
                faults = SystemFaults()
                app = create_department_app(system, faults, identity.url)
                server = SandboxServer(app, host=host, port=port).start()
                running.append(RunningSystem(system, server, faults))
                directory.register_system(system.name, server.url)
        except BaseException:
            for started in running:
                started.server.stop()
            identity.stop()
            raise
        return cls(identity, identity_faults, directory, running, account)

    @property
    def identity_url(self) -> str:
        """Base URL of the identity portal, e.g. http://127.0.0.2:54321."""
        return self.identity.url

    def system(self, code: str) -> RunningSystem:
        """The running system with this code (scjg, rst, gjj)."""
        for running in self.systems:
            if running.system.code == code:
                return running
        raise KeyError(code)

    def fault_sections(self) -> dict[str, FaultSection]:
        """Every fault section by area name: `identity` and each system's code."""
        sections: dict[str, FaultSection] = {IDENTITY_AREA: self.identity_faults}
        sections.update({running.system.code: running.faults for running in self.systems})
        return sections

    def reset(self) -> None:
        """Every site healthy again."""
        for section in self.fault_sections().values():
            section.reset()

    def stop(self) -> None:
        """Stop every site."""
        for running in self.systems:
            running.server.stop()
        self.identity.stop()

    def __enter__(self) -> SsoSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
