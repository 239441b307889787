"""Check every answer against Azure's naming rules before cookiecutter writes a file.

Answers arrive through ``tojson`` into raw ``'''`` strings and are decoded with ``json.loads``, so
quotes, backslashes and newlines in an answer are data, never code: ``tojson`` escapes every single
quote as a unicode escape, so no answer can close the string (a triple-double-quoted string would be
closed by the JSON value's own closing quote). The rules below are the ones
``schemas/azure-names.schema.json`` enforces on the generated config files; ``tests/test_hooks.py``
fails if the two disagree.
"""

import json
import keyword
import re
import shlex
import sys
import tempfile
from pathlib import Path

ANSWERS = {
    "experiment": json.loads(r'''{{ cookiecutter.experiment | tojson }}'''),
    "description": json.loads(r'''{{ cookiecutter.description | tojson }}'''),
    "experiment_name": json.loads(r'''{{ cookiecutter.experiment_name | tojson }}'''),
    "model_name": json.loads(r'''{{ cookiecutter.model_name | tojson }}'''),
    "service_name": json.loads(r'''{{ cookiecutter.service_name | tojson }}'''),
    "framework": json.loads(r'''{{ cookiecutter.framework | tojson }}'''),
    "python_version": json.loads(r'''{{ cookiecutter.python_version | tojson }}'''),
    "azure_location": json.loads(r'''{{ cookiecutter.azure_location | tojson }}'''),
    "resource_group": json.loads(r'''{{ cookiecutter.resource_group | tojson }}'''),
    "workspace_name": json.loads(r'''{{ cookiecutter.workspace_name | tojson }}'''),
    "compute_name": json.loads(r'''{{ cookiecutter.compute_name | tojson }}'''),
    "vm_size": json.loads(r'''{{ cookiecutter.vm_size | tojson }}'''),
    "max_nodes": json.loads(r'''{{ cookiecutter.max_nodes | tojson }}'''),
    "stages": json.loads(r'''{{ cookiecutter.stages | tojson }}'''),
    "registry_name": json.loads(r'''{{ cookiecutter.registry_name | tojson }}'''),
}
TEMPLATE = json.loads(r'''{{ cookiecutter.get("_template", "") | tojson }}''') or "TEMPLATE"

# answer -> (prefix, suffix) of the default cookiecutter.json derives from the experiment slug;
# tests/test_hooks.py keeps this equal to cookiecutter.json.
DERIVED = {
    "experiment_name": ("", ""),
    "model_name": ("", "-model"),
    "service_name": ("", "-svc"),
    "resource_group": ("rg-", ""),
    "workspace_name": ("mlw-", ""),
    "registry_name": ("mlr-", ""),
}

# answer -> (pattern, min length, max length, what a valid value looks like)
RULES = {
    "experiment": (r"^[a-z][a-z0-9_-]*$", 2, 64,
                   "lowercase letters, digits, '-' and '_', starting with a letter, e.g. iris-classifier"),
    "experiment_name": (r"^[0-9a-zA-Z][0-9a-zA-Z_-]*$", 1, 256,
                        "letters, digits, '-' and '_', starting with a letter or digit"),
    "model_name": (r"^[a-zA-Z0-9][a-zA-Z0-9._-]*$", 1, 255,
                   "letters, digits, '.', '-' and '_', starting with a letter or digit"),
    "service_name": (r"^[a-zA-Z][-a-zA-Z0-9]*[a-zA-Z0-9]$", 3, 32,
                     "letters, digits and '-', starting with a letter and ending with a letter or digit"),
    "azure_location": (r"^[a-z][a-z0-9]*$", 2, 40, "an Azure region name such as westeurope or eastus2"),
    "resource_group": (r"^[-\w.()]*[-\w()]$", 1, 90,
                       "letters, digits, '_', '-', '.', '(' and ')', not ending with '.'"),
    "workspace_name": (r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$", 3, 33,
                       "letters, digits, '-' and '_', starting with a letter or digit"),
    "compute_name": (r"^[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9-]*[a-zA-Z][a-zA-Z0-9]*)?$", 3, 24,
                     "letters, digits and '-', starting with a letter; a '-' must be followed later by a letter,"
                     " e.g. cpu-cluster"),
    "vm_size": (r"^Standard_[A-Za-z0-9_]+$", 10, 64, "an Azure VM size such as Standard_DS11_v2"),
    "registry_name": (r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$", 3, 33,
                      "letters, digits, '-' and '_', starting with a letter or digit"),
}
# answers checked only when the repo has two stages (a single-stage repo has no registry)
TWO_STAGE_ONLY = ("registry_name",)
# production's endpoint is staging's service_name with this suffix (azure-stages.json)
PRODUCTION_SUFFIX = "-prod"
ENDPOINT_MAX = 32
MAX_NODES_RANGE = (1, 100)
CHOICES = {"framework": ("sklearn", "spacy"), "python_version": ("3.11", "3.12"),
           "stages": ("single", "staging-production")}


def derived(field, experiment):
    """The default of ``field`` for ``experiment``, or None when ``field`` is not derived from it."""
    if field not in DERIVED:
        return None
    prefix, suffix = DERIVED[field]
    stem = experiment if not suffix or not experiment.endswith(suffix) else experiment[: -len(suffix)]
    return f"{prefix}{stem}{suffix}"


def shortened(field, experiment, high):
    """A derived default for ``field`` cut to ``high`` characters, ending on a letter or digit."""
    prefix, suffix = DERIVED[field]
    stem = experiment[: max(high - len(prefix) - len(suffix), 1)].rstrip("-_")
    return f"{prefix}{stem}{suffix}"


def too_long_derived(field, answers, high):
    """A line for a too-long answer derived from the experiment slug, or None if the user typed it."""
    experiment, value = answers["experiment"], answers[field]
    if not isinstance(experiment, str) or value != derived(field, experiment):
        return None
    return (f"{field} {value!r} (derived from experiment {experiment!r}) has {len(value)} characters, "
            f"more than {high}: answer {field} yourself, e.g. {field}={shortened(field, experiment, high)}, "
            "or choose a shorter experiment")


def problems(answers):
    """Return one readable line per answer that breaks a rule."""
    found = []
    two_stage = answers["stages"] == "staging-production"
    for field, (pattern, low, high, valid) in RULES.items():
        if field in TWO_STAGE_ONLY and not two_stage:
            continue
        value = answers[field]
        if not isinstance(value, str) or not low <= len(value) <= high:
            length = len(value) if isinstance(value, str) else "no"
            found.append((isinstance(value, str) and len(value) > high and too_long_derived(field, answers, high))
                         or f"{field} {value!r} has {length} characters: use {low}-{high} characters, {valid}")
        elif not re.fullmatch(pattern, value):
            found.append(f"{field} {value!r} is not a valid name: use {valid}")
    package = answers["experiment"].replace("-", "_")
    if keyword.iskeyword(package) or package in sys.stdlib_module_names:
        found.append(f"experiment {answers['experiment']!r} would shadow Python's {package!r}: choose another slug")
    low, high = MAX_NODES_RANGE
    max_nodes = str(answers["max_nodes"]).strip()
    if not max_nodes.isdigit() or not low <= int(max_nodes) <= high:
        found.append(f"max_nodes {answers['max_nodes']!r} is not a whole number from {low} to {high}")
    for field, allowed in CHOICES.items():
        if answers[field] not in allowed:
            found.append(f"{field} {answers[field]!r} is not supported: use one of {', '.join(allowed)}")
    service = answers["service_name"]
    if two_stage and isinstance(service, str) and len(service) + len(PRODUCTION_SUFFIX) > ENDPOINT_MAX:
        production = service + PRODUCTION_SUFFIX
        found.append(f"service_name {service!r} leaves no room for production's endpoint {production!r}"
                     f" (at most {ENDPOINT_MAX} characters): answer a service_name of at most "
                     f"{ENDPOINT_MAX - len(PRODUCTION_SUFFIX)} characters")
    if "\n" in answers["description"] or len(answers["description"]) > 300:
        found.append("description must be one line of at most 300 characters")
    return found


def rerun_command(answers, template):
    """The cookiecutter command that generates again with these answers, one answer a line.

    Answers that equal their default derived from the experiment slug are left out, so that fixing
    the slug fixes them too.
    """
    lines = [f"cookiecutter --no-input {shlex.quote(template)}"]
    lines += [f"  {shlex.quote(f'{field}={value}')}" for field, value in answers.items()
              if not isinstance(answers["experiment"], str) or value != derived(field, answers["experiment"])]
    return " \\\n".join(lines)


def main():
    if Path(__file__).resolve().parent == Path(tempfile.gettempdir()).resolve():
        Path(__file__).unlink()  # the copy cookiecutter rendered to run, which it never deletes (read already)
    found = problems(ANSWERS)
    for line in found:
        print(f"error: {line}", file=sys.stderr)
    if found:
        print("Nothing was generated. Your answers are kept in this command: fix the answers named above "
              "and run it.", file=sys.stderr)
        print(rerun_command(ANSWERS, TEMPLATE), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
