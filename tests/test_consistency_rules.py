"""The wordings two sites may print for one fact, and which of them differ (no browser)."""

from __future__ import annotations

import pytest

from probes.consistency_rules import (
    Field,
    Reading,
    Verdict,
    compare,
    compare_fees,
    compare_time_limits,
    compare_visits,
    material_differences,
    read_field,
)
from probes.guide_rules import Labelled

SAME, DIFFERENT, UNREADABLE = Verdict.SAME, Verdict.DIFFERENT, Verdict.UNREADABLE


@pytest.mark.parametrize(
    ("first", "second", "verdict"),
    [
        ("5个工作日", "5工作日", SAME),
        ("5个工作日", "五个工作日", SAME),
        ("15个工作日", "十五个工作日", SAME),
        ("20个工作日", "二十 个工作日", SAME),
        ("５个工作日", "5 个工作日（不含公示时间）", SAME),  # full-width digit, a note
        ("即办", "当场办结", SAME),
        ("即办", "0个工作日", SAME),
        ("30日", "30个自然日", SAME),  # 日 does not say which days: only a count differs
        ("3个工作日", "5个工作日", DIFFERENT),
        ("即办", "1个工作日", DIFFERENT),
        ("5个工作日", "5个自然日", DIFFERENT),
        ("20日", "30个工作日", DIFFERENT),
        ("1个月", "30日", UNREADABLE),
        ("即办", "2小时", UNREADABLE),
        ("详见办理流程", "5个工作日", UNREADABLE),
    ],
)
def test_time_limits(first: str, second: str, verdict: Verdict) -> None:
    assert compare_time_limits(first, second) is verdict
    assert compare_time_limits(second, first) is verdict


@pytest.mark.parametrize(
    ("first", "second", "verdict"),
    [
        ("0次（全程网办）", "0次", SAME),
        ("零次", "全程网办", SAME),
        ("最多跑一次", "1次", SAME),
        ("0", "0次（全程网办）", SAME),
        ("0次", "1次", DIFFERENT),
        ("1次", "2次", DIFFERENT),
        ("视情况而定", "1次", UNREADABLE),
    ],
)
def test_visits(first: str, second: str, verdict: Verdict) -> None:
    assert compare_visits(first, second) is verdict


@pytest.mark.parametrize(
    ("first", "second", "verdict"),
    [
        ("不收费", "免费", SAME),
        ("不收费", "0元", SAME),
        ("不收取费用", "不收费", SAME),
        ("无需缴费", "0.00元", SAME),
        ("否", "无", SAME),  # 是否收费：否 / 收费标准：无
        ("是；120元/本", "120元/本（依据《…》）", SAME),
        ("是", "工本费10元", SAME),  # a charge without a sum says no other sum
        ("不收费", "工本费10元", DIFFERENT),
        ("10元/本", "20元/本", DIFFERENT),
        ("详见收费公示", "不收费", UNREADABLE),
        ("不收费；工本费10元", "不收费", UNREADABLE),  # one site says both
    ],
)
def test_fees(first: str, second: str, verdict: Verdict) -> None:
    assert compare_fees(first, second) is verdict


def test_materials_compare_as_sets_of_tolerant_names() -> None:
    first = ["公司登记（备案）申请书", "公司章程", "1. 住所使用相关文件"]
    second = ["公司章程（原件1份）", "《公司登记(备案)申请书》", "住所使用相关文件 ", "股东会决议"]
    assert material_differences(first, second) == ([], ["股东会决议"])
    assert material_differences(first[::-1], first) == ([], [])
    assert material_differences(["营业执照"], ["身份证"]) == (["营业执照"], ["身份证"])


def test_a_field_is_read_by_its_labels_and_a_selector_wins() -> None:
    entries = [
        Labelled("法定办结时限", "15个工作日"),
        Labelled("承诺时限：", "1个工作日"),
        Labelled("是否收费", "否"),
        Labelled("收费标准", "无"),
        Labelled("材料名称", "", ("申请书", "身份证")),
        Labelled("到现场次数", "1次"),
        Labelled("selector:到现场次数", "0次"),
    ]
    assert read_field(entries, Field.LEGAL_LIMIT) == Reading("15个工作日")
    assert read_field(entries, Field.PROMISED_LIMIT) == Reading("1个工作日")
    assert read_field(entries, Field.FEE) == Reading("否；无")
    assert read_field(entries, Field.MATERIALS) == Reading(names=("申请书", "身份证"))
    assert read_field(entries, Field.VISITS) == Reading("0次")
    two = [Labelled("承诺时限", "1个工作日"), Labelled("承诺办结时限", "3个工作日")]
    assert "多个不同的值" in read_field(two, Field.PROMISED_LIMIT).problem
    assert not read_field([Labelled("办理时限", "5个工作日")], Field.LEGAL_LIMIT).read


def test_an_unread_side_is_never_different() -> None:
    unread = Reading(problem="未读到承诺时限")
    assert compare(Field.PROMISED_LIMIT, unread, Reading("5个工作日")) is UNREADABLE
    assert compare(Field.MATERIALS, Reading(names=("申请书",)), unread) is UNREADABLE
