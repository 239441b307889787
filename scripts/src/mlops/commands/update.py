"""mlops update: take the template's newer version (cruft update), keeping every file you own."""

from __future__ import annotations

HELP = "apply the template's latest version with cruft, merging its changes with yours (`make update` runs it)"


def add_arguments(parser) -> None:
    """``--checkout`` picks a template tag, branch or commit instead of its latest."""
    parser.add_argument("--checkout", metavar="REF", help="update to this template tag, branch or commit")


def run(args) -> int:
    """Print what changed and what to do next; conflicts are errors naming each file."""
    from mlops.updating import update

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
    for path in outcome.owned_changes:
        print(f"note: the template also changed its own {path}, which is yours, so it was left as it is; "
              f"see the change with `git diff {outcome.before.short_commit} {outcome.after.short_commit}` "
              f"in a clone of {template}")
    print("update: `make update` goes on with `make setup` (the new toolkit), `mlops migrate` and `make check`; "
          "then review `git diff HEAD` and commit")
    return 0
