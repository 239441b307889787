"""Read a JSON or YAML config file into plain data plus the line and column of every key and value.

Syntax problems become a :class:`DocumentError` that names the line and says what to do, so
``mlops validate`` never shows a parser's traceback. YAML is composed into nodes and built by hand
so that duplicate keys are caught (PyYAML keeps the last one silently); JSON is parsed by the
standard library and composed the same way only to learn positions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import MlopsError
from mlops.findings import Finding

Position = tuple[int, int]


class DocumentError(MlopsError):
    """A file that cannot be read as a config document; ``line``, ``col`` and ``message`` say where and why."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message

    def finding(self, file: str) -> Finding:
        """This problem as a finding in ``file`` (how the caller names the file)."""
        return Finding(file, self.line, self.col, "", self.message)


@dataclass
class Document:
    """Parsed data with 1-based positions: ``keys[path]`` of a mapping key, ``values[path]`` of its value."""

    data: Any
    keys: dict[tuple, Position] = field(default_factory=dict)
    values: dict[tuple, Position] = field(default_factory=dict)

    def position(self, path: tuple, *, key: bool = False) -> Position:
        """Best position for ``path``: the key or value itself, else its nearest located parent."""
        table = self.keys if key else self.values
        path = tuple(path)
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), (1, 1))


def read_text(path: Path) -> str:
    """Read ``path`` as UTF-8, accepting a byte-order mark, refusing other encodings with a line number."""
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        col = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise DocumentError(
            line, col, f"byte 0x{raw[error.start]:02x} is not UTF-8 text: save the file as UTF-8"
        ) from None


def load_document(path: Path, *, expect_mapping: bool = True) -> Document:
    """Parse ``path`` by its suffix (``.json`` or YAML) and check that it holds a mapping."""
    text = read_text(path)
    if not text.strip() or (path.suffix != ".json" and not _has_yaml_content(text)):
        raise DocumentError(1, 1, "the file is empty: it must hold a mapping of keys to values")
    if path.suffix == ".json":
        document = _load_json(text)
    else:
        document = _load_yaml(text)
    if expect_mapping and not isinstance(document.data, dict):
        found = type(document.data).__name__
        found = {"list": "a list", "str": "a single string", "NoneType": "nothing"}.get(found, f"a {found}")
        line, col = document.values.get((), (1, 1))
        raise DocumentError(line, col, f"expected a mapping of keys to values, found {found}")
    return document


def _has_yaml_content(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.splitlines())


def _load_json(text: str) -> Document:
    duplicates: list[str] = []

    def pairs_hook(pairs):
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                duplicates.append(key)
            seen[key] = value
        return seen

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as error:
        raise _json_syntax_error(text, error) from None
    try:
        node = yaml.compose(text.replace("\t", " "), Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        node = None
    document = Document(data)
    if node is not None:
        _walk(node, (), document, build=False)
    elif duplicates:
        raise DocumentError(1, 1, f"key {duplicates[0]!r} appears twice: keep one")
    return document


def _json_syntax_error(text: str, error: json.JSONDecodeError) -> DocumentError:
    before = text[: error.pos].rstrip()
    if before.endswith(",") and text[error.pos : error.pos + 1] in "}]":
        comma = len(before) - 1
        line = text.count("\n", 0, comma) + 1
        col = comma - (text.rfind("\n", 0, comma) + 1) + 1
        return DocumentError(line, col, "trailing comma after the last item: JSON allows none, remove it")
    message = error.msg[0].lower() + error.msg[1:]
    return DocumentError(error.lineno, error.colno, f"invalid JSON: {message}")


class _Loader(yaml.SafeLoader):
    """SafeLoader whose scalars we construct one node at a time."""


def _load_yaml(text: str) -> Document:
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        raise _yaml_syntax_error(text, error) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        col = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        character = error.character if isinstance(error.character, str) else chr(error.character)
        raise DocumentError(line, col, f"invalid YAML: the character {character!r} is not allowed in YAML text: "
                                       "remove it") from None
    except yaml.YAMLError as error:
        raise DocumentError(1, 1, "invalid YAML: " + " ".join(str(error).split())) from None
    document = Document(None)
    if node is None:
        raise DocumentError(1, 1, "the file is empty: it must hold a mapping of keys to values")
    document.data = _walk(node, (), document, build=True)
    return document


def _yaml_syntax_error(text: str, error: yaml.MarkedYAMLError) -> DocumentError:
    mark = error.problem_mark or error.context_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    lines = text.splitlines()
    if "\t" in (error.problem or "") or (0 < line <= len(lines) and re.match(r"^ *\t", lines[line - 1])):
        return DocumentError(line, col, "a tab indents this line: YAML allows only spaces, replace the tab")
    problem = (error.problem or str(error)).strip()
    return DocumentError(line, col, f"invalid YAML: {problem}")


_constructor = yaml.SafeLoader.__new__(yaml.SafeLoader)
yaml.constructor.SafeConstructor.__init__(_constructor)


def _walk(node: yaml.Node, path: tuple, document: Document, *, build: bool) -> Any:
    document.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        _constructor.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _constructor.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            child = path + (key,)
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if child in document.keys:
                first = document.keys[child][0]
                raise DocumentError(*position, f"key {key!r} appears twice (first on line {first}): keep one")
            document.keys[child] = position
            result[key] = _walk(value_node, child, document, build=build)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, path + (index,), document, build=build) for index, item in enumerate(node.value)]
    return _constructor.construct_object(node, deep=True) if build else None
