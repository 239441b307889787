"""Run a submitted command job locally, the way Azure ML runs it on a cluster node.

Queued, Preparing (the environment is built from the job's environment version, as for a smoke
run; the code snapshot is downloaded from the blob store; inputs are resolved to files), Running
(the command, with ``${{inputs.x}}`` replaced, in that environment; stdout and stderr go to
``user_logs/std_log.txt`` in the job's artifacts as it runs), Finalizing (``outputs/`` uploaded to
``ExperimentRun/dcid.<job>/outputs``), then Completed or Failed with Azure's error text.
MLflow logs to a file store in the job's folder: there is no MLflow service here.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from mlops.server_process import NEW_PROCESS_GROUP, server_processes, stop_processes
from mlops.smoke import isolated_environment
from mlops.standin.client_variables import outside_environment
from mlops.standin.context import ARTIFACT_CONTAINER, Context, Stopping, now_iso
from mlops.standin.environments import environment_python
from mlops.standin.injection import Fault
from mlops.standin.routing import HttpError
from mlops.standin.uris import locate
from mlops.standin.worse_model import GATE_INPUTS, scrambled_copy

BINDING = re.compile(r"\$\{\{\s*(inputs|outputs)\.([A-Za-z0-9_]+)\s*\}\}")
LOG_NAME = "user_logs/std_log.txt"
PUBLISH_SECONDS = 0.3
QUEUED_SECONDS = 5
CANCEL_GRACE_SECONDS = 5  # a canceled job's processes are terminated, then killed after this
FAILING_SCRIPT = ("import sys\nprint('Loading data...', flush=True)\n"
                  "raise RuntimeError('injected fault job-fails: the training script failed')\n")


class JobFailure(Exception):
    """The job ends Failed with this Azure error code and message."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


class JobRunner:
    """Runs jobs in background threads; knows their processes so it can cancel and stop them."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._processes: dict[str, subprocess.Popen] = {}
        self._canceled: set[str] = set()
        self._lock = threading.Lock()

    def start(self, job_id: str) -> None:
        """Run ``job_id`` in a thread."""
        threading.Thread(target=self._run, args=(job_id,), name=f"job {job_id.rsplit('/', 1)[-1]}",
                         daemon=True).start()

    def resume(self) -> None:
        """Start again every job a stopped stand-in left unfinished (in Azure the job kept running)."""
        for rid, job in self.ctx.store.items("resources"):
            if "/jobs/" in rid and job["properties"].get("status") not in ("Completed", "Failed", "Canceled"):
                self.start(job["id"])

    def cancel(self, job_id: str) -> None:
        """Mark the job CancelRequested and stop its process; it ends Canceled."""
        self._update(job_id, "CancelRequested")
        with self._lock:
            self._canceled.add(job_id.lower())
            process = self._processes.get(job_id.lower())
        if process is not None:
            _kill(process)

    def shutdown(self) -> None:
        """Kill every running job process (the stand-in is stopping)."""
        with self._lock:
            processes = list(self._processes.values())
        for process in processes:
            _kill(process)

    # -- one job --

    def _update(self, job_id: str, status: str | None = None, **run: Any) -> dict[str, Any]:
        self.ctx.check_running()
        with self.ctx.store.lock:
            job = self.ctx.store.get("resources", job_id)
            if status:
                job["properties"]["status"] = status
            job.setdefault("run", {}).update(run)
            self.ctx.store.put("resources", job_id, job)
            return job

    def _wait_queued(self, job_id: str, seconds: float) -> None:
        """Hold the job in Queued for ``seconds``, or until it is cancelled."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and job_id.lower() not in self._canceled:
            self.ctx.check_running()
            time.sleep(0.05)

    def _run(self, job_id: str) -> None:
        # on Stopping the job stays Queued/Running in the store: a stand-in started again on this state runs it again
        with contextlib.suppress(Stopping):
            self._run_job(job_id)

    def _run_job(self, job_id: str) -> None:
        name = job_id.rsplit("/", 1)[-1]
        folder = self.ctx.state_dir / "jobs" / name
        try:
            self._update(job_id, "Queued")
            queued = self.ctx.faults.take("job-queued")
            if queued is not None:
                self._wait_queued(job_id, float(queued.params.get("seconds", QUEUED_SECONDS)))
            if job_id.lower() in self._canceled:  # cancelled before it started: nothing runs
                self._update(job_id, "Canceled", endTimeUtc=now_iso())
                return
            self._update(job_id, "Preparing", startTimeUtc=now_iso())
            job = self.ctx.store.get("resources", job_id)
            workspace_id = job_id.rsplit("/jobs/", 1)[0]
            if self.ctx.faults.take("image-build-fails") is not None:
                raise JobFailure("ImageBuildFailure", "Failed to build the environment's image (injected fault "
                                 "image-build-fails): conda env create exited with 1. See the image build log of "
                                 f"environment {job['properties'].get('environmentId', '').split('/')[-3]}.")
            python = self._environment(job)
            work = self._stage(job, workspace_id, folder)
            command = self._command(job, workspace_id, work, self.ctx.faults.take("worse-model"))
            if self.ctx.faults.take("job-fails") is not None:
                (work / "_injected_failure.py").write_text(FAILING_SCRIPT, encoding="utf-8")
                command = "python _injected_failure.py"
            self._update(job_id, "Running")
            code = self._execute(job_id, name, command, python, work, folder)
            self._update(job_id, "Finalizing")
            self._publish_outputs(name, work)
            if job_id.lower() in self._canceled:
                self._update(job_id, "Canceled", endTimeUtc=now_iso())
            elif code != 0:
                raise JobFailure("UserError", f"Execution failed. User process 'python' exited with status code "
                                 f"{code}. Please check log file '{LOG_NAME}' for error details. Error: "
                                 f"{_last_line(folder / 'std_log.txt')}")
            else:
                self._update(job_id, "Completed", endTimeUtc=now_iso())
        except JobFailure as failure:
            self._update(job_id, "Failed", endTimeUtc=now_iso(), error={"code": failure.code,
                                                                       "message": failure.message})
        except Exception as error:  # a stand-in problem is the job's failure, with the reason, never a hang
            self._update(job_id, "Failed", endTimeUtc=now_iso(),
                         error={"code": "SystemError", "message": f"the stand-in could not run the job: {error}"})

    def _environment(self, job: dict[str, Any]) -> Path:
        try:
            return environment_python(self.ctx, job["properties"]["environmentId"])
        except Exception as error:
            raise JobFailure("ImageBuildFailure", f"Failed to build the environment's image: {error}") from None

    def _stage(self, job: dict[str, Any], workspace_id: str, folder: Path) -> Path:
        work = folder / "wd"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        code_id = job["properties"].get("codeId")
        if code_id:
            code = self.ctx.store.get("resources", code_id)
            where = locate(self.ctx, workspace_id, code["properties"]["codeUri"])
            self.ctx.blobs.download_folder(where.account, where.container, where.prefix, work)
        return work

    def _command(self, job: dict[str, Any], workspace_id: str, work: Path, worse: Fault | None = None) -> str:
        """The job's command with its bindings replaced; ``worse`` (the worse-model fault) scrambles the
        labels of the training inputs, in copies next to ``work``."""
        inputs = job["properties"].get("inputs") or {}
        scrambled = []
        if worse is not None:
            shutil.rmtree(work.parent / "worse-model", ignore_errors=True)

        def bind(match: re.Match[str]) -> str:
            kind, name = match[1], match[2]
            if kind == "outputs":
                target = work / "named-outputs" / name
                target.mkdir(parents=True, exist_ok=True)
                return str(target)
            spec = inputs.get(name)
            if spec is None:
                raise JobFailure("UserError", f"The command refers to ${{{{inputs.{name}}}}}, which the job does "
                                 "not define.")
            if spec.get("jobInputType") == "literal":
                return str(spec.get("value"))
            try:
                path = Path(locate(self.ctx, workspace_id, spec["uri"]).local_path(self.ctx))
            except HttpError as error:
                raise JobFailure("UserError", error.message) from None
            if worse is None or name in GATE_INPUTS:
                return str(path)
            copy = work.parent / "worse-model" / name / path.name
            if not copy.exists():
                try:
                    scrambled.append(scrambled_copy(path, copy, worse.params.get("column")))
                except ValueError as error:
                    raise JobFailure("UserError", f"injected fault {error}") from None
            return str(copy)

        command = BINDING.sub(bind, job["properties"].get("command") or "")
        if worse is not None and not sum(scrambled):
            raise JobFailure("UserError", "injected fault worse-model: the job has no CSV or JSON-lines training "
                             "input whose labels it could scramble")
        return command

    def _execute(self, job_id: str, name: str, command: str, python: Path, work: Path, folder: Path) -> int:
        log_file = folder / "std_log.txt"
        env = {k: v for k, v in outside_environment(isolated_environment()).items()
               if not k.startswith(("MLFLOW_", "AZUREML_", "AZURE_"))}
        env.update((k, str(v)) for k, v in (self.ctx.store.get("resources", job_id)["properties"]
                                             .get("environmentVariables") or {}).items())
        env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
        env["MLFLOW_TRACKING_URI"] = (folder / "mlruns").as_uri()
        env["PYTHONUNBUFFERED"] = "1"
        self._update(job_id, logs=[LOG_NAME])
        with open(log_file, "wb") as output:
            # the system's shell, as a node runs the command line; a session (group) of its own, so a cancel
            # reaches every process the command starts
            process = subprocess.Popen(command, shell=True, cwd=work, env=env, stdout=output,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                       creationflags=NEW_PROCESS_GROUP)
            with self._lock:
                self._processes[job_id.lower()] = process
            try:
                while process.poll() is None:
                    self._publish_log(name, log_file)
                    time.sleep(PUBLISH_SECONDS)
            finally:
                with self._lock:
                    self._processes.pop(job_id.lower(), None)
        self._publish_log(name, log_file)
        return process.returncode

    def _publish_log(self, name: str, log_file: Path) -> None:
        self.ctx.blobs.write(self.ctx.storage_account, ARTIFACT_CONTAINER, f"ExperimentRun/dcid.{name}/{LOG_NAME}",
                             log_file.read_bytes(), content_type="text/plain")

    def _publish_outputs(self, name: str, work: Path) -> None:
        outputs = work / "outputs"
        if not outputs.is_dir():
            return
        for file in sorted(p for p in outputs.rglob("*") if p.is_file()):
            relative = file.relative_to(work).as_posix()
            self.ctx.blobs.write(self.ctx.storage_account, ARTIFACT_CONTAINER,
                                 f"ExperimentRun/dcid.{name}/{relative}", file.read_bytes())


def _last_line(log_file: Path) -> str:
    try:
        lines = [line for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1].strip()[:500] if lines else "(empty log)"


def _kill(process: subprocess.Popen) -> None:
    stop_processes(server_processes(process.pid), grace=CANCEL_GRACE_SECONDS)
