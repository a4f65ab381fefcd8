"""Catalog texts for tests, written the way an operator would write them."""

from __future__ import annotations

import json
from typing import Any


def portal_catalog(
    portal_url: str,
    *,
    notify: list[str] | None = None,
    probe: str = "search",
    params: dict[str, Any] | None = None,
    threshold: int = 2,
    schedule: str = "1h",
    auto_close: bool = False,
    extra_target: str = "",
    selectors: dict[str, str] | None = None,
    deadline_days: int | None = None,
    probation: str | None = None,
) -> str:
    """One unit with one contact, one portal target with one check."""
    params = params if params is not None else {"items": ["排污许可证核发", "公司设立登记"]}
    urls = notify or []
    deadline = f"\n        deadline_working_days: {deadline_days}" if deadline_days else ""
    on_probation = f"\n    probation: {probation}" if probation is not None else ""
    return f"""
units:
  - code: sf-zwb
    name: 示范省政务服务管理办公室
    level: province
    contacts:
      - name: 王晓明
        role: contact
        notify: {json.dumps(urls)}
targets:
  - key: sf-portal
    name: 示范省政务服务网
    unit: sf-zwb
    base_url: {portal_url}{on_probation}
    selectors: {json.dumps(selectors or {}, ensure_ascii=False)}
    checks:
      - probe: {probe}
        schedule: {schedule}
        failure_threshold: {threshold}
        auto_close: {str(auto_close).lower()}{deadline}
        params: {json.dumps(params, ensure_ascii=False)}
{extra_target}"""
