"""The content hash of a repo file or folder as committed on the main branch, read with git.

``mlops plan`` compares it with the file as it is now, so the plan can say whether a data asset
registered from the repo gets a new version with this change. Offline and read-only; without git or
without a main branch (a shallow CI checkout) there is nothing to compare with, and it says so.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from mlops.content_hash import SKIPPED_PARTS, digest_of

MAIN_REFS = ("origin/main", "main")


def _git(root: Path, *args: str) -> bytes | None:
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 else None


def main_ref(root: Path) -> str:
    """The last release's commit: ``origin/main`` or ``main``; when HEAD is that commit (the merge being
    released), its first parent. '' when none of them is there (no git, a shallow checkout)."""
    head = _git(root, "rev-parse", "HEAD")
    for ref in MAIN_REFS:
        commit = _git(root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}")
        if commit and commit != head:
            return ref
        if commit and _git(root, "rev-parse", "--verify", "-q", f"{ref}~1^{{commit}}"):
            return f"{ref}~1"
    return ""


def committed_digest(root: Path, ref: str, relative: str) -> str | None:
    """:func:`mlops.content_hash.content_digest` of ``relative`` as committed at ``ref``; None when absent there."""
    listing = _git(root, "ls-tree", "-r", "-z", ref, "--", relative)
    if not listing:
        return None
    parent = Path(relative).parent.as_posix()
    entries = []
    for record in sorted(filter(None, listing.split(b"\0")), key=lambda r: Path(r.split(b"\t", 1)[1].decode()).parts):
        meta, name = record.split(b"\t", 1)
        path = name.decode()
        inside = Path(path).relative_to(relative).parts if path != relative else ()
        if meta.split()[1] != b"blob" or SKIPPED_PARTS & set(inside) or path.endswith(".pyc"):
            continue
        blob = _git(root, "cat-file", "blob", meta.split()[2].decode())
        if blob is None:
            return None
        entries.append((Path(path).relative_to(parent).as_posix() if parent != "." else path,
                        hashlib.sha256(blob).digest()))
    return digest_of(entries)
