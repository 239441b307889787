"""Before anything talks to Azure: is this repository connected to it yet?

The first push of a freshly generated repo starts ``deploy.yml`` before anyone ran ``mlops
bootstrap-oidc``. With none of the login secrets set that is expected: the run ends green with a notice
pointing at the setup. With some set and others not, the setup broke half-way: the run fails at once,
naming the missing ones, instead of minutes later inside an Azure login. Standard library only, so the
workflow runs it before ``make setup``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LOGIN_SECRETS = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_SUBSCRIPTION_ID")
README_SECTION = "Connect GitHub to Azure"
SETUP_COMMAND = "mlops bootstrap-oidc"


@dataclass(frozen=True)
class Connection:
    """Which login secrets the job can see (by name only: values are never kept)."""

    present: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def connected(self) -> bool:
        """Every login secret is set."""
        return not self.missing

    @property
    def untouched(self) -> bool:
        """None is set: the repo was never connected (a first push), not connected half-way."""
        return not self.present


def check_connection(environ: Mapping[str, str]) -> Connection:
    """The login secrets that are set (non-empty) and those that are not, in ``LOGIN_SECRETS`` order."""
    present = tuple(name for name in LOGIN_SECRETS if environ.get(name, "").strip())
    return Connection(present, tuple(name for name in LOGIN_SECRETS if name not in present))


def not_connected_message() -> str:
    """One line for a repo nobody connected yet."""
    return (f"this repository is not connected to Azure yet (none of {', '.join(LOGIN_SECRETS)} is set), so "
            f"nothing was trained or deployed: run `{SETUP_COMMAND}` as the README's section "
            f"\"{README_SECTION}\" shows, then push again or rerun this workflow")


def half_connected_message(connection: Connection) -> str:
    """One line for a repo whose setup stopped half-way."""
    verb = "is" if len(connection.missing) == 1 else "are"
    return (f"{', '.join(connection.missing)} {verb} not set while {', '.join(connection.present)} "
            f"{'is' if len(connection.present) == 1 else 'are'}: the Azure login cannot work; rerun "
            f"`{SETUP_COMMAND} --apply` (it skips what exists) or set the missing repository "
            f"secret{'s' if len(connection.missing) > 1 else ''} (README: \"{README_SECTION}\")")


def summary_markdown(connection: Connection) -> str:
    """The step summary: why nothing ran, or what is missing, and where the setup is described."""
    if connection.connected:
        return ""
    if connection.untouched:
        return ("### Not connected to Azure yet\n\nThis push trained and deployed nothing: the repository has "
                "none of the login secrets " + ", ".join(f"`{name}`" for name in LOGIN_SECRETS) + ".\n\n"
                f"Run `{SETUP_COMMAND}` once, as the README's section **{README_SECTION}** shows; the next "
                "merge to `main` then trains and deploys.\n")
    return ("### Azure login secrets missing\n\n" + ", ".join(f"`{name}`" for name in connection.missing)
            + f" {'is' if len(connection.missing) == 1 else 'are'} not set while "
            + ", ".join(f"`{name}`" for name in connection.present)
            + f" {'is' if len(connection.present) == 1 else 'are'}.\n\nRerun `{SETUP_COMMAND} --apply` "
            f"(it skips what exists) or set the missing secrets; see the README's section **{README_SECTION}**.\n")
