"""Assemble a complete training script from a base ``train.py`` with ``#=====`` section markers.

The rules are the original ``AzureMLRun`` helper's: a section present in the base file is never
overwritten; a section present but empty (nothing but blank lines and comments) is a forced skip;
markers match whatever their case, spacing or trailing text (``#=====Save performance plots (if
selected)``); a missing author section is an error naming it; an unknown marker is a warning and is
kept as written. A missing filled section goes right before the first present section that follows it
in :data:`mlops.sections.SECTIONS`, so the result is the same every time, and assembling an assembled
script changes nothing.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from mlops.errors import MlopsError
from mlops.findings import Finding
from mlops.frameworks import Framework
from mlops.sections import SECTIONS, SectionSpec, filled_code

MARKER = re.compile(r"^#\s*={5,}\s*(?P<title>.*?)\s*$")
RANK = {spec.title: rank for rank, spec in enumerate(SECTIONS)}


@dataclass(frozen=True)
class Block:
    """A stretch of the script: the text before the first marker, or one marker line and its body."""

    line: int
    title: str | None
    spec: SectionSpec | None
    text: str

    @property
    def empty(self) -> bool:
        """True when the body holds no code: only blank lines and comments."""
        body = self.text.splitlines()[1:]
        return all(not line.strip() or line.lstrip().startswith("#") for line in body)


@dataclass
class Assembly:
    """An assembled script and what happened to each section."""

    text: str
    filled: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    origin: dict[int, int] = field(default_factory=dict)
    """Line of the assembled script -> line of the base file it was copied from (filled lines have none)."""
    filled_at: list[tuple[int, str]] = field(default_factory=list)
    """(first assembled line, title) of each filled section, in order."""

    def section_at(self, line: int) -> str:
        """The title of the filled section holding assembled ``line``, or '' for the author's lines."""
        if line in self.origin:
            return ""
        return next((title for start, title in reversed(self.filled_at) if start <= line), "")


class ScriptError(MlopsError):
    """The base script cannot be split into sections; carries the finding that says where."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def match_section(title: str) -> SectionSpec | None:
    """The known section a marker's title names, ignoring case, spacing and trailing text."""
    normal = " ".join(title.lower().split())
    for spec in SECTIONS:
        rest = normal[len(spec.title):]
        if normal.startswith(spec.title) and not rest[:1].isalnum():
            return spec
    return None


def marker_lines(text: str, source: str) -> set[int]:
    """Line numbers of the comments at column 0 (so never a ``#=====`` inside a string)."""
    rows = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and token.start[1] == 0:
                rows.add(token.start[0])
    except (tokenize.TokenError, SyntaxError) as error:
        line = getattr(error, "lineno", None) or (error.args[1][0] if len(error.args) > 1 else 1)
        message = f"cannot be read as Python ({error.args[0]}): fix it and assemble again"
        raise ScriptError(Finding(source, line, 1, "", message)) from None
    return rows


def split_blocks(text: str, source: str) -> list[Block]:
    """Cut ``text`` at each marker line; the pieces joined give back ``text`` exactly."""
    comments = marker_lines(text, source)
    blocks: list[Block] = []
    start_line, title, spec, lines = 1, None, None, []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        found = MARKER.match(line.rstrip("\r\n")) if number in comments else None
        if found:
            if lines:
                blocks.append(Block(start_line, title, spec, "".join(lines)))
            start_line, title, spec, lines = number, found["title"], match_section(found["title"]), []
        lines.append(line)
    if lines:
        blocks.append(Block(start_line, title, spec, "".join(lines)))
    return blocks


def section_findings(blocks: list[Block], source: str) -> list[Finding]:
    """Errors (missing, empty or repeated author sections; repeated sections) and warnings (unknown markers)."""
    findings: list[Finding] = []
    seen: dict[str, int] = {}
    known = ", ".join(spec.title for spec in SECTIONS)
    for block in blocks:
        if block.title is None:
            continue
        if block.spec is None:
            findings.append(Finding(source, block.line, 1, "", f"unknown section marker '#====={block.title}': "
                                    f"kept as written (known sections: {known})", "warning"))
            continue
        name = block.spec.title
        if name in seen:
            findings.append(Finding(source, block.line, 1, "", f"'{block.spec.marker}' appears again "
                                    f"(first on line {seen[name]}): keep one"))
            continue
        seen[name] = block.line
        if block.spec.required and block.empty:
            findings.append(Finding(source, block.line, 1, "", f"'{block.spec.marker}' is empty: it holds the "
                                    "author's code and cannot be skipped"))
    for spec in SECTIONS:
        if spec.required and spec.title not in seen:
            findings.append(Finding(source, 1, 1, "", f"no '{spec.marker}' section: add that marker line with "
                                    "your code under it (the author writes: "
                                    f"{', '.join(s.marker for s in SECTIONS if s.required)})"))
    return findings


def check_script(text: str, source: str) -> list[Finding]:
    """What ``mlops validate`` reports about a base script's sections."""
    try:
        return section_findings(split_blocks(text, source), source)
    except ScriptError as error:
        return [error.finding]


def assemble(text: str, framework: Framework, source: str = "train.py") -> Assembly:
    """The complete script for ``text``, or an :class:`MlopsError` naming the first problem."""
    blocks = split_blocks(text, source)
    findings = section_findings(blocks, source)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise MlopsError(str(errors[0]) + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    result = Assembly(text="", warnings=findings)
    present = {block.spec.title: block for block in blocks if block.spec}
    before: dict[int | None, list[SectionSpec]] = {}
    for spec in SECTIONS:
        if spec.title in present:
            if not spec.required and present[spec.title].empty:
                result.skipped.append(spec.title)
            continue
        later = (i for i, b in enumerate(blocks) if b.spec and RANK[b.spec.title] > RANK[spec.title])
        before.setdefault(next(later, None), []).append(spec)
        result.filled.append(spec.title)
    out, last_was_filled = "", False
    for index in [*range(len(blocks)), None]:
        for spec in before.get(index, []):
            out = _separated(out)
            result.filled_at.append((_next_line(out), spec.title))
            out, last_was_filled = out + f"{spec.marker}\n{filled_code(spec.title, framework)}", True
        if index is not None:
            out = _separated(out) if last_was_filled else out
            block = blocks[index]
            start = _next_line(out)
            result.origin.update({start + i: block.line + i for i in range(len(block.text.splitlines()))})
            out += block.text
            last_was_filled = False
    result.text = out
    return result


def assemble_file(path: Path, framework: Framework, display: str | None = None) -> Assembly:
    """Assemble the base script at ``path``; ``display`` is how messages name it."""
    display = display or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MlopsError(f"{display}: cannot read the base script: {error}") from None
    return assemble(text, framework, display)


def _next_line(text: str) -> int:
    """The line number the next character appended to ``text`` will be on."""
    return text.count("\n") + 1


def _separated(text: str) -> str:
    """``text`` ending in a blank line, so the next section starts clear of it."""
    if not text:
        return text
    if not text.endswith("\n"):
        text += "\n"
    return text if text.endswith("\n\n") else text + "\n"
