"""The 办事指南 model: service items (事项), their materials, steps and departments.

Records are frozen so the catalog can be shared by every request thread. Helpers at the
bottom keep the catalog data modules short while producing complete guides.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

OFFICE_HOURS = "工作日 上午9:00—12:00，下午13:00—17:00（法定节假日除外）"


class Audience(enum.StrEnum):
    """服务对象 of an item."""

    PERSONAL = "个人"
    LEGAL = "法人"


@dataclass(frozen=True, slots=True)
class Department:
    """A provincial department (实施主体) with its service window and phones."""

    code: str
    name: str
    window: str
    consult_phone: str
    complaint_phone: str


@dataclass(frozen=True, slots=True)
class Material:
    """One 申请材料 row: what, issued by whom, in which form, how many copies."""

    name: str
    source: str = "申请人自备"
    form: str = "原件"
    copies: int | None = 1  # None: the guide does not say (a fault)
    medium: str = "纸质"
    note: str = ""


@dataclass(frozen=True, slots=True)
class ProcessStep:
    """One 办理环节 with what happens in it and how long it may take."""

    name: str
    description: str
    time_limit: str


@dataclass(frozen=True, slots=True)
class ServiceItem:
    """A 政务服务事项 with every element its 办事指南 publishes.

    An item serves 个人 when `personal_theme` is set and 法人 when `legal_theme` is set;
    the theme decides under which column (主题) it is listed.
    """

    id: str
    name: str
    department: str
    kind: str
    basis: tuple[str, ...]
    conditions: tuple[str, ...]
    materials: tuple[Material, ...]
    legal_limit: str
    promised_limit: str
    result: str
    personal_theme: str = ""
    legal_theme: str = ""
    fee: str = "不收费"
    visits: int = 0
    location: str = ""
    form_title: str = ""
    aliases: tuple[str, ...] = ()
    steps: tuple[ProcessStep, ...] = ()
    intermediary: str = "无"  # 中介服务
    hours: str = OFFICE_HOURS  # 受理时间

    @property
    def code(self) -> str:
        """事项编码 as printed on guide pages."""
        return self.id

    @property
    def audiences(self) -> tuple[Audience, ...]:
        """Audiences in display order (个人 before 法人)."""
        found: list[Audience] = []
        if self.personal_theme:
            found.append(Audience.PERSONAL)
        if self.legal_theme:
            found.append(Audience.LEGAL)
        return tuple(found)

    @property
    def audience_label(self) -> str:
        """服务对象 as printed on guide pages, e.g. "个人、法人"."""
        return "、".join(a.value for a in self.audiences)

    @property
    def handling_type(self) -> str:
        """办件类型: 即办件 when decided on the spot, otherwise 承诺件."""
        return "即办件" if self.promised_limit == "即办" else "承诺件"

    @property
    def visits_label(self) -> str:
        """到办事现场次数 as printed on guide pages."""
        if self.visits == 0:
            return "0次（全程网办）"
        return f"{self.visits}次"

    @property
    def blank_form_name(self) -> str:
        """File name of the blank form (表格下载)."""
        return f"{self.form_title or self.name + '申请表'}.docx"

    @property
    def sample_form_name(self) -> str:
        """File name of the filled-in sample (示范文本)."""
        return f"{self.form_title or self.name + '申请表'}（示范文本）.pdf"

    @property
    def process(self) -> tuple[ProcessStep, ...]:
        """办理流程: the item's own steps, or the standard four for its time limit."""
        return self.steps or standard_steps(self.promised_limit, self.result)


def working_days(days: int) -> str:
    """A time limit counted in working days, as guides must state it."""
    return f"{days}个工作日"


def standard_steps(promised_limit: str, result: str) -> tuple[ProcessStep, ...]:
    """The usual 申请—受理—审查—决定 process, with the result delivered at the end."""
    if promised_limit == "即办":
        return (
            ProcessStep(
                "申请",
                "申请人通过示范省政务服务网在线提交申请，或携带申请材料到窗口申请。",
                "即时",
            ),
            ProcessStep(
                "受理与办结",
                "窗口工作人员当场核验材料，材料齐全、符合法定形式的当场受理并当场办结；"
                "材料不齐全的，一次性告知需要补正的全部内容。",
                "即办",
            ),
            ProcessStep("领取结果", f"申请人当场领取{result}，或选择免费邮寄送达。", "即时"),
        )
    return (
        ProcessStep(
            "申请",
            "申请人通过示范省政务服务网在线提交申请，或携带申请材料到窗口申请。",
            "即时",
        ),
        ProcessStep(
            "受理",
            "窗口工作人员核对申请材料，材料齐全、符合法定形式的当场受理并出具受理通知书；"
            "材料不齐全的，当场一次性告知需要补正的全部内容；不予受理的出具不予受理通知书"
            "并说明理由。",
            working_days(1),
        ),
        ProcessStep(
            "审查",
            "承办处室对申请材料进行审查，必要时组织现场核查或专家评审，"
            "审查标准为本指南所列受理条件和设定依据。",
            promised_limit,
        ),
        ProcessStep(
            "决定",
            f"符合条件的作出准予决定并制发{result}；不符合条件的作出不予批准决定，"
            "书面说明理由并告知申请人享有依法申请行政复议或者提起行政诉讼的权利。",
            working_days(1),
        ),
        ProcessStep(
            "送达",
            f"申请人可选择窗口领取或免费邮寄送达{result}；电子证照同步推送至申请人账户。",
            working_days(1),
        ),
    )


def copy_of(name: str, source: str = "申请人自备", copies: int = 1) -> Material:
    """A photocopy material, the most common row in a guide."""
    return Material(name, source=source, form="复印件", copies=copies)


def original(name: str, source: str = "申请人自备", copies: int = 1) -> Material:
    """An original paper material."""
    return Material(name, source=source, form="原件", copies=copies)


def shown(name: str, source: str) -> Material:
    """An original that is shown at the window and handed back (核验后退回)."""
    return Material(
        name, source=source, form="原件和复印件", copies=1, medium="纸质", note="原件核验后退回"
    )


def application(title: str) -> Material:
    """The signed application form, paper or electronic."""
    return Material(
        title,
        source="申请人自备（可在本页“表格下载”获取）",
        form="原件",
        copies=1,
        medium="纸质和电子",
        note="申请人签字（盖章）",
    )
