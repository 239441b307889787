"""The mlops command line itself: help for every command, errors without tracebacks."""

from __future__ import annotations

import pytest

from conftest import mlops
from mlops.commands import COMMANDS


def test_top_level_help_lists_every_command(tmp_path):
    result = mlops("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_has_help(tmp_path, name):
    result = mlops(name, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: mlops")


def test_an_unknown_command_is_a_usage_error(tmp_path):
    result = mlops("deploy-everything", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'deploy-everything'" in result.stderr and "Traceback" not in result.stderr
