"""Rules that span files: the paths a config names exist, and names fit the limits of their use."""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from mlops.assembly import check_script
from mlops.content_hash import files_under
from mlops.findings import Finding, dotted
from mlops.gate import EVALUATION_SCRIPT
from mlops.positioned import Document
from mlops.runtime_spec import SpecError, load_runtime_spec
from mlops.script_options import declared_options
from mlops.validation.gate_checks import last_smoke_findings
from mlops.validation.timeouts import rollout_fits

CREATE_COMPUTE_MAX = 24
# Azure's GPU VM families (NC, ND, NG, NV and their versions) all start Standard_N.
GPU_VM_SIZE = re.compile(r"^Standard_N", re.IGNORECASE)
GPU_IMAGE = re.compile(r"cuda|gpu", re.IGNORECASE)
CPU_IMAGE_EXAMPLE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
GPU_IMAGE_EXAMPLE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest"
LARGE_LOCAL_BYTES = 10_000_000


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
            findings += _python_version(root, spec_path, spec.python) + list(spec.warnings)
    findings += _script_sections(root, experiment.data["train"]["script"])
    findings += rollout_fits(root, experiment_name, experiment)
    findings += _image_fits_vm(experiment_name, experiment, compute)
    findings += _script_options(root, experiment_name, experiment)
    findings += _data_references(experiment_name, experiment)
    findings += _large_local_files(root, experiment_name, experiment)
    findings += last_smoke_findings(root, experiment_name, experiment)
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


def _image_fits_vm(file: str, experiment: Document, compute: Document) -> list[Finding]:
    """A GPU VM size with a CPU image (or the reverse) runs, but pays for what it cannot use."""
    image, vm_size = experiment.data.get("image"), compute.data.get("vm_size")
    if not isinstance(image, str) or not isinstance(vm_size, str):
        return []
    gpu_vm, gpu_image = bool(GPU_VM_SIZE.match(vm_size)), bool(GPU_IMAGE.search(image))
    if gpu_vm == gpu_image:
        return []
    line, col = experiment.position(("image",))
    if gpu_vm:
        message = (f"{image!r} is a CPU image but vm_size {vm_size!r} in azure-compute-config.json is a GPU "
                   f"size: the job cannot use the GPU; use a CUDA image such as {GPU_IMAGE_EXAMPLE!r}, "
                   "or a CPU size")
    else:
        message = (f"{image!r} is a GPU (CUDA) image but vm_size {vm_size!r} in azure-compute-config.json is "
                   f"a CPU size: use a GPU size (Standard_NC...) or a CPU image such as {CPU_IMAGE_EXAMPLE!r}")
    return [Finding(file, line, col, "image", message, severity="warning")]


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
    gate = data.get("gate") or {}
    if gate:
        spec = gate["evaluation_data"]
        named.append((("gate", "evaluation_script"), gate.get("evaluation_script", EVALUATION_SCRIPT), "file"))
        named += [(("gate", "evaluation_data", key), spec[key], _kind(spec["type"]))
                  for key in ("sample", "register_from") if key in spec]
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


def _script_options(root: Path, file: str, experiment: Document) -> list[Finding]:
    """Each input and ``train.args``/``smoke.args`` key the experiment file passes must be an option of the script."""
    data = experiment.data
    script = data["train"]["script"]
    try:
        options = declared_options((root / script).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return []
    if options is None:
        return []
    passed = [(("inputs", name), name) for name in data.get("inputs", {})]
    passed += [((section, "args", key), key) for section in ("train", "smoke")
               for key in data.get(section, {}).get("args", {})]
    findings = []
    for path, key in passed:
        if key in options:
            continue
        line, col = experiment.position(path, key=True)
        close = difflib.get_close_matches(key, sorted(options), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"its options are {', '.join(sorted(options))}"
        findings.append(Finding(file, line, col, dotted(path),
                                f"{script} has no option --{key}, so the run would stop at once: {hint}"))
    return findings


def _data_references(file: str, experiment: Document) -> list[Finding]:
    """A data asset registered from the repo takes its version from the content; any other names one."""
    findings = []
    declared = {("inputs", name): spec for name, spec in experiment.data.get("inputs", {}).items()}
    if (experiment.data.get("gate") or {}).get("evaluation_data"):
        declared[("gate", "evaluation_data")] = experiment.data["gate"]["evaluation_data"]
    for place, spec in declared.items():
        reference = spec["azure"]
        if not reference.startswith("azureml:") or reference.startswith("azureml://"):
            continue
        asset, _, version = reference[len("azureml:"):].replace("@", ":@", 1).partition(":")
        line, col = experiment.position((*place, "azure"))
        field = dotted((*place, "azure"))
        if "register_from" in spec and version:
            findings.append(Finding(file, line, col, field,
                                    f"{reference!r} fixes the version, but register_from registers "
                                    f"{spec['register_from']}'s content under a version derived from it: write "
                                    f"'azureml:{asset}' so the job always reads the file as it is now"))
        elif "register_from" not in spec and not version:
            findings.append(Finding(file, line, col, field,
                                    f"{reference!r} names no version: write 'azureml:{asset}:<version>' or "
                                    f"'azureml:{asset}@latest', or add register_from to register a repo file"))
    return findings


def _large_local_files(root: Path, file: str, experiment: Document) -> list[Finding]:
    """A big file under ``local`` is in git and in every job's code snapshot: say how to keep it out."""
    findings = []
    for index, item in enumerate(experiment.data.get("local", [])):
        big = [p for p in files_under(root / item) if p.stat().st_size > LARGE_LOCAL_BYTES] if (root / item).exists() \
            else []
        if big:
            line, col = experiment.position(("local", index))
            largest = max(big, key=lambda p: p.stat().st_size)
            findings.append(Finding(
                file, line, col, f"local[{index}]",
                f"ships {largest.relative_to(root).as_posix()} ({largest.stat().st_size / 1e6:.1f} MB) with every job "
                f"from git: make it a training input (Azure reads a datastore URI, the smoke run a small sample in "
                f"the repo; see README, Large data)", severity="warning"))
    return findings


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
