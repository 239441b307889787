"""mlops rehearse: the merge's train and deploy, run against a local Azure ML stand-in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.rehearsal import Rehearsal

HELP = ("rehearse the merge: `mlops train` then `mlops deploy` (two stages: then `mlops share` and `mlops promote`) "
        "against a local Azure ML stand-in on 127.0.0.1, with the REST calls they made and the final traffic")


def add_arguments(parser) -> None:
    """``--state DIR`` to rehearse against an earlier rehearsal's workspace, ``--inject FAULT`` to fail."""
    parser.add_argument("--state", metavar="DIR", type=Path,
                        help="the stand-in's state folder to reuse (a re-run against an earlier rehearsal); "
                             "default: a fresh build/rehearsal/")
    parser.add_argument("--inject", metavar="FAULT", action="append", default=[],
                        help="make Azure fail this way (repeatable): NAME or NAME:key=value,... of one of the "
                             "stand-in's faults (job-fails, deployment-500, worse-model, throttle, ...; an unknown "
                             "name lists them all)")


def rehearse_merge(project_dir: Path, *, state: Path | None = None, faults: Sequence[str] = (),
                   log: Callable[[str], None] = print) -> Rehearsal:
    """Rehearse against ``state`` (reused), or a fresh ``build/rehearsal/`` when ``state`` is None."""
    import shutil

    from mlops.rehearsal import DEFAULT_STATE, rehearse
    from mlops.standin import parse_fault

    for fault in faults:
        parse_fault(fault)  # a misspelt fault fails before the last rehearsal's state is removed
    root = Path(project_dir).resolve()
    if state is None:
        state = root / DEFAULT_STATE
        shutil.rmtree(state, ignore_errors=True)
    return rehearse(root, Path(state).resolve(), list(faults), log)


def run(args) -> int:
    """Rehearse, print the request log and the traffic, exit 1 when a command failed."""
    from mlops.rehearsal import gate_table, operations, shares, verdict

    result = rehearse_merge(args.project_dir, state=args.state, faults=args.inject)
    print(f"\n== rehearsal: the REST calls the SDK made ({len(result.requests)} requests; all in "
          f"{result.state / 'requests.jsonl'}); {{workspace}} is /subscriptions/<id>/resourceGroups/<group>/"
          "providers/Microsoft.MachineLearningServices/workspaces/<name> ==")
    for method, path, version, count in operations(result.requests):
        print(f"  {method:6} {path}" + (f"  api-version={version}" if version else "") +
              (f"  x{count}" if count > 1 else ""))
    print(f"\ntraffic before: {shares(result.traffic_before)}\ntraffic after:  {shares(result.traffic_after)}")
    if result.production_after is not None:
        print(f"production traffic before: {shares(result.production_before or {})}\n"
              f"production traffic after:  {shares(result.production_after)}")
    print(f"job page summary: {result.summary}\nrehearsal took {result.seconds:.1f} s (state: {result.state})")
    table = gate_table(result.summary)
    if table:
        print(f"\n== rehearsal: the quality gate, as the job page summary shows it ==\n{table}")
    code, line = verdict(result)
    print(line)
    return code
