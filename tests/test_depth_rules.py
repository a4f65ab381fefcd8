"""The rules of 网上办理深度 and the click walk, without a browser."""

from __future__ import annotations

from bot.target_commands import measures
from core.results import Outcome, ProbeResult
from probes.click_walk import Links, normalised, walk
from probes.guide_page import GuidePage
from probes.guide_rules import Labelled
from probes.online_entry import (
    Destination,
    Level,
    PageSigns,
    classify_destination,
    level_of,
    visits_of,
)

SITE = "http://127.0.0.1:8000"
GUIDE = f"{SITE}/item/gsslj"


def signs(url: str = f"{SITE}/apply/gsslj", **changes: object) -> PageSigns:
    values: dict[str, object] = {
        "url": url,
        "status": 200,
        "title": "公司设立登记 — 网上申报",
        "text": "",
        "passwords": 0,
        "fields": 0,
    }
    values.update(changes)
    return PageSigns(**values)  # type: ignore[arg-type]


def test_destinations_are_told_by_what_a_citizen_sees() -> None:
    def kind(page: PageSigns) -> Destination:
        return classify_destination(page, guide_url=GUIDE).kind

    assert kind(signs(fields=4)) is Destination.FORM
    assert kind(signs(passwords=1, fields=1)) is Destination.LOGIN
    assert kind(signs(title="统一身份认证 用户登录")) is Destination.LOGIN
    assert kind(signs(status=404)) is Destination.DEAD
    assert kind(signs(moved=False)) is Destination.DEAD
    assert kind(signs(error_marker="页面不存在")) is Destination.DEAD
    assert kind(signs(f"{SITE}/", title="示范省政务服务网")) is Destination.UNRELATED
    assert kind(signs(f"{SITE}/#/", title="示范省一体化政务服务平台")) is Destination.UNRELATED
    assert kind(signs(GUIDE, title="公司设立登记")) is Destination.UNRELATED
    # A department system's own page that is neither: the rule of doubt, not a finding.
    assert kind(signs(f"{SITE}/hall/index", title="网上服务大厅")) is Destination.UNKNOWN


def test_an_offline_notice_wins_over_the_form_around_it_and_is_quoted() -> None:
    notice = "该事项暂不支持网上办理，请携带申请材料到办事窗口办理。"
    text = f"当前位置：首页 > 公司设立登记\n{notice}\n返回"
    reading = classify_destination(signs(text=text, fields=3), guide_url=GUIDE)
    assert reading.kind is Destination.OFFLINE
    assert reading.why == "提示“该事项暂不支持网上办理，请携带申请材料到办事窗口办理。”"
    # “无需到现场” on a 全程网办 form is not an offline notice.
    online = "本事项实行全程网办，申请、受理、审查、决定及送达均在网上完成，无需到现场。"
    assert classify_destination(signs(text=online, fields=3), guide_url=GUIDE).kind is (
        Destination.FORM
    )


def test_levels_from_the_destination_the_visits_and_the_downloads() -> None:
    assert level_of(Destination.FORM, visits=0, downloads=True, precheck=False) is Level.IV
    assert level_of(Destination.LOGIN, visits=0, downloads=False, precheck=False) is Level.IV
    assert level_of(Destination.LOGIN, visits=1, downloads=False, precheck=False) is Level.III
    assert level_of(Destination.FORM, visits=None, downloads=False, precheck=False) is Level.III
    assert level_of(Destination.DEAD, visits=0, downloads=True, precheck=False) is Level.II
    assert level_of(None, visits=None, downloads=False, precheck=True) is Level.II
    assert level_of(None, visits=2, downloads=False, precheck=False) is Level.I


def test_visits_read_from_any_wording() -> None:
    def guide(label: str, value: str) -> GuidePage:
        return GuidePage(GUIDE, "公司设立登记", (Labelled(label, value, ()),), ())

    assert visits_of(guide("到办事现场次数", "0次（全程网办）")) == 0
    assert visits_of(guide("到现场次数", "１次")) == 1
    assert visits_of(guide("跑动次数", "零跑动")) == 0
    assert visits_of(guide("到现场次数", "0")) == 0
    assert visits_of(guide("到现场次数", "详见2024年公告")) is None
    assert visits_of(guide("办理地点", "一楼窗口")) is None


def graph_reader(graph: dict[str, list[str]]) -> tuple[list[str], object]:
    """A site as a graph of addresses, and the ``read`` a walk uses on it."""
    visited: list[str] = []

    async def read(page: object, url: str) -> Links:
        visited.append(url)
        return [(href.rsplit("/", 1)[-1], f"{SITE}{href}") for href in graph.get(url, [])]

    return visited, read


async def test_walk_finds_the_fewest_clicks_and_the_words_of_the_path() -> None:
    graph = {
        f"{SITE}/": ["/a", "/b", "/c.pdf", "/#top"],
        f"{SITE}/a": ["/a1"],
        f"{SITE}/b": ["/#/item/7", "/a1"],
        f"{SITE}/a1": ["/#/item/7"],
    }
    visited, read = graph_reader(graph)
    found = await walk(
        [object(), object()],
        read,  # type: ignore[arg-type]
        f"{SITE}/",
        [f"{SITE}/#/item/7"],
        max_depth=5,
        max_pages=50,
    )
    target = normalised(f"{SITE}/#/item/7")
    assert found.clicks == {target: 2}
    assert found.paths[target] == ["b", "7"]
    assert f"{SITE}/c.pdf" not in visited  # files and in-page anchors are not pages
    assert not found.bounded


async def test_walk_stops_at_its_page_bound_without_a_verdict() -> None:
    graph = {f"{SITE}/": [f"/p{i}" for i in range(10)]}
    _, read = graph_reader(graph)
    found = await walk(
        [object()],
        read,  # type: ignore[arg-type]
        f"{SITE}/",
        [f"{SITE}/deep"],
        max_depth=5,
        max_pages=4,
    )
    assert found.bounded and found.pages_visited == 4 and not found.clicks


def test_calibrate_shows_levels_and_clicks() -> None:
    result = ProbeResult(
        Outcome.PASS,
        metrics={
            "levels": {"I": 0, "II": 1, "III": 0, "IV": 2},
            "clicks": {f"{SITE}/item/gsslj": 1, f"{SITE}/item/x": None},
        },
    )
    assert measures(result) == [
        "网上办理深度：I级 0 项、II级 1 项、III级 0 项、IV级 2 项",
        f"自首页点击次数：{SITE}/item/gsslj 1 次；{SITE}/item/x 未找到",
    ]
    assert measures(ProbeResult(Outcome.PASS)) == []
