"""The Azure ML adapter: ``init()`` loads the model, ``run()`` answers ``POST /score``.

Azure ML's inference server (``azmlinfsrv``) runs this file, in Azure and under
``mlops serve --adapter score``. ``run`` takes the raw request (``@rawhttp``) so that a bad body
gets the same 4xx and message as the local FastAPI app, instead of the server's generic 500.
"""

import os
import sys
import traceback

# azmlinfsrv loads this file by its path and puts only its app root (AML_APP_ROOT) on sys.path, which
# need not be this folder: the imports below need the folder holding the predictor first.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from azureml_inference_server_http.api.aml_request import rawhttp  # noqa: E402
from azureml_inference_server_http.api.aml_response import AMLResponse  # noqa: E402

import contract  # noqa: E402
import {{ cookiecutter.framework }}_predictor as predictor  # noqa: E402

model = None


def init():
    """Load the model from ``$AZUREML_MODEL_DIR`` once per worker."""
    global model
    model = predictor.load(contract.model_dir())
    contract.freeze_loaded_objects()


@rawhttp
def run(request):
    """Validate the raw body with the shared contract and predict; every refusal is a 4xx with a hint."""
    if request.method != "POST":
        return AMLResponse({"error": "method_not_allowed", "detail": f"{request.method} is not allowed: send POST "
                            "/score with a JSON body"}, 405, json_str=True, response_headers={"Allow": "POST"})
    try:
        contract.check_declared_size(request.content_length)
        body = contract.read_limited(iter(lambda: request.stream.read(65536), b""))
        payload = contract.parse(body, predictor.PredictRequest, predictor.ITEMS)
        result = predictor.predict(model, payload)
    except contract.InputError as error:
        return AMLResponse(error.body(), error.status, json_str=True)
    except Exception as error:  # a bug in serving/: log its traceback, answer JSON like the app does
        traceback.print_exc()
        return AMLResponse({"error": "internal_error", "detail": f"the server failed on this request: "
                            f"{type(error).__name__}: {error} (see the server log)"}, 500, json_str=True)
    return AMLResponse(result.model_dump_json(), 200, {"Content-Type": "application/json"})
