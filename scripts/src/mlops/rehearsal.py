"""Rehearse the merge on this machine: ``mlops train`` then ``mlops deploy`` against a local Azure ML stand-in.

The commands run exactly as the deploy workflow runs them on ``main`` (the same toolkit, as
subprocesses, with a run id per commit), but every Azure request goes to the stand-in on
127.0.0.1 (``mlops.standin``), which runs the job in the smoke run's environment and the deployment
under azmlinfsrv. A two-stage repo rehearses both stages: after staging's deploy, ``mlops share``
(its ``version`` step output read back as the production job reads it) and ``mlops promote
--version N`` into production's workspace, through the stand-in's registry. A named fault makes
Azure fail the way it does; the rehearsal reports the step that failed, its one-line error, and
whether the endpoints' traffic stayed as it was. The fault ``worse-model`` rehearses a merge whose
model is worse than the one serving (released first from this commit when nothing serves): the
quality gate refuses it. Reusing the
state folder rehearses a re-run: it must follow the finished job and register nothing new.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.azureml.release_plan import REHEARSAL

STEPS = ("train", "deploy")
SHARE_OUTPUT = "github-output"  # the staging job's $GITHUB_OUTPUT, in the state folder
DEFAULT_STATE = Path("build") / "rehearsal"
SUMMARY = "step-summary.md"
RUN_ID = "rehearsal"
# What a workflow's environment holds that would change how the commands log in or where they write.
CLEARED_PREFIXES = ("GITHUB_", "ACTIONS_", "AZURE_", "AZUREML_", "MLOPS_", "RUNNER_", "MSI_", "IDENTITY_")
NO_COMMIT = "0" * 40
KILLED = "killed-mid-rollout"
KILL_WATCH_SECONDS = 0.2  # how often a running command is checked for the stand-in's "killed" signal
WORSE_MODEL = "worse-model"  # needs a champion to be worse than: the rehearsal releases one first if none serves
GATE_HEADING = "### Quality gate"
KEPT = {"MLOPS_CACHE_DIR"}  # where the smoke run's environments are cached: the rehearsal reuses them


@dataclass
class StepResult:
    """One command of the rehearsal: its exit code and the error line it printed, if any."""

    step: str
    exit_code: int
    error: str = ""


@dataclass
class Rehearsal:
    """What the rehearsal did: each command, the REST calls the SDK made, traffic before and after."""

    state: Path
    faults: list[str]
    steps: list[StepResult] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    traffic_before: dict[str, int] = field(default_factory=dict)
    traffic_after: dict[str, int] = field(default_factory=dict)
    models: list[str] = field(default_factory=list)
    seconds: float = 0.0
    # two stages: production's traffic (the traffic fields above are staging's); None with one stage
    production_before: dict[str, int] | None = None
    production_after: dict[str, int] | None = None
    # injected faults the release never triggered (it sent no request they apply to)
    unfired: list[str] = field(default_factory=list)

    @property
    def summary(self) -> Path:
        """The markdown the commands wrote for the job page (GITHUB_STEP_SUMMARY), as on GitHub."""
        return self.state / SUMMARY

    @property
    def failed(self) -> StepResult | None:
        """The first command that failed, if one did."""
        return next((step for step in self.steps if step.exit_code), None)

    @property
    def traffic_intact(self) -> bool:
        """A failed rehearsal left each endpoint's live traffic exactly as it found it."""
        return live(self.traffic_after) == live(self.traffic_before) and \
            live(self.production_after or {}) == live(self.production_before or {})


def live(traffic: dict[str, int]) -> dict[str, int]:
    """Traffic without the deployments that take none."""
    return {name: share for name, share in traffic.items() if share}


def workflow_environment(environ: dict[str, str], standin: dict[str, str], commit: str,
                         summary: Path | None = None) -> dict[str, str]:
    """The environment ``mlops train`` and ``mlops deploy`` get: this one without logins or workflow
    variables of its own (a PR runner's ``GITHUB_ACTIONS`` would ask for OIDC, a laptop's
    ``AZURE_*`` would name a real tenant), plus the stand-in's client variables, the commit and a run
    id, as the deploy workflow has them. The run id is the commit's: rehearsing a commit again is a
    re-run of its workflow run, a new commit is a new run. ``MLOPS_REHEARSAL=1`` has the job train with
    the smoke overrides: a spaCy pipeline's full training takes minutes, and the model is not what is
    rehearsed. The job page's summary (``GITHUB_STEP_SUMMARY``) goes to ``summary``, when given."""
    kept = {k: v for k, v in environ.items() if (not k.upper().startswith(CLEARED_PREFIXES) or k in KEPT)
            and k.lower() not in ("https_proxy", "http_proxy", "all_proxy", "no_proxy")}
    return {**kept, **standin, "GITHUB_SHA": commit, "GITHUB_RUN_ID": f"{RUN_ID}-{commit[:8]}", REHEARSAL: "1",
            **({"GITHUB_STEP_SUMMARY": str(summary)} if summary else {})}


def rehearse(project_dir: Path, state: Path, faults: list[str] = (), log=print) -> Rehearsal:
    """Start the stand-in on ``state`` (fresh or reused), run train then deploy against it, report."""
    from mlops.azureml.provenance import read_provenance
    from mlops.project import load_project
    from mlops.stages import release_stages
    from mlops.standin import StandIn

    project = load_project(project_dir)
    stages = release_stages(project)
    started = time.monotonic()
    result = Rehearsal(state, list(faults))
    state.mkdir(parents=True, exist_ok=True)
    with StandIn(state) as standin:
        result.traffic_before = read_traffic(standin, stages[0])
        if len(stages) > 1:
            result.production_before = read_traffic(standin, stages[1])
        commit = read_provenance(project.root, {}).commit or NO_COMMIT  # as the plan names an unversioned repo
        result.summary.write_text("", encoding="utf-8")  # this rehearsal's job page only
        env = workflow_environment(dict(os.environ), standin.client_environment(), commit, result.summary)
        if WORSE_MODEL in (fault.partition(":")[0] for fault in faults):
            if not live(result.traffic_before):
                log("\n== rehearsal: no model serves yet: this commit's model is released first, as the champion "
                    f"the {WORSE_MODEL} merge is compared with ==")
                rehearse_release(project.root, env, result, standin, log)
                result.traffic_before = read_traffic(standin, stages[0])
            merge = hashlib.sha1(f"{commit} {WORSE_MODEL}".encode()).hexdigest()
            log(f"\n== rehearsal: the merge under test is commit {merge[:12]}, a stand-in for the next commit: "
                f"{WORSE_MODEL} scrambles the labels its job trains on ==")
            env = workflow_environment(dict(os.environ), standin.client_environment(), merge, result.summary)
        seen = len(standin.requests())
        if result.failed is None:
            for fault in faults:
                standin.inject(fault)
            rehearse_release(project.root, env, result, standin, log)
        if len(stages) > 1 and not result.failed:
            result.steps += promote_to_production(project.root, env, state, log)
        result.unfired = unfired_faults(faults, standin)
        standin.clear()
        if result.failed and any(fault.startswith(KILLED) for fault in faults):
            log("\n== rehearsal: the process was killed; mlops deploy again, as the re-run after a crash ==")
            result.steps.append(run_workflow_step(project.root, ["deploy"], env, standin.caller_killed))
        result.requests = standin.requests()[seen:]
        result.traffic_after = read_traffic(standin, stages[0])
        if len(stages) > 1:
            result.production_after = read_traffic(standin, stages[1])
        result.models = registered_models(standin, project)
    result.seconds = time.monotonic() - started
    return result


def unfired_faults(faults: list[str], standin: Any) -> list[str]:
    """The injected faults the stand-in never applied: the release sent no request they hit."""
    fired = set(standin.ctx.faults.fired)
    return [fault for fault in faults if fault.partition(":")[0] not in fired]


def rehearse_release(root: Path, env: dict[str, str], result: Rehearsal, standin: Any, log=print) -> None:
    """``mlops train`` then ``mlops deploy``, as the deploy workflow runs them; stops at the first that fails."""
    for step in STEPS:
        log(f"\n== rehearsal: mlops {step} (against the stand-in at {standin.proxy_url}) ==")
        outcome = run_workflow_step(root, [step], env, standin.caller_killed)
        result.steps.append(outcome)
        if outcome.exit_code:
            return


def gate_table(summary: Path) -> str:
    """The last quality gate section of the job page summary the commands wrote, or '' when there is none."""
    text = summary.read_text(encoding="utf-8") if summary.is_file() else ""
    start = text.rfind(GATE_HEADING)
    if start < 0:
        return ""
    end = text.find("\n### ", start + 1)
    return text[start:end if end > 0 else None].strip()


def promote_to_production(root: Path, env: dict[str, str], state: Path, log=print) -> list[StepResult]:
    """The rest of a two-stage merge: ``mlops share`` as the staging job's last step, then ``mlops promote``
    with the version that step wrote to ``$GITHUB_OUTPUT``, as the production job receives it."""
    output = state / SHARE_OUTPUT
    output.write_text("", encoding="utf-8")
    log("\n== rehearsal: mlops share (staging's model into the stand-in's registry) ==")
    shared = run_workflow_step(root, ["share"], {**env, "GITHUB_OUTPUT": str(output)})
    if shared.exit_code:
        return [shared]
    versions = re.findall(r"^version=(\d+)$", output.read_text(encoding="utf-8"), re.MULTILINE)
    if len(versions) != 1:
        return [shared, StepResult("promote", 1, f"error: mlops share wrote no single version=N to {output}")]
    log(f"\n== rehearsal: mlops promote --version {versions[0]} (production, from the registry) ==")
    return [shared, run_workflow_step(root, ["promote", "--version", versions[0]], env)]


def run_workflow_step(root: Path, args: list[str], env: dict[str, str],
                      killed: threading.Event | None = None) -> StepResult:
    """``mlops <args>`` in ``root`` with ``env``; its output passes through, its error line is kept.

    When the stand-in sets ``killed`` (fault killed-mid-rollout) the process is killed outright, as a
    runner that loses its machine: no handler of the toolkit's runs, whatever it had changed stays."""
    process = subprocess.Popen([sys.executable, "-m", "mlops", "-C", str(root), *args], env=env, cwd=root,
                               stderr=subprocess.PIPE, text=True)
    while True:
        try:
            stderr = process.communicate(timeout=KILL_WATCH_SECONDS)[1]
            break
        except subprocess.TimeoutExpired:
            if killed is not None and killed.is_set():
                process.kill()
                stderr = process.communicate()[1]
                sys.stderr.write(stderr)
                return StepResult(args[0], process.returncode or -9,
                                  f"error: killed mid-rollout by the rehearsal (fault {KILLED}), as a runner "
                                  "that lost its machine")
    sys.stderr.write(stderr)
    errors = [line for line in stderr.splitlines() if line.startswith(("error:", "internal error:"))]
    return StepResult(args[0], process.returncode, errors[-1] if errors else stderr.strip()[-300:])


def _workspace(standin: Any, resource_group: str, workspace_name: str, subscription_id: str | None = None) -> str:
    return standin.ctx.workspace_id(subscription_id or standin.subscription_id, resource_group, workspace_name)


def read_traffic(standin: Any, stage: Any) -> dict[str, int]:
    """The traffic of ``stage``'s endpoint (:class:`mlops.stages.Stage`) as the stand-in holds it (what the SDK
    reads); empty when there is no endpoint yet.

    Read from the stand-in's state, not through azure-ai-ml: importing the SDK in this process and signing
    in again would cost the rehearsal seconds for an answer the stand-in has at hand."""
    workspace = _workspace(standin, stage.resource_group, stage.workspace_name, stage.subscription_id)
    endpoint = standin.ctx.store.get("resources", f"{workspace}/onlineEndpoints/{stage.service_name}") or {}
    return {name: int(share) for name, share in (endpoint.get("properties", {}).get("traffic") or {}).items()}


def registered_models(standin: Any, project: Any) -> list[str]:
    """``name:version`` of every registered version of the experiment's model, from the stand-in's state."""
    name = project.experiment.model_name
    workspace = _workspace(standin, project.azure.resource_group, project.azure.workspace_name)
    versions = standin.ctx.store.children("resources", f"{workspace}/models/{name}/versions")
    return sorted(f"{name}:{version['id'].rsplit('/', 1)[-1]}" for version in versions)


WORKSPACE_PATH = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                            r"Microsoft\.MachineLearningServices/workspaces/[^/]+")


def operations(requests: list[Any]) -> list[tuple[str, str, str, int]]:
    """Each distinct (method, path, api-version) in first-seen order, with how often it was sent; the
    workspace's resource id in a path is shortened to ``{workspace}``."""
    keys = [(r.method, WORKSPACE_PATH.sub("{workspace}", r.path), r.api_version) for r in requests]
    counts = Counter(keys)
    return [(method, path, version, counts[(method, path, version)]) for method, path, version in dict.fromkeys(keys)]


def shares(traffic: dict[str, int]) -> str:
    """Live traffic as ``name N%, ...``, or ``none``."""
    return ", ".join(f"{k} {v}%" for k, v in live(traffic).items()) or "none"


def verdict(result: Rehearsal) -> tuple[int, str]:
    """The exit code and the one line that sums the rehearsal up."""
    failed = result.failed
    traffic = shares(result.traffic_after)
    if result.production_after is not None:
        traffic = f"staging {traffic}; production {shares(result.production_after)}"
    faults = ", ".join(result.faults)
    if failed is None and result.unfired:
        return 1, (f"rehearsal with fault {faults}: {', '.join(result.unfired)} never fired: the release sent no "
                   "request it applies to, so nothing was rehearsed: commit a change and rehearse again (a commit "
                   "already trained and released trains and deploys nothing; compute-update-forbidden also needs a "
                   f"larger max_nodes in azure-compute-config.json); traffic {traffic}")
    if failed is None:
        recovered = f" (recovered from {faults})" if faults else ""
        return 0, f"rehearsal passed{recovered}: traffic {traffic}; models {', '.join(result.models) or 'none'}"
    before = shares(result.traffic_before)
    if result.production_before is not None:
        before = f"staging {before}; production {shares(result.production_before)}"
    kept = "checked: traffic as before" if result.traffic_intact else f"TRAFFIC CHANGED from {before}"
    cause = f"with fault {faults}: " if faults else ""
    if result.steps[-1] is not failed and not result.steps[-1].exit_code:
        kept = f"the re-run converged: traffic {traffic}"
        return 1, f"rehearsal {cause}`mlops {failed.step}` failed: {failed.error.removeprefix('error: ')}; {kept}"
    return 1, f"rehearsal {cause}`mlops {failed.step}` failed: {failed.error.removeprefix('error: ')}; {kept} " \
              f"({traffic})"

