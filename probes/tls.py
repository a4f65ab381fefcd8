"""The HTTPS certificate of a site, read over one TLS handshake (seed 000 B4-1 安全防护)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

HANDSHAKE_TIMEOUT_S = 10.0

# OpenSSL verify codes a citizen's browser warns about, in the words of a finding.
_REASONS = {
    10: "证书已过期",
    9: "证书尚未生效",
    18: "自签名证书，不受信任",
    19: "证书链含自签名证书，不受信任",
    20: "证书颁发机构不受信任",
    21: "证书颁发机构不受信任",
    23: "证书已被吊销",
    62: "证书与网站域名不符",
}


@dataclass(frozen=True)
class CertificateCheck:
    """What the handshake showed: the expiry of a trusted certificate, or why it is not.

    ``unread`` says why nothing could be judged (no TLS answer at all), which is not a
    certificate problem: the visits already count an unreachable site.
    """

    not_after: dt.datetime | None = None
    days_left: int | None = None
    problem: str = ""
    unread: str = ""


def _reason(exc: ssl.SSLCertVerificationError) -> str:
    known = _REASONS.get(exc.verify_code)
    return known or f"证书校验失败（{exc.verify_message}）"


async def check_certificate(
    url: str, now: dt.datetime, ca_file: str | None = None, timeout_s: float = HANDSHAKE_TIMEOUT_S
) -> CertificateCheck:
    """Verify the certificate ``url``'s host presents, as a browser would (system CAs, plus
    ``ca_file`` when given), and count its days left from ``now``."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    try:
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(
                host, parts.port or 443, ssl=context, server_hostname=host
            )
    except ssl.SSLCertVerificationError as exc:
        return CertificateCheck(problem=_reason(exc))
    except (OSError, TimeoutError) as exc:
        return CertificateCheck(unread=f"无法建立 TLS 连接（{type(exc).__name__}）")
    try:
        peer = writer.get_extra_info("peercert") or {}
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            async with asyncio.timeout(timeout_s):
                await writer.wait_closed()
    expiry = peer.get("notAfter")
    if not isinstance(expiry, str):
        return CertificateCheck(unread="证书未给出有效期")
    not_after = dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(expiry), dt.UTC)
    return CertificateCheck(not_after, (not_after - now).days)
