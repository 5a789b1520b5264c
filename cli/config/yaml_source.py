"""Parse YAML keeping the line of every key, so each config error can point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class SourceMap(dict):
    """A YAML mapping that remembers where it and each of its keys were written."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlSyntaxError(ValueError):
    def __init__(self, file: Path, line: int | None, message: str):
        self.file, self.line = file, line
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {message}")


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) whose mappings are SourceMaps."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> SourceMap:
        mapping = SourceMap()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise yaml.MarkedYAMLError(
                    problem=f"keys must be text, found {key!r}", problem_mark=key_node.start_mark
                )
            if key in mapping:
                first = mapping.key_lines[key]
                raise yaml.MarkedYAMLError(
                    problem=f"'{key}' appears twice (first on line {first}); keep one",
                    problem_mark=key_node.start_mark,
                )
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: loader.construct_mapping(node, deep=True),
)


def load_yaml(file: Path) -> Any:
    """The document in `file`, or YamlSyntaxError with the line where parsing stopped."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlSyntaxError(file, None, "no such file; run `wimpy init` to write one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlSyntaxError(file, None, f"cannot be read: {exc}") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(file, line, f"is not valid YAML: {detail}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(file, None, f"is not valid YAML: {exc}") from None
