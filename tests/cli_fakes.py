"""Fake ``az`` and ``gh`` executables for tests: they record every call and keep a small tenant and repo in JSON.

They understand exactly the commands ``mlops bootstrap-oidc`` and ``mlops doctor`` run, and fail loudly
(exit 2) on any other, so a changed command cannot pass unnoticed. ``FAKE_CLI_FAIL=text`` makes the call
whose arguments contain ``text`` fail like the real CLI does. ``az ad app list --display-name`` matches
by prefix, as the real one does; ``--filter "displayName eq '...'"`` matches exactly.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

TENANT = "11111111-1111-1111-1111-111111111111"
SUBSCRIPTION = "33333333-3333-3333-3333-333333333333"
# the GitHub repository as `gh api repos/O/R` describes it (a new repository: it presents the ID form)
REPOSITORY = {"owner_id": 4242, "id": 1717, "created_at": "2026-07-01T09:00:00Z", "default_branch": "main",
              "private": False, "owner_type": "Organization"}

SCRIPT = r'''#!@@PYTHON@@
import json, os, re, sys
from pathlib import Path

CONFIG = json.loads(@@CONFIG@@)
folder = Path(CONFIG["folder"])
tool = Path(sys.argv[0]).name
args = sys.argv[1:]
stdin = sys.stdin.read() if "--input" in args else None
with open(folder / "calls.jsonl", "a") as calls:
    calls.write(json.dumps([tool, *args]) + "\n")
state_file = folder / "state.json"
state = {"apps": {}, "sps": {}, "creds": {}, "roles": [], "role_definitions": {}, "secrets": {},
         "environment_secrets": {}, "environments": {}, "branch_policies": {}, "rulesets": [], "registries": [],
         "repository": CONFIG["repository"], "plans": {"org": "team", "user": "pro"}}
if state_file.exists():
    state.update(json.loads(state_file.read_text()))
BUILT_IN_ROLES = {"AzureML Data Scientist", "AzureML Compute Operator", "AzureML Registry User", "Reader"}
fail = os.environ.get("FAKE_CLI_FAIL")
if fail and fail in " ".join(args):
    print("ERROR: (Forbidden) Insufficient privileges to complete the operation.", file=sys.stderr)
    sys.exit(1)


def option(name, default=None):
    return args[args.index(name) + 1] if name in args else default


def out(value):
    print(value)


def unexpected():
    print(f"fake {tool}: unexpected command: {args}", file=sys.stderr)
    sys.exit(2)


def repository_field(jq):
    repo = state["repository"]
    answers = {
        ".owner.id": repo["owner_id"], ".id": repo["id"], ".default_branch": repo["default_branch"],
        ".owner.id, .id, .created_at": f"{repo['owner_id']}\n{repo['id']}\n{repo['created_at']}",
        'if .created_at < "2026-06-18" then "possible" else "" end':
            "possible" if repo["created_at"] < "2026-06-18" else "",
        'if .private then .owner.type else "" end': repo["owner_type"] if repo["private"] else "",
    }
    if jq not in answers:
        unexpected()
    return answers[jq]


def gh_api_get(path, jq):
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "repos":
        return repository_field(jq)
    if parts[0] == "orgs" and jq == ".plan.name":
        return state["plans"]["org"]
    if parts == ["user"] and jq == ".plan.name":
        return state["plans"]["user"]
    if parts[3:4] == ["environments"] and len(parts) == 4 and jq == (
            ".environments[] | select(.deployment_branch_policy.custom_branch_policies == true) | .name"):
        return "\n".join(name for name, env in state["environments"].items() if env.get("custom_branch_policies"))
    policies = parts[3:4] == ["environments"] and parts[5:] == ["deployment-branch-policies"]
    if policies and jq == ".branch_policies[].name":
        return "\n".join(state["branch_policies"].get(parts[4], []))
    match = re.fullmatch(r'\.\[\] \| select\(\.name == "(.+)"\) \| \.id', jq or "")
    if parts[3:] == ["rulesets"] and match:
        return "\n".join(str(r["id"]) for r in state["rulesets"] if r["name"] == match.group(1))
    unexpected()


if tool == "az" and args[:2] == ["account", "show"]:
    out(CONFIG["tenant"] if option("--query") == "tenantId" else CONFIG["subscription"])
elif tool == "az" and args[:3] == ["ad", "app", "list"]:
    if "--filter" in args:
        name = re.fullmatch(r"displayName eq '(.*)'", option("--filter")).group(1)
        found = [app_id for app_name, app_id in state["apps"].items() if app_name == name]
    else:  # the real CLI filters with startswith(displayName, ...)
        found = [app_id for app_name, app_id in state["apps"].items() if app_name.startswith(option("--display-name"))]
    out(found[0] if found else "")
elif tool == "az" and args[:3] == ["ad", "app", "create"]:
    app_id = f"00000000-0000-0000-0000-{len(state['apps']) + 1:012d}"
    state["apps"][option("--display-name")] = app_id
    out(app_id)
elif tool == "az" and args[:3] == ["ad", "sp", "list"]:
    app_id = option("--filter").split("'")[1]
    out(state["sps"].get(app_id, ""))
elif tool == "az" and args[:3] == ["ad", "sp", "create"]:
    state["sps"][option("--id")] = "sp-" + option("--id")
    out(state["sps"][option("--id")])
elif tool == "az" and args[:4] == ["ad", "app", "federated-credential", "list"]:
    creds = state["creds"].get(option("--id"), [])
    if "--query" in args:
        out("\n".join(c["subject"] for c in creds))
    else:
        out(json.dumps(creds))
elif tool == "az" and args[:4] == ["ad", "app", "federated-credential", "create"]:
    cred = json.loads(option("--parameters"))
    creds = state["creds"].setdefault(option("--id"), [])
    if any(c["name"] == cred["name"] for c in creds):
        print("ERROR: FederatedIdentityCredential with name already exists", file=sys.stderr)
        sys.exit(1)
    creds.append(cred)
    out(json.dumps(cred))
elif tool == "az" and args[:3] == ["role", "definition", "list"]:
    out(option("--name") if option("--name") in state["role_definitions"] else "")
elif tool == "az" and args[:3] == ["role", "definition", "create"]:
    definition = json.loads(option("--role-definition"))
    state["role_definitions"][definition["Name"]] = definition
elif tool == "az" and args[:3] == ["role", "assignment", "create"]:
    role = option("--role")
    if role not in BUILT_IN_ROLES and not (" trainer " in role and role in state["role_definitions"]):
        print(f"ERROR: Role '{role}' doesn't exist.", file=sys.stderr)
        sys.exit(1)
    assignment = [option("--assignee-object-id"), role, option("--scope")]
    if assignment not in state["roles"]:  # the real CLI answers an existing assignment without a change
        state["roles"].append(assignment)
elif tool == "az" and args[:2] == ["resource", "list"]:
    if option("--resource-type") != "Microsoft.MachineLearningServices/registries":
        unexpected()
    name = re.fullmatch(r"\[\?name=='(.+)'\]\.id", option("--query")).group(1)
    group = option("--resource-group")
    out(f"/subscriptions/{option('--subscription')}/resourceGroups/{group}/providers/"
        f"Microsoft.MachineLearningServices/registries/{name}" if [group, name] in state["registries"] else "")
elif tool == "gh" and args[:2] == ["secret", "set"]:
    if "--env" in args:
        if option("--env") not in state["environments"]:
            print(f"failed to set secret: environment {option('--env')} not found (HTTP 404)", file=sys.stderr)
            sys.exit(1)
        state["environment_secrets"].setdefault(option("--env"), {})[args[2]] = option("--body")
    else:
        state["secrets"][args[2]] = option("--body")
elif tool == "gh" and args[:1] == ["api"] and "--method" not in args:
    out(gh_api_get(args[1], option("--jq")))
elif tool == "gh" and args[:3] == ["api", "--method", "PUT"] and args[3].split("/")[3] == "environments":
    fields = dict(value.split("=", 1) for flag, value in zip(args, args[1:]) if flag == "-F")
    state["environments"][args[3].split("/")[4]] = {
        "custom_branch_policies": fields["deployment_branch_policy[custom_branch_policies]"] == "true",
        "protected_branches": fields["deployment_branch_policy[protected_branches]"] == "true"}
elif tool == "gh" and args[:3] == ["api", "--method", "POST"] and args[3].endswith("/deployment-branch-policies"):
    fields = dict(value.split("=", 1) for flag, value in zip(args, args[1:]) if flag == "-f")
    state["branch_policies"].setdefault(args[3].split("/")[4], []).append(fields["name"])
elif tool == "gh" and args[:3] == ["api", "--method", "POST"] and args[3].endswith("/rulesets"):
    ruleset = json.loads(stdin)
    state["rulesets"].append({**ruleset, "id": 100 + len(state["rulesets"])})
else:
    unexpected()
state_file.write_text(json.dumps(state, indent=1))
'''


def install(folder: Path, repository: dict | None = None) -> Path:
    """Write fake ``az`` and ``gh`` into ``folder``; return it (put it first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    config = {"folder": str(folder), "tenant": TENANT, "subscription": SUBSCRIPTION,
              "repository": {**REPOSITORY, **(repository or {})}}
    for tool in ("az", "gh"):
        path = folder / tool
        path.write_text(SCRIPT.replace("@@PYTHON@@", sys.executable).replace("@@CONFIG@@", repr(json.dumps(config))),
                        "utf-8")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return folder


def calls(folder: Path) -> list[list[str]]:
    """Every recorded call, in order, as ``[tool, *args]``."""
    log = folder / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def state(folder: Path) -> dict:
    """The fake tenant and repository after the calls."""
    return json.loads((folder / "state.json").read_text())


def seed(folder: Path, **entries) -> None:
    """Start the fake tenant and repository with ``entries`` (e.g. apps, creds, plans)."""
    (folder / "state.json").write_text(json.dumps(entries))


def path_with(folder: Path) -> str:
    """A PATH that finds the fakes first."""
    return f"{folder}{os.pathsep}{os.environ['PATH']}"
