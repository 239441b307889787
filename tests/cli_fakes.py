"""Fake ``az`` and ``gh`` executables for tests: they record every call and keep a small tenant in a JSON file.

They understand exactly the commands ``mlops bootstrap-oidc`` and ``mlops doctor`` run, and fail loudly
(exit 2) on any other, so a changed command cannot pass unnoticed. ``FAKE_CLI_FAIL=text`` makes the call
whose arguments contain ``text`` fail like the real CLI does.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

TENANT = "11111111-1111-1111-1111-111111111111"
SUBSCRIPTION = "33333333-3333-3333-3333-333333333333"

SCRIPT = r'''#!{python}
import json, os, sys
from pathlib import Path

folder = Path({folder!r})
tool = Path(sys.argv[0]).name
args = sys.argv[1:]
with open(folder / "calls.jsonl", "a") as calls:
    calls.write(json.dumps([tool, *args]) + "\n")
state_file = folder / "state.json"
state = {{"apps": {{}}, "sps": {{}}, "creds": {{}}, "roles": [], "secrets": {{}}, "environments": []}}
if state_file.exists():
    state.update(json.loads(state_file.read_text()))
fail = os.environ.get("FAKE_CLI_FAIL")
if fail and fail in " ".join(args):
    print(f"ERROR: (Forbidden) Insufficient privileges to complete the operation.", file=sys.stderr)
    sys.exit(1)

def option(name):
    return args[args.index(name) + 1]

def out(value):
    print(value)

if tool == "az" and args[:2] == ["account", "show"]:
    out({tenant!r} if option("--query") == "tenantId" else {subscription!r})
elif tool == "az" and args[:3] == ["ad", "app", "list"]:
    out(state["apps"].get(option("--display-name"), ""))
elif tool == "az" and args[:3] == ["ad", "app", "create"]:
    app_id = f"00000000-0000-0000-0000-{{len(state['apps']) + 1:012d}}"
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
elif tool == "az" and args[:3] == ["role", "assignment", "create"]:
    state["roles"].append([option("--assignee-object-id"), option("--role"), option("--scope")])
elif tool == "gh" and args[:2] == ["secret", "set"]:
    state["secrets"][args[2]] = option("--body")
elif tool == "gh" and args[:3] == ["api", "--method", "PUT"]:
    state["environments"].append(args[3])
else:
    print(f"fake {{tool}}: unexpected command: {{args}}", file=sys.stderr)
    sys.exit(2)
state_file.write_text(json.dumps(state, indent=1))
'''


def install(folder: Path) -> Path:
    """Write fake ``az`` and ``gh`` into ``folder``; return it (put it first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    for tool in ("az", "gh"):
        path = folder / tool
        path.write_text(SCRIPT.format(python=sys.executable, folder=str(folder), tenant=TENANT,
                                      subscription=SUBSCRIPTION), "utf-8")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return folder


def calls(folder: Path) -> list[list[str]]:
    """Every recorded call, in order, as ``[tool, *args]``."""
    log = folder / "calls.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def state(folder: Path) -> dict:
    """The fake tenant and repository after the calls."""
    return json.loads((folder / "state.json").read_text())


def path_with(folder: Path) -> str:
    """A PATH that finds the fakes first."""
    return f"{folder}{os.pathsep}{os.environ['PATH']}"
