"""Rules that span files: the paths a config names exist, and names fit the limits of their use."""

from __future__ import annotations

from pathlib import Path

from mlops.assembly import check_script
from mlops.findings import Finding, dotted
from mlops.positioned import Document
from mlops.runtime_spec import SpecError, load_runtime_spec

CREATE_COMPUTE_MAX = 24


def cross_checks(root: Path, experiment_name: str, documents: dict[str, Document]) -> list[Finding]:
    """Findings about how ``documents`` (keys ``azure``, ``compute``, ``experiment``) fit together."""
    experiment, compute = documents["experiment"], documents["compute"]
    findings = _missing_paths(root, experiment_name, experiment)
    spec_path = experiment.data["dependencies"]
    if (root / spec_path).is_file():
        try:
            spec = load_runtime_spec(root / spec_path, spec_path)
        except SpecError as error:
            findings += error.findings
        else:
            findings += _python_version(root, spec_path, spec.python)
    findings += _script_sections(root, experiment.data["train"]["script"])
    name = compute.data["compute_node_name"]
    if len(name) > CREATE_COMPUTE_MAX:
        line, col = compute.position(("compute_node_name",))
        findings.append(Finding(
            "azure-compute-config.json", line, col, "compute_node_name",
            f"{name!r} has {len(name)} characters: fine for an existing cluster, but Azure creates clusters "
            f"only with names of at most {CREATE_COMPUTE_MAX} characters", severity="warning"))
    dns = compute.data.get("deploy_dns_name")
    if dns and dns != experiment.data["service_name"]:
        line, col = compute.position(("deploy_dns_name",))
        findings.append(Finding(
            "azure-compute-config.json", line, col, "deploy_dns_name",
            f"ignored: an online endpoint's DNS name is its service_name "
            f"({experiment.data['service_name']!r}); set deploy_dns_name to null", severity="warning"))
    return findings


def _missing_paths(root: Path, file: str, experiment: Document) -> list[Finding]:
    data = experiment.data
    named: list[tuple[tuple, str, str]] = [
        (("dependencies",), data["dependencies"], "file"),
        (("train", "script"), data["train"]["script"], "file"),
    ]
    named += [(("local", i), item, "any") for i, item in enumerate(data.get("local", []))]
    for input_name, spec in data.get("inputs", {}).items():
        named.append((("inputs", input_name, "sample"), spec["sample"], _kind(spec["type"])))
        if "register_from" in spec:
            named.append((("inputs", input_name, "register_from"), spec["register_from"], _kind(spec["type"])))
    findings = []
    for path, relative, kind in named:
        target = root / relative
        exists = target.is_file() if kind == "file" else target.is_dir() if kind == "dir" else target.exists()
        if not exists:
            line, col = experiment.position(path)
            what = {"file": "file", "dir": "folder", "any": "file or folder"}[kind]
            findings.append(Finding(file, line, col, dotted(path),
                                    f"{relative!r} is not a {what} in the repo: create it or fix the path"))
    return findings


def _script_sections(root: Path, script: str) -> list[Finding]:
    """The base training script's ``#=====`` sections: the author's three present, no marker repeated."""
    path = root / script
    if path.suffix != ".py" or not path.is_file():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [Finding(script, 1, 1, "", f"cannot be read as UTF-8 text: {error}")]
    return check_script(text, script)


def _kind(input_type: str) -> str:
    return "dir" if input_type == "uri_folder" else "file"


def _python_version(root: Path, spec_path: str, python: str) -> list[Finding]:
    pinned = root / ".python-version"
    if not pinned.is_file():
        return []
    wanted = pinned.read_text(encoding="utf-8").strip()
    if wanted and not (wanted == python or wanted.startswith(python + ".")):
        return [Finding(spec_path, 1, 1, "dependencies",
                        f"python={python} but .python-version says {wanted}: make them the same", "warning")]
    return []
