"""mlops rollback: put an earlier registry version back in production, through the promotion path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops.azureml.promotion import Promotion

HELP = "two stages: serve an earlier registry version N in production again (same blue/green path, no gate)"


def add_arguments(parser) -> None:
    """``--version``: the earlier registry version to serve again."""
    parser.add_argument("--version", required=True, metavar="N",
                        help="the registry version to serve again (a whole number, as the share step printed it)")


def rollback(project_dir: Path, version: str, *, log: Callable[[str], None] = print) -> Promotion:
    """Deploy registry ``version`` to production blue/green, as a promotion does; the quality gate is not asked:
    going back to an older model is the point."""
    from mlops.commands.promote import promote

    log(f"Rolling production back to registry version {version}")
    return promote(project_dir, version, gate=False, log=log)


def run(args) -> int:
    """Roll back; a failure before the traffic shift leaves production as it was and exits 1 (130 when cancelled)."""
    from mlops.cancellation import cancellable
    from mlops.commands.promote import report_promotion

    with cancellable("mlops rollback"):  # a cancelled job puts production's traffic back before it ends
        promotion = rollback(args.project_dir, args.version)
    report_promotion(promotion, rollback=True)
    return 0
