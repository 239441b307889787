"""Rules that span files: the paths a config names exist, and names fit the limits of their use."""

from __future__ import annotations

import re
from pathlib import Path

from mlops.assembly import check_script
from mlops.findings import Finding, dotted
from mlops.positioned import Document
from mlops.runtime_spec import SpecError, load_runtime_spec

CREATE_COMPUTE_MAX = 24
# Azure's GPU VM families (NC, ND, NG, NV and their versions) all start Standard_N.
GPU_VM_SIZE = re.compile(r"^Standard_N", re.IGNORECASE)
GPU_IMAGE = re.compile(r"cuda|gpu", re.IGNORECASE)
CPU_IMAGE_EXAMPLE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
GPU_IMAGE_EXAMPLE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04:latest"


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
    findings += _image_fits_vm(experiment_name, experiment, compute)
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
