"""可用性 by the national rule, without a browser: visits of the sandbox portal counted per
run and per week, the weekly verdict, and the certificate of a local TLS server."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.jobs import run_check
from bot.target_commands import _explain
from core.clock import FakeClock
from core.results import Outcome
from probes.availability import (
    Period,
    availability_finding,
    certificate_finding,
    last_closed_week,
    period,
    tally,
)
from probes.tls import check_certificate
from tasks.availability import availability_by_target
from tests.catalogs import portal_catalog
from tests.conftest import AnyPortal, ServicesFactory, at

CHECK = "sf-portal/availability"


def test_a_week_is_judged_once_closed_and_only_above_five_percent() -> None:
    # Thursday 3 December: the closed week is Monday 23 to Sunday 29 November.
    assert last_closed_week(dt.date(2026, 12, 3)) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    days = tally({}, dt.date(2026, 11, 23), 600, 30)
    days = tally({"days": days}, dt.date(2026, 11, 29), 400, 21)
    days = tally({"days": days}, dt.date(2026, 11, 30), 10, 10)  # the next week
    week = period(days, dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert (week.visits, week.failed) == (1000, 51)
    low = availability_finding(week, 15, 0.05)
    assert low is not None and low.code == "site.availability_low"
    assert low.detail == (
        "2026年11月23日至11月29日共访问 1000 次，其中 51 次无法打开或 15 秒内未打开，"
        "占 5.1%，超过 5%"
    )
    at_the_limit = Period(week.first, week.last, 1000, 50)
    assert availability_finding(at_the_limit, 15, 0.05) is None  # “more than 5 %”
    # Tallies older than a month and a week are dropped from the state.
    later = tally({"days": days}, dt.date(2027, 1, 10), 1, 0)
    assert later == {"2027-01-10": [1, 0]}


async def test_visits_count_per_run_and_a_bad_week_is_a_finding_the_next_week(
    make_services: ServicesFactory,
    any_portal: AnyPortal,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Both styles: a script-rendered portal's home page is its shell, and the national rule
    # asks only whether that page opens within 15 s (the light probe has no browser).
    portal = any_portal
    clock = FakeClock(at("2026-11-30 10:00"))  # a Monday
    # 1 s: a healthy GET stays well inside it even with the suite's four processes busy.
    params = {"pages": ["/"], "slow_after_s": 1.0, "min_visits": 3, "tls": None}
    services = make_services(
        portal_catalog(portal.url, probe="availability", params=params), clock=clock
    )
    healthy = await run_check(services, CHECK)
    assert healthy.outcome is Outcome.PASS, healthy.result
    portal.faults.update({"slow_ms": 1600})
    clock.advance(dt.timedelta(minutes=10))
    slow = await run_check(services, CHECK)
    assert [f.code for f in slow.result.findings] == ["site.timeout"]
    assert "1 秒内未打开" in slow.result.findings[0].detail
    portal.faults.update({"slow_ms": 0, "site_down": True})
    clock.advance(dt.timedelta(minutes=10))
    down = await run_check(services, CHECK)
    assert [f.code for f in down.result.findings] == ["site.http_error"]
    assert down.result.metrics["this_week"]["visits"] == 3
    assert down.result.metrics["last_week"]["unjudged"]  # no visits last week

    portal.faults.update({"site_down": False})
    clock.advance(dt.timedelta(days=7))  # the next Monday: the week of the three visits closed
    judged = await run_check(services, CHECK)
    assert judged.outcome is Outcome.FAIL
    (low,) = judged.result.findings
    assert low.code == "site.availability_low"
    assert "共访问 3 次，其中 2 次无法打开或 1 秒内未打开，占 66.7%" in low.detail
    _explain(services, CHECK, judged.outcome, judged.result)  # as `govpatrol calibrate` shows it
    assert f"访问 {portal.url}/：" in capsys.readouterr().out

    # The weekly figure from the runs: two of three down; the verdict run itself is not.
    with services.sessions.begin() as session:
        week = availability_by_target(session, at("2026-11-30 00:00"), at("2026-12-07 00:00"))
        verdict = availability_by_target(session, at("2026-12-07 00:00"), at("2026-12-08 00:00"))
    assert (week["sf-portal"].counted, week["sf-portal"].available) == (3, 1)
    assert (verdict["sf-portal"].counted, verdict["sf-portal"].available) == (1, 1)


# -- certificates ---------------------------------------------------------------------------


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _issue(tmp: Path, days: int) -> tuple[Path, Path, Path]:
    """A local CA, and a certificate for 127.0.0.1 valid ``days`` days: (ca, cert, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("govpatrol test CA"))
        .issuer_name(_name("govpatrol test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def _tls_server(cert: Path, key: Path) -> AsyncIterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A home page in plain HTTP/1.1 over TLS, one request per connection.
        try:
            await reader.readuntil(b"\r\n\r\n")
            body = "示范省政务服务网".encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode() + body)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the certificate check closes right after its handshake
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=context)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"https://127.0.0.1:{port}/"
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def expiring_site(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    ca, cert, key = _issue(tmp_path, days=10)
    async for url in _tls_server(cert, key):
        yield url, ca


async def test_certificate_expiring_soon_or_untrusted_is_a_finding(
    expiring_site: tuple[str, Path],
) -> None:
    url, ca = expiring_site
    now = dt.datetime.now(dt.UTC)
    trusted = await check_certificate(url, now, str(ca))
    assert trusted.problem == "" and trusted.days_left in (9, 10)
    soon = certificate_finding(url, trusted, warn_days=30)
    assert soon is not None and soon.code == "site.certificate"
    assert f"剩余 {trusted.days_left} 天" in soon.detail
    assert certificate_finding(url, trusted, warn_days=5) is None  # far enough for this setting

    untrusted = await check_certificate(url, now)  # a self-made CA the system does not know
    invalid = certificate_finding(url, untrusted, warn_days=30)
    assert invalid is not None and "证书颁发机构不受信任" in invalid.detail


async def test_an_https_site_answering_in_time_with_a_certificate_near_expiry(
    make_services: ServicesFactory, expiring_site: tuple[str, Path]
) -> None:
    url, ca = expiring_site
    params = {"pages": ["/"], "tls": {"warn_days": 30, "ca_file": str(ca)}}
    services = make_services(portal_catalog(url.rstrip("/"), probe="availability", params=params))
    report = await run_check(services, CHECK)
    assert [f.code for f in report.result.findings] == ["site.certificate"], report.result
    assert report.result.metrics["page_visits"][0]["status"] == 200
    # The certificate says nothing of this visit: the run counts as available.
    with services.sessions.begin() as session:
        counted = availability_by_target(session, at("2000-01-01 00:00"), at("2100-01-01 00:00"))
    assert (counted["sf-portal"].counted, counted["sf-portal"].available) == (1, 1)


def test_availability_params_are_checked_with_their_field_named() -> None:
    from pydantic import ValidationError

    from probes.registry import params_models, probe_kinds

    model = params_models(probe_kinds())["availability"]
    with pytest.raises(ValidationError, match="max_failed_share"):
        model.model_validate({"max_failed_share": 5})
    with pytest.raises(ValidationError, match=r"tls\.warn_days"):
        model.model_validate({"tls": {"warn_days": 0}})
