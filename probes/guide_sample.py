"""Which guides a run looks at: the configured ones, plus a sample drawn from catalog pages."""

from __future__ import annotations

import random
import re

from playwright.async_api import Page

from probes import locate
from probes.base import ProbeContext
from probes.errors import Inconclusive
from probes.portal_links import page_address
from probes.search import CatalogSample


async def guide_urls(
    ctx: ProbeContext,
    page: Page,
    items: list[str],
    sample: CatalogSample | None,
    item_pattern: str,
) -> list[str]:
    """The configured guides, then ``sample.count`` guide links drawn from the sample pages
    (the same draw within an hour, a new one the next); raises Inconclusive when none."""
    urls = [ctx.absolute(item) for item in items]
    if sample is not None:
        pattern = re.compile(sample.link_pattern or item_pattern)
        hrefs: list[str] = []
        for listing in sample.pages:
            response = await ctx.goto(page, ctx.absolute(listing))
            if response is not None and response.status >= 400:
                continue  # a broken listing is the checklist's business
            for _, href in await locate.main_links(page, ctx.selector("catalog")):
                if pattern.search(href) and href not in urls:
                    hrefs.append(page_address(href))
        unique = list(dict.fromkeys(hrefs))
        chooser = random.Random(f"{ctx.check_id}:{ctx.clock.now():%Y%m%d%H}")
        urls += chooser.sample(unique, min(sample.count, len(unique)))
    if not urls:
        raise Inconclusive(
            f"抽样页面上未找到符合 item_pattern（{item_pattern}）的办事指南链接；"
            "请配置巡检项 params.item_pattern、sample.link_pattern 或 items"
        )
    return list(dict.fromkeys(urls))
