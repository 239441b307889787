"""One module per command. Each defines ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.

Command modules import heavy libraries (azure-ai-ml, fastapi) inside ``run`` so that ``mlops
validate`` starts in a fraction of a second.
"""

# command name -> module under mlops.commands, in the order ``mlops --help`` lists them
COMMANDS = {
    # a pull request: what `make check` runs
    "validate": "validate",
    "assemble": "assemble",
    "smoke-train": "smoke_train",
    "serve": "serve",
    "api-test": "api_test",
    "plan": "plan",
    # a merge to main: what deploy.yml runs
    "train": "train",
    "deploy": "deploy",
    # once per repo: the OIDC login
    "bootstrap-oidc": "bootstrap_oidc",
    "doctor": "doctor",
    # keeping up with the template
    "update": "update",
    "migrate": "migrate",
    "drift": "drift",
}
