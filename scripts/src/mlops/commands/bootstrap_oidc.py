"""mlops bootstrap-oidc: an identity per trust level, its credentials and role, the secrets and the guard rails."""

from __future__ import annotations

import shlex

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


def run(args) -> int:
    """Print the script, or run it and say what to check next."""
    from mlops import cli_script
    from mlops.bootstrap import Options, deploy_branch, identities_for, plan_bootstrap, pull_request_checks
    from mlops.config import AzureConfig
    from mlops.errors import MlopsError
    from mlops.oidc import Repo, login_jobs, parse_repo, read_workflows, repo_from_git

    root = args.project_dir
    if args.repo:
        repo = parse_repo(args.repo, args.org_id, args.repo_id)
    else:
        found = repo_from_git(root)
        if found is None:
            raise MlopsError("bootstrap-oidc: which GitHub repository? pass --repo ORG/REPO")
        repo = parse_repo(found.slug, args.org_id, args.repo_id)
    config = AzureConfig(root)
    workflows = read_workflows(root)
    args.default_branch = args.default_branch or deploy_branch(workflows) or "main"
    name_form = Repo(repo.owner, repo.name)
    subjects = list(dict.fromkeys(subject for job in login_jobs(workflows, name_form, args.default_branch)
                                  for subject in job.subjects))
    notes = []
    if not subjects:
        subjects = [name_form.branch_subject(args.default_branch), name_form.environment_subject("production")]
        notes.append("no workflow job logs in yet: using the generated workflows' subjects (the train job on "
                     f"{args.default_branch}, the deploy job in environment production)")
    identities = identities_for(subjects, name_form, args.app_name or f"github-{repo.owner}-{repo.name}")
    options = Options(config.resource_group, config.workspace_name, args.subscription or config.get("subscription_id"),
                      args.default_branch, args.compute_operator, args.ruleset,
                      pull_request_checks(workflows) or ["make check"])
    plan = plan_bootstrap(repo, identities, options)
    plan.notes[:0] = notes
    if not args.apply:
        header = [_command_line(args, repo), "Review, then run as an admin of the tenant and the repository (or "
                  "rerun with --apply). Rerunning changes nothing that is already right.",
                  *(f"note: {note}" for note in plan.notes)]
        print(cli_script.render(plan.steps, header), end="")
        return 0
    for note in plan.notes:
        print(f"note: {note}")
    variables = cli_script.apply(plan.steps, cli_script.run_cli("bootstrap-oidc", ": fix it and rerun; what is "
                                                                "done already is skipped"))
    for identity in identities:
        where = "the jobs without an environment" if identity.environment is None else \
            f"the jobs in environment {identity.environment} only"
        print(f"done: {identity.label} is app {variables.get(identity.var('APP_ID'))} ({identity.app_name}), "
              f"for {where}; it trusts:")
        print("\n".join(f"  {subject}" for label, subject in plan.trusted(variables) if label == identity.label))
    print("Check with `mlops doctor`.")
    return 0


def _command_line(args, repo) -> str:
    """The command that printed the script, for its header."""
    parts = ["mlops", "bootstrap-oidc", "--repo", repo.slug]
    if repo.owner_id:
        parts += ["--org-id", repo.owner_id, "--repo-id", repo.repo_id]
    for option in ("app_name", "subscription"):
        if getattr(args, option):
            parts += [f"--{option.replace('_', '-')}", getattr(args, option)]
    if args.default_branch != "main":
        parts += ["--default-branch", args.default_branch]
    parts += ["--compute-operator"] if args.compute_operator else []
    parts += [] if args.ruleset else ["--no-ruleset"]
    return " ".join(shlex.quote(part) for part in parts)
