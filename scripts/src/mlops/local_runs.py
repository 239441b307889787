"""The runs the training script recorded in the repo's local MLflow file store (``mlruns/``), read as files.

The toolkit reads the store's own layout (``<experiment>/<run>/meta.yaml``, ``params/``, ``metrics/``,
``tags/``, ``artifacts/``) rather than importing MLflow, which is in the runtime, not in the toolkit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml

STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}


@dataclass
class Run:
    """One recorded run: when, how it ended, its parameters, last metrics, error and plots."""

    run_id: str
    experiment: str
    started: datetime
    status: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    error: str = ""
    plots: list[Path] = field(default_factory=list)


def read_runs(store: Path) -> list[Run]:
    """Every run in the file store ``store`` (the repo's ``mlruns/``), oldest first; an unreadable run is skipped."""
    runs = []
    for meta in store.glob("*/*/meta.yaml"):
        try:
            run = _read_run(meta.parent)
        except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError):
            continue
        runs.append(run)
    return sorted(runs, key=lambda run: run.started)


def _read_run(folder: Path) -> Run:
    meta = yaml.safe_load((folder / "meta.yaml").read_text(encoding="utf-8"))
    experiment = yaml.safe_load((folder.parent / "meta.yaml").read_text(encoding="utf-8")) or {}
    metrics = {}
    for path in sorted((folder / "metrics").glob("*")):
        last = path.read_text(encoding="utf-8").split("\n")[-2:] if path.is_file() else []
        values = [line.split() for line in last if line.strip()]
        if values:
            metrics[path.name] = float(values[-1][1])
    return Run(
        run_id=meta["run_id"],
        experiment=str(experiment.get("name", folder.parent.name)),
        started=datetime.fromtimestamp(int(meta["start_time"]) / 1000, tz=UTC),
        status=STATUS.get(int(meta["status"]), str(meta["status"])),
        params=_files(folder / "params"),
        metrics=metrics,
        error=_files(folder / "tags").get("error", ""),
        plots=sorted((folder / "artifacts").rglob("*.png")),
    )


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8").strip() for p in sorted(folder.glob("*")) if p.is_file()}


def side_by_side(runs: list[Run], root: Path) -> list[str]:
    """The runs as columns (newest last) and their status, parameters, metrics, error and plots as rows."""
    def cell(text: str) -> str:
        return text.replace("|", "/").replace("\n", " ")

    params = sorted({name for run in runs for name in run.params})
    metrics = sorted({name for run in runs for name in run.metrics})
    rows = [("run", [run.run_id[:8] for run in runs]),
            ("started (UTC)", [run.started.strftime("%Y-%m-%d %H:%M:%S") for run in runs]),
            ("status", [run.status for run in runs])]
    rows += [(f"param {name}", [run.params.get(name, "") for run in runs]) for name in params]
    rows += [(f"metric {name}", [f"{run.metrics[name]:g}" if name in run.metrics else "" for run in runs])
             for name in metrics]
    if any(run.error for run in runs):
        rows.append(("error", [run.error[:100] for run in runs]))
    rows.append(("plots", [", ".join(_shown(p, root) for p in run.plots) for run in runs]))
    return ["| " + " | ".join(cell(v) for v in [name, *values]) + " |" for name, values in rows]


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
