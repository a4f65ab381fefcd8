"""Reading single-page apps: hash routes are pages, and only the search API is judged."""

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


def test_only_the_search_api_is_judged_not_other_calls() -> None:
    from probes.landing import ApiAnswer, Landing
    from probes.search import _search_api

    beacon = ApiAnswer("http://h/api/stats/visit", "", 404, "", 0.1)
    found = ApiAnswer("http://h/api/items/list", '{"kw":"公司设立登记"}', 500, "", 0.7)
    landing = Landing(moved=True, answers=[beacon])
    assert landing.worst(_search_api("公司设立登记", None)) is None
    landing.answers.append(found)
    assert landing.worst(_search_api("公司设立登记", None)) == found
    by_path = ApiAnswer("http://h/gateway/search?page=1", "", 502, "", 9.0)
    assert Landing(answers=[by_path]).worst(_search_api("护照", None)) == by_path
    assert Landing(answers=[beacon]).worst(_search_api("护照", r"/api/stats")) == beacon
