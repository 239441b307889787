"""The command-line options a training script declares with argparse, read from its source without running it.

``mlops validate`` compares them with what the experiment file passes (each input, ``train.args`` and
``smoke.args`` become ``--name value``), so a misspelt key is a problem of the experiment file, found on
the pull request, rather than an argparse error in the middle of a smoke run or an Azure job.
"""

from __future__ import annotations

import ast


def declared_options(source: str) -> set[str] | None:
    """The ``--long`` option names (without dashes) the script's ``add_argument`` calls declare.

    None when the script cannot be judged: it does not parse, declares no option, or passes unknown
    options on (``parse_known_args``, as the spaCy script does for config overrides).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    options: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr == "parse_known_args":
            return None
        if node.func.attr == "add_argument":
            options |= {arg.value[2:] for arg in node.args
                        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("--")}
    return options or None
