"""One module per command. Each defines ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.

Each also has a function (mostly named after the command) with typed arguments that returns data (for example
``mlops.commands.train.train(project_dir) -> TrainResult``): Python callers and the notebook API use
it; ``run`` only turns the parsed arguments into that call and prints the result.

Command modules import heavy libraries (azure-ai-ml, fastapi) inside ``run`` so that ``mlops
validate`` starts in a fraction of a second.
"""

# command name -> module under mlops.commands, in the order ``mlops --help`` lists them
COMMANDS = {
    # a pull request: what `make check` runs
    "validate": "validate",
    "runtime-env": "runtime_env",
    "assemble": "assemble",
    "smoke-train": "smoke_train",
    "sample-request": "sample_request",
    "serve": "serve",
    "api-test": "api_test",
    "plan": "plan",
    "rehearse": "rehearse",
    "check": "check",
    "runs": "runs",
    # a merge to main: what deploy.yml runs
    "preflight": "preflight",
    "train": "train",
    "deploy": "deploy",
    # two stages: what deploy.yml's staging and production jobs and rollback.yml run
    "share": "share",
    "promote": "promote",
    "rollback": "rollback",
    # once per repo: the OIDC login
    "bootstrap-oidc": "bootstrap_oidc",
    "doctor": "doctor",
    # keeping up with the template
    "update": "update",
    "migrate": "migrate",
    "drift": "drift",
}
