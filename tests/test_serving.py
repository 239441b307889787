"""The predictor behind both adapters, served for real: every bad request gets its 4xx and a message,
``mlops api-test`` passes on a fresh repo and, when it fails, leaves no process and no port behind."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from conftest import BIN, TEMPLATE, mlops
from mlops.api_check import build_cases, run_checks
from mlops.project import load_project
from mlops.server_process import free_port, group_members, port_is_listening, running_server
from mlops.serving import ADAPTERS, plan_launch, resolve_model, serving_python
from mlops.smoke_record import stale_reason

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
ROW = dict(zip(FEATURES, [5.1, 3.5, 1.4, 0.2], strict=True))


@pytest.fixture(scope="module")
def trained_repo(set_up_repo):
    """The shared sklearn repo with a smoke model in outputs/."""
    repo = set_up_repo("sklearn")
    if stale_reason(load_project(repo)):
        mlops("smoke-train", cwd=repo, check=True)
    return repo


@pytest.fixture(scope="module")
def servers(trained_repo, tmp_path_factory):
    """Both adapters, started for real on free ports, serving the smoke model; stopped after the module."""
    project = load_project(trained_repo)
    logs = tmp_path_factory.mktemp("logs")
    with ExitStack() as stack:
        running = {}
        for name, adapter in ADAPTERS.items():
            python = serving_python(project, adapter, log=lambda _: None)
            port = free_port("0.0.0.0" if adapter.all_interfaces else "127.0.0.1")
            launch = plan_launch(project, adapter, python, host="127.0.0.1", port=port,
                                 model=resolve_model(project, None))
            running[name] = (stack.enter_context(running_server(launch, logs / f"{name}.log", log=lambda _: None)),
                             adapter)
        yield running


@pytest.fixture(params=["app", "score"])
def server(request, servers):
    """One adapter's running server and its description."""
    return servers[request.param]


def post(server, body: bytes | str, headers: dict | None = None) -> httpx.Response:
    running, adapter = server
    content = body.encode() if isinstance(body, str) else body
    return httpx.post(running.base_url + adapter.predict_path, content=content, timeout=30,
                      headers={"Content-Type": "application/json", **(headers or {})})


def test_good_request_gets_one_prediction_per_row(server):
    rows = [ROW, {**ROW, "petal_length": 6.0, "petal_width": 2.5}]
    answer = post(server, json.dumps({"rows": rows}))
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    assert len(predictions) == 2
    assert predictions[0]["prediction"] == "setosa"
    assert set(predictions[1]["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert sum(predictions[1]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)


BAD_REQUESTS = {
    "malformed-json": ('{"rows": [{"sepal_length": 5.1,', 400, "invalid_json", "not valid JSON"),
    "empty-body": ("", 400, "empty_body", "body is empty"),
    "not-an-object": (json.dumps([ROW]), 422, "wrong_shape", "must be a JSON object"),
    "wrong-field": (json.dumps({"data": [ROW]}), 422, "invalid_input", "rows: Field required"),
    "rows-not-a-list": (json.dumps({"rows": {"a": 1}}), 422, "invalid_input", "rows: Input should be a valid"),
    "row-not-an-object": (json.dumps({"rows": [[5.1, 3.5, 1.4, 0.2]]}), 422, "invalid_input", "rows[0]"),
    "text-instead-of-number": (json.dumps({"rows": [{**ROW, "petal_width": "wide"}]}), 422, "invalid_input",
                               "rows[0].petal_width: Input should be a valid number"),
    "boolean-instead-of-number": (json.dumps({"rows": [{**ROW, "petal_width": True}]}), 422, "invalid_input",
                                  "rows[0].petal_width"),
    "not-a-finite-number": (('{"rows": [{"sepal_length": NaN, "sepal_width": 1, "petal_length": 1, '
                             '"petal_width": 1}]}'), 422, "invalid_input",
                            "rows[0].sepal_length: Input should be a finite number"),
    "missing-feature": (json.dumps({"rows": [{k: v for k, v in ROW.items() if k != "sepal_width"}]}), 422,
                        "wrong_features", "missing features: sepal_width"),
    "unknown-feature": (json.dumps({"rows": [{**ROW, "colour": 1.0}]}), 422, "wrong_features",
                        "unknown features: colour"),
    "empty-rows": (json.dumps({"rows": []}), 422, "empty_input", "rows is empty"),
    "too-many-rows": (json.dumps({"rows": [ROW] * 1001}), 413, "too_many_rows", "the limit is 1000"),
    "oversized-body": (json.dumps({"rows": [ROW]}) + " " * 1_048_576, 413, "body_too_large",
                       "the limit is 1048576 bytes"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_bad_request_gets_a_4xx_that_says_what_to_send(server, case):
    body, status, code, words = BAD_REQUESTS[case]
    answer = post(server, body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code
    detail = answer.json()["detail"]
    assert words in detail
    if status in (400, 422) and code != "wrong_features":
        assert '{"rows": [{"sepal_length": 5.1' in detail, "the message shows a body to send instead"


def read_reply(connection: socket.socket) -> str:
    """One whole HTTP response (headers and a Content-Length body) read from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536) or b"\r\n\r\n"
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode(errors="replace")


@pytest.mark.parametrize("body", [json.dumps({"rows": [ROW, {**ROW, "petal_length": 6.0}]}), "", "[1, 2]",
                                  '{"rows": [{"sepal_length": "x"}]}', json.dumps({"rows": [{**ROW, "a": 1}]})],
                         ids=["good", "empty", "list", "wrong-type", "unknown-feature"])
def test_both_adapters_answer_a_body_identically(servers, body):
    """A client written against the local app works unchanged against the Azure ML endpoint."""
    answers = [post(servers[name], body) for name in ("app", "score")]
    assert answers[0].status_code == answers[1].status_code
    assert answers[0].json() == answers[1].json()


def test_oversized_body_is_refused_from_its_declared_length_without_a_hang(server):
    """A client that declares a huge body but sends little must get its 413 at once, not wait for the rest."""
    running, adapter = server
    request = (f"POST {adapter.predict_path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: 50000000\r\n\r\n{{").encode()
    with socket.create_connection(("127.0.0.1", running.launch.port), timeout=10) as connection:
        connection.sendall(request)
        reply = read_reply(connection)
    assert reply.split()[1] == "413", reply[:300]


def test_a_stalled_body_gets_a_408_and_the_app_keeps_serving(trained_repo, tmp_path):
    project = load_project(trained_repo)
    adapter = ADAPTERS["app"]
    launch = plan_launch(project, adapter, serving_python(project, adapter, log=lambda _: None), host="127.0.0.1",
                         port=free_port(), model=resolve_model(project, None))
    launch.env["PREDICT_BODY_TIMEOUT_SECONDS"] = "1"
    with running_server(launch, tmp_path / "app.log", log=lambda _: None) as running:
        with socket.create_connection(("127.0.0.1", launch.port), timeout=10) as connection:
            connection.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 100\r\n\r\n{\"rows\": [")
            started = time.monotonic()
            reply = read_reply(connection)
        assert reply.split()[1] == "408" and "did not arrive within 1 s" in reply, reply
        assert time.monotonic() - started < 8  # the 1 s limit, not a hang
        answer = httpx.post(running.base_url + "/predict", json={"rows": [ROW]}, timeout=10)
        assert answer.status_code == 200


def test_a_wrong_method_gets_a_405_in_the_same_error_shape(server):
    running, adapter = server
    answer = httpx.get(running.base_url + adapter.predict_path, timeout=10)
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed" and "send POST" in answer.json()["detail"]


def test_predict_before_the_model_is_ready_is_a_503_with_the_reason(trained_repo, tmp_path):
    project = load_project(trained_repo)
    adapter = ADAPTERS["app"]
    broken = tmp_path / "model.joblib"
    broken.write_bytes(b"not a model")
    launch = plan_launch(project, adapter, serving_python(project, adapter, log=lambda _: None), host="127.0.0.1",
                         port=free_port(), model=broken)
    process = subprocess.Popen(launch.command, cwd=launch.cwd, env=launch.env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline, health = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(launch.base_url + "/health", timeout=2)
                if health.json()["status"] == "failed":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert health is not None and health.status_code == 503
        assert health.json()["live"] is True and health.json()["ready"] is False
        answer = httpx.post(launch.base_url + "/predict", json={"rows": [ROW]}, timeout=10)
        assert answer.status_code == 503 and answer.json()["error"] == "not_ready"
        assert "could not load the model" in answer.json()["detail"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_health_says_live_and_ready(server):
    running, adapter = server
    answer = httpx.get(running.base_url + adapter.health_path, timeout=5)
    assert answer.status_code == 200
    if adapter.name == "app":
        assert answer.json() == {"live": True, "ready": True, "status": "ready", "detail": ""}


def test_docs_show_typed_models_with_examples(server):
    running, adapter = server
    if adapter.name != "app":
        pytest.skip("azmlinfsrv has no /docs")
    spec = httpx.get(running.base_url + "/openapi.json", timeout=5).json()
    operation = spec["paths"]["/predict"]["post"]
    body = operation["requestBody"]["content"]["application/json"]
    assert body["schema"]["title"] == "PredictRequest" and body["example"]["rows"][0] == ROW
    assert {"200", "400", "408", "413", "422", "503"} <= set(operation["responses"])
    assert spec["components"]["schemas"]["PredictResponse"]["examples"]
    docs = httpx.get(running.base_url + "/docs", timeout=5)
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', docs.text)
    assert assets and all(asset.startswith("/") for asset in assets), f"/docs loads from elsewhere: {assets}"
    for asset in assets:  # served by the app itself, so /docs works without internet
        assert httpx.get(running.base_url + asset, timeout=5).status_code == 200, asset


def started_servers(output: str) -> list[tuple[int, int]]:
    """(process group, port) of every server api-test says it started."""
    return [(int(g), int(p)) for g, p in re.findall(r"started process group (\d+) on port (\d+)", output)]


def assert_nothing_left(servers: list[tuple[int, int]]) -> None:
    assert servers, "api-test printed no started server"
    for group, port in servers:
        assert group_members(group) == [], f"processes of group {group} survived"
        assert not port_is_listening(port), f"port {port} is still listening"


@pytest.fixture
def repo_copy(trained_repo, tmp_path):
    """A copy of the trained repo's files (not its .venv), to break without harming the shared one."""
    copy = tmp_path / "copy"
    shutil.copytree(trained_repo, copy, ignore=shutil.ignore_patterns(".venv", ".venv-runtime", "build"))
    return copy


def test_failed_checks_still_stop_both_servers(repo_copy):
    sample = repo_copy / "serving" / "sample-request.json"
    sample.write_text(json.dumps({"rows": [{**ROW, "colour": 1}]}))
    result = mlops("-C", str(repo_copy), "api-test", cwd=repo_copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL 422 sample request" in result.stdout
    assert "answer(s) were wrong" in result.stderr and "Traceback" not in result.stderr
    assert_nothing_left(started_servers(result.stdout))


def test_a_bug_in_the_predictor_is_reported_first_with_the_servers_own_exception(repo_copy):
    predictor = repo_copy / "serving" / "sklearn_predictor.py"
    predictor.write_text(predictor.read_text().replace("estimator.predict_proba(frame)",
                                                       "estimator.predict_probability(frame)"))
    result = mlops("-C", str(repo_copy), "api-test", cwd=repo_copy)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    for adapter in ("app", "score"):
        report = result.stdout.split(f"api-test {adapter}: ready in", 1)[1].split(f"api-test {adapter}:")[0]
        report = report.splitlines()[1:]
        assert report[0].startswith("  FAIL 500 sample request: expected 200"), report[0]
        assert "internal_error" in report[0] and "predict_probability" in report[0]
        under = [line for line in report[1:] if line.startswith("       | ")]
        assert any("AttributeError: 'Pipeline' object has no attribute 'predict_probability'" in line
                   for line in under), report
        checks = [line for line in report if line.startswith(("  FAIL", "  ok"))]
        assert checks == sorted(checks, key=lambda line: not line.startswith("  FAIL")), "failures come first"
    assert "no answer" not in result.stdout and "not JSON" not in result.stdout
    assert_nothing_left(started_servers(result.stdout))


def test_stopping_api_test_midway_stops_its_server(trained_repo):
    process = subprocess.Popen([str(BIN / "mlops"), "api-test", "--adapter", "score"], cwd=trained_repo,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = ""
    for line in process.stdout:
        output += line
        if "started process group" in line:
            break
    process.terminate()
    output += process.communicate(timeout=30)[0]
    assert process.returncode == 130, output
    assert_nothing_left(started_servers(output))


def test_a_model_that_fails_to_load_is_reported_and_its_server_stopped(repo_copy):
    (repo_copy / "outputs" / "model.joblib").write_bytes(b"not a model")
    result = mlops("-C", str(repo_copy), "api-test", "--adapter", "app", cwd=repo_copy)
    assert result.returncode == 1
    assert "could not load the model" in result.stderr and "Traceback" not in result.stderr
    assert_nothing_left(started_servers(result.stdout))


def listening_addresses(port: int) -> list[str]:
    """The IPv4 addresses with a socket listening on ``port``, read from /proc/net/tcp."""
    found = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.append(".".join(str(b) for b in reversed(bytes.fromhex(address))))
    return found


def test_serve_runs_on_loopback_until_stopped(trained_repo):
    port = free_port()
    process = subprocess.Popen([str(BIN / "mlops"), "serve", "--port", str(port)], cwd=trained_repo,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json={"rows": [ROW]}, timeout=10)
        assert answer.json()["predictions"][0]["prediction"] == "setosa"
        assert listening_addresses(port) == ["127.0.0.1"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert group_members(process.pid) == [] and not port_is_listening(port)


@pytest.mark.parametrize("args, message", [
    (["--adapter", "score", "--reload"], "--reload works with --adapter app only"),
    (["--adapter", "score", "--host", "0.0.0.0"], "azmlinfsrv always listens on 0.0.0.0"),
    (["--model", "no/such/model.joblib"], "--model no/such/model.joblib: no such file or folder"),
])
def test_serve_refuses_bad_options_in_one_line(trained_repo, args, message):
    result = mlops("serve", *args, cwd=trained_repo)
    assert result.returncode != 0 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_without_a_smoke_model_says_what_to_run(repo_copy):
    shutil.rmtree(repo_copy / "outputs")
    result = mlops("-C", str(repo_copy), "serve", cwd=repo_copy)
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: outputs/ holds no successful smoke run (the last one failed or never "
                                     "ran): run `make smoke-train`")


# A scoring script as Microsoft's documentation writes one: the registered model's folder, then the
# path inside it (the job's outputs/ folder), and a plain run(raw_data).
DOCS_STYLE_SCORE = """
import json
import os

import joblib
import pandas as pd


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "outputs", "model.joblib"))


def run(raw_data):
    return model.predict(pd.DataFrame(json.loads(raw_data)["data"])).tolist()
"""


def test_a_score_py_written_the_azure_way_works_locally(repo_copy, tmp_path):
    (repo_copy / "serving" / "score.py").write_text(DOCS_STYLE_SCORE)
    project = load_project(repo_copy)
    adapter = ADAPTERS["score"]
    launch = plan_launch(project, adapter, serving_python(project, adapter, log=lambda _: None), host="127.0.0.1",
                         port=free_port("0.0.0.0"), model=resolve_model(project, None))
    assert (Path(launch.env["AZUREML_MODEL_DIR"]) / "outputs" / "model.joblib").is_file()  # Azure's layout
    log = tmp_path / "score.log"
    with running_server(launch, log, log=lambda _: None) as running:
        answer = httpx.post(running.base_url + "/score", json={"data": [ROW]}, timeout=30)
    assert answer.status_code == 200 and answer.json() == ["setosa"], answer.text
    assert "NotADirectoryError" not in log.read_text()



RULER_MODEL = """
import sys, spacy
nlp = spacy.blank("en")
ruler = nlp.add_pipe("entity_ruler")
ruler.add_patterns([{"label": "NAME", "pattern": [{"LOWER": "fatima"}, {"LOWER": "khan"}]},
                    {"label": "CITY", "pattern": "Springfield"}])
nlp.to_disk(sys.argv[1])
"""


@pytest.mark.parametrize("adapter_name", ["app", "score"])
def test_spacy_predictor_returns_each_texts_entities_with_offsets(set_up_repo, tmp_path, adapter_name):
    """A tiny blank pipeline with an entity ruler, saved with nlp.to_disk, served for real by each adapter."""
    project = load_project(set_up_repo("spacy"))
    adapter = ADAPTERS[adapter_name]
    python = serving_python(project, adapter, log=lambda _: None)
    model = tmp_path / "outputs" / "model"
    model.parent.mkdir()
    subprocess.run([str(python), "-c", RULER_MODEL, str(model)], check=True)
    port = free_port("0.0.0.0" if adapter.all_interfaces else "127.0.0.1")
    launch = plan_launch(project, adapter, python, host="127.0.0.1", port=port, model=tmp_path / "outputs")
    with running_server(launch, tmp_path / "server.log", log=lambda _: None) as server:
        url = server.base_url + adapter.predict_path
        texts = ["Fatima Khan moved to Springfield.", "", "No entities here."]
        answer = httpx.post(url, json={"texts": texts}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"predictions": [
            {"entities": [{"label": "NAME", "start": 0, "end": 11, "text": "Fatima Khan"},
                          {"label": "CITY", "start": 21, "end": 32, "text": "Springfield"}]},
            {"entities": []}, {"entities": []}]}
        refused = httpx.post(url, json={"texts": ["fine", 7]}, timeout=30)
        assert refused.status_code == 422
        assert refused.json()["detail"].startswith("texts[1]: Input should be a valid string (got 7)")
        empty = httpx.post(url, json={"texts": []}, timeout=30)
        assert (empty.status_code, empty.json()["error"]) == (422, "empty_input")


def test_a_row_limit_the_body_limit_cannot_carry_expects_the_body_limit():
    sample = {"rows": [ROW]}
    cases = {c.name: c for c in build_cases(sample, "rows", {"max_rows": 1000, "max_body_bytes": 1024})}
    assert cases["1001 items (limit 1000)"].error == "body_too_large"
    cases = {c.name: c for c in build_cases(sample, "rows", {"max_rows": 3, "max_body_bytes": 4096})}
    assert cases["4 items (limit 3)"].error == "too_many_rows"


def test_the_checker_fails_a_500_a_bare_4xx_and_a_short_answer():
    """The checker itself can fail: a server answering wrongly (here, through httpx's mock transport) is caught."""
    def wrong_server(request: httpx.Request) -> httpx.Response:
        body = request.content
        if not body.strip():
            return httpx.Response(500, json={"message": "internal error"})
        if body.startswith(b"["):
            return httpx.Response(422, json={"detail": "bad"})
        if b'"rows": []' in body:
            return httpx.Response(422, json={"error": "empty_input", "detail": "rows is empty"})
        return httpx.Response(200, json={"predictions": [{"prediction": "setosa"}]})

    sample = {"rows": [ROW, ROW]}
    with httpx.Client(transport=httpx.MockTransport(wrong_server)) as client:
        outcomes = {o.case.name: o for o in run_checks(client, "http://test/predict", sample, "rows",
                                                       {"max_rows": 10, "max_body_bytes": 10_000})}
    assert not outcomes["empty body"].passed and "expected 400" in outcomes["empty body"].detail
    assert not outcomes["a list instead of an object"].passed
    assert not outcomes["empty 'rows'"].passed  # a message too short to say what to send
    assert not outcomes["sample request"].passed and "expected 2 predictions" in outcomes["sample request"].detail


def test_concurrent_requests_batched_together_each_get_their_own_answers(servers):
    """The app predicts requests that arrive together in one call: each must still get exactly its answer,
    and a wrong request among them gets its 4xx without failing the others."""
    running, adapter = servers["app"]
    url = running.base_url + adapter.predict_path
    bodies = [{"rows": [{**ROW, "petal_length": 1.0 + 0.25 * (i % 24), "petal_width": 0.1 * (i % 25)}] * (1 + i % 3)}
              for i in range(40)]
    bodies[17] = {"rows": [{**ROW, "colour": 1.0}]}
    expected = [httpx.post(url, json=body, timeout=30) for body in bodies]  # one at a time: nothing to merge

    async def all_at_once() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(*(client.post(url, json=body) for body in bodies))

    answers = asyncio.run(all_at_once())
    assert [a.status_code for a in answers] == [e.status_code for e in expected]
    assert [a.json() for a in answers] == [e.json() for e in expected]
    assert answers[17].status_code == 422 and answers[0].status_code == 200
    assert len({json.dumps(a.json()) for a in answers}) > 10, "the rows differ, so most answers must too"


def load_batching():
    """The generated repo's batching module, straight from the template (it holds no template expressions)."""
    import importlib.util

    path = TEMPLATE / "{{cookiecutter.experiment}}" / "serving" / "batching.py"
    spec = importlib.util.spec_from_file_location("batching_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def text_models():
    """A request of texts and a response of strings: the smallest models a Batcher can merge."""
    from pydantic import BaseModel

    class Request(BaseModel):
        texts: list[str]

    class Response(BaseModel):
        predictions: list[str]

    return Request, Response


def test_the_batcher_merges_waiting_requests_and_isolates_a_refused_one():
    Request, Response = text_models()
    calls: list[int] = []

    def predict(request: Request) -> Response:
        calls.append(len(request.texts))
        if "bad" in request.texts:
            raise ValueError("refused")
        return Response(predictions=[text.upper() for text in request.texts])

    batcher = load_batching().Batcher(predict, Request, "texts", max_items=1000)

    async def scenario() -> list:
        runner = asyncio.create_task(batcher.run())
        try:
            jobs = [batcher.submit(Request(texts=[f"r{i}a", f"r{i}b"] if i != 5 else ["bad"])) for i in range(10)]
            return await asyncio.gather(*jobs, return_exceptions=True)
        finally:
            runner.cancel()

    answers = asyncio.run(scenario())
    assert isinstance(answers[5], ValueError)
    assert [a.predictions for i, a in enumerate(answers) if i != 5] == [[f"R{i}A", f"R{i}B"] for i in range(10)
                                                                         if i != 5]
    assert len(calls) < 20 and max(calls) > 2, f"the waiting requests were not merged: {calls}"


def test_the_batcher_never_merges_past_its_item_limit():
    Request, Response = text_models()
    calls: list[int] = []

    def predict(request: Request) -> Response:
        calls.append(len(request.texts))
        return Response(predictions=request.texts)

    batcher = load_batching().Batcher(predict, Request, "texts", max_items=5)

    async def scenario() -> list:
        runner = asyncio.create_task(batcher.run())
        try:
            return await asyncio.gather(*(batcher.submit(Request(texts=[str(i)] * 2)) for i in range(9)))
        finally:
            runner.cancel()

    answers = asyncio.run(scenario())
    assert [a.predictions for a in answers] == [[str(i)] * 2 for i in range(9)]
    assert max(calls) <= 5 and sum(calls) == 18, calls
