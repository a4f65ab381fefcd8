"""`govpatrol sandbox`: serve the sandbox portal in the foreground until SIGINT/SIGTERM."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from sandbox.faults import parse_fault_args
from sandbox.server import PortalSandbox

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def serve(host: str, port: int, fault_args: list[str]) -> int:
    """Serve the portal with the given faults, blocking until interrupted.

    Returns 0 after a signal-triggered clean stop, 2 for bad fault arguments (message on
    stderr names the argument) and 1 when the address cannot be bound or the server dies.
    """
    try:
        faults = parse_fault_args(fault_args)
    except ValueError as exc:
        print(f"故障参数错误 / invalid fault argument: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        portal = PortalSandbox.start(host, port, faults)
    except (OSError, RuntimeError) as exc:
        print(
            f"无法启动沙箱门户 / cannot start the sandbox portal on {host}:{port}: {exc}",
            file=sys.stderr,
        )
        return EXIT_FAILED

    stop_requested = threading.Event()
    restore = _install_stop_handlers(stop_requested)
    try:
        print(f"示范省政务服务网已启动 / sandbox portal listening on {portal.url}/", flush=True)
        print(f"故障注入接口 / fault admin: {portal.admin_url}", flush=True)
        active = {k: v for k, v in faults.to_dict().items() if v}
        print(f"当前故障 / active faults: {active or '无 / none'}", flush=True)
        print("按 Ctrl+C 停止 / press Ctrl+C to stop", flush=True)
        # Wake up regularly so a dead server thread is noticed, not waited on forever.
        while not stop_requested.wait(0.5):
            if not portal.server.running:
                print("沙箱门户意外停止 / sandbox portal stopped unexpectedly", file=sys.stderr)
                return EXIT_FAILED
    except KeyboardInterrupt:
        pass
    finally:
        restore()
        portal.stop()
    print("沙箱门户已停止 / sandbox portal stopped", flush=True)
    return EXIT_OK


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
