"""Validate an experiment repo's configs: each file against its schema, then the rules across files."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mlops.findings import Finding
from mlops.layout import (
    AZURE_CONFIG,
    COMPUTE_CONFIG,
    EXPERIMENT_SCHEMA,
    SCHEMA_FOR,
    STAGES_CONFIG,
    ExperimentFileError,
    find_experiment_file,
)
from mlops.migrations import Migration, Rename, migrated, pending_migrations
from mlops.positioned import Document, DocumentError, load_document
from mlops.validation.cross import cross_checks
from mlops.validation.schemas import check_schema
from mlops.validation.stage_rules import stage_checks


@dataclass
class Report:
    """Everything ``mlops validate`` found, and the parsed configs when they could be read."""

    findings: list[Finding] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    experiment_file: Path | None = None

    @property
    def errors(self) -> list[Finding]:
        """The findings that make the repo invalid."""
        return [f for f in self.findings if f.severity == "error"]


def validate_project(root: Path) -> Report:
    """Check the config files under ``root`` (three, or four with ``azure-stages.json``) and how they fit."""
    report = Report()
    try:
        report.experiment_file = find_experiment_file(root)
    except ExperimentFileError as error:
        report.findings.append(Finding(".", 1, 1, "", error.problem))
    files = {"azure": (AZURE_CONFIG, SCHEMA_FOR[AZURE_CONFIG]),
             "compute": (COMPUTE_CONFIG, SCHEMA_FOR[COMPUTE_CONFIG])}
    if report.experiment_file is not None:
        files["experiment"] = (report.experiment_file.name, EXPERIMENT_SCHEMA)
    if (root / STAGES_CONFIG).exists():  # optional: its absence is the single-stage repo
        files["stages"] = (STAGES_CONFIG, SCHEMA_FOR[STAGES_CONFIG])
    documents = {}
    for key, (name, schema_name) in files.items():
        path = root / name
        if not path.is_file():
            report.findings.append(Finding(name, 1, 1, "", f"missing: create {name} (see schemas/{schema_name})"))
            continue
        try:
            document = load_document(path)
        except DocumentError as error:
            report.findings.append(error.finding(name))
            continue
        migrations = pending_migrations(key, document.data)
        if migrations:
            found = [migration_finding(m, document, name) for m in migrations]
            report.findings += sorted(found, key=lambda f: (f.line, f.col))
            document = replace(document, data=migrated(document.data, migrations))
        found = check_schema(document, schema_name, name)
        report.findings += found
        documents[key] = document
        if not found:
            report.data[key] = document.data
    if {"azure", "compute", "experiment"} <= set(report.data):
        report.findings += cross_checks(root, report.experiment_file.name, documents)
        if "stages" in report.data:
            report.findings += stage_checks(documents, root)
    return report


def migration_finding(migration: Migration, document: Document, file: str) -> Finding:
    """The finding for a field a template update renamed or added: where it is, what it is now, what to run."""
    field_path = migration.old if isinstance(migration, Rename) else migration.path
    path = tuple(field_path.split("."))
    line, col = document.position(path, key=isinstance(migration, Rename))
    return Finding(file, line, col, field_path, migration.describe())
