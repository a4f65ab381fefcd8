"""`act_and_land` in a real Chromium: an action that only opens a dialog in place (nothing
loads) has landed once the awaited element shows; one whose element was already on the
page is judged by what it started, as before."""

from __future__ import annotations

import pytest

from probes.landing import act_and_land
from probes.pool import BrowserPool

pytestmark = pytest.mark.browser

PAGE = """
<p><textarea aria-label="留言"></textarea></p>
<button onclick="document.getElementById('letter').hidden = false">我要写信</button>
<button>没有反应</button>
<div id="letter" hidden><label>咨询内容 <textarea></textarea></label></div>
"""


async def test_a_dialog_opened_in_place_counts_as_the_click_landing(
    browser_pool: BrowserPool,
) -> None:
    async with browser_pool.context() as context:
        page = await context.new_page()
        await page.set_content(PAGE)
        opened = page.get_by_label("咨询内容").filter(visible=True)
        landing = await act_and_land(
            page, page.get_by_text("我要写信").click, 5_000, react_ms=5_000, appears=opened
        )
        assert landing.moved and await opened.count() == 1

        # Shown before the click: its showing says nothing, and this button starts nothing.
        await page.set_content(PAGE)
        always = page.get_by_label("留言").filter(visible=True)
        landing = await act_and_land(
            page, page.get_by_text("没有反应").click, 1_000, react_ms=300, appears=always
        )
        assert not landing.moved
