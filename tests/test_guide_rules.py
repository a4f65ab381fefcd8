"""The checklist's text rules on guide contents, without a browser.

The wordings come from seed 001 附件1 (“法律、法规及州局要求提供的其他材料”) and from the
sandbox catalog, whose healthy guides must pass every rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from probes.checklist import ChecklistParams
from probes.guide_check import GuideVerdict, guide_findings, judge_guide
from probes.guide_page import DownloadLink, GuidePage
from probes.guide_rules import (
    FormKind,
    Labelled,
    PhoneKind,
    category_name,
    form_kind,
    forms_required,
    material_names,
    missing_elements,
    normalise_label,
    phone_problems,
    phones_in,
    unclear_material_formats,
    unclear_time_limits,
    vague_materials,
)
from probes.portal_links import entry_candidates, lands_on
from sandbox.catalog import ITEMS, department_by_code
from tests.test_checklist_probe import FIRST_NINE

COMPLETE = (
    Labelled("设定依据", "《中华人民共和国公司法》第六条"),
    Labelled("受理条件", "依法设立公司"),
    Labelled("办理流程", "申请 受理 审查 决定"),
    Labelled("法定时限", "15个工作日"),
    Labelled("承诺时限", "1个工作日"),
    Labelled("收费标准", "不收费"),
    Labelled(
        "材料名称", "公司登记（备案）申请书\n公司章程", ("公司登记（备案）申请书", "公司章程")
    ),
    Labelled("办理地点", "示范省政务服务中心二楼A区"),
    Labelled("咨询电话", "0871-63215071"),
    Labelled("监督投诉电话", "0871-63215110　12345政务服务便民热线"),
)


def test_labels_fold_colons_asterisks_width_and_bracketed_notes() -> None:
    assert normalise_label(" ＊设定依据： ") == "设定依据"
    assert normalise_label("办理依据（法律法规）") == "办理依据"
    assert normalise_label("咨询电话:") == "咨询电话"


def test_complete_guide_misses_nothing() -> None:
    assert missing_elements(COMPLETE, FIRST_NINE) == []


def test_absent_and_placeholder_elements_are_missing_in_catalog_order() -> None:
    entries = [
        e
        for e in COMPLETE
        if e.label
        not in ("设定依据", "法定时限", "承诺时限", "材料名称", "办理地点", "监督投诉电话")
    ]
    entries += [
        Labelled("办理依据", "暂无"),
        Labelled("办理地点", "无"),
        Labelled("材料名称", "", ()),  # a materials table with its header row only
    ]
    assert missing_elements(entries, FIRST_NINE) == [
        "设定依据",
        "办理时限",
        "申请材料",
        "办理地点",
        "监督投诉电话",
    ]


def test_no_fee_written_as_none_is_an_answer() -> None:
    assert missing_elements([Labelled("收费标准", "无")], ["收费标准"]) == []
    assert missing_elements([Labelled("收费标准", "")], ["收费标准"]) == ["收费标准"]


def test_material_names_come_from_the_name_column_or_the_section_items() -> None:
    assert material_names(COMPLETE) == ["公司登记（备案）申请书", "公司章程"]
    listed = [Labelled("办理材料", "…", ("营业执照（复印件1份）", "申请书（原件1份）"))]
    assert material_names(listed) == ["营业执照（复印件1份）", "申请书（原件1份）"]
    assert material_names([Labelled("申请材料", "身份证；户口簿")]) == ["身份证", "户口簿"]


@pytest.mark.parametrize(
    "wording",
    [
        "根据有关法律法规规定应提交的其他材料",
        "法律、法规及州局要求提供的其他材料",
        "卫生行政部门要求提供的其他材料",
        "其他证明材料",
        "其它相关材料",
        "相关材料",
    ],
)
def test_catch_all_materials_from_the_seeds_are_vague(wording: str) -> None:
    assert vague_materials([wording]) == [wording]


def test_no_material_of_the_healthy_catalog_is_vague() -> None:
    names = [material.name for item in ITEMS for material in item.materials]
    assert vague_materials(names) == []
    assert vague_materials(["住所使用相关文件", "危险废物经营设施竣工环境保护验收材料"]) == []


def test_material_format_is_read_across_the_table_row() -> None:
    table = (
        Labelled("材料名称", "", ("营业执照", "法定代表人身份证明", "")),
        Labelled("材料类型", "", ("原件", "", "")),
        Labelled("份数", "", ("1份", "两份", "")),
        Labelled("材料形式", "", ("纸质", "纸质和电子", "")),
        Labelled("设定依据", "《中华人民共和国公司法》"),
    )
    # The third row is empty: no material, nothing to judge.
    assert unclear_material_formats(table) == [("法定代表人身份证明", ("原件/复印件",))]
    no_columns = (Labelled("材料名称", "", ("营业执照", "身份证明")),)
    assert unclear_material_formats(no_columns) == [
        ("营业执照", ("原件/复印件", "纸质/电子", "份数")),
        ("身份证明", ("原件/复印件", "纸质/电子", "份数")),
    ]


def test_a_bare_number_under_a_copies_column_states_the_copies() -> None:
    # “份数 | 1”: the column names what the cell counts (issue 14, the SPA's materials table).
    table = (
        Labelled("材料名称", "", ("营业执照", "身份证明")),
        Labelled("材料形式", "", ("纸质原件", "纸质复印件")),
        Labelled("份数", "", ("1", "")),
    )
    assert unclear_material_formats(table) == [("身份证明", ("份数",))]


def test_material_format_in_a_materials_list_is_read_from_each_line() -> None:
    listed = (
        Labelled("申请材料", "", ("申请书原件1份（纸质）", "身份证复印件一份，纸质或电子", "照片")),
    )
    assert unclear_material_formats(listed) == [("照片", ("原件/复印件", "纸质/电子", "份数"))]


def test_every_material_of_the_healthy_catalog_states_its_format() -> None:
    for item in ITEMS:
        rows = [(m.name, m.form, f"{m.copies}份", m.medium) for m in item.materials]
        columns = zip(*rows, strict=True)
        labels = ("材料名称", "材料类型", "份数", "材料形式")
        table = tuple(
            Labelled(label, "", tuple(cells)) for label, cells in zip(labels, columns, strict=True)
        )
        assert unclear_material_formats(table) == [], item.name


def test_phone_kinds() -> None:
    printed = "0871-63215071、(0871)63215110、63215071、12345、13812345678、400-812-3456"
    assert [(p.text, p.kind) for p in phones_in(printed)] == [
        ("0871-63215071", PhoneKind.LANDLINE),
        ("(0871)63215110", PhoneKind.LANDLINE),
        ("63215071", PhoneKind.LOCAL),
        ("12345", PhoneKind.HOTLINE),
        ("13812345678", PhoneKind.MOBILE),
        ("400-812-3456", PhoneKind.HOTLINE),
    ]


def test_phones_of_every_healthy_department_are_fine() -> None:
    for item in ITEMS:
        dept = department_by_code(item.department)
        assert dept is not None
        assert phone_problems(dept.consult_phone, f"{dept.complaint_phone} 12345") == []


def test_phone_without_area_code_is_named() -> None:
    assert phone_problems("63215071", "0871-63215110") == ["咨询电话“63215071”未标注区号"]


def test_contact_phone_equal_to_supervision_phone() -> None:
    problems = phone_problems("0871-63215071", "0871-63215071　12345政务服务便民热线")
    assert problems == ["咨询电话与监督投诉电话相同（0871-63215071）"]


def test_a_shared_12345_hotline_is_not_the_same_phone() -> None:
    assert phone_problems("0871-63215071 12345", "0871-63215110 12345") == []


def test_phone_field_without_a_number() -> None:
    assert phone_problems("详见窗口公示", "") == ["咨询电话“详见窗口公示”未标注电话号码"]


def test_time_limits_must_say_working_or_natural_days() -> None:
    entries = [
        Labelled("法定时限", "20日"),
        Labelled("承诺时限", "10天"),
        Labelled("办理时限", "10天"),  # the same wording in a step: said once
        Labelled("办理时限", "20个工作日"),
        Labelled("法定办结时限", "60个自然日"),
        Labelled("承诺时限", "即办"),
        Labelled("办理时限", "当场办结"),
        Labelled("法定时限", "无"),
    ]
    assert unclear_time_limits(entries) == [("法定时限", "20日"), ("承诺时限", "10天")]


def test_every_time_limit_of_the_healthy_catalog_is_clear() -> None:
    entries = [
        Labelled(label, limit)
        for item in ITEMS
        for label, limit in (("法定时限", item.legal_limit), ("承诺时限", item.promised_limit))
    ] + [Labelled("办理时限", step.time_limit) for item in ITEMS for step in item.process]
    assert unclear_time_limits(entries) == []


def test_forms_are_owed_when_a_material_is_a_form_to_fill_in() -> None:
    assert forms_required(["公司登记（备案）申请书", "公司章程"])
    assert forms_required(["出生医学证明首次签发登记表"])
    assert forms_required(["家庭经济状况核对授权书"])
    assert not forms_required(["营业执照", "环境影响报告书（表）", "设置医疗机构批准书"])


def test_download_kind_from_the_link_first_then_its_label() -> None:
    assert form_kind("公司登记（备案）申请书（示范文本）.pdf", "表格下载") is FormKind.SAMPLE
    assert form_kind("公司登记（备案）申请书.docx", "表格及样表下载") is FormKind.BLANK
    assert form_kind("下载", "样表下载") is FormKind.SAMPLE
    assert form_kind("点击下载", "空表下载") is FormKind.BLANK


def test_category_names_lose_their_item_counts() -> None:
    assert category_name("生育收养（3）") == "生育收养"
    assert category_name("省教育厅 (12项)") == "省教育厅"
    assert category_name("兵役") == "兵役"


def test_landing_on_the_platform() -> None:
    platform = "http://127.0.0.1:8001/"
    assert lands_on("http://127.0.0.1:8001/personal", platform)
    assert not lands_on("http://127.0.0.1:8002/", platform)
    assert not lands_on("http://127.0.0.2:8001/", platform)
    assert lands_on("https://zwfw.example.gov.cn/", "http://zwfw.example.gov.cn")
    assert lands_on("http://x.gov.cn/zwfw/index", "http://x.gov.cn/zwfw/")
    assert not lands_on("http://x.gov.cn/zwfwold/", "http://x.gov.cn/zwfw/")
    assert not lands_on("javascript:void(0)", platform)


def test_entry_candidates_skip_headlines_and_put_platform_links_first() -> None:
    platform = "http://127.0.0.1:8001/"
    links = [
        ("全省政务服务“好差评”工作推进会在示范市召开", "http://127.0.0.2/article/2"),
        ("网上办事", "http://127.0.0.2/zwfw/"),
        ("示范省政务服务网", "http://127.0.0.1:8001/"),
        ("政务服务", "http://127.0.0.1:8001/"),  # the same address again, in the menu
        ("要闻动态", "http://127.0.0.2/news"),
    ]
    assert entry_candidates(links, ["政务服务", "网上办事"], platform) == [
        ("政务服务", "http://127.0.0.1:8001/"),
        ("网上办事", "http://127.0.0.2/zwfw/"),
    ]


def test_verdict_of_a_guide_without_sample_form() -> None:
    guide = GuidePage(
        url="http://127.0.0.1:8001/item/gsslj",
        title="公司设立登记",
        entries=COMPLETE,
        downloads=(DownloadLink("公司登记（备案）申请书.docx", "http://x/b.docx", "表格下载"),),
    )
    verdict = judge_guide(guide, elements=FIRST_NINE, vague_patterns=())
    assert verdict.forms_missing == (FormKind.SAMPLE,)
    assert verdict.missing == () and verdict.phones == ()


def test_one_finding_per_problem_kind_naming_every_item() -> None:
    verdicts = [
        GuideVerdict("公司设立登记", "u1", absent=("设定依据",), forms_missing=tuple(FormKind)),
        GuideVerdict("排污许可证核发", "u2", absent=("收费标准", "办理地点")),
        GuideVerdict("教师资格认定", "u3"),
    ]
    missing, forms = guide_findings(verdicts)
    assert missing.code == "checklist.guide_elements_missing"
    assert missing.detail == "公司设立登记：缺失设定依据；排污许可证核发：缺失收费标准、办理地点"
    assert missing.subjects == ("公司设立登记", "排污许可证核发")
    assert forms.code == "checklist.form_download_missing"
    assert forms.detail == "公司设立登记：未提供表格下载及填写示范获取渠道"


def test_params_need_a_part_and_known_elements() -> None:
    with pytest.raises(ValidationError, match="at least one of"):
        ChecklistParams.model_validate({})
    with pytest.raises(ValidationError, match="unknown elements"):
        ChecklistParams.model_validate({"guides": {"items": ["/item/1"], "elements": ["依据"]}})
    with pytest.raises(ValidationError, match="regular expression"):
        ChecklistParams.model_validate({"columns": {"pages": ["/"], "item_pattern": "(/item"}})


def test_steps_with_a_time_limit_or_a_standard_are_not_bare() -> None:
    from probes.guide_detail import bare_steps

    detailed = [Labelled("办理流程", "", ("申请（即时）", "受理：窗口人员核对材料", "决定"))]
    assert bare_steps(detailed) == []
    assert bare_steps([Labelled("办事流程", "申请→受理→审核→办结")]) == [
        "申请",
        "受理",
        "审核",
        "办结",
    ]
    assert bare_steps([Labelled("办理流程", "申请")]) == []  # one step proves nothing


def test_a_place_needs_a_window_room_or_street_and_a_charge_its_basis() -> None:
    from probes.guide_detail import fees_without_basis, vague_locations

    places = [Labelled("办理地点", "示范市民中心"), Labelled("受理地点", "北京路18号3楼")]
    assert vague_locations(places) == ["示范市民中心"]
    assert vague_locations(places, pattern="民中心|路") == []
    assert fees_without_basis([Labelled("收费标准", "不收费")]) == []
    assert fees_without_basis([Labelled("收费标准", "10元/本")]) == ["10元/本"]
    with_basis = [Labelled("收费标准", "10元/本"), Labelled("收费依据", "《价格法》")]
    assert fees_without_basis(with_basis) == []


def test_a_material_source_in_a_column_the_reader_does_not_know_is_read_by_its_words() -> None:
    from probes.guide_detail import materials_without_source

    names = Labelled("材料名称", "", ("营业执照", "身份证"))
    issuer = Labelled("发证单位", "", ("市场监督管理局", ""))
    assert materials_without_source([names, issuer]) == ["身份证"]
    assert materials_without_source([names, Labelled("来源渠道", "", ("", "公安机关"))]) == [
        "营业执照"
    ]


def test_an_empty_element_is_told_apart_from_an_absent_one() -> None:
    from probes.guide_rules import Presence, element_presence

    entries = [Labelled("中介服务", "无"), Labelled("事项编码", "暂无")]
    presence = element_presence(entries, ("中介服务", "事项编码", "受理时间"))
    assert presence == {
        "中介服务": Presence.PUBLISHED,  # 无 is an answer for 中介服务
        "事项编码": Presence.EMPTY,
        "受理时间": Presence.ABSENT,
    }


def test_a_bad_element_dictionary_names_its_file_and_unknown_elements_their_key(
    tmp_path: Path,
) -> None:
    from config.guide_elements import load_guide_elements

    broken = tmp_path / "elements.yaml"
    broken.write_text("elements:\n  - {name: 事项编码}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"(?s)elements\.yaml.*labels"):
        load_guide_elements(broken)
    with pytest.raises(ValidationError, match=r"(?s)权力来源.*element_labels"):
        ChecklistParams.model_validate({"guides": {"items": ["/x"], "elements": ["权力来源"]}})
