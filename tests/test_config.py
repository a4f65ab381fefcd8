"""Catalog validation: every problem named by file, line and YAML path; secrets masked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from config.loader import CatalogError, load_catalog, parse_catalog
from config.secrets import mask_url
from probes.registry import params_models, probe_kinds

PARAMS = params_models(probe_kinds())
REPO = Path(__file__).resolve().parent.parent

GOOD = """
units:
  - code: sf-zwb
    name: 示范省政务服务管理办公室
    contacts:
      - name: 王晓明
        notify: ["mailto://bot:${SMTP_PASSWORD}@smtp.example.com?to=a@example.com"]
targets:
  - key: portal
    name: 示范省政务服务网
    unit: sf-zwb
    base_url: http://127.0.0.1:8001
    checks:
      - probe: search
        schedule: 10m
        params: {items: [公司设立登记]}
"""


def problems(text: str, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "catalog.yaml", probe_params=PARAMS, environ=environ or {})
    return [str(p) for p in caught.value.problems]


def test_good_catalog_loads_with_secret_resolved() -> None:
    catalog = parse_catalog(GOOD, probe_params=PARAMS, environ={"SMTP_PASSWORD": "s3cret!"})
    url = catalog.units[0].contacts[0].notify[0]
    assert "s3cret!" in url.reveal()
    assert "s3cret" not in str(url) and "s3cret" not in repr(url)
    assert catalog.checks()[0][0] == "portal/search"


def test_missing_secret_names_its_path_and_variable() -> None:
    (problem,) = problems(GOOD)
    assert "units[0].contacts[0].notify[0]" in problem
    assert "${SMTP_PASSWORD} is not set" in problem
    assert problem.startswith("catalog.yaml:7:")


def test_every_problem_is_reported_with_its_yaml_path() -> None:
    text = """
units:
  - code: sf-zwb
    name: 示范省政务服务管理办公室
targets:
  - key: a
    name: A
    unit: sf-zwb
    base_url: http://127.0.0.1:8001
    checks: []
  - key: b
    name: B
    unit: sf-zwb
    base_url: http://127.0.0.1:8001
  - key: c
    name: C
    unit: sf-zwb
    base_url: ftp://nowhere
    checks:
      - probe: search
        schedule: {cron: "61 * * * *"}
        colour: blue
"""
    found = problems(text)
    assert any("targets[2].base_url" in p for p in found)
    assert any("targets[2].checks[0].schedule" in p and "cron" in p for p in found)
    assert any("targets[2].checks[0].colour: unknown field" in p for p in found)
    assert all(p.startswith("catalog.yaml:") for p in found)


def test_cross_references_and_probe_parameters_are_checked() -> None:
    text = """
units:
  - {code: sf-zwb, name: 省政务办}
  - {code: sf-zwb, name: 重复, parent: nowhere}
targets:
  - key: portal
    name: 门户
    unit: no-such-unit
    base_url: http://127.0.0.1:8001
    checks:
      - {probe: search, schedule: 10m, params: {top_n: 0}}
      - {probe: teleport, schedule: 10m}
      - {name: nothing, probe: search, schedule: 10m}
"""
    found = problems(text)
    assert any("units[1].code: duplicate unit code 'sf-zwb'" in p for p in found)
    assert any("units[1].parent: unknown unit 'nowhere'" in p for p in found)
    assert any("targets[0].unit: unknown unit 'no-such-unit'" in p for p in found)
    assert any("targets[0].checks[0].params.top_n" in p for p in found)
    assert any("targets[0].checks[2].params: give `items`" in p for p in found)
    assert any("targets[0].checks[1].probe: unknown probe 'teleport'" in p for p in found)


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    (problem,) = problems("units:\n  - code: [unclosed\n")
    assert "invalid YAML" in problem and "catalog.yaml:" in problem
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path / "absent.yaml")
    assert "file not found" in str(caught.value)


def test_masking_hides_passwords_tokens_and_keys() -> None:
    assert mask_url("mailto://bot:pa55@smtp.example.com?to=a@example.com") == (
        "mailto://bot:****@smtp.example.com/a%40example.com"  # Apprise's own rendering
    )
    masked = mask_url("wecombot://0123456789abcdef0123456789abcdef")
    assert "0123456789abcdef0123456789abcdef" not in masked
    assert "tok123456" not in mask_url("json://example.com/hook?token=tok123456")


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def test_check_config_cli_names_paths_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("schedule: 10m", "schedule: soon"), encoding="utf-8")
    result = run_cli("check-config", str(bad), env={"SMTP_PASSWORD": "hunter2"})
    assert result.returncode == 1
    assert "targets[0].checks[0].schedule" in result.stderr
    assert f"{bad}:15:" in result.stderr
    missing = run_cli("check-config", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 1 and "file not found" in missing.stderr


def test_check_config_cli_prints_urls_masked(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD, encoding="utf-8")
    result = run_cli("check-config", str(good), env={"SMTP_PASSWORD": "hunter2"})
    assert result.returncode == 0, result.stderr
    assert "catalog OK" in result.stdout
    assert "hunter2" not in result.stdout + result.stderr
    assert "bot:****@smtp.example.com" in result.stdout


def test_example_catalog_is_valid() -> None:
    env = {
        name: "x" * 20
        for name in (
            "SMTP_USER",
            "SMTP_PASSWORD",
            "WECOM_BOT_KEY",
            "DINGTALK_TOKEN",
            "FEISHU_TOKEN",
            "SSO_PASSWORD",
        )
    }
    result = run_cli("check-config", "config/examples/catalog.yaml", env=env)
    assert result.returncode == 0, result.stderr


def test_locations_route_checks_and_unknown_ones_are_named() -> None:
    located = GOOD.replace(
        "targets:", "locations: [{name: 互联网-电信}, {name: 政务外网}]\ntargets:"
    ).replace("schedule: 10m", "schedule: 10m\n        locations: [政务外网]")
    catalog = parse_catalog(located, probe_params=PARAMS, environ={"SMTP_PASSWORD": "x"})
    _, _, check = catalog.checks()[0]
    assert catalog.locations_of(check) == ["政务外网"]
    assert catalog.location_names() == ["互联网-电信", "政务外网"]
    unlocated = parse_catalog(GOOD, probe_params=PARAMS, environ={"SMTP_PASSWORD": "x"})
    assert unlocated.locations_of(unlocated.checks()[0][2]) == ["default"]

    found = problems(located.replace("locations: [政务外网]", "locations: [互联网-移动]"))
    assert any(
        "targets[0].checks[0].locations[0]: unknown location '互联网-移动'" in p for p in found
    )
    too_long = problems(located.replace("{name: 政务外网}", "{name: 省级政务外网第二接入区域节点}"))
    assert any("locations[1].name" in p and "30 bytes" in p for p in found + too_long)
