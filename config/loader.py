"""Read a catalog file and report every problem with its place.

Each problem names the file, the line and the YAML path (``targets[2].checks[0].schedule``)
so an operator can go straight to it. Loading never stops at the first problem it can
recover from: structure, cross-references, secrets and probe parameters are all checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from config.catalog import DEFAULT_LOCATION, Catalog
from config.indicators import load_indicator_map
from config.secrets import MissingSecretError, resolve_references

PathPart = str | int
ParamsValidator = Callable[[Mapping[str, Any]], object]


@dataclass(frozen=True)
class Problem:
    file: str
    path: tuple[PathPart, ...]
    message: str
    line: int | None = None

    @property
    def yaml_path(self) -> str:
        text = ""
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "(file)"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.yaml_path}: {self.message}"


class CatalogError(Exception):
    """The catalog cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def load_catalog(
    path: Path,
    *,
    probe_params: Mapping[str, type[BaseModel]] | None = None,
    environ: Mapping[str, str] | None = None,
    secrets_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Catalog:
    """Load and validate ``path``; raise :class:`CatalogError` listing every problem.

    ``probe_params`` maps each known probe kind to the model of its ``params``; when given,
    unknown probe kinds and bad parameters are reported too; ``progress`` is told how many
    checks and notification URLs are validated so far, of how many.
    """
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError([Problem(name, (), "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogError([Problem(name, (), f"cannot read file: {exc}")]) from None
    return parse_catalog(
        text,
        name,
        probe_params=probe_params,
        environ=environ,
        secrets_dir=secrets_dir,
        progress=progress,
    )


def parse_catalog(
    text: str,
    name: str = "<catalog>",
    *,
    probe_params: Mapping[str, type[BaseModel]] | None = None,
    environ: Mapping[str, str] | None = None,
    secrets_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Catalog:
    try:
        root, data = _read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise CatalogError([Problem(name, (), f"invalid YAML: {reason}", line)]) from None
    lines = _line_index(root)

    def problem(path: tuple[PathPart, ...], message: str) -> Problem:
        return Problem(name, path, message, _nearest_line(lines, path))

    if not isinstance(data, dict):
        raise CatalogError(
            [problem((), "the catalog must be a mapping with `units` and `targets`")]
        )

    problems: list[Problem] = []
    data = _resolve_secrets(data, (), environ, secrets_dir, problems, problem)
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        problems.extend(problem(_loc(err["loc"]), _message(err)) for err in exc.errors())
        raise CatalogError(problems) from None
    tick = _Counter(catalog, probe_params is not None, progress)
    problems.extend(problem(p, m) for p, m in _cross_references(catalog, tick))
    if probe_params is not None:
        problems.extend(problem(p, m) for p, m in _probe_parameters(catalog, probe_params, tick))
    if catalog.indicator_map is not None:
        problems.extend(_indicator_map(catalog, Path(name).parent, probe_params, problem))
    if problems:
        raise CatalogError(problems)
    return catalog


def _indicator_map(
    catalog: Catalog,
    base: Path,
    probe_params: Mapping[str, type[BaseModel]] | None,
    problem: Callable[[tuple[PathPart, ...], str], Problem],
) -> list[Problem]:
    """Load the catalog's own indicator map; its problems name the map file's YAML paths."""
    assert catalog.indicator_map is not None
    path = base / catalog.indicator_map
    found, problems = load_indicator_map(path, probe_params)
    if found is not None:
        catalog.use_indicators(found)
        return []
    if problems and problems[0][0] == () and problems[0][2] is None:
        return [problem(("indicator_map",), f"{path}: {problems[0][1]}")]
    return [Problem(str(path), where, message, line) for where, message, line in problems]


# libyaml when PyYAML has it: a catalog of thousands of targets parses in a second.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data, from one parse."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return root, data


def _resolve_secrets(
    value: Any,
    path: tuple[PathPart, ...],
    environ: Mapping[str, str] | None,
    secrets_dir: Path | None,
    problems: list[Problem],
    problem: Callable[[tuple[PathPart, ...], str], Problem],
) -> Any:
    if isinstance(value, str):
        try:
            return resolve_references(value, environ, secrets_dir)
        except MissingSecretError as exc:
            problems.append(problem(path, str(exc)))
            return value
    if isinstance(value, dict):
        return {
            k: _resolve_secrets(v, (*path, k), environ, secrets_dir, problems, problem)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve_secrets(v, (*path, i), environ, secrets_dir, problems, problem)
            for i, v in enumerate(value)
        ]
    return value


class _Counter:
    """Counts validated notification URLs and checks for a progress callback."""

    def __init__(
        self, catalog: Catalog, with_checks: bool, report: Callable[[int, int], None] | None
    ) -> None:
        urls = sum(len(c.notify) for unit in catalog.units for c in unit.contacts)
        checks = sum(len(target.checks) for target in catalog.targets) if with_checks else 0
        self.total = urls + checks
        self.done = 0
        self.report = report

    def __call__(self) -> None:
        self.done += 1
        if self.report is not None:
            self.report(self.done, self.total)


def _cross_references(
    catalog: Catalog, tick: Callable[[], None]
) -> Iterable[tuple[tuple[PathPart, ...], str]]:
    codes = _first_positions(unit.code for unit in catalog.units)
    for i, unit in enumerate(catalog.units):
        if codes[unit.code] != i:
            yield ("units", i, "code"), f"duplicate unit code {unit.code!r}"
        if unit.parent is not None and unit.parent not in codes:
            yield ("units", i, "parent"), f"unknown unit {unit.parent!r}"
        if unit.parent == unit.code:
            yield ("units", i, "parent"), "a unit cannot be its own parent"
        for j, contact in enumerate(unit.contacts):
            for k, url in enumerate(contact.notify):
                tick()
                if not url.understood:
                    yield (
                        ("units", i, "contacts", j, "notify", k),
                        f"Apprise does not understand {url.masked}",
                    )
    places = _first_positions(location.name for location in catalog.locations)
    for i, place in enumerate(catalog.locations):
        if places[place.name] != i:
            yield ("locations", i, "name"), f"duplicate location {place.name!r}"
    places = places or {DEFAULT_LOCATION: 0}
    for code in catalog.scoring.not_applicable:
        if code not in codes:
            yield ("scoring", "not_applicable", code), f"unknown unit {code!r}"
    keys = _first_positions(target.key for target in catalog.targets)
    for i, target in enumerate(catalog.targets):
        if keys[target.key] != i:
            yield ("targets", i, "key"), f"duplicate target key {target.key!r}"
        if target.unit not in codes:
            yield ("targets", i, "unit"), f"unknown unit {target.unit!r}"
        names = _first_positions(check.check_name for check in target.checks)
        for j, check in enumerate(target.checks):
            for k, location in enumerate(check.locations or ()):
                if location not in places:
                    yield (
                        ("targets", i, "checks", j, "locations", k),
                        f"unknown location {location!r} (the catalog's `locations` name "
                        f"{', '.join(sorted(places))})",
                    )
            places_of = len(check.locations or places)
            if check.fail_quorum is not None and check.fail_quorum > places_of:
                yield (
                    ("targets", i, "checks", j, "fail_quorum"),
                    f"fail_quorum {check.fail_quorum} is more than the check's "
                    f"{places_of} location(s)",
                )
            elif (
                check.fail_quorum is None
                and catalog.defaults.fail_quorum is not None
                and catalog.defaults.fail_quorum > places_of
            ):
                yield (
                    ("defaults", "fail_quorum"),
                    f"fail_quorum {catalog.defaults.fail_quorum} is more than the "
                    f"{places_of} location(s) of check {target.key}/{check.check_name} "
                    "(give that check its own `fail_quorum`)",
                )
            if names[check.check_name] != j:
                yield (
                    ("targets", i, "checks", j, "name"),
                    f"duplicate check name {check.check_name!r} in target {target.key!r}"
                    " (give each check of the same probe its own `name`)",
                )


def _first_positions(values: Iterable[str]) -> dict[str, int]:
    """Where each value first occurs: a later occurrence is a duplicate."""
    positions: dict[str, int] = {}
    for index, value in enumerate(values):
        positions.setdefault(value, index)
    return positions


def _probe_parameters(
    catalog: Catalog, probe_params: Mapping[str, type[BaseModel]], tick: Callable[[], None]
) -> Iterable[tuple[tuple[PathPart, ...], str]]:
    for i, target in enumerate(catalog.targets):
        for j, check in enumerate(target.checks):
            tick()
            here: tuple[PathPart, ...] = ("targets", i, "checks", j)
            model = probe_params.get(check.probe)
            if model is None:
                known = ", ".join(sorted(probe_params))
                yield (*here, "probe"), f"unknown probe {check.probe!r} (known: {known})"
                continue
            try:
                model.model_validate(check.params)
            except ValidationError as exc:
                for err in exc.errors():
                    yield (*here, "params", *_loc(err["loc"])), _message(err)


def _loc(loc: Iterable[Any]) -> tuple[PathPart, ...]:
    # pydantic adds the name of a union member or validator to a location; drop those.
    return tuple(
        part for part in loc if isinstance(part, int) or not str(part).startswith("function-")
    )


def _message(err: Mapping[str, Any]) -> str:
    message = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if err.get("type") == "extra_forbidden":
        return "unknown field"
    if err.get("type") == "missing":
        return "required field is missing"
    return message


def _line_index(node: yaml.Node | None) -> dict[tuple[PathPart, ...], int]:
    """Map every YAML path in the document to the line it starts on (1-based)."""
    index: dict[tuple[PathPart, ...], int] = {}

    def walk(current: yaml.Node, path: tuple[PathPart, ...]) -> None:
        index[path] = current.start_mark.line + 1
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                key = key_node.value
                part: PathPart = int(key) if key_node.tag.endswith(":int") else key
                index[(*path, part)] = key_node.start_mark.line + 1
                walk(value_node, (*path, part))
                index[(*path, part)] = key_node.start_mark.line + 1
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                walk(item, (*path, i))

    if node is not None:
        walk(node, ())
    return index


def _nearest_line(
    index: Mapping[tuple[PathPart, ...], int], path: tuple[PathPart, ...]
) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in index:
            return index[path[:end]]
    return None
