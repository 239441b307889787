"""mlops preflight: the first step of deploy.yml; says whether the repo is connected to Azure yet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.preflight import Connection

HELP = ("before training: end quietly with a notice when no Azure login secret is set (a first push), "
        "fail naming the missing ones when only some are")


def add_arguments(parser) -> None:
    """No options: the login secrets come from the environment, as the workflow step passes them."""


def preflight(environ: Mapping[str, str]) -> Connection:
    """Which of the login secrets ``environ`` holds (names only)."""
    from mlops.preflight import check_connection

    return check_connection(environ)


def run(args) -> int:
    """Print the verdict; write ``connected=true|false`` to ``$GITHUB_OUTPUT`` and the step summary in Actions."""
    import os

    from mlops.errors import MlopsError
    from mlops.preflight import half_connected_message, not_connected_message, summary_markdown
    from mlops.step_summary import append_step_summary

    env = dict(os.environ)
    connection = preflight(env)
    output = env.get("GITHUB_OUTPUT")
    if output:
        with open(output, "a", encoding="utf-8") as handle:
            handle.write(f"connected={'true' if connection.connected else 'false'}\n")
    if not connection.connected:
        append_step_summary(summary_markdown(connection), env)
    in_actions = env.get("GITHUB_ACTIONS") == "true"
    if connection.connected:
        print("preflight: the Azure login secrets are set: training and deployment go ahead")
        return 0
    if connection.untouched:
        message = not_connected_message()
        print(f"::notice title=Not connected to Azure yet::{message}" if in_actions else f"note: {message}")
        return 0
    message = half_connected_message(connection)
    if in_actions:
        print(f"::error title=Azure login secrets missing::{message}")
    raise MlopsError(f"preflight: {message}")
