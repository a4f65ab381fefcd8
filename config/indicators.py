"""The indicator map: which runs speak for which indicator of an evaluation system.

A map is a YAML file with a tree of indicators (一级 → 二级 → 三级), each with a weight
among its siblings. A leaf names the probe kinds whose runs it is judged on (``probes``),
the finding codes (exact, or a prefix ending in ``.``) that count against it
(``findings``) and optionally numeric run metrics with a limit (``metrics``). The
default map, ``indicators_2021.yaml``, follows the 2021 national indicator system of
seed 000 (A–E weighted 25/25/20/15/15); a catalog may point to a province's own map with
``indicator_map: path/to/map.yaml`` (relative to the catalog file).

Every problem in a map is reported with the map file, the line and the YAML path
(``indicators[2].children[0].probes[1]``).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterator
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_MAP = Path(__file__).with_name("indicators_2021.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricLimit(_Strict):
    """A run counts against the indicator when this numeric metric is above ``above``."""

    path: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
    above: float

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


class Indicator(_Strict):
    """One indicator; a leaf says which runs judge it, a branch holds its children."""

    code: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1)
    weight: float = Field(default=1.0, gt=0)  # among its siblings
    children: tuple[Indicator, ...] = ()
    probes: tuple[str, ...] = ()  # probe kinds whose judged runs count
    findings: tuple[str, ...] = ()  # finding codes (or prefixes ending in ".") against it
    metrics: tuple[MetricLimit, ...] = ()

    @model_validator(mode="after")
    def _leaf_or_branch(self) -> Indicator:
        if self.children and (self.probes or self.findings or self.metrics):
            raise ValueError(
                "an indicator has either `children` or `probes`/`findings`/`metrics`, not both"
            )
        if not self.children:
            if not self.probes:
                raise ValueError("a leaf indicator needs `probes`: the probe kinds judging it")
            if not self.findings and not self.metrics:
                raise ValueError("a leaf indicator needs `findings` or `metrics` against it")
        return self

    @property
    def leaf(self) -> bool:
        return not self.children

    def matches(self, finding_code: str) -> bool:
        """Whether a finding with this code counts against this (leaf) indicator."""
        return any(
            finding_code.startswith(code) if code.endswith(".") else finding_code == code
            for code in self.findings
        )


class IndicatorMap(_Strict):
    name: str = Field(min_length=1)  # the evaluation system's name, as pages show it
    indicators: tuple[Indicator, ...]

    @model_validator(mode="after")
    def _unique_codes(self) -> IndicatorMap:
        # Checked here, not with ``min_length``: a child's error would make that say 0 too.
        if not self.indicators:
            raise ValueError("give at least one indicator")
        seen: set[str] = set()
        for indicator in self.walk():
            if indicator.code in seen:
                raise ValueError(f"duplicate indicator code {indicator.code!r}")
            seen.add(indicator.code)
        return self

    def walk(self) -> Iterator[Indicator]:
        """Every indicator, parents before their children, in file order."""

        def down(nodes: tuple[Indicator, ...]) -> Iterator[Indicator]:
            for node in nodes:
                yield node
                yield from down(node.children)

        return down(self.indicators)

    def leaves(self) -> list[Indicator]:
        return [indicator for indicator in self.walk() if indicator.leaf]


def load_indicator_map(
    path: Path, probe_kinds: Collection[str] | None = None
) -> tuple[IndicatorMap | None, list[tuple[tuple[str | int, ...], str, int | None]]]:
    """The map in ``path``, or None with every problem as (YAML path, message, line).

    With ``probe_kinds``, a leaf naming an unknown probe kind is a problem too.
    """
    from config.loader import _line_index, _loc, _message, _nearest_line, _read_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [((), "indicator map file not found", None)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [((), f"cannot read indicator map: {exc}", None)]
    try:
        root, data = _read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [((), f"invalid YAML: {reason}", mark.line + 1 if mark else None)]
    lines = _line_index(root)
    try:
        found = IndicatorMap.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = _loc(err["loc"])
            problems.append((where, _message(err), _nearest_line(lines, where)))
        return None, problems
    problems = []
    if probe_kinds is not None:
        for where, indicator in _places(found.indicators, ("indicators",)):
            for k, kind in enumerate(indicator.probes):
                if kind not in probe_kinds:
                    at = (*where, "probes", k)
                    known = ", ".join(sorted(probe_kinds))
                    message = f"unknown probe {kind!r} (known: {known})"
                    problems.append((at, message, _nearest_line(lines, at)))
    return (None, problems) if problems else (found, [])


def _places(
    nodes: tuple[Indicator, ...], where: tuple[str | int, ...]
) -> Iterator[tuple[tuple[str | int, ...], Indicator]]:
    for i, node in enumerate(nodes):
        yield (*where, i), node
        yield from _places(node.children, (*where, i, "children"))


@functools.cache
def default_indicator_map() -> IndicatorMap:
    """The map shipped with the product (seed 000's 2021 national system)."""
    found, problems = load_indicator_map(DEFAULT_MAP)
    if found is None:  # a packaging fault, not an operator's: say where
        raise RuntimeError(f"{DEFAULT_MAP}: {problems}")
    return found
