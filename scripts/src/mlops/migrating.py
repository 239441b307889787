"""mlops migrate's work: rewrite the config files a template change left in an older shape.

YAML goes through ruamel.yaml's round-trip mode, so comments, key order and quoting stay as the
data scientist wrote them; JSON keeps its key order. Each file is written whole to a temporary file
and moved into place, so a failure never leaves one half-written.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlops.errors import MlopsError
from mlops.layout import AZURE_CONFIG, COMPUTE_CONFIG, find_experiment_file
from mlops.migrations import Migration, apply_migration, pending_migrations
from mlops.positioned import DocumentError, load_document


@dataclass(frozen=True)
class Applied:
    """One migration written to one file."""

    file: str
    migration: Migration


def config_files(root: Path) -> dict[str, Path]:
    """The config files a migration can name, by the key the migration table uses."""
    return {"azure": root / AZURE_CONFIG, "compute": root / COMPUTE_CONFIG, "experiment": find_experiment_file(root)}


def migrate_project(root: Path, table: tuple[Migration, ...] | None = None) -> list[Applied]:
    """Apply every pending migration to the configs under ``root``; return what was rewritten."""
    applied: list[Applied] = []
    for config, path in config_files(root).items():
        if not path.is_file():
            continue
        try:
            plain = load_document(path).data
        except DocumentError as error:
            raise MlopsError(f"{error.finding(path.name)} (fix it, then migrate)") from None
        todo = pending_migrations(config, plain, table)
        if not todo:
            continue
        text = path.read_text(encoding="utf-8-sig")
        _write_atomically(path, _rewrite_json(text, todo) if path.suffix == ".json" else _rewrite_yaml(text, todo))
        applied += [Applied(path.name, migration) for migration in todo]
    return applied


def _rewrite_json(text: str, migrations: list[Migration]) -> str:
    data = json.loads(text)
    for migration in migrations:
        apply_migration(data, migration)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _rewrite_yaml(text: str, migrations: list[Migration]) -> str:
    from ruamel.yaml import YAML

    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(text)
    for migration in migrations:
        apply_migration(data, migration)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
