"""`govpatrol sandbox`: serve the sandbox portal in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from sandbox.faults import parse_fault_args
from sandbox.world import SandboxWorld

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def serve(host: str, port: int, fault_args: list[str], style: str = "classic") -> int:
    """Serve every sandbox site with the given faults, blocking until interrupted.

    The portal listens on ``host``; the identity portal, department systems, government
    portal and H5 site on their own loopback addresses, all on ``port`` (0: free ports);
    ``style`` "spa" serves the single-page portal style instead of the server-rendered one.
    Returns 0 after a signal-triggered clean stop, 2 for bad fault arguments (message on
    stderr names the argument) and 1 when an address cannot be bound or a server dies.
    """
    try:
        parse_fault_args([arg for arg in fault_args if "." not in arg.split("=", 1)[0]])
    except ValueError as exc:
        print(f"故障参数错误 / invalid fault argument: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        world = SandboxWorld.start(port, portal_host=host, style=style)
    except (OSError, RuntimeError) as exc:
        print(
            f"无法启动沙箱 / cannot start the sandbox on {host}:{port}: {exc}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    try:
        world.apply(fault_args)
    except ValueError as exc:
        world.stop()
        print(f"故障参数错误 / invalid fault argument: {exc}", file=sys.stderr)
        return EXIT_USAGE

    stop_requested = threading.Event()
    restore = _install_stop_handlers(stop_requested)
    try:
        print(
            f"示范省政务服务网已启动 / sandbox portal listening on {world.portal.url}/", flush=True
        )
        for name, url in world.urls().items():
            print(f"  {SITE_NAMES.get(name, name)}: {url}/", flush=True)
        print(f"故障注入接口 / fault admin: {world.portal.admin_url}", flush=True)
        active = {
            f"{area}.{key}": value
            for area, section in world.sections().items()
            for key, value in section.to_dict().items()
            if value
        }
        print(f"当前故障 / active faults: {active or '无 / none'}", flush=True)
        print("按 Ctrl+C 停止 / press Ctrl+C to stop", flush=True)
        # Wake up regularly so a dead server thread is noticed, not waited on forever.
        while not stop_requested.wait(0.5):
            if not world.portal.server.running:
                print("沙箱门户意外停止 / sandbox portal stopped unexpectedly", file=sys.stderr)
                return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        world.stop()
    print("沙箱已停止 / sandbox stopped", flush=True)
    return EXIT_OK


SITE_NAMES = {
    "portal": "示范省政务服务网",
    "identity": "示范省统一身份认证平台",
    "sso_scjg": "省市场监督管理局业务系统",
    "sso_rst": "省人力资源和社会保障厅网上服务大厅",
    "sso_gjj": "省住房公积金管理中心网上业务大厅",
    "gov": "示范省人民政府门户网站",
    "mobile": "示范办（移动端）",
}


def _install_stop_handlers(stop_requested: threading.Event) -> Callable[[], None]:
    """Route SIGINT and SIGTERM to `stop_requested`; returns a callable undoing it."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals can only be handled on the main thread

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
