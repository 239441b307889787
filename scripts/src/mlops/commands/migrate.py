"""mlops migrate: rewrite renamed or added config fields after a template update."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.migrating import Applied

HELP = "rename or add the config fields a template update changed, keeping comments (`make update` runs it)"


def add_arguments(parser) -> None:
    """No options: the repo is chosen with ``mlops -C DIR``."""


def migrate(project_dir: Path) -> list[Applied]:
    """Rewrite every config field the migration table says is pending; return what was rewritten."""
    from mlops.migrating import migrate_project

    return migrate_project(project_dir)


def run(args) -> int:
    """Print one line per rewritten field; nothing to do is a success too."""
    from mlops.migrations import Rename

    applied = migrate(args.project_dir)
    for item in applied:
        migration = item.migration
        if isinstance(migration, Rename):
            print(f"migrate: {item.file}: {migration.old} -> {migration.new} (toolkit {migration.since})")
        else:
            print(f"migrate: {item.file}: added {migration.path}: {migration.default!r} (toolkit {migration.since})")
    if not applied:
        print("migrate: the configs already have the current toolkit's shape; nothing to change")
    else:
        print("migrate: review the change with `git diff`, then commit it")
    return 0
