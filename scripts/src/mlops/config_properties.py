"""Property-based checks of ``mlops validate``: generated config files always get an answer, never a crash.

Used by the generated repo's tests (a few examples, seconds, in ``make check``) and by the template's
suite (many more). Hypothesis draws three kinds of input for each of the three config files:
near-valid documents (the repo's own file with one field deleted, retyped, renamed or replaced by a
valid-looking name), arbitrary bytes, and YAML/JSON fragments. Needs ``hypothesis`` (the toolkit's
``test`` extra).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from mlops.generated_inputs import SEED, examples, fragments, near_valid
from mlops.layout import AZURE_CONFIG, COMPUTE_CONFIG, find_experiment_file

FINDING_LINE = re.compile(r"^[^\s:][^:]*:\d+:\d+: .+")


def config_file_contents(document: Any, as_yaml: bool) -> st.SearchStrategy[bytes]:
    """Bytes for a config file: a near-valid document (as YAML or JSON), a fragment, or arbitrary bytes."""
    return st.one_of(near_valid(document).map(_dumper(as_yaml)), fragments().map(lambda text: text.encode("utf-8")),
                     st.binary(max_size=200))


def _dumper(as_yaml: bool) -> Callable[[Any], bytes]:
    """Writes a document as the config file would hold it: YAML or indented JSON, UTF-8."""
    def dump(value: Any) -> bytes:
        text = yaml.safe_dump(value, sort_keys=False) if as_yaml else json.dumps(value, indent=2)
        return text.encode("utf-8")

    return dump


def check_validate_answers(root: Path, relative: str, content: bytes) -> tuple[int, list[str]]:
    """Write ``content`` to ``root/relative``, run ``mlops validate`` in-process; return exit code and lines.

    Fails (AssertionError) on anything but exit 0 or 1 with every problem as one ``file:line:col`` line.
    """
    from mlops.cli import main

    (root / relative).write_bytes(content)
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        code = main(["-C", str(root), "validate"])
    lines = output.getvalue().splitlines()
    assert code in (0, 1), f"{relative}: exit {code} for {content!r}:\n{output.getvalue()}"
    problems = [line for line in lines if not line.startswith(("valid: ", "::"))
                and not re.match(r"^\d+ error\(s\): ", line)]
    bad = [line for line in problems if not FINDING_LINE.match(line)]
    assert not bad, f"{relative}: not a file:line:col line for {content!r}: {bad}"
    return code, problems


def check_plan_accepts_what_validates(root: Path, relative: str, content: bytes) -> bool:
    """If ``mlops validate`` accepts ``content`` in ``root/relative``, ``mlops plan`` must accept it too.

    Returns whether the content validated (and so was planned); fails (AssertionError) with plan's output
    when a document the schemas accept fails later, in plan.
    """
    from mlops.cli import main

    code, _ = check_validate_answers(root, relative, content)
    if code != 0:
        return False
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        planned = main(["-C", str(root), "plan"])
    assert planned == 0, f"{relative}: validates but plan exits {planned} for {content!r}:\n{output.getvalue()}"
    return True


def validate_properties(root: Path, workdir: Path) -> list[Callable[[], None]]:
    """One seeded Hypothesis test per config file of the repo at ``root``, each run on a copy in ``workdir``."""
    return [_property(copy, relative, config_file_contents(document, as_yaml), text, check_validate_answers,
                      "validate_answers_every")
            for copy, relative, document, as_yaml, text in _config_files(root, workdir)]


def plan_properties(root: Path, workdir: Path) -> list[Callable[[], None]]:
    """Per config file: near-valid documents that ``mlops validate`` accepts are accepted by ``mlops plan``.

    Slower than :func:`validate_properties` (plan loads each file with azure-ai-ml), so the template's
    suite runs these and a generated repo's ``make check`` does not.
    """
    return [_property(copy, relative, near_valid(document).map(_dumper(as_yaml)), text,
                      check_plan_accepts_what_validates, "plan_accepts_every_valid")
            for copy, relative, document, as_yaml, text in _config_files(root, workdir)]


def _config_files(root: Path, workdir: Path) -> list[tuple[Path, str, Any, bool, str]]:
    """Per config file: a copy of the repo to break, the file's name, its document, YAML or not, its text."""
    experiment = find_experiment_file(root).name
    found = []
    for relative, as_yaml in ((AZURE_CONFIG, False), (COMPUTE_CONFIG, False), (experiment, True)):
        text = (root / relative).read_text(encoding="utf-8")
        document = yaml.safe_load(text) if as_yaml else json.loads(text)
        copy = workdir / f"repo-{relative}"
        shutil.copytree(root, copy, symlinks=True, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".venv", ".venv-runtime", "build", "outputs", "mlruns"))
        found.append((copy, relative, document, as_yaml, text))
    return found


def _property(copy: Path, relative: str, contents: st.SearchStrategy[bytes], original: str,
              check: Callable[[Path, str, bytes], Any], name: str) -> Callable[[], None]:
    @seed(SEED)
    @settings(max_examples=examples(), deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(content=contents)
    def answers_every_input(content: bytes) -> None:
        try:
            check(copy, relative, content)
        finally:
            (copy / relative).write_text(original, encoding="utf-8")

    answers_every_input.__name__ = f"{name}_{relative}"
    return answers_every_input
