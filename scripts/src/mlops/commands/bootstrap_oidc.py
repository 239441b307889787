"""mlops bootstrap-oidc: the app, federated credentials, role and GitHub secrets for OIDC logins, in one go."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.bootstrap import BootstrapPlan

HELP = "print (or --apply) the az and gh commands that let this repo's workflows log in to Azure with OIDC"


def add_arguments(parser) -> None:
    """The repository, the subject form and whether to run the commands."""
    parser.add_argument("--repo", metavar="ORG/REPO", help="the GitHub repository (default: the `origin` remote)")
    parser.add_argument("--org-id", help="owner ID: use the immutable subject form repo:ORG@ORG_ID/REPO@REPO_ID "
                        "(new repositories present it; `gh api repos/ORG/REPO --jq '.owner.id, .id'`)")
    parser.add_argument("--repo-id", help="repository ID, with --org-id")
    parser.add_argument("--app-name", help="display name of the app registration (default: github-ORG-REPO)")
    parser.add_argument("--subscription", help="subscription ID (default: azure-config.json or .env, else the "
                        "current `az account`)")
    parser.add_argument("--default-branch", default="main", help="the branch pushes deploy from (default: main)")
    parser.add_argument("--compute-operator", action="store_true",
                        help="also grant AzureML Compute Operator on the workspace, so `mlops train` can create "
                        "the cluster")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", dest="apply", action="store_false", default=False,
                      help="print the commands as a bash script (the default)")
    mode.add_argument("--apply", dest="apply", action="store_true", help="run the commands now")


def bootstrap_oidc(project_dir: Path, *, repo: str | None = None, org_id: str | None = None,
                   repo_id: str | None = None, app_name: str | None = None, subscription: str | None = None,
                   default_branch: str = "main", compute_operator: bool = False) -> BootstrapPlan:
    """The az and gh commands that let the repo's workflows log in with OIDC (run them with ``bootstrap.apply``)."""
    from mlops.bootstrap import plan_bootstrap
    from mlops.config import AzureConfig
    from mlops.errors import MlopsError
    from mlops.oidc import login_jobs, parse_repo, read_workflows, repo_from_git

    if repo:
        github = parse_repo(repo, org_id, repo_id)
    else:
        found = repo_from_git(project_dir)
        if found is None:
            raise MlopsError("bootstrap-oidc: which GitHub repository? pass --repo ORG/REPO")
        github = parse_repo(found.slug, org_id, repo_id)
    config = AzureConfig(project_dir)
    subjects = list(dict.fromkeys(subject for job in login_jobs(read_workflows(project_dir), github, default_branch)
                                  for subject in job.subjects))
    notes = []
    if not subjects:
        subjects = [github.environment_subject("production"), github.branch_subject(default_branch)]
        notes.append("no workflow job logs in yet: using the generated workflows' subjects (the deploy job in "
                      "environment production, the train job on main)")
    plan = plan_bootstrap(github, subjects, resource_group=config.resource_group, workspace=config.workspace_name,
                          subscription=subscription or config.get("subscription_id"),
                          app_name=app_name or f"github-{github.owner}-{github.name}",
                          compute_operator=compute_operator)
    plan.notes[:0] = notes
    return plan


def run(args) -> int:
    """Print the script, or run it and say what to check next."""
    from mlops.bootstrap import apply, render

    plan = bootstrap_oidc(args.project_dir, repo=args.repo, org_id=args.org_id, repo_id=args.repo_id,
                          app_name=args.app_name, subscription=args.subscription,
                          default_branch=args.default_branch, compute_operator=args.compute_operator)
    if not args.apply:
        print(render(plan, _command_line(args, plan.repo)), end="")
        return 0
    for note in plan.notes:
        print(f"note: {note}")
    variables = apply(plan)
    print(f"done: app {variables.get('APP_ID')} trusts {len(plan.subjects)} subject(s); the repository has its "
          "three secrets. Check with `mlops doctor`.")
    return 0


def _command_line(args, repo) -> str:
    """The command that printed the script, for its header."""
    parts = ["mlops", "bootstrap-oidc", "--repo", repo.slug]
    if repo.owner_id:
        parts += ["--org-id", repo.owner_id, "--repo-id", repo.repo_id]
    for option in ("app_name", "subscription"):
        if getattr(args, option):
            parts += [f"--{option.replace('_', '-')}", getattr(args, option)]
    if args.compute_operator:
        parts.append("--compute-operator")
    return " ".join(shlex.quote(part) for part in parts)
