"""Offline checks of every GitHub workflow we ship: the template's own and each generated variant's.

Three linters (zizmor's auditor persona, GitHub's workflow and Dependabot JSON schemas as vendored by
check-jsonschema, and jactionlint, actionlint's maintained fork, with shellcheck) must report nothing;
structural tests pin down the security design; a drift test proves the pull-request workflow runs
exactly what `make check` runs locally.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from conftest import BIN, TEMPLATE, bake, mlops, run

FRAMEWORKS = json.loads((TEMPLATE / "cookiecutter.json").read_text())["framework"]
PINNED_USES = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$")
AZURE_SECRETS = {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID"}
# zizmor's ignore comments (jactionlint honours them too), jactionlint's own, and shellcheck's.
IGNORE_COMMENT = re.compile(r"(?:zizmor: ?ignore\[|jactionlint ignore=|shellcheck disable=)([\w,-]+)\]?(.*)$")
# Every inline ignore we ship, with the rule it silences; the reason must sit on the same line.
ALLOWED_IGNORES = {
    ("deploy.yml", "secrets-outside-env"): 9,  # preflight (3), train (3), cancelling train's Azure job (3)
}
# The staging-production deploy.yml: the same three steps before any approval.
TWO_STAGE_IGNORES = {("deploy.yml", "secrets-outside-env"): 9}


TWO_STAGES = "staging-production"


@pytest.fixture(scope="module", params=["template", *FRAMEWORKS, TWO_STAGES])
def github_dir(request, tmp_path_factory) -> Path:
    """The `.github` folder of the template repo, or of a freshly generated repo of one framework or two stages."""
    if request.param == "template":
        return TEMPLATE / ".github"
    if request.param == TWO_STAGES:
        return bake(tmp_path_factory.mktemp("wf-two-stage"), stages=TWO_STAGES) / ".github"
    return bake(tmp_path_factory.mktemp(f"wf-{request.param}"), framework=request.param) / ".github"


@pytest.fixture(scope="module")
def two_stage(tmp_path_factory) -> Path:
    """A generated repo with staging and production."""
    return bake(tmp_path_factory.mktemp("wf-two-stage-repo"), stages=TWO_STAGES)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated repo of the default framework (workflows are the same for every framework)."""
    return bake(tmp_path_factory.mktemp("wf-generated"))


def workflows(github_dir: Path) -> list[Path]:
    return sorted((github_dir / "workflows").glob("*.yml"))


def load(path: Path) -> dict:
    """A workflow as data; PyYAML reads the key `on` as True, so it is renamed back."""
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(workflow: dict):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


def zizmor(target: Path):
    """zizmor's auditor persona, offline, ignoring any config file a machine or repo may hold."""
    return run([str(BIN / "zizmor"), "--offline", "--no-config", "--persona", "auditor", "--no-progress",
                str(target)], target.parent, check=False)


def actionlint(*targets: Path):
    """jactionlint's strictest profile with shellcheck, offline, ignoring any config file."""
    result = run([str(BIN / "jactionlint"), "--config-file=/dev/null", "--no-online", "--no-color",
                  f"--shellcheck={BIN / 'shellcheck'}", "--profile", "pedantic", "--strict-exit",
                  *map(str, targets)], targets[0].parent, check=False)
    assert "shellcheck was not found" not in result.stderr
    return result


# --- the three linters ------------------------------------------------------------------------------

def test_zizmor_auditor_persona_finds_nothing(github_dir):
    result = zizmor(github_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_workflows_and_dependabot_match_githubs_schemas(github_dir):
    check = str(BIN / "check-jsonschema")
    run([check, "--builtin-schema", "vendor.github-workflows", *map(str, workflows(github_dir))], github_dir)
    run([check, "--builtin-schema", "vendor.dependabot", str(github_dir / "dependabot.yml")], github_dir)


def test_actionlint_with_shellcheck_finds_nothing(github_dir):
    result = actionlint(*workflows(github_dir), github_dir / "dependabot.yml")
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


BAD_WORKFLOW = """\
name: bad
on: pull_request_target
permissions: {}
jobs:
  build:
    runs-on: ubuntu-24.04
    timeout-minutes: 5
    steps:
      - uses: actions/checkout@v4
      - run: echo $1 "${{ github.event.pull_request.title }}"
"""


def test_the_linters_do_catch_a_bad_workflow(tmp_path):
    """The checks above are live: each tool fails on a workflow with the mistakes it exists to catch."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW)
    audit = zizmor(bad)
    assert audit.returncode != 0
    for rule in ("unpinned-uses", "dangerous-triggers", "template-injection", "artipacked"):
        assert rule in audit.stdout, rule
    lint = actionlint(bad)
    assert lint.returncode != 0
    assert "SC2086" in lint.stdout, "shellcheck did not run on the run: scripts"
    bad.write_text(BAD_WORKFLOW.replace("timeout-minutes: 5", "timeout-minutes: soon"))
    schema = run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(bad)],
                 tmp_path, check=False)
    assert schema.returncode != 0 and "timeout-minutes" in schema.stdout


def test_inline_ignores_are_the_listed_ones_each_with_a_reason(github_dir):
    found: dict[tuple[str, str], int] = {}
    for path in workflows(github_dir) + [github_dir / "dependabot.yml"]:
        for line in path.read_text().splitlines():
            for rule, reason in IGNORE_COMMENT.findall(line):
                assert len(reason.strip()) > 20, f"{path.name}: ignore[{rule}] needs its reason on the line"
                found[(path.name, rule)] = found.get((path.name, rule), 0) + 1
    allowed = TWO_STAGE_IGNORES if (github_dir / "workflows" / "rollback.yml").exists() else ALLOWED_IGNORES
    expected = {key: n for key, n in allowed.items() if (github_dir / "workflows" / key[0]).exists()}
    assert found == expected


# --- hardening, for every workflow --------------------------------------------------------------------

def test_every_workflow_is_hardened(github_dir):
    for path in workflows(github_dir):
        text, workflow = path.read_text(), load(path)
        assert workflow["permissions"] == {}, f"{path.name}: top-level permissions must be {{}}"
        assert "pull_request_target" not in workflow["on"], path.name
        for job_id, job in workflow["jobs"].items():
            assert isinstance(job.get("permissions"), dict), f"{path.name}: {job_id} needs its own permissions"
            assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: {job_id} needs timeout-minutes"
        for line in text.splitlines():
            if re.match(r"^\s*(?:- )?uses:", line):
                assert PINNED_USES.match(line), f"{path.name}: not pinned to a SHA with its version: {line.strip()}"
        for job_id, step in steps(workflow):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{path.name}: {job_id} checkout"
            assert "${{" not in step.get("run", ""), f"{path.name}: {job_id} puts an expression in run:"


def test_every_toolkit_command_a_workflow_runs_exists(github_dir):
    from mlops.commands import COMMANDS

    for path in workflows(github_dir):
        for job_id, step in steps(load(path)):
            for command in re.findall(r"\bmlops ([a-z-]+)", step.get("run", "")):
                assert command in COMMANDS, f"{path.name}: {job_id} runs `mlops {command}`, which the toolkit lacks"


def test_dependabot_keeps_the_actions_current(github_dir):
    config = yaml.safe_load((github_dir / "dependabot.yml").read_text())
    assert {"package-ecosystem": "github-actions", "directory": "/"}.items() <= config["updates"][0].items()


def test_template_ci_runs_make_test_on_every_python_a_repo_can_choose():
    workflow = load(TEMPLATE / ".github" / "workflows" / "ci.yml")
    choices = json.loads((TEMPLATE / "cookiecutter.json").read_text())["python_version"]
    assert workflow["jobs"]["test"]["strategy"]["matrix"]["python"] == choices
    assert [step["run"] for job, step in steps(workflow) if "run" in step and job == "test"] == ["make test"]
    assert "make test" in (TEMPLATE / ".ci" / "run").read_text()


def test_template_ci_runs_the_generated_repos_checks_on_macos_and_windows_too():
    workflow = load(TEMPLATE / ".github" / "workflows" / "ci.yml")
    job = workflow["jobs"]["other-os"]
    assert {os_name.split("-")[0] for os_name in job["strategy"]["matrix"]["os"]} == {"macos", "windows"}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    # cookiecutter from the template's lock, the toolkit from the generated repo's; no make on Windows
    assert runs == ["uv run --no-project --with-requirements requirements-dev.lock cookiecutter --no-input "
                    "--output-dir build .",
                    "uv run --no-project --python 3.11 --with-requirements scripts/requirements.lock --with "
                    "./scripts mlops check"]


# --- the generated repo's design -------------------------------------------------------------------

def oidc_subject(job: dict, repo: str = "OWNER/REPO") -> str:
    """The subject a push-to-main job presents to Entra ID: the environment's if it has one, else the branch's."""
    if "environment" in job:
        name = job["environment"] if isinstance(job["environment"], str) else job["environment"]["name"]
        return f"repo:{repo}:environment:{name}"
    return f"repo:{repo}:ref:refs/heads/main"


def logs_in(job: dict) -> bool:
    """A step that gets the login secrets and runs more than the preflight check (which only tests they are set)."""
    return any(set(step.get("env", {})) >= AZURE_SECRETS and step.get("run") != "make preflight"
               for step in job.get("steps", []))


def test_pull_request_workflow_needs_no_secret_and_no_token(generated):
    path = generated / ".github" / "workflows" / "pr.yml"
    workflow = load(path)
    assert set(workflow["on"]) == {"pull_request"}
    assert not re.search(r"\bsecrets\b", json.dumps(workflow)), "pr.yml reads a secret"
    for job_id, job in workflow["jobs"].items():
        assert set(job["permissions"].items()) <= {("contents", "read")}, job_id
    uploads = [step for _, step in steps(workflow) if step.get("uses", "").startswith("actions/upload-artifact@")]
    assert [step["with"]["path"] for step in uploads] == ["outputs/", "build/api-test/\nbuild/smoke/\n"]
    assert uploads[1]["if"] == "${{ failure() }}"  # the servers' logs, when a step failed


def test_only_the_jobs_that_log_in_get_an_id_token(generated):
    workflow = load(generated / ".github" / "workflows" / "deploy.yml")
    with_token = {job_id for job_id, job in workflow["jobs"].items() if job["permissions"].get("id-token") == "write"}
    logging_in = {job_id for job_id, job in workflow["jobs"].items() if logs_in(job)}
    assert with_token == logging_in == {"train", "deploy"}


def test_deploy_runs_in_production_and_is_never_cancelled_in_flight(generated):
    workflow = load(generated / ".github" / "workflows" / "deploy.yml")
    assert set(workflow["on"]) == {"push", "workflow_dispatch"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    deploy, train = workflow["jobs"]["deploy"], workflow["jobs"]["train"]
    assert deploy["environment"] == "production" and deploy["needs"] == "train"
    concurrency = deploy.get("concurrency", workflow.get("concurrency"))
    assert concurrency["group"] and concurrency["cancel-in-progress"] is False
    # A manual run from another branch would present a subject no federated credential matches; before
    # bootstrap-oidc, preflight says so and nothing runs.
    assert train["if"] == "${{ needs.preflight.outputs.connected == 'true' && github.ref == 'refs/heads/main' }}"
    assert train["needs"] == "preflight"
    assert {oidc_subject(job) for job in workflow["jobs"].values()} == {
        "repo:OWNER/REPO:ref:refs/heads/main", "repo:OWNER/REPO:environment:production"}


def test_two_stages_train_once_and_promote_the_version_staging_shared(two_stage):
    workflow = load(two_stage / ".github" / "workflows" / "deploy.yml")
    jobs = workflow["jobs"]
    assert list(jobs) == ["preflight", "train", "staging", "production"]
    assert (jobs["staging"]["needs"], jobs["production"]["needs"]) == ("train", "staging")
    assert {job_id: job.get("environment") for job_id, job in jobs.items()} == {
        "preflight": None, "train": None, "staging": "staging", "production": "production"}
    runs = {job_id: [step["run"] for step in job["steps"] if "run" in step] for job_id, job in jobs.items()}
    assert runs["train"][-2:] == ["exec .venv/bin/mlops train", ".venv/bin/mlops train --cancel"]
    assert runs["staging"][-2:] == ["exec .venv/bin/mlops deploy", ".venv/bin/mlops share"]
    # production never trains: it deploys the exact version the staging job handed over as its output
    assert runs["production"][-1] == 'exec .venv/bin/mlops promote --version "$VERSION"'
    assert not any("train" in command or "deploy" in command.split()[-1] for command in runs["production"])
    share = next(step for step in jobs["staging"]["steps"] if step.get("id") == "share")
    assert jobs["staging"]["outputs"] == {"version": "${{ steps.share.outputs.version }}"}
    assert share["run"].endswith("mlops share")
    promote = jobs["production"]["steps"][-1]
    assert promote["env"]["VERSION"] == "${{ needs.staging.outputs.version }}"
    assert "latest" not in json.dumps(workflow)
    with_token = {job_id for job_id, job in jobs.items() if job["permissions"].get("id-token") == "write"}
    assert with_token == {job_id for job_id, job in jobs.items() if logs_in(job)} == set(jobs) - {"preflight"}
    assert {oidc_subject(job) for job in jobs.values()} == {
        "repo:OWNER/REPO:ref:refs/heads/main", "repo:OWNER/REPO:environment:staging",
        "repo:OWNER/REPO:environment:production"}


def test_rollback_is_one_dispatch_naming_a_version_in_production(two_stage):
    workflow = load(two_stage / ".github" / "workflows" / "rollback.yml")
    deploy = load(two_stage / ".github" / "workflows" / "deploy.yml")
    assert set(workflow["on"]) == {"workflow_dispatch"}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["version"]["required"] is True
    (job,) = workflow["jobs"].values()
    assert job["environment"] == "production"
    assert workflow["concurrency"] == deploy["concurrency"]  # never interleaves with a promotion
    step = job["steps"][-1]
    assert step["env"]["VERSION"] == "${{ inputs.version }}"  # through env, never into the script's text
    assert step["run"] == 'exec .venv/bin/mlops rollback --version "$VERSION"'


def test_readme_asks_for_every_secret_and_environment_the_workflows_use(generated):
    readme = (generated / "README.md").read_text()
    used = set()
    for path in workflows(generated / ".github"):
        used |= set(re.findall(r"secrets\.(\w+)", path.read_text()))
        used |= {f"`{job['environment']}`" for job in load(path)["jobs"].values() if "environment" in job}
    assert used == AZURE_SECRETS | {"`production`"}
    missing = [name for name in used if name not in readme]
    assert not missing, f"README.md never asks for {missing}"
    row = next(line for line in readme.splitlines() if line.startswith("| `.github/workflows/pr.yml`"))
    pr_steps = [step["run"] for _, step in steps(load(generated / ".github" / "workflows" / "pr.yml")) if "run" in step]
    listed = [command for command in re.findall(r"`(make [a-z-]+)`", row) if command != "make check"]
    assert listed == pr_steps, "README.md's pr.yml row must list pr.yml's steps"


def test_bootstrap_trusts_exactly_the_subjects_doctor_finds_in_the_shipped_workflows(generated, tmp_path):
    """The federated credentials `mlops bootstrap-oidc` creates let every login of deploy.yml through."""
    script = mlops("bootstrap-oidc", "--repo", "acme/iris", "--subscription", "0" * 8 + "-0000-0000-0000-" + "0" * 12,
                   cwd=generated, check=True).stdout
    trusted = re.findall(r"^# the (\w+) identity: trust GitHub tokens with subject (\S+)$", script, re.MULTILINE)
    assert trusted == [("repository", "repo:acme@$OWNER_ID/iris@$REPO_ID:ref:refs/heads/main"),
                       ("repository", "repo:acme/iris:ref:refs/heads/main"),
                       ("production", "repo:acme@$OWNER_ID/iris@$REPO_ID:environment:production"),
                       ("production", "repo:acme/iris:environment:production")]
    files = []
    for identity in ("repository", "production"):
        credentials = tmp_path / f"{identity}.json"
        credentials.write_text(json.dumps([{"name": f"c{i}", "issuer": "https://token.actions.githubusercontent.com",
                                            "subject": subject.replace("$OWNER_ID", "7").replace("$REPO_ID", "8"),
                                            "audiences": ["api://AzureADTokenExchange"]}
                                           for i, (who, subject) in enumerate(trusted) if who == identity]))
        files += ["--credentials", str(credentials) if identity == "repository" else f"production={credentials}"]
    for ids in ([], ["--org-id", "7", "--repo-id", "8"]):  # an older repository, then a new one
        doctor = mlops("doctor", "--repo", "acme/iris", *files, *ids, cwd=generated, check=True)
        assert "all well: 2 job(s) log in" in doctor.stdout


# --- no drift between the pull-request workflow and `make check` -----------------------------------

def dry_run(repo: Path, target: str) -> list[str]:
    """The commands `make TARGET` would run, without running them."""
    result = subprocess.run(["make", "-n", target], cwd=repo, capture_output=True, text=True, check=True)
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_pull_request_workflow_runs_exactly_what_make_check_runs(generated):
    workflow = load(generated / ".github" / "workflows" / "pr.yml")
    commands = [step["run"].strip() for _, step in steps(workflow) if "run" in step]
    targets = []
    for command in commands:
        match = re.fullmatch(r"make ([a-z-]+)", command)
        assert match, f"pr.yml step `{command}` is not one make target, so `make check` cannot vouch for it"
        targets.append(match.group(1))
    check = dry_run(generated, "check")
    for target in targets:
        extra = [line for line in dry_run(generated, target) if line not in check]
        assert not extra, f"`make {target}` in pr.yml runs what `make check` does not: {extra}"
    prerequisites = re.search(r"^check:([^#\n]*)", (generated / "Makefile").read_text(), re.MULTILINE).group(1).split()
    missing = [target for target in prerequisites if target not in targets]
    assert not missing, f"pr.yml lacks a step `run: make {missing[0]}` for `make check`'s {missing}"
    assert [t for t in targets if t in prerequisites] == prerequisites, "pr.yml must run the check steps in order"


# --- the weekly template drift check -------------------------------------------------------------------

def test_template_drift_runs_weekly_read_only_one_toolkit_command_per_step(generated):
    workflow = load(generated / ".github" / "workflows" / "template-drift.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert len(workflow["on"]["schedule"]) == 1
    assert [job["permissions"] for job in workflow["jobs"].values()] == [{"contents": "read"}]
    assert "secrets" not in json.dumps(workflow)
    commands = [step["run"].strip() for _, step in steps(workflow) if "run" in step]
    assert commands == ["make setup", "make drift"]
    setup = dry_run(generated, "setup")
    toolkit = [line for line in dry_run(generated, "drift") if "bin/mlops" in line and line not in setup]
    assert toolkit == [".venv/bin/mlops drift"], "make drift must run one toolkit command after setup"
# --- the first push: deploy.yml's preflight job, run step by step as the runner would --------------

SECRET_EXPRESSION = re.compile(r"^\$\{\{ secrets\.([A-Za-z_]+) \}\}$")


def run_job(repo: Path, workflow: dict, job_id: str, secrets: dict[str, str], tmp_path: Path) -> dict:
    """Run a job's `run:` steps in ``repo`` with bash, as the runner does, until one fails.

    ``uses:`` steps are skipped (the checkout is ``repo`` itself); a step's `env:` may only read
    secrets, which come from ``secrets`` (unset ones are empty, as on GitHub). Returns the exit code,
    the output, the step outputs, the step summary and the seconds taken.
    """
    output, summary = tmp_path / "github_output", tmp_path / "step_summary.md"
    output.write_text("")
    base = {key: value for key, value in os.environ.items() if not key.startswith(("AZURE_", "GITHUB_"))}
    base.update(GITHUB_ACTIONS="true", GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
    started, code, text = time.monotonic(), 0, ""
    for step in workflow["jobs"][job_id]["steps"]:
        if "run" not in step:
            continue
        env = dict(base)
        for name, expression in (step.get("env") or {}).items():
            match = SECRET_EXPRESSION.match(str(expression))
            assert match, f"{job_id}: step env {name} is not a secret: {expression}"
            env[name] = secrets.get(match.group(1), "")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=repo,
                                env=env, capture_output=True, text=True, timeout=120)
        code, text = result.returncode, text + result.stdout + result.stderr
        if code:
            break
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return {"code": code, "text": text, "outputs": outputs, "seconds": time.monotonic() - started,
            "summary": summary.read_text() if summary.exists() else ""}


def jobs_that_run(workflow: dict, preflight_outputs: dict[str, str]) -> set[str]:
    """The jobs after preflight that run, given its outputs, on a push to main."""
    running = set()
    for job_id, job in workflow["jobs"].items():
        if job_id == "preflight":
            continue
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        if any(need != "preflight" and need not in running for need in needs):
            continue  # a job whose needs were skipped is skipped
        condition = job.get("if", "")
        if "needs.preflight.outputs.connected == 'true'" in condition and preflight_outputs.get("connected") != "true":
            continue
        running.add(job_id)
    return running


def test_the_first_push_before_bootstrap_ends_green_with_a_notice(generated, tmp_path):
    assert not (generated / ".venv").exists()  # the preflight needs no `make setup`
    workflow = load(generated / ".github" / "workflows" / "deploy.yml")
    job = run_job(generated, workflow, "preflight", {}, tmp_path)
    assert job["code"] == 0, job["text"]
    assert "::notice title=Not connected to Azure yet::this repository is not connected to Azure yet" in job["text"]
    assert "Traceback" not in job["text"] and job["seconds"] < 20
    assert job["outputs"] == {"connected": "false"}
    assert "`mlops bootstrap-oidc`" in job["summary"] and "**Connect GitHub to Azure**" in job["summary"]
    assert "### Connect GitHub to Azure" in (generated / "README.md").read_text()
    assert jobs_that_run(workflow, job["outputs"]) == set()  # train and deploy are skipped: the run is green


@pytest.mark.parametrize("present", sorted(AZURE_SECRETS))
def test_a_half_connected_repo_fails_in_seconds_naming_the_missing_secrets(generated, tmp_path, present):
    workflow = load(generated / ".github" / "workflows" / "deploy.yml")
    job = run_job(generated, workflow, "preflight", {present: "11111111-2222-3333-4444-555555555555"}, tmp_path)
    assert job["code"] != 0 and job["seconds"] < 20
    missing = [name for name in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID") if name != present]
    assert f"::error title=Azure login secrets missing::{missing[0]}, {missing[1]} are not set while {present} is" \
        in job["text"]
    assert "Traceback" not in job["text"] and "11111111" not in job["text"] + job["summary"]
    assert f"`{missing[0]}`, `{missing[1]}` are not set" in job["summary"]


@pytest.fixture(params=["single", TWO_STAGES])
def either(request) -> Path:
    """A generated repo of one stage, or of two."""
    return request.getfixturevalue("generated" if request.param == "single" else "two_stage")


def test_a_connected_repo_trains_then_deploys(either, tmp_path):
    workflow = load(either / ".github" / "workflows" / "deploy.yml")
    job = run_job(either, workflow, "preflight", {name: "x" for name in AZURE_SECRETS}, tmp_path)
    assert job["code"] == 0 and job["outputs"] == {"connected": "true"} and job["summary"] == ""
    assert jobs_that_run(workflow, job["outputs"]) == (
        {"train", "staging", "production"} if "staging" in workflow["jobs"] else {"train", "deploy"})


def test_two_stages_check_the_connection_and_cancel_as_one_stage_does(generated, two_stage):
    one, two = (load(repo / ".github" / "workflows" / "deploy.yml")["jobs"] for repo in (generated, two_stage))
    assert two["preflight"] == one["preflight"]  # so the preflight tests above cover both
    assert two["train"]["needs"] == "preflight" and two["train"]["if"] == one["train"]["if"]
    assert two["train"]["steps"][-2:] == one["train"]["steps"][-2:]  # exec train, then the cancel step
    # exec: the runner's signal reaches the toolkit, which puts the stage's traffic back
    releases = [step["run"] for _, step in steps({"jobs": two})
                if "mlops deploy" in step.get("run", "") or "mlops promote" in step.get("run", "")]
    rollback = load(two_stage / ".github" / "workflows" / "rollback.yml")["jobs"]["rollback"]["steps"][-1]["run"]
    assert all(run.startswith("exec .venv/bin/mlops ") for run in [*releases, rollback]) and len(releases) == 2


def test_documentation_only_merges_do_not_retrain(either):
    push = load(either / ".github" / "workflows" / "deploy.yml")["on"]["push"]
    assert push["paths-ignore"] == ["README.md", "docs/**"] and "paths" not in push


def test_the_release_path_installs_the_uv_the_lock_pins(either):
    pinned = re.search(r"^uv==(\S+)$", (either / "scripts" / "requirements.lock").read_text(), re.MULTILINE)[1]
    names = [path.name for path in (either / ".github" / "workflows").glob("*.yml")]
    assert {"deploy.yml", "pr.yml"} <= set(names)
    for name in names:
        for job_id, step in steps(load(either / ".github" / "workflows" / name)):
            if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                assert step["with"].get("version") == pinned, f"{name}: {job_id} installs another uv"
