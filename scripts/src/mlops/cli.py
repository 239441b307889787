"""The ``mlops`` command line: parse arguments, run one command, turn errors into one line."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from pathlib import Path

from mlops import __version__
from mlops.commands import COMMANDS
from mlops.errors import MlopsError


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with one sub-parser per command module."""
    parser = argparse.ArgumentParser(prog="mlops", description="Azure ML GitOps toolkit.")
    parser.add_argument("--version", action="version", version=f"mlops {__version__}")
    parser.add_argument(
        "-C", "--project-dir", type=Path, default=Path("."), metavar="DIR",
        help="the experiment repo to work on (default: the current folder)",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module_name in COMMANDS.items():
        module = importlib.import_module(f"mlops.commands.{module_name}")
        # argparse %-formats help strings: a literal "0%" in a HELP must not break `mlops --help`
        sub = subparsers.add_parser(name, help=module.HELP.replace("%", "%%"), description=module.HELP)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.run)
    return parser


def quiet_azure_identity(debug: bool) -> None:
    """Keep azure-identity's per-credential warnings off the terminal unless ``--debug``.

    Without a logging setup Python prints them through its last-resort handler: a 17-line account of
    a failed ``DefaultAzureCredential`` before our one-line error that says what to do.
    """
    logging.getLogger("azure.identity").setLevel(logging.DEBUG if debug else logging.CRITICAL)


def main(argv: list[str] | None = None) -> int:
    """Run the command named in ``argv`` and return its exit code."""
    args = build_parser().parse_args(argv)
    quiet_azure_identity(args.debug)
    try:
        return int(args.handler(args) or 0)
    except MlopsError as error:
        if args.debug:
            if getattr(error, "detail", ""):
                print(f"detail: {error.detail}", file=sys.stderr)
            raise
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug, not bad input: say so, keep the traceback for --debug
        if args.debug:
            raise
        print(f"internal error: {type(error).__name__}: {error} (run `mlops --debug {args.command}` "
              "for the traceback and report it)", file=sys.stderr)
        return 70


if __name__ == "__main__":
    sys.exit(main())
