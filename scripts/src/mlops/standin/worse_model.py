"""The ``worse-model`` fault: the next job trains on its training data with the labels scrambled.

Its model comes out worse than the one serving, as a merge with a bad label join would make it. The
quality gate's own inputs (the pinned evaluation data and the champion's model) are left as they
are, so the gate scores the worse model fairly. Labels are what the template's trainers learn from:
a CSV file's last column (``column=NAME`` names another) is shuffled with a fixed seed; a JSON-lines
record's ``entities`` are removed.
"""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from pathlib import Path

from mlops.gate_staging import CHAMPION_INPUT, EVALUATION_INPUT

GATE_INPUTS = frozenset({EVALUATION_INPUT, CHAMPION_INPUT})
SEED = 3


def scrambled_copy(source: Path, target: Path, column: str | None = None) -> int:
    """Copy ``source`` (a file or a folder) to ``target``, scrambling the labels of each CSV and JSON-lines
    file in it; the number of files scrambled."""
    if source.is_dir():
        shutil.copytree(source, target)
        files = sorted(path for path in target.rglob("*") if path.is_file())
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        files = [target]
    return sum(scramble_labels(path, column) for path in files)


def scramble_labels(path: Path, column: str | None = None) -> bool:
    """Scramble the labels of one file in place; False when it is neither CSV nor JSON lines."""
    if path.suffix.lower() == ".csv":
        _shuffle_column(path, column)
        return True
    if path.suffix.lower() == ".jsonl":
        _drop_entities(path)
        return True
    return False


def _shuffle_column(path: Path, column: str | None) -> None:
    header, *rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    if column is not None and column not in header:
        raise ValueError(f"worse-model: {path.name} has no column {column!r} (its columns: {', '.join(header)})")
    index = header.index(column) if column is not None else len(header) - 1
    labels = [row[index] for row in rows]
    random.Random(SEED).shuffle(labels)
    for row, label in zip(rows, labels, strict=True):
        row[index] = label
    output = io.StringIO()
    csv.writer(output, lineterminator="\n").writerows([header, *rows])
    path.write_text(output.getvalue(), encoding="utf-8")


def _drop_entities(path: Path) -> None:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for record in records:
        if isinstance(record, dict) and "entities" in record:
            record["entities"] = []
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
