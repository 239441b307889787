"""Read the metrics a training script writes to ``outputs/metrics.json``, locally or from an Azure job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.json"


def read_metrics(path: Path) -> dict[str, Any]:
    """The metrics in ``path`` as a mapping; empty when the file is missing or holds no JSON object."""
    if not path.is_file():
        return {}
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return metrics if isinstance(metrics, dict) else {}
