"""mlops bootstrap-oidc: an identity per trust level, its credentials and role, the secrets and the guard rails."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.bootstrap import BootstrapPlan

HELP = "print (or --apply) the az and gh commands that let this repo's workflows log in to Azure with OIDC"


def add_arguments(parser) -> None:
    """The repository, the subject form, what else to set up and whether to run the commands."""
    parser.add_argument("--repo", metavar="ORG/REPO", help="the GitHub repository (default: the `origin` remote)")
    parser.add_argument("--org-id", help="owner ID, to skip looking it up with gh (then both subject forms are "
                        "trusted); `gh api repos/ORG/REPO --jq '.owner.id, .id'` prints both IDs")
    parser.add_argument("--repo-id", help="repository ID, with --org-id")
    parser.add_argument("--app-name", help="display name of the repository identity's app registration (default: "
                        "github-ORG-REPO); each environment's identity gets -ENVIRONMENT appended")
    parser.add_argument("--subscription", help="subscription ID (default: azure-config.json or .env, else the "
                        "current `az account`)")
    parser.add_argument("--default-branch", help="the branch deploy.yml deploys from; the repository's default "
                        "branch must be this one (default: the branch deploy.yml's push trigger names, else main)")
    parser.add_argument("--compute-operator", action="store_true",
                        help="also grant AzureML Compute Operator on the workspace, so `mlops train` can create "
                        "the cluster")
    parser.add_argument("--no-ruleset", dest="ruleset", action="store_false",
                        help="do not create the ruleset that lets the default branch change only through pull "
                        "requests whose check passed")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", dest="apply", action="store_false", default=False,
                      help="print the commands as a bash script (the default)")
    mode.add_argument("--apply", dest="apply", action="store_true", help="run the commands now")


def bootstrap_oidc(project_dir: Path, *, repo: str | None = None, org_id: str | None = None,
                   repo_id: str | None = None, app_name: str | None = None, subscription: str | None = None,
                   default_branch: str | None = None, compute_operator: bool = False,
                   ruleset: bool = True) -> BootstrapPlan:
    """The az and gh commands that set up OIDC logins (run them with ``mlops.cli_script.apply``)."""
    from mlops.bootstrap import Options, deploy_branch, identities_for, plan_bootstrap, pull_request_checks
    from mlops.config import AzureConfig
    from mlops.errors import MlopsError
    from mlops.oidc import Repo, login_jobs, parse_repo, read_workflows, repo_from_git
    from mlops.project import load_stages
    from mlops.stage_roles import environment_grants, registry_of

    if repo:
        github = parse_repo(repo, org_id, repo_id)
    else:
        found = repo_from_git(project_dir)
        if found is None:
            raise MlopsError("bootstrap-oidc: which GitHub repository? pass --repo ORG/REPO")
        github = parse_repo(found.slug, org_id, repo_id)
    config = AzureConfig(project_dir)
    workflows = read_workflows(project_dir)
    branch = default_branch or deploy_branch(workflows) or "main"
    name_form = Repo(github.owner, github.name)
    subjects = list(dict.fromkeys(subject for job in login_jobs(workflows, name_form, branch)
                                  for subject in job.subjects))
    notes = []
    stages = load_stages(project_dir)
    if not subjects:
        environments = ["staging", "production"] if stages else ["production"]
        subjects = [name_form.branch_subject(branch), *map(name_form.environment_subject, environments)]
        notes.append("no workflow job logs in yet: using the generated workflows' subjects (the train job on "
                     f"{branch}, the deploy jobs in environment {' and '.join(environments)})")
    identities = identities_for(subjects, name_form, app_name or f"github-{github.owner}-{github.name}")
    subscription = subscription or config.get("subscription_id")
    within = subscription or "$SUBSCRIPTION_ID"
    options = Options(config.resource_group, config.workspace_name, subscription, branch, compute_operator, ruleset,
                      pull_request_checks(workflows) or ["make check"],
                      grants=environment_grants(stages, within, config.resource_group, config.workspace_name),
                      registry=registry_of(stages, within, config.resource_group),
                      environment_subscriptions=_other_subscriptions(stages, subscription))
    plan = plan_bootstrap(github, identities, options)
    plan.notes[:0] = notes
    return plan


def run(args) -> int:
    """Print the script, or run it and say what to check next."""
    from mlops import cli_script

    plan = bootstrap_oidc(args.project_dir, repo=args.repo, org_id=args.org_id, repo_id=args.repo_id,
                          app_name=args.app_name, subscription=args.subscription,
                          default_branch=args.default_branch, compute_operator=args.compute_operator,
                          ruleset=args.ruleset)
    if not args.apply:
        header = [_command_line(args, plan.repo), "Review, then run as an admin of the tenant and the repository "
                  "(or rerun with --apply). Rerunning changes nothing that is already right.",
                  *(f"note: {note}" for note in plan.notes)]
        print(cli_script.render(plan.steps, header), end="")
        return 0
    for note in plan.notes:
        print(f"note: {note}")
    variables = cli_script.apply(plan.steps, cli_script.cli_runner("bootstrap-oidc", ": fix it and rerun; what "
                                                                   "is done already is skipped"))
    for identity in plan.identities:
        where = "the jobs without an environment" if identity.environment is None else \
            f"the jobs in environment {identity.environment} only"
        print(f"done: {identity.label} is app {variables.get(identity.var('APP_ID'))} ({identity.app_name}), "
              f"for {where}; it trusts:")
        print("\n".join(f"  {subject}" for label, subject in plan.trusted(variables) if label == identity.label))
    print("Check with `mlops doctor`.")
    return 0


def _other_subscriptions(stages, subscription: str | None) -> dict[str, str]:
    """Production's subscription when azure-stages.json names one other than staging's."""
    production = stages.production.subscription_id if stages else None
    return {"production": production} if production and production != subscription else {}


def _command_line(args, repo) -> str:
    """The command that printed the script, for its header."""
    parts = ["mlops", "bootstrap-oidc", "--repo", repo.slug]
    if repo.owner_id:
        parts += ["--org-id", repo.owner_id, "--repo-id", repo.repo_id]
    for option in ("app_name", "subscription"):
        if getattr(args, option):
            parts += [f"--{option.replace('_', '-')}", getattr(args, option)]
    if args.default_branch:
        parts += ["--default-branch", args.default_branch]
    parts += ["--compute-operator"] if args.compute_operator else []
    parts += [] if args.ruleset else ["--no-ruleset"]
    return " ".join(shlex.quote(part) for part in parts)
