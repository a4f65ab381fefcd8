"""Faults of the H5 site 示范办 (`sandbox.mobile`), one per kind of mobile finding.

A `sandbox.faults.FaultFields` section like every other, with simple field types, so
the admin endpoint and the CLI can set them generically (`--fault mobile.overflow=true`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.faults import FaultFields


@dataclass
class MobileFaults(FaultFields):
    """Defects of the H5 site; the default instance is a healthy site.

    Each fault breaks one page the way real H5 sites break: ``page_500`` 社保查询 answers
    500; ``overflow`` the 办事指南 fee table keeps its desktop width (720px);
    ``no_viewport`` 通知公告 pages lack the viewport meta; ``broken_link`` the 电子证照 tile
    points to a removed address; ``broken_image`` the home banner image is gone;
    ``broken_script`` 办件查询 loads a script that is gone; ``script_error`` 办事指南 calls
    the WeChat JS-SDK without loading it, so it throws inside WeChat only; ``tiny_text``
    the 服务 list is set in 10px; ``a11y_violations`` the home grid icons lose their alt,
    the search button becomes an unnamed icon and the hotline a low-contrast grey.
    """

    page_500: bool = False
    overflow: bool = False
    no_viewport: bool = False
    broken_link: bool = False
    broken_image: bool = False
    broken_script: bool = False
    script_error: bool = False
    tiny_text: bool = False
    a11y_violations: bool = False
    site_down: bool = False
    slow_ms: int = 0
