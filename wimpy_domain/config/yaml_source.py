"""Parse YAML keeping the line of every key, so each config error can point at it.

wimpy.yml comes from a repository anyone with commit access writes, so it is read as
hostile input: safe loading only, and limits on size, nesting and alias expansion, so that
a few hundred bytes cannot make validation walk a billion values or overflow the stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

# A complete wimpy.yml with every key and generous comments is a few KiB; a limit well
# above that keeps parsing (pure Python, roughly a second per MiB) well under a second.
MAX_BYTES = 128 * 1024
# wimpy.yml's deepest setting is four levels down (environments.<name>.cidr inside the
# document); the limit leaves room for lists of lists and stays far from Python's stack.
MAX_DEPTH = 32
# Values (scalars, lists and mappings) in the document as a program walking it would see
# them, each alias counted at the size of what it names. A full wimpy.yml has a few hundred.
#
# Aliases stay allowed, to a list or mapping too: sharing a value between environments is
# ordinary YAML, and what makes "billion laughs" dangerous is not an alias but expansion
# without bound (every walk over the loaded value - validation, a message quoting it -
# visits each copy). Counting the expanded size while composing stops such a document at
# the alias that crosses the limit, before anything is built from it.
MAX_VALUES = 10_000
# Python refuses to convert integers of more than 4300 digits (and raises ValueError, not
# a YAML error); no setting takes a number anywhere near this long.
MAX_NUMBER_CHARACTERS = 64
# How much of a value a message quotes: enough to recognise it, never the whole megabyte.
SHOWN_CHARACTERS = 64
SHOWN_TOTAL = 120
_SHOWN_DEPTH = 4

# Tags that only restate what plain YAML means; every other tag (!!python/object,
# !!binary, !!set, !!timestamp, a custom !tag) would build a value no setting takes.
_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}"
                        for name in ("str", "int", "float", "bool", "null", "seq", "map"))
_MERGE_TAG = "tag:yaml.org,2002:merge"
_ACCEPTED = "plain text, numbers, true/false, lists and mappings"


def show(value: Any) -> str:
    """A value as the user wrote it, for a message: quoted text (non-ASCII and control
    characters escaped, so a look-alike letter or an escape sequence shows for what it
    is), YAML booleans and null, lists and mappings inline. Never much more than
    SHOWN_TOTAL characters, however large or deeply shared the value: long text is cut
    with an ellipsis and its length, e.g. 'aaaa…' (1048576 characters)."""
    if isinstance(value, (list, tuple, dict)):
        shown, used = [], 0
        for piece in _pieces(value, 0):
            if used + len(piece) > SHOWN_TOTAL:
                shown.append(piece[:max(0, SHOWN_TOTAL - used)] + "…")
                break
            shown.append(piece)
            used += len(piece)
        return "".join(shown)
    return _scalar(value)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        quoted = ascii(value[:SHOWN_CHARACTERS])
        if len(value) <= SHOWN_CHARACTERS:
            return quoted
        return f"{quoted[:-1]}…{quoted[-1]} ({len(value)} characters)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        if abs(value) >= 10 ** SHOWN_CHARACTERS:
            return f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return f"a {type(value).__name__}"


def _pieces(value: Any, depth: int) -> Iterator[str]:
    """`value` inline, a piece at a time, so that show() stops walking once it has enough
    (a value built from aliases can be far larger than the text it came from)."""
    if depth > _SHOWN_DEPTH and isinstance(value, (list, tuple, dict)):
        yield "…"
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            yield ", " if index else ""
            yield _scalar(key)
            yield ": "
            yield from _pieces(item, depth + 1)
        yield "}"
    elif isinstance(value, (list, tuple)):
        yield "["
        for index, item in enumerate(value):
            yield ", " if index else ""
            yield from _pieces(item, depth + 1)
        yield "]"
    else:
        yield _scalar(value)


def shown_key(path: str) -> str:
    """A dotted key path for a message: the user's own keys are part of it, so escape what
    is not printable ASCII and cut what is too long to read."""
    if not (path.isascii() and path.isprintable()):
        path = ascii(path)[1:-1]
    if len(path) > SHOWN_TOTAL:
        return f"{path[:SHOWN_TOTAL]}… ({len(path)} characters)"
    return path


class SourceMap(dict):
    """A YAML mapping that remembers where it and each of its keys were written."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class YamlSyntaxError(ValueError):
    """Why `file` could not be read as a wimpy.yml: where (line, and the dotted key path
    when the problem is inside a value, else "") and `message`, worded to follow the key."""

    def __init__(self, file: Path, line: int | None, message: str, key: str = ""):
        self.file, self.line, self.message, self.key = file, line, message, key
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {message}")


class _Refused(yaml.MarkedYAMLError):
    """YAML that parses but that wimpy.yml does not take; `problem` says what would do."""

    def __init__(self, mark: yaml.Mark, problem: str, key: str = ""):
        super().__init__(problem=problem, problem_mark=mark)
        self.key = key


class _Loader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) whose mappings are SourceMaps, and which refuses
    documents too deep, too large once aliases are expanded, or with tags."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._values = 0  # composed so far, aliases counted at their expanded size
        self._depth = 0
        self._open_anchors: set[str] = set()  # collections being composed
        self._sizes: dict[int, int] = {}  # expanded size of each finished node, by id
        self._path: list[str] = []  # dotted key path of the node being composed
        self._paths: dict[int, str] = {}  # key path of each composed node, by id

    def _where(self) -> str:
        return "".join(self._path).lstrip(".")

    def compose_node(self, parent: Any, index: Any) -> yaml.Node:
        # A value in a mapping is composed with its key node as `index`, an item of a list
        # with its position, a key with None: enough to name each node by its key path.
        if isinstance(index, yaml.ScalarNode):
            segment = f".{index.value}"
        elif isinstance(index, int):
            segment = f"[{index}]"
        else:
            segment = ""
        self._path.append(segment)
        try:
            node = self._compose_counted(parent, index)
        finally:
            self._path.pop()
        return node

    def _compose_counted(self, parent: Any, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self._open_anchors:
                raise _Refused(event.start_mark, f"alias *{_anchor(event.anchor)} is used inside "
                               "the value it names, which would make that value infinite; an "
                               "alias may name only a value that ends before it", self._where())
            target = self.anchors.get(event.anchor)  # None: SafeLoader reports the alias
            added = self._expanded_size(target) if target is not None else 1
            if self._values + added > MAX_VALUES:
                raise _Refused(event.start_mark, f"alias *{_anchor(event.anchor)} expands the "
                               f"document past {MAX_VALUES} values; a wimpy.yml is accepted "
                               f"with at most {MAX_VALUES} values once aliases are expanded "
                               "(a complete one has a few hundred)", self._where())
        else:
            tag = getattr(event, "tag", None)
            if tag not in (None, "!") and tag not in _PLAIN_TAGS:
                raise _Refused(event.start_mark, f"the tag {show(_short_tag(tag))} is not "
                               f"accepted; wimpy.yml takes {_ACCEPTED} (quote a value to keep it "
                               "as text)", self._where())
            added = 1
            if self._values + added > MAX_VALUES:
                raise _Refused(event.start_mark, f"has more than {MAX_VALUES} values; a wimpy.yml "
                               f"is accepted with at most {MAX_VALUES} values once aliases are "
                               "expanded (a complete one has a few hundred)", self._where())
        self._values += added
        if self._depth >= MAX_DEPTH:
            raise _Refused(event.start_mark, f"nests deeper than {MAX_DEPTH} levels; wimpy.yml's "
                           "settings are at most four levels deep", self._where())
        self._depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        self._paths.setdefault(id(node), self._where())
        return node

    def compose_sequence_node(self, anchor: str | None) -> yaml.SequenceNode:
        return self._compose_collection(anchor, super().compose_sequence_node)

    def compose_mapping_node(self, anchor: str | None) -> yaml.MappingNode:
        return self._compose_collection(anchor, super().compose_mapping_node)

    def _compose_collection(self, anchor: str | None, compose: Any) -> Any:
        if anchor is None:
            return compose(anchor)
        self._open_anchors.add(anchor)  # SafeLoader refuses an anchor defined twice
        try:
            return compose(anchor)
        finally:
            self._open_anchors.discard(anchor)

    def _expanded_size(self, node: yaml.Node) -> int:
        """Values `node` stands for once every alias in it is expanded. Each node is counted
        once and remembered, so this costs the document's size, not the expansion's."""
        size = self._sizes.get(id(node))
        if size is None:
            if isinstance(node, yaml.MappingNode):
                children = [child for pair in node.value for child in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = node.value
            else:
                children = []
            size = 1 + sum(self._expanded_size(child) for child in children)
            self._sizes[id(node)] = size
        return size

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> SourceMap:
        mapping = SourceMap()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        path = self._paths.get(id(node), "")
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise _Refused(key_node.start_mark, "merge keys ('<<: *name') are not accepted; "
                               "write the keys out (an alias of a single value or list, e.g. "
                               "cidr: *staging_cidr, works)", path)
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise _Refused(key_node.start_mark, f"keys must be text, found {show(key)}; quote "
                               "it (YAML reads yes, no, on, off, true, false and null as words of "
                               "its own and bare digits as numbers), e.g. 'no':", path)
            if key in mapping:
                first = mapping.key_lines[key]
                raise _Refused(key_node.start_mark,
                               f"{show(key)} appears twice (first on line {first}); keep one",
                               f"{path}.{key}".lstrip("."))
            mapping[key] = self.construct_object(value_node, deep=True)
            mapping.key_lines[key] = key_node.start_mark.line + 1
        return mapping

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        if len(node.value) > MAX_NUMBER_CHARACTERS:
            raise _Refused(node.start_mark, f"a number of {len(node.value)} digits is not "
                           f"accepted; no setting takes a number of more than "
                           f"{MAX_NUMBER_CHARACTERS} characters (quote it to make it text)",
                           self._paths.get(id(node), ""))
        return super().construct_yaml_int(node)


_Loader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    lambda loader, node: loader.construct_mapping(node, deep=True),
)
_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
# No setting is a date: a value like 2024-01-01 stays the text it was written as (an
# app.environment value keeps its spelling instead of becoming a Python date).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _short_tag(tag: str) -> str:
    """A tag as it is written in YAML: !!binary, not tag:yaml.org,2002:binary."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,2002:") else tag


def _anchor(name: str) -> str:
    return show(name)[1:-1] if len(name) <= SHOWN_CHARACTERS else show(name)


def load_yaml(file: Path) -> Any:
    """The document in `file`, or YamlSyntaxError with the line where parsing stopped."""
    try:
        with file.open("rb") as stream:
            # Read one byte past the limit, never the whole file: it may be huge, or a
            # device or pipe that never ends.
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise YamlSyntaxError(file, None, "no such file; run `wimpy init` to write one") from None
    except OSError as exc:
        raise YamlSyntaxError(file, None, f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise YamlSyntaxError(file, None, f"is larger than {MAX_BYTES // 1024} KiB, the most "
                              "accepted for a wimpy.yml (a complete one is a few KiB); is this "
                              "the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise YamlSyntaxError(file, line, f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                              "save it as UTF-8") from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader
    except _Refused as exc:
        raise YamlSyntaxError(file, exc.problem_mark.line + 1, exc.problem, exc.key) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise YamlSyntaxError(file, line, f"is not valid YAML: the character #x{exc.character:04x} "
                              "is not accepted (YAML takes printable text, tabs and line "
                              "breaks); remove it or write it as an escape in double "
                              "quotes") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(file, line, f"is not valid YAML: {_bounded(detail)}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(file, None, f"is not valid YAML: {_bounded(str(exc))}") from None


def _bounded(detail: str) -> str:
    """PyYAML's own wording, on one line and short: it quotes anchors and tags as written."""
    detail = " ".join(detail.split())
    return detail if len(detail) <= 4 * SHOWN_TOTAL else detail[:4 * SHOWN_TOTAL] + "…"
