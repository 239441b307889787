"""A list of ``az``/``gh`` commands that is both a bash script to review and a plan ``--apply`` runs itself.

Each :class:`Step` is one command (or a stop with a message), optionally guarded by a :class:`Condition`
that both bash and Python evaluate the same way, so the printed script and ``--apply`` make exactly the
same calls. Variables (``$APP_ID``) are set from a step's output and substituted in later arguments.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

from mlops.errors import MlopsError

VARIABLE = re.compile(r"\$([A-Z_][A-Z0-9_]*)")
STOP_EXIT = 3


def substitute(text: str, variables: dict[str, str]) -> str:
    """``text`` with each known ``$NAME`` replaced by its value (unknown ones stay as written)."""
    return VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)


def quote(arg: str) -> str:
    """``arg`` as one bash word: literal parts single-quoted, ``$NAME`` parts double-quoted so they expand."""
    parts = re.split(r"(\$[A-Z_][A-Z0-9_]*)", arg)
    if len(parts) == 1:
        return shlex.quote(arg)
    return "".join(f'"{part}"' if VARIABLE.fullmatch(part) else shlex.quote(part) for part in parts if part)


@dataclass(frozen=True)
class Condition:
    """``kind`` applied to variable ``name`` and ``value``: empty, listed, not-listed, equals, differs, foreign.

    ``listed``: ``value`` is one of the variable's lines. ``foreign``: some line starts with none of the
    ``|``-separated prefixes in ``value`` (used for subjects that name another repository).
    """

    kind: str
    name: str
    value: str = ""

    def holds(self, variables: dict[str, str]) -> bool:
        """Evaluate in Python, as ``--apply`` does."""
        current = variables.get(self.name, "")
        value = substitute(self.value, variables)
        lines = [line for line in current.splitlines() if line]
        return {
            "empty": lambda: not current.strip(),
            "listed": lambda: value in lines,
            "not-listed": lambda: value not in lines,
            "equals": lambda: current.strip() == value,
            "differs": lambda: current.strip() != value,
            "foreign": lambda: any(not line.startswith(tuple(value.split("|"))) for line in lines),
        }[self.kind]()

    def bash(self) -> str:
        """The same test in bash."""
        var = f'"${self.name}"'
        if self.kind == "empty":
            return f"[ -z {var} ]"
        if self.kind in ("listed", "not-listed"):  # here-strings, not pipes: no SIGPIPE under pipefail
            test = f"grep -qxF -- {quote(self.value)} <<<{var}"
            return test if self.kind == "listed" else f"! {test}"
        if self.kind in ("equals", "differs"):
            return f"[ {var} {'=' if self.kind == 'equals' else '!='} {quote(self.value)} ]"
        patterns = " ".join(f"-e {quote('^' + _literal(prefix))}" for prefix in self.value.split("|"))
        return f'[ -n "$(grep -v {patterns} <<<{var})" ]'


def _literal(text: str) -> str:
    """``text`` as a grep pattern matching itself; ``$NAME`` parts stay variables for bash to expand."""
    parts = re.split(r"(\$[A-Z_][A-Z0-9_]*)", text)
    return "".join(part if VARIABLE.fullmatch(part) else re.sub(r"([.\[\]()*+?{}|^\\])", r"\\\1", part)
                   for part in parts)


@dataclass
class Step:
    """One command with its reason; or, with ``stop``, a stop with that message when ``only_if`` holds.

    ``capture`` names a variable set from the command's output; the step runs only when every condition
    in ``only_if`` holds; ``stdin`` is fed to the command (a here-document in the script).
    """

    comment: str
    argv: list[str]
    capture: str | None = None
    only_if: tuple[Condition, ...] = ()
    stdin: str | None = None
    stop: str | None = None

    def runs(self, variables: dict[str, str]) -> bool:
        """Whether every condition holds."""
        return all(condition.holds(variables) for condition in self.only_if)

    def bash_test(self) -> str:
        """The conditions as one bash test."""
        return " && ".join(condition.bash() for condition in self.only_if)


def render(steps: list[Step], header: list[str]) -> str:
    """The steps as a bash script that stops (exit 3) where ``--apply`` would stop."""
    lines = ["#!/usr/bin/env bash", *(f"# {line}" for line in header), "set -euo pipefail", ""]
    captured = list(dict.fromkeys(step.capture for step in steps if step.capture))
    lines += ["# what the lookups below learn (a skipped lookup leaves its variable empty)",
              " ".join(f"{name}=''" for name in captured), ""] if captured else []
    for step in steps:
        lines.append(f"# {step.comment}")
        if step.stop is not None:
            lines += [f"if {step.bash_test()}; then", f"  echo {quote('stop: ' + step.stop)} >&2",
                      f"  exit {STOP_EXIT}", "fi"]
            continue
        command = " ".join(quote(arg) for arg in step.argv)
        if step.capture:
            command = f"{step.capture}=$({command})"
        if step.stdin is not None:
            command = f"{command} <<'JSON'\n{step.stdin}\nJSON"
        if step.only_if:
            command = (f"if {step.bash_test()}; then\n  {command}\nfi" if "\n" in command
                       else f"if {step.bash_test()}; then {command}; fi")
        lines.append(command)
    return "\n".join(lines) + "\n"


class Stopped(MlopsError):
    """A step stopped the plan on purpose; the message says what was done and what to do."""

    exit_code = STOP_EXIT


Runner = Callable[[list[str], "str | None"], str]


def cli_runner(where: str, hint: str) -> Runner:
    """A runner for ``az`` and ``gh`` whose failures name ``where`` and end with ``hint``."""
    from mlops.oidc import run_cli as run

    def runner(argv: list[str], stdin: str | None = None) -> str:
        return run(argv, where, hint, stdin)

    return runner


def apply(steps: list[Step], runner: Runner, echo: Callable[[str], None] = print) -> dict[str, str]:
    """Run the steps in order as the script would; return the variables learned, raise :class:`Stopped`."""
    variables: dict[str, str] = {}
    for step in steps:
        if not step.runs(variables):
            if step.stop is None and step.only_if[-1].kind in ("empty", "not-listed"):
                echo(f"# exists: {step.comment}")
            continue
        if step.stop is not None:
            raise Stopped(substitute(step.stop, variables))
        argv = [substitute(arg, variables) for arg in step.argv]
        echo("$ " + " ".join(shlex.quote(arg) for arg in argv))
        output = runner(argv, substitute(step.stdin, variables) if step.stdin is not None else None).strip()
        if step.capture:
            variables[step.capture] = output
    return variables
