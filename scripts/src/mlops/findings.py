"""A finding is one problem in one file, printed as ``file:line:col: field.path: message``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem, located in a file; ``field`` is a dotted path inside the document or ''."""

    file: str
    line: int
    col: int
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{where}: {prefix}{what}"

    def annotation(self) -> str:
        """The GitHub Actions workflow command that shows this finding on the pull request's diff."""
        title = f"{self.field}" if self.field else "config"
        properties = ",".join(
            f"{key}={_escape_property(str(value))}"
            for key, value in (("file", self.file), ("line", self.line), ("col", self.col), ("title", title))
        )
        return f"::{self.severity} {properties}::{_escape_data(str(self))}"


def dotted(path: tuple) -> str:
    """Render a document path such as ``('train', 'args', 'lr')`` as ``train.args.lr``."""
    parts: list[str] = []
    for part in path:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")
