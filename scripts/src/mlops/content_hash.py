"""Hash files and folders by what they hold, so a hash changes exactly when a file's bytes or name do.

Used for the smoke run's record of the code it trained from and for the version of a data asset
registered from a file in the repo. Paths are hashed relative to a given folder, so a copy of the repo
elsewhere gives the same hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", "outputs"}


def files_under(path: Path) -> list[Path]:
    """``path`` itself if it is a file, else the files under it (caches and outputs left out), sorted."""
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file() and not SKIPPED_PARTS & set(p.relative_to(path).parts)
                  and p.suffix != ".pyc")


def content_digest(paths: Iterable[Path], relative_to: Path) -> str:
    """The SHA-256 (hex) of every file under ``paths``: its path relative to ``relative_to`` and its bytes."""
    def entries():
        for top in paths:
            for path in files_under(top):
                with open(path, "rb") as handle:
                    yield path.relative_to(relative_to).as_posix(), hashlib.file_digest(handle, "sha256").digest()

    return digest_of(entries())


def digest_of(entries: Iterable[tuple[str, bytes]]) -> str:
    """The SHA-256 (hex) of (relative name, SHA-256 of the bytes) pairs, in the order given."""
    digest = hashlib.sha256()
    for name, file_digest in entries:
        digest.update(name.encode() + b"\0")
        digest.update(file_digest)
    return digest.hexdigest()
