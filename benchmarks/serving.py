"""Our FastAPI adapter against Microsoft's azmlinfsrv, serving the same model in the same run, on loopback.

    .venv/bin/python benchmarks/serving.py [--framework sklearn|spacy] [--repo DIR] [--requests 2000]
                                           [--concurrency 8] [--rounds 3]

Generates the default experiment (or uses --repo, a generated repo with `make setup` done) and
trains its smoke model. Each round then starts each adapter afresh, in turn, and measures: process
start to the first 200 on its health route (cold start), a bounded load of --requests single-item
requests at --concurrency (requests per second, p50, p99), and per-item throughput at batch sizes
1 and 100. Medians over the rounds are printed. Both servers run one worker, as each ships by
default. Targets: the app serves at least 1.2x azmlinfsrv's requests per second with a p99 no
worse, and cold-starts in under 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlops.project import load_project
from mlops.server_process import free_port, running_server
from mlops.serving import ADAPTERS, load_sample_request, plan_launch, resolve_model, serving_python

TEMPLATE = Path(__file__).resolve().parents[1]
THROUGHPUT_TARGET, COLD_START_TARGET = 1.2, 2.0


def load(port: int, path: str, body: bytes, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """Send ``requests`` POSTs over ``concurrency`` connections; return (seconds, latencies).

    A single-threaded asyncio client on raw HTTP/1.1: no GIL contention between client threads to
    blur the latencies. A connection the server closes (gunicorn's sync worker closes every one) is
    reopened, and the reconnect counts in that request's latency, as it would for a real client.
    """
    request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    latencies: list[float] = []
    errors: list[str] = []
    remaining = [requests]

    async def client() -> None:
        reader = writer = None
        while remaining[0] > 0:
            remaining[0] -= 1
            started = time.perf_counter()
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            status_line = await reader.readline()
            length, close = 0, False
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
                elif name.lower() == "connection" and value.strip().lower() == "close":
                    close = True
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status_line.split()[1:2] != [b"200"]:
                errors.append(status_line.decode(errors="replace").strip())
            if close:
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    async def all_clients() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        return time.perf_counter() - started

    elapsed = asyncio.run(all_clients())
    if errors:
        raise SystemExit(f"{len(errors)} requests failed, e.g. {errors[0]}")
    return elapsed, latencies


def percentile(values: list[float], share: float) -> float:
    """The ``share`` quantile of ``values`` (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(project, adapter, python: Path, model: Path, args, items: str, rows: list, logs: Path) -> dict:
    """One cold start, then the single-item load and the batch load, for one adapter."""
    port = free_port("0.0.0.0" if adapter.all_interfaces else "127.0.0.1")
    launch = plan_launch(project, adapter, python, host="127.0.0.1", port=port, model=model)
    with running_server(launch, logs / f"{adapter.name}.log", log=lambda _: None) as server:
        one = json.dumps({items: rows[:1]}).encode()
        load(port, adapter.predict_path, one, 100, args.concurrency)  # warm-up
        seconds, latencies = load(port, adapter.predict_path, one, args.requests, args.concurrency)
        figures = {"cold": server.ready_seconds, "rps": args.requests / seconds,
                   "p50": percentile(latencies, 0.5) * 1000, "p99": percentile(latencies, 0.99) * 1000}
        batch = json.dumps({items: (rows * 100)[:100]}).encode()
        batch_requests = max(args.requests // 10, 50)
        seconds, _ = load(port, adapter.predict_path, batch, batch_requests, args.concurrency)
        figures["rows100"] = batch_requests * 100 / seconds
    return figures


def prepare_repo(repo: Path | None, framework: str) -> Path:
    """The repo to serve from: ``repo``, or a freshly generated experiment of ``framework``, with a smoke model."""
    if repo is None:
        from cookiecutter.main import cookiecutter

        repo = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=tempfile.mkdtemp(prefix="bench-repo-"),
                                 extra_context={"framework": framework}))
        subprocess.run(["make", "setup"], cwd=repo, check=True, stdout=subprocess.DEVNULL)
    if not (repo / "outputs" / "metrics.json").is_file():
        subprocess.run([str(repo / ".venv" / "bin" / "mlops"), "smoke-train"], cwd=repo, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return repo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, help="a generated repo with `make setup` done (default: generate one)")
    parser.add_argument("--framework", choices=("sklearn", "spacy"), default="sklearn",
                        help="the variant to generate when --repo is not given")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each starting both servers (medians shown)")
    args = parser.parse_args()
    project = load_project(prepare_repo(args.repo, args.framework))
    model = resolve_model(project, None)
    sample, items = load_sample_request(project)
    size = sum(p.stat().st_size for p in [model, *model.rglob("*")] if p.is_file())
    print(f"model {model} ({size} bytes); {args.requests} single-item requests "
          f"at concurrency {args.concurrency}; one worker per server; loopback; medians of {args.rounds} rounds")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at the start")
    pythons = {name: serving_python(project, adapter) for name, adapter in ADAPTERS.items()}
    logs = Path(tempfile.mkdtemp(prefix="bench-logs-"))
    runs: dict[str, list[dict]] = {name: [] for name in ADAPTERS}
    for _ in range(args.rounds):
        for name, adapter in ADAPTERS.items():
            runs[name].append(measure(project, adapter, pythons[name], model, args, items, sample[items], logs))
    results = {name: {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
               for name, rounds in runs.items()}
    print(f"{'adapter':<8}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'items/s b=1':>12}{'items/s b=100':>14}"
          f"{'cold start s':>14}")
    for name, r in results.items():
        print(f"{name:<8}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}{r['rps']:>12.0f}{r['rows100']:>14.0f}"
              f"{r['cold']:>14.2f}")
    app, score = results["app"], results["score"]
    ratio = app["rps"] / score["rps"]
    verdicts = [
        (f"throughput {ratio:.2f}x azmlinfsrv (target >= {THROUGHPUT_TARGET}x)", ratio >= THROUGHPUT_TARGET),
        (f"p99 {app['p99']:.2f} ms vs azmlinfsrv {score['p99']:.2f} ms (target: no worse)",
         app["p99"] <= score["p99"]),
        (f"cold start {app['cold']:.2f} s (target < {COLD_START_TARGET} s)", app["cold"] < COLD_START_TARGET),
        (f"an item in a batch of 100 costs {app['rps'] / app['rows100']:.3f}x a single-item call", True),
    ]
    print(f"load average {os.getloadavg()[0]:.2f} at the end (other work on the machine skews every figure)")
    for text, met in verdicts:
        print(f"{'met ' if met else 'MISS'} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
