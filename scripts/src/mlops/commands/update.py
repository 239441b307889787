"""mlops update: take the template's newer version (cruft update), keeping every file you own."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.updating import UpdateOutcome

HELP = "apply the template's latest version with cruft, merging its changes with yours (`make update` runs it)"


def add_arguments(parser) -> None:
    """``--checkout`` picks a template tag, branch or commit instead of its latest."""
    parser.add_argument("--checkout", metavar="REF", help="update to this template tag, branch or commit")


def update(project_dir: Path, checkout: str | None = None) -> UpdateOutcome:
    """Merge the template's latest version (or ``checkout``) into the repo; conflicts raise, naming each file."""
    from mlops.updating import apply_template_update

    return apply_template_update(project_dir, checkout)


def run(args) -> int:
    """Print what changed and what to do next; conflicts are errors naming each file."""
    outcome = update(args.project_dir, args.checkout)
    template = outcome.after.template
    if not outcome.updated:
        print(f"update: already at the template's latest version ({outcome.after.short_commit} of {template})")
        return 0
    verb = "was updated" if outcome.resumed else "updated"
    print(f"update: {verb} from template commit {outcome.before.short_commit} to {outcome.after.short_commit} "
          f"({template}); {len(outcome.changed)} file(s) changed:")
    for path in outcome.changed:
        print(f"  {path}")
    for path, diff in outcome.owned_changes.items():
        print(f"note: the template changed its own version of {path}, which is yours, so the update left it "
              "alone; if you want its change, here it is (the template's source):")
        print(_indented(diff))
    print("update: `make update` goes on with `make setup` (the new toolkit), `mlops migrate` and `make check`; "
          "then review `git diff HEAD` and commit")
    return 0


def _indented(diff: str, limit: int = 40) -> str:
    """The first ``limit`` lines of ``diff``, indented, saying how many more there are."""
    lines = [line for line in diff.splitlines() if not line.startswith(("diff --git", "index "))]
    shown = [f"    {line}" for line in lines[:limit]]
    if len(lines) > limit:
        shown.append(f"    ... ({len(lines) - limit} more lines)")
    return "\n".join(shown)
