"""The service catalog of 示范省政务服务网: departments, themes and service items.

This is the one module pages and faults look things up in; the item data itself lives in
`catalog_personal` and `catalog_legal`. The catalog checks itself at import so a typo in
the data fails loudly instead of rendering an empty column.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sandbox.catalog_legal import LEGAL_ITEMS
from sandbox.catalog_personal import PERSONAL_ITEMS
from sandbox.guide import Audience, Department, Material, ProcessStep, ServiceItem

__all__ = [
    "DEPARTMENTS",
    "HOT_ITEM_IDS",
    "ITEMS",
    "ITEM_NAMES",
    "LEGAL_THEMES",
    "PERSONAL_THEMES",
    "Audience",
    "Department",
    "Material",
    "ProcessStep",
    "ServiceItem",
    "department_by_code",
    "item_by_id",
    "items_of_department",
    "items_of_theme",
    "themes_of",
]

_CENTRE = "示范省政务服务中心（示范市呈贡区彩云北路1号）"

DEPARTMENTS: tuple[Department, ...] = (
    Department(
        "scjg",
        "省市场监督管理局",
        f"{_CENTRE}二楼A区市场监管窗口",
        "0871-63215071",
        "0871-63215110",
    ),
    Department(
        "sthj", "省生态环境厅", f"{_CENTRE}三楼B区生态环境窗口", "0871-64139020", "0871-64139121"
    ),
    Department("jyt", "省教育厅", f"{_CENTRE}三楼A区教育窗口", "0871-65141357", "0871-65141200"),
    Department(
        "wsjk",
        "省卫生健康委员会",
        f"{_CENTRE}二楼C区卫生健康窗口",
        "0871-67195132",
        "0871-67195100",
    ),
    Department(
        "gat", "省公安厅", f"{_CENTRE}一楼B区公安综合窗口", "0871-63053110", "0871-63053009"
    ),
    Department(
        "rst",
        "省人力资源和社会保障厅",
        f"{_CENTRE}一楼A区人社窗口",
        "0871-63122333",
        "0871-63122001",
    ),
    Department(
        "zjt", "省住房和城乡建设厅", f"{_CENTRE}三楼C区住建窗口", "0871-64322541", "0871-64322500"
    ),
    Department(
        "jtt", "省交通运输厅", f"{_CENTRE}三楼D区交通运输窗口", "0871-63305617", "0871-63305600"
    ),
    Department(
        "zrzy", "省自然资源厅", f"{_CENTRE}四楼A区自然资源窗口", "0871-63616058", "0871-63616001"
    ),
    Department("slt", "省水利厅", f"{_CENTRE}四楼B区水利窗口", "0871-63211784", "0871-63211700"),
    Department("czt", "省财政厅", f"{_CENTRE}四楼C区财政窗口", "0871-63959312", "0871-63959300"),
    Department("mzt", "省民政厅", f"{_CENTRE}一楼C区民政窗口", "0871-65733068", "0871-65733000"),
    Department(
        "yjj", "省药品监督管理局", f"{_CENTRE}二楼B区药品监管窗口", "0871-68256173", "0871-68256100"
    ),
    Department(
        "ybj", "省医疗保障局", f"{_CENTRE}一楼D区医保窗口", "0871-63390215", "0871-63390200"
    ),
    Department(
        "gjj",
        "省住房公积金管理中心",
        f"{_CENTRE}一楼E区公积金窗口",
        "0871-63196822",
        "0871-63196800",
    ),
)

# Column order as the portal shows it (个人办事 / 法人办事 主题).
PERSONAL_THEMES: tuple[str, ...] = (
    "户籍管理",
    "婚姻家庭",
    "生育收养",
    "教育培训",
    "就业创业",
    "社保救助",
    "医疗卫生",
    "住房保障",
    "交通出行",
    "出境入境",
    "职业资格",
)
LEGAL_THEMES: tuple[str, ...] = (
    "开办设立",
    "准营准办",
    "质量监督",
    "环境保护",
    "建设管理",
    "资质认证",
    "交通运输",
    "财务税务",
    "自然资源",
    "水利水务",
    "人力资源",
    "医疗卫生",
    "教育科研",
    "社会组织",
)

ITEMS: tuple[ServiceItem, ...] = PERSONAL_ITEMS + LEGAL_ITEMS
ITEM_NAMES: frozenset[str] = frozenset(item.name for item in ITEMS)

# 热门事项 on the home page.
HOT_ITEM_IDS: tuple[str, ...] = (
    "zfgjjtq",
    "sfzhl",
    "jszhz",
    "hzqf",
    "gsslj",
    "gtgshdj",
    "sybxj",
    "jszgrd",
)

_ITEMS_BY_ID: Mapping[str, ServiceItem] = MappingProxyType({item.id: item for item in ITEMS})
_DEPARTMENTS_BY_CODE: Mapping[str, Department] = MappingProxyType(
    {dept.code: dept for dept in DEPARTMENTS}
)


def item_by_id(item_id: str) -> ServiceItem | None:
    """The item with this id, or None."""
    return _ITEMS_BY_ID.get(item_id)


def department_by_code(code: str) -> Department | None:
    """The department with this code, or None."""
    return _DEPARTMENTS_BY_CODE.get(code)


def themes_of(audience: Audience) -> tuple[str, ...]:
    """The theme columns shown for 个人办事 or 法人办事."""
    return PERSONAL_THEMES if audience is Audience.PERSONAL else LEGAL_THEMES


def items_of_theme(audience: Audience, theme: str) -> tuple[ServiceItem, ...]:
    """Items listed under one theme of one audience, in catalog order."""
    if audience is Audience.PERSONAL:
        return tuple(item for item in ITEMS if item.personal_theme == theme)
    return tuple(item for item in ITEMS if item.legal_theme == theme)


def items_of_department(code: str) -> tuple[ServiceItem, ...]:
    """Items a department implements (实施主体), in catalog order."""
    return tuple(item for item in ITEMS if item.department == code)


def _check_catalog() -> None:
    """Fail at import when the data contradicts itself."""
    ids = [item.id for item in ITEMS]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise ValueError(f"duplicate item ids: {sorted(duplicates)}")
    if len(ITEM_NAMES) != len(ITEMS):
        raise ValueError("duplicate item names in the catalog")
    for item in ITEMS:
        if item.department not in _DEPARTMENTS_BY_CODE:
            raise ValueError(f"item {item.id}: unknown department {item.department!r}")
        if not item.audiences:
            raise ValueError(f"item {item.id}: no personal or legal theme")
        if item.personal_theme and item.personal_theme not in PERSONAL_THEMES:
            raise ValueError(f"item {item.id}: unknown personal theme {item.personal_theme!r}")
        if item.legal_theme and item.legal_theme not in LEGAL_THEMES:
            raise ValueError(f"item {item.id}: unknown legal theme {item.legal_theme!r}")
    for audience in Audience:
        for theme in themes_of(audience):
            if not items_of_theme(audience, theme):
                raise ValueError(f"{audience.value} theme {theme!r} has no items")
    for hot in HOT_ITEM_IDS:
        if hot not in _ITEMS_BY_ID:
            raise ValueError(f"hot item {hot!r} is not in the catalog")


_check_catalog()
