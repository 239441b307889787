"""``python -m mlops.standin``: run the stand-in until Ctrl-C, printing what a client needs.

The printed ``export`` lines can be evaluated in a shell (``eval "$(python -m mlops.standin ... )"``
is not possible for a foreground server, so copy them or use ``--env-file``); the service
principal's secret is never printed: it is read from a file in the state folder.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from pathlib import Path

from mlops.errors import MlopsError
from mlops.standin.injection import FAULTS, parse_fault
from mlops.standin.server import DEFAULT_LOCATION, StandIn

SECRET = "AZURE_CLIENT_SECRET"


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m mlops.standin", description=__doc__.splitlines()[0],
                                     epilog="faults: " + "; ".join(f"{k}: {v}" for k, v in FAULTS.items()))
    parser.add_argument("--state", required=True, type=Path, help="folder holding the workspace (kept across runs)")
    parser.add_argument("--port", type=int, default=0, help="proxy port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--location", default=DEFAULT_LOCATION, help="the region workspaces are in")
    parser.add_argument("--inject", action="append", default=[], metavar="FAULT[:key=value,...]",
                        help="arm a fault (repeatable), e.g. throttle:times=3,status=503")
    parser.add_argument("--env-file", type=Path, help="also write the client's variables to this file "
                        "(KEY=value lines, mode 600, the secret included)")
    return parser.parse_args(argv)


def export_lines(variables: dict[str, str], secret_file: Path) -> list[str]:
    """``export KEY=value`` lines; the secret is read from ``secret_file`` instead of being printed."""
    lines = [f"export {k}={shlex.quote(v)}" for k, v in variables.items() if k != SECRET]
    lines.append(f'export {SECRET}="$(cat {shlex.quote(str(secret_file))})"')
    return lines


def serve_until_stopped(argv: list[str] | None = None) -> int:
    """Start, print, wait for SIGINT/SIGTERM, stop."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        faults = [parse_fault(text) for text in args.inject]
        standin = StandIn(args.state, port=args.port, location=args.location, faults=faults).start()
    except (MlopsError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    variables = standin.client_environment()
    secret_file = standin.state_dir / "client-secret"
    secret_file.touch(mode=0o600)
    secret_file.write_text(variables[SECRET], encoding="utf-8")
    if args.env_file:
        args.env_file.touch(mode=0o600)
        args.env_file.write_text("".join(f"{k}={v}\n" for k, v in variables.items()), encoding="utf-8")
    print(f"# Azure ML stand-in on {standin.proxy_url} (state {standin.state_dir}); Ctrl-C stops it.")
    print(f"# request log: {standin.ctx.log.file}  control: {standin.proxy_url}/_standin")
    print("\n".join(export_lines(variables, secret_file)), flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(serve_until_stopped())
