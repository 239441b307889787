"""Each variant's generated repo passes its own `make check`, exactly as its pull-request workflow runs it."""

from __future__ import annotations

import pytest

from conftest import run


@pytest.mark.parametrize("framework", ["sklearn"])
def test_generated_repo_passes_make_check(set_up_repo, framework):
    repo = set_up_repo(framework)
    result = run(["make", "check"], repo)
    assert "check: all passed" in result.stdout
    assert (repo / "outputs" / "metrics.json").is_file()
