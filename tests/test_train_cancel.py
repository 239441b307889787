"""A cancelled `mlops train` cancels the Azure ML job it follows, through the real SDK and the stand-in."""

from __future__ import annotations

import signal

import pytest
from azure_fixtures import FAST
from cancel_signals import signal_when
from standin_helpers import project_files, training_entities

from mlops.azureml.job_watch import Deadlines, status_of
from mlops.azureml.training import follow_job, submit_job
from mlops.cancellation import Cancelled, cancellable

pytest_plugins = ["mlops.standin.fixtures"]
pytestmark = pytest.mark.slow  # real jobs through the stand-in

QUICK = Deadlines(poll_seconds=0.5, first_poll_seconds=0.2)


def queued_job(client, standin, tmp_path):
    """A job submitted to the stand-in that waits in Queued (as when the cluster has no node yet)."""
    compute, environment, data, job = training_entities(project_files(tmp_path / "project"), "train-1")
    client.compute.begin_create_or_update(compute).result()
    client.environments.create_or_update(environment)
    client.data.create_or_update(data)
    standin.inject("job-queued:seconds=120")
    return submit_job(client, job, FAST, log=lambda line: None)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_cancelled_train_cancels_the_job_it_follows(standin_client, standin, tmp_path, signum):
    job = queued_job(standin_client, standin, tmp_path)
    lines: list[str] = []
    signal_when(lambda: any("train-1: Queued" in line for line in lines), signum)
    with pytest.raises(Cancelled, match=rf"mlops train: cancelled \({signal.Signals(signum).name}\); "
                                        r"training job train-1 cancelled in Azure ML"), cancellable("mlops train"):
        follow_job(standin_client, job.name, "cpu-cluster", QUICK, FAST, log=lines.append)
    cancels = [r for r in standin.requests() if r.method == "POST" and r.path.endswith("/jobs/train-1/cancel")]
    assert len(cancels) == 1
    assert status_of(standin_client.jobs.get("train-1")) in ("CancelRequested", "Canceled")


def test_a_job_that_ended_is_not_cancelled(standin_client, standin, tmp_path):
    from mlops.azureml.training import cancel_job

    job = queued_job(standin_client, standin, tmp_path)
    standin_client.jobs.begin_cancel(job.name).result()
    ended = cancel_job(standin_client, job.name, log=lambda line: None)
    assert ended == "training job train-1 had already ended Canceled"
    assert cancel_job(standin_client, "never-submitted", log=lambda line: None) == (
        "training job never-submitted was never submitted")
