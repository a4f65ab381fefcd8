"""The 办事指南 element dictionary: which elements a guide must publish, under which labels.

The default ships as ``config/guide_elements.yaml``; a checklist check narrows the
required set (``params.guides.elements``) and adds elements or labels of its own
(``params.guides.element_labels``), so a province can add or drop elements.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_PATH = Path(__file__).with_name("guide_elements.yaml")


class GuideElement(BaseModel):
    """A 办事指南 element and the labels portals print it under."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    labels: tuple[str, ...] = Field(min_length=1)
    # “无” is a real answer for some elements (收费标准：无 means free of charge).
    none_is_missing: bool = True


class ElementLabels(BaseModel):
    """A check's addition to the dictionary: a new element, or more labels for a known one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[str] = Field(min_length=1)
    none_is_missing: bool | None = None  # None: the known element's own setting (else true)


class _Dictionary(BaseModel):
    model_config = ConfigDict(extra="forbid")

    elements: list[GuideElement] = Field(min_length=1)


ElementDictionary = Mapping[str, GuideElement]  # name → element, in the file's order


def load_guide_elements(path: Path) -> dict[str, GuideElement]:
    """The element dictionary in ``path``; ValueError naming the file and the field."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        parsed = _Dictionary.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ValueError(f"{path}: not a valid guide element dictionary: {exc}") from exc
    names = [element.name for element in parsed.elements]
    if len(set(names)) != len(names):
        raise ValueError(f"{path}: an element is listed twice in {names}")
    return {element.name: element for element in parsed.elements}


@cache
def default_guide_elements() -> dict[str, GuideElement]:
    """The dictionary shipped with govpatrol (``config/guide_elements.yaml``)."""
    return load_guide_elements(DEFAULT_PATH)


def with_additions(
    base: ElementDictionary, additions: Mapping[str, ElementLabels]
) -> dict[str, GuideElement]:
    """``base`` with a check's elements added and its labels appended to known ones."""
    merged = dict(base)
    for name, extra in additions.items():
        known = merged.get(name)
        if known is None:
            merged[name] = GuideElement(
                name=name,
                labels=tuple(extra.labels),
                none_is_missing=True if extra.none_is_missing is None else extra.none_is_missing,
            )
            continue
        labels = tuple(dict.fromkeys((*known.labels, *extra.labels)))
        missing_rule = (
            known.none_is_missing if extra.none_is_missing is None else extra.none_is_missing
        )
        merged[name] = GuideElement(name=name, labels=labels, none_is_missing=missing_rule)
    return merged
