"""The sandbox portal's pages and search, as a visitor sees them over real HTTP."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sandbox.catalog import DEPARTMENTS, ITEMS, Audience, items_of_theme, themes_of
from tests.sandbox.pages import Page, result_names, result_total


def test_home_page_has_three_columns_search_form_and_footer(client: httpx.Client) -> None:
    response = client.get("/")
    page = Page(response.text)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert {"charset": "utf-8"} in page.metas
    assert any(m.get("name") == "viewport" for m in page.metas)
    assert "示范省政务服务网" in page.text
    for heading in ("个人办事", "法人办事", "部门服务", "热门事项", "通知公告"):
        assert heading in page.text
    # The header's search, and the 智能客服 widget's question form (posted by XHR).
    assert [f.get("action") for f in page.forms] == ["/search", "/znkf/ask.do"]
    query_box = [i for i in page.inputs if i.get("name") == "q"]
    assert query_box and "请输入" in query_box[0]["placeholder"]
    assert "搜索" in page.buttons
    nav_texts = {text for _, text in page.links}
    assert {"首页", "个人办事", "法人办事", "部门服务", "我要咨询", "用户注册", "登录"} <= nav_texts
    assert len(page.hrefs_to("/personal?theme=")) == len(themes_of(Audience.PERSONAL))
    assert len(page.hrefs_to("/legal?theme=")) == len(themes_of(Audience.LEGAL))
    assert len(page.hrefs_to("/department/")) == len(DEPARTMENTS)
    for footer_text in ("主办单位", "ICP备", "联系电话"):
        assert footer_text in page.text


def test_every_home_page_link_opens_a_page(client: httpx.Client) -> None:
    hrefs = {href for href, _ in Page(client.get("/").text).links}

    # 长者模式 (/care?back=/) sets its cookie and redirects back.
    opened = {href: client.get(href, follow_redirects=True) for href in sorted(hrefs)}
    broken = [href for href, response in opened.items() if response.status_code != 200]

    assert broken == []


def test_catalog_has_at_least_40_items_with_unique_ids_and_names() -> None:
    assert len(ITEMS) >= 40
    assert len({item.id for item in ITEMS}) == len(ITEMS)
    assert len({item.name for item in ITEMS}) == len(ITEMS)


def test_every_guide_page_shows_all_guide_elements(client: httpx.Client) -> None:
    elements = (
        "设定依据",
        "受理条件",
        "办理流程",
        "法定时限",
        "承诺时限",
        "收费标准",
        "申请材料",
        "办理地点",
        "咨询电话",
        "监督投诉电话",
        "表格下载",
        "示范文本",
    )
    for item in ITEMS:
        response = client.get(f"/item/{item.id}")
        page = Page(response.text)

        assert response.status_code == 200, item.id
        missing = [e for e in elements if e not in page.text]
        assert missing == [], f"{item.name} lacks {missing}"
        assert item.name in page.text
        assert item.basis[0] in page.text
        assert all(m.name in page.text for m in item.materials), item.name
        assert re.search(r"0871-6\d{7}", page.text), f"{item.name} has no area-coded phone"
        assert "个工作日" in page.text or "即办" in page.text
        assert f"/files/{item.id}/blank.docx" in page.hrefs_to("/files/")
        assert f"/files/{item.id}/sample.pdf" in page.hrefs_to("/files/")


def test_form_downloads_are_real_files(client: httpx.Client) -> None:
    for item in ITEMS:
        blank = client.get(f"/files/{item.id}/blank.docx")
        sample = client.get(f"/files/{item.id}/sample.pdf")

        assert blank.status_code == 200
        assert blank.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert blank.content.startswith(b"PK")
        assert sample.status_code == 200
        assert sample.headers["content-type"] == "application/pdf"
        assert sample.content.startswith(b"%PDF-") and sample.content.rstrip().endswith(b"%%EOF")
        assert "attachment" in sample.headers["content-disposition"]


@pytest.mark.parametrize("audience", list(Audience))
def test_every_theme_column_lists_its_items(client: httpx.Client, audience: Audience) -> None:
    base = "/personal" if audience is Audience.PERSONAL else "/legal"
    for theme in themes_of(audience):
        page = Page(client.get(base, params={"theme": theme}).text)

        listed = {text for href, text in page.links if href.startswith("/item/")}
        assert listed == {item.name for item in items_of_theme(audience, theme)}, theme


def test_department_pages_list_their_items(client: httpx.Client) -> None:
    listed: set[str] = set()
    for dept in DEPARTMENTS:
        response = client.get(f"/department/{dept.code}")
        assert response.status_code == 200
        assert dept.name in response.text
        listed |= {text for href, text in Page(response.text).links if href.startswith("/item/")}

    assert listed == {item.name for item in ITEMS}


def test_unknown_page_answers_a_chinese_404(client: httpx.Client) -> None:
    for path in ("/no-such-page", "/item/no-such-item", "/personal?theme=不存在的主题"):
        response = client.get(path)
        assert response.status_code == 404
        assert "页面不存在" in response.text


@pytest.mark.parametrize(
    "query",
    [
        "排污许可证核发",
        "排污",
        "排污许可",
        "排污许可证办理",
        " 排污许可证　核发 ",
        "排污许可证（核发）",
    ],
)
def test_search_finds_pollution_permit_by_name_alias_and_sloppy_input(
    client: httpx.Client, query: str
) -> None:
    response = client.get("/search", params={"q": query})

    assert response.status_code == 200
    assert "排污许可证核发" in result_names(response)


def test_every_item_is_the_first_result_for_its_own_name(client: httpx.Client) -> None:
    for item in ITEMS:
        names = result_names(client.get("/search", params={"q": item.name}))
        assert names[:1] == [item.name], item.name


def test_search_result_links_to_guide_with_department_and_audience(client: httpx.Client) -> None:
    response = client.get("/search", params={"q": "教师"})
    page = Page(response.text)

    assert result_total(response) == 1
    assert ("/item/jszgrd", "教师资格认定") in page.links
    assert "<em>教师</em>" in response.text
    assert "省教育厅" in page.text and "个人" in page.text
    assert [i.get("value") for i in page.inputs if i.get("name") == "q"] == ["教师"]


def test_search_paginates_ten_results_per_page(client: httpx.Client) -> None:
    first = client.get("/search", params={"q": "许可"})
    second = client.get("/search", params={"q": "许可", "page": 2})

    total = result_total(first)
    assert total > 10
    assert len(result_names(first)) == 10
    assert len(result_names(second)) == total - 10
    assert not set(result_names(first)) & set(result_names(second))
    next_links = [href for href, text in Page(first.text).links if text == "下一页"]
    assert next_links and parse_qs(urlsplit(next_links[0]).query)["page"] == ["2"]


def test_empty_query_shows_a_hint_and_no_results(client: httpx.Client) -> None:
    response = client.get("/search", params={"q": "  "})

    assert response.status_code == 200
    assert result_names(response) == []
    assert "请输入事项名称或关键词" in response.text


def test_care_switch_sets_its_cookie_and_stays_on_the_site(client: httpx.Client) -> None:
    switched = client.get("/care?back=/item/gsslj")
    assert switched.status_code == 302 and switched.headers["location"] == "/item/gsslj"
    assert "care_mode=1" in switched.headers["set-cookie"]
    away = client.get("/care?back=https://elsewhere.example.com/")
    assert away.headers["location"] == "/"
