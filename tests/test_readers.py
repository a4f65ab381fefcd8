"""The tolerant readers, on the wordings of portals the probes had never seen (issue 14)."""

from __future__ import annotations

import re

import pytest

from probes.guide_rules import Labelled, phone_problems, unclear_material_formats
from probes.guide_rules import unclear_time_limits as unclear_limits
from probes.readers import (
    PhoneKind,
    ReceiptCodes,
    is_busy_refusal,
    is_query_entry,
    phones_in,
    quoted_message,
    read_greeting,
    read_number_rejection,
    read_number_rejection_in_answer,
    read_receipt,
    time_limit_is_clear,
    unsaid_format_aspects,
)


@pytest.mark.parametrize(
    ("printed", "codes"),
    [
        (
            "提交成功！您的信件查询码为：YL202612030123，请妥善保存。",
            ReceiptCodes("", "YL202612030123"),
        ),
        ("信件编号\tZX20260928001\n查询码\tAB3K9", ReceiptCodes("ZX20260928001", "AB3K9")),
        ("您的查询码是 Q8812，请牢记", ReceiptCodes("", "Q8812")),
        ("受理编号：SL-2026-0001　查询密码：８８３１２", ReceiptCodes("SL-2026-0001", "88312")),
        ("信件编号为【XJ2026120301】", ReceiptCodes("XJ2026120301", "")),
        (
            "凭信件编号和查询码查询办理结果。信件编号 ZX1234 查询码 K7P2Q",
            ReceiptCodes("ZX1234", "K7P2Q"),
        ),
        ("提交成功，我们将尽快答复。", ReceiptCodes("", "")),
    ],
)
def test_receipt_codes_are_read_in_the_wordings_portals_use(
    printed: str, codes: ReceiptCodes
) -> None:
    assert read_receipt(printed) == codes


def test_a_configured_receipt_pattern_reads_what_the_labels_do_not() -> None:
    printed = "感谢您的来信！请记住您的凭证号 PZ-88-01 以便查询。"
    assert not read_receipt(printed).found
    read = read_receipt(printed, code_pattern=r"凭证号\s*([A-Z0-9-]+)")
    assert read == ReceiptCodes("", "PZ-88-01")


@pytest.mark.parametrize(
    "label", ["咨询回复查询", "办理结果查询", "信件查询", "咨询查询", "我的咨询", "留言查询"]
)
def test_query_entries_in_their_common_names(label: str) -> None:
    assert is_query_entry(f"  {label} ")


def test_a_plain_search_link_is_no_query_entry_unless_configured() -> None:
    assert not is_query_entry("站内搜索")
    assert is_query_entry("查看进展", pattern="查看进展")


@pytest.mark.parametrize(
    "printed", ["0871-12345", "12345", "（0871）12315", "0871 12366", "12369环保举报热线"]
)
def test_government_hotlines_with_or_without_area_code_are_phones(printed: str) -> None:
    (phone,) = phones_in(printed)
    assert phone.kind is PhoneKind.HOTLINE


def test_hotline_with_area_code_is_not_called_a_missing_phone() -> None:
    assert phone_problems("0871-63215071", "0871-12345") == []


def test_a_landline_is_still_told_from_a_hotline() -> None:
    kinds = [p.kind for p in phones_in("0871-12345678；12345678；0871-12345")]
    assert kinds == [PhoneKind.LANDLINE, PhoneKind.LOCAL, PhoneKind.HOTLINE]


def test_copy_or_original_states_paper() -> None:
    assert unsaid_format_aspects("身份证明 复印件 1份") == ()
    assert unsaid_format_aspects("身份证明 原件") == ("份数",)
    assert unsaid_format_aspects("营业执照 扫描件 1份") == ("原件/复印件",)
    entries = [
        Labelled("材料名称", "", ("身份证明", "营业执照")),
        Labelled("材料形式", "", ("复印件", "复印件")),
        Labelled("份数", "", ("1份", "1份")),
    ]
    assert unclear_material_formats(entries) == []


@pytest.mark.parametrize(
    ("limit", "clear"),
    [
        ("20个工作日", True),
        ("30个自然日", True),
        ("2小时", True),
        ("即办件", True),
        ("3个月", True),
        ("20日", False),
        ("10天", False),
    ],
)
def test_time_limits_say_which_days(limit: str, clear: bool) -> None:
    assert time_limit_is_clear(limit) is clear
    assert (unclear_limits([Labelled("承诺时限", limit)]) == []) is clear


@pytest.mark.parametrize(
    ("header", "signed_in", "name"),
    [
        ("您好，张三 | 个人中心 | 退出", True, "张三"),
        ("李四，您好！ 安全退出", True, "李四"),
        ("欢迎您：王五", True, "王五"),
        ("欢迎访问示范省政务服务网 登录 / 注册", False, ""),
        ("您好，请登录", False, ""),
    ],
)
def test_greetings_tell_the_signed_in_state_without_a_configured_name(
    header: str, signed_in: bool, name: str
) -> None:
    greeting = read_greeting(header)
    assert (greeting.signed_in, greeting.name) == (signed_in, name)


def test_a_configured_user_text_decides_alone() -> None:
    assert read_greeting("您好，张三 退出", expected="测试用户").signed_in is False
    assert read_greeting("测试用户 退出", expected="测试用户").signed_in is True


def test_catalog_patterns_teach_the_guide_rules_a_portals_own_words() -> None:
    # A province-wide line printed without area code, 时限 in 工作时, materials 纸本.
    assert phone_problems("0871-63215071", "66668888") == ["监督投诉电话“66668888”未标注区号"]
    assert phone_problems("0871-63215071", "66668888", hotline_pattern="66668888") == []
    limit = [Labelled("承诺时限", "16工作时")]
    assert unclear_limits(limit) == [("承诺时限", "16工作时")]
    assert unclear_limits(limit, clear_pattern="工作时") == []
    rows = [Labelled("材料名称", "", ("身份证明",)), Labelled("要求", "", ("原件纸本1份",))]
    assert unclear_material_formats(rows) == []
    rows = [Labelled("材料名称", "", ("身份证明",)), Labelled("要求", "", ("正本纸本1份",))]
    assert unclear_material_formats(rows) == [("身份证明", ("纸质/电子",))]
    assert unclear_material_formats(rows, {"纸质/电子": "纸本|纸质|电子"}) == []


def test_unknown_material_aspect_in_the_catalog_is_refused() -> None:
    from pydantic import ValidationError

    from probes.checklist import GuideParams

    with pytest.raises(ValidationError, match="unknown aspect"):
        GuideParams.model_validate({"items": ["/item/1"], "material_format_patterns": {"x": "y"}})


@pytest.mark.parametrize(
    ("said", "quote"),
    [
        ("手机号码格式不正确", "手机号码格式不正确"),
        ("手机号格式不对", "手机号格式不对"),
        ("暂不支持该号段，请更换手机号码", "暂不支持该号段"),
        ("该号码无效，无法发送验证码", "该号码无效"),
        ("请输入正确的手机号码！", "请输入正确的手机号码"),
        ("Invalid mobile number", "Invalid mobile number"),
        ("虚拟运营商号段不支持注册。", "虚拟运营商号段不支持注册"),
        # A whole form line: only the part that refuses is quoted.
        ("手机号码 17012345678 获取验证码 手机号码有误", "手机号码有误"),
    ],
)
def test_a_refusal_of_the_number_is_read_and_quoted_short(said: str, quote: str) -> None:
    assert read_number_rejection(said) == quote


@pytest.mark.parametrize(
    "said",
    [
        "短信发送失败，请稍后再试",
        "手机验证码错误",
        "图形验证码不正确",
        "操作过于频繁，请稍后再试",
        "验证码已发送，请注意查收",
        "该手机号已注册，请直接登录",
        "该手机号不存在，可以注册",  # an availability check: free to use
    ],
)
def test_other_refusals_are_not_a_rejection_of_the_number(said: str) -> None:
    assert read_number_rejection(said) == ""


def test_a_configured_pattern_replaces_the_rejection_words() -> None:
    said = "该号暂不能办理业务"
    assert read_number_rejection(said) == ""
    assert read_number_rejection(said, r"(该号暂不能办理\w*)") == "该号暂不能办理业务"
    assert read_number_rejection("手机号码格式不正确", r"该号暂不能办理") == ""


@pytest.mark.parametrize(
    ("said", "busy"),
    [
        ("操作过于频繁，请稍后再试", True),
        ("系统繁忙，请稍后再试", True),
        ("获取次数过多，请1分钟后重试", True),
        ("短信发送失败，请稍后再试", False),
        ("验证码下发失败，请稍候重试", False),
    ],
)
def test_not_now_refusals_are_told_from_failures(said: str, busy: bool) -> None:
    assert is_busy_refusal(said) is busy


def test_a_json_answer_refusing_the_number_is_read_unless_it_says_ok() -> None:
    assert read_number_rejection_in_answer(
        {"ok": False, "msg": "该手机号码不正确，请重新输入"}
    ) == ("该手机号码不正确")
    nested = {"code": 1004, "data": {"errMsg": "暂不支持该号段"}}
    assert read_number_rejection_in_answer(nested) == "暂不支持该号段"
    assert read_number_rejection_in_answer({"ok": True, "msg": "请输入正确的手机号码"}) == ""
    assert read_number_rejection_in_answer({"ok": True, "msg": ""}) == ""
    hint = {"code": 0, "msg": "成功", "tip": "请输入正确的手机号码"}
    assert read_number_rejection_in_answer(hint) == ""
    assert read_number_rejection_in_answer({"status": "error", "message": "该号码无效"}) == (
        "该号码无效"
    )
    assert read_number_rejection_in_answer(["无关", 3]) == ""


TROUBLE = re.compile(r"失败|繁忙|异常|错误|出错|不能为空|请填写|请选择|有误")


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        # A form row: label, the text of its select, its hint — one line of page text.
        ("* 所属部门 请选择部门 省市场监督管理局 所属部门不能为空", "所属部门不能为空"),
        ("*联系电话 13800000000 联系电话格式有误。", "联系电话格式有误"),
        # A dialog: its heading, the message, its button.
        ("提示\n系统繁忙，信件提交失败，请稍后重试\n确定", "系统繁忙，信件提交失败，请稍后重试"),
        ("提交失败： 标题不能为空", "提交失败：标题不能为空"),
        ("您的信件提交失败。请稍后再试。", "您的信件提交失败"),
        ("无法识别的提示", "无法识别的提示"),
    ],
)
def test_a_quoted_message_is_the_sentence_not_the_form_line(text: str, quoted: str) -> None:
    assert quoted_message(text, TROUBLE) == quoted
