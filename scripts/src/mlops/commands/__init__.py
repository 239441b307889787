"""One module per command. Each defines ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.

Command modules import heavy libraries (azure-ai-ml, fastapi) inside ``run`` so that ``mlops
validate`` starts in a fraction of a second.
"""

# command name -> module under mlops.commands, in the order ``mlops --help`` lists them
COMMANDS = {
    "validate": "validate",
    "smoke-train": "smoke_train",
    "assemble": "assemble",
    "bootstrap-oidc": "bootstrap_oidc",
    "doctor": "doctor",
    "serve": "serve",
    "api-test": "api_test",
    "plan": "plan",
    "train": "train",
    "deploy": "deploy",
}
