"""`mlops rehearse --inject worse-model`: the quality gate refuses a merge whose model is worse than the champion."""

from __future__ import annotations

import re

import pytest

from conftest import bake, mlops, run

pytestmark = pytest.mark.slow  # two rehearsed releases: real jobs and deployments


GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def test_a_worse_model_is_rehearsed_as_a_refusal_behind_the_champion_it_releases_first(tmp_path):
    repo = bake(tmp_path)
    run(["git", "init", "-q"], repo)
    run([*GIT, "add", "-A"], repo)
    run([*GIT, "commit", "-qm", "first"], repo)
    commit = run(["git", "rev-parse", "HEAD"], repo).stdout.strip()
    worse = mlops("rehearse", "--inject", "worse-model", cwd=repo)
    assert worse.returncode == 1, worse.stdout[-3000:] + worse.stderr[-3000:]
    out = worse.stdout
    assert "no model serves yet: this commit's model is released first, as the champion" in out
    last = out.rstrip().splitlines()[-1]
    assert re.match(r"rehearsal with fault worse-model: `mlops deploy` failed: quality gate refused "
                    r"iris-classifier-model:2: accuracy [0-9.]+ vs [0-9.]+ for champion iris-classifier-model:1: "
                    r"accuracy may not be worse than the champion \(higher is better\)", last), last
    assert last.endswith(f"checked: traffic as before (c{commit[:8]} 100%)")
    assert "== rehearsal: the quality gate, as the job page summary shows it ==\n### Quality gate: **refused**" in out
    assert "| accuracy (primary) | may not be worse than the champion (higher is better) |" in out
    calls = out.split("the REST calls the SDK made", 1)[1].split("\ntraffic before:", 1)[0].splitlines()
    assert any(line.strip().startswith("PUT    {workspace}/jobs/") for line in calls)  # the worse merge trained
    assert not [line for line in calls if "onlineEndpoints" in line  # and changed nothing on the endpoint
                and line.strip().startswith(("PUT", "PATCH", "DELETE", "POST   {workspace}/onlineEndpoints/"))]
