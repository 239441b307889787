"""Config changes made from a notebook: validated at once, kept for the session, written back on request.

A :class:`SessionConfig` is a dict-like view of one config file (the experiment YAML or
``azure-compute-config.json``). Each change is checked the way ``mlops validate`` checks the repo (same
messages) and refused if it breaks a rule. The commands then run on a *session folder*: a temporary
folder whose entries are links to the repo's, except the changed config files, written there. So a
command sees the change, what it writes (``outputs/``, ``build/``) still lands in the repo, and the
repo's own files stay as they were until :meth:`SessionConfig.save`.

``save`` keeps comments and key order: a YAML file is edited line by line (top-level keys with a plain
value only: a nested section is assigned as a whole in the session but saved by editing the file
yourself); a JSON file has no comments and is rewritten in its key order.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import yaml

from mlops.errors import MlopsError


class SessionConfig(MutableMapping[str, Any]):
    """One config file as a dict: ``cfg["service_name"] = "iris-svc-2"`` is checked now, used by the next
    command of this session, and written to the file only by :meth:`save`.

    Nested values come back as copies: to change one, assign the whole top-level key
    (``cfg["smoke"] = {**cfg["smoke"], "timeout_seconds": 120}``).
    """

    def __init__(self, path: Path, check: Callable[[], None]) -> None:
        self.path = path
        self._check = check
        self._original = _read(path)
        self._data = copy.deepcopy(self._original)

    def __getitem__(self, key: str) -> Any:
        return copy.deepcopy(self._data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        self._change(lambda data: data.__setitem__(key, copy.deepcopy(value)))

    def __delitem__(self, key: str) -> None:
        if key not in self._data:
            raise KeyError(key)
        self._change(lambda data: data.__delitem__(key))

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        changed = ", ".join(self.changed_keys) or "none"
        return f"<{self.path.name}: {dict(self._data)!r}; changed this session: {changed}>"

    @property
    def changed_keys(self) -> list[str]:
        """The top-level keys that differ from the file."""
        keys = [*self._data, *(k for k in self._original if k not in self._data)]
        return [k for k in keys if self._data.get(k, _MISSING) != self._original.get(k, _MISSING)]

    def session_text(self) -> str | None:
        """The file's text with this session's changes, or ``None`` when nothing changed."""
        if not self.changed_keys:
            return None
        try:
            return _render(self.path, self._original, self._data)
        except _SectionChanged:  # the session needs the text, not the comments
            return yaml.safe_dump(self._data, sort_keys=False, allow_unicode=True)

    def save(self) -> Path:
        """Write this session's changes to the file (comments and key order kept); return its path."""
        if not self.changed_keys:
            return self.path
        try:
            text = _render(self.path, self._original, self._data)
        except _SectionChanged as changed:
            raise MlopsError(f"{self.path.name}: {changed.key} is a section; save() keeps comments by editing "
                             f"top-level plain values only: edit {changed.key} in {self.path.name} yourself "
                             "(this session already uses the change)") from None
        if text is not None:
            self.path.write_text(text, encoding="utf-8")
            self._original = copy.deepcopy(self._data)
        return self.path

    def _change(self, edit: Callable[[dict], None]) -> None:
        before = self._data
        self._data = copy.deepcopy(before)
        edit(self._data)
        try:
            self._check()
        except MlopsError:
            self._data = before
            raise


_MISSING = object()


class _SectionChanged(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def session_folder(root: Path, replaced: dict[str, str], written: tuple[str, ...]) -> Path:
    """A new temporary folder linking every entry of ``root`` except the files in ``replaced`` (name -> text),
    which are written there. The folders in ``written`` (where commands write) are made in ``root`` first,
    so what a command writes stays in the repo. The caller removes it with :func:`remove_session_folder`."""
    for name in written:
        (root / name).mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="mlops-session-"))
    for entry in root.iterdir():
        if entry.name not in replaced:
            (folder / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    for name, text in replaced.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def remove_session_folder(folder: Path) -> None:
    """Remove a folder made by :func:`session_folder` (its links only, never what they point to)."""
    shutil.rmtree(folder, ignore_errors=True)


def _read(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return data if isinstance(data, dict) else {}


def _render(path: Path, original: dict, data: dict) -> str:
    if path.suffix == ".json":
        text = path.read_text(encoding="utf-8")
        indent = re.search(r"\n( +)\"", text)
        return json.dumps(data, indent=len(indent.group(1)) if indent else 2) + "\n"
    return _edited_yaml(path, original, data)


def _edited_yaml(path: Path, original: dict, data: dict) -> str:
    """The YAML file with each changed top-level key's line replaced, added or removed; comments stay."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    keys = [*data, *(k for k in original if k not in data)]
    for key in keys:
        old, new = original.get(key, _MISSING), data.get(key, _MISSING)
        if old == new:
            continue
        if isinstance(old, (dict, list)) or isinstance(new, (dict, list)):
            raise _SectionChanged(key)
        line = _key_line(lines, key)
        if new is _MISSING:
            del lines[line]
        elif line is None:
            lines.append(("" if not lines or lines[-1].endswith("\n") else "\n") + f"{key}: {_scalar(new)}\n")
        else:
            comment = re.search(r"\s+#.*$", lines[line].rstrip("\n"))
            lines[line] = f"{key}: {_scalar(new)}{comment.group(0) if comment else ''}\n"
    return "".join(lines)


def _key_line(lines: list[str], key: str) -> int | None:
    pattern = re.compile(rf"^{re.escape(key)}\s*:(\s|$)")
    return next((number for number, line in enumerate(lines) if pattern.match(line)), None)


def _scalar(value: Any) -> str:
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()
