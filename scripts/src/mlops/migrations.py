"""Config migrations: the fields a template version renamed or added, as a small declarative table.

An update never rewrites the data scientist's config files (they are theirs, see ``ownership``), so
when the template renames or adds a field, the repo's own files still hold the old shape.
``mlops validate`` names each such field and its new form; ``mlops migrate`` (run by ``make update``)
rewrites the files, keeping comments, order and formatting. Entries are checked against the data,
not against a version number, so migrating twice changes nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rename:
    """``old`` (a dotted path) is now called ``new``, in the same mapping."""

    config: str  # "experiment", "azure" or "compute"
    old: str
    new: str
    since: str  # the toolkit version that made the change

    def __post_init__(self):
        if self.old.rpartition(".")[0] != self.new.rpartition(".")[0]:
            raise ValueError(f"rename {self.old} -> {self.new}: a rename stays in the same mapping")

    def pending(self, data: dict) -> bool:
        """True when ``data`` still holds the old name and not yet the new one."""
        parent = _mapping_at(data, self.old)
        return parent is not None and _leaf(self.old) in parent and _leaf(self.new) not in parent

    def describe(self) -> str:
        """What changed and what to do, for ``mlops validate``."""
        return (f"now called {self.new} (toolkit {self.since}): run `mlops migrate` to rename it, "
                "keeping its value and comments")


@dataclass(frozen=True)
class Add:
    """``path`` (dotted) is a new required field; repos that lack it get ``default``."""

    config: str
    path: str
    default: Any
    since: str

    def pending(self, data: dict) -> bool:
        """True when the mapping that should hold the field exists and lacks it."""
        parent = _mapping_at(data, self.path)
        return parent is not None and _leaf(self.path) not in parent

    def describe(self) -> str:
        """What changed and what to do, for ``mlops validate``."""
        return (f"required since toolkit {self.since}: run `mlops migrate` to add it with its default "
                f"{_leaf(self.path)}: {self.default!r}, or add it yourself")


Migration = Rename | Add

# Oldest first. A field renamed or made required by a template change gets one line here, in the same
# commit as the schema change; tests/test_template_update.py shows a repo taking such a change.
MIGRATIONS: tuple[Migration, ...] = (
)


def pending_migrations(config: str, data: Any, table: tuple[Migration, ...] | None = None) -> list[Migration]:
    """The migrations of ``table`` (default: :data:`MIGRATIONS`) that ``data`` of ``config`` still needs."""
    if not isinstance(data, dict):
        return []
    return [m for m in (MIGRATIONS if table is None else table) if m.config == config and m.pending(data)]


def migrated(data: dict, migrations: list[Migration]) -> dict:
    """A copy of ``data`` with ``migrations`` applied, so the schema judges the shape the repo will have."""
    result = copy.deepcopy(data)
    for migration in migrations:
        apply_migration(result, migration)
    return result


def apply_migration(data: dict, migration: Migration) -> None:
    """Apply one migration to a mapping in place (a plain dict or a round-trip YAML mapping), keeping order."""
    if isinstance(migration, Rename):
        parent = _mapping_at(data, migration.old)
        old, new = _leaf(migration.old), _leaf(migration.new)
        rename_key(parent, old, new)
    else:
        parent = _mapping_at(data, migration.path)
        add_key(parent, _leaf(migration.path), copy.deepcopy(migration.default))


def rename_key(mapping: dict, old: str, new: str) -> None:
    """Rename ``old`` to ``new`` where it stands; a round-trip mapping keeps the key's comments too."""
    position = list(mapping).index(old)
    value = mapping.pop(old)
    comments = getattr(mapping, "ca", None)
    comment = comments.items.pop(old, None) if comments is not None else None
    if hasattr(mapping, "insert"):
        mapping.insert(position, new, value)
    else:
        items = list(mapping.items())
        items.insert(position, (new, value))
        mapping.clear()
        mapping.update(items)
    if comment is not None:
        comments.items[new] = comment


def add_key(mapping: dict, key: str, value: Any) -> None:
    """Append ``key`` to ``mapping``; comment lines that followed the last key move below the new one."""
    comments = getattr(mapping, "ca", None)
    last = list(mapping)[-1] if mapping else None
    trailing = comments.items.get(last) if comments is not None and last is not None else None
    mapping[key] = value
    if trailing and len(trailing) > 2 and trailing[2] is not None and trailing[2].value.startswith("\n"):
        comments.items[key] = comments.items.pop(last)  # blank lines and the next section's comment


def _leaf(path: str) -> str:
    return path.rpartition(".")[2]


def _mapping_at(data: Any, path: str) -> dict | None:
    """The mapping that holds the last key of ``path``, or None when a parent is missing or not a mapping."""
    node = data
    for part in path.split(".")[:-1]:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, dict) else None
