"""Faults switched on through the admin endpoint or CLI arguments, and what a visitor sees."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from sandbox.faults import PortalFaults, parse_fault_args
from tests.sandbox.pages import Page, result_names, result_total


def test_search_empty_fault_makes_every_search_find_nothing(client: httpx.Client) -> None:
    client.put("/__sandbox/faults", json={"search_empty": True}).raise_for_status()

    response = client.get("/search", params={"q": "排污许可证核发"})

    assert response.status_code == 200
    assert result_total(response) == 0
    assert result_names(response) == []


def test_missing_item_is_not_found_but_still_listed_in_its_column(client: httpx.Client) -> None:
    client.put("/__sandbox/faults", json={"items_missing": ["排污许可证核发"]}).raise_for_status()

    searched = client.get("/search", params={"q": "排污许可证核发"})
    column = client.get("/legal", params={"theme": "环境保护"})
    other = client.get("/search", params={"q": "教师资格认定"})

    assert result_names(searched) == []
    assert ("/item/pwxkzhf", "排污许可证核发") in Page(column.text).links
    assert result_names(other) == ["教师资格认定"]


def test_error_keyword_redirects_to_an_error_page_answering_200(client: httpx.Client) -> None:
    client.put("/__sandbox/faults", json={"error_keywords": ["教师", "排污"]}).raise_for_status()

    redirected = client.get("/search", params={"q": "幼儿园教师资格"})
    landed = client.get("/search", params={"q": "排污"}, follow_redirects=True)
    unaffected = client.get("/search", params={"q": "护照"})

    assert redirected.status_code == 302
    assert redirected.headers["location"] == "/error.html"
    assert landed.status_code == 200
    assert "抱歉，您访问的页面出错了" in landed.text
    assert result_names(unaffected) == ["护照签发"]


def test_search_500_fault_answers_a_tomcat_error(client: httpx.Client) -> None:
    client.put("/__sandbox/faults", json={"search_500": True}).raise_for_status()

    response = client.get("/search", params={"q": "护照"})

    assert response.status_code == 500
    assert "内部服务器错误" in response.text and "Apache Tomcat" in response.text
    assert client.get("/").status_code == 200


def test_slow_ms_fault_delays_portal_pages(client: httpx.Client) -> None:
    client.put("/__sandbox/faults", json={"slow_ms": 300}).raise_for_status()

    started = time.monotonic()
    response = client.get("/search", params={"q": "护照"})
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.3


def test_site_down_fault_answers_503_while_admin_keeps_working(client: httpx.Client) -> None:
    client.put("/__sandbox/faults", json={"site_down": True}).raise_for_status()

    for path in ("/", "/search?q=护照", "/item/hzqf", "/healthz"):
        response = client.get(path)
        assert response.status_code == 503, path
    assert "系统维护中" in client.get("/").text
    assert client.get("/__sandbox/health").status_code == 200
    assert client.get("/__sandbox/faults").json()["site_down"] is True


def test_delete_resets_the_portal_to_healthy(client: httpx.Client) -> None:
    client.put(
        "/__sandbox/faults",
        json={"site_down": True, "search_empty": True, "items_missing": ["护照签发"]},
    ).raise_for_status()

    reset = client.delete("/__sandbox/faults")

    assert reset.status_code == 200
    assert reset.json() == PortalFaults().to_dict()
    assert result_names(client.get("/search", params={"q": "护照"})) == ["护照签发"]


def test_put_merges_fields_into_current_faults(client: httpx.Client) -> None:
    client.put("/__sandbox/faults", json={"search_empty": True}).raise_for_status()

    merged = client.put("/__sandbox/faults", json={"slow_ms": 10}).json()

    assert merged["search_empty"] is True and merged["slow_ms"] == 10
    assert client.get("/__sandbox/faults").json() == merged


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slow_ms": "fast"}, "slow_ms"),
        ({"slow_ms": -1}, "slow_ms"),
        ({"search_empty": "yes"}, "search_empty"),
        ({"items_missing": "排污许可证核发"}, "items_missing"),
        ({"items_missing": ["没有这个事项"]}, "items_missing"),
        ({"error_keywords": [1]}, "error_keywords"),
        ({"no_such_fault": True}, "no_such_fault"),
    ],
)
def test_bad_admin_input_is_rejected_naming_the_field(
    client: httpx.Client, body: dict[str, object], field: str
) -> None:
    before = client.get("/__sandbox/faults").json()

    response = client.put("/__sandbox/faults", json=body)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert field in response.json()["error"]
    assert client.get("/__sandbox/faults").json() == before


def test_admin_rejects_a_body_that_is_not_a_json_object(client: httpx.Client) -> None:
    for content in (b"[1, 2]", b"{not json"):
        response = client.put("/__sandbox/faults", content=content)
        assert response.status_code == 400
        assert "JSON" in response.json()["error"]


def test_parse_fault_args_reads_flags_values_and_lists() -> None:
    faults = parse_fault_args(
        [
            "search_empty",
            "site_down=false",
            "slow_ms=3000",
            "items_missing=排污许可证核发,教师资格认定",
            "items_missing=医师执业注册",
            "error_keywords=教师，排污",
        ]
    )

    assert faults.to_dict() == {
        "search_empty": True,
        "items_missing": ["排污许可证核发", "教师资格认定", "医师执业注册"],
        "error_keywords": ["教师", "排污"],
        "search_500": False,
        "slow_ms": 3000,
        "site_down": False,
        "search_box_unlabelled": False,
        "hot_services_above_results": False,
    }


@pytest.mark.parametrize(
    "arg",
    ["slow_ms=abc", "slow_ms", "nosuchfault", "search_500=maybe", "items_missing=不存在的事项"],
)
def test_parse_fault_args_errors_name_the_argument(arg: str) -> None:
    with pytest.raises(ValueError, match=re.escape(arg)):
        parse_fault_args(["search_empty", arg])
