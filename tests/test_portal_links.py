"""Links of a single-page app: a ``#/…`` hash route is a page of its own, an anchor is not."""

from __future__ import annotations

from probes.portal_links import is_category, page_address


def test_hash_route_is_kept_and_anchor_dropped() -> None:
    assert page_address("http://h/#/item/gsslj") == "http://h/#/item/gsslj"
    assert page_address("http://h/#!/guide/1") == "http://h/#!/guide/1"
    assert page_address("http://h/list#top") == "http://h/list"


def test_hash_route_columns_are_categories_of_the_home_page() -> None:
    assert is_category("http://h/#/list/legal", "http://h/#/list/personal", None)
    assert not is_category("http://h/#/list/personal", "http://h/#/list/personal", None)
    assert not is_category("http://h/#top", "http://h/list", None)
