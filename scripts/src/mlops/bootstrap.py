"""What ``mlops bootstrap-oidc`` sets up: one identity per trust level, the subjects GitHub presents, the guard rails.

The identity of the jobs without an environment (training, on every merge, unapproved) gets a custom
role that cannot touch online endpoints; each environment's jobs (``production``: deploying, approved)
get an identity of their own that only that environment's subject can log in as, its client ID an
environment secret (which overrides the repository secret of the same name inside that environment
only). Identities are keyed by environment name, so further stages are further environments.

Subjects are trusted in the form the repository presents: the immutable ``repo:OWNER@ID/NAME@ID`` form
(looked up with ``gh``), plus the name form where GitHub may still present it. The plan is a list of
:mod:`mlops.cli_script` steps: a script to review, or ``--apply``; rerunning either changes nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from mlops.cli_script import Condition, Step, substitute
from mlops.errors import MlopsError
from mlops.oidc import AUDIENCE, GITHUB_ISSUER, IMMUTABLE_SINCE, MAX_CREDENTIALS_PER_APP, Repo, Workflow
from mlops.stage_roles import REGISTRIES, Grant, Registry, default_grants, workspace_scope

COMPUTE_OPERATOR = "AzureML Compute Operator"
RULESET_NAME = "main: pull requests and make check"
ML = "Microsoft.MachineLearningServices/workspaces"
# The trainer: what AzureML Data Scientist allows (read, write and run actions inside the workspace)
# minus every endpoint, so the unapproved train job cannot change what serves traffic. It does not
# delete either: training never needs to. docs/decisions.md says why each line is there.
TRAINER_ACTIONS = [f"{ML}/read", f"{ML}/*/read", f"{ML}/*/write", f"{ML}/*/action",
                   "Microsoft.MachineLearningServices/locations/*/read"]
TRAINER_NOT_ACTIONS = [
    f"{ML}/onlineEndpoints/*", f"{ML}/batchEndpoints/*", f"{ML}/serverlessEndpoints/*",
    f"{ML}/write", f"{ML}/delete", f"{ML}/listKeys/action",
    f"{ML}/computes/*/write", f"{ML}/computes/*/delete", f"{ML}/computes/listKeys/action",
    "Microsoft.Authorization/*/write",
]
_NAME_FORM_LOOKUP = f'if .created_at < "{IMMUTABLE_SINCE}" then "possible" else "" end'


@dataclass
class AppIdentity:
    """One app registration: the jobs of ``environment`` (``None``: the jobs without one) log in as it."""

    environment: str | None
    app_name: str
    tails: list[str]  # subjects without their repo: part, e.g. "ref:refs/heads/main"

    @property
    def suffix(self) -> str:
        """What this identity's variables end with in the script (``""`` or ``_PRODUCTION``)."""
        return "" if self.environment is None else "_" + re.sub(r"[^A-Z0-9]+", "_", self.environment.upper())

    def var(self, base: str) -> str:
        """This identity's name for a script variable."""
        return base + self.suffix

    @property
    def label(self) -> str:
        """How messages name it."""
        return "the repository identity" if self.environment is None else f"the {self.environment} identity"


@dataclass
class Options:
    """Where the identities get their roles and what else bootstrap sets up."""

    resource_group: str
    workspace: str
    subscription: str | None
    deploy_branch: str = "main"
    compute_operator: bool = False
    ruleset: bool = True
    required_checks: list[str] = field(default_factory=lambda: ["make check"])
    grants: dict[str, list[Grant]] = field(default_factory=dict)  # environment -> roles (mlops.stage_roles)
    registry: Registry | None = None  # two stages: looked up before any change
    environment_subscriptions: dict[str, str] = field(default_factory=dict)  # a stage in another subscription


@dataclass
class BootstrapPlan:
    """The steps, the identities they create, and what the admin should know before running them."""

    repo: Repo
    identities: list[AppIdentity]
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # (identity label, subject as the script writes it, when its form is trusted)
    trusts: list[tuple[str, str, tuple[Condition, ...]]] = field(default_factory=list)

    def trusted(self, variables: dict[str, str]) -> list[tuple[str, str]]:
        """After ``--apply``: each identity's subjects as GitHub will present them, with the IDs filled in."""
        return [(label, substitute(subject, variables)) for label, subject, conditions in self.trusts
                if all(condition.holds(variables) for condition in conditions)]


def identities_for(subjects: list[str], repo: Repo, app_name: str) -> list[AppIdentity]:
    """Group the subjects the login jobs present by environment: one identity each, the repository's first."""
    groups: dict[str | None, list[str]] = {None: []}
    prefix = repo.prefix + ":"
    for subject in subjects:
        tail = subject[len(prefix):] if subject.startswith(prefix) else subject
        environment = tail.split(":", 1)[1] if tail.startswith("environment:") else None
        groups.setdefault(environment, []).append(tail)
    return [AppIdentity(environment, app_name if environment is None else f"{app_name}-{environment}", tails)
            for environment, tails in groups.items() if tails or environment is None]


def pull_request_checks(workflows: list[Workflow]) -> list[str]:
    """The check names the pull-request workflows report (each job's ``name``, else its ID)."""
    checks = []
    for workflow in workflows:
        on = workflow.document.data.get("on", workflow.document.data.get("True"))
        events = on if isinstance(on, (list, dict)) else [on]
        if "pull_request" not in events:
            continue
        for job_id, job in (workflow.document.data.get("jobs") or {}).items():
            if isinstance(job, dict):
                checks.append(str(job.get("name", job_id)))
    return checks


def deploy_branch(workflows: list[Workflow]) -> str | None:
    """The one branch whose pushes run `mlops deploy` (deploy.yml's ``on: push: branches``), if one is named."""
    for workflow in workflows:
        data = workflow.document.data
        if "mlops deploy" not in workflow.text:
            continue
        on = data.get("on", data.get("True"))
        push = on.get("push") if isinstance(on, dict) else None
        branches = push.get("branches") if isinstance(push, dict) else None
        if isinstance(branches, list) and len(branches) == 1 and not any(c in str(branches[0]) for c in "*?[!"):
            return str(branches[0])
    return None


def credential_name(tail: str, immutable: bool) -> str:
    """A federated credential name (unique per app; letters, digits and hyphens) for a subject tail."""
    return ("github-" + ("id-" if immutable else "") + re.sub(r"[^A-Za-z0-9]+", "-", tail).strip("-"))[:120]


def trainer_role_name(resource_group: str, workspace: str) -> str:
    """The custom role's name: unique in the tenant, saying what it is for."""
    return f"AzureML trainer without endpoints ({resource_group}/{workspace})"


def trainer_role(name: str, scope: str) -> dict[str, Any]:
    """The custom role definition ``az role definition create`` takes."""
    return {"Name": name, "IsCustom": True, "AssignableScopes": [scope], "Actions": TRAINER_ACTIONS,
            "NotActions": TRAINER_NOT_ACTIONS, "DataActions": [], "NotDataActions": [],
            "Description": "Train in one Azure ML workspace (jobs, data, environments, models, runs) without "
                           "creating, changing or deleting online or batch endpoints and their deployments."}


def plan_bootstrap(repo: Repo, identities: list[AppIdentity], options: Options) -> BootstrapPlan:
    """The steps that give each identity exactly its subjects and roles, then the repo's guard rails."""
    plan = BootstrapPlan(repo, identities)
    add = plan.steps.append
    gh_repo = f"repos/{repo.slug}"
    add(Step("the tenant that will trust GitHub", ["az", "account", "show", "--query", "tenantId", "--output", "tsv"],
             capture="TENANT_ID"))
    subscription = options.subscription or "$SUBSCRIPTION_ID"
    if options.subscription is None:
        add(Step("the subscription of the workspace: the one `az account set` selected",
                 ["az", "account", "show", "--query", "id", "--output", "tsv"], capture="SUBSCRIPTION_ID"))
    forms = _subject_forms(plan, repo, gh_repo)
    add(Step("the repository's default branch", ["gh", "api", gh_repo, "--jq", ".default_branch"],
             capture="DEFAULT_BRANCH"))
    add(Step(f"deploy.yml deploys from {options.deploy_branch}: it must be the default branch", [],
             only_if=(Condition("differs", "DEFAULT_BRANCH", options.deploy_branch),),
             stop=f"{repo.slug}'s default branch is $DEFAULT_BRANCH but deploy.yml deploys from "
                  f"{options.deploy_branch}: rename the branch (`git branch -m {options.deploy_branch}`, then "
                  f"Settings → Default branch) or change deploy.yml's branches; nothing was changed"))
    add(Step("private repositories: the owner's plan decides whether environments exist",
             ["gh", "api", gh_repo, "--jq", 'if .private then .owner.type else "" end'], capture="PRIVATE_OWNER"))
    add(Step("the plan of the organisation that owns the private repository",
             ["gh", "api", f"orgs/{repo.owner}", "--jq", ".plan.name"], capture="PLAN",
             only_if=(Condition("equals", "PRIVATE_OWNER", "Organization"),)))
    add(Step("the plan of the user who owns the private repository", ["gh", "api", "user", "--jq", ".plan.name"],
             capture="PLAN", only_if=(Condition("equals", "PRIVATE_OWNER", "User"),)))
    if options.registry is not None:
        _registry_steps(plan, options.registry, subscription)
    scope = workspace_scope(subscription, options.resource_group, options.workspace)
    role = trainer_role_name(options.resource_group, options.workspace)
    repository, *environments = identities
    _identity_steps(plan, repository, forms, repo)
    _trainer_role_steps(plan, repository, role, scope, options)
    for name, value in (("AZURE_CLIENT_ID", repository.var("$APP_ID")), ("AZURE_TENANT_ID", "$TENANT_ID"),
                        ("AZURE_SUBSCRIPTION_ID", subscription)):
        add(Step(f"the repository secret {name} (an ID, not a password)",
                 ["gh", "secret", "set", name, "--repo", repo.slug, "--body", value]))
    if environments or options.ruleset:
        add(Step("environments and rulesets need a public repository or a paid plan", [],
                 only_if=(Condition("equals", "PLAN", "free"),), stop=_free_plan_message(repo, environments)))
    if environments:
        add(Step("the environments that already allow only chosen branches",
                 ["gh", "api", f"{gh_repo}/environments", "--jq",
                  ".environments[] | select(.deployment_branch_policy.custom_branch_policies == true) | .name"],
                 capture="GUARDED_ENVIRONMENTS"))
    for identity in environments:
        _identity_steps(plan, identity, forms, repo)
        for grant in options.grants.get(identity.environment) or default_grants(scope):
            add(Step(f"{grant.role} for {identity.label} {grant.why}", _assign(identity, grant.role, grant.scope)))
        _environment_steps(plan, identity, repo, options.deploy_branch)
        other_subscription = options.environment_subscriptions.get(identity.environment)
        if other_subscription:
            add(Step(f"the {identity.environment} environment's secret AZURE_SUBSCRIPTION_ID: its workspace is in "
                     "another subscription", ["gh", "secret", "set", "AZURE_SUBSCRIPTION_ID", "--env",
                                               identity.environment, "--repo", repo.slug, "--body",
                                               other_subscription]))
    if options.ruleset:
        _ruleset_steps(plan, repo, options)
    return plan


def _subject_forms(plan: BootstrapPlan, repo: Repo, gh_repo: str) -> list[tuple[Repo, tuple[Condition, ...]]]:
    """The repo forms to trust, each with the condition under which the script trusts it."""
    name_form = Repo(repo.owner, repo.name)
    if repo.owner_id:
        plan.notes.append(f"the IDs were given, not looked up: both subject forms are trusted ({repo.prefix}:... "
                          f"and {name_form.prefix}:...), as nothing tells which one {repo.slug} presents")
        return [(repo, ()), (name_form, ())]
    add = plan.steps.append
    add(Step("the owner's immutable ID (new repositories present repo:OWNER@OWNER_ID/REPO@REPO_ID:...)",
             ["gh", "api", gh_repo, "--jq", ".owner.id"], capture="OWNER_ID"))
    add(Step("the repository's immutable ID", ["gh", "api", gh_repo, "--jq", ".id"], capture="REPO_ID"))
    add(Step(f"created before {IMMUTABLE_SINCE}? then GitHub presents the name form unless an admin opted in, "
             "so both forms are trusted", ["gh", "api", gh_repo, "--jq", _NAME_FORM_LOOKUP], capture="NAME_FORM"))
    plan.notes.append(f"subjects are trusted in the immutable form {repo.owner}@$OWNER_ID/{repo.name}@$REPO_ID "
                      f"(gh looks the IDs up); for a repository created before {IMMUTABLE_SINCE} also in the name "
                      f"form {repo.slug}, since GitHub cannot be asked which one it presents (an app holds at most "
                      f"{MAX_CREDENTIALS_PER_APP} credentials, so both fit)")
    return [(Repo(repo.owner, repo.name, "$OWNER_ID", "$REPO_ID"), ()),
            (name_form, (Condition("equals", "NAME_FORM", "possible"),))]


def _registry_steps(plan: BootstrapPlan, registry: Registry, subscription: str) -> None:
    """Two stages share a registry: it must exist before its roles are granted, so look before any change."""
    plan.steps.append(Step(
        f"the registry {registry.name} that staging shares into and production deploys from",
        ["az", "resource", "list", "--subscription", subscription, "--resource-group", registry.resource_group,
         "--resource-type", REGISTRIES, "--query", f"[?name=='{registry.name}'].id", "--output", "tsv"],
        capture="REGISTRY_ID"))
    plan.steps.append(Step(
        "it must exist: bootstrap grants roles on it but does not create it", [],
        only_if=(Condition("empty", "REGISTRY_ID"),),
        stop=f"no Azure ML registry {registry.name} in resource group {registry.resource_group} "
             f"(azure-stages.json registry): create it once (`az ml registry create --resource-group "
             f"{registry.resource_group} --file registry.yml`, see the README), then run this again; nothing was "
             "changed"))


def _identity_steps(plan: BootstrapPlan, identity: AppIdentity, forms: list[tuple[Repo, tuple[Condition, ...]]],
                    repo: Repo) -> None:
    """The app (found by its exact name, refused if it trusts another repository), its principal, its subjects."""
    if len(identity.tails) * len(forms) > MAX_CREDENTIALS_PER_APP:
        raise MlopsError(f"bootstrap-oidc: {identity.label} needs {len(identity.tails) * len(forms)} federated "
                         f"credentials, but an app holds at most {MAX_CREDENTIALS_PER_APP}: use fewer branches")
    add = plan.steps.append
    app, sp, existing = identity.var("APP_ID"), identity.var("SP_ID"), identity.var("EXISTING_SUBJECTS")
    label = identity.label
    add(Step(f"{label}: the app registration named exactly {identity.app_name} (--display-name would also "
             "match longer names)",
             ["az", "ad", "app", "list", "--filter", f"displayName eq '{identity.app_name}'", "--query", "[0].appId",
              "--output", "tsv"], capture=app))
    add(Step(f"{label}: the subjects it already trusts",
             ["az", "ad", "app", "federated-credential", "list", "--id", f"${app}", "--query", "[].subject",
              "--output", "tsv"], capture=existing, only_if=(Condition("differs", app, ""),)))
    prefixes = "|".join(f"{form.prefix}:" for form, _ in forms)
    add(Step(f"{label}: refuse an app that trusts another repository", [],
             only_if=(Condition("foreign", existing, prefixes),),
             stop=f"app {identity.app_name} (${app}) already trusts subjects of another repository: it is not this "
                  f"repository's app; nothing of it was changed: pass --app-name with a name of its own"))
    add(Step(f"{label}: else create the app (no client secret is ever created)",
             ["az", "ad", "app", "create", "--display-name", identity.app_name, "--query", "appId", "--output", "tsv"],
             capture=app, only_if=(Condition("empty", app),)))
    add(Step(f"{label}: its service principal, if it exists already",
             ["az", "ad", "sp", "list", "--filter", f"appId eq '${app}'", "--query", "[0].id", "--output", "tsv"],
             capture=sp))
    add(Step(f"{label}: else create it", ["az", "ad", "sp", "create", "--id", f"${app}", "--query", "id",
                                          "--output", "tsv"], capture=sp, only_if=(Condition("empty", sp),)))
    for form, conditions in forms:
        for tail in identity.tails:
            subject = f"{form.prefix}:{tail}"
            parameters = {"name": credential_name(tail, form.owner_id is not None), "issuer": GITHUB_ISSUER,
                          "subject": subject, "audiences": [AUDIENCE], "description": f"GitHub Actions of {repo.slug}"}
            plan.trusts.append((label, subject, conditions))
            add(Step(f"{label}: trust GitHub tokens with subject {subject}",
                     ["az", "ad", "app", "federated-credential", "create", "--id", f"${app}", "--parameters",
                      json.dumps(parameters)], only_if=(*conditions, Condition("not-listed", existing, subject))))


def _assign(identity: AppIdentity, role: str, scope: str) -> list[str]:
    return ["az", "role", "assignment", "create", "--assignee-object-id", identity.var("$SP_ID"),
            "--assignee-principal-type", "ServicePrincipal", "--role", role, "--scope", scope, "--output", "none"]


def _trainer_role_steps(plan: BootstrapPlan, identity: AppIdentity, role: str, scope: str, options: Options) -> None:
    add = plan.steps.append
    add(Step("the custom role for training, if it exists already",
             ["az", "role", "definition", "list", "--name", role, "--custom-role-only", "true", "--scope", scope,
              "--query", "[0].roleName", "--output", "tsv"], capture="TRAINER_ROLE"))
    add(Step("else create it: AzureML Data Scientist's actions without any endpoint, assignable to this workspace only",
             ["az", "role", "definition", "create", "--role-definition", json.dumps(trainer_role(role, scope))],
             only_if=(Condition("empty", "TRAINER_ROLE"),)))
    add(Step(f"{role} for {identity.label} on the workspace only: it trains, it cannot deploy",
             _assign(identity, role, scope)))
    if options.compute_operator:
        add(Step(f"{COMPUTE_OPERATOR} for {identity.label} on the workspace, so `mlops train` can create the cluster",
                 _assign(identity, COMPUTE_OPERATOR, scope)))
    else:
        plan.notes.append(f"the training role cannot create compute: create the training cluster once as an admin "
                          f"(`mlops train` reuses it), or pass --compute-operator to also grant {COMPUTE_OPERATOR}")
    plan.notes.append("a custom role can take a minute to replicate: if its assignment fails with "
                      "RoleDefinitionDoesNotExist, run the same command again")


def _environment_steps(plan: BootstrapPlan, identity: AppIdentity, repo: Repo, branch: str) -> None:
    """The environment with a branch policy allowing ``branch`` only, and the identity's client ID as its secret."""
    add = plan.steps.append
    environment = identity.environment
    path = f"repos/{repo.slug}/environments/{environment}"
    add(Step(f"the environment {environment}, deployable from chosen branches only (its subject names no branch)",
             ["gh", "api", "--method", "PUT", path, "-F", "deployment_branch_policy[protected_branches]=false",
              "-F", "deployment_branch_policy[custom_branch_policies]=true", "--silent"],
             only_if=(Condition("not-listed", "GUARDED_ENVIRONMENTS", environment),)))
    policies = identity.var("BRANCH_POLICIES")
    add(Step(f"the branches {environment} already allows",
             ["gh", "api", f"{path}/deployment-branch-policies", "--jq", ".branch_policies[].name"], capture=policies))
    add(Step(f"{environment}: allow {branch} only",
             ["gh", "api", "--method", "POST", f"{path}/deployment-branch-policies", "-f", f"name={branch}",
              "-f", "type=branch", "--silent"], only_if=(Condition("not-listed", policies, branch),)))
    add(Step(f"the {environment} environment's secret AZURE_CLIENT_ID: inside {environment} it overrides the "
             "repository's, so only that environment's jobs log in as this identity",
             ["gh", "secret", "set", "AZURE_CLIENT_ID", "--env", environment, "--repo", repo.slug, "--body",
              identity.var("$APP_ID")]))


def _ruleset_steps(plan: BootstrapPlan, repo: Repo, options: Options) -> None:
    add = plan.steps.append
    add(Step("the ruleset on the deploy branch, if it exists already",
             ["gh", "api", f"repos/{repo.slug}/rulesets", "--jq", f'.[] | select(.name == "{RULESET_NAME}") | .id'],
             capture="RULESET_ID"))
    body = {"name": RULESET_NAME, "target": "branch", "enforcement": "active",
            "conditions": {"ref_name": {"include": [f"refs/heads/{options.deploy_branch}"], "exclude": []}},
            "rules": [{"type": "deletion"}, {"type": "non_fast_forward"},
                      {"type": "pull_request", "parameters": {
                          "required_approving_review_count": 0, "dismiss_stale_reviews_on_push": False,
                          "require_code_owner_review": False, "require_last_push_approval": False,
                          "required_review_thread_resolution": False}},
                      {"type": "required_status_checks", "parameters": {
                          "strict_required_status_checks_policy": False,
                          "required_status_checks": [{"context": check} for check in options.required_checks]}}]}
    add(Step(f"else create it: {options.deploy_branch} changes only through pull requests whose "
             f"{', '.join(options.required_checks)} passed (skip with --no-ruleset)",
             ["gh", "api", "--method", "POST", f"repos/{repo.slug}/rulesets", "--input", "-", "--silent"],
             only_if=(Condition("empty", "RULESET_ID"),), stdin=json.dumps(body, indent=2)))


def _free_plan_message(repo: Repo, environments: list[AppIdentity]) -> str:
    names = ", ".join(identity.environment for identity in environments) or "none"
    return (f"{repo.slug} is private and its owner is on GitHub Free, which has no environments and no rulesets "
            f"for private repositories. Done so far: the repository identity, its role and the three repository "
            f"secrets (training works). Not done: the environment(s) {names} with their own identity, and the "
            f"ruleset; the deploy job cannot log in until they exist. Choose one: make the repository public, or "
            f"move to GitHub Pro (user) or Team (organisation); then run bootstrap-oidc again")
